/*
 * spool_format.h - the on-disk format of one spool file.
 *
 * The layout is described in spool.h: message bytes, "MAILETD-ENVELOPE N",
 * escaped "key value" lines, and a fixed-size footer that points at the
 * envelope (version 1) or points at it and seals the file with an
 * HMAC-SHA256 (version 2, what is written now). Readers take both. This module writes the envelope and footer, and reads a file
 * back; spool.c does the files, directories and threads. No state of its
 * own: thread-safe. Every reader is safe on arbitrary file contents.
 */
#ifndef MAILETD_SPOOL_FORMAT_H
#define MAILETD_SPOOL_FORMAT_H

#include "spool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest envelope written (EFBIG beyond) or read (EINVAL beyond). */
#define SPOOL_FORMAT_ENV_MAX (64 * 1024 * 1024)

/* True for a queue name: [a-z0-9_-]{1,SPOOL_QUEUE_NAME_MAX}. */
bool spool_format_queue_ok(const char *s);
/* True for a message id: [0-9a-f]{ID_LEN}. Check before using in a path. */
bool spool_format_id_ok(const char *s);

/* Where spool_format_write sends its bytes: 0, or -1 (with errno) to stop. */
typedef int (*spool_format_put_fn)(void *ctx, const void *p, size_t n);

/*
 * Writes the envelope of env, then the footer pointing at env_off (the
 * number of message bytes before it), through put(ctx, ...). Every field
 * of env goes out; NULL strings other than the sender are left out (a
 * NULL sender is written as ""). 0, or -1: errno is EFBIG if the envelope
 * would exceed SPOOL_FORMAT_ENV_MAX, else what put left.
 */
int spool_format_write(
    const struct spool_envelope *env, uint64_t env_off, spool_format_put_fn put, void *ctx);

/*
 * Checks the footer of the open file fd and the envelope magic it points
 * at, and stores the number of message bytes (= the envelope's offset).
 * 0, or -1 with errno: EINVAL, with a reason in *why, for a bad file.
 */
int spool_format_read_footer(int fd, uint64_t *msg_size, const char **why);

/*
 * Reads the envelope of the open file fd into e (id is left empty for the
 * caller; queue too, except for a version 2 file: its "queue" line). 0, or -1 with errno: EINVAL, with a reason in
 * *why, for a file that does not parse; e is left cleared on failure.
 * Free with spool_entry_clear().
 */
int spool_format_read_entry(int fd, struct spool_entry *e, const char **why);

/* --- version 2: the sealed footer (see spool.h) ---------------------------- */

#define SPOOL_FORMAT_KEY_LEN 32 /* bytes of the spool's secret MAC key */
#define SPOOL_FORMAT_MAC_HEX 64 /* hex digits of an HMAC-SHA256 */

/* An HMAC-SHA256 in progress (OpenSSL EVP_MAC). */
struct spool_format_mac;

/* A MAC keyed with key that has absorbed nothing; the template that
 * spool_format_mac_start copies. NULL if OpenSSL fails. */
struct spool_format_mac *spool_format_mac_new(const unsigned char key[SPOOL_FORMAT_KEY_LEN]);
/* A copy of keyed that has absorbed the domain prefix and id: the MAC of
 * the file of message id, ready for the file's bytes. NULL on failure. */
struct spool_format_mac *spool_format_mac_start(const struct spool_format_mac *keyed, const char *id);
void spool_format_mac_update(struct spool_format_mac *m, const void *p, size_t n);
/* Finishes m into lower-case hex (NUL-terminated). 0, or -1 on failure. */
int spool_format_mac_hex(struct spool_format_mac *m, char hex[SPOOL_FORMAT_MAC_HEX + 1]);
/* NULL is a no-op. */
void spool_format_mac_free(struct spool_format_mac *m);

/* Asked for the MAC of every byte put so far (spool_format_write_sealed). */
typedef int (*spool_format_seal_fn)(void *ctx, char hex[SPOOL_FORMAT_MAC_HEX + 1]);

/*
 * Version 2: writes the envelope ("MAILETD-ENVELOPE 2", the fields of
 * env and a "queue" line), then "MAILETD-FOOTER2 <20-digit env_off> "
 * through put, then asks seal(ctx, ...) for the MAC of everything put
 * so far (the caller MACs each byte it is given, message bytes included)
 * and puts it in hex with a line feed. 0, or -1 as spool_format_write.
 */
int spool_format_write_sealed(const struct spool_envelope *env, const char *queue,
    uint64_t env_off, spool_format_put_fn put, spool_format_seal_fn seal, void *ctx);

/*
 * The commit proof of a file in tmp/: true only if fd is a version 2 file
 * whose footer, envelope magic and MAC (keyed by keyed, over the domain
 * prefix, id and every byte before the MAC) are right. Reads the whole
 * file. 0 when sealed; -1 with errno: EINVAL and a reason in *why for a
 * file that is not (an interrupted transfer); EBADMSG for a well-formed
 * version 2 file whose MAC is wrong (a footer forged in the message
 * bytes, or a file sealed under another key); else a read error.
 */
int spool_format_check_seal(
    int fd, const struct spool_format_mac *keyed, const char *id, const char **why);

/* pread(2)s exactly n bytes at off. 0, or -1 with errno (EINVAL when the
 * file ends first). */
int spool_format_pread_all(int fd, void *p, size_t n, uint64_t off);

#endif

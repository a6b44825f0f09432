/*
 * spool_format.h - the on-disk format of one spool file.
 *
 * The layout is described in spool.h: message bytes, "MAILETD-ENVELOPE 1",
 * escaped "key value" lines, and a fixed-size footer that points at the
 * envelope. This module writes the envelope and footer, and reads a file
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
 * Reads the envelope of the open file fd into e (id and queue are left
 * empty for the caller). 0, or -1 with errno: EINVAL, with a reason in
 * *why, for a file that does not parse; e is left cleared on failure.
 * Free with spool_entry_clear().
 */
int spool_format_read_entry(int fd, struct spool_entry *e, const char **why);

/* pread(2)s exactly n bytes at off. 0, or -1 with errno (EINVAL when the
 * file ends first). */
int spool_format_pread_all(int fd, void *p, size_t n, uint64_t off);

#endif

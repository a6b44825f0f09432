/*
 * maildir.h - delivery of one message into one Maildir.
 *
 * Layout: <dataDirectory>/mail/<domain>/<local>/ with tmp/, new/ and cur/,
 * every directory created on demand with mode 0700 (and its parent
 * fsync'd, so that a new mailbox survives a crash as well as its first
 * message). A delivery follows the Maildir protocol
 * (https://cr.yp.to/proto/maildir.html): the copy is written to tmp/
 * under a name no other delivery uses, fsync'd, renamed into new/, and
 * new/ is fsync'd. Only then is it durable and only then does
 * maildir_deliver return 0: a crash or kill -9 at any point leaves either
 * nothing in new/ or the whole message (tmp/ may keep a partial file,
 * which Maildir readers ignore; Dovecot removes such files after 36
 * hours, as the specification suggests).
 *
 * Unique names: "<seconds>.M<microseconds>P<pid>Q<counter>.<host>,S=<size>",
 * the form of the Maildir specification with Dovecot's ",S=" size field
 * (which lets Dovecot's quota code skip a stat). '/' and ':' in the host
 * name are written as \057 and \072, as the specification asks.
 *
 * Everything here blocks on the disk: call it from worker threads only,
 * never from an I/O thread. Thread-safe.
 */
#ifndef MAILETD_MAILDIR_H
#define MAILETD_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest name component (domain or local part) accepted. */
#define MAILDIR_NAME_MAX 255
/* Room for a unique file name. */
#define MAILDIR_UNIQUE_MAX 512

/*
 * True if s can be a directory name under mail/ without escaping it:
 * 1..MAILDIR_NAME_MAX octets, no '/', no NUL, no control characters, and
 * not starting with '.' (which excludes "." and ".."). Untrusted input.
 */
bool maildir_name_ok(const char *s);

/*
 * Splits a users-repository name into the mailbox's domain and local
 * part: "local@domain" (virtual hosting) gives both; a plain "local" gets
 * default_domain. The results point into user or default_domain (domain)
 * and are written to local (localsz bytes). 0, or -1 if a part is not
 * maildir_name_ok().
 */
int maildir_split_user(const char *user, const char *default_domain, char *local,
    size_t localsz, const char **domain);

/*
 * Opens the Maildir <data_dir>/mail/<domain>/<local>/, creating it and
 * its tmp/, new/ and cur/ as needed (mode 0700; a directory made here is
 * made durable by fsyncing its parent). No component may be a symbolic
 * link. Returns a directory descriptor (the caller closes it), or -1 with
 * errno (EINVAL: a name is not maildir_name_ok()).
 */
int maildir_open(const char *data_dir, const char *domain, const char *local);

/*
 * Delivers one copy into the Maildir open at mdfd: prefix (plen octets,
 * e.g. Return-Path and Delivered-To headers) followed by the size octets
 * of src from offset 0 (read with pread, so src may be shared between
 * threads). The copy is durable in new/ when 0 is returned; its unique
 * name is copied to name (namesz bytes, if name is not NULL). -1 with
 * errno on failure (ENOSPC, EDQUOT, EIO, or EINVAL if src is shorter than
 * size); nothing is left in new/ then, and the tmp/ file is removed.
 */
int maildir_deliver(int mdfd, const char *prefix, size_t plen, int src, uint64_t size,
    char *name, size_t namesz);

/*
 * Adds up the sizes of the messages in new/ and cur/ of the Maildir open
 * at mdfd into *bytes (from the ",S=" field of a name when present, else
 * from stat). 0, or -1 with errno.
 */
int maildir_usage(int mdfd, uint64_t *bytes);

#endif

/*
 * storefile.h - the pieces of a small text store that the users repository
 * (src/auth/users.c) and the recipient rewrite table (src/rrt/rrt.c) share:
 * percent escaping of fields, the key that tells a changed file, reading a
 * whole file, the lock of a writer and the atomic rewrite.
 *
 * A store is a text file of lines of space-separated fields; a field has
 * the octets 0x00-0x20, 0x7F and '%' written as %XX. Writers hold an
 * exclusive flock(2) on a lock file beside it and replace the file whole
 * (temporary file, fsync, rename, fsync of the directory), so readers see
 * the old or the new file, never a mix.
 */
#ifndef MAILETD_STOREFILE_H
#define MAILETD_STOREFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* What identifies a version of a file; changes on every rename. */
struct storefile_key {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* Writes s to f, escaped. */
void storefile_esc_write(FILE *f, const char *s);

/* Unescapes s[0..len) into a new string (caller frees); NULL if malformed
 * or if it would hold a NUL. */
char *storefile_esc_read(const char *s, size_t len);

/* The key of path into *k (exists false if there is no file). 0, or -1
 * with errno. */
int storefile_key_get(const char *path, struct storefile_key *k);

bool storefile_key_eq(const struct storefile_key *a, const struct storefile_key *b);

/*
 * Whether a reader's cached copy of path is to be reread: false if the
 * last check (*checked, a monotonic second; 0 = never) was less than a
 * second ago, else *checked is now and the answer is whether the key of
 * the file (into *k) differs from *key. The caller stores *k in *key once
 * it has reread the file. A stat that fails answers false.
 */
bool storefile_changed(
    const char *path, const struct storefile_key *key, time_t *checked, struct storefile_key *k);

/*
 * Reads the whole file path into *buf (NUL-terminated, caller frees), at
 * most about max octets. 0; 1 if it does not exist (*buf NULL); -1 with
 * errno (EFBIG if larger).
 */
int storefile_read(const char *path, size_t max, char **buf, size_t *len);

/*
 * Creates dir (mode 0700, parents 0750) if missing, opens lock_path
 * (created 0600) and takes an exclusive flock on it, waiting for other
 * writers. The locked descriptor (close it to release), or -1 with errno.
 */
int storefile_lock(const char *dir, const char *lock_path);

/*
 * Replaces path (in dir) atomically: writes header and a newline, then
 * body(f, arg), to path.tmp (mode 0600), fsyncs it, renames it over path
 * and fsyncs dir. 0, or -1 with errno (the temporary file removed).
 */
int storefile_write(const char *dir, const char *path, const char *header,
    void (*body)(FILE *f, const void *arg), const void *arg);

#endif

/*
 * storefile.c - shared pieces of the users and mapping stores (storefile.h).
 */
#include "storefile.h"

#include "xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- escaping ------------------------------------------------------------- */

static bool
esc_needed(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '%';
}

void
storefile_esc_write(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (esc_needed(c))
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
storefile_esc_read(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		int h = i + 2 < len ? hexval(s[i + 1]) : -1;
		int l = h >= 0 ? hexval(s[i + 2]) : -1;
		if (h < 0 || l < 0 || (h == 0 && l == 0)) {
			free(out);
			return NULL;
		}
		out[o++] = (char)(h * 16 + l);
		i += 2;
	}
	out[o] = '\0';
	return out;
}

/* --- change detection --------------------------------------------------------- */

int
storefile_key_get(const char *path, struct storefile_key *k)
{
	struct stat st;
	memset(k, 0, sizeof(*k));
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	k->exists = true;
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->size = st.st_size;
	k->mtime = st.st_mtim;
	return 0;
}

bool
storefile_key_eq(const struct storefile_key *a, const struct storefile_key *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static time_t
mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1; /* never 0, which means "never checked" */
}

bool
storefile_changed(
    const char *path, const struct storefile_key *key, time_t *checked, struct storefile_key *k)
{
	time_t now = mono_seconds();
	if (*checked != 0 && now - *checked < 1)
		return false;
	*checked = now;
	if (storefile_key_get(path, k) < 0 || storefile_key_eq(k, key))
		return false;
	return true;
}

/* --- reading -------------------------------------------------------------- */

int
storefile_read(const char *path, size_t max, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	size_t cap = 4096, n = 0;
	char *b = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(b);
				close(fd);
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			b = xreallocarray(b, cap + 1, 1);
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(b);
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* --- writing -------------------------------------------------------------- */

static int
mkdir_p(const char *dir, mode_t mode)
{
	if (mkdir(dir, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');
	int rc = -1;
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		rc = mkdir_p(parent, 0750);
	}
	free(parent);
	if (rc < 0)
		return -1;
	return mkdir(dir, mode) == 0 || errno == EEXIST ? 0 : -1;
}

int
storefile_lock(const char *dir, const char *lock_path)
{
	if (mkdir_p(dir, 0700) < 0)
		return -1;
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int
storefile_write(const char *dir, const char *path, const char *header,
    void (*body)(FILE *f, const void *arg), const void *arg)
{
	char *tmp = xasprintf("%s.tmp", path);
	int rc = -1, e = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		e = errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(f, "%s\n", header);
	body(f, arg);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
		e = errno;
		fclose(f);
		unlink(tmp);
		goto out;
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		goto out;
	}
	if (fsync_dir(dir) < 0) {
		e = errno;
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	errno = e;
	return rc;
}

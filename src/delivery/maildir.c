/* maildir.c - delivery of one message into one Maildir (see maildir.h). */
#include "maildir.h"

#include "../core/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* Copy buffer of maildir_deliver. */
#define MAILDIR_COPY_BUF (64 * 1024)
/* Attempts at a fresh unique name before giving up. */
#define MAILDIR_NAME_TRIES 16
/* Longest host name part kept in a unique name (after escaping). */
#define MAILDIR_HOST_MAX 200

/* Deliveries made by this process: the Q part of unique names. */
static atomic_uint maildir_counter;

bool
maildir_name_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > MAILDIR_NAME_MAX || s[0] == '.')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int
maildir_split_user(const char *user, const char *default_domain, char *local,
    size_t localsz, const char **domain)
{
	const char *at = strrchr(user, '@');
	size_t llen = at != NULL ? (size_t)(at - user) : strlen(user);
	if (llen + 1 > localsz)
		return -1;
	memcpy(local, user, llen);
	local[llen] = '\0';
	*domain = at != NULL ? at + 1 : default_domain;
	if (*domain == NULL || !maildir_name_ok(local) || !maildir_name_ok(*domain))
		return -1;
	return 0;
}

/* fsync(2) of a directory descriptor; 0 or -1 with errno. */
static int
fsync_dir(int dfd)
{
	return fsync(dfd);
}

/*
 * Opens directory name under parent, creating it (0700) if it is missing;
 * a directory made here is made durable by an fsync of parent. Never
 * follows a symbolic link. The descriptor, or -1 with errno.
 */
static int
subdir(int parent, const char *name)
{
	bool made = false;
	if (mkdirat(parent, name, 0700) == 0)
		made = true;
	else if (errno != EEXIST)
		return -1;
	if (made && fsync_dir(parent) < 0)
		return -1;
	return openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
maildir_open(const char *data_dir, const char *domain, const char *local)
{
	if (!maildir_name_ok(domain) || !maildir_name_ok(local)) {
		errno = EINVAL;
		return -1;
	}
	int fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	const char *path[] = { "mail", domain, local };
	for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
		int next = subdir(fd, path[i]);
		int saved = errno;
		close(fd);
		if (next < 0) {
			errno = saved;
			return -1;
		}
		fd = next;
	}
	static const char *const subs[] = { "tmp", "new", "cur" };
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		int d = subdir(fd, subs[i]);
		if (d < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		close(d);
	}
	return fd;
}

/* The host name for unique names, with '/' and ':' escaped (Maildir spec). */
static void
unique_host(char *out, size_t outsz)
{
	char h[256];
	if (gethostname(h, sizeof(h)) < 0 || h[0] == '\0')
		snprintf(h, sizeof(h), "localhost");
	h[sizeof(h) - 1] = '\0';
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)h; *p != '\0' && o + 5 < outsz; p++) {
		if (*p == '/' || *p == ':' || *p == ',' || *p < 0x21 || *p > 0x7e) {
			snprintf(out + o, outsz - o, "\\%03o", *p);
			o += 4;
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
}

/* Writes prefix and size octets of src into fd. 0 or -1 with errno. */
static int
copy_message(int fd, const char *prefix, size_t plen, int src, uint64_t size)
{
	if (plen > 0 && fileio_write_all(fd, prefix, plen) < 0)
		return -1;
	char *buf = malloc(MAILDIR_COPY_BUF);
	if (buf == NULL)
		return -1;
	uint64_t off = 0;
	int rc = 0;
	while (off < size) {
		size_t want = size - off < MAILDIR_COPY_BUF ? (size_t)(size - off) : MAILDIR_COPY_BUF;
		ssize_t r = pread(src, buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EINVAL; /* the source is shorter than announced */
			rc = -1;
			break;
		}
		if (fileio_write_all(fd, buf, (size_t)r) < 0) {
			rc = -1;
			break;
		}
		off += (uint64_t)r;
	}
	free(buf);
	return rc;
}

int
maildir_deliver(int mdfd, const char *prefix, size_t plen, int src, uint64_t size,
    char *name, size_t namesz)
{
	char host[MAILDIR_HOST_MAX + 1], uniq[MAILDIR_UNIQUE_MAX];
	int tmpfd = -1, newfd = -1, fd = -1, saved;

	unique_host(host, sizeof(host));
	tmpfd = openat(mdfd, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	newfd = openat(mdfd, "new", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tmpfd < 0 || newfd < 0)
		goto fail;
	for (int t = 0; t < MAILDIR_NAME_TRIES && fd < 0; t++) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		unsigned q = atomic_fetch_add(&maildir_counter, 1) + 1;
		snprintf(uniq, sizeof(uniq), "%lld.M%ldP%ldQ%u.%s,S=%" PRIu64, (long long)tv.tv_sec,
		    (long)tv.tv_usec, (long)getpid(), q, host, (uint64_t)plen + size);
		fd = openat(tmpfd, uniq, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			goto fail;
	}
	if (fd < 0)
		goto fail;
	if (copy_message(fd, prefix, plen, src, size) < 0 || fsync(fd) < 0)
		goto fail_unlink;
	if (close(fd) < 0) {
		fd = -1;
		goto fail_unlink;
	}
	fd = -1;
	/* A name already in new/ cannot be ours: rename would replace it. */
	if (faccessat(newfd, uniq, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		goto fail_unlink;
	}
	if (renameat(tmpfd, uniq, newfd, uniq) < 0)
		goto fail_unlink;
	if (fsync_dir(newfd) < 0) {
		/* Not known to be durable: take it back rather than claim it. */
		saved = errno;
		unlinkat(newfd, uniq, 0);
		errno = saved;
		goto fail;
	}
	close(tmpfd);
	close(newfd);
	if (name != NULL)
		snprintf(name, namesz, "%s", uniq);
	return 0;

fail_unlink:
	saved = errno;
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlinkat(tmpfd, uniq, 0);
	errno = saved;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (tmpfd >= 0)
		close(tmpfd);
	if (newfd >= 0)
		close(newfd);
	errno = saved;
	return -1;
}

/* Adds the sizes of the messages in the subdirectory sub of mdfd to *bytes. */
static int
usage_dir(int mdfd, const char *sub, uint64_t *bytes)
{
	int dfd = openat(mdfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		int saved = errno;
		close(dfd);
		errno = saved;
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		const char *sz = strstr(e->d_name, ",S=");
		if (sz != NULL) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(sz + 3, &end, 10);
			if (errno == 0 && end != sz + 3 && (*end == '\0' || *end == ',' || *end == ':')) {
				*bytes += v;
				continue;
			}
		}
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			*bytes += (uint64_t)st.st_size;
	}
	closedir(d);
	return 0;
}

int
maildir_usage(int mdfd, uint64_t *bytes)
{
	*bytes = 0;
	if (usage_dir(mdfd, "new", bytes) < 0 || usage_dir(mdfd, "cur", bytes) < 0)
		return -1;
	return 0;
}

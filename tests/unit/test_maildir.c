/* test_maildir.c - unit tests of src/delivery/maildir.c. */
#include "../../src/delivery/maildir.h"

#define DATADIR_FIXTURE_NAME "maildir"
#include "datadir_fixture.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Names of the entries of dir (not . and ..), sorted; returns the count. */
static size_t
list(const char *dir, char names[][MAILDIR_UNIQUE_MAX], size_t max)
{
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "opendir %s: %s", dir, strerror(errno));
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		ck_assert(n < max);
		snprintf(names[n++], MAILDIR_UNIQUE_MAX, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

static size_t
count(const char *sub)
{
	static char names[4096][MAILDIR_UNIQUE_MAX];
	char path[600];
	snprintf(path, sizeof(path), "%s/mail/example.com/bob/%s", datadir, sub);
	return list(path, names, NELEM(names));
}

/* A source file holding text; returns a read-only descriptor. */
static int
source(const char *text, size_t len)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/src-XXXXXX", datadir);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	unlink(path);
	return fd;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "open %s", path);
	char *b = malloc(1 << 20);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

/* --- names ------------------------------------------------------------------ */

static const struct {
	const char *name;
	bool ok;
} names[] = {
	{ "bob", true },
	{ "example.com", true },
	{ "b.o-b_1", true },
	{ "", false },
	{ ".", false },
	{ "..", false },
	{ ".hidden", false },
	{ "a/b", false },
	{ "../etc", false },
	{ "tab\there", false },
	{ "del\x7f", false },
	{ "nl\n", false },
};

START_TEST(test_name_ok)
{
	ck_assert_msg(maildir_name_ok(names[_i].name) == names[_i].ok, "%s", names[_i].name);
}
END_TEST

static const struct {
	const char *user, *def;
	int rc;
	const char *local, *domain;
} splits[] = {
	{ "bob", "example.com", 0, "bob", "example.com" },
	{ "bob@other.test", "example.com", 0, "bob", "other.test" },
	{ "bob@..", "example.com", -1, NULL, NULL },
	{ "..", "example.com", -1, NULL, NULL },
	{ "bob", "../x", -1, NULL, NULL },
	{ "bob", NULL, -1, NULL, NULL },
	{ "@example.com", "example.com", -1, NULL, NULL },
};

START_TEST(test_split_user)
{
	char local[MAILDIR_NAME_MAX + 1];
	const char *domain = NULL;
	int rc = maildir_split_user(splits[_i].user, splits[_i].def, local, sizeof(local), &domain);
	ck_assert_int_eq(rc, splits[_i].rc);
	if (rc == 0) {
		ck_assert_str_eq(local, splits[_i].local);
		ck_assert_str_eq(domain, splits[_i].domain);
	}
	char tiny[3];
	ck_assert_int_eq(maildir_split_user("bob", "example.com", tiny, sizeof(tiny), &domain), -1);
}
END_TEST

/* --- delivery ---------------------------------------------------------------- */

START_TEST(test_open_creates_layout)
{
	int md = maildir_open(datadir, "example.com", "bob");
	ck_assert_int_ge(md, 0);
	static const char *const dirs[] = { "mail", "mail/example.com", "mail/example.com/bob",
		"mail/example.com/bob/tmp", "mail/example.com/bob/new", "mail/example.com/bob/cur" };
	for (size_t i = 0; i < NELEM(dirs); i++) {
		char p[400];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", datadir, dirs[i]);
		ck_assert_int_eq(lstat(p, &st), 0);
		ck_assert(S_ISDIR(st.st_mode));
		ck_assert_int_eq(st.st_mode & 0777, 0700);
	}
	close(md);
	/* Opening again finds it. */
	md = maildir_open(datadir, "example.com", "bob");
	ck_assert_int_ge(md, 0);
	close(md);
	/* Names that could leave mail/ are refused before touching the disk. */
	errno = 0;
	ck_assert_int_eq(maildir_open(datadir, "..", "bob"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(maildir_open(datadir, "example.com", "a/b"), -1);
	ck_assert_int_eq(maildir_open("/nonexistent/dir", "example.com", "bob"), -1);
}
END_TEST

START_TEST(test_open_refuses_symlink)
{
	char p[400], target[400];
	snprintf(p, sizeof(p), "%s/mail", datadir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", datadir);
	ck_assert_int_eq(mkdir(target, 0700), 0);
	snprintf(p, sizeof(p), "%s/mail/example.com", datadir);
	ck_assert_int_eq(symlink(target, p), 0);
	ck_assert_int_eq(maildir_open(datadir, "example.com", "bob"), -1);
	snprintf(p, sizeof(p), "%s/elsewhere/bob", datadir);
	ck_assert_int_ne(access(p, F_OK), 0); /* nothing made behind the link */
}
END_TEST

START_TEST(test_deliver)
{
	static const char msg[] = "Subject: hi\r\n\r\nbody\r\n";
	static const char prefix[] = "Return-Path: <a@b>\r\nDelivered-To: bob@example.com\r\n";
	int src = source(msg, sizeof(msg) - 1);
	int md = maildir_open(datadir, "example.com", "bob");
	ck_assert_int_ge(md, 0);
	char name[MAILDIR_UNIQUE_MAX];
	ck_assert_int_eq(maildir_deliver(md, prefix, strlen(prefix), src, sizeof(msg) - 1, name,
			     sizeof(name)),
	    0);
	ck_assert_uint_eq(count("new"), 1);
	ck_assert_uint_eq(count("tmp"), 0);
	ck_assert_uint_eq(count("cur"), 0);

	/* time.MusecPpidQn.host,S=size */
	char want_s[64];
	snprintf(want_s, sizeof(want_s), ",S=%zu", strlen(prefix) + sizeof(msg) - 1);
	ck_assert_msg(strstr(name, want_s) != NULL, "%s", name);
	char pid[32];
	snprintf(pid, sizeof(pid), "P%ldQ", (long)getpid());
	ck_assert_msg(strstr(name, pid) != NULL && strstr(name, ".M") != NULL, "%s", name);
	ck_assert_ptr_null(strchr(name, '/'));
	ck_assert_ptr_null(strchr(name, ':'));

	char path[900];
	snprintf(path, sizeof(path), "%s/mail/example.com/bob/new/%s", datadir, name);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	size_t len;
	char *got = slurp(path, &len);
	ck_assert_uint_eq(len, strlen(prefix) + sizeof(msg) - 1);
	ck_assert_int_eq(memcmp(got, prefix, strlen(prefix)), 0);
	ck_assert_int_eq(memcmp(got + strlen(prefix), msg, sizeof(msg) - 1), 0);
	free(got);

	/* Without a prefix, and a second copy gets its own name. */
	char name2[MAILDIR_UNIQUE_MAX];
	ck_assert_int_eq(maildir_deliver(md, "", 0, src, sizeof(msg) - 1, name2, sizeof(name2)), 0);
	ck_assert_str_ne(name, name2);
	ck_assert_uint_eq(count("new"), 2);

	uint64_t used;
	ck_assert_int_eq(maildir_usage(md, &used), 0);
	ck_assert_uint_eq(used, strlen(prefix) + 2 * (sizeof(msg) - 1));
	/* A file without ",S=" (moved by a reader into cur/) counts by its size. */
	snprintf(path, sizeof(path), "%s/mail/example.com/bob/cur/1.x.host:2,S", datadir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("12345", f);
	fclose(f);
	ck_assert_int_eq(maildir_usage(md, &used), 0);
	ck_assert_uint_eq(used, strlen(prefix) + 2 * (sizeof(msg) - 1) + 5);
	close(md);
	close(src);
}
END_TEST

/* A source shorter than announced: an error, and nothing left anywhere. */
START_TEST(test_deliver_short_source)
{
	int src = source("abc", 3);
	int md = maildir_open(datadir, "example.com", "bob");
	ck_assert_int_ge(md, 0);
	errno = 0;
	ck_assert_int_eq(maildir_deliver(md, "X: y\r\n", 6, src, 10, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(count("new"), 0);
	ck_assert_uint_eq(count("tmp"), 0);
	/* An unreadable source (a write-only descriptor). */
	char path[300];
	snprintf(path, sizeof(path), "%s/wo", datadir);
	int wo = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_eq(write(wo, "abc", 3), 3);
	ck_assert_int_eq(maildir_deliver(md, "", 0, wo, 3, NULL, 0), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_uint_eq(count("new"), 0);
	ck_assert_uint_eq(count("tmp"), 0);
	close(wo);
	close(md);
	close(src);
}
END_TEST

/* Large message: copied in pieces, byte for byte. */
START_TEST(test_deliver_large)
{
	size_t size = 300 * 1000 + 7;
	char *big = malloc(size);
	for (size_t i = 0; i < size; i++)
		big[i] = (char)('a' + i % 26);
	int src = source(big, size);
	int md = maildir_open(datadir, "example.com", "bob");
	char name[MAILDIR_UNIQUE_MAX];
	ck_assert_int_eq(maildir_deliver(md, "H: v\r\n", 6, src, size, name, sizeof(name)), 0);
	char path[900];
	snprintf(path, sizeof(path), "%s/mail/example.com/bob/new/%s", datadir, name);
	size_t len;
	char *got = slurp(path, &len);
	ck_assert_uint_eq(len, size + 6);
	ck_assert_int_eq(memcmp(got + 6, big, size), 0);
	free(got);
	free(big);
	close(md);
	close(src);
}
END_TEST

struct burst {
	int md, src;
	int failures;
};

static void *
burst_main(void *arg)
{
	struct burst *b = arg;
	for (int i = 0; i < 100; i++)
		if (maildir_deliver(b->md, "", 0, b->src, 4, NULL, 0) != 0)
			b->failures++;
	return NULL;
}

/* Four threads deliver 100 copies each into one Maildir: 400 unique files. */
START_TEST(test_unique_names_across_threads)
{
	int src = source("abcd", 4);
	int md = maildir_open(datadir, "example.com", "bob");
	struct burst b[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		b[i] = (struct burst){ md, src, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, burst_main, &b[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(b[i].failures, 0);
	}
	ck_assert_uint_eq(count("new"), 400);
	ck_assert_uint_eq(count("tmp"), 0);
	close(md);
	close(src);
}
END_TEST

static Suite *
maildir_suite(void)
{
	Suite *s = suite_create("maildir");
	TCase *tc = tcase_create("names");
	tcase_add_loop_test(tc, test_name_ok, 0, NELEM(names));
	tcase_add_loop_test(tc, test_split_user, 0, NELEM(splits));
	suite_add_tcase(s, tc);

	tc = tcase_create("delivery");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open_creates_layout);
	tcase_add_test(tc, test_open_refuses_symlink);
	tcase_add_test(tc, test_deliver);
	tcase_add_test(tc, test_deliver_short_source);
	tcase_add_test(tc, test_deliver_large);
	tcase_add_test(tc, test_unique_names_across_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(maildir_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

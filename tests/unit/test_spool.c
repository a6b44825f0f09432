/*
 * test_spool.c - unit tests of the spool (src/spool/spool.c).
 *
 * Every test works in its own mkdtemp directory with an event_base on the
 * test thread; commit callbacks arrive through xcall, so the tests run
 * the loop until they have them.
 */
#include "../../src/core/id.h"
#include "../../src/core/log.h"
#include "../../src/spool/spool.h"
#include "../../src/spool/spool_format.h"

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tdir[256]; /* the test's temporary directory */
static char sdir[300]; /* tdir/spool */
static struct event_base *base;

/* --- fixture and helpers ------------------------------------------------------ */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tdir, sizeof(tdir), "%s/test_spool.XXXXXX", t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(sdir, sizeof(sdir), "%s/spool", tdir);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
}

static void
teardown(void)
{
	event_base_free(base);
	base = NULL;
	nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
path_in(const char *sub)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	int n = snprintf(p[k], sizeof(p[k]), "%s/%s", sdir, sub);
	ck_assert(n > 0 && (size_t)n < sizeof(p[k]));
	return p[k];
}

/* Number of entries in a directory, -1 if it cannot be read. */
static int
count_dir(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;
	if (d == NULL)
		return -1;
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/*
 * Files in tmp/ other than the spool's pool of empty files made ahead
 * (fsync on): the messages being written or left behind.
 */
static int
count_tmp(void)
{
	char p[600];
	struct stat st;
	DIR *d = opendir(path_in("tmp"));
	int n = 0;
	if (d == NULL)
		return -1;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/tmp/%s", sdir, de->d_name);
		if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 0)
			n++;
	}
	closedir(d);
	return n;
}

static bool
exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* Reads a whole file into a new buffer; *n gets its size. */
static unsigned char *
read_file(const char *path, size_t *n)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	unsigned char *b = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(read(fd, b, (size_t)st.st_size), (ssize_t)st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return b;
}

static struct spool *
open_spool(bool do_fsync, unsigned threads)
{
	char err[512] = "";
	struct spool *sp = spool_open(sdir, do_fsync, threads, err, sizeof(err));
	ck_assert_msg(sp != NULL, "spool_open: %s", err);
	return sp;
}

/* What one commit callback reported. */
struct rec {
	int calls;
	int err;
	char id[ID_LEN + 1];
	int *total;
};

static void
commit_cb(void *arg, int err, const char *id)
{
	struct rec *r = arg;
	r->calls++;
	r->err = err;
	snprintf(r->id, sizeof(r->id), "%s", id);
	(*r->total)++;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Runs the loop until *count reaches want; fails after 60 seconds. */
static void
run_until(const int *count, int want)
{
	struct timeval tv = {0, 20000};
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	time_t deadline = time(NULL) + 60;
	event_add(t, &tv);
	while (*count < want) {
		ck_assert_msg(time(NULL) < deadline, "only %d of %d callbacks", *count, want);
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(t);
}

static const struct spool_envelope plain_env = {
    .sender = "alice@example.com",
    .rcpts = (const char *const[]){"bob@example.net"},
    .nrcpts = 1,
    .client_addr = "127.0.0.1",
    .client_name = "localhost",
    .helo = "client.example.com",
    .protocol = "ESMTP",
    .session_id = "00000000000000000001",
    .server_name = "smtpserver",
    .received = 1700000000,
};

/* Writes and commits a small message into queue; r records the result. */
static void
commit_one(struct spool *sp, const char *queue, const char *text, struct rec *r, int *total)
{
	char id[ID_LEN + 1];
	struct spool_msg *m = spool_msg_new(sp, queue, id);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(id, spool_msg_id(m));
	ck_assert_int_eq(spool_msg_write(m, text, strlen(text)), 0);
	r->total = total;
	spool_msg_commit(m, &plain_env, base, commit_cb, r);
}

/* --- the round trip ------------------------------------------------------------ */

static const char *const nasty_rcpts[] = {
    "bob@example.net",
    "with space@example.net",
    "per%cent%41@example.net",
    "cr\rlf\nboth\r\n@example.net",
    ("j\xc3\xbcrgen@b\xc3\xbc"
     "cher.example"),
};

static const struct spool_attr nasty_attrs[] = {
    {"plain", "value"},
    {"name=with=eq", "value=with=eq and spaces"},
    {"%name", "%41%"},
    {"ctl\x01\x1f\x7f", "tab\there\r\nnext line"},
    {"empty", ""},
    {"utf8.\xc3\xa9", "\xe2\x82\xac 100"},
};

static const struct spool_envelope nasty_env = {
    .sender = "caf\xc3\xa9+%tag@example.org",
    .rcpts = nasty_rcpts,
    .nrcpts = sizeof(nasty_rcpts) / sizeof(nasty_rcpts[0]),
    .client_addr = "2001:db8::1",
    .client_name = "unknown",
    .helo = " [192.0.2.1] with\r\nCRLF and % ",
    .protocol = "ESMTPS",
    .session_id = "0123456789abcdef0123",
    .server_name = "smtpserver 1",
    .received = 1712345678,
    .attrs = nasty_attrs,
    .nattrs = sizeof(nasty_attrs) / sizeof(nasty_attrs[0]),
    .smtputf8 = true,
    .body = "8BITMIME",
};

/* Message bytes that also contain the file format's own markers. */
static unsigned char *
make_body(size_t n)
{
	static const char marker[] = "\r\nMAILETD-ENVELOPE 1\nsender x\n"
	                             "MAILETD-FOOTER 00000000000000000000\n";
	unsigned char *b = malloc(n);
	uint32_t x = 12345;
	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (unsigned char)(x >> 16);
	}
	memcpy(b + 1000, marker, sizeof(marker) - 1);
	memcpy(b + n - (sizeof(marker) - 1), marker, sizeof(marker) - 1);
	return b;
}

START_TEST(test_roundtrip)
{
	static const size_t chunks[] = {1, 99, 70000, 65536, 3, 65533, 0, 130000, 7};
	struct spool *sp = open_spool(true, 2);
	size_t total = 0;
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		total += chunks[i];
	unsigned char *body = make_body(total);

	char id[ID_LEN + 1];
	struct spool_msg *m = spool_msg_new(sp, "spool", id);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq((int)strlen(id), ID_LEN);
	size_t off = 0;
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		ck_assert_int_eq(spool_msg_write(m, body + off, chunks[i]), 0);
		off += chunks[i];
		ck_assert_uint_eq(spool_msg_size(m), off);
	}
	int got = 0;
	struct rec r = {.total = &got};
	spool_msg_commit(m, &nasty_env, base, commit_cb, &r);
	run_until(&got, 1);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.err, 0);
	ck_assert_str_eq(r.id, id);

	char rel[64];
	snprintf(rel, sizeof(rel), "queue/spool/%s", id);
	ck_assert(exists(path_in(rel)));
	ck_assert_int_eq(count_tmp(), 0);
	ck_assert_int_eq(count_dir(path_in("queue/spool")), 1);

	/* The file: message bytes first, then the envelope. */
	size_t fsz;
	unsigned char *file = read_file(path_in(rel), &fsz);
	ck_assert_uint_gt(fsz, total);
	ck_assert(memcmp(file, body, total) == 0);
	ck_assert(memcmp(file + total, "MAILETD-ENVELOPE 2\n", 19) == 0);
	/* Version 2 footer: tag, offset, 64 hex digits of the MAC, LF. */
	char footer[64];
	snprintf(footer, sizeof(footer), "MAILETD-FOOTER2 %020zu ", total);
	ck_assert_uint_eq(strlen(footer), 37);
	ck_assert(memcmp(file + fsz - 102, footer, strlen(footer)) == 0);
	for (size_t i = fsz - 65; i < fsz - 1; i++)
		ck_assert(strchr("0123456789abcdef", file[i]) != NULL);
	ck_assert_int_eq(file[fsz - 1], '\n');
	/* No raw CR in the envelope: every value was escaped. */
	ck_assert_ptr_null(memchr(file + total, '\r', fsz - total));
	free(file);

	struct spool_entry e;
	ck_assert_int_eq(spool_entry_read(path_in(rel), &e), 0);
	ck_assert_str_eq(e.id, id);
	ck_assert_str_eq(e.queue, "spool");
	ck_assert_str_eq(e.sender, nasty_env.sender);
	ck_assert_uint_eq(e.nrcpts, nasty_env.nrcpts);
	for (size_t i = 0; i < e.nrcpts; i++)
		ck_assert_str_eq(e.rcpts[i], nasty_rcpts[i]);
	ck_assert_str_eq(e.client_addr, nasty_env.client_addr);
	ck_assert_str_eq(e.client_name, nasty_env.client_name);
	ck_assert_str_eq(e.helo, nasty_env.helo);
	ck_assert_str_eq(e.protocol, nasty_env.protocol);
	ck_assert_str_eq(e.session_id, nasty_env.session_id);
	ck_assert_str_eq(e.server_name, nasty_env.server_name);
	ck_assert_int_eq((long long)e.received, (long long)nasty_env.received);
	ck_assert_uint_eq(e.nattrs, nasty_env.nattrs);
	for (size_t i = 0; i < e.nattrs; i++) {
		ck_assert_str_eq(e.attrs[i].name, nasty_attrs[i].name);
		ck_assert_str_eq(e.attrs[i].value, nasty_attrs[i].value);
	}
	ck_assert(e.smtputf8);
	ck_assert_str_eq(e.body, "8BITMIME");
	ck_assert_uint_eq(e.size, total);
	ck_assert_uint_eq(e.body_offset, 0);
	spool_entry_clear(&e);
	spool_entry_clear(&e); /* cleared twice is harmless */

	/* spool_cat: exactly the message bytes. */
	char out[512];
	snprintf(out, sizeof(out), "%s/cat.out", tdir);
	int fd = open(out, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(spool_cat(sdir, id, fd), 0);
	close(fd);
	size_t csz;
	unsigned char *cat = read_file(out, &csz);
	ck_assert_uint_eq(csz, total);
	ck_assert(memcmp(cat, body, total) == 0);
	free(cat);
	free(body);
	spool_close(sp);
}
END_TEST

/* Optional fields absent: NULL back, no smtputf8; null sender is "". */
START_TEST(test_minimal_envelope)
{
	struct spool *sp = open_spool(true, 1);
	struct spool_envelope env = {.sender = "", .received = 0};
	char id[ID_LEN + 1];
	struct spool_msg *m = spool_msg_new(sp, "spool", id);
	ck_assert_ptr_nonnull(m);
	int got = 0;
	struct rec r = {.total = &got};
	spool_msg_commit(m, &env, base, commit_cb, &r); /* empty message */
	run_until(&got, 1);
	ck_assert_int_eq(r.err, 0);

	char rel[64];
	snprintf(rel, sizeof(rel), "queue/spool/%s", id);
	struct spool_entry e;
	ck_assert_int_eq(spool_entry_read(path_in(rel), &e), 0);
	ck_assert_str_eq(e.sender, "");
	ck_assert_uint_eq(e.nrcpts, 0);
	ck_assert_ptr_null(e.helo);
	ck_assert_ptr_null(e.body);
	ck_assert_ptr_null(e.client_addr);
	ck_assert(!e.smtputf8);
	ck_assert_uint_eq(e.size, 0);
	spool_entry_clear(&e);
	spool_close(sp);
}
END_TEST

START_TEST(test_abort)
{
	struct spool *sp = open_spool(true, 1);
	unsigned char *body = make_body(100000);
	struct spool_msg *m = spool_msg_new(sp, "spool", NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(spool_msg_write(m, body, 100000), 0);
	ck_assert_int_eq(count_tmp(), 1);
	spool_msg_abort(m);
	spool_msg_abort(NULL);
	ck_assert_int_eq(count_tmp(), 0);
	ck_assert_int_le(count_dir(path_in("queue/spool")), 0);
	free(body);
	spool_close(sp);
	spool_close(NULL);
}
END_TEST

/* spool_msg_reader: the bytes written so far (buffered ones included),
 * still readable after the abort has unlinked the file (LMTP). */
START_TEST(test_reader)
{
	struct spool *sp = open_spool(true, 1);
	unsigned char *body = make_body(100007);
	struct spool_msg *m = spool_msg_new(sp, "spool", NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(spool_msg_write(m, body, 7), 0); /* stays in the buffer */
	ck_assert_int_eq(spool_msg_write(m, body + 7, 100000), 0);
	int fd = spool_msg_reader(m);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(spool_msg_size(m), 100007);
	spool_msg_abort(m);
	ck_assert_int_eq(count_tmp(), 0);
	unsigned char *got = malloc(100008);
	ck_assert_int_eq(pread(fd, got, 100008, 0), 100007);
	ck_assert_int_eq(memcmp(got, body, 100007), 0);
	ck_assert_int_eq(write(fd, "x", 1), -1); /* read-only */
	close(fd);
	free(got);
	free(body);
	spool_close(sp);
}
END_TEST

/* spool_msg_prepend: the fields come first in the committed message,
 * buffered bytes included; a reader taken before keeps the old bytes. */
START_TEST(test_prepend)
{
	struct spool *sp = open_spool(true, 1);
	unsigned char *body = make_body(200003);
	char id[ID_LEN + 1];
	struct spool_msg *m = spool_msg_new(sp, "spool", id);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(spool_msg_write(m, body, 200000), 0);
	ck_assert_int_eq(spool_msg_write(m, body + 200000, 3), 0); /* in the buffer */
	int before = spool_msg_reader(m);
	ck_assert_int_ge(before, 0);
	static const char pre[] = "X-One: 1\r\nReceived-SPF: pass\r\n";
	ck_assert_int_eq(spool_msg_prepend(m, pre, 0), 0);
	ck_assert_int_eq(spool_msg_prepend(m, pre, sizeof(pre) - 1), 0);
	size_t total = sizeof(pre) - 1 + 200003;
	ck_assert_uint_eq(spool_msg_size(m), total);
	ck_assert_int_eq(spool_msg_write(m, "tail", 4), 0); /* writes go on at the end */
	total += 4;
	int got = 0;
	struct rec r = {.total = &got};
	spool_msg_commit(m, &plain_env, base, commit_cb, &r);
	run_until(&got, 1);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(count_tmp(), 0);

	char rel[64];
	snprintf(rel, sizeof(rel), "queue/spool/%s", id);
	struct spool_entry e;
	ck_assert_int_eq(spool_entry_read(path_in(rel), &e), 0);
	ck_assert_uint_eq(e.size, total);
	spool_entry_clear(&e);
	size_t fsz;
	unsigned char *file = read_file(path_in(rel), &fsz);
	ck_assert(memcmp(file, pre, sizeof(pre) - 1) == 0);
	ck_assert(memcmp(file + sizeof(pre) - 1, body, 200003) == 0);
	ck_assert(memcmp(file + sizeof(pre) - 1 + 200003, "tail", 4) == 0);
	free(file);
	unsigned char first[8];
	ck_assert_int_eq(pread(before, first, 8, 0), 8);
	ck_assert(memcmp(first, body, 8) == 0);
	close(before);
	free(body);
	spool_close(sp);

	/* The seal covers the prepended bytes too: the file, put back into
	 * tmp/ as if the rename had not happened, is recovered, not taken
	 * for a forgery. */
	char tmprel[64];
	snprintf(tmprel, sizeof(tmprel), "tmp/%s", id);
	ck_assert_int_eq(rename(path_in(rel), path_in(tmprel)), 0);
	sp = open_spool(true, 1);
	ck_assert_int_eq(count_tmp(), 0);
	ck_assert_int_eq(count_dir(path_in("corrupt")), 0);
	ck_assert_int_eq(spool_entry_read(path_in(rel), &e), 0);
	ck_assert_uint_eq(e.size, total);
	spool_entry_clear(&e);
	spool_close(sp);
}
END_TEST

/* A write error (here: the file size limit) is sticky and fails the commit. */
START_TEST(test_write_error_sticky)
{
	struct spool *sp = open_spool(true, 1);
	struct rlimit old, lim;
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100000;
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);

	unsigned char *body = make_body(300000);
	struct spool_msg *m = spool_msg_new(sp, "spool", NULL);
	ck_assert_ptr_nonnull(m);
	int rc = 0;
	for (size_t off = 0; off < 300000 && rc == 0; off += 30000)
		rc = spool_msg_write(m, body + off, 30000);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(spool_msg_write(m, "x", 1), -1);
	int got = 0;
	struct rec r = {.total = &got};
	spool_msg_commit(m, &plain_env, base, commit_cb, &r);
	run_until(&got, 1);
	ck_assert_int_eq(r.err, EFBIG);
	ck_assert_int_eq(count_tmp(), 0);
	ck_assert_int_eq(count_dir(path_in("queue/spool")), 0);

	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	free(body);
	spool_close(sp);
}
END_TEST

START_TEST(test_tmp_cleanup)
{
	char id[ID_LEN + 1], rel[64];
	struct spool *sp = open_spool(true, 1);
	spool_close(sp);
	/* What a daemon killed in the middle of DATA leaves behind. */
	id_new(id);
	snprintf(rel, sizeof(rel), "tmp/%s", id);
	write_file(path_in(rel), "Subject: partial\r\n", 18);
	write_file(path_in("tmp/not-an-id"), "x", 1);
	/* And an unused pool file (empty) of the killed daemon. */
	char pid[ID_LEN + 1], prel[64];
	id_new(pid);
	snprintf(prel, sizeof(prel), "tmp/%s", pid);
	write_file(path_in(prel), "", 0);
	ck_assert_int_eq(count_dir(path_in("tmp")), 3);

	sp = open_spool(true, 1);
	ck_assert_int_eq(count_tmp(), 0);
	ck_assert(!exists(path_in(rel)));
	ck_assert(!exists(path_in(prel)));
	ck_assert(!exists(path_in("tmp/not-an-id")));
	ck_assert_int_eq(count_dir(path_in("corrupt")), 0);
	ck_assert_int_eq(count_dir(path_in("queue")), 0);
	spool_close(sp);
}
END_TEST

/* --- corrupt files ---------------------------------------------------------------- */

/* Builds a file: body, envelope text env (without the magic), footer at off. */
static size_t
build_file(
    char *out, size_t outlen, const char *body, const char *env, bool magic, const char *footer)
{
	char foot[64];
	size_t bl = strlen(body);
	if (footer == NULL) {
		snprintf(foot, sizeof(foot), "MAILETD-FOOTER %020zu\n", bl);
		footer = foot;
	}
	int n = snprintf(
	    out, outlen, "%s%s%s%s", body, magic ? "MAILETD-ENVELOPE 1\n" : "", env, footer);
	ck_assert(n > 0 && (size_t)n < outlen);
	return (size_t)n;
}

struct file_case {
	const char *name;
	const char *env;    /* envelope lines after the magic */
	bool magic;         /* write the magic line */
	const char *footer; /* NULL: a correct footer */
	long cut;           /* > 0: drop this many bytes from the end */
	const char *raw;    /* not NULL: the whole file, as is */
	size_t rawlen;
	bool valid;
};

#define OK_ENV "sender a@b\nrcpt c@d\nreceived 5\n"
#define NUL_FILE                                                                                   \
	"body\nMAILETD-ENVELOPE 1\nsender a\0b\nreceived 1\n"                                      \
	"MAILETD-FOOTER 00000000000000000005\n"
#define GARBAGE_FILE "\x89PNG\r\n\x1a\n garbage \xff\xfe garbage garbage garbage"
#define LONG_GARBAGE                                                                               \
	GARBAGE_FILE GARBAGE_FILE GARBAGE_FILE GARBAGE_FILE GARBAGE_FILE                           \
	    "MAILETD-FOOTER 0000000000000000000"

static const struct file_case file_cases[] = {
    {.name = "valid", .env = OK_ENV, .magic = true, .valid = true},
    {.name = "unknown key", .env = OK_ENV "future-field x y\n", .magic = true, .valid = true},
    {.name = "null sender", .env = "sender \nreceived -5\n", .magic = true, .valid = true},
    {.name = "truncated footer", .env = OK_ENV, .magic = true, .cut = 5},
    {.name = "truncated to body", .env = OK_ENV, .magic = true, .cut = 60},
    {.name = "bad footer digits",
        .env = OK_ENV,
        .magic = true,
        .footer = "MAILETD-FOOTER 0000000000000000000x\n"},
    {.name = "bad footer tag",
        .env = OK_ENV,
        .magic = true,
        .footer = "MAILETD-FOOTEX 00000000000000000005\n"},
    {.name = "footer past eof",
        .env = OK_ENV,
        .magic = true,
        .footer = "MAILETD-FOOTER 00000000000000099999\n"},
    {.name = "footer overflow",
        .env = OK_ENV,
        .magic = true,
        .footer = "MAILETD-FOOTER 99999999999999999999\n"},
    {.name = "footer wrong offset",
        .env = OK_ENV,
        .magic = true,
        .footer = "MAILETD-FOOTER 00000000000000000001\n"},
    {.name = "no magic", .env = OK_ENV, .magic = false},
    {.name = "bad escape", .env = "sender a%zz\nreceived 5\n", .magic = true},
    {.name = "short escape", .env = "received 5\nsender a%4\n", .magic = true},
    {.name = "escaped nul", .env = "sender a%00\nreceived 5\n", .magic = true},
    {.name = "raw tab", .env = "sender a\tb\nreceived 5\n", .magic = true},
    {.name = "no sender", .env = "rcpt c@d\nreceived 5\n", .magic = true},
    {.name = "no received", .env = "sender a@b\n", .magic = true},
    {.name = "two senders", .env = "sender a@b\nsender c@d\nreceived 5\n", .magic = true},
    {.name = "line without value", .env = "sender\nreceived 5\n", .magic = true},
    {.name = "bad key", .env = "Sender a\nsender a\nreceived 5\n", .magic = true},
    {.name = "bad time", .env = "sender a\nreceived 12x\n", .magic = true},
    {.name = "bad flag", .env = "sender a\nreceived 1\nsmtputf8 yes\n", .magic = true},
    {.name = "attr without =", .env = "sender a\nreceived 1\nattr x\n", .magic = true},
    {.name = "no final lf", .env = "sender a\nreceived 1", .magic = true},
    {.name = "nul", .raw = NUL_FILE, .rawlen = sizeof(NUL_FILE) - 1},
    {.name = "empty", .raw = "", .rawlen = 0},
    {.name = "garbage", .raw = GARBAGE_FILE, .rawlen = sizeof(GARBAGE_FILE) - 1},
    {.name = "long garbage", .raw = LONG_GARBAGE, .rawlen = sizeof(LONG_GARBAGE) - 1},
};

#define NFILE_CASES (sizeof(file_cases) / sizeof(file_cases[0]))

/* Writes case c as file path. */
static void
write_case(const char *path, const struct file_case *c)
{
	char buf[1024];
	size_t n;
	if (c->raw != NULL) {
		write_file(path, c->raw, c->rawlen);
		return;
	}
	n = build_file(buf, sizeof(buf), "Subject: x\r\n\r\nbody\r\n", c->env, c->magic, c->footer);
	if (c->cut > 0)
		n -= (size_t)c->cut;
	write_file(path, buf, n);
}

START_TEST(test_entry_read_robust)
{
	ck_assert_int_eq(mkdir(sdir, 0700), 0);
	for (size_t i = 0; i < NFILE_CASES; i++) {
		const struct file_case *c = &file_cases[i];
		char path[512];
		struct spool_entry e;
		snprintf(path, sizeof(path), "%s/case%zu", sdir, i);
		write_case(path, c);
		errno = 0;
		int rc = spool_entry_read(path, &e);
		if (c->valid) {
			ck_assert_msg(rc == 0, "%s: %s", c->name, strerror(errno));
			ck_assert_uint_eq(e.size, 20);
			ck_assert_str_eq(e.id, "");
			spool_entry_clear(&e);
		} else {
			ck_assert_msg(
			    rc == -1 && errno == EINVAL, "%s: rc %d errno %d", c->name, rc, errno);
			ck_assert_ptr_null(e.sender);
		}
	}
	struct spool_entry e;
	char path[512];
	snprintf(path, sizeof(path), "%s/missing", sdir);
	ck_assert_int_eq(spool_entry_read(path, &e), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(spool_entry_read(sdir, &e), -1); /* a directory */
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static void
count_cb(void *arg, const struct spool_entry *e)
{
	ck_assert_int_eq((int)strlen(e->id), ID_LEN);
	(*(int *)arg)++;
}

START_TEST(test_corrupt_on_open)
{
	char ids[NFILE_CASES][ID_LEN + 1];
	struct spool *sp = open_spool(true, 1);
	spool_close(sp);
	ck_assert_int_eq(mkdir(path_in("queue/outgoing"), 0700), 0);
	ck_assert_int_eq(mkdir(path_in("queue/spool"), 0700), 0);

	int nvalid = 0;
	for (size_t i = 0; i < NFILE_CASES; i++) {
		char rel[128];
		id_new(ids[i]);
		snprintf(rel, sizeof(rel), "queue/%s/%.20s", i % 2 ? "outgoing" : "spool", ids[i]);
		write_case(path_in(rel), &file_cases[i]);
		nvalid += file_cases[i].valid;
	}
	/* A good file under a name that is not an id, and a stray symlink. */
	char buf[256];
	size_t n = build_file(buf, sizeof(buf), "x", OK_ENV, true, NULL);
	write_file(path_in("queue/spool/README"), buf, n);
	ck_assert_int_eq(symlink("/etc/passwd", path_in("queue/spool/0123456789abcdef0123")), 0);
	/* And something in queue/ that is no queue: left alone. */
	write_file(path_in("queue/stray-file"), "x", 1);

	sp = open_spool(true, 1);
	for (size_t i = 0; i < NFILE_CASES; i++) {
		const char *q = i % 2 ? "outgoing" : "spool";
		char rel[128], crel[160];
		snprintf(rel, sizeof(rel), "queue/%s/%.20s", q, ids[i]);
		snprintf(crel, sizeof(crel), "corrupt/%s.%.20s", q, ids[i]);
		ck_assert_msg(
		    exists(path_in(rel)) == file_cases[i].valid, "%s", file_cases[i].name);
		ck_assert_msg(
		    exists(path_in(crel)) == !file_cases[i].valid, "%s", file_cases[i].name);
	}
	ck_assert(exists(path_in("corrupt/spool.README")));
	ck_assert(exists(path_in("corrupt/spool.0123456789abcdef0123")));
	ck_assert(exists(path_in("queue/stray-file")));
	ck_assert_int_eq(count_dir(path_in("corrupt")), (int)NFILE_CASES - nvalid + 2);
	spool_close(sp);

	/* A second corrupt file under the same name does not replace the first. */
	write_file(path_in("queue/spool/README"), "again", 5);
	sp = open_spool(false, 1);
	ck_assert(exists(path_in("corrupt/spool.README")));
	ck_assert(exists(path_in("corrupt/spool.README.1")));
	int listed = 0;
	ck_assert_int_eq(spool_list(sdir, NULL, count_cb, &listed), nvalid);
	ck_assert_int_eq(listed, nvalid);
	spool_close(sp);
}
END_TEST

/* --- many messages, several committers --------------------------------------------- */

struct list_acc {
	char (*ids)[ID_LEN + 1];
	char (*queues)[SPOOL_QUEUE_NAME_MAX + 1];
	int n;
	int cap;
};

static void
list_cb(void *arg, const struct spool_entry *e)
{
	struct list_acc *a = arg;
	ck_assert_int_lt(a->n, a->cap);
	memcpy(a->ids[a->n], e->id, sizeof(e->id));
	memcpy(a->queues[a->n], e->queue, sizeof(e->queue));
	ck_assert_str_eq(e->sender, plain_env.sender);
	ck_assert_uint_eq(e->nrcpts, 1);
	a->n++;
}

static void
list_acc_init(struct list_acc *a, int cap)
{
	a->ids = calloc((size_t)cap, sizeof(*a->ids));
	a->queues = calloc((size_t)cap, sizeof(*a->queues));
	a->n = 0;
	a->cap = cap;
}

static void
list_acc_free(struct list_acc *a)
{
	free(a->ids);
	free(a->queues);
}

static int
cmp_id(const void *x, const void *y)
{
	return strcmp(x, y);
}

static void
concurrent(bool do_fsync)
{
	enum { N = 200 };
	struct spool *sp = open_spool(do_fsync, 4);
	struct rec *recs = calloc(N, sizeof(*recs));
	char(*ids)[ID_LEN + 1] = calloc(N, sizeof(*ids));
	int got = 0;

	for (int i = 0; i < N; i++) {
		char text[64];
		snprintf(text, sizeof(text), "Subject: %d\r\n\r\nmessage %d\r\n", i, i);
		struct spool_msg *m = spool_msg_new(sp, "spool", ids[i]);
		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq(spool_msg_write(m, text, strlen(text)), 0);
		recs[i].total = &got;
		spool_msg_commit(m, &plain_env, base, commit_cb, &recs[i]);
		/* Let some callbacks in while commits are still coming. */
		if (i % 50 == 49)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	run_until(&got, N);
	/* Nothing more arrives later. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(got, N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(recs[i].calls, 1);
		ck_assert_int_eq(recs[i].err, 0);
		ck_assert_str_eq(recs[i].id, ids[i]);
	}
	ck_assert_int_eq(count_dir(path_in("queue/spool")), N);
	ck_assert_int_eq(count_tmp(), 0);

	struct list_acc a;
	list_acc_init(&a, N);
	ck_assert_int_eq(spool_list(sdir, "spool", list_cb, &a), N);
	ck_assert_int_eq(a.n, N);
	qsort(ids, N, sizeof(*ids), cmp_id);
	for (int i = 0; i < N; i++)
		ck_assert_str_eq(a.ids[i], ids[i]);
	for (int i = 1; i < N; i++)
		ck_assert_str_ne(ids[i - 1], ids[i]);
	list_acc_free(&a);
	spool_close(sp);
	free(recs);
	free(ids);
}

START_TEST(test_concurrent_200)
{
	concurrent(true);
}
END_TEST

START_TEST(test_no_fsync)
{
	concurrent(false);
}
END_TEST

/*
 * fsync off: the commit is done inside spool_msg_commit (no committer),
 * and yet the callback comes later, from the loop, never inside the call;
 * by then the file is in its queue. With fsync on the same holds through
 * a committer. Either way several messages' callbacks can come in one
 * loop pass (one xcall per batch), each exactly once.
 */
static void
callback_later(bool do_fsync)
{
	enum { N = 5 };
	struct spool *sp = open_spool(do_fsync, 2);
	struct rec recs[N];
	char ids[N][ID_LEN + 1];
	int got = 0;
	memset(recs, 0, sizeof(recs));
	int before = count_dir(path_in("queue/spool"));
	if (before < 0)
		before = 0; /* the queue directory comes with the first message */
	for (int i = 0; i < N; i++) {
		struct spool_msg *m = spool_msg_new(sp, "spool", ids[i]);
		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq(spool_msg_write(m, "Subject: x\r\n\r\nx\r\n", 18), 0);
		recs[i].total = &got;
		spool_msg_commit(m, &plain_env, base, commit_cb, &recs[i]);
		ck_assert_int_eq(recs[i].calls, 0); /* not inside the call */
		if (!do_fsync) {
			char rel[160];
			snprintf(rel, sizeof(rel), "queue/spool/%s", ids[i]);
			ck_assert_int_eq(access(path_in(rel), F_OK), 0); /* done already */
		}
	}
	run_until(&got, N);
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(recs[i].calls, 1);
		ck_assert_int_eq(recs[i].err, 0);
		ck_assert_str_eq(recs[i].id, ids[i]);
	}
	ck_assert_int_eq(count_dir(path_in("queue/spool")), before + N);
	spool_close(sp);
}

START_TEST(test_callback_later)
{
	callback_later(false);
	callback_later(true);
}
END_TEST

START_TEST(test_list)
{
	static const char *const queues[] = {
	    "spool", "outgoing", "error", "spool", "outgoing", "spool"};
	enum { N = sizeof(queues) / sizeof(queues[0]) };
	struct spool *sp = open_spool(true, 2);
	struct rec recs[N];
	int got = 0;

	memset(recs, 0, sizeof(recs));
	for (int i = 0; i < N; i++)
		commit_one(sp, queues[i], "Subject: hi\r\n\r\nhi\r\n", &recs[i], &got);
	run_until(&got, N);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(recs[i].err, 0);

	struct list_acc a;
	list_acc_init(&a, N);
	ck_assert_int_eq(spool_list(sdir, NULL, list_cb, &a), N);
	for (int i = 1; i < N; i++)
		ck_assert_str_lt(a.ids[i - 1], a.ids[i]);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			if (strcmp(a.ids[i], recs[j].id) == 0)
				ck_assert_str_eq(a.queues[i], queues[j]);
	list_acc_free(&a);

	list_acc_init(&a, N);
	ck_assert_int_eq(spool_list(sdir, "outgoing", list_cb, &a), 2);
	ck_assert_str_eq(a.queues[0], "outgoing");
	ck_assert_str_eq(a.queues[1], "outgoing");
	list_acc_free(&a);
	ck_assert_int_eq(spool_list(sdir, "no-such-queue", list_cb, NULL), 0);
	ck_assert_int_eq(spool_list(sdir, "Bad", list_cb, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(spool_list(tdir, NULL, list_cb, NULL), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* spool_cat finds a message in any queue; bad ids never reach a path. */
	int fd = open("/dev/null", O_WRONLY);
	ck_assert_int_eq(spool_cat(sdir, recs[2].id, fd), 0);
	ck_assert_int_eq(spool_cat(sdir, "00000000000000000000", fd), -1);
	ck_assert_int_eq(errno, ENOENT);
	static const char *const bad_ids[] = {"", "../../etc/passwd", "0123456789ABCDEF0123",
	    "0123456789abcdef012", "0123456789abcdef01234", "0123456789abcdef012/"};
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		ck_assert_int_eq(spool_cat(sdir, bad_ids[i], fd), -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	close(fd);
	spool_close(sp);
}
END_TEST

START_TEST(test_queue_names)
{
	static const struct {
		const char *name;
		bool ok;
	} names[] = {
	    {"spool", true},
	    {"out-going_2", true},
	    {"0123456789012345678901234567890123456789012345678901234567890123", true},
	    {"01234567890123456789012345678901234567890123456789012345678901234", false},
	    {"", false},
	    {"Spool", false},
	    {".", false},
	    {"..", false},
	    {"a/b", false},
	    {"../tmp", false},
	    {"a b", false},
	    {"spool\n", false},
	    {"caf\xc3\xa9", false},
	};
	struct spool *sp = open_spool(false, 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		errno = 0;
		struct spool_msg *m = spool_msg_new(sp, names[i].name, NULL);
		if (names[i].ok) {
			ck_assert_msg(m != NULL, "%s", names[i].name);
			spool_msg_abort(m);
		} else {
			ck_assert_msg(m == NULL && errno == EINVAL, "%s", names[i].name);
		}
	}
	errno = 0;
	ck_assert_ptr_null(spool_msg_new(sp, NULL, NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(count_dir(path_in("queue")), 3);
	ck_assert_int_eq(count_tmp(), 0);
	spool_close(sp);
}
END_TEST

/* spool_close waits for commits in flight; their callbacks come afterwards. */
START_TEST(test_close_in_flight)
{
	enum { N = 50 };
	struct spool *sp = open_spool(true, 3);
	struct rec recs[N];
	int got = 0;

	memset(recs, 0, sizeof(recs));
	for (int i = 0; i < N; i++)
		commit_one(sp, i % 2 ? "spool" : "new-queue", "x\r\n", &recs[i], &got);
	spool_close(sp);
	/* Posted, not run: the loop has not run since. */
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(count_dir(path_in("tmp")), 0);
	ck_assert_int_eq(
	    count_dir(path_in("queue/spool")) + count_dir(path_in("queue/new-queue")), N);
	run_until(&got, N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(recs[i].calls, 1);
		ck_assert_int_eq(recs[i].err, 0);
	}
}
END_TEST

/* Random bytes 1..255 in every field: whatever is written reads back. */
static char *
random_string(uint32_t *x, size_t maxlen)
{
	*x = *x * 1103515245u + 12345u;
	size_t n = (*x >> 8) % (maxlen + 1);
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++) {
		*x = *x * 1103515245u + 12345u;
		s[i] = (char)(1 + (*x >> 16) % 255);
	}
	s[n] = '\0';
	return s;
}

START_TEST(test_random_envelopes)
{
	enum { N = 30, NR = 4, NA = 3 };
	struct spool *sp = open_spool(false, 2);
	uint32_t x = 42;
	int got = 0;

	for (int k = 0; k < N; k++) {
		char *strs[8], *rcpts[NR], *an[NA], *av[NA];
		struct spool_attr attrs[NA];
		for (int i = 0; i < 8; i++)
			strs[i] = random_string(&x, 40);
		for (int i = 0; i < NR; i++)
			rcpts[i] = random_string(&x, 40);
		for (int i = 0; i < NA; i++) {
			an[i] = random_string(&x, 10);
			av[i] = random_string(&x, 40);
			attrs[i].name = an[i];
			attrs[i].value = av[i];
		}
		struct spool_envelope env = {
		    .sender = strs[0],
		    .rcpts = (const char *const *)rcpts,
		    .nrcpts = NR,
		    .client_addr = strs[1],
		    .client_name = strs[2],
		    .helo = strs[3],
		    .protocol = strs[4],
		    .session_id = strs[5],
		    .server_name = strs[6],
		    .body = strs[7],
		    .received = (time_t)x - 2000000000,
		    .attrs = attrs,
		    .nattrs = NA,
		    .smtputf8 = k % 2,
		};
		char id[ID_LEN + 1], rel[64];
		struct rec r = {.total = &got};
		struct spool_msg *m = spool_msg_new(sp, "spool", id);
		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq(spool_msg_write(m, strs[0], strlen(strs[0])), 0);
		spool_msg_commit(m, &env, base, commit_cb, &r);
		run_until(&got, k + 1);
		ck_assert_int_eq(r.err, 0);

		struct spool_entry e;
		snprintf(rel, sizeof(rel), "queue/spool/%s", id);
		ck_assert_int_eq(spool_entry_read(path_in(rel), &e), 0);
		ck_assert_str_eq(e.sender, env.sender);
		ck_assert_str_eq(e.client_addr, env.client_addr);
		ck_assert_str_eq(e.client_name, env.client_name);
		ck_assert_str_eq(e.helo, env.helo);
		ck_assert_str_eq(e.protocol, env.protocol);
		ck_assert_str_eq(e.session_id, env.session_id);
		ck_assert_str_eq(e.server_name, env.server_name);
		ck_assert_str_eq(e.body, env.body);
		ck_assert_int_eq((long long)e.received, (long long)env.received);
		ck_assert_int_eq(e.smtputf8, env.smtputf8);
		ck_assert_uint_eq(e.nrcpts, NR);
		for (int i = 0; i < NR; i++)
			ck_assert_str_eq(e.rcpts[i], rcpts[i]);
		ck_assert_uint_eq(e.nattrs, NA);
		for (int i = 0; i < NA; i++) {
			ck_assert_str_eq(e.attrs[i].name, an[i]);
			ck_assert_str_eq(e.attrs[i].value, av[i]);
		}
		ck_assert_uint_eq(e.size, strlen(strs[0]));
		spool_entry_clear(&e);
		for (int i = 0; i < 8; i++)
			free(strs[i]);
		for (int i = 0; i < NR; i++)
			free(rcpts[i]);
		for (int i = 0; i < NA; i++) {
			free(an[i]);
			free(av[i]);
		}
	}
	spool_close(sp);
	/* And every one of them survives the corrupt-file scan. */
	sp = open_spool(false, 1);
	ck_assert_int_eq(count_dir(path_in("corrupt")), 0);
	ck_assert_int_eq(count_dir(path_in("queue/spool")), N);
	spool_close(sp);
}
END_TEST

/* One process per spool directory. */
START_TEST(test_lock)
{
	char err[512] = "";
	struct spool *sp = open_spool(true, 1);
	ck_assert_ptr_null(spool_open(sdir, true, 1, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "in use"));
	spool_close(sp);
	sp = open_spool(true, 1);
	spool_close(sp);
}
END_TEST

/* A spool directory given with parents that do not exist yet. */
START_TEST(test_open_creates_parents)
{
	char deep[400], err[512];
	snprintf(deep, sizeof(deep), "%s/a/b/c/", tdir);
	struct spool *sp = spool_open(deep, true, 0, err, sizeof(err));
	ck_assert_msg(sp != NULL, "%s", err);
	spool_close(sp);
	snprintf(deep, sizeof(deep), "%s/a/b/c/corrupt", tdir);
	struct stat st;
	ck_assert_int_eq(stat(deep, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);

	/* A path through a regular file cannot be opened. */
	snprintf(deep, sizeof(deep), "%s/file", tdir);
	write_file(deep, "x", 1);
	snprintf(deep, sizeof(deep), "%s/file/spool", tdir);
	err[0] = '\0';
	ck_assert_ptr_null(spool_open(deep, true, 1, err, sizeof(err)));
	ck_assert_str_ne(err, "");
}
END_TEST


/* --- the one-flush commit: recovery of tmp/ (see spool.h) --------------------------- */

/* Commits text into queue through the real writer and returns the path
 * (under sdir) of the queue file; id gets the message id. */
static const char *
commit_real(struct spool *sp, const char *queue, const char *text, char id[ID_LEN + 1])
{
	static char rel[128];
	int got = 0;
	struct rec r = {0};
	commit_one(sp, queue, text, &r, &got);
	run_until(&got, 1);
	ck_assert_int_eq(r.err, 0);
	snprintf(id, ID_LEN + 1, "%s", r.id);
	snprintf(rel, sizeof(rel), "queue/%s/%s", queue, r.id);
	ck_assert(exists(path_in(rel)));
	return rel;
}

/* The spool's MAC key, as the daemon reads it. */
static struct spool_format_mac *
load_key(void)
{
	size_t n;
	unsigned char *k = read_file(path_in("commit.key"), &n);
	ck_assert_uint_eq(n, SPOOL_FORMAT_KEY_LEN);
	struct spool_format_mac *m = spool_format_mac_new(k);
	ck_assert_ptr_nonnull(m);
	free(k);
	return m;
}

/* The check_seal verdict on a file's bytes, written to a scratch file. */
static int
seal_ok(const struct spool_format_mac *key, const char *id, const void *p, size_t n)
{
	const char *why;
	char path[512];
	snprintf(path, sizeof(path), "%s/scratch", tdir);
	write_file(path, p, n);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	int rc = spool_format_check_seal(fd, key, id, &why);
	if (rc < 0)
		ck_assert(errno == EINVAL || errno == EBADMSG);
	close(fd);
	return rc;
}

/* Crash after the ack but before the rename: the sealed file is still in
 * tmp/. Start-up moves it into the queue its envelope names (a queue that
 * does not exist yet is created), intact. */
START_TEST(test_recover_committed_tmp)
{
	char id1[ID_LEN + 1], id2[ID_LEN + 1], rel[64];
	struct spool *sp = open_spool(true, 1);
	const char *q1 = commit_real(sp, "spool", "Subject: one\r\n\r\nbody one\r\n", id1);
	char q1s[128];
	snprintf(q1s, sizeof(q1s), "%s", q1);
	const char *q2 = commit_real(sp, "outgoing", "Subject: two\r\n\r\nbody two\r\n", id2);
	spool_close(sp);
	size_t n1, n2;
	unsigned char *before1 = read_file(path_in(q1s), &n1);
	unsigned char *before2 = read_file(path_in(q2), &n2);
	/* Back into tmp/, as if the renames had not happened; the queue
	 * directory "outgoing" is gone as well. */
	snprintf(rel, sizeof(rel), "tmp/%s", id1);
	ck_assert_int_eq(rename(path_in(q1s), path_in(rel)), 0);
	snprintf(rel, sizeof(rel), "tmp/%s", id2);
	ck_assert_int_eq(rename(path_in(q2), path_in(rel)), 0);
	ck_assert_int_eq(rmdir(path_in("queue/outgoing")), 0);

	sp = open_spool(true, 1);
	ck_assert_int_eq(count_tmp(), 0);
	ck_assert_int_eq(count_dir(path_in("corrupt")), 0);
	size_t m1, m2;
	unsigned char *after1 = read_file(path_in(q1s), &m1);
	unsigned char *after2 = read_file(path_in(q2), &m2);
	ck_assert(m1 == n1 && memcmp(before1, after1, n1) == 0);
	ck_assert(m2 == n2 && memcmp(before2, after2, n2) == 0);
	struct spool_entry e;
	ck_assert_int_eq(spool_entry_read(path_in(q2), &e), 0);
	ck_assert_str_eq(e.queue, "outgoing");
	ck_assert_str_eq(e.id, id2);
	ck_assert_str_eq(e.sender, plain_env.sender);
	spool_entry_clear(&e);
	int listed = 0;
	ck_assert_int_eq(spool_list(sdir, NULL, count_cb, &listed), 2);
	free(before1);
	free(before2);
	free(after1);
	free(after2);
	spool_close(sp);
}
END_TEST

/* A committed file cut short at any byte (the crash came before its
 * fdatasync finished): never taken as committed, deleted at start-up. */
START_TEST(test_recover_truncated_everywhere)
{
	char id[ID_LEN + 1], rel[64];
	struct spool *sp = open_spool(false, 1);
	const char *q = commit_real(sp, "spool", "Subject: cut\r\n\r\nthe body\r\n", id);
	size_t n;
	unsigned char *file = read_file(path_in(q), &n);
	ck_assert_int_eq(unlink(path_in(q)), 0);
	spool_close(sp);
	struct spool_format_mac *key = load_key();
	snprintf(rel, sizeof(rel), "tmp/%s", id);

	/* The whole file is sealed, under its own id only. */
	ck_assert_int_eq(seal_ok(key, id, file, n), 0);
	char other[ID_LEN + 1];
	id_new(other);
	ck_assert_int_eq(seal_ok(key, other, file, n), -1);
	for (size_t cut = 0; cut < n; cut++)
		ck_assert_msg(seal_ok(key, id, file, cut) == -1, "cut at %zu accepted", cut);

	/* And through spool_open, for every length (fsync off for speed; the
	 * recovery is the same). The complete file is the control. */
	for (size_t cut = 0; cut <= n; cut++) {
		write_file(path_in(rel), file, cut);
		sp = open_spool(false, 1);
		ck_assert_int_eq(count_tmp(), 0);
		ck_assert(!exists(path_in(rel)));
		ck_assert_int_eq(count_dir(path_in("corrupt")), 0);
		ck_assert_msg(exists(path_in(q)) == (cut == n), "cut at %zu of %zu", cut, n);
		spool_close(sp);
	}
	spool_format_mac_free(key);
	free(file);
}
END_TEST

/* One flipped bit anywhere in a sealed file breaks the seal. */
START_TEST(test_recover_bad_mac)
{
	char id[ID_LEN + 1], rel[64];
	struct spool *sp = open_spool(false, 1);
	const char *q = commit_real(sp, "spool", "Subject: flip\r\n\r\nbits\r\n", id);
	size_t n;
	unsigned char *file = read_file(path_in(q), &n);
	spool_close(sp);
	struct spool_format_mac *key = load_key();
	for (size_t i = 0; i < n; i++) {
		file[i] ^= 0x01;
		ck_assert_msg(seal_ok(key, id, file, n) == -1, "flip at %zu accepted", i);
		file[i] ^= 0x01;
	}
	ck_assert_int_eq(seal_ok(key, id, file, n), 0);
	/* Flip one MAC digit and let start-up see it. */
	ck_assert_int_eq(unlink(path_in(q)), 0);
	file[n - 2] = file[n - 2] == '0' ? '1' : '0';
	snprintf(rel, sizeof(rel), "tmp/%s", id);
	write_file(path_in(rel), file, n);
	sp = open_spool(true, 1);
	ck_assert_int_eq(count_tmp(), 0);
	ck_assert(!exists(path_in(rel)));
	ck_assert_int_eq(count_dir(path_in("queue/spool")), 0);
	/* Well-formed but wrong MAC: kept for the administrator, not queued. */
	ck_assert_int_eq(count_dir(path_in("corrupt")), 1);
	snprintf(rel, sizeof(rel), "corrupt/tmp.%s", id);
	ck_assert(exists(path_in(rel)));
	spool_close(sp);
	spool_format_mac_free(key);
	free(file);
}
END_TEST

/* A buffer as a spool_format_put_fn target. */
struct obuf {
	unsigned char b[8192];
	size_t n;
	struct spool_format_mac *mac; /* MACs what is put, NULL after the seal */
};

static int
obuf_put(void *ctx, const void *p, size_t n)
{
	struct obuf *o = ctx;
	ck_assert_uint_le(o->n + n, sizeof(o->b));
	memcpy(o->b + o->n, p, n);
	o->n += n;
	if (o->mac != NULL)
		spool_format_mac_update(o->mac, p, n);
	return 0;
}

static int
obuf_seal(void *ctx, char hex[SPOOL_FORMAT_MAC_HEX + 1])
{
	struct obuf *o = ctx;
	if (o->mac == NULL) {
		memset(hex, '0', SPOOL_FORMAT_MAC_HEX);
		hex[SPOOL_FORMAT_MAC_HEX] = '\0';
		return 0;
	}
	int rc = spool_format_mac_hex(o->mac, hex);
	spool_format_mac_free(o->mac);
	o->mac = NULL;
	return rc;
}

/*
 * The attack: a client ends its message with bytes that look like a
 * relay envelope and a sealed footer, then the daemon dies before the
 * real envelope is written. The file in tmp/ is all client bytes; its
 * footer is well-formed but its MAC cannot be right without the spool's
 * key. It must be deleted, never queued. Variants: MAC of another key,
 * all-zero MAC, a version 1 footer (no MAC at all), and the control:
 * the same bytes sealed with the real key are accepted, so the test
 * would see a recovery that ignored the MAC.
 */
START_TEST(test_recover_forged_footer)
{
	static const char *const relay_rcpts[] = {"victim@elsewhere.example"};
	const struct spool_envelope relay = {
	    .sender = "attacker@evil.example",
	    .rcpts = relay_rcpts,
	    .nrcpts = 1,
	    .received = 1700000000,
	};
	static const char body[] = "Subject: hi\r\n\r\nhello\r\n";
	struct spool *sp = open_spool(true, 1);
	spool_close(sp);
	struct spool_format_mac *key = load_key();
	unsigned char wrong[SPOOL_FORMAT_KEY_LEN];
	memset(wrong, 0x42, sizeof(wrong));
	struct spool_format_mac *wkey = spool_format_mac_new(wrong);
	ck_assert_ptr_nonnull(wkey);

	enum { WRONG_KEY, ZERO_MAC, VERSION1, REAL_KEY, NVAR };
	char ids[NVAR][ID_LEN + 1];
	for (int v = 0; v < NVAR; v++) {
		struct obuf o = {.n = 0};
		char rel[128];
		id_new(ids[v]);
		obuf_put(&o, body, sizeof(body) - 1);
		if (v == WRONG_KEY)
			o.mac = spool_format_mac_start(wkey, ids[v]);
		else if (v == REAL_KEY)
			o.mac = spool_format_mac_start(key, ids[v]);
		if (o.mac != NULL) /* MAC the body too, as the writer does */
			spool_format_mac_update(o.mac, body, sizeof(body) - 1);
		if (v == VERSION1)
			ck_assert_int_eq(spool_format_write(&relay, o.n, obuf_put, &o), 0);
		else
			ck_assert_int_eq(spool_format_write_sealed(&relay, "spool", sizeof(body) - 1,
			                     obuf_put, obuf_seal, &o),
			    0);
		spool_format_mac_free(o.mac);
		snprintf(rel, sizeof(rel), "tmp/%s", ids[v]);
		write_file(path_in(rel), o.b, o.n);
		/* Well-formed enough to parse as a queue file. */
		struct spool_entry e;
		ck_assert_int_eq(spool_entry_read(path_in(rel), &e), 0);
		ck_assert_str_eq(e.rcpts[0], "victim@elsewhere.example");
		spool_entry_clear(&e);
	}
	sp = open_spool(true, 1);
	ck_assert_int_eq(count_tmp(), 0);
	for (int v = 0; v < NVAR; v++) {
		char t[128];
		snprintf(t, sizeof(t), "tmp/%s", ids[v]);
		ck_assert(!exists(path_in(t)));
	}
	/* Forged footers (well-formed, wrong MAC) are kept in corrupt/, the
	 * first-format footer (no MAC at all) is an interrupted transfer. */
	ck_assert_int_eq(count_dir(path_in("corrupt")), 2);
	char crel[128];
	snprintf(crel, sizeof(crel), "corrupt/tmp.%s", ids[WRONG_KEY]);
	ck_assert(exists(path_in(crel)));
	snprintf(crel, sizeof(crel), "corrupt/tmp.%s", ids[ZERO_MAC]);
	ck_assert(exists(path_in(crel)));
	ck_assert_int_eq(count_dir(path_in("queue/spool")), 1);
	char rel[64];
	snprintf(rel, sizeof(rel), "queue/spool/%s", ids[REAL_KEY]);
	ck_assert(exists(path_in(rel)));
	spool_close(sp);
	spool_format_mac_free(key);
	spool_format_mac_free(wkey);
}
END_TEST

/* Files of version 1 (written before the sealed footer) in a queue are
 * still read, listed, cat'ed and kept at start-up. */
START_TEST(test_old_format_queue)
{
	static const char body[] = "Subject: old\r\n\r\nfrom version 1\r\n";
	struct spool *sp = open_spool(true, 1);
	spool_close(sp);
	struct obuf o = {.n = 0};
	obuf_put(&o, body, sizeof(body) - 1);
	ck_assert_int_eq(spool_format_write(&plain_env, o.n, obuf_put, &o), 0);
	ck_assert(memcmp(o.b + sizeof(body) - 1, "MAILETD-ENVELOPE 1\n", 19) == 0);
	char id[ID_LEN + 1], rel[64];
	id_new(id);
	ck_assert_int_eq(mkdir(path_in("queue/spool"), 0700), 0);
	snprintf(rel, sizeof(rel), "queue/spool/%s", id);
	write_file(path_in(rel), o.b, o.n);

	sp = open_spool(true, 1);
	ck_assert(exists(path_in(rel)));
	ck_assert_int_eq(count_dir(path_in("corrupt")), 0);
	struct list_acc a;
	list_acc_init(&a, 4);
	ck_assert_int_eq(spool_list(sdir, "spool", list_cb, &a), 1);
	ck_assert_str_eq(a.ids[0], id);
	list_acc_free(&a);
	char out[512];
	snprintf(out, sizeof(out), "%s/cat.out", tdir);
	int fd = open(out, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(spool_cat(sdir, id, fd), 0);
	close(fd);
	size_t n;
	unsigned char *cat = read_file(out, &n);
	ck_assert(n == sizeof(body) - 1 && memcmp(cat, body, n) == 0);
	free(cat);
	spool_close(sp);
}
END_TEST

/* fsync on: messages take files made ahead (their entries already durable)
 * from the pool, which is refilled after commits and removed at close;
 * fsync off: no pool. */
START_TEST(test_pool)
{
	struct spool *sp = open_spool(true, 1);
	int pool = count_dir(path_in("tmp"));
	ck_assert_int_gt(pool, 0);
	ck_assert_int_eq(count_tmp(), 0);
	char id[ID_LEN + 1], rel[64];
	struct spool_msg *m = spool_msg_new(sp, "spool", id);
	ck_assert_ptr_nonnull(m);
	/* No new file: it is one of the pool's. */
	ck_assert_int_eq(count_dir(path_in("tmp")), pool);
	snprintf(rel, sizeof(rel), "tmp/%s", id);
	ck_assert(exists(path_in(rel)));
	spool_msg_abort(m);
	ck_assert_int_eq(count_dir(path_in("tmp")), pool - 1);
	/* Use up more than half: the committer refills it. */
	int got = 0;
	struct rec *recs = calloc((size_t)pool, sizeof(*recs));
	ck_assert_ptr_nonnull(recs);
	for (int i = 0; i < pool; i++)
		commit_one(sp, "spool", "Subject: pool\r\n\r\nx\r\n", &recs[i], &got);
	run_until(&got, pool);
	for (int i = 0; i < pool; i++)
		ck_assert_int_eq(recs[i].err, 0);
	ck_assert_int_eq(count_dir(path_in("queue/spool")), pool);
	ck_assert_int_eq(count_tmp(), 0);
	/* The committer refills after it has posted the batch's callbacks:
	 * give it up to 5 s. */
	for (int t = 0; t < 500 && count_dir(path_in("tmp")) <= pool / 2; t++)
		usleep(10000);
	ck_assert_int_gt(count_dir(path_in("tmp")), pool / 2);
	free(recs);
	spool_close(sp);
	ck_assert_int_eq(count_dir(path_in("tmp")), 0);

	sp = open_spool(false, 1);
	ck_assert_int_eq(count_dir(path_in("tmp")), 0);
	spool_close(sp);
}
END_TEST

/* The key: 32 bytes, mode 0600, kept across opens; a bad one stops open. */
START_TEST(test_commit_key)
{
	struct spool *sp = open_spool(true, 1);
	spool_close(sp);
	struct stat st;
	ck_assert_int_eq(stat(path_in("commit.key"), &st), 0);
	ck_assert_int_eq((int)(st.st_mode & 0777), 0600);
	ck_assert_int_eq((int)st.st_size, SPOOL_FORMAT_KEY_LEN);
	size_t n;
	unsigned char *k1 = read_file(path_in("commit.key"), &n);
	sp = open_spool(true, 1);
	spool_close(sp);
	unsigned char *k2 = read_file(path_in("commit.key"), &n);
	ck_assert(memcmp(k1, k2, SPOOL_FORMAT_KEY_LEN) == 0);
	free(k2);

	char err[512];
	ck_assert_int_eq(chmod(path_in("commit.key"), 0644), 0);
	ck_assert_ptr_null(spool_open(sdir, true, 1, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "commit.key"));
	ck_assert_int_eq(chmod(path_in("commit.key"), 0600), 0);
	write_file(path_in("commit.key"), k1, 16);
	ck_assert_ptr_null(spool_open(sdir, true, 1, err, sizeof(err)));
	free(k1);
}
END_TEST

static Suite *
spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("spool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_recover_committed_tmp);
	tcase_add_test(tc, test_recover_truncated_everywhere);
	tcase_add_test(tc, test_recover_bad_mac);
	tcase_add_test(tc, test_recover_forged_footer);
	tcase_add_test(tc, test_old_format_queue);
	tcase_add_test(tc, test_commit_key);
	tcase_add_test(tc, test_pool);
	tcase_add_test(tc, test_minimal_envelope);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_reader);
	tcase_add_test(tc, test_prepend);
	tcase_add_test(tc, test_write_error_sticky);
	tcase_add_test(tc, test_tmp_cleanup);
	tcase_add_test(tc, test_entry_read_robust);
	tcase_add_test(tc, test_corrupt_on_open);
	tcase_add_test(tc, test_concurrent_200);
	tcase_add_test(tc, test_no_fsync);
	tcase_add_test(tc, test_callback_later);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_queue_names);
	tcase_add_test(tc, test_close_in_flight);
	tcase_add_test(tc, test_open_creates_parents);
	tcase_add_test(tc, test_random_envelopes);
	tcase_add_test(tc, test_lock);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	evthread_use_pthreads();
	id_init();
	log_init("test_spool", LOG_LVL_ERROR, false);
	SRunner *sr = srunner_create(spool_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* test_local.c - unit tests of src/delivery/local.c (per-recipient delivery). */
#include "../../src/auth/password.h"
#include "../../src/auth/users.h"
#include "../../src/config/config.h"
#include "../../src/core/log.h"
#include "../../src/core/worker.h"
#include "../../src/delivery/local.h"

#include <check.h>
#include <dirent.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char datadir[256];
static char *domains[] = { "example.com", "other.test" };
static struct config cfg;

static const char msg[] = "Subject: t\r\n\r\nhello\r\n";

static void
add_user(struct users *u, const char *name, uint64_t quota)
{
	struct users_tx *tx = users_tx_begin(u);
	ck_assert_ptr_nonnull(tx);
	char *h = password_hash("pw", 2, 1000);
	ck_assert_int_eq(users_tx_put(tx, name, h, USERS_PUT_NEW), USERS_OK);
	password_free(h);
	if (quota > 0)
		ck_assert_int_eq(users_tx_quota(tx, name, quota), USERS_OK);
	ck_assert_int_eq(users_tx_commit(tx), 0);
}

/* A configuration with only what local.c reads, over a fresh data directory. */
static void
setup_vhost(bool vhost)
{
	snprintf(datadir, sizeof(datadir), "/tmp/mailetd-test-local-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(datadir));
	memset(&cfg, 0, sizeof(cfg));
	cfg.main.data_dir = datadir;
	cfg.domains.names = domains;
	cfg.domains.n = 2;
	cfg.domains.default_domain = domains[0];
	struct users_opts o = { .virtual_hosting = vhost, .iterations = 1000, .domains = domains,
		.ndomains = 2 };
	cfg.users_db = users_open(datadir, &o);
	ck_assert_ptr_nonnull(cfg.users_db);
}

static void
setup(void)
{
	setup_vhost(false);
}

static void
setup_v(void)
{
	setup_vhost(true);
}

static void
teardown(void)
{
	users_free(cfg.users_db);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", datadir);
	ck_assert_int_eq(system(cmd), 0);
}

static int
source(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/src-XXXXXX", datadir);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, msg, sizeof(msg) - 1), (ssize_t)(sizeof(msg) - 1));
	unlink(path);
	return fd;
}

/* The files in new/ of a mailbox; the content of the first in *first. */
static int
new_files(const char *domain, const char *user, char *first, size_t firstsz)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/mail/%s/%s/new", datadir, domain, user);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n++ == 0 && first != NULL) {
			char fp[900];
			snprintf(fp, sizeof(fp), "%s/%s", path, e->d_name);
			FILE *f = fopen(fp, "rb");
			ck_assert_ptr_nonnull(f);
			size_t k = fread(first, 1, firstsz - 1, f);
			first[k] = '\0';
			fclose(f);
		}
	}
	closedir(d);
	return n;
}

START_TEST(test_per_recipient_results)
{
	add_user(cfg.users_db, "bob", 0);
	add_user(cfg.users_db, "carol", 100); /* one copy (about 80 octets) fits */
	int fd = source();
	const char *rcpts[] = { "bob@example.com", "nobody@example.com", "Bob+list@other.test",
		"carol@example.com", "carol@example.com", "bob@remote.test", "bob" };
	struct local_message m = { .fd = fd, .size = sizeof(msg) - 1, .sender = "a@b.test",
		.rcpts = rcpts, .nrcpts = 7, .log_id = "test" };
	struct local_result res[7];
	local_deliver(&cfg, &m, res);
	static const int want[] = { 250, 550, 250, 250, 452, 550, 550 };
	static const char *const wecode[] = { "2.1.5", "5.1.1", "2.1.5", "2.1.5", "4.2.2",
		"5.1.1", "5.1.1" };
	for (size_t i = 0; i < 7; i++) {
		ck_assert_msg(res[i].code == want[i], "%zu: %d %s", i, res[i].code, res[i].text);
		ck_assert_str_eq(res[i].ecode, wecode[i]);
		ck_assert_msg(strstr(res[i].text, rcpts[i]) != NULL, "%s", res[i].text);
	}
	/* Without virtual hosting, bob of every local domain is one mailbox
	 * under the default domain. */
	char first[1024];
	ck_assert_int_eq(new_files("example.com", "bob", first, sizeof(first)), 2);
	ck_assert_int_eq(new_files("other.test", "bob", NULL, 0), -1);
	ck_assert_int_eq(new_files("example.com", "carol", NULL, 0), 1);
	ck_assert_int_eq(new_files("example.com", "nobody", NULL, 0), -1);
	ck_assert_msg(strncmp(first, "Return-Path: <a@b.test>\r\nDelivered-To: ", 39) == 0, "%s",
	    first);
	ck_assert_msg(strstr(first, "\r\n" "Subject: t\r\n\r\nhello\r\n") != NULL, "%s", first);
	close(fd);
}
END_TEST

START_TEST(test_virtual_hosting)
{
	add_user(cfg.users_db, "bob@other.test", 0);
	int fd = source();
	const char *rcpts[] = { "bob@other.test", "bob@example.com", "BOB@OTHER.TEST" };
	struct local_message m = { .fd = fd, .size = sizeof(msg) - 1, .sender = "",
		.rcpts = rcpts, .nrcpts = 3, .log_id = "test" };
	struct local_result res[3];
	local_deliver(&cfg, &m, res);
	ck_assert_int_eq(res[0].code, 250);
	ck_assert_int_eq(res[1].code, 550);
	ck_assert_int_eq(res[2].code, 250);
	char first[1024];
	ck_assert_int_eq(new_files("other.test", "bob", first, sizeof(first)), 2);
	ck_assert_int_eq(new_files("example.com", "bob", NULL, 0), -1);
	ck_assert_msg(strncmp(first, "Return-Path: <>\r\n", 17) == 0, "%s", first);
	close(fd);
}
END_TEST

/* A local failure (the data directory is gone): 451 4.3.0, not 250. */
START_TEST(test_local_error)
{
	add_user(cfg.users_db, "bob", 0);
	int fd = source();
	const char *rcpts[] = { "bob@example.com" };
	struct local_message m = { .fd = fd, .size = sizeof(msg) - 1, .sender = "a@b.test",
		.rcpts = rcpts, .nrcpts = 1, .log_id = "test" };
	char *saved = cfg.main.data_dir;
	cfg.main.data_dir = "/nonexistent/mailetd";
	struct local_result res[1];
	local_deliver(&cfg, &m, res);
	cfg.main.data_dir = saved;
	ck_assert_int_eq(res[0].code, 451);
	ck_assert_str_eq(res[0].ecode, "4.3.0");
	close(fd);
}
END_TEST

struct async_out {
	struct event_base *base;
	int n;
	int codes[4];
};

static void
async_done(void *arg, const struct local_result *res, size_t n)
{
	struct async_out *o = arg;
	o->n = (int)n;
	for (size_t i = 0; i < n && i < 4; i++)
		o->codes[i] = res[i].code;
	event_base_loopbreak(o->base);
}

/* On the worker pool, the results come back on the event_base's thread. */
START_TEST(test_async)
{
	add_user(cfg.users_db, "bob", 0);
	struct async_out o = { .base = event_base_new(), .n = -1 };
	struct worker_pool *pool = worker_pool_new(2);
	const char *rcpts[] = { "nobody@example.com", "bob@example.com" };
	struct local_message m = { .fd = source(), .size = sizeof(msg) - 1, .sender = "a@b.test",
		.rcpts = rcpts, .nrcpts = 2, .log_id = "test" };
	ck_assert_int_eq(local_deliver_async(pool, o.base, &cfg, &m, async_done, &o), 0);
	struct timeval limit = { 20, 0 };
	event_base_loopexit(o.base, &limit);
	event_base_dispatch(o.base);
	ck_assert_int_eq(o.n, 2);
	ck_assert_int_eq(o.codes[0], 550);
	ck_assert_int_eq(o.codes[1], 250);
	worker_pool_free(pool);
	event_base_free(o.base);
}
END_TEST

static Suite *
local_suite(void)
{
	Suite *s = suite_create("local");
	TCase *tc = tcase_create("plain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_per_recipient_results);
	tcase_add_test(tc, test_local_error);
	tcase_add_test(tc, test_async);
	suite_add_tcase(s, tc);
	tc = tcase_create("virtual");
	tcase_add_checked_fixture(tc, setup_v, teardown);
	tcase_add_test(tc, test_virtual_hosting);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	evthread_use_pthreads();
	log_init("test_local", LOG_LVL_ERROR, false);
	SRunner *sr = srunner_create(local_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

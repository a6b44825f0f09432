/* test_users.c - unit tests of the users repository. */
#include "../../src/auth/password.h"
#include "../../src/auth/users.h"
#include "../../src/core/log.h"
#include "../../src/core/worker.h"

#define DATADIR_FIXTURE_NAME "users"
#include "datadir_fixture.h"

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *const domains[] = { "example.com", "mailetd.test" };
static char *const admins[] = { "admin@example.com" };

static struct users *
open_repo(bool vhost)
{
	struct users_opts o = {.virtual_hosting = vhost, .iterations = 1000,
	    .domains = domains, .ndomains = 2, .admins = admins, .nadmins = 1};
	return users_open(datadir, &o);
}

static char *
hash(const char *pw)
{
	return password_hash(pw, strlen(pw), 1000);
}

/* Adds one user in its own transaction. */
static enum users_rc
add(struct users *u, const char *name, const char *pw, enum users_put mode)
{
	struct users_tx *tx = users_tx_begin(u);
	ck_assert_ptr_nonnull(tx);
	char *h = hash(pw);
	enum users_rc rc = users_tx_put(tx, name, h, mode);
	password_free(h);
	if (rc == USERS_OK)
		ck_assert_int_eq(users_tx_commit(tx), 0);
	else
		users_tx_abort(tx);
	return rc;
}

static void
count_cb(void *arg, const struct users_entry *e)
{
	(void)e;
	(*(int *)arg)++;
}

static void
collect_cb(void *arg, const struct users_entry *e)
{
	char *buf = arg;
	strcat(buf, e->name);
	strcat(buf, ",");
}

static void
collect_domain(void *arg, const char *d)
{
	char *buf = arg;
	strcat(buf, d);
	strcat(buf, ",");
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(round_trip)
{
	struct users *u = open_repo(false);
	char list[1024] = "";
	ck_assert_int_eq(users_list(u, collect_cb, list), 0);
	ck_assert_int_eq(add(u, "Bob", "pw1", USERS_PUT_NEW), USERS_OK);
	ck_assert_int_eq(add(u, "alice", "pw2", USERS_PUT_NEW), USERS_OK);
	ck_assert_int_eq(add(u, "bob", "pw3", USERS_PUT_NEW), USERS_EXISTS);
	ck_assert_int_eq(add(u, "carol", "pw3", USERS_PUT_EXISTING), USERS_NOT_FOUND);
	ck_assert_int_eq(users_list(u, collect_cb, list), 2);
	ck_assert_str_eq(list, "alice,bob,");
	ck_assert(users_exists(u, "BOB", 3));
	ck_assert(!users_exists(u, "carol", 5));
	ck_assert_int_eq(users_verify(u, "bob", 3, "pw1", 3), USERS_AUTH_OK);
	ck_assert_int_eq(users_verify(u, "bob", 3, "pw2", 3), USERS_AUTH_FAIL);
	ck_assert_int_eq(users_verify(u, "nobody", 6, "pw1", 3), USERS_AUTH_FAIL);
	/* passwd */
	ck_assert_int_eq(add(u, "bob", "new", USERS_PUT_EXISTING), USERS_OK);
	ck_assert_int_eq(users_verify(u, "bob", 3, "new", 3), USERS_AUTH_OK);
	ck_assert_int_eq(users_verify(u, "bob", 3, "pw1", 3), USERS_AUTH_FAIL);
	/* del */
	struct users_tx *tx = users_tx_begin(u);
	ck_assert_int_eq(users_tx_del(tx, "alice"), USERS_OK);
	ck_assert_int_eq(users_tx_del(tx, "alice"), USERS_NOT_FOUND);
	ck_assert_int_eq(users_tx_put(tx, "dave", "plaintext", USERS_PUT_NEW), USERS_BAD_HASH);
	ck_assert_int_eq(users_tx_commit(tx), 0);
	ck_assert(!users_exists(u, "alice", 5));
	int n = 0;
	ck_assert_int_eq(users_list(u, count_cb, &n), 1);
	/* The file: a header, one escaped line per user, mode 0600, no temp file. */
	char path[512];
	snprintf(path, sizeof(path), "%s/users/users.db", datadir);
	const char *text = slurp(path);
	ck_assert(strncmp(text, "# mailetd users 1\nbob {PBKDF2-SHA512}1000$", 42) == 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/users/users.db.tmp", datadir);
	ck_assert_int_ne(access(path, F_OK), 0);
	users_free(u);
	users_free(NULL);
}
END_TEST

/* An imported crypt hash and a quota field are read back. */
START_TEST(import_and_escapes)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/users", datadir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/users/users.db", datadir);
	FILE *f = fopen(path, "w");
	fputs("# mailetd users 1\n\nbob {SHA512-CRYPT}$6$saltsaltsalt$PMWE8DTlam1JU37Piyk43bHcM"
	           "xTJq6sgu5DKB0/tGPjanN35jcY68QkpDfPFUGPWX5uCxIQkSPzMmqEiVNgts. 1048576\n"
	           "od%25d {JAMES:SHA-512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhzt"
	           "meD2cmW192CF5bDufKRpayrW/isg==\n", f);
	fclose(f);
	struct users *u = open_repo(false);
	ck_assert_int_eq(users_verify(u, "bob", 3, "secret", 6), USERS_AUTH_OK);
	/* A name the checker refuses ('%') cannot be looked up, but survives rewrites. */
	ck_assert(!users_exists(u, "od%d", 4));
	struct users_tx *tx = users_tx_begin(u);
	ck_assert_ptr_nonnull(tx);
	char *h = hash("x");
	ck_assert_int_eq(users_tx_put(tx, "zed", h, USERS_PUT_ANY), USERS_OK);
	password_free(h);
	ck_assert_int_eq(users_tx_commit(tx), 0);
	const char *text = slurp(path);
	ck_assert_ptr_nonnull(strstr(text, "\nod%25d {JAMES:SHA-512}"));
	ck_assert_ptr_nonnull(strstr(text, "iVNgts. 1048576\n"));
	users_free(u);
}
END_TEST

/*
 * A rewrite is a new file renamed over the old one: a reader holding the
 * old file keeps a complete list, and the debris of a crash mid-write
 * (a partial users.db.tmp) changes nothing.
 */
START_TEST(atomic_rewrite)
{
	struct users *u = open_repo(false);
	ck_assert_int_eq(add(u, "bob", "pw", USERS_PUT_NEW), USERS_OK);
	char path[512], tmp[520];
	snprintf(path, sizeof(path), "%s/users/users.db", datadir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int old = open(path, O_RDONLY);
	ck_assert_int_ge(old, 0);
	struct stat before, after;
	ck_assert_int_eq(fstat(old, &before), 0);
	/* A crash while writing left half a file behind. */
	FILE *f = fopen(tmp, "w");
	fputs("# mailetd users 1\nhalf", f);
	fclose(f);
	int n = 0;
	ck_assert_int_eq(users_list(u, count_cb, &n), 1);
	ck_assert_int_eq(add(u, "carol", "pw", USERS_PUT_NEW), USERS_OK);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert(before.st_ino != after.st_ino);
	ck_assert_int_ne(access(tmp, F_OK), 0);
	/* The old file, still open, is whole. */
	char buf[4096];
	ssize_t r = read(old, buf, sizeof(buf) - 1);
	ck_assert_int_gt(r, 0);
	buf[r] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "\nbob {PBKDF2-SHA512}"));
	ck_assert_ptr_null(strstr(buf, "carol"));
	close(old);
	n = 0;
	ck_assert_int_eq(users_list(u, count_cb, &n), 2);
	users_free(u);
}
END_TEST

/* A malformed file: writers refuse it, readers keep the last good contents. */
START_TEST(malformed_file)
{
	struct users *u = open_repo(false);
	ck_assert_int_eq(add(u, "bob", "pw", USERS_PUT_NEW), USERS_OK);
	ck_assert(users_exists(u, "bob", 3));
	char path[512];
	snprintf(path, sizeof(path), "%s/users/users.db", datadir);
	FILE *f = fopen(path, "w");
	fprintf(f, "bob\n");
	fclose(f);
	sleep(1);
	usleep(100000);
	ck_assert(users_exists(u, "bob", 3));
	ck_assert_ptr_null(users_tx_begin(u));
	int n = 0;
	ck_assert_int_eq(users_list(u, count_cb, &n), -1);
	users_free(u);
}
END_TEST

/* Many processes adding users at once: none is lost. */
START_TEST(concurrent_writers)
{
	enum { NPROC = 8, PER = 5 };
	for (int p = 0; p < NPROC; p++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct users *u = open_repo(false);
			for (int i = 0; i < PER; i++) {
				char name[32];
				snprintf(name, sizeof(name), "u%d-%d", p, i);
				struct users_tx *tx = users_tx_begin(u);
				char *h = hash("pw");
				if (tx == NULL || users_tx_put(tx, name, h, USERS_PUT_NEW) != USERS_OK ||
				    users_tx_commit(tx) != 0)
					_exit(1);
				password_free(h);
			}
			users_free(u);
			_exit(0);
		}
	}
	for (int p = 0; p < NPROC; p++) {
		int st;
		ck_assert_int_gt(wait(&st), 0);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	struct users *u = open_repo(false);
	int n = 0;
	ck_assert_int_eq(users_list(u, count_cb, &n), NPROC * PER);
	users_free(u);
}
END_TEST

/* A second handle (the daemon) sees a change within about a second. */
START_TEST(reload_on_change)
{
	struct users *daemon = open_repo(true);
	struct users *ctl = open_repo(true);
	ck_assert(!users_exists(daemon, "bob@example.com", 15));
	ck_assert(!users_domain_is_local(daemon, "new.test", 8));
	struct users_tx *tx = users_tx_begin(ctl);
	ck_assert_int_eq(users_tx_domain_add(tx, "New.Test"), USERS_OK);
	ck_assert_int_eq(users_tx_domain_add(tx, "new.test"), USERS_EXISTS);
	ck_assert_int_eq(users_tx_domain_add(tx, "example.com"), USERS_EXISTS);
	ck_assert_int_eq(users_tx_domain_add(tx, "bad_domain"), USERS_BAD_NAME);
	char *h = hash("pw");
	ck_assert_int_eq(users_tx_put(tx, "bob@example.com", h, USERS_PUT_NEW), USERS_OK);
	/* A domain added in the same transaction is local for its users. */
	ck_assert_int_eq(users_tx_put(tx, "carol@new.test", h, USERS_PUT_NEW), USERS_OK);
	password_free(h);
	ck_assert_int_eq(users_tx_commit(tx), 0);
	usleep(1100000);
	ck_assert(users_exists(daemon, "bob@example.com", 15));
	ck_assert(users_domain_is_local(daemon, "NEW.test", 8));
	ck_assert(users_domain_added(daemon, "new.test", 8));
	ck_assert(!users_domain_added(daemon, "example.com", 11));
	char list[256] = "";
	ck_assert_int_eq(users_domain_list(ctl, collect_domain, list), 1);
	ck_assert_str_eq(list, "new.test,");
	/* A domain with users cannot be removed. */
	tx = users_tx_begin(ctl);
	ck_assert_int_eq(users_tx_domain_del(tx, "new.test"), USERS_IN_USE);
	ck_assert_int_eq(users_tx_del(tx, "carol@new.test"), USERS_OK);
	ck_assert_int_eq(users_tx_domain_del(tx, "new.test"), USERS_OK);
	ck_assert_int_eq(users_tx_domain_del(tx, "new.test"), USERS_NOT_FOUND);
	ck_assert_int_eq(users_tx_commit(tx), 0);
	usleep(1100000);
	ck_assert(!users_domain_is_local(daemon, "new.test", 8));
	users_free(daemon);
	users_free(ctl);
}
END_TEST

START_TEST(virtual_hosting_rules)
{
	struct users *v = open_repo(true);
	struct users *p = open_repo(false);
	char out[USERS_NAME_MAX + 1];
	static const struct {
		const char *name;
		bool vhost;
		enum users_rc rc;
	} t[] = {
		{ "bob@example.com", true, USERS_OK },
		{ "bob", true, USERS_BAD_NAME },
		{ "bob@example.com", false, USERS_BAD_NAME },
		{ "bob", false, USERS_OK },
		{ "bob+tag", false, USERS_BAD_NAME },
		{ "b ob", false, USERS_BAD_NAME },
		{ "", false, USERS_BAD_NAME },
		{ "@example.com", true, USERS_BAD_NAME },
		{ "bob@", true, USERS_BAD_NAME },
		{ "bob@exa_mple.com", true, USERS_BAD_NAME },
		{ "bob@a@example.com", true, USERS_BAD_NAME },
		{ "b\xc3\xa9", false, USERS_BAD_NAME },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(users_name_check(t[i].vhost ? v : p, t[i].name, strlen(t[i].name), out,
		                  sizeof(out)) == t[i].rc,
		    "%s", t[i].name);
	ck_assert_int_eq(users_name_check(v, "Bob@Example.COM", 15, out, sizeof(out)), USERS_OK);
	ck_assert_str_eq(out, "bob@example.com");
	/* The domain must be local when the user is added. */
	ck_assert_int_eq(add(v, "bob@elsewhere.org", "pw", USERS_PUT_NEW), USERS_NOT_LOCAL);
	ck_assert_int_eq(add(v, "bob@example.com", "pw", USERS_PUT_NEW), USERS_OK);
	ck_assert(users_is_admin(v, "Admin@example.com", 17));
	ck_assert(!users_is_admin(v, "bob@example.com", 15));
	users_free(v);
	users_free(p);
}
END_TEST

/* Sub-addressing: bob+tag@d is bob's (james.md 1g.2). */
START_TEST(detail_maps_to_user)
{
	struct users *v = open_repo(true);
	struct users *p = open_repo(false);
	ck_assert_int_eq(add(v, "bob@example.com", "pw", USERS_PUT_NEW), USERS_OK);
	char out[USERS_NAME_MAX + 1];
	ck_assert(users_recipient_user(v, "bob+news", 8, "Example.com", 11, out, sizeof(out)));
	ck_assert_str_eq(out, "bob@example.com");
	ck_assert(users_recipient_user(v, "Bob", 3, "example.com", 11, out, sizeof(out)));
	ck_assert(!users_recipient_user(v, "bob", 3, "mailetd.test", 12, out, sizeof(out)));
	ck_assert(!users_recipient_user(v, "+bob", 4, "example.com", 11, out, sizeof(out)));
	ck_assert(!users_recipient_user(v, "bob", 3, "example.com", 11, out, 4));
	/* Without virtual hosting: the local part, in any local domain. */
	ck_assert_int_eq(add(p, "alice", "pw", USERS_PUT_NEW), USERS_OK);
	ck_assert(users_recipient_user(p, "alice+x+y", 9, "mailetd.test", 12, out, sizeof(out)));
	ck_assert_str_eq(out, "alice");
	ck_assert(!users_recipient_user(p, "alice", 5, "remote.org", 10, out, sizeof(out)));
	users_free(v);
	users_free(p);
}
END_TEST

struct vres {
	struct event_base *base;
	int calls;
	enum users_auth last[4];
	char name[64];
};

static void
verify_cb(void *arg, enum users_auth r, const char *name)
{
	struct vres *v = arg;
	v->last[v->calls++] = r;
	snprintf(v->name, sizeof(v->name), "%s", name);
	if (v->calls == 3)
		event_base_loopbreak(v->base);
}

/* The AUTH path: verification on the pool, result on the base. */
START_TEST(verify_async)
{
	struct users_opts o = {.iterations = 1000, .failure_delay_ms = 200,
	    .domains = domains, .ndomains = 2};
	struct users *u = users_open(datadir, &o);
	ck_assert_int_eq(add(u, "bob", "pw", USERS_PUT_NEW), USERS_OK);
	struct event_base *base = event_base_new();
	struct worker_pool *pool = worker_pool_new(2);
	struct vres v = {.base = base};
	ck_assert_int_eq(users_verify_async(u, pool, base, "BOB", 3, "pw", 2, verify_cb, &v), 0);
	ck_assert_int_eq(users_verify_async(u, pool, base, "bob", 3, "bad", 3, verify_cb, &v), 0);
	ck_assert_int_eq(users_verify_async(u, pool, base, "eve", 3, "pw", 2, verify_cb, &v), 0);
	struct timeval limit = {10, 0};
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	ck_assert_int_eq(v.calls, 3);
	/* The success comes first: failures wait for verifyFailureDelay. */
	ck_assert_int_eq(v.last[0], USERS_AUTH_OK);
	ck_assert_int_eq(v.last[1], USERS_AUTH_FAIL);
	ck_assert_int_eq(v.last[2], USERS_AUTH_FAIL);
	worker_pool_free(pool);
	event_base_free(base);
	users_free(u);
}
END_TEST

int
main(void)
{
	evthread_use_pthreads();
	log_init("test_users", LOG_LVL_WARN, false);
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, import_and_escapes);
	tcase_add_test(tc, atomic_rewrite);
	tcase_add_test(tc, malformed_file);
	tcase_add_test(tc, concurrent_writers);
	tcase_add_test(tc, reload_on_change);
	tcase_add_test(tc, virtual_hosting_rules);
	tcase_add_test(tc, detail_maps_to_user);
	tcase_add_test(tc, verify_async);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* test_greylist.c - the greylisting store and JDBCGreylistHandler's key and configuration. */
#include "../../handlers/chain.h"
#include "../../handlers/fastfail/fastfail.h"
#include "../../handlers/fastfail/greylist_store.h"
#include "../../src/config/cfg_chain.h"
#include "chain_fixture.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mailetd-test-greylist-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/greylist.db", dir);
}

static void
teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Short times: 1 s block, 10 s whitelist, 5 s unseen. */
static const struct greylist_times T = { .temp_block = 1000, .auto_white = 10000, .unseen = 5000 };

START_TEST(triplet_life)
{
	struct greylist_store *st = greylist_store_get(path);
	const char *k = "192.0.2.0/24 a@example.org b@mailetd.test";
	uint64_t t0 = 1700000000000ULL;
	ck_assert_int_eq(greylist_store_check(st, k, t0, &T), GREYLIST_NEW);
	ck_assert_int_eq(greylist_store_check(st, k, t0 + 500, &T), GREYLIST_TOO_SOON);
	ck_assert_int_eq(greylist_store_check(st, k, t0 + 999, &T), GREYLIST_TOO_SOON);
	ck_assert_int_eq(greylist_store_check(st, k, t0 + 1000, &T), GREYLIST_PASS);
	/* Passed once: whitelisted, every sighting refreshes it. */
	ck_assert_int_eq(greylist_store_check(st, k, t0 + 1001, &T), GREYLIST_PASS);
	ck_assert_int_eq(greylist_store_check(st, k, t0 + 9000, &T), GREYLIST_PASS);
	ck_assert_int_eq(greylist_store_check(st, k, t0 + 18000, &T), GREYLIST_PASS);
	/* Unseen longer than autoWhiteListLifeTime: new again. */
	ck_assert_int_eq(greylist_store_check(st, k, t0 + 28001, &T), GREYLIST_NEW);
	/* Another triplet never retried is forgotten after unseenLifeTime. */
	const char *k2 = "192.0.2.0/24 a@example.org c@mailetd.test";
	ck_assert_int_eq(greylist_store_check(st, k2, t0, &T), GREYLIST_NEW);
	ck_assert_int_eq(greylist_store_check(st, k2, t0 + 5001, &T), GREYLIST_NEW);
	ck_assert_int_eq(greylist_store_check(st, k2, t0 + 5500, &T), GREYLIST_TOO_SOON);
	ck_assert_uint_eq(greylist_store_count(st), 2);
	greylist_store_put(st);
}
END_TEST

START_TEST(persists_and_skips_torn_lines)
{
	struct greylist_store *st = greylist_store_get(path);
	uint64_t t0 = 1700000000000ULL;
	ck_assert_int_eq(greylist_store_check(st, "k1", t0, &T), GREYLIST_NEW);
	ck_assert_int_eq(greylist_store_check(st, "k1", t0 + 2000, &T), GREYLIST_PASS);
	ck_assert_int_eq(greylist_store_check(st, "k2", t0, &T), GREYLIST_NEW);
	greylist_store_put(st);
	/* A crash in the middle of a record, and some noise. */
	FILE *f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("garbage line\nG1 12 34\nG1 1 2 3 k9", f);
	fclose(f);
	st = greylist_store_get(path);
	ck_assert_int_eq(greylist_store_check(st, "k1", t0 + 2100, &T), GREYLIST_PASS);
	ck_assert_int_eq(greylist_store_check(st, "k2", t0 + 500, &T), GREYLIST_TOO_SOON);
	ck_assert_int_eq(greylist_store_check(st, "k2", t0 + 1500, &T), GREYLIST_PASS);
	ck_assert_uint_eq(greylist_store_count(st), 2); /* k9 was torn */
	greylist_store_put(st);
}
END_TEST

START_TEST(shared_by_path)
{
	struct greylist_store *a = greylist_store_get(path), *b = greylist_store_get(path);
	ck_assert_ptr_eq(a, b);
	ck_assert_int_eq(greylist_store_check(a, "k", 1000, &T), GREYLIST_NEW);
	ck_assert_int_eq(greylist_store_check(b, "k", 1500, &T), GREYLIST_TOO_SOON);
	greylist_store_put(a);
	ck_assert_int_eq(greylist_store_check(b, "k", 2500, &T), GREYLIST_PASS);
	greylist_store_put(b);
}
END_TEST

START_TEST(compaction_drops_expired)
{
	struct greylist_store *st = greylist_store_get(path);
	uint64_t t0 = 1700000000000ULL;
	char k[32];
	/* 3000 triplets never retried, then one much later: the log is
	 * compacted and only the live entry is left. */
	for (int i = 0; i < 3000; i++) {
		snprintf(k, sizeof(k), "old%d", i);
		ck_assert_int_eq(greylist_store_check(st, k, t0, &T), GREYLIST_NEW);
	}
	ck_assert_int_eq(greylist_store_check(st, "live", t0 + 60000, &T), GREYLIST_NEW);
	ck_assert_uint_eq(greylist_store_count(st), 1);
	greylist_store_put(st);
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_lt(sb.st_size, 200);
	st = greylist_store_get(path);
	ck_assert_int_eq(greylist_store_check(st, "live", t0 + 60500, &T), GREYLIST_TOO_SOON);
	ck_assert_int_eq(greylist_store_check(st, "old1", t0 + 60500, &T), GREYLIST_NEW);
	greylist_store_put(st);
}
END_TEST

START_TEST(unwritable_directory_is_an_error)
{
	struct greylist_store *st = greylist_store_get("/nonexistent-dir/greylist.db");
	ck_assert_int_eq(greylist_store_check(st, "k", 1, &T), GREYLIST_ERROR);
	greylist_store_put(st);
}
END_TEST

struct racer {
	struct greylist_store *st;
	int id;
	int news;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	char k[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(k, sizeof(k), "shared%d", i % 100);
		if (greylist_store_check(r->st, k, 1000 + (uint64_t)i, &T) == GREYLIST_NEW)
			r->news++;
	}
	return NULL;
}

START_TEST(concurrent_sessions)
{
	struct greylist_store *st = greylist_store_get(path);
	pthread_t t[4];
	struct racer r[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ .st = st, .id = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	int news = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		news += r[i].news;
	}
	/* Each of the 100 keys was new exactly once, whatever the interleaving. */
	ck_assert_int_eq(news, 100);
	ck_assert_uint_eq(greylist_store_count(st), 100);
	greylist_store_put(st);
}
END_TEST

START_TEST(keys)
{
	struct netaddr a;
	char k[GREYLIST_KEY_MAX + 1];
	ck_assert_int_eq(netaddr_parse("192.0.2.77", &a), 0);
	greylist_key(&a, "Alice@Example.ORG", "bob@mailetd.test", k, sizeof(k));
	ck_assert_str_eq(k, "192.0.2.0/24 alice@example.org bob@mailetd.test");
	ck_assert_int_eq(netaddr_parse("2001:db8:1:2:3:4:5:6", &a), 0);
	greylist_key(&a, "", "bob@mailetd.test", k, sizeof(k));
	ck_assert_str_eq(k, "2001:db8:1:2::/64  bob@mailetd.test");
}
END_TEST

static size_t
config_errors(const char *xml)
{
	char file[32];
	struct cfg_diag d;
	struct chain *c = fixture_chain_read(xml, &d, file);
	size_t errors = d.errors;
	if (errors == 0)
		ck_assert_str_eq(c->v[0].def->name, "JDBCGreylistHandler");
	cfg_diag_clear(&d);
	chain_free(c);
	return errors;
}

START_TEST(configuration)
{
	/* James's sample (spring-app/smtpserver.xml), unchanged. */
	ck_assert_uint_eq(config_errors("<handlerchain><handler "
	                                "class=\"org.apache.james.smtpserver.fastfail.JDBCGreylistHandler\">"
	                                "<repositoryPath>db://maildb</repositoryPath>"
	                                "<sqlFile>file://conf/sqlResources.xml</sqlFile>"
	                                "<tempBlockTime>1 hour</tempBlockTime>"
	                                "<unseenLifeTime>4 hours</unseenLifeTime>"
	                                "<autoWhiteListLifeTime>36 days</autoWhiteListLifeTime>"
	                                "<whitelistedNetworks>127.0.0.0/8</whitelistedNetworks>"
	                                "</handler></handlerchain>"),
	    0);
	ck_assert_uint_eq(config_errors("<handlerchain><handler class=\"GreylistHandler\"/>"
	                                "</handlerchain>"),
	    0);
	ck_assert_uint_gt(config_errors("<handlerchain><handler class=\"GreylistHandler\">"
	                                "<tempBlockTime>a while</tempBlockTime></handler>"
	                                "</handlerchain>"),
	    0);
	ck_assert_uint_gt(config_errors("<handlerchain><handler class=\"GreylistHandler\">"
	                                "<whitelistedNetworks>10.0.0.0/33</whitelistedNetworks>"
	                                "</handler></handlerchain>"),
	    0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("greylist");
	TCase *tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, triplet_life);
	tcase_add_test(tc, persists_and_skips_torn_lines);
	tcase_add_test(tc, shared_by_path);
	tcase_add_test(tc, compaction_drops_expired);
	tcase_add_test(tc, unwritable_directory_is_an_error);
	tcase_add_test(tc, concurrent_sessions);
	tcase_add_test(tc, keys);
	tcase_add_test(tc, configuration);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

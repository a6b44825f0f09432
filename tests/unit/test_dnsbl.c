/* test_dnsbl.c - unit tests of the DNSBL helpers (src/dns/dnsbl.c). */
#include "../../src/dns/dnsbl.h"

#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *addr, *zone, *want; /* want NULL: -1 */
} qnames[] = {
	{ "192.0.2.99", "bl.example.org", "99.2.0.192.bl.example.org" },
	{ "192.0.2.99", "bl.example.org.", "99.2.0.192.bl.example.org" },
	{ "127.0.0.2", "zen.spamhaus.org", "2.0.0.127.zen.spamhaus.org" },
	/* RFC 5782 2.4's example. */
	{ "2001:db8:1:2:3:4:567:89ab", "ugly.example.com",
	    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com" },
	/* A mapped IPv4 client is looked up as IPv4. */
	{ "::ffff:192.0.2.1", "bl.test", "1.2.0.192.bl.test" },
	{ "192.0.2.1", "", NULL },
	{ "192.0.2.1", ".", NULL },
	{ "192.0.2.1", "bl..test", NULL },
	{ "192.0.2.1", "bl test", NULL },
	{ "192.0.2.1", "bl\\.test", NULL },
};

START_TEST(test_query_name)
{
	char buf[DNS_NAME_MAX + 1];
	struct netaddr a;
	ck_assert_int_eq(netaddr_parse(qnames[_i].addr, &a), 0);
	int n = dnsbl_query_name(&a, qnames[_i].zone, buf, sizeof(buf));
	if (qnames[_i].want == NULL) {
		ck_assert_int_eq(n, -1);
		return;
	}
	ck_assert_str_eq(buf, qnames[_i].want);
	ck_assert_int_eq(n, (int)strlen(qnames[_i].want));
}
END_TEST

START_TEST(test_query_name_too_long)
{
	char buf[DNS_NAME_MAX + 1], zone[260];
	struct netaddr a;
	ck_assert_int_eq(netaddr_parse("2001:db8::1", &a), 0);
	/* 64 octets of nibbles + 190 of zone is over 253. */
	memset(zone, 0, sizeof(zone));
	for (size_t i = 0; i < 190; i++)
		zone[i] = i % 40 == 39 ? '.' : 'z';
	ck_assert_int_eq(dnsbl_query_name(&a, zone, buf, sizeof(buf)), -1);
	zone[180] = '\0';
	ck_assert_int_gt(dnsbl_query_name(&a, zone, buf, sizeof(buf)), 0);
	ck_assert_int_eq(dnsbl_query_name(&a, zone, buf, 100), -1);
}
END_TEST

/* A result with the given A records. */
static struct dns_result
a_result(enum dns_status st, const char *const *addrs, size_t n, struct dns_rr *rr)
{
	struct dns_result r = { .status = st, .type = DNS_A, .name = "x", .rr = rr, .n = n };
	for (size_t i = 0; i < n; i++) {
		memset(&rr[i], 0, sizeof(rr[i]));
		ck_assert_int_eq(netaddr_parse(addrs[i], &rr[i].addr), 0);
	}
	return r;
}

static const struct {
	enum dns_status status;
	const char *addrs[4];
	size_t n;
	enum dnsbl_verdict verdict;
	const char *codes; /* the codes as "2,4" */
} answers[] = {
	{ DNS_FOUND, { "127.0.0.2" }, 1, DNSBL_LISTED, "2" },
	{ DNS_FOUND, { "127.0.0.4", "127.0.0.2", "127.0.0.4" }, 3, DNSBL_LISTED, "2,4" },
	{ DNS_FOUND, { "127.0.0.10", "127.255.255.254" }, 2, DNSBL_LISTED, "10" },
	{ DNS_FOUND, { "127.255.255.254" }, 1, DNSBL_ERROR, "" },
	{ DNS_FOUND, { "127.0.0.1" }, 1, DNSBL_ERROR, "" },
	{ DNS_FOUND, { "192.0.2.1" }, 1, DNSBL_ERROR, "" },
	{ DNS_FOUND, { "::1" }, 1, DNSBL_ERROR, "" },
	{ DNS_NXDOMAIN, { NULL }, 0, DNSBL_NOT_LISTED, "" },
	{ DNS_NODATA, { NULL }, 0, DNSBL_NOT_LISTED, "" },
	{ DNS_INVALID, { NULL }, 0, DNSBL_NOT_LISTED, "" },
	{ DNS_TEMPFAIL, { NULL }, 0, DNSBL_TEMPFAIL, "" },
};

START_TEST(test_interpret)
{
	struct dns_rr rr[4];
	struct dns_result r = a_result(answers[_i].status, answers[_i].addrs, answers[_i].n, rr);
	struct dnsbl_answer ans;
	dnsbl_interpret(&r, &ans);
	ck_assert_int_eq(ans.verdict, answers[_i].verdict);
	char codes[64] = "";
	for (size_t i = 0; i < ans.ncodes; i++)
		snprintf(codes + strlen(codes), sizeof(codes) - strlen(codes), "%s%u",
		    i > 0 ? "," : "", ans.codes[i]);
	ck_assert_str_eq(codes, answers[_i].codes);
	if (ans.ncodes > 0)
		ck_assert(dnsbl_has_code(&ans, ans.codes[0]));
	ck_assert(!dnsbl_has_code(&ans, 99));
}
END_TEST

START_TEST(test_interpret_many_codes)
{
	static const char *const addrs[] = { "127.0.0.9", "127.0.0.8", "127.0.0.7", "127.0.0.6",
		"127.0.0.5", "127.0.0.4", "127.0.0.3", "127.0.0.2", "127.0.0.11", "127.0.0.12" };
	struct dns_rr rr[NELEM(addrs)];
	struct dns_result r = a_result(DNS_FOUND, addrs, NELEM(addrs), rr);
	struct dnsbl_answer ans;
	dnsbl_interpret(&r, &ans);
	ck_assert_int_eq(ans.verdict, DNSBL_LISTED);
	ck_assert_uint_eq(ans.ncodes, DNSBL_MAX_CODES);
	for (size_t i = 1; i < ans.ncodes; i++)
		ck_assert_uint_lt(ans.codes[i - 1], ans.codes[i]);
}
END_TEST

START_TEST(test_detail)
{
	char buf[32];
	static char text[] = "Listed: see https://x/?ip=1\r\n\x01\xff tail that is long";
	struct dns_rr rr = { .text = text, .len = sizeof(text) - 1 };
	struct dns_result r = { .status = DNS_FOUND, .type = DNS_TXT, .rr = &rr, .n = 1 };
	size_t n = dnsbl_detail(&r, buf, sizeof(buf));
	ck_assert_uint_eq(n, sizeof(buf) - 1);
	ck_assert_str_eq(buf, "Listed: see https://x/?ip=1????");
	/* NUL inside a TXT record does not cut the text short. */
	static char nul[] = { 'a', '\0', 'b' };
	rr = (struct dns_rr){ .text = nul, .len = 3 };
	ck_assert_uint_eq(dnsbl_detail(&r, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "a?b");
	r.status = DNS_NXDOMAIN;
	r.n = 0;
	ck_assert_uint_eq(dnsbl_detail(&r, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	r.status = DNS_TEMPFAIL;
	ck_assert_uint_eq(dnsbl_detail(&r, buf, sizeof(buf)), 0);
}
END_TEST

static Suite *
dnsbl_suite(void)
{
	Suite *s = suite_create("dnsbl");
	TCase *tc = tcase_create("dnsbl");
	tcase_add_loop_test(tc, test_query_name, 0, NELEM(qnames));
	tcase_add_test(tc, test_query_name_too_long);
	tcase_add_loop_test(tc, test_interpret, 0, NELEM(answers));
	tcase_add_test(tc, test_interpret_many_codes);
	tcase_add_test(tc, test_detail);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dnsbl_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

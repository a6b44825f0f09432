/* test_dname.c - unit tests of src/core/dname.c. */
#include "../../src/core/dname.h"

#include <check.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const good[] = { "localhost", "example.com", "a-b.example",
	"xn--bcher-kva.example", "1.2.3.4", "a.b.c.d.e.f", "x", "EXAMPLE.Com", "0-0.a" };
static const char *const bad[] = { "", ".", "a..b", "-a.com", "a-.com", "a_b.com", "a.com.",
	".a.com", "a b", "[1.2.3.4]", "user@example.com", "a.-b", "a.b-", "*.example" };

START_TEST(test_good)
{
	ck_assert_msg(dname_ok(good[_i], strlen(good[_i])), "%s", good[_i]);
}
END_TEST

START_TEST(test_bad)
{
	ck_assert_msg(!dname_ok(bad[_i], strlen(bad[_i])), "%s", bad[_i]);
}
END_TEST

/* Lengths count, not a terminating NUL: a NUL inside is refused, and only
 * len octets are looked at. */
START_TEST(test_len)
{
	ck_assert(!dname_ok("a\0b", 3));
	ck_assert(dname_ok("example.com-", 11));
	ck_assert(!dname_ok("example.com-", 12));
}
END_TEST

START_TEST(test_limits)
{
	char s[300];
	memset(s, 'a', 64);
	ck_assert(!dname_ok(s, 64));
	ck_assert(dname_ok(s, 63));
	/* 253 octets: labels of 63 + '.' three times and 61 more. */
	memset(s, 'a', sizeof(s));
	for (size_t i = 63; i < sizeof(s); i += 64)
		s[i] = '.';
	ck_assert(dname_ok(s, 253));
	ck_assert(!dname_ok(s, 254));
}
END_TEST

static Suite *
dname_suite(void)
{
	Suite *s = suite_create("dname");
	TCase *tc = tcase_create("syntax");
	tcase_add_loop_test(tc, test_good, 0, NELEM(good));
	tcase_add_loop_test(tc, test_bad, 0, NELEM(bad));
	tcase_add_test(tc, test_len);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dname_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

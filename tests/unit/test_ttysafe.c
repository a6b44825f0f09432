/* test_ttysafe.c - unit tests of src/core/ttysafe.c. */
#include "../../src/core/ttysafe.h"

#include <check.h>
#include <string.h>

START_TEST(test_controls)
{
	char out[32];
	ck_assert_str_eq(ttysafe(out, sizeof(out), "a\tb\x1b[2Jc\x7f\n"), "a?b?[2Jc??");
	ck_assert_str_eq(out, "a?b?[2Jc??");
	/* Octets above 0x7f (UTF-8) are kept. */
	ck_assert_str_eq(ttysafe(out, sizeof(out), "j\xc3\xb6rg@example.com"),
	    "j\xc3\xb6rg@example.com");
}
END_TEST

START_TEST(test_truncates)
{
	char out[4];
	memset(out, 'x', sizeof(out));
	ck_assert_str_eq(ttysafe(out, sizeof(out), "abcdef"), "abc");
	ck_assert_str_eq(ttysafe(out, 1, "abcdef"), "");
	ck_assert_str_eq(ttysafe(out, sizeof(out), ""), "");
}
END_TEST

static Suite *
ttysafe_suite(void)
{
	Suite *s = suite_create("ttysafe");
	TCase *tc = tcase_create("copy");
	tcase_add_test(tc, test_controls);
	tcase_add_test(tc, test_truncates);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ttysafe_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

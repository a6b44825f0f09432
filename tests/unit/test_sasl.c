/* test_sasl.c - unit tests of SMTP AUTH decoding (sasl.c), table-driven. */
#include "../../src/protocol/sasl.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *in;
	long want;       /* decoded length, -1 = refused */
	const char *out; /* decoded bytes (want of them) */
} b64_cases[] = {
    {"", 0, ""},
    {"Zg==", 1, "f"},
    {"Zm8=", 2, "fo"},
    {"Zm9v", 3, "foo"},
    {"AGJvYgBwdw==", 7, "\0bob\0pw"},
    {"Zg=", -1, NULL},      /* length not a multiple of 4 */
    {"Zh==", -1, NULL},     /* bits under the padding */
    {"Zm9v\r\n", -1, NULL}, /* white space */
    {"Z===", -1, NULL},
    {"Zg==Zg==", -1, NULL}, /* padding inside */
    {"*", -1, NULL},
    {"!!!!", -1, NULL},
};

START_TEST(b64_table)
{
	for (size_t i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
		unsigned char out[64];
		const char *in = b64_cases[i].in;
		long n = sasl_b64_decode(in, strlen(in), out);
		ck_assert_msg(n == b64_cases[i].want, "case %zu (%s): got %ld", i, in, n);
		if (n > 0)
			ck_assert(memcmp(out, b64_cases[i].out, (size_t)n) == 0);
	}
}
END_TEST

static const struct {
	const char *msg;
	size_t len;
	int rc;
	const char *authzid, *authcid, *passwd;
} plain_cases[] = {
    {"\0bob\0pw", 7, 0, "", "bob", "pw"},
    {"alice\0bob\0pw", 12, 0, "alice", "bob", "pw"},
    {"bob\0pw", 6, 0, "", "bob", "pw"},      /* authcid NUL passwd */
    {"\0bob\0pw\0", 8, 0, "", "bob", "pw"},  /* trailing NUL tolerated */
    {"\0bob\0", 5, 0, "", "bob", ""},        /* empty password */
    {"bobpw", 5, -1, NULL, NULL, NULL},      /* no NUL */
    {"\0\0pw", 4, -1, NULL, NULL, NULL},     /* empty authcid */
    {"a\0b\0c\0d", 7, -1, NULL, NULL, NULL}, /* too many NULs */
    {"", 0, -1, NULL, NULL, NULL},
};

START_TEST(plain_table)
{
	for (size_t i = 0; i < sizeof(plain_cases) / sizeof(plain_cases[0]); i++) {
		struct sasl_plain p;
		int rc = sasl_plain_split(
		    (const unsigned char *)plain_cases[i].msg, plain_cases[i].len, &p);
		ck_assert_msg(rc == plain_cases[i].rc, "case %zu: rc %d", i, rc);
		if (rc != 0)
			continue;
		ck_assert_uint_eq(p.authzid_len, strlen(plain_cases[i].authzid));
		ck_assert(memcmp(p.authzid, plain_cases[i].authzid, p.authzid_len) == 0);
		ck_assert_uint_eq(p.authcid_len, strlen(plain_cases[i].authcid));
		ck_assert(memcmp(p.authcid, plain_cases[i].authcid, p.authcid_len) == 0);
		ck_assert_uint_eq(p.passwd_len, strlen(plain_cases[i].passwd));
		ck_assert(memcmp(p.passwd, plain_cases[i].passwd, p.passwd_len) == 0);
	}
}
END_TEST

START_TEST(mechanism_names)
{
	ck_assert_int_eq(sasl_mech_parse("plain", 5), SASL_PLAIN);
	ck_assert_int_eq(sasl_mech_parse("LOGIN", 5), SASL_LOGIN);
	ck_assert_int_eq(sasl_mech_parse("PLAINX", 6), SASL_NONE);
	ck_assert_int_eq(sasl_mech_parse("CRAM-MD5", 8), SASL_NONE);
	ck_assert_str_eq(sasl_mech_name(SASL_PLAIN), "PLAIN");
	ck_assert_str_eq(sasl_mech_name(SASL_LOGIN), "LOGIN");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, b64_table);
	tcase_add_test(tc, plain_table);
	tcase_add_test(tc, mechanism_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

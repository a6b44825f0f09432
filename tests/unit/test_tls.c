/* test_tls.c - unit tests for src/net/tls.c: paths, protocols, cipher names. */
#include "../../src/config/cfg_diag.h"
#include "../../src/config/config.h"
#include "../../src/net/tls.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* James FileSystem URLs (james.md section 0). */
static const struct {
	const char *url;
	const char *want; /* NULL: an error */
} paths[] = {
	{ "file://conf/certs.pem", "/etc/mailetd/certs.pem" },
	{ "file://conf/tls/key.pem", "/etc/mailetd/tls/key.pem" },
	{ "file://var/keys/k.pem", "/var/lib/mailetd/keys/k.pem" },
	{ "file:///etc/ssl/private/mail.key", "/etc/ssl/private/mail.key" },
	{ "file://other/x.pem", "/etc/mailetd/../other/x.pem" },
	{ "certs.pem", "/etc/mailetd/certs.pem" },
	{ "sub/certs.pem", "/etc/mailetd/sub/certs.pem" },
	{ "/abs/certs.pem", "/abs/certs.pem" },
	{ "classpath:keystore", "/etc/mailetd/keystore" },
	{ "classpath://keystore", "/etc/mailetd/keystore" },
	{ "classpath:", NULL },
	{ "http://example.com/k.pem", NULL },
	{ "file://conf/", NULL },
	{ "file://var/", NULL },
	{ "file:///", NULL },
	{ "", NULL },
};

START_TEST(test_paths)
{
	char *out = NULL, err[160] = "";
	int rc = tls_resolve_path(paths[_i].url, "/etc/mailetd", "/var/lib/mailetd", &out, err,
	    sizeof(err));
	if (paths[_i].want == NULL) {
		ck_assert_msg(rc == -1, "%s accepted as %s", paths[_i].url, out ? out : "");
		ck_assert_ptr_null(out);
		ck_assert_msg(err[0] != '\0', "no reason for %s", paths[_i].url);
	} else {
		ck_assert_msg(rc == 0, "%s: %s", paths[_i].url, err);
		ck_assert_str_eq(out, paths[_i].want);
	}
	free(out);
}
END_TEST

static const struct {
	const char *name;
	unsigned bit;
} protocols[] = {
	{ "TLSv1", TLS_P_10 },
	{ "TLSv1.0", TLS_P_10 },
	{ "TLSv1.1", TLS_P_11 },
	{ "TLSv1.2", TLS_P_12 },
	{ "TLSv1.3", TLS_P_13 },
	{ "SSLv3", 0 },
	{ "SSLv2Hello", 0 },
	{ "tlsv1.2", 0 }, /* JSSE names are case-sensitive */
	{ "TLSv1.4", 0 },
	{ "", 0 },
};

START_TEST(test_protocol_names)
{
	ck_assert_uint_eq(tls_protocol_bit(protocols[_i].name), protocols[_i].bit);
}
END_TEST

static const struct {
	unsigned mask;
	int min, max;
	unsigned long no;
} ranges[] = {
	{ 0, TLS1_2_VERSION, TLS1_3_VERSION, 0 },
	{ TLS_P_12, TLS1_2_VERSION, TLS1_2_VERSION, 0 },
	{ TLS_P_13, TLS1_3_VERSION, TLS1_3_VERSION, 0 },
	{ TLS_P_12 | TLS_P_13, TLS1_2_VERSION, TLS1_3_VERSION, 0 },
	{ TLS_P_10 | TLS_P_11 | TLS_P_12 | TLS_P_13, TLS1_VERSION, TLS1_3_VERSION, 0 },
	{ TLS_P_11 | TLS_P_13, TLS1_1_VERSION, TLS1_3_VERSION, SSL_OP_NO_TLSv1_2 },
	{ TLS_P_10 | TLS_P_13, TLS1_VERSION, TLS1_3_VERSION, SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2 },
};

START_TEST(test_protocol_ranges)
{
	int min, max;
	unsigned long no;
	tls_protocol_range(ranges[_i].mask, &min, &max, &no);
	ck_assert_int_eq(min, ranges[_i].min);
	ck_assert_int_eq(max, ranges[_i].max);
	ck_assert_uint_eq(no, ranges[_i].no);
}
END_TEST

static const struct {
	const char *jsse;
	enum tls_cipher_kind kind;
	const char *openssl;
} ciphers[] = {
	{ "TLS_AES_128_GCM_SHA256", TLS_CIPHER_13, "TLS_AES_128_GCM_SHA256" },
	{ "TLS_AES_256_GCM_SHA384", TLS_CIPHER_13, "TLS_AES_256_GCM_SHA384" },
	{ "TLS_CHACHA20_POLY1305_SHA256", TLS_CIPHER_13, "TLS_CHACHA20_POLY1305_SHA256" },
	{ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", TLS_CIPHER_12, "ECDHE-RSA-AES128-GCM-SHA256" },
	{ "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", TLS_CIPHER_12, "ECDHE-RSA-AES256-GCM-SHA384" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", TLS_CIPHER_12,
	    "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", TLS_CIPHER_12,
	    "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", TLS_CIPHER_12,
	    "ECDHE-RSA-CHACHA20-POLY1305" },
	{ "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", TLS_CIPHER_12,
	    "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", TLS_CIPHER_12, "DHE-RSA-AES256-GCM-SHA384" },
	{ "TLS_RSA_WITH_AES_128_CBC_SHA", TLS_CIPHER_12, "AES128-SHA" },
	{ "SSL_RSA_WITH_AES_128_CBC_SHA", TLS_CIPHER_12, "AES128-SHA" },
	{ "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", TLS_CIPHER_SIGNAL, NULL },
	{ "TLS_NO_SUCH_SUITE", TLS_CIPHER_UNKNOWN, NULL },
	{ "ECDHE-RSA-AES128-GCM-SHA256", TLS_CIPHER_UNKNOWN, NULL }, /* OpenSSL's, not JSSE's */
	{ "", TLS_CIPHER_UNKNOWN, NULL },
};

START_TEST(test_cipher_names)
{
	const char *name = "unset";
	enum tls_cipher_kind k = tls_cipher_map(ciphers[_i].jsse, &name);
	ck_assert_msg(k == ciphers[_i].kind, "%s: kind %d", ciphers[_i].jsse, (int)k);
	if (ciphers[_i].openssl != NULL)
		ck_assert_str_eq(name, ciphers[_i].openssl);
	else
		ck_assert_ptr_null(name);
}
END_TEST

/* tls_new reports what is missing with the file and line of the element. */
START_TEST(test_new_errors)
{
	struct cfg_tls t;
	struct cfg_diag d;
	memset(&t, 0, sizeof(t));
	cfg_diag_init(&d);
	t.start_tls = true;
	t.keys.line = 7;
	t.cache_size = t.cache_timeout = -1;
	ck_assert_ptr_null(tls_new(&t, "smtpserver.xml", "/nonexistent", "/nonexistent", &d));
	ck_assert_uint_eq(d.errors, 1);
	ck_assert_msg(strstr(d.v[0].text, "smtpserver.xml:7: <tls>: key material missing") != NULL,
	    "%s", d.v[0].text);
	cfg_diag_clear(&d);

	cfg_diag_init(&d);
	t.keys.private_key = (struct cfg_text){ "file://conf/k.pem", 8 };
	t.keys.certificates = (struct cfg_text){ "file://conf/c.pem", 9 };
	ck_assert_ptr_null(tls_new(&t, "smtpserver.xml", "/nonexistent", "/nonexistent", &d));
	ck_assert_uint_eq(d.errors, 1);
	ck_assert_msg(strstr(d.v[0].text,
			  "smtpserver.xml:9: <certificates>: cannot read /nonexistent/c.pem") != NULL,
	    "%s", d.v[0].text);
	cfg_diag_clear(&d);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");
	tcase_add_loop_test(tc, test_paths, 0, sizeof(paths) / sizeof(paths[0]));
	tcase_add_loop_test(tc, test_protocol_names, 0, sizeof(protocols) / sizeof(protocols[0]));
	tcase_add_loop_test(tc, test_protocol_ranges, 0, sizeof(ranges) / sizeof(ranges[0]));
	tcase_add_loop_test(tc, test_cipher_names, 0, sizeof(ciphers) / sizeof(ciphers[0]));
	tcase_add_test(tc, test_new_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(tls_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

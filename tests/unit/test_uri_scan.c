/* test_uri_scan.c - unit tests of URIRBLHandler's URL host extractor
 * (handlers/fastfail/uri_scan.c). */
#include "../../handlers/fastfail/uri_scan.h"

#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct uri_hosts h;

/* The hosts found, space-separated. */
static const char *
found(void)
{
	static char out[4096];
	out[0] = '\0';
	for (size_t i = 0; i < h.n; i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, h.name[i]);
	}
	return out;
}

static const struct {
	const char *text, *want;
} texts[] = {
    {"see http://www.Example.COM/path?q=1", "www.example.com"},
    {"https://a.example.org:8443/x and HTTP://b.example.net.", "a.example.org b.example.net"},
    {"<a href=\"http://c.example/\">x</a> <a href='https://d.example'>", "c.example d.example"},
    {"(http://e.example) http://e.example/again", "e.example"},
    /* userinfo: the host is after the last @ */
    {"http://paypal.com@evil.example/login http://u:p@f.example/", "evil.example f.example"},
    {"http://192.0.2.1/x http://256.1.1.1/ http://1.2.3/", "192.0.2.1"},
    /* not hosts: one label, no letter in the TLD, bad labels, IPv6,
     * percent-encoding, IDN bytes, an embedded scheme */
    {"http://localhost/ http://1.2.3.4.5/ http://-a.example/ http://a-.example/", ""},
    {"http://[2001:db8::1]/ http://x%41.example/ http://b\xc3\xa9.example/", ""},
    {"xhttp://g.example/ http:/h.example http//i.example", ""},
    {"http://a..example/ http://.example/ http:// http://", ""},
    {"http://j.example:80x/ http://k.example:25/", "k.example"},
    {"end http://l.example", "l.example"},
    /* schemeless www. names, as James */
    {"visit www.Shop.example/now or WWW2.two.example, (www.p.example)",
        "www.shop.example www2.two.example www.p.example"},
    {"a.www.x.example awww.y.example =www.z.example www. www5555.q.example www", ""},
    {"http://www.once.example/ www.once.example", "www.once.example"},
};

START_TEST(test_text)
{
	memset(&h, 0, sizeof(h));
	uri_scan_text(texts[_i].text, strlen(texts[_i].text), &h);
	ck_assert_str_eq(found(), texts[_i].want);
}
END_TEST

START_TEST(test_text_bounds)
{
	/* a label of 64 octets, a name of 254 */
	char buf[600];
	memset(&h, 0, sizeof(h));
	snprintf(buf, sizeof(buf), "http://%0*d.example/", 64, 0);
	uri_scan_text(buf, strlen(buf), &h);
	ck_assert_uint_eq(h.n, 0);
	char name[300] = "";
	while (strlen(name) < 255)
		strcat(name, "abcdefghi.");
	strcat(name, "com"); /* 263 octets */
	snprintf(buf, sizeof(buf), "http://%s/", name);
	uri_scan_text(buf, strlen(buf), &h);
	ck_assert_uint_eq(h.n, 0);
	/* exactly 253 is fine */
	name[250] = '\0';
	strcat(name, "com");
	ck_assert_uint_eq(strlen(name), 253);
	snprintf(buf, sizeof(buf), "http://%s/", name);
	uri_scan_text(buf, strlen(buf), &h);
	ck_assert_uint_eq(h.n, 1);
	/* many distinct hosts: URI_SCAN_HOSTS_MAX kept, truncated said */
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < URI_SCAN_HOSTS_MAX + 5; i++) {
		snprintf(buf, sizeof(buf), "http://h%d.example/ http://h%d.example/", i, i);
		uri_scan_text(buf, strlen(buf), &h);
	}
	ck_assert_uint_eq(h.n, URI_SCAN_HOSTS_MAX);
	ck_assert(h.truncated);
	/* the text's length is respected: no NUL needed, nothing read past it */
	const char *t = "http://m.example/";
	memset(&h, 0, sizeof(h));
	uri_scan_text(t, 10, &h); /* "http://m.e" */
	ck_assert_str_eq(found(), "m.e");
	memset(&h, 0, sizeof(h));
	uri_scan_text(t, 6, &h);
	ck_assert_uint_eq(h.n, 0);
}
END_TEST

static const struct {
	const char *msg, *want;
} messages[] = {
    /* no Content-Type: text/plain; header fields are not scanned */
    {"Received: from http://hdr.example/\r\nSubject: http://subj.example\r\n\r\n"
     "body http://body.example/\r\n",
        "body.example"},
    /* LF line ends */
    {"Subject: x\n\nhttp://lf.example/\n", "lf.example"},
    /* not text: skipped */
    {"Content-Type: application/octet-stream\r\n\r\nhttp://bin.example/\r\n", ""},
    {"Content-Type: text/calendar\r\n\r\nhttp://cal.example/\r\n", ""},
    /* quoted-printable: soft line breaks joined, =XX decoded */
    {"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: Quoted-Printable\r\n"
     "\r\nhttp://so=\r\nft.example/ http://hex=2Eexample/ http://pad.exa=  \r\nmple/\r\n",
        "soft.example hex.example pad.example"},
    /* base64 text/html */
    {"Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     "PGEgaHJlZj0iaHR0cDovL2I2\r\nNC5leGFtcGxlLyI+eDwvYT4=\r\n",
        "b64.example"},
    /* multipart: preamble and epilogue and non-text parts skipped, nested parts scanned */
    {"Content-Type: multipart/mixed;\r\n boundary=\"outer b\"\r\n\r\n"
     "preamble http://pre.example/\r\n"
     "--outer b\r\n"
     "Content-Type: multipart/alternative; boundary=inner\r\n\r\n"
     "--inner\r\nContent-Type: text/plain\r\n\r\nhttp://alt1.example/\r\n"
     "--inner\r\nContent-Type: text/html; charset=\"x\"\r\nContent-Transfer-Encoding: "
     "quoted-printable\r\n\r\n<a href=3D\"http://alt2.example/\">\r\n"
     "--inner--\r\n"
     "--outer b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     "aHR0cDovL2ltZy5leGFtcGxlLw==\r\n"
     "--outer b  \r\n\r\nhttp://implicit.example/\r\n"
     "--outer b--\r\nepilogue http://epi.example/\r\n",
        "alt1.example alt2.example implicit.example"},
    /* a multipart without boundary is skipped; a message cut short is scanned */
    {"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nhttp://nob.example/\r\n", ""},
    {"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nhttp://cut.example/",
        "cut.example"},
    /* header block only */
    {"Subject: http://only.example/", ""},
};

START_TEST(test_message)
{
	memset(&h, 0, sizeof(h));
	/* a private copy with no NUL after it */
	size_t n = strlen(messages[_i].msg);
	char *m = malloc(n);
	memcpy(m, messages[_i].msg, n);
	uri_scan_message(m, n, &h);
	free(m);
	ck_assert_str_eq(found(), messages[_i].want);
}
END_TEST

START_TEST(test_nesting_bounded)
{
	/* 20 nested multiparts: only URI_SCAN_DEPTH levels are opened */
	char *m = malloc(20000);
	m[0] = '\0';
	for (int i = 0; i < 20; i++)
		snprintf(m + strlen(m), 20000 - strlen(m),
		    "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	strcat(m, "\r\nhttp://deep.example/\r\n");
	memset(&h, 0, sizeof(h));
	uri_scan_message(m, strlen(m), &h);
	ck_assert_uint_eq(h.n, 0);
	m[0] = '\0';
	for (int i = 0; i < 3; i++)
		snprintf(m + strlen(m), 20000 - strlen(m),
		    "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	strcat(m, "\r\nhttp://shallow.example/\r\n");
	uri_scan_message(m, strlen(m), &h);
	ck_assert_str_eq(found(), "shallow.example");
	free(m);
}
END_TEST

static const struct {
	const char *host, *want;
} domains[] = {
    {"www.example.com", "example.com"},
    {"example.com", "example.com"},
    {"a.b.example.co.uk", "example.co.uk"},
    {"example.co.uk", "example.co.uk"},
    {"co.uk", "co.uk"},
    {"shop.example.com.au", "example.com.au"},
    {"x.example.de", "example.de"},
    {"x.co.example", "co.example"},
    {"192.0.2.1", "1.2.0.192"},
};

START_TEST(test_registered_domain)
{
	char out[URI_HOST_MAX + 1];
	int n = uri_registered_domain(domains[_i].host, out, sizeof(out));
	ck_assert_int_eq(n, (int)strlen(domains[_i].want));
	ck_assert_str_eq(out, domains[_i].want);
}
END_TEST

START_TEST(test_lookup_names)
{
	memset(&h, 0, sizeof(h));
	const char *t = "http://www.a.example/ http://a.example/ http://b.example.co.uk/ "
	                "http://198.51.100.7/ http://c.example/";
	uri_scan_text(t, strlen(t), &h);
	char names[20][URI_HOST_MAX + 1];
	size_t n = uri_lookup_names(&h, names, 20);
	/* registered domains first, then the other host names */
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(names[0], "a.example");
	ck_assert_str_eq(names[1], "example.co.uk");
	ck_assert_str_eq(names[2], "7.100.51.198");
	ck_assert_str_eq(names[3], "c.example");
	ck_assert_str_eq(names[4], "www.a.example");
	ck_assert_str_eq(names[5], "b.example.co.uk");
	ck_assert_uint_eq(uri_lookup_names(&h, names, 2), 2);
	ck_assert_str_eq(names[1], "example.co.uk");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("uri_scan");
	TCase *tc = tcase_create("scan");
	tcase_add_loop_test(tc, test_text, 0, NELEM(texts));
	tcase_add_test(tc, test_text_bounds);
	tcase_add_loop_test(tc, test_message, 0, NELEM(messages));
	tcase_add_test(tc, test_nesting_bounded);
	tcase_add_loop_test(tc, test_registered_domain, 0, NELEM(domains));
	tcase_add_test(tc, test_lookup_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

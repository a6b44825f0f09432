/*
 * test_smtp_parse.c - table-driven tests of the SMTP command-line parsers
 * (src/protocol/smtp_parse.c): command lines, MAIL/RCPT paths, ESMTP
 * parameters, numbers, HELO/EHLO names and UTF-8.
 */
#include "../../src/protocol/smtp_parse.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* A string literal and its length, so inputs may hold NUL octets. */
#define IN(s)    .in = (s), .len = sizeof(s) - 1
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- smtp_parse_cmdline ---------------------------------------------- */

/* clang-format off */
static const struct cmd_case {
	const char *in;
	size_t len;
	int rc;
	const char *verb;
	const char *arg; /* NULL: no argument */
} cmd_cases[] = {
	{ IN("HELO example.com"), 0, "HELO", "example.com" },
	{ IN("helo   example.com \t "), 0, "HELO", "example.com" },
	{ IN("EhLo x"), 0, "EHLO", "x" },
	{ IN("QUIT"), 0, "QUIT", NULL },
	{ IN("quit "), 0, "QUIT", NULL },
	{ IN("RSET \t  "), 0, "RSET", NULL },
	{ IN("MAIL FROM:<a@b> SIZE=10"), 0, "MAIL", "FROM:<a@b> SIZE=10" },
	{ IN("rcpt TO: <a@b>"), 0, "RCPT", "TO: <a@b>" },
	{ IN("MAIL\tFROM:<a@b>"), -1, NULL, NULL },
	{ IN("STARTTLS"), 0, "STARTTLS", NULL },
	{ IN("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q="), 0, "AUTH", "PLAIN dGVzdAB0ZXN0AHRlc3Q=" },
	{ IN("HE LO"), 0, "HE", "LO" },
	{ IN("X"), 0, "X", NULL },
	{ IN("1234 5"), 0, "1234", "5" },
	{ IN("ABCDEFGHIJKLMNO"), 0, "ABCDEFGHIJKLMNO", NULL },
	{ IN("abcdefghijklmno arg"), 0, "ABCDEFGHIJKLMNO", "arg" },
	{ IN("ABCDEFGHIJKLMNOP"), -1, NULL, NULL },
	{ IN("ABCDEFGHIJKLMNOP arg"), -1, NULL, NULL },
	{ IN(""), -1, NULL, NULL },
	{ IN(" "), -1, NULL, NULL },
	{ IN(" HELO x"), -1, NULL, NULL },
	{ IN("MA-IL x"), -1, NULL, NULL },
	{ IN("MAIL: x"), -1, NULL, NULL },
	{ IN("HELO\r"), -1, NULL, NULL },
	{ IN("\xc3\x89HLO x"), -1, NULL, NULL },
	{ IN("MAIL\0 x"), -1, NULL, NULL },
	{ IN("NOOP a\0b"), -1, NULL, NULL },
	{ IN("\0"), -1, NULL, NULL },
};
/* clang-format on */

START_TEST(test_cmdline)
{
	const struct cmd_case *c = &cmd_cases[_i];
	struct smtp_cmdline out;
	int rc = smtp_parse_cmdline(c->in, c->len, &out);

	ck_assert_msg(rc == c->rc, "case %d: rc %d, want %d", _i, rc, c->rc);
	if (rc != 0) {
		ck_assert_str_eq(out.verb, "");
		ck_assert_ptr_null(out.arg);
		return;
	}
	ck_assert_str_eq(out.verb, c->verb);
	if (c->arg == NULL) {
		ck_assert_ptr_null(out.arg);
		ck_assert_uint_eq(out.arglen, 0);
	} else {
		ck_assert_ptr_nonnull(out.arg);
		ck_assert_uint_eq(out.arglen, strlen(c->arg));
		ck_assert(memcmp(out.arg, c->arg, out.arglen) == 0);
		ck_assert(out.arg >= c->in && out.arg + out.arglen <= c->in + c->len);
	}
}
END_TEST

START_TEST(test_cmdline_null)
{
	struct smtp_cmdline out;

	ck_assert_int_eq(smtp_parse_cmdline(NULL, 0, &out), -1);
}
END_TEST

/* ---- smtp_parse_path_arg --------------------------------------------- */

enum { F_NULL = 1, F_UTF8 = 2, F_ROUTE = 4 };
enum { MAIL = 0, RCPT = 1 };
enum { BRK = 0, NOBRK = 1 }; /* brackets required, or not */
#define AT_LEN  (-1)         /* no "@": at == len */
#define AT_LAST 0            /* at is the last "@" of the expected mailbox */

/* clang-format off */
static const struct path_case {
	const char *in;
	size_t len;
	int rcpt;
	int nobrk;
	enum smtp_path_status st;
	const char *mbox; /* expected mailbox when OK */
	int at;           /* AT_LAST, AT_LEN or an index */
	int flags;
	const char *params; /* expected parameter text when OK; NULL = "" */
} path_cases[] = {
	/* prefix */
	{ IN("FROM:<user@example.com>"), MAIL, BRK, SMTP_PATH_OK, "user@example.com" },
	{ IN("from:<User@Example.COM>"), MAIL, BRK, SMTP_PATH_OK, "User@Example.COM" },
	{ IN("FrOm:<a@b>"), MAIL, BRK, SMTP_PATH_OK, "a@b" },
	{ IN("FROM: <user@example.com>"), MAIL, BRK, SMTP_PATH_OK, "user@example.com" },
	{ IN("FROM:\t  <user@example.com>"), MAIL, BRK, SMTP_PATH_OK, "user@example.com" },
	{ IN("FROM :<user@example.com>"), MAIL, BRK, SMTP_PATH_NO_PREFIX },
	{ IN("FROM <user@example.com>"), MAIL, BRK, SMTP_PATH_NO_PREFIX },
	{ IN("FROM<user@example.com>"), MAIL, BRK, SMTP_PATH_NO_PREFIX },
	{ IN("FRM:<a@b>"), MAIL, BRK, SMTP_PATH_NO_PREFIX },
	{ IN("TO:<a@b>"), MAIL, BRK, SMTP_PATH_NO_PREFIX },
	{ IN("FROM:<a@b>"), RCPT, BRK, SMTP_PATH_NO_PREFIX },
	{ IN(" TO:<a@b>"), RCPT, BRK, SMTP_PATH_NO_PREFIX },
	{ IN("T0:<a@b>"), RCPT, BRK, SMTP_PATH_NO_PREFIX },
	{ IN(""), MAIL, BRK, SMTP_PATH_NO_PREFIX },
	{ IN("FROM"), MAIL, BRK, SMTP_PATH_NO_PREFIX },
	{ IN("FR\0M:<a@b>"), MAIL, BRK, SMTP_PATH_NO_PREFIX },
	{ IN("FROM\0<a@b>"), MAIL, BRK, SMTP_PATH_NO_PREFIX },

	/* null path and missing path */
	{ IN("FROM:<>"), MAIL, BRK, SMTP_PATH_OK, "", 0, F_NULL },
	{ IN("FROM: <>"), MAIL, NOBRK, SMTP_PATH_OK, "", 0, F_NULL },
	{ IN("FROM:<> SIZE=100"), MAIL, BRK, SMTP_PATH_OK, "", 0, F_NULL, "SIZE=100" },
	{ IN("FROM:<@>"), MAIL, BRK, SMTP_PATH_OK, "", 0, F_NULL },
	{ IN("FROM:<>x"), MAIL, BRK, SMTP_PATH_BAD_PARAMS },
	{ IN("FROM:<@>x"), MAIL, BRK, SMTP_PATH_BAD_PARAMS },
	{ IN("TO:<>"), RCPT, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("TO:<@>"), RCPT, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:"), MAIL, BRK, SMTP_PATH_NO_BRACKETS },
	{ IN("FROM:"), MAIL, NOBRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:   "), MAIL, NOBRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("TO:"), RCPT, BRK, SMTP_PATH_NO_BRACKETS },
	{ IN("FROM:<"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<@"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:>"), MAIL, BRK, SMTP_PATH_NO_BRACKETS },
	{ IN("FROM:>"), MAIL, NOBRK, SMTP_PATH_BAD_ADDRESS },

	/* brackets */
	{ IN("FROM:user@example.com"), MAIL, BRK, SMTP_PATH_NO_BRACKETS },
	{ IN("FROM:user@example.com"), MAIL, NOBRK, SMTP_PATH_OK, "user@example.com" },
	{ IN("FROM:<user@example.com>"), MAIL, NOBRK, SMTP_PATH_OK, "user@example.com" },
	{ IN("FROM:user@example.com SIZE=10"), MAIL, NOBRK, SMTP_PATH_OK, "user@example.com",
	    AT_LAST, 0, "SIZE=10" },
	{ IN("FROM:a@b\tSIZE=1"), MAIL, NOBRK, SMTP_PATH_OK, "a@b", AT_LAST, 0, "SIZE=1" },
	{ IN("FROM:\"a b\"@c"), MAIL, NOBRK, SMTP_PATH_OK, "\"a b\"@c" },
	{ IN("FROM:a@b>"), MAIL, NOBRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:a@b<"), MAIL, NOBRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:@a:b@c"), MAIL, NOBRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("TO:mail@sample.com"), RCPT, BRK, SMTP_PATH_NO_BRACKETS },
	{ IN("TO:mail@sample.com"), RCPT, NOBRK, SMTP_PATH_OK, "mail@sample.com" },
	{ IN("TO:postmaster"), RCPT, BRK, SMTP_PATH_NO_BRACKETS },
	{ IN("TO:postmaster"), RCPT, NOBRK, SMTP_PATH_OK, "postmaster", AT_LEN },
	{ IN("FROM:<user@example.com"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<user@example.com"), MAIL, NOBRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<<a@b>>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:< a@b>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@b >"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a @b>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },

	/* text after the path */
	{ IN("FROM:<user@example.com> SIZE=1000 BODY=8BITMIME"), MAIL, BRK, SMTP_PATH_OK,
	    "user@example.com", AT_LAST, 0, "SIZE=1000 BODY=8BITMIME" },
	{ IN("FROM:<user@example.com>   SIZE=1"), MAIL, BRK, SMTP_PATH_OK, "user@example.com",
	    AT_LAST, 0, "SIZE=1" },
	{ IN("FROM:<a@b>\tSIZE=1"), MAIL, BRK, SMTP_PATH_OK, "a@b", AT_LAST, 0, "SIZE=1" },
	{ IN("FROM:<a@b> "), MAIL, BRK, SMTP_PATH_OK, "a@b" },
	{ IN("FROM:<user@example.com>x"), MAIL, BRK, SMTP_PATH_BAD_PARAMS },
	{ IN("FROM:<user@example.com>>"), MAIL, BRK, SMTP_PATH_BAD_PARAMS },
	{ IN("FROM:<user@example.com><b@c>"), MAIL, BRK, SMTP_PATH_BAD_PARAMS },
	{ IN("FROM:<a@b>SIZE=1"), MAIL, BRK, SMTP_PATH_BAD_PARAMS },
	{ IN("TO:<a@b> NOTIFY=NEVER ORCPT=rfc822;a@b"), RCPT, BRK, SMTP_PATH_OK, "a@b",
	    AT_LAST, 0, "NOTIFY=NEVER ORCPT=rfc822;a@b" },

	/* local part: dot-string */
	{ IN("FROM:<a.b.c@d.e>"), MAIL, BRK, SMTP_PATH_OK, "a.b.c@d.e" },
	{ IN("FROM:<!#$%&'*+-/=?^_`{|}~@example.com>"), MAIL, BRK, SMTP_PATH_OK,
	    "!#$%&'*+-/=?^_`{|}~@example.com" },
	{ IN("FROM:<.a@b>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a.@b>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a..b@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<.>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<@b>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@b@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a b@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a(b)@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a,b@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a;b@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a[b]@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a\\b@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a\"b\"@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a\x7f@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a\x01@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<user>"), MAIL, BRK, SMTP_PATH_OK, "user", AT_LEN },

	/* local part: quoted string (kept as sent) */
	{ IN("FROM:<\"a b\"@example.com>"), MAIL, BRK, SMTP_PATH_OK, "\"a b\"@example.com" },
	{ IN("FROM:<\"a\\\"b\"@example.com>"), MAIL, BRK, SMTP_PATH_OK, "\"a\\\"b\"@example.com" },
	{ IN("FROM:<\"a\\\\b\"@x>"), MAIL, BRK, SMTP_PATH_OK, "\"a\\\\b\"@x" },
	{ IN("FROM:<\"\\ \"@x>"), MAIL, BRK, SMTP_PATH_OK, "\"\\ \"@x" },
	{ IN("FROM:<\"\"@example.com>"), MAIL, BRK, SMTP_PATH_OK, "\"\"@example.com" },
	{ IN("FROM:<\"a>b\"@example.com>"), MAIL, BRK, SMTP_PATH_OK, "\"a>b\"@example.com" },
	{ IN("FROM:<\"a@b\">"), MAIL, BRK, SMTP_PATH_OK, "\"a@b\"", AT_LEN },
	{ IN("FROM:<\"a.\"@b>"), MAIL, BRK, SMTP_PATH_OK, "\"a.\"@b" },
	{ IN("FROM:<\"abc@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\"a\\\x01\"@x>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\"a\\\xc3\xa9\"@x>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\"a\\"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\"a\tb\"@x>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\"a\x7f\"@x>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\"a\".b@x>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\"a\"\"b\"@x>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },

	/* domains */
	{ IN("FROM:<a@1mail.example.com>"), MAIL, BRK, SMTP_PATH_OK, "a@1mail.example.com" },
	{ IN("FROM:<a@localhost>"), MAIL, BRK, SMTP_PATH_OK, "a@localhost" },
	{ IN("FROM:<a@mx-ll-110-164-x-x.2s1n>"), MAIL, BRK, SMTP_PATH_OK,
	    "a@mx-ll-110-164-x-x.2s1n" },
	{ IN("FROM:<a@xn--bcher-kva.example>"), MAIL, BRK, SMTP_PATH_OK,
	    "a@xn--bcher-kva.example" },
	{ IN("FROM:<a@1.2.3.4>"), MAIL, BRK, SMTP_PATH_OK, "a@1.2.3.4" },
	{ IN("FROM:<a@-x.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@x-.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@x.com->"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@-.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@x..com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@.x.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@x.com.>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@.>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@x_y.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@x!y.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@x.com!>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },

	/* address literals */
	{ IN("FROM:<a@[127.0.0.1]>"), MAIL, BRK, SMTP_PATH_OK, "a@[127.0.0.1]" },
	{ IN("FROM:<a@[255.255.255.255]>"), MAIL, BRK, SMTP_PATH_OK, "a@[255.255.255.255]" },
	{ IN("FROM:<a@[01.002.3.4]>"), MAIL, BRK, SMTP_PATH_OK, "a@[01.002.3.4]" },
	{ IN("FROM:<a@[256.0.0.1]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[1.2.3]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[1.2.3.4.5]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[1.2.3.]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[1234.2.3.4]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[0001.2.3.4]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[1..2.3]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[IPv6:::1]>"), MAIL, BRK, SMTP_PATH_OK, "a@[IPv6:::1]" },
	{ IN("FROM:<a@[ipv6:2001:db8::1]>"), MAIL, BRK, SMTP_PATH_OK, "a@[ipv6:2001:db8::1]" },
	{ IN("FROM:<a@[IPv6:::ffff:172.16.149.220]>"), MAIL, BRK, SMTP_PATH_OK,
	    "a@[IPv6:::ffff:172.16.149.220]" },
	{ IN("FROM:<a@[IPv6:2001:db8::g]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[IPv6:1.2.3.4]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[IPv6:]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[IPv6:1:2:3:4:5:6:7:8:9]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[::1]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[x-tag:foo]>"), MAIL, BRK, SMTP_PATH_OK, "a@[x-tag:foo]" },
	{ IN("FROM:<a@[x:a@b]>"), MAIL, BRK, SMTP_PATH_OK, "a@[x:a@b]", 1 },
	{ IN("FROM:<a@[x-tag:foo bar]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[-tag:foo]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[tag-:foo]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[tag:]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[:foo]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[tag:a[b]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[tag:a\\b]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[127.0.0.1>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[127.0.0.1]x>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@x[127.0.0.1]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:a@[127.0.0.1]"), MAIL, NOBRK, SMTP_PATH_OK, "a@[127.0.0.1]" },

	/* source routes */
	{ IN("FROM:<@a.example,@b.example:user@c.example>"), MAIL, BRK, SMTP_PATH_OK,
	    "user@c.example", AT_LAST, F_ROUTE },
	{ IN("TO:<@a:b@c>"), RCPT, BRK, SMTP_PATH_OK, "b@c", AT_LAST, F_ROUTE },
	{ IN("TO:<@a:postmaster>"), RCPT, BRK, SMTP_PATH_OK, "postmaster", AT_LEN, F_ROUTE },
	{ IN("FROM:<@a,b:c@d>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<@a:>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<@:a@b>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<@a.:b@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<@a,:b@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<@a@b:c@d>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<@[1.2.3.4]:a@b>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<@a:@b:c@d>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },

	/* RCPT */
	{ IN("TO:<postmaster>"), RCPT, BRK, SMTP_PATH_OK, "postmaster", AT_LEN },
	{ IN("to:<PostMaster>"), RCPT, BRK, SMTP_PATH_OK, "PostMaster", AT_LEN },
	{ IN("TO:<postmaster@example.com>"), RCPT, BRK, SMTP_PATH_OK, "postmaster@example.com" },
	{ IN("TO:<user>"), RCPT, BRK, SMTP_PATH_OK, "user", AT_LEN },
	{ IN("TO: <user@example.com>"), RCPT, BRK, SMTP_PATH_OK, "user@example.com" },
	{ IN("TO :<user@example.com>"), RCPT, BRK, SMTP_PATH_NO_PREFIX },

	/* relay tricks: each parses to exactly what it is */
	{ IN("TO:<user%remote.example@local.test>"), RCPT, BRK, SMTP_PATH_OK,
	    "user%remote.example@local.test", 19 },
	{ IN("TO:<user%remote.example>"), RCPT, BRK, SMTP_PATH_OK, "user%remote.example",
	    AT_LEN },
	{ IN("TO:<remote.example!user@local.test>"), RCPT, BRK, SMTP_PATH_OK,
	    "remote.example!user@local.test", 19 },
	{ IN("TO:<\"user@remote\"@local.test>"), RCPT, BRK, SMTP_PATH_OK,
	    "\"user@remote\"@local.test", 13 },
	{ IN("TO:<@local.test:user@remote.example>"), RCPT, BRK, SMTP_PATH_OK,
	    "user@remote.example", 4, F_ROUTE },
	{ IN("TO:<user@remote.example.>"), RCPT, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("TO:<user@[127.0.0.1]>"), RCPT, BRK, SMTP_PATH_OK, "user@[127.0.0.1]", 4 },
	{ IN("TO:<user@remote.example@local.test>"), RCPT, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("TO:<user@local.test>@remote.example"), RCPT, BRK, SMTP_PATH_BAD_PARAMS },
	{ IN("TO:<user@local.test> <user@remote.example>"), RCPT, BRK, SMTP_PATH_OK,
	    "user@local.test", 4, 0, "<user@remote.example>" },

	/* SMTPUTF8 (RFC 6531) */
	{ IN("TO:<用户@例子.广告>"), RCPT, BRK, SMTP_PATH_OK, "用户@例子.广告", 6, F_UTF8 },
	{ IN("TO:<θσερ@παράδειγμα.δοκιμή>"), RCPT, BRK, SMTP_PATH_OK,
	    "θσερ@παράδειγμα.δοκιμή", 8, F_UTF8 },
	{ IN("FROM:<δοκιμή@example.com>"), MAIL, BRK, SMTP_PATH_OK, "δοκιμή@example.com",
	    AT_LAST, F_UTF8 },
	{ IN("FROM:<user@bücher.example>"), MAIL, BRK, SMTP_PATH_OK, "user@bücher.example",
	    AT_LAST, F_UTF8 },
	{ IN("FROM:<\"ü x\"@example.com>"), MAIL, BRK, SMTP_PATH_OK, "\"ü x\"@example.com",
	    AT_LAST, F_UTF8 },
	{ IN("FROM:<😀@example.com>"), MAIL, BRK, SMTP_PATH_OK, "😀@example.com", AT_LAST,
	    F_UTF8 },
	{ IN("FROM:<@例子.广告:a@b>"), MAIL, BRK, SMTP_PATH_OK, "a@b", AT_LAST,
	    F_UTF8 | F_ROUTE },
	{ IN("TO:用户@例子.广告"), RCPT, NOBRK, SMTP_PATH_OK, "用户@例子.广告", 6, F_UTF8 },
	{ IN("FROM:<\xff@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\x80@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a\xc3@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\xc0\xaf@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\xc1\xbf@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\xe0\x80\xaf@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\xf0\x80\x80\xaf@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\xed\xa0\x80@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\xf4\x90\x80\x80@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\xf8\x88\x80\x80\x80@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\"\xff\"@example.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@\xc3\xa9\xff.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@b\xc3>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@-ü.com>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@[ü]>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	/* 22 CJK characters: a 66-octet label */
	{ IN("TO:<a@一二三四五六七八九十一二三四五六七八九十一二.cn>"), RCPT, BRK,
	    SMTP_PATH_BAD_ADDRESS },
	/* 21 of them: 63 octets */
	{ IN("TO:<a@一二三四五六七八九十一二三四五六七八九十一.cn>"), RCPT, BRK, SMTP_PATH_OK,
	    "a@一二三四五六七八九十一二三四五六七八九十一.cn", 1, F_UTF8 },

	/* NUL anywhere */
	{ IN("FROM:<a\0b@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@b\0>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:\0<a@b>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<a@b> SIZE=1\0"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:<\"a\0b\"@c>"), MAIL, BRK, SMTP_PATH_BAD_ADDRESS },
	{ IN("FROM:a\0@b"), MAIL, NOBRK, SMTP_PATH_BAD_ADDRESS },
};
/* clang-format on */

START_TEST(test_path)
{
	const struct path_case *c = &path_cases[_i];
	struct smtp_path path;
	const char *params = (const char *)&path; /* must be overwritten */
	size_t plen = 99;
	enum smtp_path_status st;

	memset(&path, 0x5a, sizeof(path));
	st = smtp_parse_path_arg(
	    c->in, c->len, c->rcpt == RCPT, c->nobrk == BRK, &path, &params, &plen);
	ck_assert_msg(st == c->st, "case %d (%s): status %d, want %d", _i, c->in, st, c->st);
	ck_assert(path.len <= SMTP_MAILBOX_MAX);
	ck_assert(path.mailbox[path.len] == '\0');
	ck_assert_uint_eq(strlen(path.mailbox), path.len);
	ck_assert(path.at <= path.len);
	if (st != SMTP_PATH_OK) {
		ck_assert_ptr_null(params);
		ck_assert_uint_eq(plen, 0);
		ck_assert_uint_eq(path.len, 0);
		ck_assert(!path.null);
		return;
	}
	ck_assert_msg(strcmp(path.mailbox, c->mbox) == 0, "case %d: mailbox '%s', want '%s'", _i,
	    path.mailbox, c->mbox);
	ck_assert_uint_eq(path.len, strlen(c->mbox));
	if (c->at == AT_LEN || (c->flags & F_NULL)) {
		ck_assert_uint_eq(path.at, path.len);
	} else if (c->at == AT_LAST) {
		ck_assert_uint_eq(path.at, (size_t)(strrchr(c->mbox, '@') - c->mbox));
	} else {
		ck_assert_uint_eq(path.at, (size_t)c->at);
	}
	if (path.at < path.len)
		ck_assert(path.mailbox[path.at] == '@');
	ck_assert_msg(path.null == ((c->flags & F_NULL) != 0), "case %d: null", _i);
	ck_assert_msg(path.utf8 == ((c->flags & F_UTF8) != 0), "case %d: utf8", _i);
	ck_assert_msg(path.has_route == ((c->flags & F_ROUTE) != 0), "case %d: route", _i);
	ck_assert_ptr_nonnull(params);
	ck_assert(params >= c->in && params + plen == c->in + c->len);
	const char *want = c->params != NULL ? c->params : "";
	ck_assert_msg(plen == strlen(want) && memcmp(params, want, plen) == 0,
	    "case %d: params '%.*s', want '%s'", _i, (int)plen, params, want);
}
END_TEST

/* Builds "TO:<" local "@" domain ">" into buf. */
static size_t
build_path(char *buf, size_t size, size_t local, const char *domain)
{
	size_t n = 0, dl = strlen(domain);

	ck_assert(4 + local + 1 + dl + 1 <= size);
	memcpy(buf, "TO:<", 4);
	n = 4;
	memset(buf + n, 'x', local);
	n += local;
	buf[n++] = '@';
	memcpy(buf + n, domain, dl);
	n += dl;
	buf[n++] = '>';
	return n;
}

START_TEST(test_path_lengths)
{
	char buf[2048], dom[400];
	struct smtp_path path;
	const char *params;
	size_t plen, n;

	/* mailbox of exactly SMTP_MAILBOX_MAX octets, then one more */
	n = build_path(buf, sizeof(buf), SMTP_MAILBOX_MAX - 10, "b.example");
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, n, true, true, &path, &params, &plen), SMTP_PATH_OK);
	ck_assert_uint_eq(path.len, SMTP_MAILBOX_MAX);
	ck_assert_uint_eq(path.at, SMTP_MAILBOX_MAX - 10);
	n = build_path(buf, sizeof(buf), SMTP_MAILBOX_MAX - 11, "b.example");
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, n, true, true, &path, &params, &plen), SMTP_PATH_OK);
	n = build_path(buf, sizeof(buf), SMTP_MAILBOX_MAX - 9, "b.example");
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, n, true, true, &path, &params, &plen), SMTP_PATH_TOO_LONG);
	ck_assert_uint_eq(path.len, 0);
	ck_assert_str_eq(path.mailbox, "");
	ck_assert_ptr_null(params);
	n = build_path(buf, sizeof(buf), 1500, "b.example");
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, n, true, false, &path, &params, &plen), SMTP_PATH_TOO_LONG);
	/* too long without "@" too, and without brackets */
	memcpy(buf, "TO:", 3);
	memset(buf + 3, 'y', SMTP_MAILBOX_MAX + 1);
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, 3 + SMTP_MAILBOX_MAX + 1, true, false, &path, &params, &plen),
	    SMTP_PATH_TOO_LONG);
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, 3 + SMTP_MAILBOX_MAX, true, false, &path, &params, &plen),
	    SMTP_PATH_OK);
	ck_assert_uint_eq(path.at, SMTP_MAILBOX_MAX);

	/* labels of 63 and 64 octets */
	memset(dom, 'd', 63);
	memcpy(dom + 63, ".com", 5);
	n = build_path(buf, sizeof(buf), 1, dom);
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, n, true, true, &path, &params, &plen), SMTP_PATH_OK);
	memset(dom, 'd', 64);
	memcpy(dom + 64, ".com", 5);
	n = build_path(buf, sizeof(buf), 1, dom);
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, n, true, true, &path, &params, &plen), SMTP_PATH_BAD_ADDRESS);

	/* domains of 255 and 256 octets: 63 + "." four times, then the rest */
	for (size_t i = 0; i < 4; i++) {
		memset(dom + i * 64, 'e', 63);
		dom[i * 64 + 63] = '.';
	}
	dom[255] = '\0'; /* 4*64 - 1 = 255 octets, ending in a label */
	ck_assert_uint_eq(strlen(dom), 255);
	n = build_path(buf, sizeof(buf), 1, dom);
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, n, true, true, &path, &params, &plen), SMTP_PATH_OK);
	/* split the last label (still 255), then add one octet: 256 */
	dom[253] = '.';
	n = build_path(buf, sizeof(buf), 1, dom);
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, n, true, true, &path, &params, &plen), SMTP_PATH_OK);
	dom[255] = 'g';
	dom[256] = '\0';
	ck_assert_uint_eq(strlen(dom), 256);
	n = build_path(buf, sizeof(buf), 1, dom);
	ck_assert_int_eq(
	    smtp_parse_path_arg(buf, n, true, true, &path, &params, &plen), SMTP_PATH_BAD_ADDRESS);
}
END_TEST

START_TEST(test_path_null_arg)
{
	struct smtp_path path;
	const char *params;
	size_t plen;

	ck_assert_int_eq(
	    smtp_parse_path_arg(NULL, 0, false, true, &path, &params, &plen), SMTP_PATH_NO_PREFIX);
	ck_assert_ptr_null(params);
}
END_TEST

/* ---- smtp_parse_params ------------------------------------------------ */

/* clang-format off */
static const struct param_case {
	const char *in;
	size_t len;
	bool utf8;
	int rc;
	const char *kv[6][2]; /* key, value (NULL: no "=") */
} param_cases[] = {
	{ IN(""), false, 0 },
	{ IN("   "), false, 0 },
	{ IN("SIZE=1000"), false, 1, { { "SIZE", "1000" } } },
	{ IN("SIZE=1000 BODY=8BITMIME SMTPUTF8"), false, 3,
	    { { "SIZE", "1000" }, { "BODY", "8BITMIME" }, { "SMTPUTF8", NULL } } },
	{ IN("  SIZE=1  BODY=7BIT  "), false, 2, { { "SIZE", "1" }, { "BODY", "7BIT" } } },
	{ IN("a b=c d"), false, 3, { { "a", NULL }, { "b", "c" }, { "d", NULL } } },
	{ IN("A-B=1"), false, 1, { { "A-B", "1" } } },
	{ IN("1X=y"), false, 1, { { "1X", "y" } } },
	{ IN("ORCPT=rfc822;a+40b.example"), false, 1, { { "ORCPT", "rfc822;a+40b.example" } } },
	{ IN("ENVID=<a>[b]\\c"), false, 1, { { "ENVID", "<a>[b]\\c" } } },
	{ IN("ENVID=é"), true, 1, { { "ENVID", "é" } } },
	{ IN("=x"), false, -1 },
	{ IN("SIZE="), false, -1 },
	{ IN("SIZE= 1"), false, -1 },
	{ IN("KEY=a=b"), false, -1 },
	{ IN("-A"), false, -1 },
	{ IN("A_B"), false, -1 },
	{ IN("A:B"), false, -1 },
	{ IN("SIZE=1\tBODY=7BIT"), false, -1 },
	{ IN("SIZE=1 =2"), false, -1 },
	{ IN("ENVID=é"), false, -1 },
	{ IN("ENVID=\xff"), true, -1 },
	{ IN("ENVID=\xc3"), true, -1 },
	{ IN("ENVID=\xc0\x80"), true, -1 },
	{ IN("é=1"), true, -1 },
	{ IN("A=\x7f"), false, -1 },
	{ IN("A=\x01"), false, -1 },
	{ IN("A\0B"), false, -1 },
	{ IN("A=\0"), false, -1 },
};
/* clang-format on */

START_TEST(test_params)
{
	const struct param_case *c = &param_cases[_i];
	struct smtp_param p[SMTP_PARAMS_MAX];
	int rc = smtp_parse_params(c->in, c->len, c->utf8, p, SMTP_PARAMS_MAX);

	ck_assert_msg(rc == c->rc, "case %d (%s): rc %d, want %d", _i, c->in, rc, c->rc);
	for (int i = 0; i < rc; i++) {
		ck_assert_uint_eq(p[i].keylen, strlen(c->kv[i][0]));
		ck_assert(memcmp(p[i].key, c->kv[i][0], p[i].keylen) == 0);
		ck_assert(smtp_param_is(&p[i], c->kv[i][0]));
		if (c->kv[i][1] == NULL) {
			ck_assert_ptr_null(p[i].value);
			ck_assert_uint_eq(p[i].valuelen, 0);
		} else {
			ck_assert_ptr_nonnull(p[i].value);
			ck_assert_uint_eq(p[i].valuelen, strlen(c->kv[i][1]));
			ck_assert(memcmp(p[i].value, c->kv[i][1], p[i].valuelen) == 0);
		}
	}
}
END_TEST

START_TEST(test_params_max)
{
	struct smtp_param p[SMTP_PARAMS_MAX + 1];
	char buf[256];
	size_t n = 0;

	for (int i = 0; i < SMTP_PARAMS_MAX + 1; i++) {
		memcpy(buf + n, "A=1 ", 4);
		n += 4;
	}
	/* SMTP_PARAMS_MAX items fit, one more does not */
	ck_assert_int_eq(smtp_parse_params(buf, n - 4, false, p, SMTP_PARAMS_MAX), SMTP_PARAMS_MAX);
	ck_assert_int_eq(smtp_parse_params(buf, n, false, p, SMTP_PARAMS_MAX), -1);
	ck_assert_int_eq(
	    smtp_parse_params(buf, n, false, p, SMTP_PARAMS_MAX + 1), SMTP_PARAMS_MAX + 1);
	ck_assert_int_eq(smtp_parse_params("A", 1, false, NULL, 0), -1);
	ck_assert_int_eq(smtp_parse_params("", 0, false, NULL, 0), 0);
	ck_assert_int_eq(smtp_parse_params(NULL, 0, false, NULL, 0), 0);
}
END_TEST

START_TEST(test_param_is)
{
	struct smtp_param p = {.key = "size=1", .keylen = 4};

	ck_assert(smtp_param_is(&p, "SIZE"));
	ck_assert(smtp_param_is(&p, "size"));
	ck_assert(smtp_param_is(&p, "SiZe"));
	ck_assert(!smtp_param_is(&p, "SIZ"));
	ck_assert(!smtp_param_is(&p, "SIZEX"));
	ck_assert(!smtp_param_is(&p, "BODY"));
	ck_assert(!smtp_param_is(&p, ""));
}
END_TEST

/* ---- smtp_parse_u64 --------------------------------------------------- */

/* clang-format off */
static const struct u64_case {
	const char *in;
	size_t len;
	int rc;
	unsigned long long v;
} u64_cases[] = {
	{ IN("0"), 0, 0 },
	{ IN("1000"), 0, 1000 },
	{ IN("10485760"), 0, 10485760 },
	{ IN("18446744073709551615"), 0, 18446744073709551615ULL },
	{ IN("00000000000000000001"), 0, 1 },
	{ IN("18446744073709551616"), -1 },
	{ IN("99999999999999999999"), -1 },
	{ IN("000000000000000000001"), -1 },
	{ IN("184467440737095516150"), -1 },
	{ IN(""), -1 },
	{ IN("-1"), -1 },
	{ IN("+1"), -1 },
	{ IN(" 1"), -1 },
	{ IN("1 "), -1 },
	{ IN("1a"), -1 },
	{ IN("0x10"), -1 },
	{ IN("1\0"), -1 },
	{ IN("1.5"), -1 },
	{ IN("\xd9\xa1"), -1 },
};
/* clang-format on */

START_TEST(test_u64)
{
	const struct u64_case *c = &u64_cases[_i];
	unsigned long long v = 12345;
	int rc = smtp_parse_u64(c->in, c->len, &v);

	ck_assert_msg(rc == c->rc, "case %d (%s): rc %d", _i, c->in, rc);
	if (rc == 0)
		ck_assert(v == c->v);
	else
		ck_assert(v == 12345);
}
END_TEST

/* ---- smtp_valid_helo -------------------------------------------------- */

/* clang-format off */
static const struct helo_case {
	const char *in;
	size_t len;
	bool ok;
} helo_cases[] = {
	/* James's EhloCmdHandlerTest and friends */
	{ IN("mx-ll-110-164-x-x.2s1n"), true },
	{ IN("1mail.example.com"), true },
	{ IN("localhost"), true },
	{ IN("192.168.1.1"), true },
	{ IN("[::1]"), true },
	{ IN("[IPv6:::ffff:172.16.149.220]"), true },
	{ IN("[192.168.1.1]"), true },
	{ IN("7kO2OrE"), true },
	{ IN("example.com"), true },
	{ IN("a"), true },
	{ IN("xn--bcher-kva.example"), true },
	{ IN("[ipv6:2001:db8::1]"), true },
	{ IN("[2001:db8::1]"), true },
	{ IN(""), false },
	{ IN("-example.com"), false },
	{ IN("example..com"), false },
	{ IN("exam ple.com"), false },
	{ IN("example.com!"), false },
	{ IN("example.com-"), false },
	{ IN("example-.com"), false },
	/* strict: no trailing dot (RFC 5321 Domain has none) */
	{ IN("example.com."), false },
	{ IN(".example.com"), false },
	{ IN("."), false },
	{ IN("ex_ample.com"), false },
	{ IN("bücher.example"), false },
	{ IN("[1.2.3.256]"), false },
	{ IN("[1.2.3]"), false },
	{ IN("[]"), false },
	{ IN("["), false },
	{ IN("[::1"), false },
	{ IN("::1"), false },
	{ IN("[tag:foo]"), false },
	{ IN("[IPv6:zz]"), false },
	{ IN("[IPv6:1.2.3.4]"), false },
	{ IN("[192.168.1.1] "), false },
	{ IN("a\0b"), false },
	{ IN("[::1\0]"), false },
	{ IN("[::1\0x]"), false },
	{ IN("example.com\r"), false },
	{ IN("dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.com"), false },
	{ IN("ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.com"), true },
};
/* clang-format on */

START_TEST(test_helo)
{
	const struct helo_case *c = &helo_cases[_i];

	ck_assert_msg(
	    smtp_valid_helo(c->in, c->len) == c->ok, "case %d (%s): want %d", _i, c->in, c->ok);
}
END_TEST

START_TEST(test_helo_null)
{
	ck_assert(!smtp_valid_helo(NULL, 0));
}
END_TEST

/* ---- smtp_utf8_valid -------------------------------------------------- */

/* clang-format off */
static const struct utf8_case {
	const char *in;
	size_t len;
	bool ok;
} utf8_cases[] = {
	{ IN(""), true },
	{ IN("abc"), true },
	{ IN("a\0b"), true },
	{ IN("é"), true },
	{ IN("用户"), true },
	{ IN("😀"), true },
	{ IN("\xc2\x80"), true },
	{ IN("\xdf\xbf"), true },
	{ IN("\xe0\xa0\x80"), true },
	{ IN("\xed\x9f\xbf"), true },   /* U+D7FF */
	{ IN("\xee\x80\x80"), true },   /* U+E000 */
	{ IN("\xef\xbf\xbf"), true },   /* U+FFFF */
	{ IN("\xf0\x90\x80\x80"), true },
	{ IN("\xf4\x8f\xbf\xbf"), true }, /* U+10FFFF */
	{ IN("\x80"), false },
	{ IN("\xbf"), false },
	{ IN("\xc3"), false },
	{ IN("a\xc3"), false },
	{ IN("\xc3\x28"), false },
	{ IN("\xc0\x80"), false },      /* overlong NUL */
	{ IN("\xc0\xaf"), false },      /* overlong "/" */
	{ IN("\xc1\xbf"), false },
	{ IN("\xe0\x80\xaf"), false },
	{ IN("\xe0\x9f\xbf"), false },
	{ IN("\xe4\xb8"), false },
	{ IN("\xe4\xb8\x41"), false },
	{ IN("\xed\xa0\x80"), false },  /* surrogate U+D800 */
	{ IN("\xed\xbf\xbf"), false },  /* surrogate U+DFFF */
	{ IN("\xf0\x80\x80\xaf"), false },
	{ IN("\xf0\x8f\xbf\xbf"), false },
	{ IN("\xf0\x90\x80"), false },
	{ IN("\xf0\x90\x80\x41"), false },
	{ IN("\xf4\x90\x80\x80"), false },
	{ IN("\xf5\x80\x80\x80"), false },
	{ IN("\xf8\x88\x80\x80\x80"), false },
	{ IN("\xfe"), false },
	{ IN("\xff"), false },
};
/* clang-format on */

START_TEST(test_utf8)
{
	const struct utf8_case *c = &utf8_cases[_i];

	ck_assert_msg(smtp_utf8_valid(c->in, c->len) == c->ok, "case %d: want %d", _i, c->ok);
}
END_TEST

static Suite *
smtp_parse_suite(void)
{
	Suite *s = suite_create("smtp_parse");
	TCase *tc;

	tc = tcase_create("cmdline");
	tcase_add_loop_test(tc, test_cmdline, 0, (int)NELEM(cmd_cases));
	tcase_add_test(tc, test_cmdline_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("path");
	tcase_add_loop_test(tc, test_path, 0, (int)NELEM(path_cases));
	tcase_add_test(tc, test_path_lengths);
	tcase_add_test(tc, test_path_null_arg);
	suite_add_tcase(s, tc);

	tc = tcase_create("params");
	tcase_add_loop_test(tc, test_params, 0, (int)NELEM(param_cases));
	tcase_add_test(tc, test_params_max);
	tcase_add_test(tc, test_param_is);
	suite_add_tcase(s, tc);

	tc = tcase_create("u64");
	tcase_add_loop_test(tc, test_u64, 0, (int)NELEM(u64_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("helo");
	tcase_add_loop_test(tc, test_helo, 0, (int)NELEM(helo_cases));
	tcase_add_test(tc, test_helo_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, test_utf8, 0, (int)NELEM(utf8_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(smtp_parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

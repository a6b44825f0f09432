/*
 * test_header_checks.c - HeaderChecksFilter (handlers/fastfail/header_checks.c)
 * through the data_line runner (handlers/chain_lines.c): what it matches,
 * what it answers, and its configuration errors.
 */
#include "../../handlers/chain.h"
#include "../../handlers/fastfail/fastfail.h"
#include "../../src/config/cfg_chain.h"
#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/config/config.h"
#include "../../src/core/log.h"
#include "chain_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct hook_session hs;
static struct cfg_server server; /* no size limit (the core MailSizeEsmtpExtension) */

/* What the sink got. */
static char out[1 << 17];
static size_t out_len;

static void
sink(void *arg, const char *data, size_t len)
{
	(void)arg;
	ck_assert_uint_le(out_len + len, sizeof(out));
	memcpy(out + out_len, data, len);
	out_len += len;
}

static void
setup(void)
{
	memset(&hs, 0, sizeof(hs));
	hs.id = "test";
	hs.msgid = "msg-1";
	hs.server = &server;
	log_set_level(LOG_LVL_WARN); /* a log line per match otherwise */
	out_len = 0;
}

/* The diagnostics of the last chain_diags_from, one a line. */
static char diags[4096];

static struct chain *
chain_diags_from(const char *xml, size_t *errors)
{
	char file[32];
	struct cfg_diag d;
	struct chain *c = fixture_chain_read(xml, &d, file);
	size_t o = 0;
	diags[0] = '\0';
	for (size_t i = 0; i < d.n; i++) {
		/* The file name differs per run: keep what follows it. */
		const char *t = strstr(d.v[i].text, file);
		t = t != NULL ? t + strlen(file) : d.v[i].text;
		int k = snprintf(diags + o, sizeof(diags) - o, "%s\n", t);
		if (k > 0 && (size_t)k < sizeof(diags) - o)
			o += (size_t)k;
	}
	*errors = d.errors;
	cfg_diag_clear(&d);
	return c;
}

/*
 * Feeds msg to a new splitter in chunks of size step (0: at once), ends it,
 * and then runs the data_end hooks as the session does: the answer.
 */
static struct hook_result
run(const struct chain *c, const char *msg, size_t len, size_t step)
{
	hs.tx_serial++;
	out_len = 0;
	struct chain_lines *l = chain_lines_new(c, HOOK_LINE_MAX);
	if (step == 0)
		step = len > 0 ? len : 1;
	for (size_t o = 0; o < len; o += step)
		chain_lines_feed(l, &hs, msg + o, len - o < step ? len - o : step, sink, NULL);
	struct hook_result r = chain_lines_end(l, &hs, sink, NULL);
	chain_lines_free(l);
	if (r.verdict == HOOK_DECLINED)
		r = chain_data_end(c, &hs, len, false);
	return r;
}

static struct chain *
checks(const char *rules)
{
	char xml[4096];
	snprintf(xml, sizeof(xml),
	    "<handlerchain>\n<handler class=\"HeaderChecksFilter\">\n%s</handler>\n</handlerchain>\n",
	    rules);
	size_t errors;
	struct chain *c = chain_diags_from(xml, &errors);
	ck_assert_msg(errors == 0, "%s", diags);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->v[0].def->name, "HeaderChecksFilter");
	chain_session_begin(c, &hs);
	return c;
}

static void
done(struct chain *c)
{
	chain_session_end(c, &hs);
	chain_free(c);
}

#define VIAGRA "<reject pattern=\"^Subject:.*viagra\"/>\n"

START_TEST(reject_defaults_and_case)
{
	struct chain *c = checks(VIAGRA);
	static const char msg[] = "From: a@example.com\r\nSUBJECT: Cheap VIAGRA\r\n"
				  "To: b@example.com\r\n\r\nbody\r\n";
	for (size_t step = 0; step < sizeof(msg); step++) {
		struct hook_result r = run(c, msg, sizeof(msg) - 1, step);
		ck_assert_int_eq(r.verdict, HOOK_DENY);
		ck_assert_int_eq(r.code, 550);
		ck_assert_str_eq(r.ecode, "5.7.1");
		ck_assert_str_eq(r.text, "Message content rejected");
	}
	/* A clean message goes through whole. */
	static const char clean[] = "Subject: hello\r\n\r\nviagra\r\n";
	struct hook_result r = run(c, clean, sizeof(clean) - 1, 0);
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
	ck_assert_uint_eq(out_len, sizeof(clean) - 1);
	ck_assert(memcmp(out, clean, out_len) == 0);
	done(c);
}
END_TEST

START_TEST(folded_fields_are_unfolded)
{
	struct chain *c = checks(
	    "<reject pattern=\"^Subject: cheap[[:space:]]+viagra[[:space:]]+now$\"/>\n");
	static const char msg[] = "Subject: cheap\r\n viagra\r\n now\r\nTo: b@example.com\r\n\r\n";
	for (size_t step = 0; step < sizeof(msg); step++)
		ck_assert_int_eq(run(c, msg, sizeof(msg) - 1, step).verdict, HOOK_DENY);
	/* Tab folding (the tab stays, the CRLF goes), the field last in the
	 * header block. */
	static const char tab[] = "To: b\r\nSubject: cheap\r\n\tviagra\r\n now\r\n\r\nbody\r\n";
	ck_assert_int_eq(run(c, tab, sizeof(tab) - 1, 0).verdict, HOOK_DENY);
	/* "$" is the end of the field, not of its first line. */
	static const char more[] = "Subject: cheap\r\n viagra\r\n now!\r\n\r\n";
	ck_assert_int_eq(run(c, more, sizeof(more) - 1, 0).verdict, HOOK_DECLINED);
	/* Each field on its own: two fields do not make one. */
	static const char two[] = "Subject: cheap\r\nX: viagra now\r\n\r\n";
	ck_assert_int_eq(run(c, two, sizeof(two) - 1, 0).verdict, HOOK_DECLINED);
	/* Bare LF line ends are lines too. */
	static const char lf[] = "Subject: cheap\n viagra\n now\n\nbody\n";
	ck_assert_int_eq(run(c, lf, sizeof(lf) - 1, 0).verdict, HOOK_DENY);
	done(c);
}
END_TEST

START_TEST(header_rules_do_not_see_the_body)
{
	struct chain *c = checks(VIAGRA "<body_reject pattern=\"^X-Body: yes$\" code=\"554\" "
					 "ecode=\"5.7.0\">Body rejected</body_reject>\n");
	static const char msg[] = "From: a@example.com\r\n\r\nSubject: viagra\r\n";
	struct hook_result r = run(c, msg, sizeof(msg) - 1, 0);
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
	ck_assert_uint_eq(out_len, sizeof(msg) - 1);
	/* Nor a body rule the header block. */
	static const char hdr[] = "X-Body: yes\r\n\r\nno\r\n";
	ck_assert_int_eq(run(c, hdr, sizeof(hdr) - 1, 0).verdict, HOOK_DECLINED);
	/* The body rule on a body line (CRLF removed), in any chunks. */
	static const char body[] = "From: a\r\n\r\nfirst\r\nx-body: YES\r\nlast\r\n";
	for (size_t step = 0; step < sizeof(body); step++) {
		r = run(c, body, sizeof(body) - 1, step);
		ck_assert_int_eq(r.verdict, HOOK_DENY);
		ck_assert_int_eq(r.code, 554);
		ck_assert_str_eq(r.ecode, "5.7.0");
		ck_assert_str_eq(r.text, "Body rejected");
		/* The rest of the message is not stored. */
		ck_assert(memmem(out, out_len, "last", 4) == NULL);
	}
	/* A message of header fields only: the last field at the end of the data. */
	static const char only[] = "From: a\r\nSubject: viagra";
	ck_assert_int_eq(run(c, only, sizeof(only) - 1, 0).verdict, HOOK_DENY);
	static const char only2[] = "From: a\r\nSubject: viagra\r\n";
	ck_assert_int_eq(run(c, only2, sizeof(only2) - 1, 3).verdict, HOOK_DENY);
	/* A field left from a message cut short is not the next one's. */
	struct chain_lines *l = chain_lines_new(c, HOOK_LINE_MAX);
	chain_lines_feed(l, &hs, "Subject: viagra\r\n", 17, sink, NULL);
	chain_lines_free(l);
	hs.tx_serial++;
	ck_assert_int_eq(chain_data_end(c, &hs, 0, false).verdict, HOOK_DECLINED);
	done(c);
}
END_TEST

START_TEST(long_fields_are_matched_on_their_start)
{
	struct chain *c = checks("<reject pattern=\"^X-Long: a+$\"/>\n"
				 "<defer pattern=\"^X-Start: b{5000}\" code=\"421\"/>\n");
	size_t n = 3 * HOOK_LINE_MAX;
	char *msg = malloc(n + 100);
	ck_assert_ptr_nonnull(msg);
	/* A field of 24 KiB all of a: its end is past what is matched, so
	 * "a+$" holds for the first part. */
	size_t o = (size_t)sprintf(msg, "X-Long: ");
	memset(msg + o, 'a', n);
	o += n;
	o += (size_t)sprintf(msg + o, "\r\n\r\nbody\r\n");
	for (size_t step = 1000; step <= 9000; step += 4000)
		ck_assert_int_eq(run(c, msg, o, step).verdict, HOOK_DENY);
	/* A long field whose start matches, folded after 10 KiB. */
	o = (size_t)sprintf(msg, "X-Start: ");
	memset(msg + o, 'b', 10000);
	o += 10000;
	o += (size_t)sprintf(msg + o, "\r\n c\r\n\r\n");
	struct hook_result r = run(c, msg, o, 0);
	ck_assert_int_eq(r.verdict, HOOK_DENYSOFT);
	ck_assert_int_eq(r.code, 421);
	ck_assert_str_eq(r.ecode, "4.7.1");
	/* What lies past the bound is not matched. */
	o = (size_t)sprintf(msg, "X-Late: ");
	memset(msg + o, 'c', 9000);
	o += 9000;
	o += (size_t)sprintf(msg + o, " Subject: viagra\r\n\r\n");
	done(c);
	c = checks("<reject pattern=\"viagra\"/>\n");
	ck_assert_int_eq(run(c, msg, o, 0).verdict, HOOK_DECLINED);
	/* A NUL does not hide the rest of a field. */
	static const char nul[] = "Subject: x\0 viagra\r\n\r\n";
	ck_assert_int_eq(run(c, nul, sizeof(nul) - 1, 0).verdict, HOOK_DENY);
	free(msg);
	done(c);
}
END_TEST

START_TEST(first_rule_decides)
{
	struct chain *c = checks("<defer pattern=\"^From:.*@slow\\.example\">Try later</defer>\n"
				 "<reject pattern=\"^From:\" code=\"554\"/>\n"
				 "<disconnect pattern=\"^X-Bot:\"/>\n");
	static const char slow[] = "From: a@slow.example\r\n\r\n";
	struct hook_result r = run(c, slow, sizeof(slow) - 1, 0);
	ck_assert_int_eq(r.verdict, HOOK_DENYSOFT);
	ck_assert_int_eq(r.code, 451);
	ck_assert_str_eq(r.ecode, "4.7.1");
	ck_assert_str_eq(r.text, "Try later");
	static const char other[] = "From: a@other.example\r\n\r\n";
	r = run(c, other, sizeof(other) - 1, 0);
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(r.code, 554);
	/* The first field that matches a rule decides, whatever rule. */
	static const char bot[] = "X-Bot: 1\r\nFrom: a@slow.example\r\n\r\n";
	r = run(c, bot, sizeof(bot) - 1, 0);
	ck_assert_int_eq(r.verdict, HOOK_DISCONNECT);
	ck_assert_int_eq(r.code, 554);
	done(c);
}
END_TEST

START_TEST(order_with_drop_headers)
{
	size_t errors;
	static const char msg[] = "Bcc: secret@example.com\r\nTo: b\r\n\r\nbody\r\n";
	/* Dropped first, so never seen. */
	struct chain *c = chain_diags_from("<handlerchain>\n<handler class=\"DropHeadersFilter\"/>\n"
				     "<handler class=\"HeaderChecksFilter\"><reject pattern=\"^bcc:\"/>"
				     "</handler>\n</handlerchain>\n",
	    &errors);
	ck_assert_uint_eq(errors, 0);
	chain_session_begin(c, &hs);
	ck_assert_int_eq(run(c, msg, sizeof(msg) - 1, 0).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(out_len, sizeof(msg) - 1 - 25);
	chain_session_end(c, &hs);
	chain_free(c);
	/* Checked first, so refused. */
	c = chain_diags_from("<handlerchain>\n"
		       "<handler class=\"HeaderChecksFilter\"><reject pattern=\"^bcc:\"/></handler>\n"
		       "<handler class=\"DropHeadersFilter\"/>\n</handlerchain>\n",
	    &errors);
	ck_assert_uint_eq(errors, 0);
	chain_session_begin(c, &hs);
	ck_assert_int_eq(run(c, msg, sizeof(msg) - 1, 0).verdict, HOOK_DENY);
	chain_session_end(c, &hs);
	chain_free(c);
}
END_TEST

START_TEST(config_errors)
{
	static const struct {
		const char *rules;
		const char *want;
	} bad[] = {
		{ "<reject pattern=\"a(b\"/>", ":3: <reject>: pattern=\"a(b\" is not a regular expression: " },
		{ "<reject/>", ":3: <reject>: pattern=\"...\" is required" },
		{ "<defer pattern=\"\"/>", ":3: <defer>: pattern=\"...\" is required" },
		{ "<reject pattern=\"x\" code=\"450\"/>", ":3: <reject>: code=\"450\" is not a 5xx reply code" },
		{ "<defer pattern=\"x\" code=\"550\"/>", ":3: <defer>: code=\"550\" is not a 4xx reply code" },
		{ "<body_defer pattern=\"x\" code=\"4x1\"/>", ":3: <body_defer>: code=\"4x1\" is not a 4xx" },
		{ "<disconnect pattern=\"x\" code=\"250\"/>", ":3: <disconnect>: code=\"250\" is not a 4xx or 5xx" },
		{ "<reject pattern=\"x\" code=\"570\"/>", "code=\"570\" is not a 5xx" },
		{ "<reject pattern=\"x\" ecode=\"4.7.1\"/>", ":3: <reject>: ecode=\"4.7.1\" is not an enhanced status code of class 5" },
		{ "<defer pattern=\"x\" code=\"421\" ecode=\"4.7\"/>", "ecode=\"4.7\" is not an" },
		{ "<reject pattern=\"x\" ecode=\"5.7.1000\"/>", "ecode=\"5.7.1000\" is not an" },
		{ "<reject pattern=\"x\">two\nlines</reject>", ":3: <reject>: the reply text must be printable US-ASCII on one line" },
		{ "<reject pattern=\"ok\"/>\n<body_reject pattern=\"[z-a]\"/>", ":4: <body_reject>: pattern=\"[z-a]\" is not a regular" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char xml[1024];
		snprintf(xml, sizeof(xml),
		    "<handlerchain>\n<handler class=\"HeaderChecksFilter\">\n%s\n</handler>\n"
		    "</handlerchain>\n",
		    bad[i].rules);
		size_t errors;
		struct chain *c = chain_diags_from(xml, &errors);
		ck_assert_msg(errors > 0, "no error for %s", bad[i].rules);
		ck_assert_msg(strstr(diags, bad[i].want) != NULL, "%s: want \"%s\", got \"%s\"",
		    bad[i].rules, bad[i].want, diags);
		chain_free(c);
	}
	/* Good ones, and an element of no rule, which is only a warning. */
	size_t errors;
	struct chain *c = chain_diags_from("<handlerchain>\n<handler class=\"HeaderChecksFilter\">\n"
				     "<reject pattern=\"x\" code=\"554\" ecode=\"5.7.0\"/>\n"
				     "<defer pattern=\"y\" code=\"450\" ecode=\"4.2.10\">Later</defer>\n"
				     "<disconnect pattern=\"z\" code=\"421\" ecode=\"4.7.0\"/>\n"
				     "<warn pattern=\"w\"/>\n"
				     "</handler>\n</handlerchain>\n",
	    &errors);
	ck_assert_msg(errors == 0, "%s", diags);
	ck_assert_ptr_nonnull(strstr(diags, ":6: <warn>: unknown element, ignored"));
	chain_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("header_checks");
	TCase *tc = tcase_create("header_checks");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, reject_defaults_and_case);
	tcase_add_test(tc, folded_fields_are_unfolded);
	tcase_add_test(tc, header_rules_do_not_see_the_body);
	tcase_add_test(tc, long_fields_are_matched_on_their_start);
	tcase_add_test(tc, first_rule_decides);
	tcase_add_test(tc, order_with_drop_headers);
	tcase_add_test(tc, config_errors);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

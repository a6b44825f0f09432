/*
 * test_chain_lines.c - the data_line filters' runner (handlers/chain_lines.c)
 * and DropHeadersFilter (handlers/fastfail/drop_headers.c).
 */
#include "../../handlers/chain.h"
#include "../../handlers/fastfail/fastfail.h"
#include "../../src/config/cfg_chain.h"
#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/config/config.h"
#include "chain_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct hook_session hs;

/* What the sink got. */
static char out[1 << 16];
static size_t out_len;

static void
sink(void *arg, const char *data, size_t len)
{
	(void)arg;
	ck_assert_uint_le(out_len + len, sizeof(out));
	memcpy(out + out_len, data, len);
	out_len += len;
}

/* Every filter call, as text: "<filter><where><cont><more>[data]\n". */
static char calls[1 << 17];
static size_t calls_len;

static void
record(char who, const struct hook_line *l)
{
	static const char wh[] = { 'H', 'S', 'B' };
	int k = snprintf(calls + calls_len, sizeof(calls) - calls_len, "%c%c%c%c[%.*s]\n", who,
	    wh[l->where], l->cont ? 'c' : '-', l->more ? 'm' : '-', (int)l->len, l->data);
	ck_assert_int_gt(k, 0);
	ck_assert_uint_lt(calls_len + (size_t)k, sizeof(calls));
	calls_len += (size_t)k;
}

static void
reset_out(void)
{
	out_len = 0;
	calls_len = 0;
	calls[0] = '\0';
}

static bool
starts(const struct hook_line *l, const char *p)
{
	return !l->cont && l->len >= strlen(p) && memcmp(l->data, p, strlen(p)) == 0;
}

/* A: drops "drop..." lines, replaces "two..." by two lines, answers a_verdict to "deny..." lines. */
static int a_verdict = HOOK_DENY;
static struct hook_result
filter_a(const struct hook_session *s, struct hook_line *l)
{
	(void)s;
	record('A', l);
	if (starts(l, "drop")) {
		l->replaced = true;
		l->out = "";
		l->out_len = 0;
	} else if (starts(l, "two")) {
		l->replaced = true;
		l->out = "x1\r\ny2\r\n";
		l->out_len = 8;
	} else if (starts(l, "deny")) {
		return (struct hook_result){ .verdict = (enum hook_verdict)a_verdict };
	}
	return HOOK_RESULT_DECLINED;
}

static struct hook_result
filter_b(const struct hook_session *s, struct hook_line *l)
{
	(void)s;
	record('B', l);
	return HOOK_RESULT_DECLINED;
}

/* C: the separator becomes a header field plus the separator. */
static struct hook_result
filter_c(const struct hook_session *s, struct hook_line *l)
{
	(void)s;
	record('C', l);
	if (l->where == HOOK_LINE_SEPARATOR) {
		l->replaced = true;
		l->out = "X-C: 1\r\n\r\n";
		l->out_len = 10;
	}
	return HOOK_RESULT_DECLINED;
}

/* D: drops the separator (everything after it is header to the later filters). */
static struct hook_result
filter_d(const struct hook_session *s, struct hook_line *l)
{
	(void)s;
	record('D', l);
	if (l->where == HOOK_LINE_SEPARATOR) {
		l->replaced = true;
		l->out = "";
		l->out_len = 0;
	}
	return HOOK_RESULT_DECLINED;
}

static const struct handler_def def_a = { .name = "A", .data_line = filter_a };
static const struct handler_def def_b = { .name = "B", .data_line = filter_b };
static const struct handler_def def_c = { .name = "C", .data_line = filter_c };
static const struct handler_def def_d = { .name = "D", .data_line = filter_d };
static const struct handler_def def_none = { .name = "none" };

static struct chain *
chain_of(const struct handler_def *const *defs, size_t n)
{
	struct chain *c = chain_new();
	for (size_t i = 0; i < n; i++)
		chain_add(c, defs[i], NULL, 0);
	chain_add_core(c, CHAIN_CORE_SMTP);
	chain_session_begin(c, &hs);
	return c;
}

static void
chain_done(struct chain *c)
{
	chain_session_end(c, &hs);
	chain_free(c);
}

static void
setup(void)
{
	memset(&hs, 0, sizeof(hs));
	hs.id = "test";
	reset_out();
	a_verdict = HOOK_DENY;
}

/* Feeds msg to a new splitter in chunks of size step (0: at once), then ends it. */
static struct hook_result
run(const struct chain *c, size_t max, const char *msg, size_t len, size_t step)
{
	struct chain_lines *l = chain_lines_new(c, max);
	struct hook_result r = HOOK_RESULT_DECLINED;
	if (step == 0)
		step = len > 0 ? len : 1;
	for (size_t o = 0; o < len; o += step)
		r = chain_lines_feed(l, &hs, msg + o, len - o < step ? len - o : step, sink, NULL);
	struct hook_result e = chain_lines_end(l, &hs, sink, NULL);
	ck_assert_int_eq(e.verdict, r.verdict == HOOK_DECLINED ? e.verdict : r.verdict);
	chain_lines_free(l);
	return e;
}

START_TEST(only_chains_with_a_line_filter_split)
{
	ck_assert(!chain_has_data_line(chain_core()));
	const struct handler_def *d1[] = { &def_none };
	struct chain *c = chain_of(d1, 1);
	ck_assert(!chain_has_data_line(c));
	chain_done(c);
	const struct handler_def *d2[] = { &def_none, &def_b };
	c = chain_of(d2, 2);
	ck_assert(chain_has_data_line(c));
	chain_done(c);
	chain_lines_free(NULL);
}
END_TEST

START_TEST(lines_in_order_with_header_and_body)
{
	const struct handler_def *d[] = { &def_a, &def_none, &def_b };
	struct chain *c = chain_of(d, 3);
	const char *msg = "Subject: x\r\n folded\r\n\r\nbody\r\n\r\nlast";
	struct hook_result r = run(c, HOOK_LINE_MAX, msg, strlen(msg), 0);
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
	ck_assert_str_eq(calls, "AH--[Subject: x\r\n]\n"
				"BH--[Subject: x\r\n]\n"
				"AH--[ folded\r\n]\n"
				"BH--[ folded\r\n]\n"
				"AS--[\r\n]\n"
				"BS--[\r\n]\n"
				"AB--[body\r\n]\n"
				"BB--[body\r\n]\n"
				"AB--[\r\n]\n"
				"BB--[\r\n]\n"
				"AB--[last]\n"
				"BB--[last]\n");
	ck_assert_uint_eq(out_len, strlen(msg));
	ck_assert(memcmp(out, msg, out_len) == 0);
	chain_done(c);
}
END_TEST

START_TEST(drop_and_replace)
{
	const struct handler_def *d[] = { &def_a, &def_b };
	struct chain *c = chain_of(d, 2);
	const char *msg = "H: 1\r\ndrop: me\r\ntwo: lines\r\n\r\ndrop body\r\ntwo\r\nend\r\n";
	struct hook_result r = run(c, HOOK_LINE_MAX, msg, strlen(msg), 0);
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
	const char *want = "H: 1\r\nx1\r\ny2\r\n\r\nx1\r\ny2\r\nend\r\n";
	ck_assert_uint_eq(out_len, strlen(want));
	ck_assert(memcmp(out, want, out_len) == 0);
	/* B sees the replacement as lines of its own stream, never the dropped ones. */
	ck_assert_ptr_null(strstr(calls, "B" "H--[drop"));
	ck_assert_ptr_nonnull(strstr(calls, "BH--[x1\r\n]\nBH--[y2\r\n]\n"));
	ck_assert_ptr_nonnull(strstr(calls, "BB--[x1\r\n]\nBB--[y2\r\n]\n"));
	chain_done(c);
}
END_TEST

START_TEST(each_filter_has_its_own_boundary)
{
	/* C adds a field before the separator: D sees it as header. D drops
	 * the separator: B sees the body as header still. */
	const struct handler_def *d[] = { &def_c, &def_d, &def_b };
	struct chain *c = chain_of(d, 3);
	const char *msg = "A: 1\r\n\r\nBody: 2\r\n";
	run(c, HOOK_LINE_MAX, msg, strlen(msg), 0);
	ck_assert_str_eq(calls, "CH--[A: 1\r\n]\n"
				"DH--[A: 1\r\n]\n"
				"BH--[A: 1\r\n]\n"
				"CS--[\r\n]\n"
				"DH--[X-C: 1\r\n]\n"
				"BH--[X-C: 1\r\n]\n"
				"DS--[\r\n]\n"
				"CB--[Body: 2\r\n]\n"
				"DB--[Body: 2\r\n]\n"
				"BH--[Body: 2\r\n]\n");
	const char *want = "A: 1\r\nX-C: 1\r\nBody: 2\r\n";
	ck_assert_uint_eq(out_len, strlen(want));
	ck_assert(memcmp(out, want, out_len) == 0);
	chain_done(c);
}
END_TEST

START_TEST(refusals_stop_the_filters)
{
	static const struct {
		int verdict;
		int code;
		const char *ecode;
	} t[] = {
		{ HOOK_DENY, 554, NULL },
		{ HOOK_DENYSOFT, 451, NULL },
		{ HOOK_DISCONNECT, 554, NULL },
		{ HOOK_PENDING, 451, "4.3.0" }, /* no waiting here */
	};
	const struct handler_def *d[] = { &def_a, &def_b };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct chain *c = chain_of(d, 2);
		reset_out();
		a_verdict = t[i].verdict;
		const char *msg = "H: 1\r\n\r\nok\r\ndeny\r\nafter\r\n";
		struct chain_lines *l = chain_lines_new(c, HOOK_LINE_MAX);
		struct hook_result r = chain_lines_feed(l, &hs, msg, 16, sink, NULL);
		ck_assert_int_eq(r.verdict, HOOK_DECLINED);
		r = chain_lines_feed(l, &hs, msg + 16, strlen(msg) - 16, sink, NULL);
		int want = t[i].verdict == HOOK_PENDING ? HOOK_DENYSOFT : t[i].verdict;
		ck_assert_int_eq(r.verdict, want);
		ck_assert_int_eq(r.code, t[i].code);
		ck_assert_ptr_nonnull(r.text);
		if (t[i].ecode != NULL)
			ck_assert_str_eq(r.ecode, t[i].ecode);
		/* Nothing after the refusal reaches a filter or the sink. */
		size_t calls_then = calls_len;
		ck_assert_int_eq(chain_lines_feed(l, &hs, "more\r\n", 6, sink, NULL).verdict, want);
		ck_assert_int_eq(chain_lines_end(l, &hs, sink, NULL).verdict, want);
		ck_assert_int_eq(chain_lines_result(l).verdict, want);
		ck_assert_uint_eq(calls_len, calls_then);
		ck_assert_ptr_null(strstr(calls, "B" "B--[deny"));
		const char *stored = "H: 1\r\n\r\nok\r\n";
		ck_assert_uint_eq(out_len, strlen(stored));
		ck_assert(memcmp(out, stored, out_len) == 0);
		chain_lines_free(l);
		chain_done(c);
	}
}
END_TEST

START_TEST(long_lines_come_in_pieces)
{
	const struct handler_def *d[] = { &def_b };
	struct chain *c = chain_of(d, 1);
	/* 20 octets + CRLF with max 8: 8, 8, then 4 + CRLF (6, within 8). */
	const char *msg = "0123456789abcdefghij\r\n\r\n";
	run(c, 8, msg, strlen(msg), 0);
	ck_assert_str_eq(calls, "BH-m[01234567]\n"
				"BHcm[89abcdef]\n"
				"BHc-[ghij\r\n]\n"
				"BS--[\r\n]\n");
	/* A CR at the end of a piece waits for the next one (CRLF never split). */
	reset_out();
	const char *cr = "0123456\r\nxxxxxxxy\r\n0123456\rx\r\n";
	run(c, 8, cr, strlen(cr), 0);
	ck_assert_str_eq(calls, "BH-m[0123456]\n"
				"BHc-[\r\n]\n"
				"BH-m[xxxxxxxy]\n"
				"BHc-[\r\n]\n"
				"BH-m[0123456]\n"
				"BHc-[\rx\r\n]\n");
	ck_assert_uint_eq(out_len, strlen(cr));
	ck_assert(memcmp(out, cr, out_len) == 0);
	/* A last line without CRLF (BDAT) comes at the end, more unset. */
	reset_out();
	run(c, 8, "A: 1\r\n\r\nabcdefghijk", 19, 0);
	ck_assert_str_eq(calls, "BH--[A: 1\r\n]\n"
				"BS--[\r\n]\n"
				"BB-m[abcdefgh]\n"
				"BBc-[ijk]\n");
	chain_done(c);
}
END_TEST

/* Every chunk size gives the same calls and the same stored data. */
START_TEST(chunking_does_not_matter)
{
	const struct handler_def *d[] = { &def_c, &def_a, &def_b };
	struct chain *c = chain_of(d, 3);
	const char *msg = "Subject: a long subject line that is cut\r\n"
			  "drop: this\r\n"
			  "\tand its fold\r\n"
			  "two: x\r\n"
			  "X-CR: a\rb\r\n"
			  "\r\n"
			  "two\r\n"
			  "0123456789012345678901234567890123456789\r\n"
			  "\r\r\n"
			  "tail without CRLF 0123456789";
	size_t len = strlen(msg);
	run(c, 16, msg, len, 0);
	char want_calls[sizeof(calls)], want_out[sizeof(out)];
	size_t want_calls_len = calls_len, want_out_len = out_len;
	memcpy(want_calls, calls, calls_len);
	memcpy(want_out, out, out_len);
	ck_assert_uint_gt(want_out_len, 0);
	for (size_t step = 1; step <= len; step++) {
		reset_out();
		run(c, 16, msg, len, step);
		ck_assert_msg(calls_len == want_calls_len &&
			memcmp(calls, want_calls, calls_len) == 0,
		    "calls differ with chunks of %zu", step);
		ck_assert_msg(out_len == want_out_len && memcmp(out, want_out, out_len) == 0,
		    "stored data differs with chunks of %zu", step);
	}
	chain_done(c);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* DropHeadersFilter                                                      */


static const char drop_msg[] = "Return-Path: <evil@example.com>\r\n"
			       "From: a@example.com\r\n"
			       "BCC: hidden@example.com,\r\n"
			       "\tother@example.com\r\n"
			       "To: b@example.com\r\n"
			       "Content-Length: 12\r\n"
			       "Resent-Bcc : x@example.com\r\n"
			       "X-Keep: Bcc: not a field name\r\n"
			       "\r\n"
			       "Bcc: keep-me\r\n"
			       " continued\r\n";

START_TEST(drop_headers_default_list)
{
	size_t errors;
	struct chain *c = chain_from("<handlerchain>\n"
				     "<handler class=\"DropHeadersFilter\"/>\n"
				     "</handlerchain>\n",
	    &errors);
	ck_assert_uint_eq(errors, 0);
	ck_assert_str_eq(c->v[0].def->name, "DropHeadersFilter");
	chain_session_begin(c, &hs);
	for (size_t step = 1; step <= sizeof(drop_msg) - 1; step++) {
		reset_out();
		hs.tx_serial++;
		run(c, HOOK_LINE_MAX, drop_msg, sizeof(drop_msg) - 1, step);
		const char *want = "From: a@example.com\r\n"
				   "To: b@example.com\r\n"
				   "X-Keep: Bcc: not a field name\r\n"
				   "\r\n"
				   "Bcc: keep-me\r\n"
				   " continued\r\n";
		ck_assert_msg(out_len == strlen(want) && memcmp(out, want, out_len) == 0,
		    "chunks of %zu: got [%.*s]", step, (int)out_len, out);
	}
	chain_session_end(c, &hs);
	chain_free(c);
}
END_TEST

START_TEST(drop_headers_configured)
{
	size_t errors;
	struct chain *c = chain_from("<handlerchain>\n"
				     "<handler class=\"DropHeadersFilter\">\n"
				     "  <header>x-keep</header>\n"
				     "  <header>bcc</header>\n"
				     "</handler>\n"
				     "</handlerchain>\n",
	    &errors);
	ck_assert_uint_eq(errors, 0);
	chain_session_begin(c, &hs);
	run(c, HOOK_LINE_MAX, drop_msg, sizeof(drop_msg) - 1, 0);
	const char *want = "Return-Path: <evil@example.com>\r\n"
			   "From: a@example.com\r\n"
			   "To: b@example.com\r\n"
			   "Content-Length: 12\r\n"
			   "Resent-Bcc : x@example.com\r\n"
			   "\r\n"
			   "Bcc: keep-me\r\n"
			   " continued\r\n";
	ck_assert_msg(out_len == strlen(want) && memcmp(out, want, out_len) == 0, "got [%.*s]",
	    (int)out_len, out);

	/* A message cut short inside a dropped field: the next one starts afresh. */
	reset_out();
	struct chain_lines *l = chain_lines_new(c, HOOK_LINE_MAX);
	chain_lines_feed(l, &hs, "Bcc: x\r\n", 8, sink, NULL);
	chain_lines_free(l);
	hs.tx_serial++;
	run(c, HOOK_LINE_MAX, " first\r\nA: b\r\n\r\n", 16, 0);
	ck_assert_uint_eq(out_len, 16);

	/* A field longer than a piece goes as a whole. */
	reset_out();
	hs.tx_serial++;
	char big[3 * HOOK_LINE_MAX];
	size_t o = (size_t)snprintf(big, sizeof(big), "Bcc: ");
	memset(big + o, 'x', 2 * HOOK_LINE_MAX);
	o += 2 * HOOK_LINE_MAX;
	o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\nA: b\r\n\r\nbody\r\n");
	run(c, HOOK_LINE_MAX, big, o, 1000);
	ck_assert_uint_eq(out_len, 14);
	ck_assert(memcmp(out, "A: b\r\n\r\nbody\r\n", 14) == 0);
	chain_session_end(c, &hs);
	chain_free(c);
}
END_TEST

START_TEST(drop_headers_bad_names)
{
	const char *bad[] = {
		"<handlerchain><handler class=\"DropHeadersFilter\"><header>Bc c</header>"
		"</handler></handlerchain>",
		"<handlerchain><handler class=\"DropHeadersFilter\"><header>Bcc:</header>"
		"</handler></handlerchain>",
		"<handlerchain><handler class=\"DropHeadersFilter\"><header></header>"
		"</handler></handlerchain>",
		"<handlerchain><handler class=\"DropHeadersFilter\"><header>To</header>"
		"<header>F\xc3\xbc</header></handler></handlerchain>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t errors;
		struct chain *c = chain_from(bad[i], &errors);
		ck_assert_msg(errors > 0, "no error for %s", bad[i]);
		chain_free(c);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("chain_lines");
	TCase *tc = tcase_create("lines");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, only_chains_with_a_line_filter_split);
	tcase_add_test(tc, lines_in_order_with_header_and_body);
	tcase_add_test(tc, drop_and_replace);
	tcase_add_test(tc, each_filter_has_its_own_boundary);
	tcase_add_test(tc, refusals_stop_the_filters);
	tcase_add_test(tc, long_lines_come_in_pieces);
	tcase_add_test(tc, chunking_does_not_matter);
	tcase_add_test(tc, drop_headers_default_list);
	tcase_add_test(tc, drop_headers_configured);
	tcase_add_test(tc, drop_headers_bad_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

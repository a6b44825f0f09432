/*
 * fuzz_lines.c - libFuzzer target: the data_line filters' line splitter
 * and header/body separation (handlers/chain_lines.c).
 *
 * The first octet gives the chunk length, the second the longest piece
 * (2 to 33), the third whether the first filter acts; the rest is the
 * message data. A chain of two filters runs over it: R drops lines that
 * start with 'D', replaces lines that start with 'R' by "r1\r\nr2" (a line
 * and a half), turns the separator into a field and a separator when the
 * data starts with 'S', and refuses at a line starting with 'X'; V checks
 * every piece it gets (length, a LF only at the end, cont and more agree
 * with the line before, where agrees with the blank line of its whole
 * stream) and keeps its stream. The data is fed whole, in chunks and octet
 * by octet: the three must agree on every call V saw, on the stored data
 * and on the answer; the stored data is what V saw, and is the input
 * itself when R does nothing.
 */
#include "fuzz_util.h"
#include "../../handlers/chain.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		FUZZ_CHECK(b->p != NULL);
	}
	if (n > 0)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* What one run saw. */
static struct {
	size_t max;
	bool act;
	bool sep_add;
	struct buf stored;
	struct buf vstream; /* V's stream */
	struct buf vcalls;  /* V's calls: where, cont, more, length, octets */
	bool v_mid;         /* V's last piece did not end its line */
	bool v_body;        /* V's stream is past its blank line */
	size_t v_line;      /* where V's current line starts in vstream */
} run;

static void
fuzz_sink(void *arg, const char *data, size_t len)
{
	(void)arg;
	FUZZ_CHECK(len > 0);
	buf_add(&run.stored, data, len);
}

static struct hook_result
filter_r(const struct hook_session *s, struct hook_line *l)
{
	(void)s;
	FUZZ_CHECK(l->len > 0 && l->len <= run.max);
	if (!run.act || l->cont)
		return HOOK_RESULT_DECLINED;
	if (l->where == HOOK_LINE_SEPARATOR && run.sep_add) {
		l->replaced = true;
		l->out = "X-Sep: 1\r\n\r\n";
		l->out_len = 12;
	} else if (l->data[0] == 'D') {
		l->replaced = true;
		l->out = "";
		l->out_len = 0;
	} else if (l->data[0] == 'R') {
		l->replaced = true;
		l->out = "r1\r\nr2";
		l->out_len = 6;
	} else if (l->data[0] == 'X') {
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 550 };
	}
	return HOOK_RESULT_DECLINED;
}

static struct hook_result
filter_v(const struct hook_session *s, struct hook_line *l)
{
	(void)s;
	FUZZ_CHECK(l->len > 0 && l->len <= run.max);
	const char *lf = memchr(l->data, '\n', l->len);
	bool ends = lf != NULL;
	FUZZ_CHECK(!ends || lf == l->data + l->len - 1); /* one LF, at the end */
	FUZZ_CHECK(!(ends && l->more));
	FUZZ_CHECK(l->cont == run.v_mid);
	/* A piece that ends in CR never leaves the LF for the next one. */
	if (l->cont && run.vstream.len > 0 && run.vstream.p[run.vstream.len - 1] == '\r')
		FUZZ_CHECK(l->data[0] != '\n');
	buf_add(&run.vstream, l->data, l->len);
	/* The header block ends at the first line of only CRs (its whole line). */
	bool blank = true;
	for (size_t i = run.v_line; i < run.vstream.len - (ends ? 1 : 0); i++)
		if (run.vstream.p[i] != '\r')
			blank = false;
	if (run.v_body)
		FUZZ_CHECK(l->where == HOOK_LINE_BODY);
	else if (ends && blank)
		FUZZ_CHECK(l->where == HOOK_LINE_SEPARATOR);
	else
		FUZZ_CHECK(l->where == HOOK_LINE_HEADER);
	if (ends) {
		if (blank)
			run.v_body = true;
		run.v_line = run.vstream.len;
	}
	run.v_mid = !ends;
	char head[4] = { (char)('0' + l->where), l->cont ? 'c' : '-', l->more ? 'm' : '-', '|' };
	buf_add(&run.vcalls, head, 4);
	buf_add(&run.vcalls, l->data, l->len);
	return HOOK_RESULT_DECLINED;
}

static const struct handler_def def_r = { .name = "R", .data_line = filter_r };
static const struct handler_def def_v = { .name = "V", .data_line = filter_v };

struct result {
	struct buf stored, vcalls;
	struct hook_result r;
};

static void
fuzz_run(struct chain *c, const char *in, size_t len, size_t step, struct result *out)
{
	struct hook_session hs;
	memset(&hs, 0, sizeof(hs));
	hs.id = "fuzz";
	chain_session_begin(c, &hs);
	memset(&run.stored, 0, sizeof(run.stored));
	memset(&run.vstream, 0, sizeof(run.vstream));
	memset(&run.vcalls, 0, sizeof(run.vcalls));
	run.v_mid = run.v_body = false;
	run.v_line = 0;

	struct chain_lines *l = chain_lines_new(c, run.max);
	struct hook_result r = HOOK_RESULT_DECLINED;
	for (size_t o = 0; o < len; o += step) {
		size_t n = len - o < step ? len - o : step;
		r = chain_lines_feed(l, &hs, in + o, n, fuzz_sink, NULL);
	}
	struct hook_result e = chain_lines_end(l, &hs, fuzz_sink, NULL);
	FUZZ_CHECK(r.verdict == HOOK_DECLINED || e.verdict == r.verdict);
	chain_lines_free(l);
	chain_session_end(c, &hs);

	/* What is stored is exactly what the last filter saw. */
	FUZZ_CHECK(run.stored.len == run.vstream.len);
	FUZZ_CHECK(run.stored.len == 0 || memcmp(run.stored.p, run.vstream.p, run.stored.len) == 0);
	if (!run.act) {
		FUZZ_CHECK(e.verdict == HOOK_DECLINED);
		FUZZ_CHECK(run.stored.len == len && (len == 0 || memcmp(run.stored.p, in, len) == 0));
	}
	if (e.verdict != HOOK_DECLINED)
		FUZZ_CHECK(e.verdict == HOOK_DENY && e.code == 550 && e.text != NULL);
	out->stored = run.stored;
	out->vcalls = run.vcalls;
	out->r = e;
	free(run.vstream.p);
}

static void
fuzz_same(const struct result *a, const struct result *b)
{
	FUZZ_CHECK(a->r.verdict == b->r.verdict);
	FUZZ_CHECK(a->stored.len == b->stored.len);
	FUZZ_CHECK(a->stored.len == 0 || memcmp(a->stored.p, b->stored.p, a->stored.len) == 0);
	FUZZ_CHECK(a->vcalls.len == b->vcalls.len);
	FUZZ_CHECK(a->vcalls.len == 0 || memcmp(a->vcalls.p, b->vcalls.p, a->vcalls.len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t step = (size_t)data[0] + 1;
	run.max = (size_t)(data[1] & 31) + 2;
	run.act = (data[2] & 1) != 0;
	const char *in = (const char *)data + 3;
	size_t len = size - 3;
	run.sep_add = len > 0 && in[0] == 'S';

	struct chain *c = chain_new();
	chain_add(c, &def_r, NULL, 0);
	chain_add(c, &def_v, NULL, 0);
	struct result whole, chunked, bytes;
	fuzz_run(c, in, len, len > 0 ? len : 1, &whole);
	fuzz_run(c, in, len, step, &chunked);
	fuzz_run(c, in, len, 1, &bytes);
	fuzz_same(&whole, &chunked);
	fuzz_same(&whole, &bytes);
	chain_free(c);
	free(whole.stored.p);
	free(whole.vcalls.p);
	free(chunked.stored.p);
	free(chunked.vcalls.p);
	free(bytes.stored.p);
	free(bytes.vcalls.p);
	return 0;
}

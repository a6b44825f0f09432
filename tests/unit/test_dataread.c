/*
 * test_dataread.c - table-driven tests of the DATA stream decoder
 * (src/protocol/dataread.c). Every table input is decoded whole, split
 * into two chunks at every position, and byte by byte; all must agree.
 * A simple line-at-a-time reference decoder is checked against it on
 * pseudo-random inputs.
 */
#include "../../src/protocol/dataread.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN(s)    .in = (s), .len = sizeof(s) - 1
#define OUT(s)   .out = (s), .outlen = sizeof(s) - 1
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ALL      ((size_t)-1) /* consumed: the whole input */

enum { F_BIG = 1, F_LONG = 2, F_NUL = 4, F_8BIT = 8 };

/* clang-format off */
static const struct dr_case {
	const char *in;
	size_t len;
	uint64_t max_size;
	size_t max_line;
	enum dataread_result res;
	const char *out;
	size_t outlen;
	size_t consumed;
	int flags;
} dr_cases[] = {
	/* end of data */
	{ IN(".\r\n"), 0, 0, DATAREAD_END, OUT(""), ALL },
	{ IN("abc\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("abc\r\n"), ALL },
	{ IN("\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("\r\n"), ALL },
	{ IN("a\r\nb\r\n\r\nc\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("a\r\nb\r\n\r\nc\r\n"), ALL },
	{ IN("a.\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("a.\r\n"), ALL },
	{ IN("a\r\n. \r\n.\r\n"), 0, 0, DATAREAD_END, OUT("a\r\n \r\n"), ALL },

	/* dot-stuffing (RFC 5321 4.5.2) */
	{ IN("a\r\n..b\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("a\r\n.b\r\n"), ALL },
	{ IN("..\r\n.\r\n"), 0, 0, DATAREAD_END, OUT(".\r\n"), ALL },
	{ IN("...\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("..\r\n"), ALL },
	{ IN(".abc\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("abc\r\n"), ALL },
	{ IN("..\r\n..\r\n.\r\n"), 0, 0, DATAREAD_END, OUT(".\r\n.\r\n"), ALL },
	{ IN("x\r\n.a.b.\r\n..c\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("x\r\na.b.\r\n.c\r\n"), ALL },

	/* pipelined commands after the marker are not consumed */
	{ IN("abc\r\n.\r\nQUIT\r\n"), 0, 0, DATAREAD_END, OUT("abc\r\n"), 8 },
	{ IN("abc\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"), 0, 0, DATAREAD_END,
	    OUT("abc\r\n"), 8 },
	{ IN(".\r\n.\r\n"), 0, 0, DATAREAD_END, OUT(""), 3 },
	{ IN("a\r\n.\r\n\n"), 0, 0, DATAREAD_END, OUT("a\r\n"), 6 },
	{ IN("a\r\n.\r\n\r"), 0, 0, DATAREAD_END, OUT("a\r\n"), 6 },

	/* not finished */
	{ IN(""), 0, 0, DATAREAD_MORE, OUT(""), ALL },
	{ IN("abc"), 0, 0, DATAREAD_MORE, OUT("abc"), ALL },
	{ IN("abc\r"), 0, 0, DATAREAD_MORE, OUT("abc\r"), ALL },
	{ IN("abc\r\n"), 0, 0, DATAREAD_MORE, OUT("abc\r\n"), ALL },
	{ IN("abc\r\n."), 0, 0, DATAREAD_MORE, OUT("abc\r\n"), ALL },
	{ IN("abc\r\n.\r"), 0, 0, DATAREAD_MORE, OUT("abc\r\n"), ALL },
	{ IN("abc\r\n.."), 0, 0, DATAREAD_MORE, OUT("abc\r\n."), ALL },
	{ IN("\r\n.\r\r"), 0, 0, DATAREAD_BARE_CR, OUT("\r\n"), 4 },
	{ IN("a\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("a\r\n"), ALL },

	/* smuggling: no bare LF or CR ever ends the data */
	{ IN("\n"), 0, 0, DATAREAD_BARE_LF, OUT(""), 0 },
	{ IN("a\n"), 0, 0, DATAREAD_BARE_LF, OUT("a"), 1 },
	{ IN("\n.\n"), 0, 0, DATAREAD_BARE_LF, OUT(""), 0 },
	{ IN("a\n.\n"), 0, 0, DATAREAD_BARE_LF, OUT("a"), 1 },
	{ IN("\n.\r\n"), 0, 0, DATAREAD_BARE_LF, OUT(""), 0 },
	{ IN("a\n.\r\n"), 0, 0, DATAREAD_BARE_LF, OUT("a"), 1 },
	{ IN("\r.\r"), 0, 0, DATAREAD_BARE_CR, OUT("\r"), 1 },
	{ IN("a\r.\r"), 0, 0, DATAREAD_BARE_CR, OUT("a\r"), 2 },
	{ IN("a\r.\r\n"), 0, 0, DATAREAD_BARE_CR, OUT("a\r"), 2 },
	{ IN("\r\n.\n"), 0, 0, DATAREAD_BARE_LF, OUT("\r\n"), 3 },
	{ IN("a\r\n.\n"), 0, 0, DATAREAD_BARE_LF, OUT("a\r\n"), 4 },
	{ IN("\r\n.\r\r\n"), 0, 0, DATAREAD_BARE_CR, OUT("\r\n"), 4 },
	{ IN("a\r\n.\r\r\n"), 0, 0, DATAREAD_BARE_CR, OUT("a\r\n"), 5 },
	{ IN("a\r\n.\rx"), 0, 0, DATAREAD_BARE_CR, OUT("a\r\n"), 5 },
	{ IN("a\r\n.\r."), 0, 0, DATAREAD_BARE_CR, OUT("a\r\n"), 5 },
	{ IN(".\n"), 0, 0, DATAREAD_BARE_LF, OUT(""), 1 },
	{ IN(".\r.\r\n"), 0, 0, DATAREAD_BARE_CR, OUT(""), 2 },
	{ IN("a\r\r\n"), 0, 0, DATAREAD_BARE_CR, OUT("a\r"), 2 },
	{ IN("\r\r\n.\r\n"), 0, 0, DATAREAD_BARE_CR, OUT("\r"), 1 },
	{ IN("a\rb"), 0, 0, DATAREAD_BARE_CR, OUT("a\r"), 2 },
	{ IN("ab\r\n.x\n.\r\n"), 0, 0, DATAREAD_BARE_LF, OUT("ab\r\nx"), 6 },
	{ IN("a\r\n\n.\r\n"), 0, 0, DATAREAD_BARE_LF, OUT("a\r\n"), 3 },
	{ IN("a\r\n..\n"), 0, 0, DATAREAD_BARE_LF, OUT("a\r\n."), 5 },
	{ IN("x\n.\nMAIL FROM:<evil@example.com>\r\n"), 0, 0, DATAREAD_BARE_LF, OUT("x"), 1 },
	{ IN("x\r\n.\nMAIL FROM:<evil@example.com>\r\n"), 0, 0, DATAREAD_BARE_LF, OUT("x\r\n"),
	    4 },

	/* NUL and 8-bit octets */
	{ IN("a\0b\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("a\0b\r\n"), ALL, F_NUL },
	{ IN("\0\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("\0\r\n"), ALL, F_NUL },
	{ IN(".\0\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("\0\r\n"), ALL, F_NUL },
	{ IN("caf\xc3\xa9\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("caf\xc3\xa9\r\n"), ALL, F_8BIT },
	{ IN("\xff\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("\xff\r\n"), ALL, F_8BIT },
	{ IN(".\x80\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("\x80\r\n"), ALL, F_8BIT },
	{ IN("\0\x80\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("\0\x80\r\n"), ALL, F_NUL | F_8BIT },
	{ IN("plain\r\n.\r\n\0\xff"), 0, 0, DATAREAD_END, OUT("plain\r\n"), 10 },

	/* size limit: content is 6 octets */
	{ IN("abcd\r\n.\r\n"), 6, 0, DATAREAD_END, OUT("abcd\r\n"), ALL },
	{ IN("abcd\r\n.\r\n"), 7, 0, DATAREAD_END, OUT("abcd\r\n"), ALL },
	{ IN("abcd\r\n.\r\n"), 5, 0, DATAREAD_END, OUT("abcd\r"), ALL, F_BIG },
	{ IN("abcd\r\n.\r\n"), 1, 0, DATAREAD_END, OUT("a"), ALL, F_BIG },
	{ IN("abcd\r\n.\r\nQUIT\r\n"), 4, 0, DATAREAD_END, OUT("abcd"), 9, F_BIG },
	{ IN("..\r\n.\r\n"), 3, 0, DATAREAD_END, OUT(".\r\n"), ALL },
	{ IN("..\r\n.\r\n"), 2, 0, DATAREAD_END, OUT(".\r"), ALL, F_BIG },
	{ IN("ab\r\ncd\r\n.\r\n"), 4, 0, DATAREAD_END, OUT("ab\r\n"), ALL, F_BIG },
	{ IN("ab\r\ncd\r\n.\r\n"), 8, 0, DATAREAD_END, OUT("ab\r\ncd\r\n"), ALL },
	{ IN("ab\r\ncd\r\n"), 8, 0, DATAREAD_MORE, OUT("ab\r\ncd\r\n"), ALL },
	{ IN("ab\r\ncd\r\nx"), 8, 0, DATAREAD_MORE, OUT("ab\r\ncd\r\n"), ALL, F_BIG },
	{ IN("abcdef\n"), 3, 0, DATAREAD_BARE_LF, OUT("abc"), 6, F_BIG },

	/* line length, counted as sent without CRLF (".." counts 2) */
	{ IN("abc\r\n.\r\n"), 0, 3, DATAREAD_END, OUT("abc\r\n"), ALL },
	{ IN("abcd\r\n.\r\n"), 0, 3, DATAREAD_END, OUT("abcd\r\n"), ALL, F_LONG },
	{ IN("abc\r\nabcd\r\nab\r\n.\r\n"), 0, 3, DATAREAD_END, OUT("abc\r\nabcd\r\nab\r\n"),
	    ALL, F_LONG },
	{ IN("...\r\n.\r\n"), 0, 3, DATAREAD_END, OUT("..\r\n"), ALL },
	{ IN("..ab\r\n.\r\n"), 0, 3, DATAREAD_END, OUT(".ab\r\n"), ALL, F_LONG },
	{ IN(".abc\r\n.\r\n"), 0, 3, DATAREAD_END, OUT("abc\r\n"), ALL, F_LONG },
	{ IN("abc\r\n\r\nabc\r\n.\r\n"), 0, 3, DATAREAD_END, OUT("abc\r\n\r\nabc\r\n"), ALL },
	{ IN("abcd"), 0, 3, DATAREAD_MORE, OUT("abcd"), ALL, F_LONG },
	{ IN("a\r\n.\r\n"), 0, 1, DATAREAD_END, OUT("a\r\n"), ALL },
	{ IN("ab\r\n.\r\n"), 0, 1, DATAREAD_END, OUT("ab\r\n"), ALL, F_LONG },
	{ IN("abcdefgh\r\n.\r\n"), 0, 0, DATAREAD_END, OUT("abcdefgh\r\n"), ALL },
};
/* clang-format on */

/* Collected output of one decoding. */
struct sink {
	char data[4096];
	size_t len;
	size_t calls;
};

static void
sink_emit(void *arg, const char *data, size_t len)
{
	struct sink *s = arg;

	ck_assert_uint_gt(len, 0);
	ck_assert_uint_le(len, sizeof(s->data) - s->len);
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->calls++;
}

/* The outcome of decoding one input. */
struct outcome {
	enum dataread_result res;
	size_t consumed;
	struct sink sink;
	struct dataread d;
};

/*
 * Decodes in[0..len) fed in chunks that end at cuts[0..ncuts) (ascending,
 * inside the input), stopping at the first final result. Checks that
 * every DATAREAD_MORE consumed its whole chunk.
 */
static void
feed_chunks(struct outcome *o, const char *in, size_t len, uint64_t max_size, size_t max_line,
    const size_t *cuts, size_t ncuts)
{
	size_t start = 0;

	memset(o, 0, sizeof(*o));
	dataread_init(&o->d, max_size, max_line);
	o->res = DATAREAD_MORE;
	for (size_t k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : len, used = (size_t)-1;
		o->res = dataread_feed(&o->d, in + start, end - start, &used, sink_emit, &o->sink);
		ck_assert_uint_le(used, end - start);
		o->consumed += used;
		if (o->res != DATAREAD_MORE)
			return;
		ck_assert_uint_eq(used, end - start);
		start = end;
	}
}

static void
check_outcome(const struct dr_case *c, const struct outcome *o, const char *how)
{
	size_t want = c->consumed == ALL ? c->len : c->consumed;

	ck_assert_msg(o->res == c->res, "%s: result %d, want %d", how, o->res, c->res);
	ck_assert_msg(o->consumed == want, "%s: consumed %zu, want %zu", how, o->consumed, want);
	ck_assert_msg(o->sink.len == c->outlen && memcmp(o->sink.data, c->out, c->outlen) == 0,
	    "%s: content \"%.*s\" (%zu), want %zu octets", how, (int)o->sink.len, o->sink.data,
	    o->sink.len, c->outlen);
	ck_assert_msg(o->d.size == o->sink.len, "%s: size %llu, emitted %zu", how,
	    (unsigned long long)o->d.size, o->sink.len);
	ck_assert_msg(o->d.too_big == ((c->flags & F_BIG) != 0), "%s: too_big", how);
	ck_assert_msg(o->d.line_too_long == ((c->flags & F_LONG) != 0), "%s: line_too_long", how);
	ck_assert_msg(o->d.has_nul == ((c->flags & F_NUL) != 0), "%s: has_nul", how);
	ck_assert_msg(o->d.has_8bit == ((c->flags & F_8BIT) != 0), "%s: has_8bit", how);
}

START_TEST(test_whole)
{
	const struct dr_case *c = &dr_cases[_i];
	struct outcome o;
	char how[64];

	snprintf(how, sizeof(how), "case %d whole", _i);
	feed_chunks(&o, c->in, c->len, c->max_size, c->max_line, NULL, 0);
	check_outcome(c, &o, how);
}
END_TEST

START_TEST(test_split)
{
	const struct dr_case *c = &dr_cases[_i];
	struct outcome o;
	char how[64];

	/* cut at 0 and at len too: an empty chunk must change nothing */
	for (size_t k = 0; k <= c->len; k++) {
		snprintf(how, sizeof(how), "case %d split at %zu", _i, k);
		feed_chunks(&o, c->in, c->len, c->max_size, c->max_line, &k, 1);
		check_outcome(c, &o, how);
	}
}
END_TEST

START_TEST(test_bytewise)
{
	const struct dr_case *c = &dr_cases[_i];
	size_t cuts[256];
	struct outcome o;
	char how[64];

	ck_assert_uint_lt(c->len, NELEM(cuts));
	for (size_t k = 0; k < c->len; k++)
		cuts[k] = k + 1;
	snprintf(how, sizeof(how), "case %d byte by byte", _i);
	feed_chunks(&o, c->in, c->len, c->max_size, c->max_line, cuts, c->len ? c->len - 1 : 0);
	check_outcome(c, &o, how);
}
END_TEST

/* Two messages pipelined in one buffer, the decoder re-initialised between. */
START_TEST(test_two_messages)
{
	static const char in[] = "first\r\n.\r\n..second\r\n.\r\nQUIT\r\n";
	struct dataread d;
	struct sink s = {.len = 0};
	size_t used, off;

	dataread_init(&d, 0, 1000);
	ck_assert_int_eq(dataread_feed(&d, in, sizeof(in) - 1, &used, sink_emit, &s), DATAREAD_END);
	ck_assert_uint_eq(used, 10);
	ck_assert_uint_eq(s.len, 7);
	ck_assert(memcmp(s.data, "first\r\n", 7) == 0);
	/* fed again without init: the same result, nothing consumed */
	ck_assert_int_eq(dataread_feed(&d, in + used, 5, &used, sink_emit, &s), DATAREAD_END);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(s.len, 7);

	off = 10;
	s.len = 0;
	dataread_init(&d, 0, 1000);
	ck_assert_int_eq(
	    dataread_feed(&d, in + off, sizeof(in) - 1 - off, &used, sink_emit, &s), DATAREAD_END);
	ck_assert_uint_eq(used, 13);
	ck_assert_uint_eq(s.len, 9);
	ck_assert(memcmp(s.data, ".second\r\n", 9) == 0);
	ck_assert_str_eq(in + off + used, "QUIT\r\n");
}
END_TEST

START_TEST(test_sticky_errors)
{
	struct dataread d;
	size_t used = 99;

	dataread_init(&d, 0, 0);
	ck_assert_int_eq(dataread_feed(&d, "a\nb", 3, &used, NULL, NULL), DATAREAD_BARE_LF);
	ck_assert_uint_eq(used, 1);
	ck_assert_int_eq(dataread_feed(&d, "\r\n.\r\n", 5, &used, NULL, NULL), DATAREAD_BARE_LF);
	ck_assert_uint_eq(used, 0);
	dataread_init(&d, 0, 0);
	ck_assert_int_eq(dataread_feed(&d, "a\r", 2, &used, NULL, NULL), DATAREAD_MORE);
	ck_assert_int_eq(dataread_feed(&d, "b", 1, &used, NULL, NULL), DATAREAD_BARE_CR);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(dataread_feed(&d, "\r\n.\r\n", 5, &used, NULL, NULL), DATAREAD_BARE_CR);
	ck_assert_uint_eq(used, 0);
	/* NULL emit: only the counters */
	dataread_init(&d, 0, 0);
	ck_assert_int_eq(dataread_feed(&d, "ab\r\n.\r\n", 7, &used, NULL, NULL), DATAREAD_END);
	ck_assert_uint_eq(d.size, 4);
}
END_TEST

/* A large message goes out in a few contiguous runs, not octet by octet. */
START_TEST(test_runs)
{
	static char in[64 * 1024];
	struct outcome *o = malloc(sizeof(*o));
	size_t n = 0;

	ck_assert_ptr_nonnull(o);
	while (n + 64 < 3000) {
		memset(in + n, 'x', 60);
		n += 60;
		memcpy(in + n, "\r\n", 2);
		n += 2;
	}
	memcpy(in + n, ".\r\n", 3);
	n += 3;
	feed_chunks(o, in, n, 0, 998, NULL, 0);
	ck_assert_int_eq(o->res, DATAREAD_END);
	ck_assert_uint_eq(o->consumed, n);
	ck_assert_uint_eq(o->sink.len, n - 3);
	ck_assert_uint_eq(o->sink.calls, 1);
	free(o);
}
END_TEST

/* ---- reference model -------------------------------------------------- */

struct ref {
	enum dataread_result res;
	size_t consumed;
	char out[256];
	size_t outlen;
	uint64_t max_size;
	bool too_big, line_too_long, has_nul, has_8bit;
};

static void
ref_emit(struct ref *r, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (r->max_size != 0 && r->outlen == r->max_size) {
			r->too_big = true;
			return;
		}
		r->out[r->outlen++] = p[i];
	}
}

/*
 * Decodes the way RFC 5321 describes it, one line at a time: find the
 * line's end, then decide. Written separately from the state machine.
 */
static void
ref_decode(struct ref *r, const char *in, size_t len, uint64_t max_size, size_t max_line)
{
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	r->max_size = max_size;
	for (;;) {
		size_t j = i, skip;
		bool dotline;

		while (j < len && in[j] != '\r' && in[j] != '\n')
			j++;
		for (size_t k = i; k < j; k++) {
			if (in[k] == '\0')
				r->has_nul = true;
			if ((unsigned char)in[k] >= 0x80)
				r->has_8bit = true;
		}
		if (max_line != 0 && j - i > max_line)
			r->line_too_long = true;
		skip = (j > i && in[i] == '.') ? 1 : 0;
		dotline = j - i == 1 && in[i] == '.';
		if (j == len) {
			ref_emit(r, in + i + skip, j - i - skip);
			r->res = DATAREAD_MORE;
			r->consumed = len;
			return;
		}
		if (in[j] == '\n') {
			ref_emit(r, in + i + skip, j - i - skip);
			r->res = DATAREAD_BARE_LF;
			r->consumed = j;
			return;
		}
		/* CR: its fate depends on the next octet */
		if (j + 1 < len && in[j + 1] == '\n' && dotline) {
			r->res = DATAREAD_END;
			r->consumed = j + 2;
			return;
		}
		if (!dotline) {
			ref_emit(r, in + i + skip, j - i - skip);
			ref_emit(r, "\r", 1);
		}
		if (j + 1 == len) {
			r->res = DATAREAD_MORE;
			r->consumed = len;
			return;
		}
		if (in[j + 1] != '\n') {
			r->res = DATAREAD_BARE_CR;
			r->consumed = j + 1;
			return;
		}
		ref_emit(r, "\n", 1);
		i = j + 2;
	}
}

static uint32_t
rnd_next(uint32_t *s)
{
	/* xorshift32: deterministic, so a failure can be reproduced */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

START_TEST(test_reference)
{
	static const char alphabet[] = {'.', '.', '\r', '\r', '\n', '\n', 'a', 'b', '\0', '\xe9'};
	uint32_t seed = 0x2545f491;
	char in[40];
	struct outcome *o = malloc(sizeof(*o));
	struct ref r;

	ck_assert_ptr_nonnull(o);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = rnd_next(&seed) % sizeof(in), cut[3];
		uint64_t max_size = rnd_next(&seed) % 4 == 0 ? rnd_next(&seed) % 12 : 0;
		size_t max_line = rnd_next(&seed) % 3 == 0 ? rnd_next(&seed) % 5 : 0;

		for (size_t k = 0; k < len; k++)
			in[k] = alphabet[rnd_next(&seed) % sizeof(alphabet)];
		/* three random cuts, sorted */
		for (size_t k = 0; k < 3; k++)
			cut[k] = len ? rnd_next(&seed) % (len + 1) : 0;
		for (size_t a = 0; a < 3; a++)
			for (size_t b = a + 1; b < 3; b++)
				if (cut[b] < cut[a]) {
					size_t t = cut[a];
					cut[a] = cut[b];
					cut[b] = t;
				}
		ref_decode(&r, in, len, max_size, max_line);
		feed_chunks(o, in, len, max_size, max_line, cut, 3);
		ck_assert_msg(
		    o->res == r.res, "iter %d: result %d, reference %d", iter, o->res, r.res);
		ck_assert_msg(o->consumed == r.consumed, "iter %d: consumed %zu, reference %zu",
		    iter, o->consumed, r.consumed);
		ck_assert_msg(o->sink.len == r.outlen && memcmp(o->sink.data, r.out, r.outlen) == 0,
		    "iter %d: content differs", iter);
		ck_assert_uint_eq(o->d.size, r.outlen);
		ck_assert_msg(o->d.too_big == r.too_big, "iter %d: too_big", iter);
		ck_assert_msg(
		    o->d.line_too_long == r.line_too_long, "iter %d: line_too_long", iter);
		ck_assert_msg(o->d.has_nul == r.has_nul, "iter %d: has_nul", iter);
		ck_assert_msg(o->d.has_8bit == r.has_8bit, "iter %d: has_8bit", iter);
	}
	free(o);
}
END_TEST

static Suite *
dataread_suite(void)
{
	Suite *s = suite_create("dataread");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_loop_test(tc, test_whole, 0, (int)NELEM(dr_cases));
	tcase_add_loop_test(tc, test_split, 0, (int)NELEM(dr_cases));
	tcase_add_loop_test(tc, test_bytewise, 0, (int)NELEM(dr_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_add_test(tc, test_two_messages);
	tcase_add_test(tc, test_sticky_errors);
	tcase_add_test(tc, test_runs);
	tcase_add_test(tc, test_reference);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dataread_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * chain_lines.c - the data_line filters' runner (chain.h, hook.h): cuts
 * the message data into lines, runs every data_line filter in chain order
 * and hands the result to the session's sink.
 *
 * Each filter sees a stream of its own (what the earlier filters passed
 * on), so the runner keeps, per chain position, where that stream is: in
 * the header block or the body, and whether a line is half given. A
 * filter's replacement text is cut into lines again for the later
 * filters; that recursion is at most as deep as the chain is long.
 *
 * Where a line is cut into pieces depends only on the line (the first LF
 * within max octets, else max octets, one less when the last is a CR), so
 * the filters see the same calls whatever the chunks the client's data
 * came in.
 */
#include "chain.h"

#include "../src/core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

/* Where the stream into one chain position is. */
struct line_pos {
	bool body;   /* past the separator */
	bool mid;    /* the last piece did not end its line */
	bool blank;  /* the current line has only CRs so far */
};

struct chain_lines {
	const struct chain *c;
	size_t max;
	char *buf;                 /* a line being assembled across chunks */
	size_t buf_len;
	struct hook_result result; /* DECLINED until a filter refused */
	chain_sink_fn *sink;
	void *arg;
	struct line_pos pos[];     /* one per chain entry */
};

bool
chain_has_data_line(const struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].def->data_line != NULL)
			return true;
	return false;
}

struct chain_lines *
chain_lines_new(const struct chain *c, size_t max)
{
	struct chain_lines *l = xcalloc(1, sizeof(*l) + c->n * sizeof(l->pos[0]));
	l->c = c;
	l->max = max < 2 ? 2 : max;
	l->buf = xmalloc(l->max);
	l->result = HOOK_RESULT_DECLINED;
	for (size_t i = 0; i < c->n; i++)
		l->pos[i].blank = true;
	return l;
}

void
chain_lines_free(struct chain_lines *l)
{
	if (l == NULL)
		return;
	free(l->buf);
	free(l);
}

struct hook_result
chain_lines_result(const struct chain_lines *l)
{
	return l->result;
}

/*
 * The length of the first piece of d[0..n): up to and including the first
 * LF within max octets; else max octets (max - 1 when the last is a CR,
 * so that CRLF stays in one piece) if n reaches max; else 0 (the line is
 * not complete yet).
 */
static size_t
piece_len(const char *d, size_t n, size_t max)
{
	const char *lf = memchr(d, '\n', n < max ? n : max);
	if (lf != NULL)
		return (size_t)(lf - d) + 1;
	if (n < max)
		return 0;
	return d[max - 1] == '\r' ? max - 1 : max;
}

/* Fills in where d[0..n) is in the stream of position p, and moves p on. */
static void
pos_advance(struct line_pos *p, const char *d, size_t n, bool final, struct hook_line *line)
{
	bool ends = n > 0 && d[n - 1] == '\n';
	line->cont = p->mid;
	line->more = !ends && !final;
	for (size_t i = 0; i < (ends ? n - 1 : n) && p->blank; i++)
		if (d[i] != '\r')
			p->blank = false;
	if (p->body)
		line->where = HOOK_LINE_BODY;
	else if (ends && p->blank) {
		line->where = HOOK_LINE_SEPARATOR;
		p->body = true;
	} else
		line->where = HOOK_LINE_HEADER;
	p->mid = !ends;
	if (ends)
		p->blank = true;
}

static bool lines_split(struct chain_lines *l, struct hook_session *s, size_t from,
    const char *d, size_t n, bool final);

/*
 * Runs d[0..n) (one line or piece) through the filters from chain index
 * from on, then into the sink. false once a filter refused.
 */
static bool
lines_run(struct chain_lines *l, struct hook_session *s, size_t from, const char *d, size_t n,
    bool final)
{
	const struct chain *c = l->c;
	for (size_t i = from; i < c->n; i++) {
		const struct handler_def *h = c->v[i].def;
		if (h->data_line == NULL)
			continue;
		struct hook_line line = { .data = d, .len = n };
		pos_advance(&l->pos[i], d, n, final, &line);
		s->conf = c->v[i].conf;
		s->state = s->slots != NULL ? &s->slots[i] : NULL;
		struct hook_result r = h->data_line(s, &line);
		if (r.verdict == HOOK_PENDING)
			r = (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451,
				.ecode = "4.3.0", .text = "Unable to process request" };
		if (r.verdict == HOOK_DENY || r.verdict == HOOK_DENYSOFT ||
		    r.verdict == HOOK_DISCONNECT) {
			l->result = chain_defaults(r);
			return false;
		}
		if (line.replaced)
			return lines_split(l, s, i + 1, line.out, line.out_len, final);
	}
	l->sink(l->arg, d, n);
	return true;
}

/* A filter's replacement text: cut into lines again for the later filters. */
static bool
lines_split(struct chain_lines *l, struct hook_session *s, size_t from, const char *d, size_t n,
    bool final)
{
	while (n > 0) {
		size_t k = piece_len(d, n, l->max);
		if (k == 0)
			k = n; /* the rest: a line the next octets continue */
		if (!lines_run(l, s, from, d, k, final && k == n))
			return false;
		d += k;
		n -= k;
	}
	return true;
}

struct hook_result
chain_lines_feed(struct chain_lines *l, struct hook_session *s, const char *data, size_t len,
    chain_sink_fn *sink, void *arg)
{
	l->sink = sink;
	l->arg = arg;
	while (len > 0 && l->result.verdict == HOOK_DECLINED) {
		if (l->buf_len == 0) {
			/* Whole lines straight from the caller's data. */
			size_t k = piece_len(data, len, l->max);
			if (k == 0) {
				memcpy(l->buf, data, len);
				l->buf_len = len;
				break;
			}
			lines_run(l, s, 0, data, k, false);
			data += k;
			len -= k;
			continue;
		}
		size_t take = l->max - l->buf_len;
		if (take > len)
			take = len;
		const char *lf = memchr(data, '\n', take);
		if (lf != NULL)
			take = (size_t)(lf - data) + 1;
		memcpy(l->buf + l->buf_len, data, take);
		l->buf_len += take;
		data += take;
		len -= take;
		if (lf != NULL) {
			size_t k = l->buf_len;
			l->buf_len = 0;
			lines_run(l, s, 0, l->buf, k, false);
		} else if (l->buf_len == l->max) {
			size_t k = piece_len(l->buf, l->buf_len, l->max);
			lines_run(l, s, 0, l->buf, k, false);
			memmove(l->buf, l->buf + k, l->buf_len - k);
			l->buf_len -= k;
		}
	}
	return l->result;
}

struct hook_result
chain_lines_end(struct chain_lines *l, struct hook_session *s, chain_sink_fn *sink, void *arg)
{
	l->sink = sink;
	l->arg = arg;
	if (l->result.verdict == HOOK_DECLINED && l->buf_len > 0) {
		size_t k = l->buf_len;
		l->buf_len = 0;
		lines_run(l, s, 0, l->buf, k, true);
	}
	return l->result;
}

/*
 * dataread.c - the DATA stream decoder (see dataread.h).
 *
 * A byte-level state machine driven by one transition table. Every input
 * octet is either message content or not (a stuffed leading dot, the
 * final ".\r\n"), and that decision depends only on the octets before it,
 * so the emitted content is the same however the input is split. Content
 * is passed on in contiguous runs: the common case, the middle of a line,
 * is scanned by a tight loop that stops only at CR or LF.
 *
 * Decisions the header leaves open:
 * - Line length is counted as sent, before unstuffing and without the CRLF
 *   (so ".." at the start of a line counts 2), which is what RFC 5321
 *   4.5.3.1.6 limits. A max_line of 0 means no line limit.
 * - On DATAREAD_BARE_LF the offending octet is the LF; on DATAREAD_BARE_CR
 *   it is the octet after the CR. *consumed stops just before it, and the
 *   content emitted is everything before it (a bare CR itself included).
 * - size counts the content actually emitted: once the next octet would
 *   pass max_size, too_big is set and size stays at max_size.
 * - emit may be NULL when only the counters are wanted.
 * - Feeding again after a final result (without dataread_init) returns the
 *   same result and consumes nothing.
 */
#include "dataread.h"

/* Decoder states. DR_BOL is 0 so that a zeroed struct starts at a line start. */
enum {
	DR_BOL,    /* at the start of a line */
	DR_TEXT,   /* inside a line */
	DR_CR,     /* a CR inside or ending a line; LF must follow */
	DR_DOT,    /* "." at the start of a line, held back */
	DR_DOT_CR, /* "." CR at the start of a line, held back; LF ends the data */
	DR_NSTATES,
	/* terminal states, after a final result */
	DR_ENDED = DR_NSTATES,
	DR_FAILED_LF,
	DR_FAILED_CR,
};

/* Octet classes: the low two bits are the kind; flags above them. */
enum {
	DK_OTHER = 0,
	DK_DOT = 1,
	DK_CR = 2,
	DK_LF = 3,
	DK_MASK = 3,
	DK_EOL = 2, /* set for CR and LF: stops the in-line scan */
	DK_NUL = 4,
	DK_8BIT = 8,
};

/* clang-format off */
#define DK8 DK_8BIT, DK_8BIT, DK_8BIT, DK_8BIT, DK_8BIT, DK_8BIT, DK_8BIT, DK_8BIT
#define DK64 DK8, DK8, DK8, DK8, DK8, DK8, DK8, DK8

static const unsigned char dr_class[256] = {
	[0] = DK_NUL,
	['\n'] = DK_LF,
	['\r'] = DK_CR,
	['.'] = DK_DOT,
	[0x80] = DK64, DK64,
};
/* clang-format on */

/* What a transition does with the octet that caused it. */
enum {
	DA_KEEP, /* content */
	DA_DROP, /* not content (stuffing dot, the marker held back) */
	DA_EOL,  /* content, and the line ends here (the LF of CRLF) */
	DA_END,  /* the LF of the end marker */
	DA_BARE_LF,
	DA_BARE_CR,
};

/* clang-format off */
static const struct dr_step {
	unsigned char next;
	unsigned char action;
} dr_steps[DR_NSTATES][4] = {
	[DR_BOL] = {
		[DK_OTHER] = { DR_TEXT, DA_KEEP },
		[DK_DOT] = { DR_DOT, DA_DROP },
		[DK_CR] = { DR_CR, DA_KEEP },
		[DK_LF] = { DR_FAILED_LF, DA_BARE_LF },
	},
	[DR_TEXT] = {
		[DK_OTHER] = { DR_TEXT, DA_KEEP },
		[DK_DOT] = { DR_TEXT, DA_KEEP },
		[DK_CR] = { DR_CR, DA_KEEP },
		[DK_LF] = { DR_FAILED_LF, DA_BARE_LF },
	},
	[DR_CR] = {
		[DK_OTHER] = { DR_FAILED_CR, DA_BARE_CR },
		[DK_DOT] = { DR_FAILED_CR, DA_BARE_CR },
		[DK_CR] = { DR_FAILED_CR, DA_BARE_CR },
		[DK_LF] = { DR_BOL, DA_EOL },
	},
	/*
	 * RFC 5321 4.5.2: a leading dot is removed, whether a second dot
	 * ("..") or other text follows; only "." CRLF ends the data.
	 */
	[DR_DOT] = {
		[DK_OTHER] = { DR_TEXT, DA_KEEP },
		[DK_DOT] = { DR_TEXT, DA_KEEP },
		[DK_CR] = { DR_DOT_CR, DA_DROP },
		[DK_LF] = { DR_FAILED_LF, DA_BARE_LF },
	},
	[DR_DOT_CR] = {
		[DK_OTHER] = { DR_FAILED_CR, DA_BARE_CR },
		[DK_DOT] = { DR_FAILED_CR, DA_BARE_CR },
		[DK_CR] = { DR_FAILED_CR, DA_BARE_CR },
		[DK_LF] = { DR_ENDED, DA_END },
	},
};
/* clang-format on */

void
dataread_init(struct dataread *d, uint64_t max_size, size_t max_line)
{
	d->max_size = max_size;
	d->max_line = max_line;
	d->size = 0;
	d->too_big = false;
	d->line_too_long = false;
	d->has_nul = false;
	d->has_8bit = false;
	d->state = DR_BOL;
	d->line_len = 0;
}

/* Passes content in[0..n) on, clipped at max_size (which sets too_big). */
static void
dataread_out(struct dataread *d, const char *in, size_t n, dataread_emit_fn emit, void *arg)
{
	if (n == 0 || d->too_big)
		return;
	if (d->max_size != 0 && n > d->max_size - d->size) {
		n = (size_t)(d->max_size - d->size);
		d->too_big = true;
	}
	if (n == 0)
		return;
	if (emit != NULL)
		emit(arg, in, n);
	d->size += n;
}

/* Adds n octets to the current line's length and notes an overlong line. */
static void
dataread_line(struct dataread *d, size_t n)
{
	d->line_len += n;
	if (d->max_line != 0 && d->line_len > d->max_line)
		d->line_too_long = true;
}

/* Notes NUL and 8-bit octets from an accumulated class mask. */
static void
dataread_flags(struct dataread *d, unsigned acc)
{
	if (acc & DK_NUL)
		d->has_nul = true;
	if (acc & DK_8BIT)
		d->has_8bit = true;
}

/*
 * Decodes one chunk (contract in the header and at the top of this file).
 * in[run..i) is content seen but not yet emitted; it is flushed whenever
 * an octet that is not content is met, and at return.
 */
enum dataread_result
dataread_feed(struct dataread *d, const char *in, size_t len, size_t *consumed,
    dataread_emit_fn emit, void *arg)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i = 0, run = 0; /* in[run..i) is content not yet emitted */
	enum dataread_result res = DATAREAD_MORE;

	switch (d->state) {
	case DR_ENDED:
		*consumed = 0;
		return DATAREAD_END;
	case DR_FAILED_LF:
		*consumed = 0;
		return DATAREAD_BARE_LF;
	case DR_FAILED_CR:
		*consumed = 0;
		return DATAREAD_BARE_CR;
	}
	while (i < len) {
		unsigned cls;

		if (d->state == DR_TEXT) {
			/* The common case: the rest of a line, up to CR or LF. */
			size_t start = i;
			unsigned acc = 0;
			while (i < len && !((cls = dr_class[u[i]]) & DK_EOL)) {
				acc |= cls;
				i++;
			}
			dataread_flags(d, acc);
			dataread_line(d, i - start);
			if (i == len)
				break;
		}
		cls = dr_class[u[i]];
		const struct dr_step *st = &dr_steps[d->state][cls & DK_MASK];
		d->state = st->next;
		switch (st->action) {
		case DA_KEEP:
			dataread_flags(d, cls);
			if ((cls & DK_MASK) != DK_CR)
				dataread_line(d, 1);
			break;
		case DA_DROP:
			if ((cls & DK_MASK) == DK_DOT)
				dataread_line(d, 1);
			dataread_out(d, in + run, i - run, emit, arg);
			run = i + 1;
			break;
		case DA_EOL:
			d->line_len = 0;
			break;
		case DA_END:
			dataread_out(d, in + run, i - run, emit, arg);
			*consumed = i + 1;
			return DATAREAD_END;
		case DA_BARE_LF:
			res = DATAREAD_BARE_LF;
			goto out;
		case DA_BARE_CR:
			res = DATAREAD_BARE_CR;
			goto out;
		}
		i++;
	}
out:
	dataread_out(d, in + run, i - run, emit, arg);
	*consumed = i;
	return res;
}

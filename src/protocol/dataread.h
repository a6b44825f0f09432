/*
 * dataread.h - the DATA stream decoder (RFC 5321 4.1.4, 4.5.2).
 *
 * Turns the bytes a client sends after "354" into message content: it
 * finds the end-of-data marker CRLF "." CRLF, removes dot-stuffing, counts
 * the size and checks every line, and it never treats a bare LF or bare CR
 * as a line ending (SMTP smuggling, CVE-2023-51764). It is incremental: the
 * input may be split anywhere, even inside CRLF or the marker.
 *
 * Untrusted input; no allocation; O(1) state.
 */
#ifndef MAILETD_DATAREAD_H
#define MAILETD_DATAREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dataread_result {
	DATAREAD_MORE,    /* all input consumed, end not yet seen */
	DATAREAD_END,     /* end-of-data marker consumed; rest of input untouched */
	DATAREAD_BARE_LF, /* a LF not preceded by CR: reject and close */
	DATAREAD_BARE_CR, /* a CR not followed by LF: reject and close */
};

struct dataread {
	/* settings */
	uint64_t max_size;       /* 0 = unlimited */
	size_t max_line;         /* longest line, without CRLF */
	/* results, valid at any time */
	uint64_t size;           /* content bytes (after unstuffing, with CRLFs) */
	bool too_big;            /* size went past max_size; output stopped there */
	bool line_too_long;      /* some line was longer than max_line */
	bool has_nul;            /* a NUL octet was seen */
	bool has_8bit;           /* an octet >= 0x80 was seen */
	/* private */
	int state;
	size_t line_len;
};

/* Prepares d for a new message. */
void dataread_init(struct dataread *d, uint64_t max_size, size_t max_line);

/*
 * Called with each run of message content, in order. The content is the
 * message as it will be stored: dot-unstuffed, lines ending in CRLF, the
 * final CRLF before the "." included. Not called once too_big is set.
 */
typedef void (*dataread_emit_fn)(void *arg, const char *data, size_t len);

/*
 * Decodes in[0..len). *consumed tells how many bytes were used: all of
 * them for DATAREAD_MORE; up to and including the marker's LF for
 * DATAREAD_END (bytes after it are the next pipelined commands); up to the
 * offending octet for the bare-LF/CR results. After END or a bare-LF/CR
 * result, call dataread_init() before feeding again.
 */
enum dataread_result dataread_feed(struct dataread *d, const char *in, size_t len,
    size_t *consumed, dataread_emit_fn emit, void *arg);

#endif

/*
 * fuzz_dataread.c - libFuzzer target: the DATA stream decoder. The first
 * octet gives the chunk length, the second the size and line limits; the
 * rest is the stream. It is decoded whole, in chunks of that length and
 * octet by octet, and all three must agree on the result, the content,
 * the octets consumed and the flags; size must equal what was emitted.
 */
#include "fuzz_util.h"
#include "../../src/protocol/dataread.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_run {
	struct dataread d;
	enum dataread_result res;
	size_t consumed;
	char *out; /* content; never longer than the input */
	size_t outlen;
	size_t cap;
};

static void
fuzz_emit(void *arg, const char *data, size_t len)
{
	struct fuzz_run *r = arg;

	FUZZ_CHECK(len > 0 && len <= r->cap - r->outlen);
	memcpy(r->out + r->outlen, data, len);
	r->outlen += len;
}

/* Decodes in[0..len) in chunks of step octets (0: all at once). */
static void
fuzz_decode(
    struct fuzz_run *r, const char *in, size_t len, size_t step, uint64_t max_size, size_t max_line)
{
	size_t off = 0;

	dataread_init(&r->d, max_size, max_line);
	r->consumed = 0;
	r->outlen = 0;
	do {
		size_t n = step == 0 || len - off < step ? len - off : step, used = (size_t)-1;
		r->res = dataread_feed(&r->d, in + off, n, &used, fuzz_emit, r);
		FUZZ_CHECK(used <= n);
		FUZZ_CHECK(r->res == DATAREAD_MORE ? used == n : 1);
		r->consumed += used;
		off += n;
	} while (r->res == DATAREAD_MORE && off < len);
	FUZZ_CHECK(r->d.size == r->outlen);
	FUZZ_CHECK(r->outlen <= r->consumed);
	FUZZ_CHECK(max_size == 0 || r->d.size <= max_size);
	FUZZ_CHECK(r->res != DATAREAD_MORE || r->consumed == len);
	if (r->res == DATAREAD_END) {
		/* the marker is CRLF "." CRLF (its first CRLF may be the start) */
		FUZZ_CHECK(r->consumed >= 3);
		FUZZ_CHECK(memcmp(in + r->consumed - 3, ".\r\n", 3) == 0);
		FUZZ_CHECK(r->consumed == 3 || memcmp(in + r->consumed - 5, "\r\n", 2) == 0);
	}
	if (r->res == DATAREAD_BARE_LF)
		FUZZ_CHECK(r->consumed < len && in[r->consumed] == '\n');
	if (r->res == DATAREAD_BARE_CR)
		FUZZ_CHECK(r->consumed > 0 && r->consumed < len && in[r->consumed - 1] == '\r' &&
		           in[r->consumed] != '\n');
}

static void
fuzz_same(const struct fuzz_run *a, const struct fuzz_run *b)
{
	FUZZ_CHECK(a->res == b->res);
	FUZZ_CHECK(a->consumed == b->consumed);
	FUZZ_CHECK(a->outlen == b->outlen && memcmp(a->out, b->out, a->outlen) == 0);
	FUZZ_CHECK(a->d.size == b->d.size);
	FUZZ_CHECK(a->d.too_big == b->d.too_big);
	FUZZ_CHECK(a->d.line_too_long == b->d.line_too_long);
	FUZZ_CHECK(a->d.has_nul == b->d.has_nul);
	FUZZ_CHECK(a->d.has_8bit == b->d.has_8bit);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run whole, chunked, bytes;
	const char *in;
	size_t len, step, max_line;
	uint64_t max_size;

	if (size < 2)
		return 0;
	step = (size_t)data[0] + 1;
	max_size = (data[1] & 0x0f) == 0 ? 0 : (uint64_t)(data[1] & 0x0f) * 7;
	max_line = data[1] >> 4;
	in = (const char *)data + 2;
	len = size - 2;

	whole.cap = chunked.cap = bytes.cap = len;
	whole.out = malloc(len + 1);
	chunked.out = malloc(len + 1);
	bytes.out = malloc(len + 1);
	FUZZ_CHECK(whole.out != NULL && chunked.out != NULL && bytes.out != NULL);

	fuzz_decode(&whole, in, len, 0, max_size, max_line);
	fuzz_decode(&chunked, in, len, step, max_size, max_line);
	fuzz_decode(&bytes, in, len, 1, max_size, max_line);
	fuzz_same(&whole, &chunked);
	fuzz_same(&whole, &bytes);

	free(whole.out);
	free(chunked.out);
	free(bytes.out);
	return 0;
}

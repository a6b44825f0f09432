/*
 * fuzz_sasl.c - libFuzzer target: an AUTH response line through the strict
 * base64 decoder, then the decoded bytes through the PLAIN splitter.
 */
#include "../../src/protocol/sasl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                              \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True if p[0..n) lies inside base[0..len). */
static int
fuzz_inside(const char *p, size_t n, const unsigned char *base, size_t len)
{
	const char *b = (const char *)base;
	return p >= b && n <= len && (size_t)(p - b) <= len - n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *out = malloc(size / 4 * 3 + 1);
	if (out == NULL)
		return 0;
	long n = sasl_b64_decode((const char *)data, size, out);
	FUZZ_CHECK(n >= -1 && (n < 0 || (size_t)n <= size / 4 * 3));
	/* The raw input as a PLAIN message too: both must stay in bounds. */
	const unsigned char *bufs[2] = {out, data};
	size_t lens[2] = {n > 0 ? (size_t)n : 0, size};
	for (int i = 0; i < 2; i++) {
		struct sasl_plain p;
		if (sasl_plain_split(bufs[i], lens[i], &p) != 0)
			continue;
		FUZZ_CHECK(p.authcid_len > 0);
		FUZZ_CHECK(fuzz_inside(p.authzid, p.authzid_len, bufs[i], lens[i]));
		FUZZ_CHECK(fuzz_inside(p.authcid, p.authcid_len, bufs[i], lens[i]));
		FUZZ_CHECK(fuzz_inside(p.passwd, p.passwd_len, bufs[i], lens[i]));
		FUZZ_CHECK(memchr(p.authcid, '\0', p.authcid_len) == NULL);
		FUZZ_CHECK(memchr(p.passwd, '\0', p.passwd_len) == NULL);
	}
	free(out);
	return 0;
}

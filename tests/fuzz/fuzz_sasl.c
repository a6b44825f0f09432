/*
 * fuzz_sasl.c - libFuzzer target: an AUTH response line through the strict
 * base64 decoder, then the decoded bytes through the PLAIN splitter.
 */
#include "fuzz_util.h"
#include "../../src/protocol/sasl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
		FUZZ_CHECK(fuzz_inside(p.authzid, p.authzid_len, (const char *)bufs[i], lens[i]));
		FUZZ_CHECK(fuzz_inside(p.authcid, p.authcid_len, (const char *)bufs[i], lens[i]));
		FUZZ_CHECK(fuzz_inside(p.passwd, p.passwd_len, (const char *)bufs[i], lens[i]));
		FUZZ_CHECK(memchr(p.authcid, '\0', p.authcid_len) == NULL);
		FUZZ_CHECK(memchr(p.passwd, '\0', p.passwd_len) == NULL);
	}
	free(out);
	return 0;
}

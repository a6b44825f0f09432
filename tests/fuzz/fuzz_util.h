/* fuzz_util.h - what every libFuzzer target of mailetd shares. */
#ifndef MAILETD_FUZZ_UTIL_H
#define MAILETD_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Aborts (and so reports) when an invariant does not hold. */
#define FUZZ_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True if p[0..n) lies inside base[0..len). */
static inline int
fuzz_inside(const char *p, size_t n, const char *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

#endif

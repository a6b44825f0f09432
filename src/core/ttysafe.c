/*
 * ttysafe.c - strings made safe to print on a terminal (ttysafe.h).
 */
#include "ttysafe.h"

const char *
ttysafe(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
	return out;
}

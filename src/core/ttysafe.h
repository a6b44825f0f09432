/*
 * ttysafe.h - strings made safe to print on a terminal, for mailetctl's
 * output of what came from the network or from a store file.
 */
#ifndef MAILETD_TTYSAFE_H
#define MAILETD_TTYSAFE_H

#include <stddef.h>

/*
 * Copies s to out (outlen > 0 octets, truncated to fit, NUL-terminated)
 * for display: bytes a terminal would act on (controls, DEL) become '?'.
 * Returns out.
 */
const char *ttysafe(char *out, size_t outlen, const char *s);

#endif

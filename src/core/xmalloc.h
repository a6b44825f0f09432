/*
 * xmalloc.h - allocation wrappers that abort on out-of-memory.
 *
 * Every allocation in mailetd goes through these: running out of memory is
 * a fatal error (logged, then abort), so callers never check for NULL.
 */
#ifndef MAILETD_XMALLOC_H
#define MAILETD_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* Like realloc, but nmemb * size is checked for overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* Copies at most len bytes of s and NUL-terminates; s need not be terminated. */
char *xstrndup(const char *s, size_t len);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif

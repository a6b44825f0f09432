/*
 * reply.h - the one place SMTP/LMTP replies are formatted (RFC 5321 4.2).
 *
 * A reply is a code, an RFC 3463 enhanced status code and text. Text that
 * may contain client data is sanitised here: control characters become
 * '?', so a reply can never be split or forged by what a client sent.
 */
#ifndef MAILETD_REPLY_H
#define MAILETD_REPLY_H

#include <stddef.h>

struct evbuffer;

/* Appends "code ecode text\r\n" (ecode may be NULL) to out. */
void reply_add(struct evbuffer *out, int code, const char *ecode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends a multi-line reply: "code-ecode line" for all lines but the last,
 * "code ecode line" for the last (ecode may be NULL). n must be >= 1. */
void reply_add_lines(struct evbuffer *out, int code, const char *ecode,
    const char *const *lines, size_t n);

/* True for codes that count as errors (4xx and 5xx). */
int reply_is_error(int code);

#endif

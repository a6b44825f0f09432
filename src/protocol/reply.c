/* reply.c - formatting of SMTP/LMTP replies (see reply.h). */
#include "reply.h"

#include <event2/buffer.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Longest reply line we produce; RFC 5321 4.5.3.1.5 allows 512 octets. */
#define REPLY_LINE_MAX 512

static void
reply_line(struct evbuffer *out, int code, char sep, const char *ecode, const char *text)
{
	char buf[REPLY_LINE_MAX + 1];
	int n;

	if (ecode != NULL)
		n = snprintf(buf, sizeof(buf), "%03d%c%s %s", code, sep, ecode, text);
	else
		n = snprintf(buf, sizeof(buf), "%03d%c%s", code, sep, text);
	if (n < 0)
		n = 0;
	size_t len = (size_t)n < REPLY_LINE_MAX - 2 ? (size_t)n : REPLY_LINE_MAX - 2;
	for (size_t i = 4; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c < 0x20 || c == 0x7f)
			buf[i] = '?';
	}
	buf[len++] = '\r';
	buf[len++] = '\n';
	evbuffer_add(out, buf, len);
}

void
reply_add(struct evbuffer *out, int code, const char *ecode, const char *fmt, ...)
{
	char text[REPLY_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	reply_line(out, code, ' ', ecode, text);
}

void
reply_add_lines(struct evbuffer *out, int code, const char *ecode, const char *const *lines,
    size_t n)
{
	for (size_t i = 0; i < n; i++)
		reply_line(out, code, i + 1 < n ? '-' : ' ', ecode, lines[i]);
}

int
reply_is_error(int code)
{
	return code >= 400;
}

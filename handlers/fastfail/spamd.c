/* spamd.c - a client of SpamAssassin's spamd (see spamd.h). */
#include "spamd.h"

#include "../../src/core/xmalloc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/* the reply                                                              */

/* One CRLF-terminated line at *p (before end): its length without CRLF, or -1. */
static long
spamd_line(const char *p, const char *end)
{
	for (const char *q = p; q < end; q++) {
		if (*q == '\0' || *q == '\n')
			return -1; /* NUL, or a bare LF */
		if (*q == '\r')
			return q + 1 < end && q[1] == '\n' ? q - p : -1;
	}
	return -1; /* no line end */
}

/* Digits at p (up to end): how many, at least one, else 0. */
static size_t
spamd_digits(const char *p, const char *end)
{
	size_t n = 0;
	while (p + n < end && p[n] >= '0' && p[n] <= '9')
		n++;
	return n;
}

/* A number "-?D+(.D+)?" at *p: copied to out, *p moved past it. 0/-1. */
static int
spamd_number(const char **p, const char *end, char out[SPAMD_NUM_MAX + 1])
{
	const char *s = *p, *q = s;
	if (q < end && *q == '-')
		q++;
	size_t n = spamd_digits(q, end);
	if (n == 0)
		return -1;
	q += n;
	if (q < end && *q == '.') {
		n = spamd_digits(q + 1, end);
		if (n == 0)
			return -1;
		q += 1 + n;
	}
	if ((size_t)(q - s) > SPAMD_NUM_MAX)
		return -1;
	memcpy(out, s, (size_t)(q - s));
	out[q - s] = '\0';
	*p = q;
	return 0;
}

/* Matches the literal lit at *p and moves past it. */
static bool
spamd_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* The value of "Spam:" (after the colon): "<flag> ; <score> / <threshold>". */
static int
spamd_spam_value(const char *p, const char *end, struct spamd_result *r)
{
	while (p < end && *p == ' ')
		p++;
	if (spamd_lit(&p, end, "True") || spamd_lit(&p, end, "Yes"))
		r->spam = true;
	else if (spamd_lit(&p, end, "False") || spamd_lit(&p, end, "No"))
		r->spam = false;
	else
		return -1;
	if (!spamd_lit(&p, end, " ; "))
		return -1;
	if (spamd_number(&p, end, r->score_text) < 0)
		return -1;
	if (!spamd_lit(&p, end, " / "))
		return -1;
	if (spamd_number(&p, end, r->threshold_text) < 0)
		return -1;
	if (p != end)
		return -1;
	r->score = strtod(r->score_text, NULL);
	return 0;
}

int
spamd_reply_parse(const char *buf, size_t len, struct spamd_result *r, const char **why)
{
	const char *p = buf, *end = buf + len;
	memset(r, 0, sizeof(*r));

	/* Status line: SPAMD/1.1 0 EX_OK */
	long n = spamd_line(p, end);
	if (n < 0) {
		*why = "no status line";
		return -1;
	}
	const char *le = p + n, *q = p;
	size_t d;
	if (!spamd_lit(&q, le, "SPAMD/") || (d = spamd_digits(q, le)) == 0 ||
	    (q += d, !spamd_lit(&q, le, ".")) || (d = spamd_digits(q, le)) == 0 ||
	    (q += d, !spamd_lit(&q, le, " "))) {
		*why = "bad status line";
		return -1;
	}
	d = spamd_digits(q, le);
	if (d == 0 || d > 3 || q + d >= le || q[d] != ' ') {
		*why = "bad status line";
		return -1;
	}
	if (d != 1 || q[0] != '0') {
		*why = "spamd reported an error";
		return -1;
	}
	for (const char *t = q + d + 1; t < le; t++)
		if ((unsigned char)*t < 0x20 || (unsigned char)*t > 0x7e) {
			*why = "bad status line";
			return -1;
		}
	p = le + 2;

	/* Header lines up to the empty line. */
	bool have_spam = false, have_len = false;
	uint64_t clen = 0;
	for (;;) {
		n = spamd_line(p, end);
		if (n < 0) {
			*why = "unterminated header";
			return -1;
		}
		le = p + n;
		if (n == 0) {
			p = le + 2;
			break;
		}
		const char *colon = memchr(p, ':', (size_t)n);
		if (colon == NULL || colon == p) {
			*why = "bad header line";
			return -1;
		}
		for (const char *t = p; t < colon; t++)
			if (!((*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') ||
			        (*t >= '0' && *t <= '9') || *t == '-' || *t == '_')) {
				*why = "bad header line";
				return -1;
			}
		for (const char *t = colon + 1; t < le; t++)
			if ((unsigned char)*t < 0x20 && *t != '\t') {
				*why = "bad header line";
				return -1;
			}
		size_t nlen = (size_t)(colon - p);
		if (nlen == 4 && memcmp(p, "Spam", 4) == 0) {
			if (have_spam || spamd_spam_value(colon + 1, le, r) < 0) {
				*why = have_spam ? "two Spam headers" : "bad Spam header";
				return -1;
			}
			have_spam = true;
		} else if (nlen == 14 && strncasecmp(p, "Content-length", 14) == 0) {
			const char *v = colon + 1;
			while (v < le && *v == ' ')
				v++;
			d = spamd_digits(v, le);
			if (have_len || d == 0 || d > 9 || v + d != le) {
				*why = "bad Content-length";
				return -1;
			}
			for (size_t i = 0; i < d; i++)
				clen = clen * 10 + (uint64_t)(v[i] - '0');
			have_len = true;
		}
		p = le + 2;
	}
	if (!have_spam) {
		*why = "no Spam header";
		return -1;
	}
	if ((uint64_t)(end - p) != clen) {
		*why = "body length differs from Content-length";
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* the exchange                                                           */

struct spamd_req {
	struct bufferevent *bev;
	struct event *timer;
	spamd_done_fn *done;
	void *arg;
	bool finished;
};

static void
spamd_finish(struct spamd_req *q, int err, const char *why)
{
	struct spamd_result r;
	const char *pwhy = NULL;
	if (err == 0) {
		struct evbuffer *in = bufferevent_get_input(q->bev);
		size_t len = evbuffer_get_length(in);
		const char *buf = (const char *)evbuffer_pullup(in, -1);
		if (spamd_reply_parse(buf != NULL ? buf : "", len, &r, &pwhy) < 0) {
			err = EPROTO;
			why = pwhy;
		}
	}
	bufferevent_free(q->bev);
	event_free(q->timer);
	spamd_done_fn *done = q->done;
	void *arg = q->arg;
	free(q);
	done(arg, err, why, err == 0 ? &r : NULL);
}

static void
spamd_read_cb(struct bufferevent *bev, void *arg)
{
	struct spamd_req *q = arg;
	if (evbuffer_get_length(bufferevent_get_input(bev)) > SPAMD_REPLY_MAX)
		spamd_finish(q, EPROTO, "reply too long");
}

static void
spamd_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct spamd_req *q = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF) {
		spamd_finish(q, 0, NULL);
		return;
	}
	int err = EVUTIL_SOCKET_ERROR();
	spamd_finish(q, err != 0 ? err : EIO, (what & BEV_EVENT_READING) ? "read failed"
	                                     : (what & BEV_EVENT_WRITING) ? "write failed"
	                                                                    : "connection failed");
}

static void
spamd_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	spamd_finish(arg, ETIMEDOUT, "timed out");
}

int
spamd_check(struct event_base *base, const struct sockaddr *addr, socklen_t addrlen, int fd,
    uint64_t size, unsigned timeout_ms, spamd_done_fn *done, void *arg)
{
	struct spamd_req *q = xcalloc(1, sizeof(*q));
	q->done = done;
	q->arg = arg;
	q->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	q->timer = evtimer_new(base, spamd_timeout_cb, q);
	if (q->bev == NULL || q->timer == NULL)
		goto fail;
	struct evbuffer *out = bufferevent_get_output(q->bev);
	if (evbuffer_add_printf(out, "CHECK SPAMC/1.5\r\nContent-length: %llu\r\n\r\n",
	        (unsigned long long)size) < 0)
		goto fail;
	if (size > 0) {
		/* The buffer owns fd from here on, also when the call fails. */
		int rc = evbuffer_add_file(out, fd, 0, (ev_off_t)size);
		fd = -1;
		if (rc != 0)
			goto fail;
	}
	bufferevent_setcb(q->bev, spamd_read_cb, NULL, spamd_event_cb, q);
	bufferevent_setwatermark(q->bev, EV_READ, 0, SPAMD_REPLY_MAX + 1);
	if (bufferevent_enable(q->bev, EV_READ | EV_WRITE) != 0)
		goto fail;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	evtimer_add(q->timer, &tv);
	if (bufferevent_socket_connect(q->bev, (struct sockaddr *)addr, (int)addrlen) != 0)
		goto fail;
	if (fd >= 0)
		close(fd);
	return 0;
fail:;
	int err = errno != 0 ? errno : EIO;
	if (fd >= 0)
		close(fd);
	if (q->bev != NULL)
		bufferevent_free(q->bev);
	if (q->timer != NULL)
		event_free(q->timer);
	free(q);
	errno = err;
	return -1;
}

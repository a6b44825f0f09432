/*
 * future_release.c - James's futurerelease.FutureRelease{EHLO,MailParameter,
 * Message}Hook (RFC 4865, james.md 1b.6): an authenticated client may ask
 * that a message be held until a later time.
 *
 *   EHLO (authenticated clients only): "FUTURERELEASE 86400 <now + 1 day>"
 *   (max-future-release-interval in seconds, max-future-release-date-time
 *   as an RFC 3339 UTC instant, as James's ISO_INSTANT without fraction).
 *   MAIL HOLDFOR=<seconds> or HOLDUNTIL=<RFC 3339 date-time>, checked in
 *   James's order with James's replies:
 *     not authenticated:   554 Needs to be logged in in order to use future release extension
 *     syntax:              501 Incorrect syntax when handling FUTURE-RELEASE mail parameter
 *     more than 1 day:     501 HoldFor is greater than max-future-release-interval or holdUntil
 * exceeded max-future-release-date-time negative / past:     501 HoldFor value is negative or
 * holdUntil value is before now a second one:        554 Mail parameter cannot contains both
 * holdFor and holdUntil parameters End of data: mail attributes futurerelease-hold-for (the seconds
 * to hold, "0" when the client asked nothing: James's attribute) and, when held,
 * futurerelease-release-at (the release instant, RFC 3339 UTC: MAIL time + HOLDFOR, or the
 * HOLDUNTIL instant). The attributes are recorded by the MAIL parameter handler itself (James's
 * corpus configures only the EHLO and MAIL parameter hooks);
 * FutureReleaseMessageHook is accepted and adds nothing. There is no
 * delivery stage yet: the attributes are what the queue will honour.
 */
#include "fastfail.h"

#include "../../src/core/xmalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FR_MAX_HOLD 86400LL /* James's MAX_HOLD_FOR_SUPPORTED: 1 day */

struct fr_ehlo_state {
	char line[64];
};

struct fr_state {
	unsigned long mail; /* the MAIL command the value belongs to */
	bool held;
	long long hold_s; /* seconds from the MAIL command */
	time_t release;   /* the release instant */
	char hold_text[24];
	char release_text[32];
};

static void
fr_format_instant(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static size_t
fr_ehlo(const struct hook_session *s, const char **out, size_t max)
{
	if (max == 0 || !s->authenticated || s->state == NULL)
		return 0;
	struct fr_ehlo_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	char when[32];
	fr_format_instant(time(NULL) + FR_MAX_HOLD, when, sizeof(when));
	snprintf(st->line, sizeof(st->line), "FUTURERELEASE %lld %s", FR_MAX_HOLD, when);
	out[0] = st->line;
	return 1;
}

/* Java's Long.parseLong: an optional sign and decimal digits, in range. */
static int
fr_parse_long(const char *v, long long *out)
{
	const char *p = v;
	if (*p == '+' || *p == '-')
		p++;
	if (*p == '\0')
		return -1;
	for (const char *q = p; *q != '\0'; q++)
		if (*q < '0' || *q > '9')
			return -1;
	errno = 0;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

static int
fr_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long
fr_days(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
future_release_parse_instant(const char *v, long long *secs, int *nanos)
{
	const char *p = v;
	int y, mo, d, h, mi, sec;
	if (fr_digits(&p, 4, &y) < 0 || *p++ != '-' || fr_digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    fr_digits(&p, 2, &d) < 0 || (*p != 'T' && *p != 't'))
		return -1;
	p++;
	if (fr_digits(&p, 2, &h) < 0 || *p++ != ':' || fr_digits(&p, 2, &mi) < 0 || *p++ != ':' ||
	    fr_digits(&p, 2, &sec) < 0)
		return -1;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	if (sec == 60)
		sec = 59; /* a leap second, as Java's ISO_INSTANT reads it */
	int ns = 0;
	if (*p == '.') {
		p++;
		int k = 0;
		while (p[k] >= '0' && p[k] <= '9' && k < 9) {
			ns = ns * 10 + (p[k] - '0');
			k++;
		}
		if (k == 0 || (p[k] >= '0' && p[k] <= '9'))
			return -1;
		for (int i = k; i < 9; i++)
			ns *= 10;
		p += k;
	}
	long long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		char sign = *p++;
		if (fr_digits(&p, 2, &oh) < 0 || *p++ != ':' || fr_digits(&p, 2, &om) < 0 ||
		    oh > 23 || om > 59)
			return -1;
		off = (oh * 3600LL + om * 60LL) * (sign == '-' ? -1 : 1);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*secs = fr_days(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec - off;
	*nanos = ns;
	return 0;
}

static const char *const fr_names[] = {"HOLDFOR", "HOLDUNTIL", NULL};

#define FR_DENY(c, t) ((struct hook_result){.verdict = HOOK_DENY, .code = (c), .text = (t)})

struct hook_result
future_release_check(const struct hook_session *s, const struct hook_param *p,
    const struct timespec *now, long long *hold_s, time_t *release)
{
	if (!s->authenticated)
		return FR_DENY(0, "Needs to be logged in in order to use future release extension");
	static const struct hook_result syntax =
	    FR_DENY(501, "Incorrect syntax when handling FUTURE-RELEASE mail parameter");
	/* The requested hold as (seconds, nanoseconds >= 0) after now. */
	long long ds;
	long dns = 0;
	if (strcmp(p->name, "HOLDFOR") == 0) {
		if (fr_parse_long(p->value, &ds) < 0)
			return syntax;
		*release = now->tv_sec + (ds > FR_MAX_HOLD ? FR_MAX_HOLD : ds < 0 ? 0 : ds);
	} else {
		long long t;
		int ns;
		if (future_release_parse_instant(p->value, &t, &ns) < 0)
			return syntax;
		ds = t - now->tv_sec;
		dns = ns - now->tv_nsec;
		if (dns < 0) {
			dns += 1000000000L;
			ds--;
		}
		*release = (time_t)t + (ns > 0);
	}
	if (ds > FR_MAX_HOLD || (ds == FR_MAX_HOLD && dns > 0))
		return FR_DENY(501, "HoldFor is greater than max-future-release-interval or "
		                    "holdUntil exceeded max-future-release-date-time");
	if (ds < 0)
		return FR_DENY(501, "HoldFor value is negative or holdUntil value is before now");
	*hold_s = ds + (dns > 0);
	return HOOK_RESULT_DECLINED;
}

static struct hook_result
fr_mail_param(const struct hook_session *s, const struct hook_param *p)
{
	struct fr_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	if (st->mail != s->mail_serial) {
		memset(st, 0, sizeof(*st));
		st->mail = s->mail_serial;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long long hold;
	time_t release;
	struct hook_result r = future_release_check(s, p, &now, &hold, &release);
	if (r.verdict != HOOK_DECLINED)
		return r;
	if (st->held)
		return FR_DENY(0, "Mail parameter cannot contains both holdFor and holdUntil "
		                  "parameters");
	st->held = true;
	st->hold_s = hold;
	st->release = release;
	return HOOK_RESULT_DECLINED;
}

static struct hook_result
fr_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	struct fr_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	bool held = st->held && st->mail == s->mail_serial;
	snprintf(st->hold_text, sizeof(st->hold_text), "%lld", held ? st->hold_s : 0LL);
	if (hook_set_attr(s, "futurerelease-hold-for", st->hold_text) != 0)
		goto full;
	if (held) {
		fr_format_instant(st->release, st->release_text, sizeof(st->release_text));
		if (hook_set_attr(s, "futurerelease-release-at", st->release_text) != 0)
			goto full;
	}
	return HOOK_RESULT_DECLINED;
full:
	return fastfail_attrs_full();
}

const struct handler_def handler_future_release_ehlo = {
    .name = "FutureReleaseEHLOHook",
    .james_class = "org.apache.james.smtpserver.futurerelease.FutureReleaseEHLOHook",
    .summary = "announces FUTURERELEASE to authenticated clients",
    .ehlo_keywords = fr_ehlo,
};

const struct handler_def handler_future_release_param = {
    .name = "FutureReleaseMailParameterHook",
    .james_class = "org.apache.james.smtpserver.futurerelease.FutureReleaseMailParameterHook",
    .summary = "takes MAIL HOLDFOR= / HOLDUNTIL=; records the release time",
    .mail_params = fr_names,
    .mail_param = fr_mail_param,
    .message = fr_message,
};

const struct handler_def handler_future_release_message = {
    .name = "FutureReleaseMessageHook",
    .james_class = "org.apache.james.smtpserver.futurerelease.FutureReleaseMessageHook",
    .summary = "nothing more (FutureReleaseMailParameterHook records the release time)",
};

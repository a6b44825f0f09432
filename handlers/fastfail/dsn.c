/*
 * dsn.c - James's dsn.DSN{Ehlo,MailParameter,RcptParameter,Message}Hook
 * (RFC 3461, james.md 1b.6): four handlers of one extension.
 *
 *   EHLO: the keyword DSN.
 *   MAIL RET=FULL|HDRS (any case; another value is ignored, as James
 *   does) and ENVID=xtext (invalid: "501 5.5.4 Invalid ENVID parameter
 *   value").
 *   RCPT NOTIFY=NEVER | SUCCESS,FAILURE,DELAY and ORCPT=rfc822;xtext
 *   (invalid: "501 5.5.4 Invalid NOTIFY or ORCPT parameter value").
 *   End of data: mail attributes dsn-ret, dsn-envid, dsn-rcpt (one line
 *   per recipient with parameters: "<rcpt> NOTIFY=... ORCPT=...") and
 *   dsn-arrival-date (RFC 5322 date).
 * Nothing generates delivery status notifications yet: the parameters are
 * recorded in the spool envelope for the delivery stage to come.
 */
#include "fastfail.h"

#include "../../src/core/xmalloc.h"
#include "../../src/protocol/smtp_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DSN_ENVID_MAX 100  /* RFC 3461 4.4 */

struct dsn_mail_state {
	unsigned long mail;        /* the MAIL command the values belong to */
	char ret[5];               /* "FULL", "HDRS" or "" */
	char envid[DSN_ENVID_MAX + 1];
};

struct dsn_rcpt_state {
	unsigned long tx;          /* the transaction the lines belong to */
	char *lines;               /* "<rcpt> NOTIFY=.. ORCPT=..\n"... */
	size_t len;
	char date[64];             /* dsn-arrival-date */
};

static void
dsn_rcpt_state_free(void *p)
{
	struct dsn_rcpt_state *st = p;
	free(st->lines);
	free(st);
}

/* RFC 3461 4: xtext = *( %d33-42 / %d44-60 / %d62-126 / "+" 2HEXCHAR-upper ). */
static bool
dsn_xtext(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			if (i + 2 >= len)
				return false;
			for (int k = 1; k <= 2; k++)
				if (!isxdigit((unsigned char)s[i + k]) || islower((unsigned char)s[i + k]))
					return false;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return false;
		}
	}
	return true;
}

static size_t
dsn_ehlo(const struct hook_session *s, const char **out, size_t max)
{
	(void)s;
	if (max == 0)
		return 0;
	out[0] = "DSN";
	return 1;
}

static const char *const dsn_mail_names[] = { "RET", "ENVID", NULL };
static const char *const dsn_rcpt_names[] = { "NOTIFY", "ORCPT", NULL };

static struct hook_result
dsn_mail_param(const struct hook_session *s, const struct hook_param *p)
{
	struct dsn_mail_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	if (st->mail != s->mail_serial) {
		memset(st, 0, sizeof(*st));
		st->mail = s->mail_serial;
	}
	if (strcmp(p->name, "RET") == 0) {
		if (strcasecmp(p->value, "FULL") == 0)
			memcpy(st->ret, "FULL", 5);
		else if (strcasecmp(p->value, "HDRS") == 0)
			memcpy(st->ret, "HDRS", 5);
		return HOOK_RESULT_DECLINED; /* another value is ignored (James) */
	}
	size_t len = strlen(p->value);
	if (len == 0 || len > DSN_ENVID_MAX || !dsn_xtext(p->value, len))
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 501, .ecode = "5.5.4",
			.text = "Invalid ENVID parameter value" };
	memcpy(st->envid, p->value, len + 1);
	return HOOK_RESULT_DECLINED;
}

/* NOTIFY: NEVER alone, or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static bool
dsn_notify(const char *v)
{
	if (strcasecmp(v, "NEVER") == 0)
		return true;
	unsigned seen = 0;
	for (;;) {
		size_t n = strcspn(v, ",");
		unsigned bit = (n == 7 && strncasecmp(v, "SUCCESS", 7) == 0) ? 1u
		    : (n == 7 && strncasecmp(v, "FAILURE", 7) == 0)	   ? 2u
		    : (n == 5 && strncasecmp(v, "DELAY", 5) == 0)	   ? 4u
									   : 0u;
		if (bit == 0 || (seen & bit))
			return false;
		seen |= bit;
		if (v[n] == '\0')
			return true;
		v += n + 1;
	}
}

/* ORCPT: rfc822;xtext holding an address (RFC 3461 4.2). */
static bool
dsn_orcpt(const char *v)
{
	if (strncasecmp(v, "rfc822;", 7) != 0)
		return false;
	size_t len = strlen(v + 7);
	return len > 0 && len <= SMTP_MAILBOX_MAX && dsn_xtext(v + 7, len) &&
	    strchr(v + 7, '@') != NULL;
}

static struct hook_result
dsn_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	const char *notify = NULL, *orcpt = NULL;
	for (size_t i = 0; i < s->nrcpt_params; i++) {
		const struct hook_param *p = &s->rcpt_params[i];
		bool ok = true;
		if (strcmp(p->name, "NOTIFY") == 0) {
			ok = notify == NULL && dsn_notify(p->value);
			notify = p->value;
		} else if (strcmp(p->name, "ORCPT") == 0) {
			ok = orcpt == NULL && dsn_orcpt(p->value);
			orcpt = p->value;
		}
		if (!ok)
			return (struct hook_result){ .verdict = HOOK_DENY, .code = 501,
				.ecode = "5.5.4", .text = "Invalid NOTIFY or ORCPT parameter value" };
	}
	if (notify == NULL && orcpt == NULL)
		return HOOK_RESULT_DECLINED;
	/* Recorded now, as James does: should a later hook refuse the
	 * recipient, its line stays but names no recipient of the message
	 * (the lines are looked up by recipient). */
	struct dsn_rcpt_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	if (st->tx != s->tx_serial) {
		st->tx = s->tx_serial;
		st->len = 0;
	}
	char *line = xasprintf("<%s>%s%s%s%s\n", rcpt->mailbox, notify ? " NOTIFY=" : "",
	    notify ? notify : "", orcpt ? " ORCPT=" : "", orcpt ? orcpt : "");
	size_t ll = strlen(line);
	st->lines = xreallocarray(st->lines, st->len + ll + 1, 1);
	memcpy(st->lines + st->len, line, ll + 1);
	st->len += ll;
	free(line);
	return HOOK_RESULT_DECLINED;
}

static struct hook_result
dsn_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	struct dsn_mail_state *ms = hook_peer_state(s, &handler_dsn_mail);
	struct dsn_rcpt_state *rs = hook_peer_state(s, &handler_dsn_rcpt);
	if (ms != NULL && ms->mail == s->mail_serial) {
		if (ms->ret[0] != '\0' && hook_set_attr(s, "dsn-ret", ms->ret) != 0)
			return fastfail_attrs_full();
		if (ms->envid[0] != '\0' && hook_set_attr(s, "dsn-envid", ms->envid) != 0)
			return fastfail_attrs_full();
	}
	if (rs != NULL && rs->tx == s->tx_serial && rs->len > 0 &&
	    hook_set_attr(s, "dsn-rcpt", rs->lines) != 0)
		return fastfail_attrs_full();
	/* dsn-arrival-date: kept in this handler's own state slot. */
	char *date = *s->state;
	if (date == NULL)
		date = *s->state = xmalloc(64);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, 64, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (hook_set_attr(s, "dsn-arrival-date", date) != 0)
		return fastfail_attrs_full();
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_dsn_ehlo = {
	.name = "DSNEhloHook",
	.james_class = "org.apache.james.smtpserver.dsn.DSNEhloHook",
	.summary = "announces DSN",
	.ehlo_keywords = dsn_ehlo,
};

const struct handler_def handler_dsn_mail = {
	.name = "DSNMailParameterHook",
	.james_class = "org.apache.james.smtpserver.dsn.DSNMailParameterHook",
	.summary = "takes MAIL RET= and ENVID=",
	.mail_params = dsn_mail_names,
	.mail_param = dsn_mail_param,
};

const struct handler_def handler_dsn_rcpt = {
	.name = "DSNRcptParameterHook",
	.james_class = "org.apache.james.smtpserver.dsn.DSNRcptParameterHook",
	.summary = "takes RCPT NOTIFY= and ORCPT=",
	.rcpt_params = dsn_rcpt_names,
	.rcpt = dsn_rcpt,
	.state_free = dsn_rcpt_state_free,
};

const struct handler_def handler_dsn_message = {
	.name = "DSNMessageHook",
	.james_class = "org.apache.james.smtpserver.dsn.DSNMessageHook",
	.summary = "records the DSN parameters on the message",
	.message = dsn_message,
};

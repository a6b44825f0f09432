/*
 * spf_handler.c - James's fastfail.SPFHandler (james.md 1b.6) on mailetd's
 * SPF evaluator (src/spf/spf.h, RFC 7208 check_host()).
 *
 * <blockSoftFail> (default false) and <blockPermError> (default true).
 * At MAIL, for a client that may not relay and has said HELO/EHLO, the
 * sender's policy is checked (the null sender as postmaster@<HELO>,
 * RFC 7208 2.4; James skips the null sender) while MAIL waits (PENDING):
 *   fail, softfail with blockSoftFail:  554 5.7.1 Blocked - see: <explanation>
 *   permerror with blockPermError:      554 5.7.1 Block caused by an invalid SPF record
 *   temperror:                          451 4.4.3 Temporarily rejected: Problem on SPF lookup
 * (James means these texts but, by a bug, answers "554 5.7.1 false".)
 * The explanation is the domain's exp= text, else a sentence naming the
 * sender and address. Any other result lets MAIL go on, and the message
 * gets a Received-SPF field (RFC 7208 9.1) above mailetd's Received
 * field, and the mail attributes org.apache.james.spf.header (the field's
 * value, as James) and org.apache.james.spf.result (the result word).
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/config/config.h"
#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"
#include "../../src/protocol/smtp_parse.h"
#include "../../src/spf/spf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct spf_conf {
	bool block_softfail;
	bool block_permerror;
};

static const struct cfg_field spf_fields[] = {
	{ .name = "blockSoftFail", .type = CFG_T_BOOL, .def = 0,
	    .off = offsetof(struct spf_conf, block_softfail) },
	{ .name = "blockPermError", .type = CFG_T_BOOL, .def = 1,
	    .off = offsetof(struct spf_conf, block_permerror) },
	/* In James's sample files' comments, never read by James. */
	{ .name = "checkAuthNetworks", .type = CFG_T_IGNORE },
};

static int
spf_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct spf_conf *c = xcalloc(1, sizeof(*c));
	cfg_fields_defaults(spf_fields, 3, c);
	cfg_fields_read(x, node, spf_fields, 3, c);
	*conf = c;
	return 0;
}

/* Octets of the sender shown in the field's comment. */
#define SPF_SHOWN_MAX 256
#define SPF_FIELD_MAX SPF_HANDLER_FIELD_MAX

struct spf_state {
	const struct hook_session *hs; /* the session's own view (outlives st) */
	const struct spf_conf *conf;
	struct spf_check *check;     /* running, or NULL */
	struct hook_pending *pending;
	unsigned long serial;        /* the MAIL (mail_serial) the result is for */
	char helo[256];
	char sender[SMTP_MAILBOX_MAX + 1]; /* MAIL FROM, "" for <> */
	char receiver[256];
	char result[16];
	char reply[512];
	char field[SPF_FIELD_MAX];   /* "Received-SPF: ..." folded, or "" */
	char value[SPF_FIELD_MAX];   /* its value unfolded (the attribute) */
};

static void
spf_state_free(void *p)
{
	struct spf_state *st = p;
	if (st->check != NULL)
		spf_check_cancel(st->check);
	free(st);
}

/* A string builder that never overflows (truncation keeps it well formed
 * enough: every piece is bounded so that SPF_FIELD_MAX is not reached). */
struct spf_buf {
	char *p;
	size_t len, cap;
};

static void
spf_put(struct spf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
spf_put(struct spf_buf *b, const char *fmt, ...)
{
	if (b->len + 1 >= b->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

/* Text inside a comment (RFC 5322 ccontent): "(", ")" and "\" become
 * quoted-pairs, other octets outside printable ASCII "?"; at most max. */
static void
spf_put_ctext(struct spf_buf *b, const char *s, size_t max)
{
	for (size_t i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '(' || ch == ')' || ch == '\\')
			spf_put(b, "\\%c", ch);
		else
			spf_put(b, "%c", ch >= 0x20 && ch < 0x7f ? ch : '?');
	}
}

/* A key-value pair of RFC 7208 9.1: the value as a dot-atom when it is
 * one, else a quoted-string; folded onto its own line. */
static void
spf_put_pair(struct spf_buf *b, const char *key, const char *v, size_t max, bool last)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~.";
	size_t n = strlen(v);
	bool atom = n > 0 && v[0] != '.' && v[n - 1] != '.'; /* RFC 5322 3.2.3 dot-atom */
	for (size_t i = 0; v[i] != '\0' && atom; i++) {
		unsigned char ch = (unsigned char)v[i];
		atom = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr(atext, ch) != NULL;
		if (ch == '.' && v[i + 1] == '.')
			atom = false;
	}
	spf_put(b, "\r\n\t%s=", key);
	if (atom && n <= max) {
		spf_put(b, "%s", v);
	} else {
		spf_put(b, "\"");
		for (size_t i = 0; v[i] != '\0' && i < max; i++) {
			unsigned char ch = (unsigned char)v[i];
			if (ch == '"' || ch == '\\')
				spf_put(b, "\\%c", ch);
			else
				spf_put(b, "%c", ch >= 0x20 && ch != 0x7f ? ch : '?');
		}
		spf_put(b, "\"");
	}
	if (!last)
		spf_put(b, ";");
}

void
spf_handler_field(const struct spf_outcome *o, const char *client_ip, const char *sender,
    const char *helo, const char *receiver, char *field, char *value, size_t size)
{
	struct spf_buf b = { field, 0, size };
	const char *who = o->sender != NULL ? o->sender : sender;
	spf_put(&b, "Received-SPF: %s (", spf_result_name(o->result));
	spf_put_ctext(&b, receiver, 255);
	spf_put(&b, ": ");
	switch (o->result) {
	case SPF_PASS:
		spf_put(&b, "domain of ");
		spf_put_ctext(&b, who, SPF_SHOWN_MAX);
		spf_put(&b, " designates ");
		spf_put_ctext(&b, client_ip, 64);
		spf_put(&b, " as permitted sender");
		break;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
		spf_put(&b, "domain of ");
		spf_put_ctext(&b, who, SPF_SHOWN_MAX);
		spf_put(&b, " does not designate ");
		spf_put_ctext(&b, client_ip, 64);
		spf_put(&b, " as permitted sender");
		break;
	case SPF_NEUTRAL:
		spf_put_ctext(&b, client_ip, 64);
		spf_put(&b, " is neither permitted nor denied by domain of ");
		spf_put_ctext(&b, who, SPF_SHOWN_MAX);
		break;
	case SPF_NONE:
		spf_put(&b, "domain of ");
		spf_put_ctext(&b, who, SPF_SHOWN_MAX);
		spf_put(&b, " does not publish an SPF policy");
		break;
	case SPF_TEMPERROR:
	case SPF_PERMERROR:
		spf_put(&b, "error in processing the policy of ");
		spf_put_ctext(&b, who, SPF_SHOWN_MAX);
		break;
	}
	spf_put(&b, ")");
	spf_put_pair(&b, "client-ip", client_ip, 64, false);
	spf_put_pair(&b, "envelope-from", sender, 400, false);
	spf_put_pair(&b, "helo", helo, 255, false);
	spf_put_pair(&b, "receiver", receiver, 255, false);
	bool more = o->mechanism != NULL || o->problem != NULL;
	spf_put_pair(&b, "identity", "mailfrom", 16, !more);
	if (o->mechanism != NULL)
		spf_put_pair(&b, "mechanism", o->mechanism, 200, o->problem == NULL);
	if (o->problem != NULL)
		spf_put_pair(&b, "problem", o->problem, 200, true);

	/* The value unfolded: drop "Received-SPF: " and every CRLF before a tab. */
	size_t n = 0;
	for (const char *p = field + 14; *p != '\0' && n + 1 < size; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			p++;
			continue;
		}
		value[n++] = *p == '\t' ? ' ' : *p;
	}
	value[n] = '\0';
}

/* The check is over (on the session's thread): decide and resume MAIL. */
static void
spf_handler_done(const struct spf_outcome *o, void *arg)
{
	struct spf_state *st = arg;
	const struct hook_session *s = st->hs;
	st->check = NULL;
	snprintf(st->result, sizeof(st->result), "%s", spf_result_name(o->result));
	char ip[64];
	netaddr_format(&s->client, ip, sizeof(ip));
	const char *sender = st->sender;
	log_info(s->id, "event=spf result=%s domain=%s mechanism=%s%s%s", st->result,
	    o->domain != NULL ? o->domain : "", o->mechanism != NULL ? o->mechanism : "-",
	    o->problem != NULL ? " problem=" : "", o->problem != NULL ? o->problem : "");

	struct hook_result r = HOOK_RESULT_DECLINED;
	const struct spf_conf *c = st->conf;
	if (o->result == SPF_FAIL || (o->result == SPF_SOFTFAIL && c->block_softfail)) {
		if (o->explanation != NULL && o->explanation[0] != '\0')
			snprintf(st->reply, sizeof(st->reply), "Blocked - see: %.400s", o->explanation);
		else
			snprintf(st->reply, sizeof(st->reply),
			    "Blocked - see: SPF %s for %.300s from %s", st->result,
			    o->sender != NULL ? o->sender : sender, ip);
		/* The explanation comes from the DNS: printable ASCII only in a reply. */
		for (char *p = st->reply; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		r = (struct hook_result){ .verdict = HOOK_DENY, .code = 554, .ecode = "5.7.1",
			.text = st->reply };
	} else if (o->result == SPF_PERMERROR && c->block_permerror) {
		r = (struct hook_result){ .verdict = HOOK_DENY, .code = 554, .ecode = "5.7.1",
			.text = "Block caused by an invalid SPF record" };
	} else if (o->result == SPF_TEMPERROR) {
		r = (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451, .ecode = "4.4.3",
			.text = "Temporarily rejected: Problem on SPF lookup" };
	} else {
		/* The message hook puts the field on top of the message. */
		spf_handler_field(o, ip, sender, st->helo, st->receiver, st->field, st->value,
		    sizeof(st->field));
	}
	struct hook_pending *p = st->pending;
	st->pending = NULL;
	hook_resume(p, r); /* last: it may run the session on */
}

static struct hook_result
spf_mail(const struct hook_session *s, const struct smtp_path *sender)
{
	const struct spf_conf *c = s->conf;
	struct spf_state *st = *s->state;
	if (st != NULL) {
		st->field[0] = '\0'; /* withdraws the field of an earlier MAIL */
		st->value[0] = '\0';
	}
	if (c == NULL || s->relaying_allowed || s->helo == NULL ||
	    (s->client.family != AF_INET && s->client.family != AF_INET6))
		return HOOK_RESULT_DECLINED;
	if (!fastfail_can_wait(s)) {
		log_warn(s->id, "event=spf-skipped msg=\"no resolver\"");
		return HOOK_RESULT_DECLINED;
	}
	if (st == NULL) {
		st = *s->state = xcalloc(1, sizeof(*st));
		st->hs = s;
		st->conf = c;
	}
	st->serial = s->mail_serial;
	snprintf(st->helo, sizeof(st->helo), "%s", s->helo);
	snprintf(st->sender, sizeof(st->sender), "%s", sender->null ? "" : sender->mailbox);
	snprintf(st->receiver, sizeof(st->receiver), "%s",
	    s->server != NULL && s->server->hello_name != NULL ? s->server->hello_name : "unknown");
	struct spf_request req = {
		.ip = s->client,
		.sender = st->sender,
		.helo = st->helo,
		.receiver = st->receiver,
	};
	st->check = spf_check_start(fastfail_resolver(s), s->base, &req, spf_handler_done, st);
	st->pending = hook_suspend(s);
	return (struct hook_result){ .verdict = HOOK_PENDING };
}

static struct hook_result
spf_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	struct spf_state *st = *s->state;
	if (st == NULL || st->serial != s->mail_serial || st->value[0] == '\0')
		return HOOK_RESULT_DECLINED;
	/* Above mailetd's Received field, as RFC 7208 9.1 asks. */
	static const char name[] = "Received-SPF: ";
	if (strncmp(st->field, name, sizeof(name) - 1) != 0 ||
	    hook_add_header(s, "Received-SPF", st->field + sizeof(name) - 1) != 0)
		log_warn(s->id, "event=spf-error msg=\"no room for Received-SPF\"");
	if (hook_set_attr(s, "org.apache.james.spf.header", st->value) != 0 ||
	    hook_set_attr(s, "org.apache.james.spf.result", st->result) != 0)
		return fastfail_attrs_full();
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_spf = {
	.name = "SPFHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.SPFHandler",
	.summary = "RFC 7208 SPF check of the sender; Received-SPF header",
	.configure = spf_configure,
	.state_free = spf_state_free,
	.mail = spf_mail,
	.message = spf_message,
};

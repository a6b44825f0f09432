/*
 * header_checks.c - HeaderChecksFilter: refuses a message whose header
 * fields (or body lines) match a regular expression, like Postfix's
 * header_checks and body_checks with the actions an SMTP-time filter can
 * take (not a James class; a data_line filter, hook.h).
 *
 *   <handler class="HeaderChecksFilter">
 *     <reject pattern="^Subject:.*viagra" code="550" ecode="5.7.1">Message content rejected</reject>
 *     <defer pattern="^X-Mailer: bulkmailer"/>
 *     <disconnect pattern="^Received: from spambot"/>
 *     <body_reject pattern="^click here now$"/>
 *   </handler>
 *
 * Each rule's pattern is a POSIX extended regular expression matched
 * without regard to case. A header rule (reject, defer, disconnect) is
 * matched against each logical header field of the message's header
 * block: the field's line and its continuation lines joined, the CRLFs
 * removed (RFC 5322 2.2.3 unfolding), e.g. "Subject: a b" for
 * "Subject: a\r\n b". Only the first HC_FIELD_MAX octets of a longer
 * field are matched. A body rule (body_reject, body_defer,
 * body_disconnect) is matched against each line of the body (past the
 * first empty line) without its CRLF, a line longer than HOOK_LINE_MAX
 * on its first HOOK_LINE_MAX octets. Header rules never see the body
 * (a body line "Subject: viagra" is no header field) nor body rules the
 * header block; MIME part headers are body lines. NUL octets are matched
 * as spaces.
 *
 * The first rule, in configured order, that matches decides: reject is
 * DENY (default 550 5.7.1), defer DENYSOFT (451 4.7.1), disconnect
 * DISCONNECT (554 5.7.1, then the connection closes). code may be set
 * (5xx for reject, 4xx for defer, either for disconnect), ecode too
 * (RFC 3463, of the code's class), and the element's text is the reply
 * text. The rest of the message is then read and thrown away, and the
 * reply answers the end of the data (hook.h data_line). The match is
 * logged at info level: the rule's place in the configuration, the
 * message id and the start of the field or line.
 */
#include "fastfail.h"

#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* Longest part of an unfolded header field that is matched. */
#define HC_FIELD_MAX 8192
/* Longest reply text (a reply line is at most 512 octets, RFC 5321 4.5.3.1.5). */
#define HC_TEXT_MAX 400

/* The actions, by element name. */
static const struct {
	const char *name;
	bool body;
	enum hook_verdict verdict;
	int code;
	const char *ecode;
	const char *text;
	const char *classes; /* first digits a configured code may have */
} hc_actions[] = {
	{ "reject", false, HOOK_DENY, 550, "5.7.1", "Message content rejected", "5" },
	{ "defer", false, HOOK_DENYSOFT, 451, "4.7.1", "Message content deferred, try again later",
	    "4" },
	{ "disconnect", false, HOOK_DISCONNECT, 554, "5.7.1", "Message content rejected", "45" },
	{ "body_reject", true, HOOK_DENY, 550, "5.7.1", "Message content rejected", "5" },
	{ "body_defer", true, HOOK_DENYSOFT, 451, "4.7.1",
	    "Message content deferred, try again later", "4" },
	{ "body_disconnect", true, HOOK_DISCONNECT, 554, "5.7.1", "Message content rejected",
	    "45" },
};

#define HC_NACTIONS (sizeof(hc_actions) / sizeof(hc_actions[0]))

struct hc_rule {
	regex_t re;
	char *pattern;
	long line;         /* of its element in the configuration file */
	size_t action;     /* index in hc_actions */
	int code;
	char *ecode;       /* NULL: the action's default */
	char *text;        /* NULL: the action's default */
};

struct hc_conf {
	char *file;
	struct hc_rule *v;
	size_t n;
	size_t nbody;      /* how many of them are body rules */
};

/* Per session: the transaction it is in and the header field being joined. */
struct hc_state {
	unsigned long tx;
	bool have;         /* field[0..len) is a field not matched yet */
	size_t len;
	char field[HC_FIELD_MAX + 1];
};

static void
hc_free(void *p)
{
	struct hc_conf *c = p;
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		regfree(&c->v[i].re);
		free(c->v[i].pattern);
		free(c->v[i].ecode);
		free(c->v[i].text);
	}
	free(c->v);
	free(c->file);
	free(c);
}

/* An RFC 3463 status code "class.subject.detail" of the given class. */
static bool
hc_ecode_ok(const char *e, char cls)
{
	if (e[0] != cls || e[1] != '.')
		return false;
	const char *p = e + 2;
	for (int part = 0; part < 2; part++) {
		size_t k = 0;
		while (p[k] >= '0' && p[k] <= '9')
			k++;
		if (k == 0 || k > 3 || (k > 1 && p[0] == '0'))
			return false;
		p += k;
		if (part == 0 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}

/* Reads rule element k of action a into r; -1 after reporting. */
static int
hc_rule_read(struct cfg_xml *x, const xmlNode *k, size_t a, const char *elem, struct hc_rule *r)
{
	long line = cfg_xml_line(k);
	char *v = NULL;
	int rc = 0;
	r->line = line;
	r->action = a;
	r->code = hc_actions[a].code;

	int got = cfg_xml_attr(x, k, "pattern", &r->pattern);
	if (got < 0)
		return -1;
	if (got == 0 || r->pattern[0] == '\0') {
		cfg_error(x->diag, x->path, line, "<%s>: pattern=\"...\" is required", elem);
		free(r->pattern);
		r->pattern = NULL;
		return -1;
	}
	int e = regcomp(&r->re, r->pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (e != 0) {
		char why[256];
		regerror(e, &r->re, why, sizeof(why));
		cfg_error(x->diag, x->path, line, "<%s>: pattern=\"%s\" is not a regular expression: %s",
		    elem, r->pattern, why);
		free(r->pattern);
		r->pattern = NULL;
		return -1;
	}

	got = cfg_xml_attr(x, k, "code", &v);
	if (got < 0)
		rc = -1;
	else if (got == 1) {
		const char *cls = hc_actions[a].classes;
		if (strlen(v) != 3 || strchr(cls, v[0]) == NULL || v[1] < '0' || v[1] > '5' ||
		    v[2] < '0' || v[2] > '9') {
			cfg_error(x->diag, x->path, line, "<%s>: code=\"%s\" is not a %s reply code", elem,
			    v, cls[1] != '\0' ? "4xx or 5xx" : cls[0] == '5' ? "5xx" : "4xx");
			rc = -1;
		} else
			r->code = atoi(v);
		free(v);
		v = NULL;
	}

	got = cfg_xml_attr(x, k, "ecode", &r->ecode);
	if (got < 0)
		rc = -1;
	else if (got == 1 && !hc_ecode_ok(r->ecode, (char)('0' + r->code / 100))) {
		cfg_error(x->diag, x->path, line,
		    "<%s>: ecode=\"%s\" is not an enhanced status code of class %d (RFC 3463: "
		    "%d.x.y)",
		    elem, r->ecode, r->code / 100, r->code / 100);
		rc = -1;
	}

	if (cfg_xml_text(x, k, &r->text) < 0)
		return -1;
	size_t tl = strlen(r->text);
	if (tl == 0) {
		free(r->text);
		r->text = NULL;
	} else if (tl > HC_TEXT_MAX) {
		cfg_error(x->diag, x->path, line, "<%s>: the reply text is longer than %d octets",
		    elem, HC_TEXT_MAX);
		rc = -1;
	} else
		for (size_t i = 0; i < tl; i++)
			if ((unsigned char)r->text[i] < 32 || (unsigned char)r->text[i] > 126) {
				cfg_error(x->diag, x->path, line,
				    "<%s>: the reply text must be printable US-ASCII on one line",
				    elem);
				rc = -1;
				break;
			}
	return rc;
}

static int
hc_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct hc_conf *c = xcalloc(1, sizeof(*c));
	c->file = xstrdup(x->path);
	int rc = 0;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		const char *elem = cfg_xml_name(k);
		size_t a = 0;
		while (a < HC_NACTIONS && strcmp(hc_actions[a].name, elem) != 0)
			a++;
		if (a == HC_NACTIONS) {
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    elem);
			continue;
		}
		c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
		struct hc_rule *r = &c->v[c->n];
		memset(r, 0, sizeof(*r));
		if (hc_rule_read(x, k, a, elem, r) < 0) {
			rc = -1;
			if (r->pattern == NULL) { /* nothing compiled */
				free(r->ecode);
				free(r->text);
				continue;
			}
		}
		c->n++;
		if (hc_actions[a].body)
			c->nbody++;
	}
	if (rc == 0 && c->n == 0)
		cfg_warn(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: HeaderChecksFilter without rules does nothing");
	if (rc < 0) {
		hc_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

/*
 * Matches text (NUL-terminated, len octets) against the rules for the
 * header (body false) or the body; the first that matches gives the
 * answer, else DECLINED.
 */
static struct hook_result
hc_match(const struct hook_session *s, const struct hc_conf *c, bool body, const char *text,
    size_t len)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct hc_rule *r = &c->v[i];
		if (hc_actions[r->action].body != body || regexec(&r->re, text, 0, NULL, 0) != 0)
			continue;
		char what[120], pat[120];
		log_info(s->id, "event=header-check action=%s rule=%s:%ld pattern=%s msgid=%s %s=%s",
		    hc_actions[r->action].name, c->file, r->line,
		    log_quote(pat, sizeof(pat), r->pattern, strlen(r->pattern)),
		    s->msgid != NULL ? s->msgid : "-", body ? "line" : "field",
		    log_quote(what, sizeof(what), text, len));
		return (struct hook_result){ .verdict = hc_actions[r->action].verdict,
			.code = r->code,
			.ecode = r->ecode != NULL ? r->ecode : hc_actions[r->action].ecode,
			.text = r->text != NULL ? r->text : hc_actions[r->action].text };
	}
	return HOOK_RESULT_DECLINED;
}

/* Appends d[0..n) to buf (at *len, at most max octets), NULs as spaces. */
static void
hc_append(char *buf, size_t *len, size_t max, const char *d, size_t n)
{
	if (n > max - *len)
		n = max - *len;
	for (size_t i = 0; i < n; i++)
		buf[*len + i] = d[i] == '\0' ? ' ' : d[i];
	*len += n;
	buf[*len] = '\0';
}

/* The octets of a piece without the CRLF (or bare LF) that ends its line. */
static size_t
hc_strip(const struct hook_line *line)
{
	size_t n = line->len;
	if (n > 0 && line->data[n - 1] == '\n') {
		n--;
		if (n > 0 && line->data[n - 1] == '\r')
			n--;
	}
	return n;
}

/* Matches the field joined so far, if any, and forgets it. */
static struct hook_result
hc_field_done(const struct hook_session *s, const struct hc_conf *c, struct hc_state *st)
{
	if (!st->have)
		return HOOK_RESULT_DECLINED;
	st->have = false;
	return hc_match(s, c, false, st->field, st->len);
}

static struct hook_result
hc_line(const struct hook_session *s, struct hook_line *line)
{
	const struct hc_conf *c = s->conf;
	if (c == NULL || c->n == 0 || s->state == NULL)
		return HOOK_RESULT_DECLINED;
	struct hc_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	if (st->tx != s->tx_serial) { /* a new message */
		st->tx = s->tx_serial;
		st->have = false;
	}
	if (line->where != HOOK_LINE_HEADER) {
		struct hook_result r = hc_field_done(s, c, st);
		if (r.verdict != HOOK_DECLINED || line->where != HOOK_LINE_BODY || c->nbody == 0 ||
		    line->cont)
			return r;
		size_t len = 0;
		hc_append(st->field, &len, HC_FIELD_MAX, line->data, hc_strip(line));
		return hc_match(s, c, true, st->field, len);
	}
	/* A new field ends the one above; a line starting with white space
	 * (or the next piece of a long line) continues it. */
	if (!line->cont && line->len > 0 && line->data[0] != ' ' && line->data[0] != '\t') {
		struct hook_result r = hc_field_done(s, c, st);
		if (r.verdict != HOOK_DECLINED)
			return r;
	}
	if (!st->have) {
		st->have = true;
		st->len = 0;
		st->field[0] = '\0';
	}
	hc_append(st->field, &st->len, HC_FIELD_MAX, line->data, hc_strip(line));
	return HOOK_RESULT_DECLINED;
}

/* A message that ends in its header block: its last field. */
static struct hook_result
hc_end(const struct hook_session *s, unsigned long long size, bool too_big)
{
	(void)size;
	const struct hc_conf *c = s->conf;
	if (c == NULL || s->state == NULL || *s->state == NULL)
		return HOOK_RESULT_DECLINED;
	struct hc_state *st = *s->state;
	if (st->tx != s->tx_serial || too_big) /* no line of this message; or 552 anyway */
		return HOOK_RESULT_DECLINED;
	return hc_field_done(s, c, st);
}

const struct handler_def handler_header_checks = {
	.name = "HeaderChecksFilter",
	.summary = "refuses messages whose header fields or body lines match a regular expression "
		   "(Postfix's header_checks and body_checks)",
	.configure = hc_configure,
	.conf_free = hc_free,
	.data_line = hc_line,
	.data_end = hc_end,
};

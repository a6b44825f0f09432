/*
 * drop_headers.c - DropHeadersFilter: removes header fields from every
 * message, like Postfix's message_drop_headers (not a James class; a
 * data_line filter, hook.h).
 *
 *   <handler class="DropHeadersFilter">
 *     <header>Bcc</header>
 *     <header>Return-Path</header>
 *   </handler>
 *
 * Each <header> names a field (any case); without any, Postfix's default
 * list: Bcc, Content-Length, Resent-Bcc, Return-Path. A named field goes
 * with its continuation lines (RFC 5322 2.2.3), wherever it is in the
 * header block, every time it occurs; the body is never touched (a body
 * line "Bcc: x" stays). RFC 5322 4.5.3's obsolete white space between
 * the name and the colon is matched too. An invalid name is a start-up
 * error.
 */
#include "fastfail.h"

#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/core/xmalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest field name: an RFC 5322 line (2.1.1) holds at most 998 octets. */
#define DROP_NAME_MAX 998

/* Postfix's default message_drop_headers. */
static const char *const drop_default[] = { "bcc", "content-length", "resent-bcc", "return-path" };

struct drop_headers_conf {
	char **names;
	size_t n;
};

/* Per session: the transaction it is in, and whether the field at hand goes. */
struct drop_headers_state {
	unsigned long tx;
	bool dropping;
};

static void
drop_headers_free(void *p)
{
	struct drop_headers_conf *c = p;
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c);
}

/* A field name: printable US-ASCII but ':' (RFC 5322 3.6.8 ftext). */
static const char *
drop_name_problem(const char *v)
{
	size_t len = strlen(v);
	if (len > DROP_NAME_MAX)
		return "is longer than 998 octets";
	for (size_t i = 0; i < len || i == 0; i++)
		if ((unsigned char)v[i] < 33 || (unsigned char)v[i] > 126 || v[i] == ':')
			return "is not a header field name (printable US-ASCII but ':', no white "
			       "space)";
	return NULL;
}

static int
drop_headers_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct drop_headers_conf *c = xcalloc(1, sizeof(*c));
	int rc = 0;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		if (strcmp(cfg_xml_name(k), "header") != 0) {
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    cfg_xml_name(k));
			continue;
		}
		char *v;
		if (cfg_xml_text(x, k, &v) < 0) {
			rc = -1;
			continue;
		}
		const char *why = drop_name_problem(v);
		if (why != NULL) {
			cfg_error(x->diag, x->path, cfg_xml_line(k), "<header>: \"%s\" %s", v, why);
			free(v);
			rc = -1;
			continue;
		}
		c->names = xreallocarray(c->names, c->n + 1, sizeof(*c->names));
		c->names[c->n++] = v;
	}
	if (rc == 0 && c->n == 0)
		for (size_t i = 0; i < sizeof(drop_default) / sizeof(drop_default[0]); i++) {
			c->names = xreallocarray(c->names, c->n + 1, sizeof(*c->names));
			c->names[c->n++] = xstrdup(drop_default[i]);
		}
	if (rc < 0) {
		drop_headers_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

/* True if the header line d[0..n) starts a field that c names. */
static bool
drop_headers_match(const struct drop_headers_conf *c, const char *d, size_t n)
{
	size_t i = 0;
	while (i < n && (unsigned char)d[i] > 32 && (unsigned char)d[i] < 127 && d[i] != ':')
		i++;
	size_t nlen = i;
	while (i < n && (d[i] == ' ' || d[i] == '\t'))
		i++;
	if (nlen == 0 || i >= n || d[i] != ':')
		return false;
	for (size_t k = 0; k < c->n; k++)
		if (strlen(c->names[k]) == nlen && strncasecmp(c->names[k], d, nlen) == 0)
			return true;
	return false;
}

static struct hook_result
drop_headers_line(const struct hook_session *s, struct hook_line *line)
{
	const struct drop_headers_conf *c = s->conf;
	if (c == NULL || s->state == NULL)
		return HOOK_RESULT_DECLINED;
	struct drop_headers_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	if (st->tx != s->tx_serial) { /* a new message */
		st->tx = s->tx_serial;
		st->dropping = false;
	}
	if (line->where != HOOK_LINE_HEADER) {
		st->dropping = false;
		return HOOK_RESULT_DECLINED;
	}
	/* A line starting with white space continues the field above (and a
	 * piece of a long line goes where its line goes). */
	if (!line->cont && line->len > 0 && line->data[0] != ' ' && line->data[0] != '\t')
		st->dropping = drop_headers_match(c, line->data, line->len);
	if (st->dropping) {
		line->replaced = true;
		line->out = "";
		line->out_len = 0;
	}
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_drop_headers = {
	.name = "DropHeadersFilter",
	.summary = "removes the named header fields (Postfix's message_drop_headers)",
	.configure = drop_headers_configure,
	.conf_free = drop_headers_free,
	.data_line = drop_headers_line,
};

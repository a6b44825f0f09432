/*
 * set_mime_header.c - James's SetMimeHeaderHandler (james.md 1b.6).
 *
 * <headername> and <headervalue> (both required): every accepted message
 * gets the header field "headername: headervalue" on top
 * (hook_add_header). James calls MimeMessage.setHeader, which also
 * replaces a field of that name the message already has; mailetd adds
 * its field above and leaves the client's fields as they were (a reader
 * of the message sees mailetd's first).
 */
#include "fastfail.h"

#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct set_mime_header_conf {
	char *name;
	char *value;
};

static const struct cfg_field set_mime_header_fields[] = {
	{ .name = "headername", .type = CFG_T_STRING,
	    .off = offsetof(struct set_mime_header_conf, name) },
	{ .name = "headervalue", .type = CFG_T_STRING,
	    .off = offsetof(struct set_mime_header_conf, value) },
};

static void
set_mime_header_free(void *p)
{
	struct set_mime_header_conf *c = p;
	cfg_fields_free(set_mime_header_fields, 2, c);
	free(c);
}

static int
set_mime_header_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct set_mime_header_conf *c = xcalloc(1, sizeof(*c));
	cfg_fields_defaults(set_mime_header_fields, 2, c);
	cfg_fields_read(x, node, set_mime_header_fields, 2, c);
	const char *why = NULL;
	if (c->name == NULL || c->value == NULL)
		why = "SetMimeHeaderHandler needs <headername> and <headervalue>";
	else if (c->name[strcspn(c->name, ": \t")] != '\0')
		why = "<headername> must be a header field name (no ':' or white space)";
	else if (strlen(c->name) + strlen(c->value) + 4 > HOOK_PREPEND_MAX)
		why = "the header field is too long";
	for (const char *p = c->name; why == NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 33 || (unsigned char)*p > 126)
			why = "<headername> must be printable US-ASCII";
	for (const char *p = c->value; why == NULL && p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 32 && *p != '\t')
			why = "<headervalue> must not hold control characters";
	if (why != NULL) {
		cfg_error(x->diag, x->path, cfg_xml_line(node), "<handler>: %s", why);
		set_mime_header_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

static struct hook_result
set_mime_header_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	const struct set_mime_header_conf *c = s->conf;
	if (c != NULL && hook_add_header(s, c->name, c->value) != 0) {
		/* Only when other hooks added many fields before (the value was checked). */
		log_warn(s->id, "event=header-not-added name=%s reason=too-many-added-headers", c->name);
	}
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_set_mime_header = {
	.name = "SetMimeHeaderHandler",
	.james_class = "org.apache.james.smtpserver.SetMimeHeaderHandler",
	.summary = "adds a header field to every message",
	.configure = set_mime_header_configure,
	.conf_free = set_mime_header_free,
	.message = set_mime_header_message,
};

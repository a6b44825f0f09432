/*
 * set_attr.c - James's SetMailAttributeMessageHook (james.md 1b.6).
 *
 * <name> and <value> (both required): every accepted message carries the
 * mail attribute name=value in its spool envelope.
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/xmalloc.h"

#include <stdlib.h>

struct set_attr_conf {
	char *name;
	char *value;
};

static const struct cfg_field set_attr_fields[] = {
	{ .name = "name", .type = CFG_T_STRING, .off = offsetof(struct set_attr_conf, name) },
	{ .name = "value", .type = CFG_T_STRING, .off = offsetof(struct set_attr_conf, value) },
};

static void
set_attr_free(void *p)
{
	struct set_attr_conf *c = p;
	cfg_fields_free(set_attr_fields, 2, c);
	free(c);
}

static int
set_attr_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct set_attr_conf *c = xcalloc(1, sizeof(*c));
	cfg_fields_defaults(set_attr_fields, 2, c);
	cfg_fields_read(x, node, set_attr_fields, 2, c);
	if (c->name == NULL || c->value == NULL) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: SetMailAttributeMessageHook needs <name> and <value>");
		set_attr_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

static struct hook_result
set_attr_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	const struct set_attr_conf *c = s->conf;
	if (c != NULL && hook_set_attr(s, c->name, c->value) != 0)
		return fastfail_attrs_full();
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_set_attr = {
	.name = "SetMailAttributeMessageHook",
	.james_class = "org.apache.james.smtpserver.SetMailAttributeMessageHook",
	.summary = "sets a mail attribute on every message",
	.configure = set_attr_configure,
	.conf_free = set_attr_free,
	.message = set_attr_message,
};

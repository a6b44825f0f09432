/*
 * header_limits.c - James's EnforceHeaderLimitationsMessageHook
 * (james.md 1b.6).
 *
 * <maxLines> (header fields) and <maxSize> (James Size syntax; octets of
 * the header block) must both be given, as in James; a value <= 0 means
 * the default, 500 fields / 64 KiB. Too many fields:
 * "552 Header Lines are too many"; too large: "552 Header size is too
 * large" (both DENYSOFT with code 552, as James answers).
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct header_limits_conf {
	uint64_t lines;
	uint64_t size;
};

static int
header_limits_value(struct cfg_xml *x, const struct _xmlNode *node, const char *name, bool size,
    uint64_t def, uint64_t *out)
{
	xmlNode *c = cfg_xml_child(node, name);
	if (c == NULL) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: EnforceHeaderLimitationsMessageHook needs <%s> (as in James)", name);
		return -1;
	}
	char *v;
	if (cfg_xml_text(x, c, &v) < 0)
		return -1;
	long long n = 0;
	uint64_t u = 0;
	int rc = 0;
	if (size) {
		/* A negative Size is "the default" too. */
		if (v[0] == '-' && cfg_parse_int(v, &n) == CFG_POK)
			u = 0;
		else if (cfg_parse_size(v, &u) != CFG_POK)
			rc = -1;
	} else if (cfg_parse_int(v, &n) != CFG_POK) {
		rc = -1;
	} else {
		u = n > 0 ? (uint64_t)n : 0;
	}
	if (rc < 0)
		cfg_error(x->diag, x->path, cfg_xml_line(c), "<%s>: \"%s\" is not %s", name, v,
		    size ? "a size (" CFG_SIZE_HINT ")" : "a number");
	free(v);
	*out = u > 0 ? u : def;
	return rc;
}

static int
header_limits_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct header_limits_conf *c = xcalloc(1, sizeof(*c));
	int r1 = header_limits_value(x, node, "maxLines", false, 500, &c->lines);
	int r2 = header_limits_value(x, node, "maxSize", true, 64 * 1024, &c->size);
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL))
		if (strcmp(cfg_xml_name(k), "maxLines") != 0 && strcmp(cfg_xml_name(k), "maxSize") != 0)
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    cfg_xml_name(k));
	if (r1 < 0 || r2 < 0) {
		free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

static struct hook_result
header_limits_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	const struct header_limits_conf *c = s->conf;
	uint64_t lines = c != NULL ? c->lines : 500, max = c != NULL ? c->size : 64 * 1024;
	if (s->headers_fields > lines)
		return (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 552,
			.text = "Header Lines are too many" };
	if (s->headers_size > max)
		return (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 552,
			.text = "Header size is too large" };
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_header_limits = {
	.name = "EnforceHeaderLimitationsMessageHook",
	.james_class = "org.apache.james.smtpserver.EnforceHeaderLimitationsMessageHook",
	.summary = "limits the number of header fields and the header size",
	.configure = header_limits_configure,
	.message = header_limits_message,
};

/*
 * lifespan.c - James's netty.MaxConnectionLifespanHandler (james.md 1b.6).
 *
 * <duration> (required; DurationParser, no unit = milliseconds): the
 * connection is closed silently that long after it was accepted, whatever
 * it is doing (an acknowledged message is never lost: a commit in progress
 * still completes).
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct lifespan_conf {
	uint64_t ms;
};

static int
lifespan_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	xmlNode *d = cfg_xml_child(node, "duration");
	if (d == NULL) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: MaxConnectionLifespanHandler needs <duration>");
		return -1;
	}
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL))
		if (strcmp(cfg_xml_name(k), "duration") != 0)
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    cfg_xml_name(k));
	char *v;
	if (cfg_xml_text(x, d, &v) < 0)
		return -1;
	uint64_t ms;
	if (fastfail_duration(v, 1, &ms) != 0 || ms == 0) {
		cfg_error(x->diag, x->path, cfg_xml_line(d),
		    "<duration>: \"%s\" is not a duration (a number with ms, s, m, h or d; no unit "
		    "means milliseconds)", v);
		free(v);
		return -1;
	}
	free(v);
	struct lifespan_conf *c = xcalloc(1, sizeof(*c));
	c->ms = ms;
	*conf = c;
	return 0;
}

static struct hook_result
lifespan_connect(const struct hook_session *s)
{
	const struct lifespan_conf *c = s->conf;
	struct hook_session *w = (struct hook_session *)s; /* the session's own object */
	if (c != NULL && (w->lifespan_ms == 0 || c->ms < w->lifespan_ms))
		w->lifespan_ms = c->ms;
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_lifespan = {
	.name = "MaxConnectionLifespanHandler",
	.james_class = "org.apache.james.smtpserver.netty.MaxConnectionLifespanHandler",
	.summary = "closes every connection after duration",
	.configure = lifespan_configure,
	.connect = lifespan_connect,
};

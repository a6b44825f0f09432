/*
 * max_rcpt.c - James's fastfail.MaxRcptHandler (james.md 1b.6).
 *
 * <maxRcpt>N</maxRcpt>: the recipient after the N-th of a transaction gets
 * 452 4.5.3. James's default 0 refuses every RCPT (a known James bug);
 * mailetd requires maxRcpt >= 1 instead and stops start-up without it.
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/xmalloc.h"

#include <limits.h>

struct max_rcpt_conf {
	unsigned max;
};

static const struct cfg_field max_rcpt_fields[] = {
	{ .name = "maxRcpt", .type = CFG_T_UINT, .min = 0, .max = INT_MAX, .def = 0,
	    .off = offsetof(struct max_rcpt_conf, max) },
};

static int
max_rcpt_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct max_rcpt_conf *c = xcalloc(1, sizeof(*c));
	cfg_fields_defaults(max_rcpt_fields, 1, c);
	cfg_fields_read(x, node, max_rcpt_fields, 1, c);
	if (c->max == 0) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: MaxRcptHandler needs <maxRcpt> of at least 1 (James's default 0 "
		    "would refuse every recipient)");
		free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

static struct hook_result
max_rcpt_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	(void)rcpt;
	const struct max_rcpt_conf *c = s->conf;
	if (c != NULL && s->nrcpts + 1 > c->max)
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 452, .ecode = "4.5.3",
			.text = "Requested action not taken: max recipients reached" };
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_max_rcpt = {
	.name = "MaxRcptHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.MaxRcptHandler",
	.summary = "at most maxRcpt recipients per transaction",
	.configure = max_rcpt_configure,
	.rcpt = max_rcpt_rcpt,
};

/*
 * max_unknown.c - James's fastfail.MaxUnknownCmdHandler (james.md 1b.6).
 *
 * <maxUnknownCmdCount> (default 5): unknown commands are counted per
 * transaction (RSET, HELO/EHLO and the end of a message start a new
 * count); the one that takes the count above the limit gets
 * "521 Closing connection as too many unknown commands received" and the
 * connection is closed.
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/xmalloc.h"

#include <limits.h>

struct max_unknown_conf {
	unsigned max;
};

struct max_unknown_state {
	unsigned count;
	unsigned long tx;  /* the transaction the count belongs to */
};

static const struct cfg_field max_unknown_fields[] = {
	{ .name = "maxUnknownCmdCount", .type = CFG_T_UINT, .min = 0, .max = INT_MAX, .def = 5,
	    .off = offsetof(struct max_unknown_conf, max) },
};

static int
max_unknown_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct max_unknown_conf *c = xcalloc(1, sizeof(*c));
	cfg_fields_defaults(max_unknown_fields, 1, c);
	cfg_fields_read(x, node, max_unknown_fields, 1, c);
	*conf = c;
	return 0;
}

static struct hook_result
max_unknown_unknown(const struct hook_session *s, const char *verb)
{
	(void)verb;
	const struct max_unknown_conf *c = s->conf;
	unsigned max = c != NULL ? c->max : 5;
	struct max_unknown_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	if (st->tx != s->tx_serial) {
		st->tx = s->tx_serial;
		st->count = 0;
	}
	if (++st->count > max)
		return (struct hook_result){ .verdict = HOOK_DISCONNECT, .code = 521,
			.text = "Closing connection as too many unknown commands received" };
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_max_unknown = {
	.name = "MaxUnknownCmdHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.MaxUnknownCmdHandler",
	.summary = "closes the connection after maxUnknownCmdCount unknown commands",
	.configure = max_unknown_configure,
	.unknown = max_unknown_unknown,
};

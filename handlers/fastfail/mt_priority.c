/*
 * mt_priority.c - James's priority.SmtpMtPriority{Ehlo,Parameter,Message}Hook
 * (RFC 6710, james.md 1b.6): three handlers of one extension, sharing the
 * transaction's priority.
 *
 *   EHLO: the keyword MT-PRIORITY.
 *   MAIL MT-PRIORITY=n: n in -9..9, else "501 Incorrect syntax when
 *   handling MT-PRIORITY mail parameter"; a second one "501 The Mail
 *   parameter cannot contain more than one MT-PRIORITY parameter at the
 *   same time". A positive priority from an unauthenticated client
 *   becomes 0.
 *   End of data: the mail attribute MAIL_PRIORITY=n.
 * Not done (yet): "(PRIORITY n)" in the Received header.
 */
#include "fastfail.h"

#include "../../src/core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mt_priority_state {
	unsigned long tx;   /* the MAIL command the value belongs to */
	bool seen;
	int priority;
	char text[8];       /* the attribute value */
};

static size_t
mt_priority_ehlo(const struct hook_session *s, const char **out, size_t max)
{
	(void)s;
	if (max == 0)
		return 0;
	out[0] = "MT-PRIORITY";
	return 1;
}

static const char *const mt_priority_names[] = { "MT-PRIORITY", NULL };

static struct hook_result
mt_priority_param(const struct hook_session *s, const struct hook_param *p)
{
	struct mt_priority_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	if (st->tx != s->mail_serial) {
		memset(st, 0, sizeof(*st));
		st->tx = s->mail_serial;
	}
	if (st->seen)
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 501,
			.text = "The Mail parameter cannot contain more than one MT-PRIORITY "
				"parameter at the same time" };
	const char *v = p->value;
	bool neg = *v == '-';
	if (*v == '-' || *v == '+')
		v++;
	if (strlen(v) != 1 || *v < '0' || *v > '9')
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 501,
			.text = "Incorrect syntax when handling MT-PRIORITY mail parameter" };
	int n = neg ? -(*v - '0') : *v - '0';
	if (n > 0 && !s->authenticated)
		n = 0; /* RFC 6710 5: only trusted clients may raise the priority */
	st->seen = true;
	st->priority = n;
	return HOOK_RESULT_DECLINED;
}

static struct hook_result
mt_priority_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	struct mt_priority_state *st = hook_peer_state(s, &handler_mt_priority_param);
	if (st == NULL || !st->seen || st->tx != s->mail_serial)
		return HOOK_RESULT_DECLINED;
	snprintf(st->text, sizeof(st->text), "%d", st->priority);
	if (hook_set_attr(s, "MAIL_PRIORITY", st->text) != 0)
		return fastfail_attrs_full();
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_mt_priority_ehlo = {
	.name = "SmtpMtPriorityEhloHook",
	.james_class = "org.apache.james.smtpserver.priority.SmtpMtPriorityEhloHook",
	.summary = "announces MT-PRIORITY",
	.ehlo_keywords = mt_priority_ehlo,
};

const struct handler_def handler_mt_priority_param = {
	.name = "SmtpMtPriorityParameterHook",
	.james_class = "org.apache.james.smtpserver.priority.SmtpMtPriorityParameterHook",
	.summary = "takes MAIL MT-PRIORITY=n",
	.mail_params = mt_priority_names,
	.mail_param = mt_priority_param,
};

const struct handler_def handler_mt_priority_message = {
	.name = "SmtpMtPriorityMessageHook",
	.james_class = "org.apache.james.smtpserver.priority.SmtpMtPriorityMessageHook",
	.summary = "sets the MAIL_PRIORITY attribute",
	.message = mt_priority_message,
};

/*
 * mail_size.c - James's MailSizeEsmtpExtension (reference 1b.5): the SIZE
 * extension of RFC 1870 and the message size limit (maxmessagesize).
 *
 *   EHLO/LHLO  the keyword "SIZE <max>" ("SIZE" alone when there is no
 *              limit: mailetd still takes SIZE= then, RFC 1870 4)
 *   MAIL       SIZE=n: not a number gets 501 5.5.4, n above the limit
 *              552 5.3.4, both before the message is sent
 *   end of data  a message bigger than the limit gets 552 5.3.4 and is
 *              not queued (a data line filter, data_end)
 *
 * The streaming byte count stays in the DATA/BDAT decoders (dataread.c,
 * session.c) for speed; they stop storing at the limit and tell this
 * handler so (too_big). Where James answers the end of an oversized DATA
 * with "552 Quota exceeded", mailetd keeps RFC 1870's enhanced code and
 * the same text as at MAIL.
 */
#include "core_handlers.h"

#include "../../src/config/config.h"
#include "../../src/protocol/smtp_parse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE_TOO_BIG "Message size exceeds fixed maximum message size"

static const char *const mail_size_params[] = { "SIZE", NULL };

static size_t
mail_size_ehlo(const struct hook_session *s, const char **out, size_t max)
{
	if (max == 0 || s->state == NULL)
		return 0;
	if (*s->state == NULL)
		*s->state = malloc(32); /* the keyword text lives as long as the session */
	char *kw = *s->state;
	if (kw == NULL)
		return 0;
	uint64_t limit = s->server->max_message_size;
	if (limit > 0)
		snprintf(kw, 32, "SIZE %" PRIu64, limit);
	else
		snprintf(kw, 32, "SIZE");
	out[0] = kw;
	return 1;
}

static struct hook_result
mail_size_param(const struct hook_session *s, const struct hook_param *p)
{
	unsigned long long n;
	if (smtp_parse_u64(p->value, strlen(p->value), &n) != 0)
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 501, .ecode = "5.5.4",
			.text = "Syntactically incorrect value for SIZE parameter" };
	uint64_t limit = s->server->max_message_size;
	if (limit > 0 && n > limit)
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 552, .ecode = "5.3.4",
			.text = SIZE_TOO_BIG };
	return HOOK_RESULT_DECLINED;
}

static struct hook_result
mail_size_data_end(const struct hook_session *s, unsigned long long size, bool too_big)
{
	uint64_t limit = s->server->max_message_size;
	if (too_big || (limit > 0 && size > limit))
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 552, .ecode = "5.3.4",
			.text = SIZE_TOO_BIG };
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_mail_size = {
	.name = "MailSizeEsmtpExtension",
	.james_class = "org.apache.james.protocols.smtp.core.esmtp.MailSizeEsmtpExtension",
	.summary = "SIZE (RFC 1870): the EHLO keyword, MAIL SIZE= and the size limit",
	.ehlo_keywords = mail_size_ehlo,
	.mail_params = mail_size_params,
	.mail_param = mail_size_param,
	.data_end = mail_size_data_end,
};

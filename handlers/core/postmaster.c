/*
 * postmaster.c - James's PostmasterAbuseRcptHook (reference 1b.5).
 *
 * RFC 5321 4.5.1 requires "postmaster" to be accepted; James also accepts
 * "abuse". The hook answers OK, which skips later RCPT hooks. It runs after
 * the relay hook, so it can never open a relay.
 */
#include "core_handlers.h"

#include "../../src/protocol/smtp_parse.h"

#include <strings.h>

static struct hook_result
postmaster_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	(void)s;
	size_t n = rcpt->at;
	if ((n == 10 && strncasecmp(rcpt->mailbox, "postmaster", 10) == 0) ||
	    (n == 5 && strncasecmp(rcpt->mailbox, "abuse", 5) == 0))
		return (struct hook_result){ .verdict = HOOK_OK };
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_postmaster = {
	.name = "PostmasterAbuseRcptHook",
	.james_class = "org.apache.james.smtpserver.PostmasterAbuseRcptHook",
	.rcpt = postmaster_rcpt,
};

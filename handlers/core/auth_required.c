/*
 * auth_required.c - James's AuthRequiredHook (reference 1b.5).
 *
 * With <auth><required>true</required> (submission ports), MAIL from a
 * client that may not relay is refused: it must AUTH first (a successful
 * AUTH gives relaying rights) or be in authorizedAddresses.
 */
#include "core_handlers.h"

#include "../../src/config/config.h"

static struct hook_result
auth_required_mail(const struct hook_session *s, const struct smtp_path *sender)
{
	(void)sender;
	if (s->server->auth_required && !s->relaying_allowed)
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 530, .ecode = "5.7.1",
			.text = "Authentication Required" };
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_auth_required = {
	.name = "AuthRequiredHook",
	.james_class = "org.apache.james.smtpserver.AuthRequiredHook",
	.mail = auth_required_mail,
};

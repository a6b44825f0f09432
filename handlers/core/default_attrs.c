/*
 * default_attrs.c - James's AddDefaultAttributesMessageHook (reference
 * 1b.5): the mail attributes every message received over SMTP carries.
 *
 *   org.apache.james.SMTPIsAuthNetwork = true   relaying allowed (also after AUTH)
 *   org.apache.james.SMTPAuthUser = <user>      after a successful AUTH
 *   org.apache.james.ssl.protocol, .ssl.cipher  when the session is under TLS
 *
 * A message hook that always declines. It is marked message_always: a
 * configured message hook answering OK does not make the message lose
 * them (chain_run_always).
 */
#include "core_handlers.h"

static struct hook_result
default_attrs_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	if (s->relaying_allowed)
		hook_set_attr(s, "org.apache.james.SMTPIsAuthNetwork", "true");
	if (s->auth_user != NULL)
		hook_set_attr(s, "org.apache.james.SMTPAuthUser", s->auth_user);
	if (s->tls_active && s->tls_version != NULL && s->tls_cipher != NULL) {
		hook_set_attr(s, "org.apache.james.ssl.protocol", s->tls_version);
		hook_set_attr(s, "org.apache.james.ssl.cipher", s->tls_cipher);
	}
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_default_attrs = {
	.name = "AddDefaultAttributesMessageHook",
	.james_class = "org.apache.james.smtpserver.AddDefaultAttributesMessageHook",
	.summary = "the default mail attributes (auth network, auth user, TLS)",
	.message = default_attrs_message,
	.message_always = true,
};

/*
 * relay.c - open-relay protection (James's AuthRequiredToRelayRcptHook,
 * reference 1b.5).
 *
 * A client that may not relay (not in authorizedAddresses, not
 * authenticated) may only send to the local domains. Recipients that name
 * a local domain but carry another route are refused as relaying too, as
 * Postfix does with allow_untrusted_routing=no: the percent hack
 * (user%remote@local), bang paths (remote!user@local), and a quoted local
 * part holding an "@" ("user@remote"@local). Source routes were already
 * dropped by the parser, so the final mailbox is what is judged.
 *
 * As James: the reply is 530 5.7.1 when AUTH is announced to this client
 * (it could authenticate and relay), 550 5.7.1 otherwise.
 */
#include "core_handlers.h"

#include "../../src/config/config.h"
#include "../../src/protocol/smtp_parse.h"

#include <string.h>

static const struct hook_result relay_denied = {
	.verdict = HOOK_DENY,
	.code = 550,
	.ecode = "5.7.1",
	.text = "Requested action not taken: relaying denied",
};

static const struct hook_result relay_auth_required = {
	.verdict = HOOK_DENY,
	.code = 530,
	.ecode = "5.7.1",
	.text = "Authentication Required",
};

static bool
relay_has_routing(const struct smtp_path *p)
{
	for (size_t i = 0; i < p->at; i++) {
		char c = p->mailbox[i];
		if (c == '%' || c == '!' || c == '@')
			return true;
	}
	return false;
}

static struct hook_result
relay_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	if (s->relaying_allowed)
		return HOOK_RESULT_DECLINED;
	const struct hook_result denied = s->auth_announced ? relay_auth_required : relay_denied;
	if (rcpt->at >= rcpt->len)
		return denied; /* the session always adds a domain */
	const char *domain = rcpt->mailbox + rcpt->at + 1;
	size_t dlen = rcpt->len - rcpt->at - 1;
	if (!config_is_local_domain(s->cfg, domain, dlen))
		return denied;
	if (relay_has_routing(rcpt))
		return denied;
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_relay = {
	.name = "AuthRequiredToRelayRcptHook",
	.james_class = "org.apache.james.smtpserver.AuthRequiredToRelayRcptHook",
	.rcpt = relay_rcpt,
};

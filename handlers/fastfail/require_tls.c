/*
 * require_tls.c - James's tls.SmtpRequireTls{Ehlo,Parameter,Message}Hook
 * (RFC 8689, james.md 1b.6): three handlers of one extension.
 *
 *   EHLO: the keyword REQUIRETLS, only once TLS is active.
 *   MAIL REQUIRETLS: recorded only over TLS (ignored in the clear); a
 *   second one "501 The Mail parameter cannot contain more than one
 *   REQUIRETLS parameter at the same time".
 *   End of data: the mail attribute REQUIRETLS=true when it was asked
 *   for, or REQUIRETLS=false when the message has "TLS-Required: No".
 * Nothing delivers mail yet, so the attribute is all there is to honour.
 */
#include "fastfail.h"

#include "../../src/core/xmalloc.h"

#include <string.h>
#include <strings.h>

struct require_tls_state {
	unsigned long tx;
	bool seen;
	bool requested;
};

static size_t
require_tls_ehlo(const struct hook_session *s, const char **out, size_t max)
{
	if (max == 0 || !s->tls_active)
		return 0;
	out[0] = "REQUIRETLS";
	return 1;
}

static const char *const require_tls_names[] = { "REQUIRETLS", NULL };

static struct hook_result
require_tls_param(const struct hook_session *s, const struct hook_param *p)
{
	(void)p;
	struct require_tls_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	if (st->tx != s->mail_serial) {
		memset(st, 0, sizeof(*st));
		st->tx = s->mail_serial;
	}
	if (st->seen)
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 501,
			.text = "The Mail parameter cannot contain more than one REQUIRETLS "
				"parameter at the same time" };
	st->seen = true;
	st->requested = s->tls_active;
	return HOOK_RESULT_DECLINED;
}

static struct hook_result
require_tls_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	const struct require_tls_state *st = hook_peer_state(s, &handler_require_tls_param);
	const char *v = NULL;
	char h[16];
	if (st != NULL && st->tx == s->mail_serial && st->requested)
		v = "true";
	else if (hook_header(s, "TLS-Required", 0, h, sizeof(h)) >= 0 &&
	    strcasecmp(h + strspn(h, " \t"), "No") == 0)
		v = "false";
	if (v != NULL && hook_set_attr(s, "REQUIRETLS", v) != 0)
		return fastfail_attrs_full();
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_require_tls_ehlo = {
	.name = "SmtpRequireTlsEhloHook",
	.james_class = "org.apache.james.smtpserver.tls.SmtpRequireTlsEhloHook",
	.summary = "announces REQUIRETLS after TLS",
	.ehlo_keywords = require_tls_ehlo,
};

const struct handler_def handler_require_tls_param = {
	.name = "SmtpRequireTlsParameterHook",
	.james_class = "org.apache.james.smtpserver.tls.SmtpRequireTlsParameterHook",
	.summary = "takes MAIL REQUIRETLS over TLS",
	.mail_params = require_tls_names,
	.mail_param = require_tls_param,
};

const struct handler_def handler_require_tls_message = {
	.name = "SmtpRequireTlsMessageHook",
	.james_class = "org.apache.james.smtpserver.tls.SmtpRequireTlsMessageHook",
	.summary = "sets the REQUIRETLS attribute",
	.message = require_tls_message,
};

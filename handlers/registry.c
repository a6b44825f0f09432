/* registry.c - the handlers mailetd knows (see registry.h). */
#include "registry.h"

#include "core/core_handlers.h"
#include "fastfail/fastfail.h"

#include <stdio.h>
#include <string.h>

static const struct handler_def *const registry[] = {
	&handler_valid_rcpt,
	&handler_max_rcpt,
	&handler_max_unknown,
	&handler_spam_trap,
	&handler_allowed_unauth,
	&handler_header_limits,
	&handler_lifespan,
	&handler_set_attr,
	&handler_mt_priority_ehlo,
	&handler_mt_priority_param,
	&handler_mt_priority_message,
	&handler_require_tls_ehlo,
	&handler_require_tls_param,
	&handler_require_tls_message,
	&handler_dsn_ehlo,
	&handler_dsn_mail,
	&handler_dsn_rcpt,
	&handler_dsn_message,
	&handler_spamassassin,
	&handler_greylist,
	&handler_set_mime_header,
	&handler_drop_headers,
	&handler_header_checks,
	&handler_dnsrbl,
	&handler_resolvable_helo,
	&handler_reverse_helo,
	&handler_valid_sender_domain,
	&handler_valid_rcpt_mx,
	&handler_spf,
	&handler_urirbl,
	&handler_future_release_ehlo,
	&handler_future_release_param,
	&handler_future_release_message,
	/* the core handlers, should a file name them */
	&handler_relay,
	&handler_verify_identity,
	&handler_auth_required,
	&handler_postmaster,
	&handler_default_attrs,
	&handler_mail_size,
	&handler_received,
	&handler_config_auth,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define NOT_YET "not supported yet"
#define JAVA_CODE "custom Java code; mailetd cannot run it"
#define BUILT_IN "built into mailetd"

/* James classes (james.md 1b.6, the corpus) that do not run, and why. */
static const struct {
	const char *cls;
	const char *reason;
} unsupported[] = {
	{ "org.apache.james.smtpserver.POP3BeforeSMTPHandler", "no POP3 server; not supported" },
	{ "org.apache.james.smtpserver.MailPriorityHandler", NOT_YET },
	{ "org.apache.james.smtpserver.UsersRepositoryAuthHook", BUILT_IN " (AUTH checks the users repository)" },
	{ "org.apache.james.smtpserver.tls.EnforceMtaSts", NOT_YET },
	{ "org.apache.james.smtpserver.tls.TestMtaSts", NOT_YET },
	{ "org.apache.james.smtpserver.smtputf8.SmtpUtf8MailHook", BUILT_IN " (SMTPUTF8 is always offered)" },
	{ "org.apache.james.smtpserver.smtputf8.SmtpUtf8RcptHook", BUILT_IN " (SMTPUTF8 is always offered)" },
	{ "org.apache.james.smtpserver.DKIMHook", NOT_YET },
	{ "org.apache.james.crowdsec.CrowdsecSMTPConnectHandler", NOT_YET },
	{ "org.apache.james.crowdsec.CrowdsecEhloHook", NOT_YET },
	{ "org.apache.james.protocols.smtp.core.esmtp.AuthCmdHandler", BUILT_IN " (AUTH)" },
	{ "org.apache.james.lmtpserver.MailetContainerHandler", BUILT_IN " (LMTP delivery)" },
	{ "org.apache.james.examples.LoggingRcptHook", JAVA_CODE },
};

/* Other James class names of a handler (older packages, James's docs). */
static const struct {
	const char *cls;
	const struct handler_def *def;
} aliases[] = {
	{ "org.apache.james.smtpserver.fastfail.SpamAssassinHandler", &handler_spamassassin },
	{ "org.apache.james.smtpserver.SpamAssassinHandler", &handler_spamassassin },
	{ "GreylistHandler", &handler_greylist },
};

const struct handler_def *
registry_find(const char *cls)
{
	for (size_t i = 0; i < NELEM(aliases); i++)
		if (strcmp(aliases[i].cls, cls) == 0)
			return aliases[i].def;
	for (size_t i = 0; i < NELEM(registry); i++)
		if (strcmp(registry[i]->name, cls) == 0 ||
		    (registry[i]->james_class != NULL && strcmp(registry[i]->james_class, cls) == 0))
			return registry[i];
	return NULL;
}

const char *
registry_unsupported(const char *cls)
{
	for (size_t i = 0; i < NELEM(unsupported); i++)
		if (strcmp(unsupported[i].cls, cls) == 0)
			return unsupported[i].reason;
	return NULL;
}

bool
registry_core_set(const char *cls, bool lmtp, enum chain_core_set *set)
{
	static const struct {
		const char *cls;
		bool lmtp;
		enum chain_core_set set;
	} loaders[] = {
		{ "org.apache.james.smtpserver.CoreCmdHandlerLoader", false, CHAIN_CORE_SMTP },
		{ "org.apache.james.smtpserver.NoAuthCmdHandlerLoader", false, CHAIN_CORE_SMTP_NOAUTH },
		{ "org.apache.james.lmtpserver.CoreCmdHandlerLoader", true, CHAIN_CORE_LMTP },
		{ "org.apache.james.lmtpserver.MailetContainerCmdHandlerLoader", true,
		    CHAIN_CORE_LMTP_MAILET },
	};
	for (size_t i = 0; i < NELEM(loaders); i++)
		if (loaders[i].lmtp == lmtp && strcmp(loaders[i].cls, cls) == 0) {
			*set = loaders[i].set;
			return true;
		}
	return false;
}

void
registry_names(char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NELEM(registry) && o < len; i++) {
		int k = snprintf(buf + o, len - o, "%s%s", i > 0 ? ", " : "", registry[i]->name);
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

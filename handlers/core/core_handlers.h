/* core_handlers.h - the handlers of the core chain (one file each). */
#ifndef MAILETD_CORE_HANDLERS_H
#define MAILETD_CORE_HANDLERS_H

#include "../hook.h"

/* AuthRequiredHook: with <auth><required>, MAIL needs relaying rights. */
extern const struct handler_def handler_auth_required;
/* AuthRequiredToRelayRcptHook: recipients outside the local domains need
 * relaying rights; routing tricks inside local domains are refused too. */
extern const struct handler_def handler_relay;
/* PostmasterAbuseRcptHook: postmaster@ and abuse@ are always accepted. */
extern const struct handler_def handler_postmaster;
/* SenderAuthIdentifyVerificationHook: <verifyIdentity>. */
extern const struct handler_def handler_verify_identity;

/* AddDefaultAttributesMessageHook: the default mail attributes. */
extern const struct handler_def handler_default_attrs;
/* MailSizeEsmtpExtension: SIZE (EHLO keyword, MAIL SIZE=, the limit). */
extern const struct handler_def handler_mail_size;
/* ReceivedDataLineFilter: the Received: header (a data line filter). */
extern const struct handler_def handler_received;
/* UsersRepositoryAuthHook: AUTH against the users repository. */
extern const struct handler_def handler_users_auth;
/* ConfigurationAuthHook: AUTH against accounts written in the configuration. */
extern const struct handler_def handler_config_auth;

#endif

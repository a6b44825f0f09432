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

#endif

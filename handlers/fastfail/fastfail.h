/*
 * fastfail.h - the optional handlers a <handlerchain> may name (james.md
 * 1b.6), one file each. Their James class names and parameters are in
 * each file's handler_def and in docs/handlers.md.
 */
#ifndef MAILETD_FASTFAIL_H
#define MAILETD_FASTFAIL_H

#include "../hook.h"

#include <stdint.h>

/* ValidRcptHandler: recipients in local domains must be known users. */
extern const struct handler_def handler_valid_rcpt;
/* MaxRcptHandler: at most <maxRcpt> recipients per transaction. */
extern const struct handler_def handler_max_rcpt;
/* MaxUnknownCmdHandler: close after too many unknown commands. */
extern const struct handler_def handler_max_unknown;
/* SpamTrapHandler: a client that writes to a trap address is blocked. */
extern const struct handler_def handler_spam_trap;
/* AllowedUnauthenticatedSender: senders allowed to authorizedAddresses clients. */
extern const struct handler_def handler_allowed_unauth;
/* EnforceHeaderLimitationsMessageHook: header lines and size limits. */
extern const struct handler_def handler_header_limits;
/* MaxConnectionLifespanHandler: closes a connection after <duration>. */
extern const struct handler_def handler_lifespan;
/* SetMailAttributeMessageHook: a string mail attribute on every message. */
extern const struct handler_def handler_set_attr;

/* MT-PRIORITY (RFC 6710): EHLO keyword, MAIL parameter, MAIL_PRIORITY attribute. */
extern const struct handler_def handler_mt_priority_ehlo;
extern const struct handler_def handler_mt_priority_param;
extern const struct handler_def handler_mt_priority_message;
/* REQUIRETLS (RFC 8689): EHLO keyword, MAIL parameter, REQUIRETLS attribute. */
extern const struct handler_def handler_require_tls_ehlo;
extern const struct handler_def handler_require_tls_param;
extern const struct handler_def handler_require_tls_message;

/* DSN (RFC 3461): EHLO keyword, MAIL RET/ENVID, RCPT NOTIFY/ORCPT, attributes. */
extern const struct handler_def handler_dsn_ehlo;
extern const struct handler_def handler_dsn_mail;
extern const struct handler_def handler_dsn_rcpt;
extern const struct handler_def handler_dsn_message;

/* SetMimeHeaderHandler: a header field on top of every message. */
extern const struct handler_def handler_set_mime_header;
/* SpamAssassinHandler: asks spamd (spamd.h) about every message. */
extern const struct handler_def handler_spamassassin;
struct spamd_result;
/*
 * SpamAssassinHandler's decision on spamd's answer r, with its
 * configuration conf (from configure): sets the James attributes
 * (org.apache.james.spamassassin.flag / .status, texts kept in the
 * session's state slot) and returns DENY 554 5.7.0 when
 * spamdRejectionHits > 0 and the score reaches it, else DECLINED.
 */
struct hook_result spamassassin_decide(const struct hook_session *s, const void *conf,
    const struct spamd_result *r);

/* JDBCGreylistHandler: greylisting with an embedded store (greylist_store.h). */
extern const struct handler_def handler_greylist;
/*
 * The greylisting key of a triplet into out (outlen bytes): the client's
 * /24 (IPv4) or /64 (IPv6), the sender ("" for <>) and the recipient,
 * space-separated, in lower case.
 */
void greylist_key(const struct netaddr *client, const char *sender, const char *rcpt, char *out,
    size_t outlen);

/*
 * James's DurationParser: a number with an optional unit (ms, s, m, h, d
 * and their long forms, any case, optional space); no unit means
 * default_unit_ms. 0 with *ms set, or -1.
 */
int fastfail_duration(const char *s, uint64_t default_unit_ms, uint64_t *ms);

#endif

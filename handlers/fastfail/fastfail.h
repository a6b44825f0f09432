/*
 * fastfail.h - the optional handlers a <handlerchain> may name (james.md
 * 1b.6), one file each. Their James class names and parameters are in
 * each file's handler_def and in docs/handlers.md.
 */
#ifndef MAILETD_FASTFAIL_H
#define MAILETD_FASTFAIL_H

#include "../hook.h"

#include <stdint.h>
#include <time.h>

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

/* FUTURERELEASE (RFC 4865): EHLO keyword, MAIL HOLDFOR/HOLDUNTIL, attributes. */
extern const struct handler_def handler_future_release_ehlo;
extern const struct handler_def handler_future_release_param;
extern const struct handler_def handler_future_release_message;
struct timespec;
/*
 * FutureReleaseMailParameterHook's decision on one HOLDFOR / HOLDUNTIL
 * parameter p at time now: DECLINED with *hold_s (seconds to hold, a
 * fraction rounded up) and *release (the release instant) set, or James's
 * DENY (future_release.c).
 */
struct hook_result future_release_check(const struct hook_session *s, const struct hook_param *p,
    const struct timespec *now, long long *hold_s, time_t *release);
/* An RFC 3339 date-time (Z or an offset; fraction up to 9 digits) as
 * seconds since the epoch and nanoseconds. 0, or -1 when malformed. */
int future_release_parse_instant(const char *v, long long *secs, int *nanos);

/* URIRBLHandler: host names of URLs in the body looked up in URI blocklists. */
extern const struct handler_def handler_urirbl;

/* DropHeadersFilter: removes header fields (Postfix's message_drop_headers). */
extern const struct handler_def handler_drop_headers;
/* HeaderChecksFilter: refuses messages by regular expressions (Postfix's header_checks). */
extern const struct handler_def handler_header_checks;

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

/* The DNS-based handlers (resolver: src/dns/dns.h; docs/handlers.md). */
/* DNSRBLHandler: clients listed in DNS blocklists may not send (RCPT). */
extern const struct handler_def handler_dnsrbl;
/* ResolvableEhloHeloHandler: the HELO/EHLO name must resolve. */
extern const struct handler_def handler_resolvable_helo;
/* ReverseEqualsEhloHeloHandler: the HELO/EHLO name must be the client's PTR name. */
extern const struct handler_def handler_reverse_helo;
/* ValidSenderDomainHandler: the sender's domain must have a mail exchanger. */
extern const struct handler_def handler_valid_sender_domain;
/* ValidRcptMX: no recipient domain whose MX is in a banned network. */
extern const struct handler_def handler_valid_rcpt_mx;
/* SPFHandler: RFC 7208 check of the sender, Received-SPF header. */
extern const struct handler_def handler_spf;

/*
 * SPFHandler's Received-SPF field (RFC 7208 9.1) for outcome o: the field,
 * folded before each key=value pair, into field, and its value unfolded
 * (the mail attribute) into value, both of size bytes (at least
 * SPF_HANDLER_FIELD_MAX). Untrusted input (the sender from SMTP, names
 * from the DNS): comments and quoted strings are escaped, other octets
 * outside printable ASCII become "?" (UTF-8 is kept in quoted strings),
 * and values are cut so that every line stays within RFC 5322's 998
 * octets (the sender at 256 octets in the comment and 400 in
 * envelope-from, helo and receiver at 255, mechanism and problem at 200).
 */
#define SPF_HANDLER_FIELD_MAX 4096
struct spf_outcome;
void spf_handler_field(const struct spf_outcome *o, const char *client_ip, const char *sender,
    const char *helo, const char *receiver, char *field, char *value, size_t size);

/* 451 4.3.0 for a message hook whose hook_set_attr failed (the
 * message's attributes are full). */
struct hook_result fastfail_attrs_full(void);

struct dns;
/* The daemon's resolver for s (s->cfg->resolver), or NULL. */
struct dns *fastfail_resolver(const struct hook_session *s);
/* True if a hook of s may start a lookup and answer PENDING. */
bool fastfail_can_wait(const struct hook_session *s);
/* Removes one trailing dot from a zone name in place; 0 if it is then a
 * domain name (cfg_domain_syntax), else -1. */
int fastfail_zone(char *name);
struct cfg_xml;
struct _xmlNode;
/* Reads the text of zone element k (<whitelist>, <server>, ...), checks it
 * with fastfail_zone and appends it to *zones (*n of them); a bad name is
 * reported as "file:line: <element>: ..." and gives -1. */
int fastfail_zone_add(struct cfg_xml *x, const struct _xmlNode *k, char ***zones, size_t *n);
/* Frees the n zone names of zones and the array. */
void fastfail_zones_free(char **zones, size_t n);
/* True if host names a and b are equal (any case, a trailing dot ignored). */
bool fastfail_same_host(const char *a, const char *b);

/*
 * James's DurationParser: a number with an optional unit (ms, s, m, h, d
 * and their long forms, any case, optional space); no unit means
 * default_unit_ms. 0 with *ms set, or -1.
 */
int fastfail_duration(const char *s, uint64_t default_unit_ms, uint64_t *ms);

#endif

/*
 * dns.h - the daemon's one asynchronous DNS resolver (libunbound).
 *
 * One struct dns serves every thread. A lookup is started from any thread
 * that runs an event_base (an I/O thread, a test's loop) and its callback
 * runs later on that same event_base, never inside dns_lookup() itself.
 * Behind it: one libunbound context (its cache is shared by all lookups),
 * libunbound's own worker thread that talks to the DNS servers, and a
 * resolver thread with its own event_base that waits on ub_fd() and hands
 * each answer to the requester's loop. See docs/dns.md.
 *
 * Failure semantics: DNS_FOUND, DNS_NXDOMAIN (the name does not exist) and
 * DNS_NODATA (it exists, without records of that type) are answers from
 * the DNS. DNS_TEMPFAIL is everything else: timeout, SERVFAIL, REFUSED,
 * no server reachable, out of resources. A temporary failure must never
 * be treated as "does not exist" (4xx, not 5xx).
 *
 * Handles and threads (the rule every requester follows):
 *  - dns_lookup() returns a handle. Exactly one of two things ends it:
 *    its callback runs (on the requester's base), or the requester calls
 *    dns_cancel() before that. After either, the handle is invalid.
 *  - dns_cancel() must be called on the requester's thread (the thread
 *    that runs the base given to dns_lookup), never from inside the
 *    lookup's own callback. After it returns the callback will not run
 *    and nothing of the lookup touches the requester's memory again, so
 *    a session closing cancels its lookups and frees itself at once.
 *  - The requester's base must outlive its pending lookups (cancel them
 *    before freeing the base). dns_free() requires that every lookup has
 *    ended (delivered or cancelled).
 */
#ifndef MAILETD_DNS_H
#define MAILETD_DNS_H

#include "../core/netaddr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cfg_dns;

enum dns_type {
	DNS_A = 1,
	DNS_PTR = 12,
	DNS_MX = 15,
	DNS_TXT = 16,
	DNS_AAAA = 28,
};

enum dns_status {
	DNS_FOUND = 0,   /* n >= 1 records */
	DNS_NXDOMAIN,    /* permanent: the name does not exist */
	DNS_NODATA,      /* permanent: the name exists, no record of the type */
	DNS_INVALID,     /* permanent: the query name is not a domain name */
	DNS_TEMPFAIL,    /* temporary: timeout, SERVFAIL, network, resources */
};

/* One record of a result. Which fields are set depends on the type. */
struct dns_rr {
	struct netaddr addr;  /* A, AAAA */
	unsigned pref;        /* MX preference */
	char *text;           /* MX exchange or PTR name (no trailing dot, \DDD
	                         escapes for odd octets); TXT: the record's
	                         strings concatenated (may contain NUL bytes) */
	size_t len;           /* strlen(text) for names; the TXT length */
};

struct dns_result {
	enum dns_status status;
	enum dns_type type;
	const char *name;     /* the query name as given (PTR: the arpa name) */
	struct dns_rr *rr;    /* n records; MX sorted by preference (stable) */
	size_t n;
	unsigned ttl;         /* seconds the answer may be cached (FOUND) */
	const char *why;      /* short reason for DNS_TEMPFAIL/INVALID, else NULL */
};

/* Runs on the requester's base. r and everything in it is freed when the
 * callback returns (copy what you keep). */
typedef void dns_cb(const struct dns_result *r, void *arg);

struct dns;
struct dns_query;

/*
 * Starts the resolver configured by cfg (dnsservice.xml; see config.h):
 * DNS servers (with optional ports), /etc/resolv.conf when autodiscover,
 * cache size, negative TTL cap and the lookup timeout. Returns NULL with a
 * reason in err if libunbound refuses the settings or a thread cannot be
 * started. Requires evthread_use_pthreads(). Free with dns_free().
 */
struct dns *dns_new(const struct cfg_dns *cfg, char *err, size_t errlen);

/* Stops the resolver thread and frees everything; NULL is a no-op. Every
 * lookup must have ended before (see the rule above). */
void dns_free(struct dns *d);

/*
 * Looks name up (text, a trailing dot is optional; untrusted input is
 * fine: every octet but "." is taken literally, "\" too; a name with an
 * empty label, a label over 63 octets, more than 253 octets or a control
 * character gives DNS_INVALID) and calls cb(result, arg) on
 * base's loop thread later: within the configured timeout at the latest
 * (then DNS_TEMPFAIL "timeout"). Returns the handle for dns_cancel().
 */
struct dns_query *dns_lookup(struct dns *d, struct event_base *base, enum dns_type type,
    const char *name, dns_cb *cb, void *arg);

/* The PTR lookup of an IPv4 or IPv6 address (in-addr.arpa / ip6.arpa). */
struct dns_query *dns_lookup_ptr(struct dns *d, struct event_base *base,
    const struct netaddr *addr, dns_cb *cb, void *arg);

/* Ends a lookup whose callback has not run yet (see the rule above). */
void dns_cancel(struct dns_query *q);

/* True for the statuses that mean "the DNS says no" (NXDOMAIN, NODATA,
 * INVALID); false for FOUND and TEMPFAIL. */
bool dns_permanent(enum dns_status s);
/* "found", "nxdomain", "nodata", "invalid", "tempfail" for logs. */
const char *dns_status_name(enum dns_status s);
/* "A", "AAAA", "MX", "PTR", "TXT". */
const char *dns_type_name(enum dns_type t);

/*
 * Writes the reversed form of addr followed by "." and suffix into buf:
 * IPv4 d.c.b.a, IPv6 32 nibbles, least significant first (RFC 1035 3.5,
 * RFC 3596 2.5, RFC 5782 2.1 and 2.4). With suffix "in-addr.arpa" or
 * "ip6.arpa" this is the PTR name; with a DNSBL zone it is the DNSBL query
 * name. Returns the length, or -1 if it does not fit (a name is at most
 * 253 octets; DNS_NAME_MAX + 1 is always enough for a valid one).
 */
#define DNS_NAME_MAX 253
int dns_reverse_name(const struct netaddr *addr, const char *suffix, char *buf, size_t len);

/*
 * Decodes the wire-format domain name at msg[off..len) (no compression:
 * libunbound hands out uncompressed rdata) into text: labels joined by
 * ".", no trailing dot, "" for the root; "." and "\" inside labels and
 * octets outside printable ASCII are escaped as \DDD. Returns the offset
 * after the name, or -1 if the name is malformed or out didn't fit.
 * Untrusted input.
 */
long dns_name_decode(const uint8_t *msg, size_t len, size_t off, char *out, size_t outlen);

#endif

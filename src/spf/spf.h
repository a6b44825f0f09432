/*
 * spf.h - asynchronous SPF evaluation (RFC 7208 check_host()) on the
 * daemon's resolver (src/dns/dns.h).
 *
 * spf_check_start() evaluates the SPF policy of the sender's domain (or,
 * for the null sender, of the HELO name) for a client address, with the
 * mechanisms all, include, a, mx, ptr, ip4, ip6, exists, the modifiers
 * redirect and exp, macros, the limit of 10 DNS-querying terms, of 10 MX
 * and PTR names per term, and of 2 void lookups (RFC 7208 4.6.4). Lookups
 * run one after another; the callback runs later on the given base with
 * the result none, neutral, pass, fail, softfail, temperror or permerror.
 *
 * The same rule as for DNS lookups holds: a check ends either with its
 * callback or with spf_check_cancel() called first, on the requester's
 * thread and never from inside its own callback.
 */
#ifndef MAILETD_SPF_H
#define MAILETD_SPF_H

#include "../core/netaddr.h"
#include "spf_record.h"

struct dns;
struct event_base;
struct spf_check;

struct spf_request {
	struct netaddr ip;       /* the SMTP client */
	const char *sender;      /* MAIL FROM address without <>; "" for the null sender */
	const char *helo;        /* HELO/EHLO argument */
	const char *receiver;    /* our host name, for %{r} in explanations; may be NULL */
	unsigned timeout_ms;     /* limit for the whole check (RFC 7208 4.6.4: at
	                            least 20 s); 0 = 20 s. Past it: temperror */
};

struct spf_outcome {
	enum spf_result result;
	const char *domain;      /* the domain whose policy was checked */
	const char *sender;      /* the identity: local@domain ("postmaster@helo" for <>) */
	const char *mechanism;   /* the term that matched, "default" if none, or NULL */
	const char *explanation; /* for fail: the expanded exp= text, else NULL */
	const char *problem;     /* for temperror/permerror: what went wrong */
};

/* Runs on the requester's base; o and its strings are freed when it returns. */
typedef void spf_cb(const struct spf_outcome *o, void *arg);

/* Starts a check; the strings of req are copied. Returns the handle for
 * spf_check_cancel(). */
struct spf_check *spf_check_start(struct dns *d, struct event_base *base,
    const struct spf_request *req, spf_cb *cb, void *arg);

/* Ends a check whose callback has not run yet; no callback will run. */
void spf_check_cancel(struct spf_check *c);

#endif

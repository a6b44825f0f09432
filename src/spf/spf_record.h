/*
 * spf_record.h - SPF records (RFC 7208): the strict parser of a record
 * and macro expansion. Pure functions; the evaluation with DNS lookups is
 * in spf.h.
 *
 * spf_record_parse() takes network data (a TXT record) and accepts only
 * what RFC 7208 section 12's ABNF allows: any deviation (an unknown
 * mechanism, a bad CIDR length, a bad macro, a domain-spec without a
 * proper end, a second redirect or exp) is an error, which the evaluator
 * turns into permerror.
 */
#ifndef MAILETD_SPF_RECORD_H
#define MAILETD_SPF_RECORD_H

#include "../core/netaddr.h"

#include <stdbool.h>
#include <stddef.h>

/* RFC 7208 2.6: the results of check_host(). */
enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

enum spf_mech {
	SPF_M_ALL,
	SPF_M_INCLUDE,
	SPF_M_A,
	SPF_M_MX,
	SPF_M_PTR,
	SPF_M_IP4,
	SPF_M_IP6,
	SPF_M_EXISTS,
};

struct spf_term {
	enum spf_mech mech;
	enum spf_result qual;  /* PASS (+, default), FAIL (-), SOFTFAIL (~), NEUTRAL (?) */
	char *domain;          /* domain-spec (a macro-string) or NULL */
	struct netaddr net;    /* ip4, ip6 */
	unsigned cidr4;        /* ip4, a, mx: prefix, default 32 */
	unsigned cidr6;        /* ip6, a, mx: prefix, default 128 */
};

struct spf_record {
	struct spf_term *terms;
	size_t n;
	char *redirect;        /* redirect= domain-spec, or NULL */
	char *exp;             /* exp= domain-spec, or NULL */
};

/* True if txt[0..len) is an SPF version 1 record: "v=spf1" (any case)
 * followed by a space or the end (RFC 7208 4.5). */
bool spf_is_record(const char *txt, size_t len);

/*
 * Parses an SPF record (untrusted: a TXT record from the DNS; may hold
 * any octet, including NUL). 0 with *out filled (free with
 * spf_record_clear), or -1 with a short reason in err (*out is then empty).
 */
int spf_record_parse(const char *txt, size_t len, struct spf_record *out, char *err,
    size_t errlen);
void spf_record_clear(struct spf_record *r);

/* What the macro letters stand for (RFC 7208 7.2). */
struct spf_macro_vars {
	const char *sender;     /* s: <local>@<domain>, never empty */
	const char *local;      /* l */
	const char *sender_dom; /* o */
	const char *domain;     /* d: the current domain */
	const struct netaddr *ip; /* i, c, v */
	const char *helo;       /* h */
	const char *receiver;   /* r (exp only); NULL: "unknown" */
	const char *validated;  /* p: the validated name of ip; NULL: "unknown" */
	long long now;          /* t (exp only) */
};

/*
 * Expands the macro-string s into out. exp: s is an explanation string
 * (c, r and t allowed, spaces allowed). For a domain-spec (exp false) a
 * result over 253 octets loses labels on the left until it fits (RFC 7208
 * 7.3). Returns the length, or -1 with a reason in err (bad macro, the
 * output does not fit in outlen).
 */
int spf_macro_expand(const char *s, const struct spf_macro_vars *v, bool exp, char *out,
    size_t outlen, char *err, size_t errlen);

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror". */
const char *spf_result_name(enum spf_result r);

#endif

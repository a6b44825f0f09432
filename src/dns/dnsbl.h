/*
 * dnsbl.h - DNS blocklists (RFC 5782): the query name of a client address
 * and what an answer means. Pure functions; the lookups themselves go
 * through dns.h.
 *
 * A client a.b.c.d is listed in zone Z when d.c.b.a.Z has A records
 * (IPv6: the 32 nibbles of the address, least significant first). The
 * addresses are codes in 127.0.0.0/8 (127.0.0.2 is the test entry that
 * every list must have, RFC 5782 5); a TXT record at the same name may
 * say why.
 */
#ifndef MAILETD_DNSBL_H
#define MAILETD_DNSBL_H

#include "../core/netaddr.h"
#include "dns.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writes the query name of client in zone into buf (at least
 * DNS_NAME_MAX + 1 bytes). An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * is queried as the IPv4 address. Returns the length, or -1 if zone is not
 * a domain name or the result is too long.
 */
int dnsbl_query_name(const struct netaddr *client, const char *zone, char *buf, size_t len);

enum dnsbl_verdict {
	DNSBL_NOT_LISTED, /* NXDOMAIN or no A record */
	DNSBL_LISTED,     /* at least one code in 127.0.0.0/8 */
	DNSBL_TEMPFAIL,   /* the lookup failed temporarily: no decision */
	DNSBL_ERROR,      /* answered, but with no listing code: an address
	                     outside 127.0.0.0/8, 127.0.0.1 (never a listing,
	                     RFC 5782 5) or 127.255.255.x (the error codes of
	                     large lists: refused, rate-limited). Log it and
	                     treat the client as not listed. */
};

#define DNSBL_MAX_CODES 8

struct dnsbl_answer {
	enum dnsbl_verdict verdict;
	uint8_t codes[DNSBL_MAX_CODES]; /* last octet of each listing code, ascending, distinct */
	size_t ncodes;
};

/* Interprets the result of the A lookup of a query name. */
void dnsbl_interpret(const struct dns_result *a, struct dnsbl_answer *out);

/* True if the answer lists code 127.0.0.<code>. */
bool dnsbl_has_code(const struct dnsbl_answer *ans, uint8_t code);

/*
 * The reason from the result of the TXT lookup of the same name, made safe
 * for an SMTP reply and a log line: the first record, octets outside
 * printable ASCII replaced by "?", truncated to len - 1. Returns the
 * length written (0 and buf = "" when there is no TXT record).
 */
size_t dnsbl_detail(const struct dns_result *txt, char *buf, size_t len);

#endif

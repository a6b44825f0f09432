/*
 * netaddr.h - IP addresses and James-style network lists.
 *
 * A netlist is what <authorizedAddresses> (and later whitelists) hold:
 * tokens separated by commas and/or white space, each one of
 *   127.0.0.1            a single IPv4 address
 *   127.0.0.0/8          IPv4 CIDR
 *   127.0.0.0/255.0.0.0  IPv4 address/netmask (contiguous masks only)
 *   127.* or 10.1.*.*    IPv4 wildcard (trailing octets only)
 *   ::1, 2001:db8::/32   IPv6 address or prefix; "%" is accepted for "/"
 *   [::1] or [::1]/128   bracketed IPv6
 *   mail.example.com     a host name, resolved once when the list is parsed
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are matched as IPv4.
 */
#ifndef MAILETD_NETADDR_H
#define MAILETD_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct netaddr {
	int family;         /* AF_INET or AF_INET6 */
	uint8_t addr[16];   /* 4 bytes used for AF_INET */
};

struct netmatch {
	struct netaddr net; /* network address, host bits cleared */
	unsigned prefix;    /* prefix length in bits */
};

struct netlist {
	struct netmatch *v;
	size_t n;
};

/* Parses a numeric IPv4 or IPv6 address (no brackets, no prefix). 0/-1. */
int netaddr_parse(const char *s, struct netaddr *out);
/* Converts a socket address; v4-mapped IPv6 becomes AF_INET. 0/-1. */
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);
/* Formats as text ("127.0.0.1", "::1"); buf of INET6_ADDRSTRLEN is enough. */
void netaddr_format(const struct netaddr *a, char *buf, size_t len);
/* True if a is inside m. */
bool netmatch_contains(const struct netmatch *m, const struct netaddr *a);

/*
 * Parses spec (untrusted configuration text) and appends its entries to
 * list. Host names are resolved with getaddrinfo (blocking: start-up only).
 * On error returns -1 and writes a one-line reason naming the bad token
 * into err (e.g. "\"10.0.0.0/33\" has a prefix longer than 32 bits").
 */
int netlist_parse(struct netlist *list, const char *spec, char *err, size_t errlen);
bool netlist_match(const struct netlist *list, const struct netaddr *a);
/* Frees the entries; the list is empty and reusable afterwards. */
void netlist_clear(struct netlist *list);

#endif

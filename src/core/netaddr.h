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
 *                        (every IPv4 and IPv6 address it has, each /32 or /128)
 *   localhost/8          a host name with a prefix or netmask: as in James a
 *                        spec without ':' is an IPv4 network, so only the
 *                        name's IPv4 addresses are used
 *   *                    every IPv4 address (0.0.0.0/0)
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are matched as IPv4; a
 * mapped network written with a prefix >= 96 becomes the IPv4 network.
 * Host bits below the prefix are cleared (10.1.2.3/8 is 10.0.0.0/8).
 * A token of digits and dots that is not a dotted quad ("10.1") is an
 * error, never a host name.
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

/* Builds a socket address for a and port (host order). */
void netaddr_to_sockaddr(const struct netaddr *a, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *sslen);

/*
 * Name resolution used by netlist_parse() and by the configuration loader
 * for host-name bind addresses. family is AF_INET, AF_INET6 or AF_UNSPEC.
 * Stores up to max distinct addresses into out and their count into *n
 * (>= 1) and returns 0; returns -1 with a short reason in err (for example
 * "Name or service not known") when the name has no address of family.
 * Blocking: start-up only.
 */
typedef int netaddr_resolver_fn(const char *host, int family, struct netaddr *out,
    size_t max, size_t *n, char *err, size_t errlen);
int netaddr_resolve(const char *host, int family, struct netaddr *out, size_t max,
    size_t *n, char *err, size_t errlen);
/*
 * Replaces the resolver (getaddrinfo) for tests and fuzzers that must stay
 * off the network; NULL restores getaddrinfo. Not thread-safe: call it
 * before any configuration is loaded.
 */
void netaddr_set_resolver(netaddr_resolver_fn *fn);

#endif

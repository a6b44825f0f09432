/* netaddr.c - IP addresses and James-style network lists (see netaddr.h). */
#include "netaddr.h"

#include "log.h"
#include "xmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest token netlist_parse() looks at; anything longer is an error. */
#define NETADDR_TOKEN_MAX 300
/* Addresses kept per resolved host name. */
#define NETADDR_RESOLVE_MAX 16

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static netaddr_resolver_fn netaddr_getaddrinfo;
static netaddr_resolver_fn *netaddr_resolver = netaddr_getaddrinfo;

/* True if the IPv6 address in a is ::ffff:a.b.c.d. */
static bool
is_v4mapped(const struct netaddr *a)
{
	return a->family == AF_INET6 && memcmp(a->addr, v4mapped_prefix, 12) == 0;
}

/* Rewrites a v4-mapped IPv6 address as the plain IPv4 address. */
static void
unmap(struct netaddr *a)
{
	if (!is_v4mapped(a))
		return;
	memmove(a->addr, a->addr + 12, 4);
	memset(a->addr + 4, 0, 12);
	a->family = AF_INET;
}

static unsigned
family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

int
netaddr_parse(const char *s, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = AF_INET6;
		unmap(out);
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

int
netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
		out->family = AF_INET;
		memcpy(out->addr, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		out->family = AF_INET6;
		memcpy(out->addr, &sin6->sin6_addr, 16);
		unmap(out);
		return 0;
	}
	return -1;
}

void
netaddr_to_sockaddr(const struct netaddr *a, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->addr, 4);
		*sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		*sslen = sizeof(*sin6);
	}
}

void
netaddr_format(const struct netaddr *a, char *buf, size_t len)
{
	if (len == 0)
		return;
	if (inet_ntop(a->family, a->addr, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
}

/* True if the first bits of x and y are equal. */
static bool
prefix_equal(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(x, y, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (x[bytes] & mask) == (y[bytes] & mask);
}

bool
netmatch_contains(const struct netmatch *m, const struct netaddr *a)
{
	struct netaddr x = *a;
	unmap(&x);
	if (m->net.family == AF_INET6 && x.family == AF_INET) {
		/* A v6 network may cover ::ffff:0:0/96; compare in that form. */
		memmove(x.addr + 12, x.addr, 4);
		memcpy(x.addr, v4mapped_prefix, 12);
		x.family = AF_INET6;
	}
	if (m->net.family != x.family)
		return false;
	return prefix_equal(m->net.addr, x.addr, m->prefix);
}

bool
netlist_match(const struct netlist *list, const struct netaddr *a)
{
	for (size_t i = 0; i < list->n; i++)
		if (netmatch_contains(&list->v[i], a))
			return true;
	return false;
}

void
netlist_clear(struct netlist *list)
{
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

/*
 * The default resolver: getaddrinfo without AI_ADDRCONFIG, so that
 * "localhost" keeps its ::1 on hosts without IPv6 routes. Duplicates (one
 * per socket type on some systems) are dropped.
 */
static int
netaddr_getaddrinfo(const char *host, int family, struct netaddr *out, size_t max,
    size_t *n, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	*n = 0;
	for (struct addrinfo *ai = res; ai != NULL && *n < max; ai = ai->ai_next) {
		struct netaddr a;
		if (netaddr_from_sockaddr(ai->ai_addr, &a) < 0)
			continue;
		bool dup = false;
		for (size_t i = 0; i < *n && !dup; i++)
			dup = out[i].family == a.family && memcmp(out[i].addr, a.addr, 16) == 0;
		if (!dup)
			out[(*n)++] = a;
	}
	freeaddrinfo(res);
	if (*n == 0) {
		snprintf(err, errlen, "no address of the wanted family");
		return -1;
	}
	return 0;
}

int
netaddr_resolve(const char *host, int family, struct netaddr *out, size_t max, size_t *n,
    char *err, size_t errlen)
{
	*n = 0;
	if (max == 0) {
		snprintf(err, errlen, "no room for addresses");
		return -1;
	}
	return netaddr_resolver(host, family, out, max, n, err, errlen);
}

void
netaddr_set_resolver(netaddr_resolver_fn *fn)
{
	netaddr_resolver = fn != NULL ? fn : netaddr_getaddrinfo;
}

/* Appends net/prefix to list with the host bits cleared. */
static void
list_add(struct netlist *list, const struct netaddr *net, unsigned prefix)
{
	struct netmatch m = { .net = *net, .prefix = prefix };
	unsigned bits = family_bits(net->family);
	for (unsigned b = prefix; b < bits; b++)
		m.net.addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	list->v = xreallocarray(list->v, list->n + 1, sizeof(*list->v));
	list->v[list->n++] = m;
}

/* Parses an unsigned decimal of at most 3 digits; -1 if s is anything else. */
static int
small_number(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 3 || strspn(s, "0123456789") != len)
		return -1;
	return atoi(s);
}

/*
 * Parses the part after "/" (or "%"): a prefix length, or for IPv4 a
 * dotted netmask whose one bits are contiguous. 0 with *bits set, or -1
 * with the reason in err (tok is the quoted token).
 */
static int
parse_prefix(const char *s, int family, const char *tok, unsigned *bits, char *err,
    size_t errlen)
{
	int v = small_number(s);
	if (v >= 0) {
		if ((unsigned)v > family_bits(family)) {
			snprintf(err, errlen, "%s has a prefix longer than %u bits", tok,
			    family_bits(family));
			return -1;
		}
		*bits = (unsigned)v;
		return 0;
	}
	uint8_t mask[4];
	if (family == AF_INET && inet_pton(AF_INET, s, mask) == 1) {
		uint32_t m = (uint32_t)mask[0] << 24 | (uint32_t)mask[1] << 16 |
		    (uint32_t)mask[2] << 8 | mask[3];
		unsigned n = 0;
		while (n < 32 && (m & (0x80000000u >> n)) != 0)
			n++;
		if (n < 32 && (m << n) != 0) {
			snprintf(err, errlen, "%s has a netmask that is not contiguous", tok);
			return -1;
		}
		*bits = n;
		return 0;
	}
	snprintf(err, errlen, "%s has a bad prefix (use a number of bits%s)", tok,
	    family == AF_INET ? " or a netmask such as 255.255.0.0" : "");
	return -1;
}

/* "127.*", "10.1.*.*", "*": leading decimal octets, then only "*". */
static int
parse_wildcard(struct netlist *list, const char *s, const char *tok, char *err,
    size_t errlen)
{
	struct netaddr a = { .family = AF_INET };
	unsigned octets = 0, parts = 0;
	bool star = false;
	const char *p = s;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		char part[4];
		if (++parts > 4 || len == 0 || len >= sizeof(part))
			goto bad;
		memcpy(part, p, len);
		part[len] = '\0';
		if (strcmp(part, "*") == 0) {
			star = true;
		} else {
			int v = small_number(part);
			if (star || v < 0 || v > 255)
				goto bad;
			a.addr[octets++] = (uint8_t)v;
		}
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (!star)
		goto bad;
	list_add(list, &a, octets * 8);
	return 0;
bad:
	snprintf(err, errlen, "%s is not a valid wildcard (only trailing octets may be *, "
	    "as in 10.* or 10.1.*.*)", tok);
	return -1;
}

/* True if s looks like a host name: letters, digits, '-', '_' and dots. */
static bool
hostname_syntax(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") == len;
}

/*
 * Parses one token (NUL-terminated, no separators) and appends what it
 * denotes. 0, or -1 with the reason in err.
 */
static int
parse_token(struct netlist *list, char *t, char *err, size_t errlen)
{
	char tok[NETADDR_TOKEN_MAX + 16];
	log_quote(tok, sizeof(tok), t, strlen(t));

	const char *pfx = NULL;
	bool bracketed = false;
	if (t[0] == '[') {
		char *close = strchr(t, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != '/' && close[1] != '%'))
			goto bad;
		*close = '\0';
		if (close[1] != '\0')
			pfx = close + 2;
		t++;
		bracketed = true;
	} else {
		char *slash = strchr(t, '/');
		char *pct = strchr(t, '%');
		if (slash == NULL && pct != NULL && strchr(t, ':') != NULL)
			slash = pct; /* "%" is James's old IPv6 prefix separator */
		if (slash != NULL) {
			*slash = '\0';
			pfx = slash + 1;
		}
	}

	if (!bracketed && strchr(t, '*') != NULL) {
		if (pfx != NULL) {
			snprintf(err, errlen, "%s is not a valid wildcard (a wildcard takes no prefix)",
			    tok);
			return -1;
		}
		return parse_wildcard(list, t, tok, err, errlen);
	}

	struct netaddr a;
	unsigned bits;
	if (bracketed || strchr(t, ':') != NULL) {
		memset(&a, 0, sizeof(a));
		if (inet_pton(AF_INET6, t, a.addr) != 1) {
			snprintf(err, errlen, "%s is not an IPv6 address", tok);
			return -1;
		}
		a.family = AF_INET6;
		bits = 128;
		if (pfx != NULL && parse_prefix(pfx, AF_INET6, tok, &bits, err, errlen) < 0)
			return -1;
		if (is_v4mapped(&a) && bits >= 96) {
			unmap(&a);
			bits -= 96;
		}
		list_add(list, &a, bits);
		return 0;
	}
	if (t[0] != '\0' && strspn(t, "0123456789.") == strlen(t)) {
		memset(&a, 0, sizeof(a));
		if (inet_pton(AF_INET, t, a.addr) != 1) {
			snprintf(err, errlen, "%s is not an IPv4 address", tok);
			return -1;
		}
		a.family = AF_INET;
		bits = 32;
		if (pfx != NULL && parse_prefix(pfx, AF_INET, tok, &bits, err, errlen) < 0)
			return -1;
		list_add(list, &a, bits);
		return 0;
	}
	if (!hostname_syntax(t))
		goto bad;

	/* A host name; with a prefix it names an IPv4 network, as in James. */
	bits = 32;
	if (pfx != NULL && parse_prefix(pfx, AF_INET, tok, &bits, err, errlen) < 0)
		return -1;
	struct netaddr found[NETADDR_RESOLVE_MAX];
	size_t n;
	char why[128];
	if (netaddr_resolve(t, pfx != NULL ? AF_INET : AF_UNSPEC, found, NETADDR_RESOLVE_MAX,
	    &n, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: host name does not resolve (%s)", tok, why);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		list_add(list, &found[i], pfx != NULL ? bits : family_bits(found[i].family));
	return 0;
bad:
	snprintf(err, errlen, "%s is not an IP address, network or host name", tok);
	return -1;
}

/*
 * Splits spec on commas and white space and parses each token. On error
 * the list is left as it was before the call.
 */
int
netlist_parse(struct netlist *list, const char *spec, char *err, size_t errlen)
{
	static const char seps[] = ", \t\r\n";
	size_t before = list->n;
	const char *p = spec;

	if (errlen > 0)
		err[0] = '\0';
	for (;;) {
		p += strspn(p, seps);
		if (*p == '\0')
			return 0;
		size_t len = strcspn(p, seps);
		int rc;
		if (len > NETADDR_TOKEN_MAX) {
			char tok[64];
			log_quote(tok, sizeof(tok), p, len);
			snprintf(err, errlen, "%s is too long", tok);
			rc = -1;
		} else {
			char t[NETADDR_TOKEN_MAX + 1];
			memcpy(t, p, len);
			t[len] = '\0';
			rc = parse_token(list, t, err, errlen);
		}
		if (rc < 0) {
			list->n = before;
			if (before == 0)
				netlist_clear(list);
			return -1;
		}
		p += len;
	}
}

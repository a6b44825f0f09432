/* cfg_dns.c - loader for dnsservice.xml (see cfg_dns.h). */
#include "cfg_dns.h"

#include "../core/log.h"
#include "../core/netaddr.h"
#include "../core/xmalloc.h"
#include "cfg_users.h"
#include "cfg_xml.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTE_MAX 96
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* Range of <timeout>. */
#define TIMEOUT_MIN_MS 100u
#define TIMEOUT_MAX_MS (300u * 1000)
#define TIMEOUT_DEF_MS (10u * 1000)

static cfg_field_fn dns_server, dns_timeout, dns_searchpath, dns_authoritative;

static const struct cfg_field server_fields[] = {
	{ .name = "server", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT, .fn = dns_server },
};

static const struct cfg_field searchpath_fields[] = {
	{ .name = "searchpath", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT, .fn = dns_searchpath },
};

#define D(f) offsetof(struct cfg_dns, f)

static const struct cfg_field dns_fields[] = {
	{ .name = "servers", .type = CFG_T_BLOCK, .off = 0, .sub = server_fields,
	    .nsub = NELEM(server_fields) },
	{ .name = "autodiscover", .type = CFG_T_BOOL, .def = 1, .off = D(autodiscover) },
	{ .name = "authoritative", .type = CFG_T_FUNC, .fn = dns_authoritative },
	{ .name = "maxcachesize", .type = CFG_T_UINT, .min = 0, .max = 10000000, .def = 50000,
	    .off = D(max_cache_size) },
	{ .name = "negativeCacheTTL", .type = CFG_T_INT, .min = 0, .max = 86400 * 7, .def = -1,
	    .off = D(negative_ttl) },
	{ .name = "singleIPperMX", .type = CFG_T_BOOL, .def = 0, .off = D(single_ip_per_mx) },
	{ .name = "timeout", .type = CFG_T_FUNC, .fn = dns_timeout },
	{ .name = "searchpaths", .type = CFG_T_BLOCK, .off = 0, .sub = searchpath_fields,
	    .nsub = NELEM(searchpath_fields) },
	/* dnsjava's logging and its static default resolver: nothing to do. */
	{ .name = "verbose", .type = CFG_T_IGNORE },
	{ .name = "setAsDNSJavaDefault", .type = CFG_T_IGNORE },
};

/* The text of an element; NULL after an error was reported. */
static char *
text_of(struct cfg_xml *x, const xmlNode *node)
{
	char *v;
	return cfg_xml_text(x, node, &v) < 0 ? NULL : v;
}

/* Parses a port number 1..65535 from s; -1 if not one. */
static long
port_of(const char *s)
{
	long v = 0;
	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535 ? v : -1;
}

int
cfg_dns_server_parse(const char *s, char **fwd, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 16];
	char q[QUOTE_MAX];
	const char *addr = s, *port = NULL;
	size_t alen = strlen(s);

	if (alen == 0 || alen >= sizeof(buf)) {
		snprintf(err, errlen, "%s is not an IP address",
		    log_quote(q, sizeof(q), s, strlen(s)));
		return -1;
	}
	const char *at = strchr(s, '@');
	const char *colon = strchr(s, ':');
	if (at != NULL) { /* unbound's addr@port */
		alen = (size_t)(at - s);
		port = at + 1;
	} else if (s[0] == '[') { /* [v6] or [v6]:port */
		const char *close = strchr(s, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			snprintf(err, errlen, "%s is not an IP address (write [IPv6]:port)",
			    log_quote(q, sizeof(q), s, strlen(s)));
			return -1;
		}
		addr = s + 1;
		alen = (size_t)(close - addr);
		port = close[1] == ':' ? close + 2 : NULL;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) { /* a.b.c.d:port */
		alen = (size_t)(colon - s);
		port = colon + 1;
	}
	memcpy(buf, addr, alen);
	buf[alen] = '\0';
	struct netaddr na;
	if (netaddr_parse(buf, &na) != 0) {
		snprintf(err, errlen,
		    "%s is not an IP address (use an IPv4 or IPv6 address, optionally with a "
		    "port: 192.0.2.53:5353, [2001:db8::53]:5353)",
		    log_quote(q, sizeof(q), s, strlen(s)));
		return -1;
	}
	long p = 53;
	if (port != NULL && (p = port_of(port)) < 0) {
		snprintf(err, errlen, "%s has a bad port (use 1 to 65535)",
		    log_quote(q, sizeof(q), s, strlen(s)));
		return -1;
	}
	char text[INET6_ADDRSTRLEN];
	netaddr_format(&na, text, sizeof(text));
	*fwd = xasprintf("%s@%ld", text, p);
	return 0;
}

/* <server>: one DNS server, in the order given. */
static void
dns_server(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_dns *d = base;
	char err[256];
	char *fwd;
	char *v = text_of(x, node);
	if (v == NULL)
		return;
	if (v[0] == '\0') { /* <server/>: nothing given */
		free(v);
		return;
	}
	if (cfg_dns_server_parse(v, &fwd, err, sizeof(err)) != 0) {
		cfg_error(x->diag, x->path, cfg_xml_line(node), "<server>: %s", err);
		free(v);
		return;
	}
	d->servers = xreallocarray(d->servers, d->nservers + 1, sizeof(*d->servers));
	d->servers[d->nservers++] = (struct cfg_dns_server){
		.text = v, .fwd = fwd, .line = cfg_xml_line(node) };
}

/* <timeout>: DurationParser syntax, a bare number is seconds. */
static void
dns_timeout(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_dns *d = base;
	unsigned long long ms;
	if (cfg_users_duration_elem(x, node, "ms or s", TIMEOUT_MIN_MS, TIMEOUT_MAX_MS,
		"100ms to 300s", &ms) == 0)
		d->timeout_ms = (unsigned)ms;
}

/* <authoritative>: read (a bad boolean is an error) but without effect:
 * libunbound checks answers itself; dnsjava only used it to rank its
 * cache. true earns a warning so nobody relies on it. */
static void
dns_authoritative(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_dns *d = base;
	if (cfg_xml_bool(x, node, NULL, &d->authoritative) == 1 && d->authoritative)
		cfg_warn(x->diag, x->path, cfg_xml_line(node),
		    "<authoritative>: has no effect in mailetd (answers of the configured "
		    "servers are used as they come)");
}

/* <searchpath>: mail names are fully qualified; a search path would turn
 * a typo into someone else's domain. Accepted, warned about, not used. */
static void
dns_searchpath(struct cfg_xml *x, xmlNode *node, void *base)
{
	(void)base;
	char *v = text_of(x, node);
	if (v != NULL && v[0] != '\0')
		cfg_warn(x->diag, x->path, cfg_xml_line(node),
		    "<searchpath>: search paths are not used (mail domains are fully "
		    "qualified); ignored");
	free(v);
}

int
cfg_dns_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_dns *out)
{
	struct cfg_xml x;

	memset(out, 0, sizeof(*out));
	cfg_fields_defaults(dns_fields, NELEM(dns_fields), out);
	out->timeout_ms = TIMEOUT_DEF_MS;
	out->resolv_conf = "/etc/resolv.conf";
	int rc = cfg_xml_open(&x, path, opts, diag);
	if (rc == 1) {
		cfg_fields_read(&x, cfg_xml_root(&x), dns_fields, NELEM(dns_fields), out);
		cfg_xml_close(&x);
	}
	return rc;
}

void
cfg_dns_clear(struct cfg_dns *d)
{
	for (size_t i = 0; i < d->nservers; i++) {
		free(d->servers[i].text);
		free(d->servers[i].fwd);
	}
	free(d->servers);
	memset(d, 0, sizeof(*d));
}

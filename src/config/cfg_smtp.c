/* cfg_smtp.c - loader for smtpserver.xml (see cfg_smtp.h and james.md 1a). */
#include "cfg_smtp.h"

#include "../core/log.h"
#include "../core/netaddr.h"
#include "../core/xmalloc.h"
#include "../net/tls.h"
#include "cfg_chain.h"
#include "cfg_xml.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#define QUOTE_MAX 96
/* Longest host name gethostname() may return that we keep. */
#define HOSTNAME_MAX 256

/*
 * What one <smtpserver> block is read into: the server itself (first, so
 * that the table offsets are also offsets into struct cfg_server) and what
 * the element functions remember while the block is read.
 */
struct smtp_ctx {
	struct cfg_server srv;
	unsigned warned; /* SMTP_W_* bits: warnings given once per server */
	bool announce_set;               /* <auth><announce> was given */
	enum cfg_auth_announce legacy;   /* what <authRequired> maps to */
	bool plain_auth;                 /* <auth><plainAuthEnabled>, default true */
	bool mechs_set;                  /* <auth><saslMechanisms> was given */
	unsigned mechs;                  /* CFG_MECH_* it names */
};

_Static_assert(offsetof(struct smtp_ctx, srv) == 0, "srv must come first");

enum {
	SMTP_W_DISABLED_FEATURES = 1u << 1,
};

#define SRV(m) offsetof(struct smtp_ctx, srv.m)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static cfg_field_fn smtp_bind, smtp_hello, smtp_authorized, smtp_tls, smtp_verify,
    smtp_handlerchain, smtp_disabled_features, smtp_auth_unsupported,
    smtp_auth_announce, smtp_auth_legacy, smtp_sasl_mechs, smtp_plain_disallowed;

/*
 * <auth> (james.md 1a.3). requireSSL defaults to true, as James's
 * documentation says; James's code defaults to false and, for PLAIN and
 * LOGIN, only hides the EHLO keyword. mailetd refuses AUTH before TLS.
 */
static const struct cfg_field auth_fields[] = {
	{ .name = "required", .type = CFG_T_BOOL, .def = 0, .off = SRV(auth_required) },
	{ .name = "announce", .type = CFG_T_FUNC, .fn = smtp_auth_announce },
	{ .name = "requireSSL", .type = CFG_T_BOOL, .def = 1, .off = SRV(auth_require_ssl) },
	{ .name = "plainAuthEnabled", .type = CFG_T_BOOL, .def = 1,
	    .off = offsetof(struct smtp_ctx, plain_auth) },
	{ .name = "saslMechanisms", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT,
	    .fn = smtp_sasl_mechs },
	{ .name = "oidc", .type = CFG_T_FUNC, .fn = smtp_auth_unsupported },
	{ .name = "gssapi", .type = CFG_T_FUNC, .fn = smtp_auth_unsupported },
};

static cfg_field_fn tls_keystore, tls_keystore_type, tls_secret, tls_private_key,
    tls_certificates, tls_protocols, tls_ciphers, tls_client_auth, tls_ocsp, tls_cache,
    tls_sni;

/* Key material: in <tls> and in each <tls><sni><certificate>. */
#define TLS_KEY_FIELDS                                                              \
	{ .name = "keystore", .type = CFG_T_FUNC, .fn = tls_keystore },                 \
	    { .name = "keystoreType", .type = CFG_T_FUNC, .fn = tls_keystore_type },    \
	    { .name = "secret", .type = CFG_T_FUNC, .fn = tls_secret },                 \
	    { .name = "privateKey", .type = CFG_T_FUNC, .fn = tls_private_key },        \
	    { .name = "certificates", .type = CFG_T_FUNC, .fn = tls_certificates }

/* <tls> children (james.md 1a.2); base is the server's struct cfg_tls. */
static const struct cfg_field tls_fields[] = {
	TLS_KEY_FIELDS,
	{ .name = "supportedProtocols", .type = CFG_T_FUNC, .fn = tls_protocols },
	{ .name = "supportedCipherSuites", .type = CFG_T_FUNC, .fn = tls_ciphers },
	{ .name = "clientAuth", .type = CFG_T_FUNC, .fn = tls_client_auth },
	{ .name = "enableOCSPCRLChecks", .type = CFG_T_FUNC, .fn = tls_ocsp },
	{ .name = "sessionCache", .type = CFG_T_FUNC, .fn = tls_cache },
	{ .name = "sni", .type = CFG_T_FUNC, .fn = tls_sni },
	/* Present in every James sample, read by no James code. */
	{ .name = "provider", .type = CFG_T_IGNORE },
	{ .name = "algorithm", .type = CFG_T_IGNORE },
};

/* <sni><certificate hostname="..">: base is a struct cfg_tls_keys. */
static const struct cfg_field sni_cert_fields[] = {
	TLS_KEY_FIELDS,
};

/* Every element of <smtpserver>, James's defaults (james.md 1a.1, 1a.3). */
static const struct cfg_field server_fields[] = {
	{ .name = "jmxName", .type = CFG_T_STRING, .off = SRV(name) },
	{ .name = "bind", .type = CFG_T_FUNC, .fn = smtp_bind },
	{ .name = "connectionBacklog", .type = CFG_T_INT, .min = 1, .max = 65535, .def = 200,
	    .off = SRV(backlog) },
	{ .name = "helloName", .type = CFG_T_FUNC, .fn = smtp_hello },
	{ .name = "smtpGreeting", .type = CFG_T_STRING, .off = SRV(greeting) },
	{ .name = "connectiontimeout", .type = CFG_T_SECONDS, .min = 1, .max = 604800,
	    .def = 300, .off = SRV(idle_timeout) },
	{ .name = "connectionLimit", .type = CFG_T_UINT, .min = 0, .max = INT_MAX, .def = 0,
	    .off = SRV(conn_limit) },
	{ .name = "connectionLimitPerIP", .type = CFG_T_UINT, .min = 0, .max = INT_MAX,
	    .def = 0, .off = SRV(conn_limit_per_ip) },
	{ .name = "authorizedAddresses", .type = CFG_T_FUNC, .fn = smtp_authorized },
	{ .name = "maxmessagesize", .type = CFG_T_SIZE, .def = 0, .off = SRV(max_message_size) },
	{ .name = "maxLineLength", .type = CFG_T_SIZET, .min = 1000, .max = 1048576,
	    .def = 8192, .off = SRV(max_line_length) },
	{ .name = "heloEhloEnforcement", .type = CFG_T_BOOL, .def = 1,
	    .off = SRV(helo_enforcement) },
	{ .name = "addressBracketsEnforcement", .type = CFG_T_BOOL, .def = 1,
	    .off = SRV(brackets_enforcement) },
	{ .name = "ioWorkerCount", .type = CFG_T_UINT, .min = 1, .max = 1024, .def = 0,
	    .off = SRV(io_workers) },
	{ .name = "auth", .type = CFG_T_BLOCK, .off = 0, .sub = auth_fields,
	    .nsub = NELEM(auth_fields) },
	{ .name = "authRequired", .type = CFG_T_FUNC, .fn = smtp_auth_legacy },
	{ .name = "plainAuthDisallowed", .type = CFG_T_FUNC, .fn = smtp_plain_disallowed },
	{ .name = "tls", .type = CFG_T_FUNC, .fn = smtp_tls },
	{ .name = "verifyIdentity", .type = CFG_T_FUNC, .fn = smtp_verify },
	{ .name = "handlerchain", .type = CFG_T_FUNC, .fn = smtp_handlerchain },
	{ .name = "proxyRequired", .type = CFG_T_BOOL, .def = 0, .off = SRV(proxy_required) },
	{ .name = "proxyFirst", .type = CFG_T_BOOL, .def = 1, .off = SRV(proxy_first) },
	{ .name = "disabledFeatures", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT,
	    .fn = smtp_disabled_features },
	/* Java/Netty tuning with no meaning for mailetd. */
	{ .name = "bossWorkerCount", .type = CFG_T_IGNORE },
	{ .name = "maxExecutorCount", .type = CFG_T_IGNORE },
	{ .name = "useEpoll", .type = CFG_T_IGNORE },
	{ .name = "gracefulShutdown", .type = CFG_T_IGNORE },
	{ .name = "highWriteBufferWaterMark", .type = CFG_T_IGNORE },
	{ .name = "lowWriteBufferWaterMark", .type = CFG_T_IGNORE },
};

static cfg_field_fn lmtp_handlerchain, lmtp_smtp_only, lmtp_tls;

/*
 * Every element of <lmtpserver> (james.md 1a.1, 1a.4). The SMTP-only
 * elements are accepted with a warning: James's LMTP server never relays
 * and never offers AUTH, whatever they say.
 */
static const struct cfg_field lmtp_fields[] = {
	{ .name = "jmxName", .type = CFG_T_STRING, .off = SRV(name) },
	{ .name = "bind", .type = CFG_T_FUNC, .fn = smtp_bind },
	{ .name = "connectionBacklog", .type = CFG_T_INT, .min = 1, .max = 65535, .def = 200,
	    .off = SRV(backlog) },
	{ .name = "helloName", .type = CFG_T_FUNC, .fn = smtp_hello },
	{ .name = "lmtpGreeting", .type = CFG_T_STRING, .off = SRV(greeting) },
	{ .name = "connectiontimeout", .type = CFG_T_SECONDS, .min = 1, .max = 604800,
	    .def = 300, .off = SRV(idle_timeout) },
	{ .name = "connectionLimit", .type = CFG_T_UINT, .min = 0, .max = INT_MAX, .def = 0,
	    .off = SRV(conn_limit) },
	{ .name = "connectionLimitPerIP", .type = CFG_T_UINT, .min = 0, .max = INT_MAX,
	    .def = 0, .off = SRV(conn_limit_per_ip) },
	{ .name = "maxmessagesize", .type = CFG_T_SIZE, .def = 0, .off = SRV(max_message_size) },
	{ .name = "maxLineLength", .type = CFG_T_SIZET, .min = 1000, .max = 1048576,
	    .def = 8192, .off = SRV(max_line_length) },
	{ .name = "ioWorkerCount", .type = CFG_T_UINT, .min = 1, .max = 1024, .def = 0,
	    .off = SRV(io_workers) },
	{ .name = "handlerchain", .type = CFG_T_FUNC, .fn = lmtp_handlerchain },
	{ .name = "proxyRequired", .type = CFG_T_BOOL, .def = 0, .off = SRV(proxy_required) },
	{ .name = "proxyFirst", .type = CFG_T_BOOL, .def = 1, .off = SRV(proxy_first) },
	{ .name = "tls", .type = CFG_T_FUNC, .fn = lmtp_tls },
	{ .name = "authorizedAddresses", .type = CFG_T_FUNC, .fn = lmtp_smtp_only },
	{ .name = "auth", .type = CFG_T_FUNC, .fn = lmtp_smtp_only },
	{ .name = "authRequired", .type = CFG_T_FUNC, .fn = lmtp_smtp_only },
	{ .name = "smtpGreeting", .type = CFG_T_FUNC, .fn = lmtp_smtp_only },
	{ .name = "verifyIdentity", .type = CFG_T_FUNC, .fn = lmtp_smtp_only },
	{ .name = "heloEhloEnforcement", .type = CFG_T_FUNC, .fn = lmtp_smtp_only },
	{ .name = "addressBracketsEnforcement", .type = CFG_T_FUNC, .fn = lmtp_smtp_only },
	{ .name = "disabledFeatures", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT,
	    .fn = lmtp_smtp_only },
	{ .name = "bossWorkerCount", .type = CFG_T_IGNORE },
	{ .name = "maxExecutorCount", .type = CFG_T_IGNORE },
	{ .name = "useEpoll", .type = CFG_T_IGNORE },
	{ .name = "gracefulShutdown", .type = CFG_T_IGNORE },
	{ .name = "highWriteBufferWaterMark", .type = CFG_T_IGNORE },
	{ .name = "lowWriteBufferWaterMark", .type = CFG_T_IGNORE },
};

/* --- element functions ---------------------------------------------------------- */

/* Quotes s for a message. */
static const char *
quote(char *buf, size_t len, const char *s)
{
	return log_quote(buf, len, s, strlen(s));
}

/* Parses a port: 1-5 digits, 0..65535. 0 or -1. */
static int
parse_port(const char *s, uint16_t *port)
{
	size_t len = strlen(s);
	if (len == 0 || len > 5 || strspn(s, "0123456789") != len)
		return -1;
	long v = strtol(s, NULL, 10);
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * A UNIX-domain socket to listen on: "/path" or "unix:/path" (mailetd's
 * own spelling; the usual way Postfix talks LMTP). The path must be
 * absolute and fit a sockaddr_un. 0 with *b filled, or -1 after
 * reporting the problem.
 */
static int
parse_bind_unix(struct cfg_xml *x, long line, const char *entry, const char *path,
    struct cfg_bind *b)
{
	char q[QUOTE_MAX];
	struct sockaddr_un sun;
	quote(q, sizeof(q), entry);
	if (path[0] != '/') {
		cfg_error(x->diag, x->path, line,
		    "<bind>: %s: a UNIX socket needs an absolute path, e.g. unix:/run/mailetd/lmtp",
		    q);
		return -1;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		cfg_error(x->diag, x->path, line,
		    "<bind>: %s: socket path too long (at most %zu octets)", q,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	memset(b, 0, sizeof(*b));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	memcpy(&b->ss, &sun, sizeof(sun));
	b->sslen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	b->text = xstrdup(entry);
	b->line = line;
	return 0;
}

/*
 * Parses one bind entry, "addr:port", "[v6]:port" or "host:port" (a host
 * name is resolved now; the first address is used). 0 with *b filled, or
 * -1 after reporting the problem.
 */
static int
parse_bind(struct cfg_xml *x, long line, const char *entry, struct cfg_bind *b)
{
	char q[QUOTE_MAX];
	char *e = xstrdup(entry), *host, *port;
	int rc = -1;

	quote(q, sizeof(q), entry);
	if (e[0] == '/' || strncmp(e, "unix:", 5) == 0) {
		rc = parse_bind_unix(x, line, entry, e[0] == '/' ? e : e + 5, b);
		goto out;
	}
	if (e[0] == '[') {
		char *close = strchr(e, ']');
		if (close == NULL || close[1] != ':') {
			cfg_error(x->diag, x->path, line,
			    "<bind>: %s is not [IPv6 address]:port", q);
			goto out;
		}
		*close = '\0';
		host = e + 1;
		port = close + 2;
	} else {
		char *colon = strchr(e, ':');
		if (colon == NULL) {
			cfg_error(x->diag, x->path, line,
			    "<bind>: %s has no port (write address:port, e.g. 0.0.0.0:25)", q);
			goto out;
		}
		if (strchr(colon + 1, ':') != NULL) {
			cfg_error(x->diag, x->path, line,
			    "<bind>: %s: write IPv6 addresses in brackets, e.g. [::1]:25", q);
			goto out;
		}
		*colon = '\0';
		host = e;
		port = colon + 1;
	}

	uint16_t p;
	if (parse_port(port, &p) < 0) {
		cfg_error(x->diag, x->path, line, "<bind>: %s has a bad port (use 0 to 65535)", q);
		goto out;
	}
	struct netaddr a;
	if (netaddr_parse(host, &a) < 0) {
		char why[128];
		size_t n;
		/* Digits and dots are never a name: getaddrinfo would read "10.1" as 10.0.0.1. */
		if (e[0] == '[' || !cfg_domain_syntax(host) ||
		    strspn(host, "0123456789.") == strlen(host)) {
			cfg_error(x->diag, x->path, line,
			    "<bind>: %s is not an IP address or host name", q);
			goto out;
		}
		if (netaddr_resolve(host, AF_UNSPEC, &a, 1, &n, why, sizeof(why)) < 0) {
			cfg_error(x->diag, x->path, line,
			    "<bind>: %s: host name does not resolve (%s)", q, why);
			goto out;
		}
	}
	memset(b, 0, sizeof(*b));
	b->text = xstrdup(entry);
	b->line = line;
	netaddr_to_sockaddr(&a, p, &b->ss, &b->sslen);
	rc = 0;
out:
	free(e);
	return rc;
}

/* <bind>: a comma-separated list of addresses to listen on. */
static void
smtp_bind(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_server *s = &((struct smtp_ctx *)base)->srv;
	long line = cfg_xml_line(node);
	char *v;

	if (cfg_xml_text(x, node, &v) < 0)
		return;
	if (v[0] == '\0') {
		cfg_error(x->diag, x->path, line,
		    "<bind>: empty value (write address:port, e.g. 0.0.0.0:25)");
		free(v);
		return;
	}
	for (char *p = v;;) {
		size_t len = strcspn(p, ",");
		char *entry = xstrndup(p, len);
		char *t = entry + strspn(entry, " \t\r\n");
		size_t tl = strlen(t);
		while (tl > 0 && isspace((unsigned char)t[tl - 1]))
			t[--tl] = '\0';
		struct cfg_bind b;
		if (tl == 0)
			cfg_error(x->diag, x->path, line, "<bind>: empty entry in the list");
		else if (parse_bind(x, line, t, &b) == 0) {
			s->binds = xreallocarray(s->binds, s->nbinds + 1, sizeof(*s->binds));
			s->binds[s->nbinds++] = b;
		}
		free(entry);
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	free(v);
}

/* True if the element has text other than white space (not interpolated). */
static bool
has_text(const xmlNode *node)
{
	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			continue;
		for (const xmlChar *p = c->content; p != NULL && *p != '\0'; p++)
			if (!isspace(*p))
				return true;
	}
	return false;
}

/*
 * <helloName autodetect="...">: with autodetect true (the default, also
 * when the attribute is absent) James ignores the text and uses the host
 * name; only autodetect="false" makes the text count.
 */
static void
smtp_hello(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_server *s = &((struct smtp_ctx *)base)->srv;
	long line = cfg_xml_line(node);
	bool autodetect = true;
	int rc = cfg_xml_bool(x, node, "autodetect", &autodetect);

	if (rc < 0)
		return;
	if (autodetect) {
		if (rc == 0 && has_text(node))
			cfg_warn(x->diag, x->path, line,
			    "<helloName>: the name is ignored because autodetect is true by "
			    "default; write autodetect=\"false\" to use it");
		return;
	}
	char *v, q[QUOTE_MAX];
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	bool ok = v[0] != '\0';
	for (const char *p = v; ok && *p != '\0'; p++)
		ok = *p > 0x20 && *p < 0x7f;
	if (v[0] == '\0')
		cfg_error(x->diag, x->path, line,
		    "<helloName>: empty name with autodetect=\"false\" (write the name, or "
		    "remove autodetect)");
	else if (!ok)
		cfg_error(x->diag, x->path, line, "<helloName>: %s is not a host name",
		    quote(q, sizeof(q), v));
	if (!ok) {
		free(v);
		return;
	}
	free(s->hello_name);
	s->hello_name = v;
}

/* <authorizedAddresses>: networks that may relay without AUTH. */
static void
smtp_authorized(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_server *s = &((struct smtp_ctx *)base)->srv;
	char *v, err[512];
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	if (netlist_parse(&s->authorized, v, err, sizeof(err)) < 0)
		cfg_error(x->diag, x->path, cfg_xml_line(node), "<authorizedAddresses>: %s", err);
	free(v);
}

/* Stores the text of node (with its line) in *t. */
static void
tls_text(struct cfg_xml *x, const xmlNode *node, struct cfg_text *t)
{
	char *v;
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	free(t->value);
	t->value = v;
	t->line = cfg_xml_line(node);
}

#define TLS_KEY_FN(fn, member)                                          \
	static void fn(struct cfg_xml *x, xmlNode *node, void *base)    \
	{                                                               \
		tls_text(x, node, &((struct cfg_tls_keys *)base)->member); \
	}
TLS_KEY_FN(tls_keystore, keystore)
TLS_KEY_FN(tls_keystore_type, keystore_type)
TLS_KEY_FN(tls_secret, secret)
TLS_KEY_FN(tls_private_key, private_key)
TLS_KEY_FN(tls_certificates, certificates)

/* Appends the text of every <child> of node to *v; other elements are warned. */
static void
tls_list(struct cfg_xml *x, const xmlNode *node, const char *child, struct cfg_text **v,
    size_t *n)
{
	for (xmlNode *c = cfg_xml_child(node, NULL); c != NULL; c = cfg_xml_next(c, NULL)) {
		if (strcmp(cfg_xml_name(c), child) != 0) {
			cfg_warn(x->diag, x->path, cfg_xml_line(c), "<%s>: unknown element, ignored",
			    cfg_xml_name(c));
			continue;
		}
		struct cfg_text t = { NULL, 0 };
		tls_text(x, c, &t);
		if (t.value == NULL)
			continue;
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[(*n)++] = t;
	}
}

/* <supportedProtocols><protocol>TLSv1.2</protocol>...; checked by tls.c. */
static void
tls_protocols(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_tls *t = base;
	tls_list(x, node, "protocol", &t->protocols, &t->nprotocols);
}

/* <supportedCipherSuites><cipherSuite>JSSE name</cipherSuite>...; mapped by tls.c. */
static void
tls_ciphers(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_tls *t = base;
	tls_list(x, node, "cipherSuite", &t->ciphers, &t->nciphers);
}

#define TLS_TRUST_FN(fn, member)                                        \
	static void fn(struct cfg_xml *x, xmlNode *node, void *base)    \
	{                                                               \
		tls_text(x, node, &((struct cfg_tls *)base)->member);   \
	}
TLS_TRUST_FN(tls_truststore, truststore)
TLS_TRUST_FN(tls_truststore_type, truststore_type)
TLS_TRUST_FN(tls_truststore_secret, truststore_secret)

/* <clientAuth> children (james.md 1a.2); base is the server's struct cfg_tls. */
static const struct cfg_field client_auth_fields[] = {
	{ .name = "truststore", .type = CFG_T_FUNC, .fn = tls_truststore },
	{ .name = "truststoreType", .type = CFG_T_FUNC, .fn = tls_truststore_type },
	{ .name = "truststoreSecret", .type = CFG_T_FUNC, .fn = tls_truststore_secret },
};

/*
 * <clientAuth>: as in James, its presence (even empty) makes a client
 * certificate mandatory; the truststore is checked by tls.c.
 */
static void
tls_client_auth(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_tls *t = base;
	t->client_auth = true;
	cfg_fields_read(x, node, client_auth_fields, NELEM(client_auth_fields), t);
}

/* <enableOCSPCRLChecks>: revocation checks of client certificates (tls.h). */
static void
tls_ocsp(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_tls *t = base;
	bool on = false;
	if (cfg_xml_bool(x, node, NULL, &on) < 0)
		return;
	t->revocation = on;
	t->revocation_line = cfg_xml_line(node);
}

/*
 * A James duration (DurationParser): a number and an optional unit; no
 * unit means milliseconds. Seconds (rounded up), or -1.
 */
static long
parse_duration_ms(const char *s)
{
	static const struct {
		const char *unit;
		long ms;
	} units[] = {
		{ "", 1 }, { "ms", 1 }, { "msec", 1 }, { "msecs", 1 }, { "s", 1000 },
		{ "sec", 1000 }, { "secs", 1000 }, { "second", 1000 }, { "seconds", 1000 },
		{ "m", 60000 }, { "min", 60000 }, { "mins", 60000 }, { "minute", 60000 },
		{ "minutes", 60000 }, { "h", 3600000 }, { "hour", 3600000 },
		{ "hours", 3600000 }, { "d", 86400000 }, { "day", 86400000 },
		{ "days", 86400000 },
	};
	size_t digits = strspn(s, "0123456789");
	if (digits == 0 || digits > 9)
		return -1;
	long v = strtol(s, NULL, 10);
	const char *u = s + digits;
	while (*u == ' ')
		u++;
	for (size_t i = 0; i < NELEM(units); i++) {
		if (strcasecmp(u, units[i].unit) != 0)
			continue;
		long long ms = (long long)v * units[i].ms;
		long long sec = (ms + 999) / 1000;
		return sec > INT_MAX ? INT_MAX : (long)sec;
	}
	return -1;
}

/* <sessionCache><size>n</size><timeout>duration</timeout></sessionCache> */
static void
tls_cache(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_tls *t = base;
	char *v, q[QUOTE_MAX];
	for (xmlNode *c = cfg_xml_child(node, NULL); c != NULL; c = cfg_xml_next(c, NULL)) {
		const char *name = cfg_xml_name(c);
		bool size = strcmp(name, "size") == 0;
		if (!size && strcmp(name, "timeout") != 0) {
			cfg_warn(x->diag, x->path, cfg_xml_line(c), "<%s>: unknown element, ignored",
			    name);
			continue;
		}
		if (cfg_xml_text(x, c, &v) < 0)
			continue;
		long long n;
		if (size && (cfg_parse_int(v, &n) != CFG_POK || n < 0 || n > INT_MAX))
			cfg_error(x->diag, x->path, cfg_xml_line(c),
			    "<size>: %s is not a number of sessions (0 to %d)",
			    quote(q, sizeof(q), v), INT_MAX);
		else if (size)
			t->cache_size = (long)n;
		else if ((t->cache_timeout = parse_duration_ms(v)) < 0)
			cfg_error(x->diag, x->path, cfg_xml_line(c),
			    "<timeout>: %s is not a duration (a number of milliseconds, or with a "
			    "unit: ms, s, m, h, d)",
			    quote(q, sizeof(q), v));
		free(v);
	}
}

/* <sni><certificate hostname="name">key material</certificate>... (mailetd's own). */
static void
tls_sni(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_tls *t = base;
	char *host, q[QUOTE_MAX];
	for (xmlNode *c = cfg_xml_child(node, NULL); c != NULL; c = cfg_xml_next(c, NULL)) {
		long line = cfg_xml_line(c);
		if (strcmp(cfg_xml_name(c), "certificate") != 0) {
			cfg_warn(x->diag, x->path, line, "<%s>: unknown element, ignored",
			    cfg_xml_name(c));
			continue;
		}
		int rc = cfg_xml_attr(x, c, "hostname", &host);
		if (rc == 0)
			cfg_error(x->diag, x->path, line,
			    "<certificate>: hostname attribute missing (the name clients ask "
			    "for, e.g. hostname=\"mail.example.com\" or \"*.example.com\")");
		if (rc <= 0)
			continue;
		const char *dom = strncmp(host, "*.", 2) == 0 ? host + 2 : host;
		if (!cfg_domain_syntax(dom)) {
			cfg_error(x->diag, x->path, line, "<certificate>: hostname %s is not a host name",
			    quote(q, sizeof(q), host));
			free(host);
			continue;
		}
		struct cfg_tls_keys k;
		memset(&k, 0, sizeof(k));
		k.hostname = host;
		k.line = line;
		cfg_fields_read(x, c, sni_cert_fields, NELEM(sni_cert_fields), &k);
		t->sni = xreallocarray(t->sni, t->nsni + 1, sizeof(*t->sni));
		t->sni[t->nsni++] = k;
	}
}

/*
 * <tls socketTLS=".." startTLS="..">: both true is an error, as in James.
 * Like James (SslConfig), the children are read only when TLS is on: the
 * samples keep keystore settings, with unset variables, in TLS-off blocks.
 */
static void
smtp_tls(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_server *s = &((struct smtp_ctx *)base)->srv;
	long line = cfg_xml_line(node);
	bool sock = false, start = false;
	int r1 = cfg_xml_bool(x, node, "socketTLS", &sock);
	int r2 = cfg_xml_bool(x, node, "startTLS", &start);

	if (r1 < 0 || r2 < 0)
		return;
	s->tls.keys.line = line;
	if (sock || start)
		cfg_fields_read(x, node, tls_fields, NELEM(tls_fields), &s->tls);
	if (sock && start) {
		cfg_error(x->diag, x->path, line,
		    "<tls>: socketTLS and startTLS cannot both be true");
		return;
	}
	s->tls.socket_tls = sock;
	s->tls.start_tls = start;
	if (s->tls.revocation && !s->tls.client_auth)
		cfg_warn(x->diag, x->path, s->tls.revocation_line,
		    "<enableOCSPCRLChecks>: no effect without <clientAuth> (it concerns client "
		    "certificates)");
}

/* James's SenderAuthIdentifyVerificationHook modes (any case). */
static const struct cfg_keyword verify_words[] = {
	{ "strict", CFG_VERIFY_STRICT },
	{ "true", CFG_VERIFY_STRICT },
	{ "relaxed", CFG_VERIFY_RELAXED },
	{ "disabled", CFG_VERIFY_DISABLED },
	{ "false", CFG_VERIFY_DISABLED },
	{ NULL, 0 },
};

/* <verifyIdentity>: the mode of the core SenderAuthIdentifyVerificationHook. */
static void
smtp_verify(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct cfg_server *s = &((struct smtp_ctx *)base)->srv;
	int mode;
	if (cfg_xml_keyword(x, node, verify_words, &mode) == 0)
		s->verify_identity = (enum cfg_verify)mode;
}

/* <disabledFeatures> (repeatable): one warning per server. */
static void
smtp_disabled_features(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct smtp_ctx *ctx = base;
	if ((ctx->warned & SMTP_W_DISABLED_FEATURES) != 0)
		return;
	ctx->warned |= SMTP_W_DISABLED_FEATURES;
	cfg_warn(x->diag, x->path, cfg_xml_line(node),
	    "<disabledFeatures>: not yet supported; ignored");
}

/* <auth><oidc>, <auth><gssapi>: mechanisms mailetd does not have yet. */
static void
smtp_auth_unsupported(struct cfg_xml *x, xmlNode *node, void *base)
{
	(void)base;
	cfg_warn(x->diag, x->path, cfg_xml_line(node),
	    "<%s>: this SASL mechanism is not yet supported; ignored", cfg_xml_name(node));
}

static const struct cfg_keyword announce_words[] = {
	{ "never", CFG_ANNOUNCE_NEVER },
	{ "always", CFG_ANNOUNCE_ALWAYS },
	{ "forUnauthorizedAddresses", CFG_ANNOUNCE_UNAUTHORIZED },
	{ NULL, 0 },
};

/* <auth><announce>: never, always or forUnauthorizedAddresses (any case). */
static void
smtp_auth_announce(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct smtp_ctx *ctx = base;
	int v;
	if (cfg_xml_keyword(x, node, announce_words, &v) < 0)
		return;
	ctx->srv.auth_announce = (enum cfg_auth_announce)v;
	ctx->announce_set = true;
}

/* Deprecated <authRequired>, used when <auth><announce> is absent (as James). */
static void
smtp_auth_legacy(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct smtp_ctx *ctx = base;
	char *v;
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	if (strcasecmp(v, "true") == 0)
		ctx->legacy = CFG_ANNOUNCE_UNAUTHORIZED;
	else if (strcasecmp(v, "announce") == 0)
		ctx->legacy = CFG_ANNOUNCE_ALWAYS;
	else
		ctx->legacy = CFG_ANNOUNCE_NEVER;
	free(v);
}

/* <plainAuthDisallowed>: James's SMTP server ignores it for PLAIN and LOGIN. */
static void
smtp_plain_disallowed(struct cfg_xml *x, xmlNode *node, void *base)
{
	(void)base;
	cfg_warn(x->diag, x->path, cfg_xml_line(node),
	    "<plainAuthDisallowed>: has no effect on SMTP (use <auth><requireSSL>); ignored");
}

/*
 * <auth><saslMechanisms> (repeatable, comma list): which of PLAIN and LOGIN
 * are offered; factories by simple or full class name. Others warn.
 */
static void
smtp_sasl_mechs(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct smtp_ctx *ctx = base;
	long line = cfg_xml_line(node);
	char *v, q[QUOTE_MAX];
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	ctx->mechs_set = true;
	const char *p = v;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		while (len > 0 && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len == 0) {
			cfg_error(x->diag, x->path, line, "<saslMechanisms>: blank entry in the list");
		} else {
			const char *simple = p;
			for (size_t i = 0; i < len; i++)
				if (p[i] == '.')
					simple = p + i + 1;
			size_t sl = len - (size_t)(simple - p);
			if (sl == 25 && strncmp(simple, "PlainSaslMechanismFactory", sl) == 0)
				ctx->mechs |= CFG_MECH_PLAIN;
			else if (sl == 25 && strncmp(simple, "LoginSaslMechanismFactory", sl) == 0)
				ctx->mechs |= CFG_MECH_LOGIN;
			else
				cfg_warn(x->diag, x->path, line,
				    "<saslMechanisms>: %s is not yet supported; ignored",
				    log_quote(q, sizeof(q), p, len));
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	free(v);
}

/*
 * <handlerchain>: the server's handler chain (cfg_chain.c). With James's
 * NoAuthCmdHandlerLoader the server has no AUTH.
 */
static void
smtp_handlerchain(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct smtp_ctx *ctx = base;
	chain_free(ctx->srv.chain);
	ctx->srv.chain = cfg_chain_read(x, node, false);
	/* ... unless the chain names AuthCmdHandler itself (James's
	 * smtpserver-configured-auth.xml: AUTH with ConfigurationAuthHook). */
	bool auth_cmd = false;
	for (size_t i = 0; i < ctx->srv.chain->nskipped; i++)
		if (strcmp(ctx->srv.chain->skipped[i].cls,
			"org.apache.james.protocols.smtp.core.esmtp.AuthCmdHandler") == 0)
			auth_cmd = true;
	if (ctx->srv.chain->core_set == CHAIN_CORE_SMTP_NOAUTH && !auth_cmd)
		ctx->srv.auth_enabled = false;
}

/* --- LMTP ------------------------------------------------------------------------- */

/* An SMTP element in an <lmtpserver>: accepted, without effect (james.md 1a.4). */
static void
lmtp_smtp_only(struct cfg_xml *x, xmlNode *node, void *base)
{
	(void)base;
	cfg_warn(x->diag, x->path, cfg_xml_line(node),
	    "<%s>: has no effect on an LMTP server (LMTP never relays and has no AUTH); "
	    "ignored",
	    cfg_xml_name(node));
}

/* <tls> in an <lmtpserver>: LMTP is for trusted local clients; no TLS yet. */
static void
lmtp_tls(struct cfg_xml *x, xmlNode *node, void *base)
{
	bool sock = false, start = false;
	(void)base;
	if (cfg_xml_bool(x, node, "socketTLS", &sock) < 0 ||
	    cfg_xml_bool(x, node, "startTLS", &start) < 0 || !(sock || start))
		return;
	cfg_warn(x->diag, x->path, cfg_xml_line(node),
	    "<tls>: TLS is not yet supported on LMTP servers; ignored");
}

/*
 * <handlerchain> of an <lmtpserver>. James's CoreCmdHandlerLoader is what
 * mailetd's LMTP server does (direct delivery into the mailboxes). The
 * mailet-container chain (MailetContainerCmdHandlerLoader,
 * MailetContainerHandler with splitExecution) needs the mailet container,
 * which does not exist yet: it is accepted with a warning and the server
 * delivers directly. The handlers themselves are read by cfg_chain_read.
 */
static void
lmtp_handlerchain(struct cfg_xml *x, xmlNode *node, void *base)
{
	static const char pkg[] = "org.apache.james.lmtpserver.";
	struct smtp_ctx *ctx = base;
	char *cls;
	bool mailet = false;

	chain_free(ctx->srv.chain);
	ctx->srv.chain = cfg_chain_read(x, node, true);

	/* Only to say what the mailet-container loaders mean here; the
	 * element itself is checked by cfg_chain_read. */
	for (xmlNode *c = cfg_xml_child(node, "handler");; c = cfg_xml_next(c, "handler")) {
		int rc = c == NULL ? cfg_xml_attr(x, node, "coreHandlersPackage", &cls)
				   : cfg_xml_attr(x, c, "class", &cls);
		if (rc == 1) {
			const char *simple = strncmp(cls, pkg, sizeof(pkg) - 1) == 0
			    ? cls + sizeof(pkg) - 1
			    : "";
			if (strcmp(simple, "MailetContainerCmdHandlerLoader") == 0 ||
			    strcmp(simple, "MailetContainerHandler") == 0)
				mailet = true;
			free(cls);
		}
		if (c == NULL)
			break;
	}
	if (mailet)
		cfg_warn(x->diag, x->path, cfg_xml_line(node),
		    "<handlerchain>: the mailet container is not supported yet "
		    "(MailetContainerCmdHandlerLoader, MailetContainerHandler); this LMTP server "
		    "delivers directly into the mailboxes");
}

/* --- servers ---------------------------------------------------------------------- */

/* The host name for helloName autodetect; "localhost" if there is none. */
static char *
local_hostname(void)
{
	char name[HOSTNAME_MAX + 1];
	if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
		return xstrdup("localhost");
	name[HOSTNAME_MAX] = '\0';
	for (const char *p = name; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return xstrdup("localhost");
	return xstrdup(name);
}

/*
 * Reads one <smtpserver> block (index counts from 0 within the file) and
 * appends it. James does not read a block with enabled="false" at all;
 * mailetd reads it so that its errors show before someone enables it, but
 * drops its warnings (a disabled TLS block should not nag at every start).
 */
static void
load_server(struct cfg_xml *x, xmlNode *node, size_t index, enum cfg_proto proto,
    struct cfg_server **servers, size_t *n)
{
	struct smtp_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	struct cfg_server *s = &ctx.srv;
	bool lmtp = proto == CFG_PROTO_LMTP;
	const struct cfg_field *fields = lmtp ? lmtp_fields : server_fields;
	size_t nfields = lmtp ? NELEM(lmtp_fields) : NELEM(server_fields);
	s->file = x->path;
	s->line = cfg_xml_line(node);
	s->proto = proto;
	cfg_fields_defaults(fields, nfields, &ctx);
	s->auth_enabled = true;
	s->verify_identity = CFG_VERIFY_STRICT;
	s->tls.cache_size = -1;
	s->tls.cache_timeout = -1;

	bool enabled = true;
	cfg_xml_bool(x, node, "enabled", &enabled);
	s->enabled = enabled;
	if (enabled) {
		cfg_fields_read(x, node, fields, nfields, &ctx);
	} else {
		struct cfg_diag quiet, *diag = x->diag;
		cfg_diag_init(&quiet);
		x->diag = &quiet;
		cfg_fields_read(x, node, fields, nfields, &ctx);
		x->diag = diag;
		for (size_t i = 0; i < quiet.n; i++)
			if (quiet.v[i].kind == CFG_DIAG_ERROR)
				cfg_error(diag, NULL, 0, "%s", quiet.v[i].text);
		cfg_diag_clear(&quiet);
		s->enabled = false;
	}

	if (!ctx.announce_set)
		s->auth_announce = ctx.legacy;
	s->auth_mechs = !ctx.plain_auth ? 0
	    : ctx.mechs_set		    ? ctx.mechs
					    : CFG_MECH_LOGIN | CFG_MECH_PLAIN;
	if (!s->auth_enabled && s->auth_required) {
		/* As in James: NoAuthCmdHandlerLoader has no AuthRequiredHook. */
		if (enabled)
			cfg_warn(x->diag, x->path, s->line,
			    "<auth><required>: no effect with NoAuthCmdHandlerLoader (as in James)");
		s->auth_required = false;
	}
	if (lmtp) {
		/* Fixed for LMTP in James (1a.4): no AUTH, no relaying, lenient syntax. */
		s->auth_enabled = false;
		s->auth_required = false;
		s->auth_mechs = 0;
		s->auth_announce = CFG_ANNOUNCE_NEVER;
		s->helo_enforcement = false;
		s->brackets_enforcement = false;
	}
	if (s->chain == NULL)
		s->chain = cfg_chain_default(lmtp);
	if (s->name == NULL)
		s->name = xasprintf("%s%zu", lmtp ? "lmtpserver" : "smtpserver", index + 1);
	if (s->hello_name == NULL)
		s->hello_name = local_hostname();
	if (s->nbinds == 0) {
		struct netaddr any = { .family = AF_INET };
		uint16_t port = lmtp ? 24 : 25;
		s->binds = xcalloc(1, sizeof(*s->binds));
		s->binds[0].text = xasprintf("0.0.0.0:%u", (unsigned)port);
		netaddr_to_sockaddr(&any, port, &s->binds[0].ss, &s->binds[0].sslen);
		s->nbinds = 1;
	}
	*servers = xreallocarray(*servers, *n + 1, sizeof(**servers));
	(*servers)[(*n)++] = *s;
}

/* Reads smtpserver.xml or lmtpserver.xml (see cfg_smtp.h). */
static int
load_file(const char *path, enum cfg_proto proto, const struct config_opts *opts,
    struct cfg_diag *diag, struct cfg_server **servers, size_t *n)
{
	struct cfg_xml x;
	int rc = cfg_xml_open(&x, path, opts, diag);
	if (rc <= 0)
		return rc;

	const char *elem = proto == CFG_PROTO_LMTP ? "lmtpserver" : "smtpserver";
	xmlNode *root = cfg_xml_root(&x);
	size_t index = 0;
	if (cfg_xml_child(root, elem) == NULL && strcmp(cfg_xml_name(root), elem) == 0) {
		load_server(&x, root, index, proto, servers, n);
	} else {
		for (xmlNode *c = cfg_xml_child(root, NULL); c != NULL; c = cfg_xml_next(c, NULL)) {
			if (strcmp(cfg_xml_name(c), elem) == 0)
				load_server(&x, c, index++, proto, servers, n);
			else
				cfg_warn(diag, path, cfg_xml_line(c), "<%s>: unknown element, ignored",
				    cfg_xml_name(c));
		}
	}
	cfg_xml_close(&x);
	return 1;
}

int
cfg_smtp_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_server **servers, size_t *n)
{
	return load_file(path, CFG_PROTO_SMTP, opts, diag, servers, n);
}

int
cfg_lmtp_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_server **servers, size_t *n)
{
	return load_file(path, CFG_PROTO_LMTP, opts, diag, servers, n);
}

void
cfg_smtp_server_clear(struct cfg_server *s)
{
	cfg_fields_free(server_fields, NELEM(server_fields), s);
	for (size_t i = 0; i < s->nbinds; i++)
		free(s->binds[i].text);
	free(s->binds);
	free(s->hello_name);
	netlist_clear(&s->authorized);
	cfg_tls_clear(&s->tls);
	chain_free(s->chain);
	memset(s, 0, sizeof(*s));
}

static void
tls_keys_clear(struct cfg_tls_keys *k)
{
	struct cfg_text *v[] = { &k->keystore, &k->keystore_type, &k->secret, &k->private_key,
		&k->certificates };
	for (size_t i = 0; i < NELEM(v); i++) {
		if (v[i]->value != NULL && v[i] == &k->secret)
			explicit_bzero(v[i]->value, strlen(v[i]->value));
		free(v[i]->value);
	}
	free(k->hostname);
}

void
cfg_tls_clear(struct cfg_tls *t)
{
	tls_keys_clear(&t->keys);
	for (size_t i = 0; i < t->nsni; i++)
		tls_keys_clear(&t->sni[i]);
	free(t->sni);
	for (size_t i = 0; i < t->nprotocols; i++)
		free(t->protocols[i].value);
	free(t->protocols);
	for (size_t i = 0; i < t->nciphers; i++)
		free(t->ciphers[i].value);
	free(t->ciphers);
	if (t->truststore_secret.value != NULL)
		explicit_bzero(t->truststore_secret.value, strlen(t->truststore_secret.value));
	free(t->truststore_secret.value);
	free(t->truststore.value);
	free(t->truststore_type.value);
	tls_free(t->ctx);
	memset(t, 0, sizeof(*t));
}

/*
 * config.h - the loaded, validated, immutable configuration.
 *
 * config_load() reads every file mailetd understands from one directory
 * (James's layout: smtpserver.xml, domainlist.xml, ..., plus mailetd's own
 * mailetd.xml) and returns a tree that nothing modifies afterwards; a
 * reload builds a new tree and swaps the pointer. A missing file means an
 * empty configuration, as in James (no smtpserver.xml = no SMTP server).
 */
#ifndef MAILETD_CONFIG_H
#define MAILETD_CONFIG_H

#include "../core/netaddr.h"
#include "cfg_diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum cfg_proto {
	CFG_PROTO_SMTP,
	CFG_PROTO_LMTP,
};

struct cfg_bind {
	char *text;                 /* as written, e.g. "127.0.0.1:2525" */
	struct sockaddr_storage ss; /* numeric address to bind */
	socklen_t sslen;
	long line;                  /* line of the <bind> element (0: default) */
};

/* A text value of the configuration with the line it came from. */
struct cfg_text {
	char *value;                /* NULL: not given */
	long line;
};

/* Key material of <tls> or of one <tls><sni><certificate> (james.md 1a.2). */
struct cfg_tls_keys {
	struct cfg_text keystore;      /* FileSystem URL of a PKCS#12 keystore */
	struct cfg_text keystore_type; /* PKCS12; JKS (James's default) is refused */
	struct cfg_text secret;        /* keystore or private key password */
	struct cfg_text private_key;   /* FileSystem URL of a PEM key */
	struct cfg_text certificates;  /* FileSystem URL of a PEM chain */
	char *hostname;                /* SNI name (<certificate hostname=>), NULL for <tls> */
	long line;                     /* line of <tls> or <certificate> */
};

struct tls; /* src/net/tls.h */

/* <tls>: read by cfg_smtp.c, turned into an SSL_CTX by tls.c at load time. */
struct cfg_tls {
	struct cfg_tls_keys keys;   /* first: the key fields read either struct */
	bool socket_tls;            /* [@socketTLS]: implicit TLS */
	bool start_tls;             /* [@startTLS]: the STARTTLS command */
	struct cfg_text *protocols; /* <supportedProtocols><protocol> */
	size_t nprotocols;
	struct cfg_text *ciphers;   /* <supportedCipherSuites><cipherSuite> (JSSE names) */
	size_t nciphers;
	struct cfg_tls_keys *sni;   /* <sni><certificate hostname=..> (mailetd) */
	size_t nsni;
	long cache_size;            /* <sessionCache><size>, -1 = OpenSSL default */
	long cache_timeout;         /* <sessionCache><timeout> seconds, -1 = default */
	bool client_auth;           /* <clientAuth> present: a client certificate is required */
	struct cfg_text truststore;        /* <clientAuth><truststore>, NULL: system CAs */
	struct cfg_text truststore_type;   /* <clientAuth><truststoreType> (JKS, PKCS12, PEM) */
	struct cfg_text truststore_secret; /* <clientAuth><truststoreSecret> */
	bool revocation;            /* <enableOCSPCRLChecks>: CRLs of the truststore (tls.h) */
	long revocation_line;
	struct tls *ctx;            /* built by config_load when TLS is on */
};

/* <auth><announce>: to whom EHLO offers AUTH (james.md 1a.3). */
enum cfg_auth_announce {
	CFG_ANNOUNCE_NEVER,
	CFG_ANNOUNCE_ALWAYS,
	CFG_ANNOUNCE_UNAUTHORIZED, /* forUnauthorizedAddresses */
};

/* SASL mechanisms (struct cfg_server.auth_mechs). */
enum {
	CFG_MECH_LOGIN = 1u << 0,
	CFG_MECH_PLAIN = 1u << 1,
};

/* <verifyIdentity> (james.md 1a.3, 1b.5); 0 is DISABLED, LMTP's fixed mode. */
enum cfg_verify {
	CFG_VERIFY_DISABLED = 0,
	CFG_VERIFY_STRICT,
	CFG_VERIFY_RELAXED,
};

struct chain; /* handlers/chain.h */

/* One <smtpserver> (later also <lmtpserver>) block. */
struct cfg_server {
	const char *file;       /* points into struct config's file names */
	long line;              /* line of the <smtpserver> element */
	enum cfg_proto proto;
	char *name;             /* <jmxName>, or "smtpserver" + index */
	bool enabled;           /* [@enabled], default true */
	struct cfg_bind *binds; /* <bind>, comma list; default 0.0.0.0:25 */
	size_t nbinds;
	int backlog;            /* <connectionBacklog>, default 200 */
	char *hello_name;       /* resolved: autodetect -> host name */
	char *greeting;         /* <smtpGreeting> or NULL for the default */
	unsigned idle_timeout;  /* <connectiontimeout> seconds, default 300 */
	unsigned conn_limit;    /* <connectionLimit>, 0 = unlimited */
	unsigned conn_limit_per_ip; /* <connectionLimitPerIP>, 0 = unlimited */
	struct netlist authorized;  /* <authorizedAddresses>, empty = none */
	uint64_t max_message_size;  /* <maxmessagesize> in bytes, 0 = none */
	size_t max_line_length;     /* <maxLineLength>, default 8192 */
	bool helo_enforcement;      /* <heloEhloEnforcement>, default true */
	bool brackets_enforcement;  /* <addressBracketsEnforcement>, default true */
	bool auth_required;         /* <auth><required>: MAIL needs relay rights */
	bool auth_enabled;          /* AUTH exists (false: NoAuthCmdHandlerLoader) */
	enum cfg_auth_announce auth_announce; /* <auth><announce> / <authRequired> */
	bool auth_require_ssl;      /* <auth><requireSSL>, default true (see docs) */
	unsigned auth_mechs;        /* CFG_MECH_* usable (<plainAuthEnabled>, <saslMechanisms>) */
	unsigned io_workers;        /* <ioWorkerCount>, 0 = not set */
	bool proxy_required;        /* <proxyRequired>: a PROXY header opens every connection */
	bool proxy_first;           /* <proxyFirst>, default true: the header precedes TLS */
	struct cfg_tls tls;         /* <tls>; tls.ctx NULL = no TLS */
	enum cfg_verify verify_identity; /* <verifyIdentity>, default strict (SMTP) */
	struct chain *chain;        /* from <handlerchain>; NULL = the default core chain */
};

/* domainlist.xml */
struct cfg_domains {
	char **names;          /* lower-case local domains, default domain included */
	size_t n;
	char *default_domain;  /* <defaultDomain>, default "localhost" */
};

/* usersrepository.xml (james.md 1g.2) */
struct cfg_users {
	bool virtual_hosting;       /* <enableVirtualHosting>, default false */
	char *algorithm;            /* <algorithm> as written, default "PBKDF2-SHA512" */
	unsigned iterations;        /* PBKDF2 rounds of new hashes, 0 = default */
	char **admins;              /* <administratorId(s)>, as written */
	size_t nadmins;
	unsigned failure_delay_ms;  /* <verifyFailureDelay>, default 0 */
};

struct users; /* src/auth/users.h */

/* One static mapping of recipientrewritetable.xml, already checked. */
struct cfg_rrt_mapping {
	char *source;               /* normalized */
	char *target;               /* as written */
	long line;
};

/* recipientrewritetable.xml (james.md 1g.3, docs/rrt.md) */
struct cfg_rrt {
	bool recursive;             /* <recursiveMapping>, default true */
	unsigned limit;             /* <mappingLimit>, default 10 */
	struct cfg_rrt_mapping *maps; /* <mapping> */
	size_t nmaps;
};

struct rrt; /* src/rrt/rrt.h */

/* One <servers><server> of dnsservice.xml. */
struct cfg_dns_server {
	char *text;                 /* as written, e.g. "127.0.0.1:5353" */
	char *fwd;                  /* libunbound's form "addr@port" */
	long line;
};

/* dnsservice.xml (james.md 1d.4; src/dns/dns.h, docs/dns.md). */
struct cfg_dns {
	struct cfg_dns_server *servers; /* <servers><server>, in order */
	size_t nservers;
	bool autodiscover;          /* <autodiscover>: also the servers of resolv.conf, default true */
	const char *resolv_conf;    /* what autodiscover reads: "/etc/resolv.conf" */
	bool authoritative;         /* <authoritative>, default false (no effect, see docs) */
	unsigned max_cache_size;    /* <maxcachesize> entries, default 50000 */
	int negative_ttl;           /* <negativeCacheTTL> seconds, -1 = libunbound's 3600 */
	bool single_ip_per_mx;      /* <singleIPperMX>, default false (for RemoteDelivery) */
	unsigned timeout_ms;        /* <timeout> per lookup (mailetd), default 10 s */
};


/* mailetd.xml: settings James keeps elsewhere (JVM flags, var/). */
struct cfg_main {
	char *data_dir;           /* <dataDirectory>, default <confdir>/../var */
	bool fsync;               /* <spool><fsync>, default true (false is unsafe) */
	unsigned commit_threads;  /* <spool><commitThreads>, default 4 */
	unsigned shutdown_grace;  /* <shutdownGracePeriod> seconds, default 30 */
	int log_level;            /* <log><level>, enum log_level, default info */
	int syslog_facility;      /* <log><syslog>facility</syslog>, -1 = off */
	unsigned max_errors;      /* <maxErrors> per session before 421, default 20 */
	unsigned min_data_rate;   /* <minDataRate> bytes/s a DATA/BDAT transfer must
	                             keep up after its first connectiontimeout, default 500 */
};

struct config {
	char *confdir;
	char **files;             /* names of the files that were read */
	size_t nfiles;
	struct cfg_server *servers;
	size_t nservers;
	struct cfg_domains domains;
	struct cfg_main main;
	struct cfg_users users;
	struct cfg_dns dns;       /* dnsservice.xml (defaults when missing) */
	/* The users repository (users and run-time domains) on the data
	 * directory; opened by config_load, read lazily. */
	struct users *users_db;
	struct cfg_rrt rrt;       /* recipientrewritetable.xml (defaults when missing) */
	/* The recipient rewrite table (src/rrt/rrt.h): the store next to
	 * users.db plus the static mappings; opened by config_load, never
	 * NULL after a successful load. */
	struct rrt *rrt_db;
	unsigned io_workers;      /* resolved: max ioWorkerCount, default = cores */
	/* The daemon's running resolver (src/dns/dns.h), for the DNS-based
	 * handlers: set by mailetd.c once dns_new() has started it, before
	 * the servers start; NULL under mailetd -t and in tests without one.
	 * Not owned (config_free leaves it alone). */
	struct dns *resolver;
};

struct config_opts {
	const char *data_dir;     /* -d on the command line, overrides mailetd.xml */
	/* ${sys:name} values, from -Dname=value on the command line */
	const char *const *sys_names;
	const char *const *sys_values;
	size_t nsys;
};

/*
 * Loads every configuration file in confdir. Problems are appended to diag
 * (all of them, not only the first). Returns the configuration when there
 * were no errors (warnings allowed), else NULL. The caller frees the result
 * with config_free().
 */
struct config *config_load(const char *confdir, const struct config_opts *opts,
    struct cfg_diag *diag);
void config_free(struct config *cfg);

/*
 * True if domain (len bytes, any case, no trailing dot) is a local domain:
 * one of domainlist.xml or one added at run time with mailetctl (seen
 * within a second; at most one stat(2) a second, see users.h).
 */
bool config_is_local_domain(const struct config *cfg, const char *domain, size_t len);


#endif

/* config.c - loads the whole configuration directory (see config.h). */
#include "config.h"

#include "../auth/users.h"
#include "../core/xmalloc.h"
#include "../net/tls.h"
#include "../rrt/rrt.h"
#include "cfg_dns.h"
#include "cfg_domains.h"
#include "cfg_main.h"
#include "cfg_rrt.h"
#include "cfg_smtp.h"
#include "cfg_users.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A loader reads one file into cfg. It returns 1 if the file was read, 0
 * if it does not exist, -1 if it could not be read or parsed; path stays
 * alive in cfg->files when the file exists.
 */
typedef int config_loader_fn(struct config *cfg, const char *path,
    const struct config_opts *opts, struct cfg_diag *diag);

static int
load_smtp(struct config *cfg, const char *path, const struct config_opts *opts,
    struct cfg_diag *diag)
{
	return cfg_smtp_load(path, opts, diag, &cfg->servers, &cfg->nservers);
}

static int
load_lmtp(struct config *cfg, const char *path, const struct config_opts *opts,
    struct cfg_diag *diag)
{
	return cfg_lmtp_load(path, opts, diag, &cfg->servers, &cfg->nservers);
}

static int
load_domains(struct config *cfg, const char *path, const struct config_opts *opts,
    struct cfg_diag *diag)
{
	return cfg_domains_load(path, opts, diag, &cfg->domains);
}

static int
load_users(struct config *cfg, const char *path, const struct config_opts *opts,
    struct cfg_diag *diag)
{
	return cfg_users_load(path, opts, diag, &cfg->users);
}

static int
load_rrt(struct config *cfg, const char *path, const struct config_opts *opts,
    struct cfg_diag *diag)
{
	return cfg_rrt_load(path, opts, diag, &cfg->rrt);
}

static int
load_dns(struct config *cfg, const char *path, const struct config_opts *opts,
    struct cfg_diag *diag)
{
	return cfg_dns_load(path, opts, diag, &cfg->dns);
}

static int
load_main(struct config *cfg, const char *path, const struct config_opts *opts,
    struct cfg_diag *diag)
{
	return cfg_main_load(path, cfg->confdir, opts, diag, &cfg->main);
}

/*
 * The files of a configuration directory, in the order they are read.
 * James files without a loader yet are noted with one warning each when
 * they exist, so that nobody believes they take effect.
 */
static const struct {
	const char *name;
	config_loader_fn *load; /* NULL: not supported yet */
} config_files[] = {
	{ "smtpserver.xml", load_smtp },
	{ "domainlist.xml", load_domains },
	{ "mailetd.xml", load_main },
	{ "lmtpserver.xml", load_lmtp },
	{ "mailetcontainer.xml", NULL },
	{ "usersrepository.xml", load_users },
	{ "recipientrewritetable.xml", load_rrt },
	{ "dnsservice.xml", load_dns },
	{ "mailrepositorystore.xml", NULL },
};

/* Address and port of a bind, for comparing binds. */
static void
bind_key(const struct cfg_bind *b, int *family, const uint8_t **addr, size_t *alen,
    uint16_t *port)
{
	*family = b->ss.ss_family;
	if (b->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)&b->ss;
		*addr = (const uint8_t *)&sin->sin_addr;
		*alen = 4;
		*port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)&b->ss;
		*addr = (const uint8_t *)&sin6->sin6_addr;
		*alen = 16;
		*port = ntohs(sin6->sin6_port);
	}
}

static bool
is_any(const uint8_t *addr, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (addr[i] != 0)
			return false;
	return true;
}

/*
 * True if binding a and b together must fail: same family and port (port
 * 0 is a fresh ephemeral port each time) and the same address, or one of
 * them the wildcard address.
 */
static bool
binds_conflict(const struct cfg_bind *a, const struct cfg_bind *b)
{
	if (a->ss.ss_family == AF_UNIX || b->ss.ss_family == AF_UNIX) {
		/* Two listeners cannot share one socket file. */
		const struct sockaddr_un *ua = (const struct sockaddr_un *)(const void *)&a->ss;
		const struct sockaddr_un *ub = (const struct sockaddr_un *)(const void *)&b->ss;
		return a->ss.ss_family == b->ss.ss_family && strcmp(ua->sun_path, ub->sun_path) == 0;
	}
	int fa, fb;
	const uint8_t *xa, *xb;
	size_t la, lb;
	uint16_t pa, pb;
	bind_key(a, &fa, &xa, &la, &pa);
	bind_key(b, &fb, &xb, &lb, &pb);
	if (fa != fb || pa != pb || pa == 0)
		return false;
	return memcmp(xa, xb, la) == 0 || is_any(xa, la) || is_any(xb, lb);
}

/* Reports every bind of an enabled server that collides with an earlier one. */
static void
check_binds(const struct config *cfg, struct cfg_diag *diag)
{
	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct cfg_server *s = &cfg->servers[i];
		if (!s->enabled)
			continue;
		for (size_t k = 0; k < s->nbinds; k++) {
			const struct cfg_bind *a = &s->binds[k];
			bool found = false;
			for (size_t j = 0; j <= i && !found; j++) {
				const struct cfg_server *t = &cfg->servers[j];
				if (!t->enabled)
					continue;
				size_t end = j == i ? k : t->nbinds;
				for (size_t m = 0; m < end && !found; m++) {
					const struct cfg_bind *b = &t->binds[m];
					if (!binds_conflict(a, b))
						continue;
					cfg_error(diag, s->file, a->line > 0 ? a->line : s->line,
					    "<bind>: %s conflicts with %s at %s:%ld", a->text, b->text,
					    t->file, b->line > 0 ? b->line : t->line);
					found = true;
				}
			}
		}
	}
}

/* Largest ioWorkerCount of the enabled servers, else the number of CPUs. */
static unsigned
io_workers(const struct config *cfg)
{
	unsigned n = 0;
	for (size_t i = 0; i < cfg->nservers; i++)
		if (cfg->servers[i].enabled && cfg->servers[i].io_workers > n)
			n = cfg->servers[i].io_workers;
	if (n > 0)
		return n;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus > 0 ? (unsigned)cpus : 1;
}

/*
 * Builds the TLS context of every enabled server with TLS now, so that a
 * bad key or password stops start-up (and "mailetd -t") with file:line,
 * and a reload gets fresh certificates. Needs the data directory
 * (file://var/ URLs), hence after mailetd.xml.
 */
static void
build_tls(struct config *cfg, struct cfg_diag *diag)
{
	for (size_t i = 0; i < cfg->nservers; i++) {
		struct cfg_server *s = &cfg->servers[i];
		if (!s->enabled || !(s->tls.socket_tls || s->tls.start_tls))
			continue;
		s->tls.ctx = tls_new(&s->tls, s->file, cfg->confdir, cfg->main.data_dir, diag);
	}
}

/*
 * Opens the users repository on the data directory. Nothing is read
 * here: the files are read at the first lookup, so "mailetd -t" and
 * mailetctl's spool commands never touch them.
 */
static void
open_users(struct config *cfg)
{
	if (cfg->main.data_dir == NULL)
		return;
	struct users_opts o = {
		.virtual_hosting = cfg->users.virtual_hosting,
		.iterations = cfg->users.iterations,
		.failure_delay_ms = cfg->users.failure_delay_ms,
		.domains = cfg->domains.names,
		.ndomains = cfg->domains.n,
		.admins = cfg->users.admins,
		.nadmins = cfg->users.nadmins,
	};
	cfg->users_db = users_open(cfg->main.data_dir, &o);
}

/*
 * Opens the recipient rewrite table: the store next to users.db (read
 * lazily, like the users) and the static mappings of
 * recipientrewritetable.xml.
 */
static void
open_rrt(struct config *cfg)
{
	struct rrt_static *st = xcalloc(cfg->rrt.nmaps + 1, sizeof(*st));
	for (size_t i = 0; i < cfg->rrt.nmaps; i++)
		st[i] = (struct rrt_static){ .source = cfg->rrt.maps[i].source,
			.target = cfg->rrt.maps[i].target };
	struct rrt_opts o = {
		.recursive = cfg->rrt.recursive,
		.limit = cfg->rrt.limit,
		.statics = st,
		.nstatics = cfg->rrt.nmaps,
	};
	cfg->rrt_db = rrt_open(cfg->main.data_dir, &o);
	free(st);
}

struct config *
config_load(const char *confdir, const struct config_opts *opts, struct cfg_diag *diag)
{
	size_t errors = diag->errors;
	/* James treats a missing file as empty, but a missing directory is a
	 * typo in -c, not an empty configuration. */
	struct stat st;
	if (stat(confdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cfg_error(diag, confdir, 0, "not a configuration directory: %s",
		    stat(confdir, &st) != 0 ? strerror(errno) : "not a directory");
		return NULL;
	}
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	cfg->confdir = xstrdup(confdir);
	size_t dl = strlen(confdir);
	const char *sep = dl > 0 && confdir[dl - 1] == '/' ? "" : "/";

	for (size_t i = 0; i < NELEM(config_files); i++) {
		char *path = xasprintf("%s%s%s", confdir, sep, config_files[i].name);
		int rc;
		if (config_files[i].load != NULL) {
			rc = config_files[i].load(cfg, path, opts, diag);
		} else {
			rc = access(path, F_OK) == 0 ? 1 : 0;
			if (rc)
				cfg_warn(diag, path, 0, "file not yet supported by mailetd; ignored");
		}
		if (rc == 0 || config_files[i].load == NULL) {
			free(path);
			continue;
		}
		cfg->files = xreallocarray(cfg->files, cfg->nfiles + 1, sizeof(*cfg->files));
		cfg->files[cfg->nfiles++] = path;
	}
	if (cfg->users.algorithm == NULL) /* usersrepository.xml failed to parse */
		cfg->users.algorithm = xstrdup("PBKDF2-SHA512");
	open_users(cfg);
	if (cfg->rrt.limit == 0) /* no recipientrewritetable.xml: James's defaults */
		cfg->rrt = (struct cfg_rrt){ .recursive = true, .limit = 10 };
	open_rrt(cfg);
	check_binds(cfg, diag);
	build_tls(cfg, diag);
	cfg->io_workers = io_workers(cfg);
	if (diag->errors > errors) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nservers; i++)
		cfg_smtp_server_clear(&cfg->servers[i]);
	free(cfg->servers);
	cfg_domains_clear(&cfg->domains);
	cfg_main_clear(&cfg->main);
	users_free(cfg->users_db);
	rrt_free(cfg->rrt_db);
	cfg_rrt_clear(&cfg->rrt);
	cfg_users_clear(&cfg->users);
	cfg_dns_clear(&cfg->dns);
	for (size_t i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->confdir);
	free(cfg);
}

bool
config_is_local_domain(const struct config *cfg, const char *domain, size_t len)
{
	if (cfg == NULL || len == 0)
		return false;
	return cfg_domains_contains(&cfg->domains, domain, len) ||
	    (cfg->users_db != NULL && users_domain_added(cfg->users_db, domain, len));
}

/*
 * mailetd.c - the daemon's main: options, configuration, spool, server.
 *
 *   mailetd [-c CONFDIR] [-d DATADIR] [-D name=value]... [-l LEVEL] [-s FACILITY]
 *   mailetd -t [-v] [-c CONFDIR] check the configuration and exit (-v: and
 *                                print each server's handler chain)
 *
 * Runs in the foreground (systemd's Type=simple) and logs to stderr.
 */
#include "../handlers/chain.h"
#include "config/config.h"
#include "core/id.h"
#include "core/log.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "dns/dns.h"
#include "net/server.h"
#include "spool/spool.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#ifndef MAILETD_VERSION
#define MAILETD_VERSION "unknown"
#endif

#define MAILETD_DEFAULT_CONFDIR "/etc/mailetd"
#define MAILETD_MAX_SYSPROPS 64

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailetd [-t] [-c CONFDIR] [-d DATADIR] [-D name=value]... [-l LEVEL]\n"
	    "               [-s FACILITY]\n"
	    "  -c CONFDIR   configuration directory (default " MAILETD_DEFAULT_CONFDIR ")\n"
	    "  -d DATADIR   data directory (spool); overrides <dataDirectory>\n"
	    "  -D name=val  value for ${sys:name} in the configuration files\n"
	    "  -l LEVEL     log level: error, warn, info, debug\n"
	    "  -s FACILITY  also log to syslog (mail, daemon, local0 ... local7)\n"
	    "  -t           check the configuration, print every problem, and exit\n"
	    "  -v           with -t: print the handler chain of every server\n"
	    "  -h           this help\n"
	    "  -V           print the version\n");
}

static int
facility_parse(const char *s)
{
	static const struct {
		const char *name;
		int value;
	} tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(s, tab[i].name) == 0)
			return tab[i].value;
	return -1;
}

int
main(int argc, char **argv)
{
	const char *confdir = MAILETD_DEFAULT_CONFDIR;
	const char *datadir = NULL;
	const char *sys_names[MAILETD_MAX_SYSPROPS];
	const char *sys_values[MAILETD_MAX_SYSPROPS];
	size_t nsys = 0;
	int level = -1, facility = -1;
	bool test = false, verbose = false;
	int ch;

	while ((ch = getopt(argc, argv, "c:d:D:l:s:tvhV")) != -1) {
		switch (ch) {
		case 'c':
			confdir = optarg;
			break;
		case 'd':
			datadir = optarg;
			break;
		case 'D': {
			char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg || nsys == MAILETD_MAX_SYSPROPS) {
				fprintf(stderr, "mailetd: -D wants name=value\n");
				return 2;
			}
			*eq = '\0';
			sys_names[nsys] = optarg;
			sys_values[nsys++] = eq + 1;
			break;
		}
		case 'l':
			level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "mailetd: unknown log level \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 's':
			facility = facility_parse(optarg);
			if (facility < 0) {
				fprintf(stderr, "mailetd: unknown syslog facility \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 't':
			test = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("mailetd %s\n", MAILETD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	/* The journal stamps lines itself; a terminal or file wants times. */
	log_init("mailetd", LOG_LVL_INFO, getenv("JOURNAL_STREAM") == NULL);
	log_route_libevent();
	id_init();

	struct config_opts opts = {
		.data_dir = datadir,
		.sys_names = sys_names,
		.sys_values = sys_values,
		.nsys = nsys,
	};
	struct cfg_diag diag;
	cfg_diag_init(&diag);
	struct config *cfg = config_load(confdir, &opts, &diag);
	cfg_diag_print(&diag, stderr, "mailetd");
	if (test) {
		for (size_t i = 0; verbose && cfg != NULL && i < cfg->nservers; i++) {
			const struct cfg_server *sv = &cfg->servers[i];
			printf("server %s (%s:%ld)%s\n", sv->name, sv->file, sv->line,
			    sv->enabled ? "" : " disabled");
			chain_describe(sv->chain != NULL ? sv->chain : chain_core(), stdout);
		}
		if (cfg != NULL)
			printf("configuration OK (%zu warning%s)\n", diag.warnings,
			    diag.warnings == 1 ? "" : "s");
		else
			printf("configuration has %zu error%s\n", diag.errors,
			    diag.errors == 1 ? "" : "s");
		cfg_diag_clear(&diag);
		config_free(cfg);
		return cfg != NULL ? 0 : 1;
	}
	cfg_diag_clear(&diag);
	if (cfg == NULL) {
		fprintf(stderr, "mailetd: configuration errors; not starting\n");
		return 1;
	}
	log_set_level(level >= 0 ? (enum log_level)level : (enum log_level)cfg->main.log_level);
	if (facility < 0)
		facility = cfg->main.syslog_facility;
	if (facility >= 0)
		log_open_syslog(facility);

	size_t enabled = 0;
	for (size_t i = 0; i < cfg->nservers; i++)
		enabled += cfg->servers[i].enabled;
	if (enabled == 0) {
		log_error(NULL, "event=fatal msg=\"no <smtpserver> is enabled in %s/smtpserver.xml\"",
		    confdir);
		config_free(cfg);
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0)
		log_fatal("event=fatal msg=\"libevent has no pthreads support\"");

	char err[512];
	char *spooldir = xasprintf("%s/spool", cfg->main.data_dir);
	struct spool *spool = spool_open(spooldir, cfg->main.fsync, cfg->main.commit_threads,
	    err, sizeof(err));
	if (spool == NULL) {
		log_error(NULL, "event=fatal msg=\"cannot open the spool %s: %s\"", spooldir, err);
		free(spooldir);
		config_free(cfg);
		return 1;
	}
	if (!cfg->main.fsync)
		log_warn(NULL, "event=unsafe msg=\"spool fsync is off: a crash can lose "
			       "acknowledged mail\"");
	/* One resolver for the whole daemon (dnsservice.xml, docs/dns.md). */
	struct dns *dns = dns_new(&cfg->dns, err, sizeof(err));
	if (dns == NULL) {
		log_error(NULL, "event=fatal msg=\"cannot start the DNS resolver: %s\"", err);
		spool_close(spool);
		free(spooldir);
		config_free(cfg);
		return 1;
	}
	/* The DNS-based handlers find it in their session's configuration. */
	cfg->resolver = dns;
	/* One pool for the whole daemon: password hashing for SMTP AUTH. */
	struct worker_pool *workers = worker_pool_new(cfg->io_workers > 2 ? cfg->io_workers : 2);
	struct server *srv = server_new(cfg, spool, workers, err, sizeof(err));
	if (srv == NULL) {
		log_error(NULL, "event=fatal msg=\"%s\"", err);
		dns_free(dns);
		worker_pool_free(workers);
		spool_close(spool);
		free(spooldir);
		config_free(cfg);
		return 1;
	}
	log_info(NULL, "event=ready version=%s confdir=%s spool=%s", MAILETD_VERSION, confdir,
	    spooldir);
	int rc = server_run(srv);
	/* Queued checks post their results while the loops still exist. */
	worker_pool_free(workers);
	/* The sessions are gone, so every lookup they started has ended;
	 * stop the resolver while the I/O loops' bases still exist. */
	dns_free(dns);
	server_free(srv);
	spool_close(spool);
	free(spooldir);
	config_free(cfg);
	log_info(NULL, "event=exit status=%d", rc);
	return rc;
}

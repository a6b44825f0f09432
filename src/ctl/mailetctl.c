/*
 * mailetctl.c - the administration tool.
 *
 *   mailetctl [-c CONFDIR] [-d DATADIR] spool list [QUEUE]
 *   mailetctl [-c CONFDIR] [-d DATADIR] spool cat ID
 *
 * It reads the spool directory (<DATADIR>/spool) directly, so it works on
 * a running daemon's spool as well as a stopped one's. DATADIR is -d, or
 * the <dataDirectory> of the configuration in CONFDIR. Exit status: 0
 * done, 1 error (reason on stderr), 2 usage.
 */
#include "../config/config.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "../spool/spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef MAILETD_VERSION
#define MAILETD_VERSION "unknown"
#endif

#define CTL_DEFAULT_CONFDIR "/etc/mailetd"

enum {
	CTL_OK = 0,
	CTL_ERROR = 1,
	CTL_USAGE = 2,
};

/* One "spool list" line; the header uses the same format. */
#define CTL_LIST_FMT "%-20s  %-8s  %10s  %5s  %s  %s\n"

struct ctl_list {
	time_t now;
	bool header_done;
};

/* The header line goes out with the first line, so that an error before
 * any message leaves stdout empty. */
static void
ctl_list_header(struct ctl_list *l)
{
	if (l->header_done)
		return;
	printf(CTL_LIST_FMT, "ID", "QUEUE", "SIZE", "AGE", "SENDER", "RECIPIENTS");
	l->header_done = true;
}

static void
ctl_usage(FILE *f)
{
	fprintf(f, "usage: mailetctl [-c CONFDIR] [-d DATADIR] spool list [QUEUE]\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] spool cat ID\n"
	           "       mailetctl -h | -V\n"
	           "\n"
	           "  -c CONFDIR  configuration directory (default " CTL_DEFAULT_CONFDIR ")\n"
	           "  -d DATADIR  data directory; overrides <dataDirectory>\n"
	           "  -h          show this help\n"
	           "  -V          show the version\n");
}

/*
 * Copies s to out for display: bytes a terminal would act on (controls,
 * DEL) become '?'. Envelope strings came from the network.
 */
static void
ctl_sanitize(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
}

/* Formats an age in seconds as 42s, 5m, 3h or 2d (rounded down). */
static void
ctl_age(char *out, size_t outlen, time_t now, time_t then)
{
	long long d = (long long)now - (long long)then;

	if (d < 0)
		d = 0;
	if (d < 60)
		snprintf(out, outlen, "%llds", d);
	else if (d < 3600)
		snprintf(out, outlen, "%lldm", d / 60);
	else if (d < 86400)
		snprintf(out, outlen, "%lldh", d / 3600);
	else
		snprintf(out, outlen, "%lldd", d / 86400);
}

/* spool_list callback: prints one message line. */
static void
ctl_list_one(void *arg, const struct spool_entry *e)
{
	struct ctl_list *l = arg;
	char size[24], age[24], sender[1024];
	size_t rlen = 1;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)e->size);
	ctl_age(age, sizeof(age), l->now, e->received);
	if (e->sender == NULL || e->sender[0] == '\0')
		snprintf(sender, sizeof(sender), "<>");
	else
		ctl_sanitize(sender, sizeof(sender), e->sender);

	for (size_t i = 0; i < e->nrcpts; i++)
		rlen += strlen(e->rcpts[i]) + 1;
	char *rcpts = xmalloc(rlen + 1);
	size_t o = 0;
	for (size_t i = 0; i < e->nrcpts; i++) {
		if (i > 0)
			rcpts[o++] = ',';
		ctl_sanitize(rcpts + o, rlen + 1 - o, e->rcpts[i]);
		o += strlen(rcpts + o);
	}
	rcpts[o] = '\0';
	if (e->nrcpts == 0)
		snprintf(rcpts, rlen + 1, "-");
	ctl_list_header(l);
	printf(CTL_LIST_FMT, e->id, e->queue, size, age, sender, rcpts);
	free(rcpts);
}

/* mailetctl spool list [QUEUE] */
static int
ctl_spool_list(const char *spooldir, int argc, char **argv)
{
	struct ctl_list l = {.now = time(NULL)};

	if (argc > 1) {
		ctl_usage(stderr);
		return CTL_USAGE;
	}
	const char *queue = argc == 1 ? argv[0] : NULL;
	long n = spool_list(spooldir, queue, ctl_list_one, &l);
	if (n < 0) {
		int e = errno;
		fflush(stdout);
		char q[128];
		if (e == EINVAL && queue != NULL)
			fprintf(stderr,
			    "mailetctl: invalid queue name %s (use "
			    "[a-z0-9_-], at most %d characters)\n",
			    log_quote(q, sizeof(q), queue, strlen(queue)), SPOOL_QUEUE_NAME_MAX);
		else
			fprintf(stderr, "mailetctl: %s: %s\n", spooldir, strerror(e));
		return CTL_ERROR;
	}
	ctl_list_header(&l);
	printf("%ld messages\n", n);
	return CTL_OK;
}

static bool
ctl_id_ok(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n == ID_LEN && s[n] == '\0';
}

/* mailetctl spool cat ID */
static int
ctl_spool_cat(const char *spooldir, int argc, char **argv)
{
	if (argc != 1) {
		ctl_usage(stderr);
		return CTL_USAGE;
	}
	char q[128];
	log_quote(q, sizeof(q), argv[0], strlen(argv[0]));
	if (!ctl_id_ok(argv[0])) {
		fprintf(stderr,
		    "mailetctl: %s: not a message id (%d characters "
		    "0-9a-f)\n",
		    q, ID_LEN);
		return CTL_ERROR;
	}
	if (spool_cat(spooldir, argv[0], STDOUT_FILENO) < 0) {
		int e = errno;
		if (e == EINVAL)
			fprintf(stderr, "mailetctl: %s: the message file is corrupt\n", q);
		else if (e == ENOENT)
			fprintf(stderr, "mailetctl: %s: no such message in %s\n", q, spooldir);
		else
			fprintf(stderr, "mailetctl: %s: %s\n", q, strerror(e));
		return CTL_ERROR;
	}
	return CTL_OK;
}

/*
 * Finds the data directory: -d wins, else the configuration's. Returns a
 * string for the caller to free, or NULL after printing why.
 */
static char *
ctl_data_dir(const char *confdir, const char *datadir)
{
	struct cfg_diag diag;
	struct config_opts opts = {.data_dir = NULL};

	if (datadir != NULL)
		return xstrdup(datadir);
	cfg_diag_init(&diag);
	struct config *cfg = config_load(confdir, &opts, &diag);
	if (cfg == NULL) {
		for (size_t i = 0; i < diag.n; i++)
			fprintf(stderr, "mailetctl: %s%s\n",
			    diag.v[i].kind == CFG_DIAG_WARNING ? "warning: " : "", diag.v[i].text);
		if (diag.n == 0)
			fprintf(stderr,
			    "mailetctl: %s: cannot load the "
			    "configuration\n",
			    confdir);
		cfg_diag_clear(&diag);
		return NULL;
	}
	char *dir = cfg->main.data_dir ? xstrdup(cfg->main.data_dir) : NULL;
	config_free(cfg);
	cfg_diag_clear(&diag);
	if (dir == NULL)
		fprintf(stderr,
		    "mailetctl: %s: no data directory configured (use "
		    "-d)\n",
		    confdir);
	return dir;
}

int
main(int argc, char **argv)
{
	const char *confdir = CTL_DEFAULT_CONFDIR, *datadir = NULL;
	int c, rc;

	log_init("mailetctl", LOG_LVL_WARN, false);
	while ((c = getopt(argc, argv, "+c:d:hV")) != -1) {
		switch (c) {
		case 'c':
			confdir = optarg;
			break;
		case 'd':
			datadir = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_OK;
		case 'V':
			printf("mailetctl " MAILETD_VERSION "\n");
			return CTL_OK;
		default:
			ctl_usage(stderr);
			return CTL_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || strcmp(argv[0], "spool") != 0 ||
	    (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "cat") != 0)) {
		ctl_usage(stderr);
		return CTL_USAGE;
	}
	/* Check the arguments before loading any configuration. */
	bool is_list = strcmp(argv[1], "list") == 0;
	if ((is_list && argc > 3) || (!is_list && argc != 3)) {
		ctl_usage(stderr);
		return CTL_USAGE;
	}

	char *data = ctl_data_dir(confdir, datadir);
	if (data == NULL)
		return CTL_ERROR;
	char *spooldir = xasprintf("%s/spool", data);
	free(data);
	if (is_list)
		rc = ctl_spool_list(spooldir, argc - 2, argv + 2);
	else
		rc = ctl_spool_cat(spooldir, argc - 2, argv + 2);
	free(spooldir);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mailetctl: standard output: %s\n", strerror(errno));
		return CTL_ERROR;
	}
	return rc;
}

/*
 * mailetctl.c - the administration tool.
 *
 *   mailetctl [-c CONFDIR] [-d DATADIR] spool list [QUEUE]
 *   mailetctl [-c CONFDIR] [-d DATADIR] spool cat ID
 *   mailetctl [-c CONFDIR] [-d DATADIR] user add|passwd NAME [--password-stdin]
 *   mailetctl [-c CONFDIR] [-d DATADIR] user del NAME
 *   mailetctl [-c CONFDIR] [-d DATADIR] user quota NAME BYTES
 *   mailetctl [-c CONFDIR] [-d DATADIR] user list
 *   mailetctl [-c CONFDIR] [-d DATADIR] user import FILE
 *   mailetctl [-c CONFDIR] [-d DATADIR] domain add|del NAME
 *   mailetctl [-c CONFDIR] [-d DATADIR] domain list
 *   mailetctl [-c CONFDIR] [-d DATADIR] mapping add|del SOURCE TARGET
 *   mailetctl [-c CONFDIR] [-d DATADIR] mapping list [SOURCE]
 *   mailetctl [-c CONFDIR] [-d DATADIR] mapping resolve ADDRESS
 *   mailetctl [-c CONFDIR] [-d DATADIR] alias add|del ALIAS USER
 *
 * It reads the spool directory (<DATADIR>/spool) and the users repository
 * (<DATADIR>/users, see src/auth/users.h) directly, so it works on a
 * running daemon's data as well as a stopped one's; the daemon sees user
 * and domain changes within a second, and mapping changes (the recipient
 * rewrite table, <DATADIR>/users/rrt.db, src/rrt/rrt_admin.h) too.
 * DATADIR is -d, or the <dataDirectory> of the configuration in CONFDIR. Passwords and hashes
 * are never printed. Exit status: 0 done, 1 error (reason on stderr), 2
 * usage.
 */
#include "../auth/password.h"
#include "../auth/users.h"
#include "../config/config.h"
#include "../core/log.h"
#include "../core/ttysafe.h"
#include "../core/xmalloc.h"
#include "../rrt/rrt_admin.h"
#include "../spool/spool.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
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
	           "       mailetctl [-c CONFDIR] [-d DATADIR] user add|passwd NAME "
	           "[--password-stdin]\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] user del NAME\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] user quota NAME BYTES\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] user list\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] user import FILE\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] domain add|del NAME\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] domain list\n");
	rrt_admin_usage(f);
	fprintf(f, "       mailetctl -h | -V\n"
	           "\n"
	           "  -c CONFDIR  configuration directory (default " CTL_DEFAULT_CONFDIR ")\n"
	           "  -d DATADIR  data directory; overrides <dataDirectory>\n"
	           "  -h          show this help\n"
	           "  -V          show the version\n");
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
		ttysafe(sender, sizeof(sender), e->sender);

	for (size_t i = 0; i < e->nrcpts; i++)
		rlen += strlen(e->rcpts[i]) + 1;
	char *rcpts = xmalloc(rlen + 1);
	size_t o = 0;
	for (size_t i = 0; i < e->nrcpts; i++) {
		if (i > 0)
			rcpts[o++] = ',';
		ttysafe(rcpts + o, rlen + 1 - o, e->rcpts[i]);
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
		cfg_diag_print(&diag, stderr, "mailetctl");
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

/* --- users and domains ------------------------------------------------------ */

/*
 * Loads the configuration for the users commands (virtual hosting, local
 * domains, hash settings), with -d overriding the data directory. NULL
 * after printing why.
 */
static struct config *
ctl_config(const char *confdir, const char *datadir)
{
	struct cfg_diag diag;
	struct config_opts opts = {.data_dir = datadir};

	cfg_diag_init(&diag);
	struct config *cfg = config_load(confdir, &opts, &diag);
	if (cfg == NULL) {
		cfg_diag_print(&diag, stderr, "mailetctl");
		if (diag.errors == 0)
			fprintf(stderr, "mailetctl: %s: cannot load the configuration\n", confdir);
	} else if (cfg->users_db == NULL) {
		fprintf(stderr, "mailetctl: %s: no data directory configured (use -d)\n", confdir);
		config_free(cfg);
		cfg = NULL;
	}
	cfg_diag_clear(&diag);
	return cfg;
}

/* Reads one line of at most PASSWORD_MAX_LEN bytes from f, without its
 * line end. An allocated string, or NULL at end of input or if too long. */
static char *
ctl_read_line(FILE *f)
{
	char buf[PASSWORD_MAX_LEN + 2];
	char *r = fgets(buf, sizeof(buf), f);
	if (r == NULL)
		return NULL;
	size_t n = strcspn(buf, "\r\n");
	bool complete = buf[n] != '\0' || feof(f);
	char *out = complete ? xstrndup(buf, n) : NULL;
	OPENSSL_cleanse(buf, sizeof(buf));
	return out;
}

/* Prompts on the terminal with echo off; an allocated string or NULL. */
static char *
ctl_prompt(FILE *tty, const char *prompt)
{
	struct termios old, quiet;
	int fd = fileno(tty);
	bool restore = tcgetattr(fd, &old) == 0;

	fputs(prompt, stderr);
	fflush(stderr);
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char *pw = ctl_read_line(tty);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	return pw;
}

/*
 * The new password: from standard input (one line) with --password-stdin
 * or when standard input is not a terminal, else asked twice on the
 * terminal. NULL after printing why.
 */
static char *
ctl_password(bool from_stdin)
{
	char *pw;
	if (from_stdin || !isatty(STDIN_FILENO)) {
		pw = ctl_read_line(stdin);
		if (pw == NULL)
			fprintf(stderr, "mailetctl: no password on standard input (or longer than %u "
			                "bytes)\n", PASSWORD_MAX_LEN);
	} else {
		pw = ctl_prompt(stdin, "New password: ");
		char *again = pw != NULL ? ctl_prompt(stdin, "Repeat password: ") : NULL;
		if (pw == NULL || again == NULL || strcmp(pw, again) != 0) {
			fprintf(stderr, "mailetctl: the passwords do not match\n");
			password_free(pw);
			pw = NULL;
		}
		password_free(again);
	}
	if (pw != NULL && pw[0] == '\0') {
		fprintf(stderr, "mailetctl: empty password refused\n");
		password_free(pw);
		pw = NULL;
	}
	return pw;
}

/* Prints "mailetctl: WHAT NAME: reason" for a users_rc other than OK. */
static int
ctl_fail(const char *what, const char *name, enum users_rc rc)
{
	char q[USERS_NAME_MAX + 16];
	fprintf(stderr, "mailetctl: %s %s: %s\n", what, log_quote(q, sizeof(q), name, strlen(name)),
	    users_strerror(rc));
	return CTL_ERROR;
}

/* Commits tx; prints why it failed. */
static int
ctl_commit(struct users_tx *tx)
{
	if (users_tx_commit(tx) < 0) {
		fprintf(stderr, "mailetctl: cannot write the users repository: %s\n",
		    strerror(errno));
		return CTL_ERROR;
	}
	return CTL_OK;
}

static struct users_tx *
ctl_begin(struct users *u)
{
	struct users_tx *tx = users_tx_begin(u);
	if (tx == NULL)
		fprintf(stderr, "mailetctl: cannot open the users repository: %s\n",
		    errno == EINVAL ? "a file is malformed (see the log line above)" : strerror(errno));
	return tx;
}

/* user add|passwd NAME [--password-stdin] */
static int
ctl_user_set(const struct config *cfg, const char *name, bool from_stdin, bool add)
{
	char n[USERS_NAME_MAX + 1];
	enum users_rc rc = users_name_check(cfg->users_db, name, strlen(name), n, sizeof(n));
	if (rc != USERS_OK)
		return ctl_fail("user", name, rc);
	char *pw = ctl_password(from_stdin);
	if (pw == NULL)
		return CTL_ERROR;
	char *hash = password_hash(pw, strlen(pw), cfg->users.iterations > 0
	        ? cfg->users.iterations : PASSWORD_DEFAULT_ITERATIONS);
	password_free(pw);
	if (hash == NULL) {
		fprintf(stderr, "mailetctl: cannot hash the password (random generator)\n");
		return CTL_ERROR;
	}
	struct users_tx *tx = ctl_begin(cfg->users_db);
	if (tx == NULL) {
		password_free(hash);
		return CTL_ERROR;
	}
	rc = users_tx_put(tx, n, hash, add ? USERS_PUT_NEW : USERS_PUT_EXISTING);
	password_free(hash);
	if (rc != USERS_OK) {
		users_tx_abort(tx);
		return ctl_fail("user", n, rc);
	}
	int st = ctl_commit(tx);
	if (st == CTL_OK)
		printf("%s user %s\n", add ? "added" : "changed the password of", n);
	return st;
}

static int
ctl_user_del(const struct config *cfg, const char *name)
{
	struct users_tx *tx = ctl_begin(cfg->users_db);
	if (tx == NULL)
		return CTL_ERROR;
	enum users_rc rc = users_tx_del(tx, name);
	if (rc != USERS_OK) {
		users_tx_abort(tx);
		return ctl_fail("user", name, rc);
	}
	int st = ctl_commit(tx);
	if (st == CTL_OK)
		printf("deleted user %s\n", name);
	return st;
}

/*
 * Parses a quota: a number of bytes with an optional K, M or G (powers
 * of 1024, any case); 0 or "none" means no quota. 0, or -1.
 */
static int
ctl_parse_quota(const char *s, uint64_t *out)
{
	if (strcasecmp(s, "none") == 0) {
		*out = 0;
		return 0;
	}
	size_t len = strlen(s), digits = strspn(s, "0123456789");
	if (digits == 0 || digits > 19 || len > digits + 1)
		return -1;
	unsigned long long v = strtoull(s, NULL, 10);
	unsigned shift = 0;
	if (len > digits) {
		const char *u = strchr("kKmMgG", s[digits]);
		if (u == NULL)
			return -1;
		shift = (unsigned)(10 * (1 + (u - "kKmMgG") / 2));
	}
	if (shift > 0 && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* user quota NAME BYTES: the most the user's mailbox may hold (LMTP). */
static int
ctl_user_quota(const struct config *cfg, const char *name, const char *value)
{
	uint64_t q;
	if (ctl_parse_quota(value, &q) < 0) {
		fprintf(stderr, "mailetctl: quota: not a size (bytes, or with K, M or G; 0 or "
				"none for no quota)\n");
		return CTL_USAGE;
	}
	struct users_tx *tx = ctl_begin(cfg->users_db);
	if (tx == NULL)
		return CTL_ERROR;
	enum users_rc rc = users_tx_quota(tx, name, q);
	if (rc != USERS_OK) {
		users_tx_abort(tx);
		return ctl_fail("user", name, rc);
	}
	int st = ctl_commit(tx);
	if (st == CTL_OK)
		printf("quota of user %s: %llu bytes%s\n", name, (unsigned long long)q,
		    q == 0 ? " (none)" : "");
	return st;
}

static void
ctl_user_line(void *arg, const struct users_entry *e)
{
	char name[USERS_NAME_MAX + 1];
	(void)arg;
	ttysafe(name, sizeof(name), e->name);
	if (e->quota > 0)
		printf("%s\tquota=%llu\n", name, (unsigned long long)e->quota);
	else
		printf("%s\n", name);
}

static void
ctl_domain_line(void *arg, const char *d)
{
	char name[USERS_DOMAIN_MAX + 1];
	(void)arg;
	ttysafe(name, sizeof(name), d);
	printf("%s\n", name);
}

/*
 * user import FILE: Dovecot passwd-file lines "user:{SCHEME}hash[:...]".
 * All or nothing: a bad line is reported (by number, never with its hash)
 * and nothing is written.
 */
static int
ctl_user_import(const struct config *cfg, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "mailetctl: %s: %s\n", path, strerror(errno));
		return CTL_ERROR;
	}
	struct users_tx *tx = ctl_begin(cfg->users_db);
	if (tx == NULL) {
		if (f != stdin)
			fclose(f);
		return CTL_ERROR;
	}
	char *line = NULL;
	size_t cap = 0, lineno = 0, count = 0, bad = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		char *colon = strchr(line, ':');
		char *end = colon != NULL ? strchr(colon + 1, ':') : NULL;
		if (end != NULL)
			*end = '\0';
		enum users_rc rc = USERS_BAD_HASH;
		if (colon != NULL) {
			*colon = '\0';
			rc = users_tx_put(tx, line, colon + 1, USERS_PUT_ANY);
		}
		if (rc != USERS_OK) {
			char q[USERS_NAME_MAX + 16];
			fprintf(stderr, "mailetctl: %s:%zu: %s: %s\n", path, lineno,
			    log_quote(q, sizeof(q), line, strlen(line)),
			    colon == NULL ? "not a user:password line" : users_strerror(rc));
			bad++;
		} else {
			count++;
		}
	}
	if (line != NULL)
		OPENSSL_cleanse(line, cap);
	free(line);
	bool rerr = ferror(f);
	if (f != stdin)
		fclose(f);
	if (rerr || bad > 0) {
		users_tx_abort(tx);
		fprintf(stderr, "mailetctl: %s: nothing imported\n", path);
		return CTL_ERROR;
	}
	int st = ctl_commit(tx);
	if (st == CTL_OK)
		printf("imported %zu users\n", count);
	return st;
}

static int
ctl_domain_change(const struct config *cfg, const char *name, bool add)
{
	struct users_tx *tx = ctl_begin(cfg->users_db);
	if (tx == NULL)
		return CTL_ERROR;
	enum users_rc rc = add ? users_tx_domain_add(tx, name) : users_tx_domain_del(tx, name);
	if (rc != USERS_OK) {
		users_tx_abort(tx);
		return ctl_fail("domain", name, rc);
	}
	int st = ctl_commit(tx);
	if (st == CTL_OK) {
		printf("%s domain ", add ? "added" : "deleted");
		for (const char *p = name; *p != '\0'; p++)
			putchar(tolower((unsigned char)*p));
		putchar('\n');
	}
	return st;
}

/* The command table of "user" and "domain": verb, argument count. */
static const struct {
	const char *noun, *verb;
	int nargs;      /* NAME / FILE arguments */
	bool pw_flag;   /* takes --password-stdin */
} ctl_user_cmds[] = {
	{ "user", "add", 1, true },
	{ "user", "passwd", 1, true },
	{ "user", "del", 1, false },
	{ "user", "quota", 2, false },
	{ "user", "list", 0, false },
	{ "user", "import", 1, false },
	{ "domain", "add", 1, false },
	{ "domain", "del", 1, false },
	{ "domain", "list", 0, false },
};

/* mailetctl user ... / domain ...: argv[0] is the noun. */
static int
ctl_users_main(const char *confdir, const char *datadir, int argc, char **argv)
{
	size_t i, ncmds = sizeof(ctl_user_cmds) / sizeof(ctl_user_cmds[0]);
	for (i = 0; i < ncmds; i++)
		if (argc >= 2 && strcmp(argv[0], ctl_user_cmds[i].noun) == 0 &&
		    strcmp(argv[1], ctl_user_cmds[i].verb) == 0)
			break;
	bool from_stdin = false;
	if (i < ncmds && ctl_user_cmds[i].pw_flag && argc == 4 &&
	    strcmp(argv[3], "--password-stdin") == 0) {
		from_stdin = true;
		argc--;
	}
	if (i == ncmds || argc != 2 + ctl_user_cmds[i].nargs) {
		ctl_usage(stderr);
		return CTL_USAGE;
	}
	struct config *cfg = ctl_config(confdir, datadir);
	if (cfg == NULL)
		return CTL_ERROR;
	const char *verb = argv[1], *arg = argc > 2 ? argv[2] : NULL;
	int rc;
	long n = 0;
	if (strcmp(argv[0], "domain") == 0) {
		if (arg != NULL)
			rc = ctl_domain_change(cfg, arg, strcmp(verb, "add") == 0);
		else if ((n = users_domain_list(cfg->users_db, ctl_domain_line, NULL)) < 0)
			rc = CTL_ERROR;
		else
			rc = CTL_OK;
	} else if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) {
		rc = ctl_user_set(cfg, arg, from_stdin, strcmp(verb, "add") == 0);
	} else if (strcmp(verb, "del") == 0) {
		rc = ctl_user_del(cfg, arg);
	} else if (strcmp(verb, "quota") == 0) {
		rc = ctl_user_quota(cfg, arg, argv[3]);
	} else if (strcmp(verb, "import") == 0) {
		rc = ctl_user_import(cfg, arg);
	} else {
		n = users_list(cfg->users_db, ctl_user_line, NULL);
		rc = n < 0 ? CTL_ERROR : CTL_OK;
	}
	if (n < 0)
		fprintf(stderr, "mailetctl: cannot read the users repository: %s\n",
		    errno == EINVAL ? "a file is malformed" : strerror(errno));
	config_free(cfg);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mailetctl: standard output: %s\n", strerror(errno));
		return CTL_ERROR;
	}
	return rc;
}

/* mailetctl mapping ... / alias ...: the recipient rewrite table. */
static int
ctl_rrt_main(const char *confdir, const char *datadir, int argc, char **argv)
{
	struct config *cfg = ctl_config(confdir, datadir);
	if (cfg == NULL)
		return CTL_ERROR;
	int rc = rrt_admin_main(cfg, argc, argv);
	config_free(cfg);
	if (rc == CTL_USAGE)
		ctl_usage(stderr);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mailetctl: standard output: %s\n", strerror(errno));
		return CTL_ERROR;
	}
	return rc;
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
	if (argc >= 1 && (strcmp(argv[0], "user") == 0 || strcmp(argv[0], "domain") == 0))
		return ctl_users_main(confdir, datadir, argc, argv);
	if (argc >= 1 && rrt_admin_is_noun(argv[0]))
		return ctl_rrt_main(confdir, datadir, argc, argv);
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

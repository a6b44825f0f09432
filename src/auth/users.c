/* users.c - the users repository (see users.h). */
#include "users.h"

#include "../core/dname.h"
#include "../core/log.h"
#include "../core/storefile.h"
#include "../core/worker.h"
#include "../core/xmalloc.h"
#include "password.h"

#include <event2/event.h>
#include <openssl/crypto.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define USERS_HEADER "# mailetd users 1"
#define DOMAINS_HEADER "# mailetd domains 1"
#define LOCAL_MAX 64
/* Largest file read (about 100k users). */
#define FILE_MAX (64u * 1024 * 1024)

struct user_rec {
	char *name;
	char *hash;
	uint64_t quota;
};

/* The contents of both files. */
struct users_data {
	struct user_rec *users; /* sorted by name */
	size_t nusers;
	char **domains;         /* sorted */
	size_t ndomains;
};

/* A file read by the daemon, with its cache state. */
struct cached_file {
	char *path;
	struct storefile_key key;
	time_t checked;         /* monotonic second of the last stat, 0 = never */
};

struct users {
	char *dir;
	char *lock_path;
	struct users_opts opts;
	unsigned iterations;
	char *dummy_hash;       /* verified for unknown users: same cost */
	/* Two locks, so that a domain lookup on an I/O thread never waits for
	 * a reload of users.db. ulock guards fusers and data.users, dlock
	 * fdomains and data.domains. */
	pthread_mutex_t ulock, dlock;
	struct cached_file fusers, fdomains;
	struct users_data data;
};

struct users_tx {
	struct users *u;
	int lockfd;
	struct users_data data;
	bool users_changed, domains_changed;
};

const char *
users_strerror(enum users_rc rc)
{
	switch (rc) {
	case USERS_OK:
		return "ok";
	case USERS_EXISTS:
		return "already exists";
	case USERS_NOT_FOUND:
		return "not found";
	case USERS_BAD_NAME:
		return "not a valid name";
	case USERS_NOT_LOCAL:
		return "the domain is not a local domain";
	case USERS_BAD_HASH:
		return "not a supported password hash";
	case USERS_IN_USE:
		return "users of this domain still exist";
	case USERS_ERROR:
		break;
	}
	return strerror(errno);
}

/* --- data --------------------------------------------------------------- */

static void
data_clear(struct users_data *d)
{
	for (size_t i = 0; i < d->nusers; i++) {
		free(d->users[i].name);
		password_free(d->users[i].hash);
	}
	free(d->users);
	for (size_t i = 0; i < d->ndomains; i++)
		free(d->domains[i]);
	free(d->domains);
	memset(d, 0, sizeof(*d));
}

static int
user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct user_rec *)a)->name, ((const struct user_rec *)b)->name);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index of the user named name (normalized), or -1. */
static long
data_find_user(const struct users_data *d, const char *name)
{
	struct user_rec key = {.name = (char *)name};
	const struct user_rec *r = d->nusers > 0
	    ? bsearch(&key, d->users, d->nusers, sizeof(*d->users), user_cmp)
	    : NULL;
	return r != NULL ? (long)(r - d->users) : -1;
}

static long
data_find_domain(const struct users_data *d, const char *name)
{
	char *const *r =
	    d->ndomains > 0 ? bsearch(&name, d->domains, d->ndomains, sizeof(char *), str_cmp) : NULL;
	return r != NULL ? (long)(r - d->domains) : -1;
}

/* --- reading -------------------------------------------------------------- */

/* Splits line into at most max space-separated fields. Returns the count. */
static size_t
split_fields(char *line, size_t len, const char **f, size_t *fl, size_t max)
{
	size_t n = 0, i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && line[j] != ' ')
			j++;
		if (n == max)
			return max + 1;
		f[n] = line + i;
		fl[n] = j - i;
		n++;
		i = j + 1;
	}
	return n;
}

/*
 * Parses a users.db (users true) or domains.db text into d. 0, or -1
 * with errno EINVAL after logging the bad line.
 */
static int
parse_file(const char *path, char *buf, size_t len, bool users, struct users_data *d)
{
	size_t lineno = 0;
	char *p = buf, *end = buf + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = p;
		p += ll + 1;
		lineno++;
		if (ll == 0 || line[0] == '#')
			continue;
		const char *f[3];
		size_t fl[3];
		size_t nf = split_fields(line, ll, f, fl, users ? 3 : 1);
		bool ok = users ? nf >= 2 && nf <= 3 : nf == 1;
		char *a = NULL, *b = NULL;
		uint64_t quota = 0;
		if (ok) {
			a = storefile_esc_read(f[0], fl[0]);
			b = users ? storefile_esc_read(f[1], fl[1]) : NULL;
			ok = a != NULL && a[0] != '\0' && (!users || b != NULL);
		}
		if (ok && users && nf == 3) {
			char *e;
			char q[24];
			ok = fl[2] > 0 && fl[2] < sizeof(q);
			if (ok) {
				memcpy(q, f[2], fl[2]);
				q[fl[2]] = '\0';
				errno = 0;
				unsigned long long v = strtoull(q, &e, 10);
				ok = errno == 0 && *e == '\0' && isdigit((unsigned char)q[0]);
				quota = v;
			}
		}
		if (!ok) {
			free(a);
			password_free(b);
			log_error(NULL, "event=users_file_error file=%s line=%zu msg=\"malformed line\"",
			    path, lineno);
			data_clear(d);
			errno = EINVAL;
			return -1;
		}
		if (users) {
			d->users = xreallocarray(d->users, d->nusers + 1, sizeof(*d->users));
			d->users[d->nusers++] = (struct user_rec){.name = a, .hash = b, .quota = quota};
		} else {
			d->domains = xreallocarray(d->domains, d->ndomains + 1, sizeof(char *));
			d->domains[d->ndomains++] = a;
		}
	}
	if (users && d->nusers > 0)
		qsort(d->users, d->nusers, sizeof(*d->users), user_cmp);
	if (!users && d->ndomains > 0)
		qsort(d->domains, d->ndomains, sizeof(char *), str_cmp);
	return 0;
}

/* Reads one file (users or domains part) into d. 0 or -1 with errno. */
static int
load_file(const char *path, bool users, struct users_data *d)
{
	char *buf;
	size_t len;
	int rc = storefile_read(path, FILE_MAX, &buf, &len);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;
	rc = parse_file(path, buf, len, users, d);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

/*
 * With the lock of f held: rereads f if it is more than a second since the last
 * check and the file changed. A file that cannot be read or parsed keeps
 * the cached contents.
 */
static void
refresh(struct users *u, struct cached_file *f, bool users)
{
	struct storefile_key k;
	if (!storefile_changed(f->path, &f->key, &f->checked, &k))
		return;
	struct users_data nd = {0};
	if (load_file(f->path, users, &nd) < 0) {
		log_error(NULL, "event=users_reload_failed file=%s error=\"%s\"", f->path,
		    strerror(errno));
		return;
	}
	f->key = k;
	if (users) {
		struct users_data old = {.users = u->data.users, .nusers = u->data.nusers};
		u->data.users = nd.users;
		u->data.nusers = nd.nusers;
		data_clear(&old);
	} else {
		struct users_data old = {.domains = u->data.domains, .ndomains = u->data.ndomains};
		u->data.domains = nd.domains;
		u->data.ndomains = nd.ndomains;
		data_clear(&old);
	}
	log_info(NULL, "event=users_reload file=%s entries=%zu", f->path,
	    users ? u->data.nusers : u->data.ndomains);
}

/* --- open / free ---------------------------------------------------------- */

struct users *
users_open(const char *data_dir, const struct users_opts *opts)
{
	struct users *u = xcalloc(1, sizeof(*u));
	u->dir = xasprintf("%s/users", data_dir);
	u->lock_path = xasprintf("%s/lock", u->dir);
	u->fusers.path = xasprintf("%s/users.db", u->dir);
	u->fdomains.path = xasprintf("%s/domains.db", u->dir);
	if (opts != NULL)
		u->opts = *opts;
	u->iterations = u->opts.iterations > 0 ? u->opts.iterations : PASSWORD_DEFAULT_ITERATIONS;
	pthread_mutex_init(&u->ulock, NULL);
	pthread_mutex_init(&u->dlock, NULL);
	/* A well-formed hash no password matches (its key is all zero bytes,
	 * which PBKDF2 does not produce in practice): checking it costs what
	 * checking a real user's hash costs. */
	char zeros[89];
	memset(zeros, 'A', 86);
	memcpy(zeros + 86, "==", 3);
	u->dummy_hash = xasprintf("{PBKDF2-SHA512}%u$AAAAAAAAAAAAAAAAAAAAAA==$%s", u->iterations,
	    zeros);
	return u;
}

void
users_free(struct users *u)
{
	if (u == NULL)
		return;
	data_clear(&u->data);
	free(u->fusers.path);
	free(u->fdomains.path);
	free(u->lock_path);
	free(u->dir);
	free(u->dummy_hash);
	pthread_mutex_destroy(&u->ulock);
	pthread_mutex_destroy(&u->dlock);
	free(u);
}

/* --- names ---------------------------------------------------------------- */

static bool
local_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("@+:%/\"\\,;<>()[]", c) == NULL;
}

enum users_rc
users_name_check(const struct users *u, const char *name, size_t len, char *out, size_t outsz)
{
	const char *at = memchr(name, '@', len);
	size_t ll = at != NULL ? (size_t)(at - name) : len;
	if (len == 0 || len >= outsz || len > USERS_NAME_MAX || ll == 0 || ll > LOCAL_MAX)
		return USERS_BAD_NAME;
	if ((at != NULL) != u->opts.virtual_hosting)
		return USERS_BAD_NAME;
	for (size_t i = 0; i < ll; i++)
		if (!local_char_ok((unsigned char)name[i]))
			return USERS_BAD_NAME;
	if (at != NULL && !dname_ok(at + 1, len - ll - 1))
		return USERS_BAD_NAME;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[len] = '\0';
	return USERS_OK;
}

static bool
configured_domain(const struct users *u, const char *d, size_t len)
{
	for (size_t i = 0; i < u->opts.ndomains; i++)
		if (strlen(u->opts.domains[i]) == len && strncasecmp(u->opts.domains[i], d, len) == 0)
			return true;
	return false;
}

/* Lower-cases d[0..len) into out (USERS_DOMAIN_MAX + 1 bytes); false if too long. */
static bool
lower_domain(const char *d, size_t len, char *out)
{
	if (len == 0 || len > USERS_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)d[i]);
	out[len] = '\0';
	return true;
}

/* --- lookups -------------------------------------------------------------- */

bool
users_domain_added(struct users *u, const char *domain, size_t len)
{
	char d[USERS_DOMAIN_MAX + 1];
	if (u == NULL || !lower_domain(domain, len, d))
		return false;
	pthread_mutex_lock(&u->dlock);
	refresh(u, &u->fdomains, false);
	bool found = data_find_domain(&u->data, d) >= 0;
	pthread_mutex_unlock(&u->dlock);
	return found;
}

bool
users_domain_is_local(struct users *u, const char *domain, size_t len)
{
	return configured_domain(u, domain, len) || users_domain_added(u, domain, len);
}

bool
users_exists(struct users *u, const char *name, size_t len)
{
	char n[USERS_NAME_MAX + 1];
	if (users_name_check(u, name, len, n, sizeof(n)) != USERS_OK)
		return false;
	pthread_mutex_lock(&u->ulock);
	refresh(u, &u->fusers, true);
	bool found = data_find_user(&u->data, n) >= 0;
	pthread_mutex_unlock(&u->ulock);
	return found;
}

bool
users_quota(struct users *u, const char *name, size_t len, uint64_t *quota)
{
	char n[USERS_NAME_MAX + 1];
	if (users_name_check(u, name, len, n, sizeof(n)) != USERS_OK)
		return false;
	pthread_mutex_lock(&u->ulock);
	refresh(u, &u->fusers, true);
	long i = data_find_user(&u->data, n);
	if (i >= 0)
		*quota = u->data.users[i].quota;
	pthread_mutex_unlock(&u->ulock);
	return i >= 0;
}

bool
users_recipient_user(struct users *u, const char *local, size_t llen, const char *domain,
    size_t dlen, char *out, size_t outsz)
{
	char n[USERS_NAME_MAX + 2];
	/* Sub-addressing: "bob+tag" is bob's (james.md 1g.2). */
	const char *plus = memchr(local, '+', llen);
	if (plus != NULL)
		llen = (size_t)(plus - local);
	if (llen == 0 || dlen == 0 || !users_domain_is_local(u, domain, dlen))
		return false;
	int k;
	if (u->opts.virtual_hosting)
		k = snprintf(n, sizeof(n), "%.*s@%.*s", (int)llen, local, (int)dlen, domain);
	else
		k = snprintf(n, sizeof(n), "%.*s", (int)llen, local);
	if (k < 0 || (size_t)k >= sizeof(n) || !users_exists(u, n, (size_t)k))
		return false;
	if ((size_t)k >= outsz)
		return false;
	for (int i = 0; i <= k; i++)
		out[i] = (char)tolower((unsigned char)n[i]);
	return true;
}

bool
users_is_admin(const struct users *u, const char *name, size_t len)
{
	for (size_t i = 0; i < u->opts.nadmins; i++)
		if (strlen(u->opts.admins[i]) == len && strncasecmp(u->opts.admins[i], name, len) == 0)
			return true;
	return false;
}

enum users_auth
users_verify(struct users *u, const char *name, size_t nlen, const char *pw, size_t pwlen)
{
	char n[USERS_NAME_MAX + 1];
	char *hash = NULL;
	bool known = users_name_check(u, name, nlen, n, sizeof(n)) == USERS_OK;

	if (known) {
		pthread_mutex_lock(&u->ulock);
		refresh(u, &u->fusers, true);
		long i = data_find_user(&u->data, n);
		if (i >= 0)
			hash = xstrdup(u->data.users[i].hash);
		pthread_mutex_unlock(&u->ulock);
	}
	if (hash == NULL) {
		/* Unknown user: spend the same time, then fail. */
		(void)password_verify(u->dummy_hash, NULL, pw, pwlen);
		return USERS_AUTH_FAIL;
	}
	enum password_rc rc = password_verify(hash, n, pw, pwlen);
	password_free(hash);
	if (rc == PASSWORD_BADHASH) {
		log_error(NULL, "event=auth_bad_hash user=%s msg=\"stored hash not usable\"", n);
		return USERS_AUTH_ERROR;
	}
	return rc == PASSWORD_OK ? USERS_AUTH_OK : USERS_AUTH_FAIL;
}

/* --- asynchronous verification --------------------------------------- */

struct verify_job {
	struct users *u;
	struct event_base *base;
	char *name;
	char *pw;
	size_t pwlen;
	enum users_auth result;
	users_verify_cb *cb;
	void *arg;
};

static void
verify_work(void *p)
{
	struct verify_job *j = p;
	j->result = users_verify(j->u, j->name, strlen(j->name), j->pw, j->pwlen);
	OPENSSL_cleanse(j->pw, j->pwlen);
	free(j->pw);
	j->pw = NULL;
}

static void
verify_finish(evutil_socket_t fd, short what, void *p)
{
	struct verify_job *j = p;
	char n[USERS_NAME_MAX + 1];
	(void)fd;
	(void)what;
	if (users_name_check(j->u, j->name, strlen(j->name), n, sizeof(n)) != USERS_OK)
		snprintf(n, sizeof(n), "%s", j->name);
	j->cb(j->arg, j->result, n);
	free(j->name);
	free(j);
}

/* On the base's thread: report now, or after the failure delay. */
static void
verify_done(void *p)
{
	struct verify_job *j = p;
	unsigned ms = j->u->opts.failure_delay_ms;
	if (j->result == USERS_AUTH_OK || ms == 0) {
		verify_finish(-1, 0, j);
		return;
	}
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	if (event_base_once(j->base, -1, EV_TIMEOUT, verify_finish, j, &tv) != 0)
		verify_finish(-1, 0, j);
}

int
users_verify_async(struct users *u, struct worker_pool *pool, struct event_base *base,
    const char *name, size_t nlen, const char *pw, size_t pwlen, users_verify_cb *cb, void *arg)
{
	struct verify_job *j = xcalloc(1, sizeof(*j));
	j->u = u;
	j->base = base;
	j->name = xstrndup(name, nlen);
	j->pw = xmalloc(pwlen + 1);
	memcpy(j->pw, pw, pwlen);
	j->pw[pwlen] = '\0';
	j->pwlen = pwlen;
	j->cb = cb;
	j->arg = arg;
	if (worker_submit(pool, verify_work, verify_done, j, base) < 0) {
		OPENSSL_cleanse(j->pw, pwlen);
		free(j->pw);
		free(j->name);
		free(j);
		return -1;
	}
	return 0;
}

/* --- listing ---------------------------------------------------------------- */

long
users_list(struct users *u, void (*fn)(void *arg, const struct users_entry *e), void *arg)
{
	struct users_data d = {0};
	if (load_file(u->fusers.path, true, &d) < 0)
		return -1;
	for (size_t i = 0; i < d.nusers; i++) {
		struct users_entry e = {.name = d.users[i].name, .quota = d.users[i].quota};
		fn(arg, &e);
	}
	long n = (long)d.nusers;
	data_clear(&d);
	return n;
}

long
users_domain_list(struct users *u, void (*fn)(void *arg, const char *domain), void *arg)
{
	struct users_data d = {0};
	if (load_file(u->fdomains.path, false, &d) < 0)
		return -1;
	for (size_t i = 0; i < d.ndomains; i++)
		fn(arg, d.domains[i]);
	long n = (long)d.ndomains;
	data_clear(&d);
	return n;
}

/* --- transactions ------------------------------------------------------------ */

struct users_tx *
users_tx_begin(struct users *u)
{
	int fd = storefile_lock(u->dir, u->lock_path);
	if (fd < 0)
		return NULL;
	struct users_tx *tx = xcalloc(1, sizeof(*tx));
	tx->u = u;
	tx->lockfd = fd;
	struct users_data d = {0};
	if (load_file(u->fusers.path, true, &tx->data) < 0 ||
	    load_file(u->fdomains.path, false, &d) < 0) {
		int e = errno;
		users_tx_abort(tx);
		data_clear(&d);
		errno = e;
		return NULL;
	}
	tx->data.domains = d.domains;
	tx->data.ndomains = d.ndomains;
	return tx;
}

void
users_tx_abort(struct users_tx *tx)
{
	if (tx == NULL)
		return;
	data_clear(&tx->data);
	close(tx->lockfd); /* releases the flock */
	free(tx);
}

/* Checks a name in a transaction: syntax, and the domain is local. */
static enum users_rc
tx_name(struct users_tx *tx, const char *name, char *out, size_t outsz)
{
	enum users_rc rc = users_name_check(tx->u, name, strlen(name), out, outsz);
	if (rc != USERS_OK || !tx->u->opts.virtual_hosting)
		return rc;
	const char *d = strchr(out, '@') + 1;
	if (!configured_domain(tx->u, d, strlen(d)) && data_find_domain(&tx->data, d) < 0)
		return USERS_NOT_LOCAL;
	return USERS_OK;
}

enum users_rc
users_tx_put(struct users_tx *tx, const char *name, const char *hash, enum users_put mode)
{
	char n[USERS_NAME_MAX + 1];
	enum users_rc rc = tx_name(tx, name, n, sizeof(n));
	if (rc != USERS_OK)
		return rc;
	if (!password_hash_valid(hash))
		return USERS_BAD_HASH;
	for (const char *p = hash; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return USERS_BAD_HASH;
	struct users_data *d = &tx->data;
	long i = data_find_user(d, n);
	if (i >= 0 && mode == USERS_PUT_NEW)
		return USERS_EXISTS;
	if (i < 0 && mode == USERS_PUT_EXISTING)
		return USERS_NOT_FOUND;
	if (i >= 0) {
		password_free(d->users[i].hash);
		d->users[i].hash = xstrdup(hash);
	} else {
		d->users = xreallocarray(d->users, d->nusers + 1, sizeof(*d->users));
		d->users[d->nusers++] = (struct user_rec){.name = xstrdup(n), .hash = xstrdup(hash)};
		qsort(d->users, d->nusers, sizeof(*d->users), user_cmp);
	}
	tx->users_changed = true;
	return USERS_OK;
}

enum users_rc
users_tx_del(struct users_tx *tx, const char *name)
{
	char n[USERS_NAME_MAX + 1];
	if (users_name_check(tx->u, name, strlen(name), n, sizeof(n)) != USERS_OK)
		return USERS_BAD_NAME;
	struct users_data *d = &tx->data;
	long i = data_find_user(d, n);
	if (i < 0)
		return USERS_NOT_FOUND;
	free(d->users[i].name);
	password_free(d->users[i].hash);
	memmove(&d->users[i], &d->users[i + 1], (d->nusers - (size_t)i - 1) * sizeof(*d->users));
	d->nusers--;
	tx->users_changed = true;
	return USERS_OK;
}

enum users_rc
users_tx_quota(struct users_tx *tx, const char *name, uint64_t quota)
{
	char n[USERS_NAME_MAX + 1];
	if (users_name_check(tx->u, name, strlen(name), n, sizeof(n)) != USERS_OK)
		return USERS_BAD_NAME;
	long i = data_find_user(&tx->data, n);
	if (i < 0)
		return USERS_NOT_FOUND;
	tx->data.users[i].quota = quota;
	tx->users_changed = true;
	return USERS_OK;
}

enum users_rc
users_tx_domain_add(struct users_tx *tx, const char *domain)
{
	char d[USERS_DOMAIN_MAX + 1];
	size_t len = strlen(domain);
	if (!dname_ok(domain, len) || !lower_domain(domain, len, d))
		return USERS_BAD_NAME;
	if (configured_domain(tx->u, d, len) || data_find_domain(&tx->data, d) >= 0)
		return USERS_EXISTS;
	struct users_data *x = &tx->data;
	x->domains = xreallocarray(x->domains, x->ndomains + 1, sizeof(char *));
	x->domains[x->ndomains++] = xstrdup(d);
	qsort(x->domains, x->ndomains, sizeof(char *), str_cmp);
	tx->domains_changed = true;
	return USERS_OK;
}

enum users_rc
users_tx_domain_del(struct users_tx *tx, const char *domain)
{
	char d[USERS_DOMAIN_MAX + 1];
	size_t len = strlen(domain);
	if (!dname_ok(domain, len) || !lower_domain(domain, len, d))
		return USERS_BAD_NAME;
	struct users_data *x = &tx->data;
	long i = data_find_domain(x, d);
	if (i < 0)
		return USERS_NOT_FOUND;
	if (tx->u->opts.virtual_hosting && !configured_domain(tx->u, d, len)) {
		for (size_t k = 0; k < x->nusers; k++) {
			const char *at = strchr(x->users[k].name, '@');
			if (at != NULL && strcmp(at + 1, d) == 0)
				return USERS_IN_USE;
		}
	}
	free(x->domains[i]);
	memmove(&x->domains[i], &x->domains[i + 1],
	    (x->ndomains - (size_t)i - 1) * sizeof(char *));
	x->ndomains--;
	tx->domains_changed = true;
	return USERS_OK;
}

static void
write_users(FILE *f, const void *arg)
{
	const struct users_data *d = arg;
	for (size_t i = 0; i < d->nusers; i++) {
		storefile_esc_write(f, d->users[i].name);
		fputc(' ', f);
		storefile_esc_write(f, d->users[i].hash);
		if (d->users[i].quota > 0)
			fprintf(f, " %llu", (unsigned long long)d->users[i].quota);
		fputc('\n', f);
	}
}

static void
write_domains(FILE *f, const void *arg)
{
	const struct users_data *d = arg;
	for (size_t i = 0; i < d->ndomains; i++) {
		storefile_esc_write(f, d->domains[i]);
		fputc('\n', f);
	}
}

/* Writes d's users or domains to path atomically (tmp, fsync, rename). */
static int
write_file(struct users *u, const char *path, bool users, const struct users_data *d)
{
	return storefile_write(u->dir, path, users ? USERS_HEADER : DOMAINS_HEADER,
	    users ? write_users : write_domains, d);
}

int
users_tx_commit(struct users_tx *tx)
{
	int rc = 0, e = 0;
	if (tx->domains_changed && write_file(tx->u, tx->u->fdomains.path, false, &tx->data) < 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && tx->users_changed &&
	    write_file(tx->u, tx->u->fusers.path, true, &tx->data) < 0) {
		rc = -1;
		e = errno;
	}
	/* This process's own cache must see the change at once. */
	pthread_mutex_lock(&tx->u->ulock);
	tx->u->fusers.checked = 0;
	pthread_mutex_unlock(&tx->u->ulock);
	pthread_mutex_lock(&tx->u->dlock);
	tx->u->fdomains.checked = 0;
	pthread_mutex_unlock(&tx->u->dlock);
	users_tx_abort(tx);
	errno = e;
	return rc;
}

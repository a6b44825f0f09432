/* rrt.c - the recipient rewrite table (see rrt.h). */
#include "rrt.h"

#include "../auth/users.h"
#include "../core/log.h"
#include "../core/storefile.h"
#include "../core/xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define RRT_HEADER "# mailetd rrt 1"
/* Largest store read. */
#define RRT_FILE_MAX (32u * 1024 * 1024)
/* Addresses rrt_is_alias_of visits at most. */
#define RRT_ALIAS_NODES 64

struct rrt_ent {
	char *source; /* normalized */
	struct rrt_target t;
	bool is_static;
};

/* Entries sorted by source, then target text. */
struct rrt_tab {
	struct rrt_ent *e;
	size_t n;
};

struct rrt {
	char *dir; /* <data>/users, NULL: no store */
	char *path;
	char *lock_path;
	bool recursive;
	unsigned limit;
	struct rrt_tab statics; /* immutable after rrt_open */
	pthread_mutex_t lock;   /* guards key, checked, stored */
	struct storefile_key key;
	time_t checked;
	struct rrt_tab stored;
};

struct rrt_tx {
	struct rrt *t;
	int lockfd;
	struct rrt_tab tab;
	bool changed;
};

/* --- tables ------------------------------------------------------------- */

static void
tab_clear(struct rrt_tab *tab)
{
	for (size_t i = 0; i < tab->n; i++) {
		free(tab->e[i].source);
		rrt_target_clear(&tab->e[i].t);
	}
	free(tab->e);
	tab->e = NULL;
	tab->n = 0;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct rrt_ent *x = a, *y = b;
	int c = strcmp(x->source, y->source);
	return c != 0 ? c : strcmp(x->t.text, y->t.text);
}

static void
tab_sort(struct rrt_tab *tab)
{
	if (tab->n > 1)
		qsort(tab->e, tab->n, sizeof(*tab->e), ent_cmp);
}

/* The entries of source: [*lo, *hi). */
static void
tab_range(const struct rrt_tab *tab, const char *source, size_t *lo, size_t *hi)
{
	size_t a = 0, b = tab->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (strcmp(tab->e[m].source, source) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (a < tab->n && strcmp(tab->e[a].source, source) == 0)
		a++;
	*hi = a;
}

/* Parses and appends (source, target); 0 or -1 with err. */
static int
tab_add(struct rrt_tab *tab, const char *source, const char *target, bool is_static, char *err,
    size_t errlen)
{
	char src[RRT_ADDR_MAX + 4];
	struct rrt_target t;
	if (rrt_source_parse(source, strlen(source), src, sizeof(src), err, errlen) < 0)
		return -1;
	if (rrt_target_parse(target, strlen(target), &t, err, errlen) < 0)
		return -1;
	tab->e = xreallocarray(tab->e, tab->n + 1, sizeof(*tab->e));
	tab->e[tab->n++] = (struct rrt_ent){.source = xstrdup(src), .t = t, .is_static = is_static};
	return 0;
}

/* --- the store file ----------------------------------------------------------- */

/*
 * Parses a store text into tab (sorted). 0, or -1 with errno EINVAL after
 * logging the bad line. Exposed to the fuzzer through rrt_store_parse.
 */
static int
store_parse(const char *path, const char *buf, size_t len, struct rrt_tab *tab)
{
	size_t lineno = 0;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char *line = p;
		p += ll + 1;
		lineno++;
		if (ll == 0 || line[0] == '#')
			continue;
		const char *sp = memchr(line, ' ', ll);
		char *src = NULL, *tgt = NULL;
		char err[200] = "malformed line";
		bool ok = sp != NULL && sp != line &&
		          memchr(sp + 1, ' ', ll - (size_t)(sp - line) - 1) == NULL;
		if (ok) {
			src = storefile_esc_read(line, (size_t)(sp - line));
			tgt = storefile_esc_read(sp + 1, ll - (size_t)(sp - line) - 1);
			ok = src != NULL && tgt != NULL &&
			     tab_add(tab, src, tgt, false, err, sizeof(err)) == 0;
		}
		free(src);
		free(tgt);
		if (!ok) {
			char q[240];
			log_error(NULL, "event=rrt_file_error file=%s line=%zu msg=%s", path,
			    lineno, log_quote(q, sizeof(q), err, strlen(err)));
			tab_clear(tab);
			errno = EINVAL;
			return -1;
		}
	}
	tab_sort(tab);
	return 0;
}

/* Reads the store into tab; a missing file is an empty store. 0 or -1. */
static int
store_load(const char *path, struct rrt_tab *tab)
{
	char *b;
	size_t n;
	int rc = storefile_read(path, RRT_FILE_MAX, &b, &n);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = store_parse(path, b, n, tab);
	free(b);
	return rc;
}

/* With t->lock held: rereads the store if it changed (at most one stat a second). */
static void
refresh(struct rrt *t)
{
	if (t->path == NULL)
		return;
	struct storefile_key k;
	if (!storefile_changed(t->path, &t->key, &t->checked, &k))
		return;
	struct rrt_tab nt = {0};
	if (k.exists && store_load(t->path, &nt) < 0) {
		log_error(
		    NULL, "event=rrt_reload_failed file=%s error=\"%s\"", t->path, strerror(errno));
		return;
	}
	t->key = k;
	tab_clear(&t->stored);
	t->stored = nt;
	log_info(NULL, "event=rrt_reload file=%s mappings=%zu", t->path, t->stored.n);
}

/* --- open / free ----------------------------------------------------------- */

struct rrt *
rrt_open(const char *data_dir, const struct rrt_opts *opts)
{
	struct rrt *t = xcalloc(1, sizeof(*t));
	if (data_dir != NULL) {
		t->dir = xasprintf("%s/users", data_dir);
		t->path = xasprintf("%s/rrt.db", t->dir);
		t->lock_path = xasprintf("%s/rrt.lock", t->dir);
	}
	t->recursive = opts != NULL ? opts->recursive : true;
	t->limit = opts != NULL ? opts->limit : 10;
	if (t->limit < 1)
		t->limit = 1;
	if (t->limit > RRT_LIMIT_MAX)
		t->limit = RRT_LIMIT_MAX;
	for (size_t i = 0; opts != NULL && i < opts->nstatics; i++) {
		char err[200];
		if (tab_add(&t->statics, opts->statics[i].source, opts->statics[i].target, true,
		        err, sizeof(err)) < 0)
			log_error(NULL, "event=rrt_static_skipped msg=\"%s\"", err);
	}
	tab_sort(&t->statics);
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void
rrt_free(struct rrt *t)
{
	if (t == NULL)
		return;
	tab_clear(&t->statics);
	tab_clear(&t->stored);
	pthread_mutex_destroy(&t->lock);
	free(t->dir);
	free(t->path);
	free(t->lock_path);
	free(t);
}

/* --- lookup ------------------------------------------------------------------ */

/* The entries found for one address. */
struct hits {
	const struct rrt_ent **e;
	size_t n;
};

static void
hits_range(struct hits *h, const struct rrt_tab *tab, const char *key)
{
	size_t lo, hi;
	tab_range(tab, key, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		h->e = xreallocarray(h->e, h->n + 1, sizeof(*h->e));
		h->e[h->n++] = &tab->e[i];
	}
}

/* With the lock held: the entries of key in the store and the static table. */
static void
hits_key(const struct rrt *t, struct hits *h, const char *key)
{
	hits_range(h, &t->stored, key);
	hits_range(h, &t->statics, key);
}

/*
 * With the lock held: the mappings of addr (lower case local@domain) in
 * lookup order. all_classes: every class, not only the first that has
 * mappings (used by rrt_is_alias_of). Caller frees h->e.
 */
static void
lookup_locked(const struct rrt *t, const char *addr, struct hits *h, bool all_classes)
{
	char key[RRT_ADDR_MAX + 8];
	const char *at = strrchr(addr, '@');
	h->e = NULL;
	h->n = 0;
	if (at == NULL)
		return;
	size_t ll = (size_t)(at - addr);
	const char *domain = at + 1;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			/* Sub-addressing: bob+tag@ is bob@ when bob+tag@ has no mapping. */
			const char *plus = memchr(addr, '+', ll);
			if (plus == NULL || plus == addr)
				return;
			ll = (size_t)(plus - addr);
		}
		snprintf(key, sizeof(key), "%.*s@%s", (int)ll, addr, domain);
		hits_key(t, h, key);
		if (h->n > 0 && !all_classes)
			return;
		snprintf(key, sizeof(key), "*@%s", domain);
		if (pass == 0)
			hits_key(t, h, key);
		if (h->n > 0 && !all_classes)
			return;
		snprintf(key, sizeof(key), "%.*s@*", (int)ll, addr);
		hits_key(t, h, key);
		if (h->n > 0)
			return;
	}
}

/* Normalizes an address for lookup: local@domain, lower case. */
static bool
norm_addr(const char *addr, size_t len, char *out, size_t outsz)
{
	const char *at = len > 0 ? memchr(addr, '@', len) : NULL;
	if (at == NULL || at == addr || (size_t)(at - addr) == len - 1)
		return false;
	if (memchr(addr, '\0', len) != NULL || len >= outsz || len > RRT_ADDR_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)addr[i]);
	out[len] = '\0';
	return true;
}

size_t
rrt_lookup(struct rrt *t, const char *addr, size_t len,
    void (*fn)(void *arg, const char *source, const char *target, enum rrt_type type), void *arg)
{
	char a[RRT_ADDR_MAX + 1];
	if (t == NULL || !norm_addr(addr, len, a, sizeof(a)))
		return 0;
	pthread_mutex_lock(&t->lock);
	refresh(t);
	struct hits h;
	lookup_locked(t, a, &h, false);
	for (size_t i = 0; i < h.n && fn != NULL; i++)
		fn(arg, h.e[i]->source, h.e[i]->t.text, h.e[i]->t.type);
	pthread_mutex_unlock(&t->lock);
	free(h.e);
	return h.n;
}

/* --- resolution --------------------------------------------------------------- */

struct rctx {
	const struct rrt *t;
	struct rrt_result *res;
	unsigned work;
	const char *path[RRT_LIMIT_MAX + 2]; /* the chain being followed */
	size_t depth;
	enum rrt_status stop; /* RRT_LOOP / RRT_TOO_MANY, or 0 */
};

static void
stop_at(struct rctx *c, enum rrt_status st, const char *addr)
{
	c->stop = st;
	free(c->res->loop_at);
	c->res->loop_at = xstrdup(addr);
}

static void
add_addr(struct rctx *c, const char *addr, enum rrt_type via)
{
	struct rrt_result *r = c->res;
	for (size_t i = 0; i < r->naddrs; i++)
		if (strcmp(r->addrs[i].addr, addr) == 0)
			return;
	if (r->naddrs >= RRT_MAX_TARGETS) {
		stop_at(c, RRT_TOO_MANY, addr);
		return;
	}
	r->addrs = xreallocarray(r->addrs, r->naddrs + 1, sizeof(*r->addrs));
	r->addrs[r->naddrs++] = (struct rrt_addr){.addr = xstrdup(addr), .via = via};
}

static void
add_error(struct rctx *c, const char *text)
{
	struct rrt_result *r = c->res;
	for (size_t i = 0; i < r->nerrors; i++)
		if (strcmp(r->errors[i], text) == 0)
			return;
	if (r->nerrors >= RRT_MAX_TARGETS) {
		stop_at(c, RRT_TOO_MANY, text);
		return;
	}
	r->errors = xreallocarray(r->errors, r->nerrors + 1, sizeof(*r->errors));
	r->errors[r->nerrors++] = xstrdup(text[0] != '\0' ? text : "Mapping error");
}

/* Sorts hits into James's type order (stable). */
static void
hits_sort(struct hits *h)
{
	for (size_t i = 1; i < h->n; i++) {
		const struct rrt_ent *x = h->e[i];
		size_t j = i;
		while (j > 0 && rrt_type_rank(h->e[j - 1]->t.type) > rrt_type_rank(x->t.type)) {
			h->e[j] = h->e[j - 1];
			j--;
		}
		h->e[j] = x;
	}
}

/*
 * What target e makes of addr (local@domain): 1 with the new address in
 * out, 0 if it gives nothing (a regex that does not match, a result that
 * is not an address).
 */
static int
rewrite(const struct rrt_target *tg, const char *addr, char *out, size_t outsz)
{
	char tmp[RRT_ADDR_MAX + 1];
	const char *at = strrchr(addr, '@');
	int n;
	switch (tg->type) {
	case RRT_T_DOMAIN:
	case RRT_T_DOMAIN_ALIAS:
		n = snprintf(tmp, sizeof(tmp), "%.*s@%s", (int)(at - addr), addr, tg->value);
		break;
	case RRT_T_REGEX:
		if (!rrt_regex_apply(tg, addr, tmp, sizeof(tmp)))
			return 0;
		n = (int)strlen(tmp);
		break;
	case RRT_T_ERROR:
		return 0;
	default:
		n = snprintf(tmp, sizeof(tmp), "%s", tg->value);
		break;
	}
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return 0;
	/* No domain: the domain of the address rewritten (James's
	 * withDefaultDomainFromUser). */
	if (strchr(tmp, '@') == NULL) {
		char full[RRT_ADDR_MAX + 2];
		int k = snprintf(full, sizeof(full), "%s%s", tmp, at);
		if (k < 0 || (size_t)k >= sizeof(full))
			return 0;
		return rrt_address_ok(full, (size_t)k, out, outsz) ? 1 : 0;
	}
	return rrt_address_ok(tmp, strlen(tmp), out, outsz) ? 1 : 0;
}

/*
 * Resolves addr (on c->path at c->depth) into c->res. True if some
 * mapping applied to it.
 */
static bool
resolve_addr(struct rctx *c, const char *addr)
{
	if (++c->work > RRT_MAX_WORK) {
		stop_at(c, RRT_TOO_MANY, addr);
		return true;
	}
	struct hits h;
	lookup_locked(c->t, addr, &h, false);
	hits_sort(&h);
	bool produced = false;
	for (size_t i = 0; i < h.n && c->stop == 0; i++) {
		const struct rrt_target *tg = &h.e[i]->t;
		char r[RRT_ADDR_MAX + 1];
		if (tg->type == RRT_T_ERROR) {
			add_error(c, tg->value);
			produced = true;
			continue;
		}
		if (!rewrite(tg, addr, r, sizeof(r)))
			continue;
		produced = true;
		if (!c->t->recursive || strcmp(r, addr) == 0) {
			add_addr(c, r, tg->type);
			continue;
		}
		for (size_t k = 0; k <= c->depth; k++) {
			if (strcmp(c->path[k], r) == 0) {
				stop_at(c, RRT_LOOP, r);
				break;
			}
		}
		if (c->stop != 0)
			break;
		if (c->depth + 1 > c->t->limit) {
			stop_at(c, RRT_TOO_MANY, r);
			break;
		}
		c->path[++c->depth] = r;
		bool sub = resolve_addr(c, r);
		c->depth--;
		if (!sub && c->stop == 0)
			add_addr(c, r, tg->type);
	}
	free(h.e);
	return produced;
}

void
rrt_result_clear(struct rrt_result *res)
{
	if (res == NULL)
		return;
	for (size_t i = 0; i < res->naddrs; i++)
		free(res->addrs[i].addr);
	free(res->addrs);
	for (size_t i = 0; i < res->nerrors; i++)
		free(res->errors[i]);
	free(res->errors);
	free(res->loop_at);
	memset(res, 0, sizeof(*res));
}

enum rrt_status
rrt_resolve(struct rrt *t, const char *addr, size_t len, struct rrt_result *res)
{
	char a[RRT_ADDR_MAX + 1];
	memset(res, 0, sizeof(*res));
	if (!norm_addr(addr, len, a, sizeof(a)))
		return res->status = RRT_BAD_ADDRESS;
	if (t == NULL)
		return res->status = RRT_UNMAPPED;
	struct rctx c = {.t = t, .res = res};
	c.path[0] = a;
	pthread_mutex_lock(&t->lock);
	refresh(t);
	bool mapped = resolve_addr(&c, a);
	pthread_mutex_unlock(&t->lock);
	if (c.stop != 0)
		res->status = c.stop;
	else if (mapped && (res->naddrs > 0 || res->nerrors > 0))
		res->status = RRT_MAPPED;
	else
		res->status = RRT_UNMAPPED;
	return res->status;
}

const char *
rrt_status_text(enum rrt_status st)
{
	switch (st) {
	case RRT_UNMAPPED:
		return "no mapping";
	case RRT_MAPPED:
		return "mapped";
	case RRT_LOOP:
		return "mapping loop";
	case RRT_TOO_MANY:
		return "too many mappings to process";
	case RRT_BAD_ADDRESS:
		return "not an address";
	}
	return "?";
}

/* --- aliases ---------------------------------------------------------------- */

bool
rrt_is_alias_of(
    struct rrt *t, struct users *users, const char *sender, size_t len, const char *user)
{
	char(*nodes)[RRT_ADDR_MAX + 1];
	unsigned depth[RRT_ALIAS_NODES];
	size_t n = 1;
	if (t == NULL || users == NULL || user == NULL)
		return false;
	nodes = xmalloc(RRT_ALIAS_NODES * sizeof(*nodes));
	if (!norm_addr(sender, len, nodes[0], sizeof(nodes[0]))) {
		free(nodes);
		return false;
	}
	depth[0] = 0;
	unsigned max_depth = t->recursive ? t->limit : 1;
	bool found = false;
	for (size_t i = 0; i < n && !found; i++) {
		char u[USERS_NAME_MAX + 1];
		const char *at = strrchr(nodes[i], '@');
		if (i > 0 &&
		    users_recipient_user(users, nodes[i], (size_t)(at - nodes[i]), at + 1,
		        strlen(at + 1), u, sizeof(u)) &&
		    strcasecmp(u, user) == 0) {
			found = true;
			break;
		}
		if (depth[i] >= max_depth)
			continue;
		pthread_mutex_lock(&t->lock);
		refresh(t);
		struct hits h;
		lookup_locked(t, nodes[i], &h, true);
		for (size_t k = 0; k < h.n && n < RRT_ALIAS_NODES; k++) {
			const struct rrt_target *tg = &h.e[k]->t;
			char r[RRT_ADDR_MAX + 1];
			if (tg->type != RRT_T_ALIAS && tg->type != RRT_T_DOMAIN_ALIAS)
				continue;
			if (!rewrite(tg, nodes[i], r, sizeof(r)))
				continue;
			bool seen = false;
			for (size_t m = 0; m < n && !seen; m++)
				seen = strcmp(nodes[m], r) == 0;
			if (seen)
				continue;
			memcpy(nodes[n], r, strlen(r) + 1);
			depth[n++] = depth[i] + 1;
		}
		pthread_mutex_unlock(&t->lock);
		free(h.e);
	}
	free(nodes);
	return found;
}

/* --- listing -------------------------------------------------------------------- */

long
rrt_list(struct rrt *t, const char *source, void (*fn)(void *arg, const struct rrt_entry_view *e),
    void *arg)
{
	struct rrt_tab st = {0};
	if (t->path != NULL && store_load(t->path, &st) < 0)
		return -1;
	long n = 0;
	/* Merge the two sorted tables. */
	size_t i = 0, j = 0;
	while (i < st.n || j < t->statics.n) {
		const struct rrt_ent *e;
		if (j >= t->statics.n || (i < st.n && ent_cmp(&st.e[i], &t->statics.e[j]) <= 0))
			e = &st.e[i++];
		else
			e = &t->statics.e[j++];
		if (source != NULL && strcmp(e->source, source) != 0)
			continue;
		struct rrt_entry_view v = {.source = e->source,
		    .target = e->t.text,
		    .type = e->t.type,
		    .is_static = e->is_static};
		fn(arg, &v);
		n++;
	}
	tab_clear(&st);
	return n;
}

/* --- changes ------------------------------------------------------------------- */

const char *
rrt_strerror(enum rrt_rc rc)
{
	switch (rc) {
	case RRT_OK:
		return "ok";
	case RRT_EXISTS:
		return "the mapping already exists";
	case RRT_NOT_FOUND:
		return "no such mapping";
	case RRT_STATIC:
		return "the mapping is defined in recipientrewritetable.xml; remove it there";
	case RRT_BAD:
		return "not a valid mapping";
	case RRT_NO_STORE:
		return "no data directory";
	case RRT_ERR:
		break;
	}
	return strerror(errno);
}

struct rrt_tx *
rrt_tx_begin(struct rrt *t)
{
	if (t->dir == NULL) {
		errno = ENOENT;
		return NULL;
	}
	int fd = storefile_lock(t->dir, t->lock_path);
	if (fd < 0)
		return NULL;
	struct rrt_tx *tx = xcalloc(1, sizeof(*tx));
	tx->t = t;
	tx->lockfd = fd;
	if (store_load(t->path, &tx->tab) < 0) {
		int e = errno;
		rrt_tx_abort(tx);
		errno = e;
		return NULL;
	}
	return tx;
}

void
rrt_tx_abort(struct rrt_tx *tx)
{
	if (tx == NULL)
		return;
	tab_clear(&tx->tab);
	close(tx->lockfd); /* releases the flock */
	free(tx);
}

/* Parses a (source, target) pair into its normalized texts. */
static enum rrt_rc
tx_norm(const char *source, const char *target, char *src, size_t srcsz, struct rrt_target *t,
    char *err, size_t errlen)
{
	if (rrt_source_parse(source, strlen(source), src, srcsz, err, errlen) < 0)
		return RRT_BAD;
	if (rrt_target_parse(target, strlen(target), t, err, errlen) < 0)
		return RRT_BAD;
	return RRT_OK;
}

/* Index of (src, text) in tab, or -1. */
static long
tab_find(const struct rrt_tab *tab, const char *src, const char *text)
{
	size_t lo, hi;
	tab_range(tab, src, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (strcmp(tab->e[i].t.text, text) == 0)
			return (long)i;
	return -1;
}

enum rrt_rc
rrt_tx_add(struct rrt_tx *tx, const char *source, const char *target, char *err, size_t errlen)
{
	char src[RRT_ADDR_MAX + 4];
	struct rrt_target t;
	enum rrt_rc rc = tx_norm(source, target, src, sizeof(src), &t, err, errlen);
	if (rc != RRT_OK)
		return rc;
	if (tab_find(&tx->tab, src, t.text) >= 0 || tab_find(&tx->t->statics, src, t.text) >= 0) {
		rrt_target_clear(&t);
		return RRT_EXISTS;
	}
	tx->tab.e = xreallocarray(tx->tab.e, tx->tab.n + 1, sizeof(*tx->tab.e));
	tx->tab.e[tx->tab.n++] = (struct rrt_ent){.source = xstrdup(src), .t = t};
	tab_sort(&tx->tab);
	tx->changed = true;
	return RRT_OK;
}

enum rrt_rc
rrt_tx_del(struct rrt_tx *tx, const char *source, const char *target, char *err, size_t errlen)
{
	char src[RRT_ADDR_MAX + 4];
	struct rrt_target t;
	enum rrt_rc rc = tx_norm(source, target, src, sizeof(src), &t, err, errlen);
	if (rc != RRT_OK)
		return rc;
	long i = tab_find(&tx->tab, src, t.text);
	bool is_static = tab_find(&tx->t->statics, src, t.text) >= 0;
	rrt_target_clear(&t);
	if (i < 0)
		return is_static ? RRT_STATIC : RRT_NOT_FOUND;
	struct rrt_tab *tab = &tx->tab;
	free(tab->e[i].source);
	rrt_target_clear(&tab->e[i].t);
	memmove(&tab->e[i], &tab->e[i + 1], (tab->n - (size_t)i - 1) * sizeof(*tab->e));
	tab->n--;
	tx->changed = true;
	return RRT_OK;
}

static void
store_body(FILE *f, const void *arg)
{
	const struct rrt_tab *tab = arg;
	for (size_t i = 0; i < tab->n; i++) {
		storefile_esc_write(f, tab->e[i].source);
		fputc(' ', f);
		storefile_esc_write(f, tab->e[i].t.text);
		fputc('\n', f);
	}
}

/* Writes tab to the store atomically (tmp, fsync, rename, fsync dir). */
static int
store_write(const struct rrt *t, const struct rrt_tab *tab)
{
	return storefile_write(t->dir, t->path, RRT_HEADER, store_body, tab);
}

int
rrt_tx_commit(struct rrt_tx *tx)
{
	int rc = 0, e = 0;
	if (tx->changed && store_write(tx->t, &tx->tab) < 0) {
		rc = -1;
		e = errno;
	}
	/* This process's own cache must see the change at once. */
	pthread_mutex_lock(&tx->t->lock);
	tx->t->checked = 0;
	pthread_mutex_unlock(&tx->t->lock);
	rrt_tx_abort(tx);
	errno = e;
	return rc;
}

long
rrt_store_parse_text(const char *buf, size_t len)
{
	struct rrt_tab tab = {0};
	if (store_parse("(text)", buf, len, &tab) < 0)
		return -1;
	long n = (long)tab.n;
	tab_clear(&tab);
	return n;
}

/* dns.c - the asynchronous resolver on libunbound (see dns.h, docs/dns.md). */
#include "dns.h"

#include "../config/config.h"
#include "../core/log.h"
#include "../core/xcall.h"
#include "../core/xmalloc.h"

#include <event2/event.h>
#include <unbound.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of libunbound cache per <maxcachesize> entry (docs/dns.md). */
#define RRSET_BYTES_PER_ENTRY 256u
#define MSG_BYTES_PER_ENTRY 128u
/* The query names we accept are at most this long, plus NUL. */
#define QNAME_SIZE (DNS_NAME_MAX + 1)

/* libunbound's default local zones that mailetd leaves to the servers. */
static const char *const site_zones[] = {
	"test.",
	"home.arpa.",
	"2.0.192.in-addr.arpa.",     /* TEST-NET-1, RFC 5737 */
	"100.51.198.in-addr.arpa.",  /* TEST-NET-2 */
	"113.0.203.in-addr.arpa.",   /* TEST-NET-3 */
	"8.b.d.0.1.0.0.2.ip6.arpa.", /* 2001:db8::/32, RFC 3849 */
};

struct dns {
	struct ub_ctx *ctx;
	struct event_base *base;  /* the resolver thread's loop */
	struct event *ub_ev;      /* ub_fd() readable: answers to hand out */
	pthread_t tid;
	unsigned timeout_ms;
	/*
	 * Guards every query's refs, ended, answered, ub and ub_err, and the
	 * live list: they are shared by the requester's thread and the
	 * resolver thread (libunbound's callbacks).
	 */
	pthread_mutex_t lock;
	struct dns_query *live;   /* queries libunbound still holds */
};

/*
 * A lookup. Two references: the requester's (dropped when the callback
 * has run or on dns_cancel) and libunbound's (dropped when libunbound
 * answers, or at dns_free). The last one frees it. ev lives on the
 * requester's base and is only touched by the requester's thread, except
 * for event_active() by the resolver thread, which happens under the lock
 * and only while !ended.
 */
struct dns_query {
	struct dns *d;
	struct event *ev;         /* answer arrived (activated) or timeout */
	dns_cb *cb;
	void *arg;
	enum dns_type type;
	char name[QNAME_SIZE];
	int refs;
	bool ended;               /* delivered or cancelled */
	bool answered;            /* ub/ub_err (or status) hold the outcome */
	enum dns_status preset;   /* DNS_INVALID, or DNS_FOUND = ask libunbound */
	int ub_err;               /* libunbound error code, 0 = ub is the answer */
	struct ub_result *ub;
	struct dns_query *prev, *next; /* in d->live */
};

bool
dns_permanent(enum dns_status s)
{
	return s == DNS_NXDOMAIN || s == DNS_NODATA || s == DNS_INVALID;
}

const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_FOUND:
		return "found";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	case DNS_INVALID:
		return "invalid";
	case DNS_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

const char *
dns_type_name(enum dns_type t)
{
	switch (t) {
	case DNS_A:
		return "A";
	case DNS_AAAA:
		return "AAAA";
	case DNS_MX:
		return "MX";
	case DNS_PTR:
		return "PTR";
	case DNS_TXT:
		return "TXT";
	}
	return "?";
}

int
dns_reverse_name(const struct netaddr *addr, const char *suffix, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[80];
	size_t n = 0;

	if (addr->family == AF_INET) {
		n = (size_t)snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", addr->addr[3], addr->addr[2],
		    addr->addr[1], addr->addr[0]);
	} else if (addr->family == AF_INET6) {
		for (int i = 15; i >= 0; i--) {
			tmp[n++] = hex[addr->addr[i] & 0xf];
			tmp[n++] = '.';
			tmp[n++] = hex[addr->addr[i] >> 4];
			tmp[n++] = i > 0 ? '.' : '\0';
		}
		n--;
	} else {
		return -1;
	}
	size_t sl = strlen(suffix);
	while (sl > 0 && suffix[sl - 1] == '.')
		sl--;
	size_t total = n + (sl > 0 ? 1 + sl : 0);
	if (total > DNS_NAME_MAX || total + 1 > len)
		return -1;
	memcpy(buf, tmp, n);
	if (sl > 0) {
		buf[n] = '.';
		memcpy(buf + n + 1, suffix, sl);
	}
	buf[total] = '\0';
	return (int)total;
}

long
dns_name_decode(const uint8_t *msg, size_t len, size_t off, char *out, size_t outlen)
{
	size_t o = 0, total = 0;

	if (outlen == 0)
		return -1;
	for (;;) {
		if (off >= len)
			return -1;
		unsigned l = msg[off++];
		if (l == 0)
			break;
		if (l > 63 || l > len - off) /* compression or a truncated label */
			return -1;
		total += l + 1;
		if (total > 255)
			return -1;
		if (o > 0) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = '.';
		}
		for (unsigned i = 0; i < l; i++) {
			uint8_t c = msg[off + i];
			if (c > ' ' && c < 0x7f && c != '.' && c != '\\') {
				if (o + 1 >= outlen)
					return -1;
				out[o++] = (char)c;
			} else {
				if (o + 4 >= outlen)
					return -1;
				snprintf(out + o, 5, "\\%03u", c);
				o += 4;
			}
		}
		off += l;
	}
	out[o] = '\0';
	return (long)off;
}

/* True if name (a trailing dot allowed) is one we send to the DNS:
 * labels of 1-63 octets in 0x20-0x7e, at most 253 octets in all. A "\"
 * is an octet like any other, never an escape (names come from the
 * network). */
static bool
qname_ok(const char *name)
{
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (c < ' ' || c >= 0x7f || ++label > 63)
			return false;
	}
	return label > 0;
}

/* Writes name (qname_ok) in libunbound's presentation syntax: octets
 * other than letters, digits, "-" and "_" inside labels as \DDD. out has
 * QNAME_ESC_SIZE bytes. */
#define QNAME_ESC_SIZE (4 * DNS_NAME_MAX + 2)
static void
qname_escape(const char *name, char *out)
{
	size_t o = 0;
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || c == '-' || c == '_' || c == '.') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, 5, "\\%03u", c);
			o += 4;
		}
	}
	out[o] = '\0';
}

/* --- the resolver thread ------------------------------------------------ */

static void
live_unlink(struct dns *d, struct dns_query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else if (d->live == q)
		d->live = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

/* Drops one reference; the caller holds d->lock. True if q must be freed
 * (after unlocking). */
static bool
unref_locked(struct dns_query *q)
{
	return --q->refs == 0;
}

static void
query_free(struct dns_query *q)
{
	if (q->ub != NULL)
		ub_resolve_free(q->ub);
	free(q);
}

/*
 * libunbound's answer, on the resolver thread (inside ub_process). Hands
 * it to the requester's loop unless the lookup already ended (cancelled,
 * or timed out), then drops libunbound's reference.
 */
static void
ub_done(void *arg, int err, struct ub_result *res)
{
	struct dns_query *q = arg;
	struct dns *d = q->d;

	pthread_mutex_lock(&d->lock);
	live_unlink(d, q);
	if (!q->ended && !q->answered) {
		q->ub = res;
		q->ub_err = err;
		q->answered = true;
		res = NULL;
		event_active(q->ev, EV_READ, 0);
	}
	bool last = unref_locked(q);
	pthread_mutex_unlock(&d->lock);
	if (res != NULL)
		ub_resolve_free(res);
	if (last)
		query_free(q);
}

static void
ub_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns *d = arg;
	int rc = ub_process(d->ctx);
	if (rc != 0)
		log_error(NULL, "event=dns_error msg=\"ub_process: %s\"", ub_strerror(rc));
}

static void *
resolver_main(void *arg)
{
	struct dns *d = arg;
	event_base_loop(d->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* --- results -------------------------------------------------------------- */

static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_rr *x = a, *y = b;
	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	/* qsort is not stable: keep the answer order through the position
	 * stored in len until the sort is done. */
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Decodes one rdata item of type t into rr; -1 if it is malformed. */
static int
rr_decode(enum dns_type t, const uint8_t *p, size_t len, struct dns_rr *rr)
{
	char name[1024];
	memset(rr, 0, sizeof(*rr));
	switch (t) {
	case DNS_A:
		if (len != 4)
			return -1;
		rr->addr.family = AF_INET;
		memcpy(rr->addr.addr, p, 4);
		return 0;
	case DNS_AAAA:
		if (len != 16)
			return -1;
		rr->addr.family = AF_INET6;
		memcpy(rr->addr.addr, p, 16);
		return 0;
	case DNS_MX:
		if (len < 3)
			return -1;
		rr->pref = (unsigned)p[0] << 8 | p[1];
		if (dns_name_decode(p, len, 2, name, sizeof(name)) != (long)len)
			return -1;
		rr->text = xstrdup(name);
		rr->len = strlen(name);
		return 0;
	case DNS_PTR:
		if (dns_name_decode(p, len, 0, name, sizeof(name)) != (long)len)
			return -1;
		rr->text = xstrdup(name);
		rr->len = strlen(name);
		return 0;
	case DNS_TXT: {
		/* RFC 7208 3.3: the character-strings of one record are
		 * concatenated without separator. */
		char *s = xmalloc(len + 1);
		size_t off = 0, n = 0;
		while (off < len) {
			size_t l = p[off++];
			if (l > len - off) {
				free(s);
				return -1;
			}
			memcpy(s + n, p + off, l);
			n += l;
			off += l;
		}
		s[n] = '\0';
		rr->text = s;
		rr->len = n;
		return 0;
	}
	}
	return -1;
}

/* Fills r from the outcome of q (on the requester's thread). */
static void
result_build(struct dns_query *q, bool answered, struct dns_result *r)
{
	memset(r, 0, sizeof(*r));
	r->type = q->type;
	r->name = q->name;
	r->status = DNS_TEMPFAIL;
	if (!answered) {
		r->why = "timeout";
		return;
	}
	if (q->preset != DNS_FOUND) {
		r->status = q->preset;
		r->why = "not a domain name";
		return;
	}
	struct ub_result *u = q->ub;
	if (q->ub_err != 0 || u == NULL) {
		r->why = ub_strerror(q->ub_err);
		return;
	}
	if (u->bogus) {
		r->why = "DNSSEC validation failed";
		return;
	}
	switch (u->rcode) {
	case 0: /* NOERROR */
		break;
	case 2:
		r->why = "SERVFAIL";
		return;
	case 3:
		r->status = DNS_NXDOMAIN;
		return;
	case 5:
		r->why = "REFUSED";
		return;
	default:
		r->why = "error answer";
		return;
	}
	if (!u->havedata || u->data == NULL || u->data[0] == NULL) {
		r->status = u->nxdomain ? DNS_NXDOMAIN : DNS_NODATA;
		return;
	}
	size_t n = 0;
	while (u->data[n] != NULL)
		n++;
	r->rr = xcalloc(n, sizeof(*r->rr));
	for (size_t i = 0; i < n; i++) {
		if (u->len[i] < 0 ||
		    rr_decode(q->type, (const uint8_t *)u->data[i], (size_t)u->len[i],
			&r->rr[r->n]) != 0)
			continue; /* a malformed record is skipped */
		if (q->type == DNS_MX)
			r->rr[r->n].len = r->n; /* position, for a stable sort */
		r->n++;
	}
	if (r->n == 0) {
		r->why = "malformed answer";
		return;
	}
	if (q->type == DNS_MX) {
		qsort(r->rr, r->n, sizeof(*r->rr), mx_cmp);
		for (size_t i = 0; i < r->n; i++)
			r->rr[i].len = strlen(r->rr[i].text);
	}
	r->status = DNS_FOUND;
	r->ttl = u->ttl > 0 ? (unsigned)u->ttl : 0;
}

static void
result_clear(struct dns_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rr[i].text);
	free(r->rr);
}

/*
 * Ends q on the requester's side: from here on the resolver thread never
 * touches q->ev; the event is freed and the requester's reference dropped.
 */
static void
requester_release(struct dns_query *q)
{
	struct dns *d = q->d;
	pthread_mutex_lock(&d->lock);
	q->ended = true;
	pthread_mutex_unlock(&d->lock);
	/* No event_active() can come after ended was set under the lock, and
	 * one that came before is undone by event_free on this thread. */
	event_free(q->ev);
	q->ev = NULL;
	pthread_mutex_lock(&d->lock);
	bool last = unref_locked(q);
	pthread_mutex_unlock(&d->lock);
	if (last)
		query_free(q);
}

/* The answer or the timeout, on the requester's loop. */
static void
query_deliver(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns_query *q = arg;
	struct dns *d = q->d;
	struct dns_result r;

	pthread_mutex_lock(&d->lock);
	bool answered = q->answered;
	q->ended = true; /* a late answer from libunbound is dropped */
	pthread_mutex_unlock(&d->lock);
	result_build(q, answered, &r);
	log_debug(NULL, "event=dns_answer type=%s name=%s status=%s n=%zu why=\"%s\"",
	    dns_type_name(q->type), q->name, dns_status_name(r.status), r.n,
	    r.why != NULL ? r.why : "");
	q->cb(&r, q->arg);
	result_clear(&r);
	requester_release(q);
}

/* --- the API -------------------------------------------------------------- */

struct dns_query *
dns_lookup(struct dns *d, struct event_base *base, enum dns_type type, const char *name,
    dns_cb *cb, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));
	q->d = d;
	q->cb = cb;
	q->arg = arg;
	q->type = type;
	q->refs = 1;
	q->preset = DNS_FOUND;
	q->ev = event_new(base, -1, 0, query_deliver, q);
	if (q->ev == NULL)
		log_fatal("event=fatal msg=\"out of memory in dns_lookup\"");
	if (!qname_ok(name)) {
		/* Shown in the result: a bounded, printable copy. */
		log_quote(q->name, sizeof(q->name), name, strlen(name));
		q->preset = DNS_INVALID;
		q->answered = true;
		event_active(q->ev, EV_READ, 0);
		return q;
	}
	snprintf(q->name, sizeof(q->name), "%s", name);
	struct timeval tv = { d->timeout_ms / 1000, (d->timeout_ms % 1000) * 1000 };
	event_add(q->ev, &tv);

	pthread_mutex_lock(&d->lock);
	q->refs = 2;
	q->next = d->live;
	if (d->live != NULL)
		d->live->prev = q;
	d->live = q;
	pthread_mutex_unlock(&d->lock);
	/* libunbound's contexts are thread-safe: any thread may start a
	 * lookup; the callback runs on the resolver thread (ub_process). */
	char esc[QNAME_ESC_SIZE];
	qname_escape(q->name, esc);
	int rc = ub_resolve_async(d->ctx, esc, (int)type, 1 /* IN */, q, ub_done, NULL);
	if (rc != 0) {
		pthread_mutex_lock(&d->lock);
		live_unlink(d, q);
		q->refs--;
		q->answered = true;
		q->ub_err = rc;
		event_active(q->ev, EV_READ, 0);
		pthread_mutex_unlock(&d->lock);
	}
	return q;
}

struct dns_query *
dns_lookup_ptr(struct dns *d, struct event_base *base, const struct netaddr *addr, dns_cb *cb,
    void *arg)
{
	char name[QNAME_SIZE];
	const char *suffix = addr->family == AF_INET ? "in-addr.arpa" : "ip6.arpa";
	if (dns_reverse_name(addr, suffix, name, sizeof(name)) < 0)
		name[0] = '\0'; /* delivered as DNS_INVALID */
	return dns_lookup(d, base, DNS_PTR, name, cb, arg);
}

void
dns_cancel(struct dns_query *q)
{
	if (q != NULL)
		requester_release(q);
}

/* Adds the nameservers of a resolv.conf file; returns how many. */
static size_t
add_resolv_conf(struct dns *d, const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		log_warn(NULL, "event=dns_autodiscover file=%s msg=\"cannot read: no servers found\"",
		    path);
		return 0;
	}
	char line[512];
	size_t n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char word[16], addr[INET6_ADDRSTRLEN + 1];
		struct netaddr na;
		if (sscanf(line, "%15s %46s", word, addr) != 2 || strcmp(word, "nameserver") != 0)
			continue;
		if (netaddr_parse(addr, &na) != 0) /* scoped or garbage: skipped */
			continue;
		char text[INET6_ADDRSTRLEN];
		netaddr_format(&na, text, sizeof(text));
		if (ub_ctx_set_fwd(d->ctx, text) == 0) {
			log_info(NULL, "event=dns_server server=%s source=%s", text, path);
			n++;
		}
	}
	fclose(f);
	return n;
}

/* ub_ctx_set_option with a number; 0 or -1 with err filled. */
static int
set_num(struct dns *d, const char *opt, unsigned long v, char *err, size_t errlen)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lu", v);
	int rc = ub_ctx_set_option(d->ctx, opt, buf);
	if (rc != 0) {
		snprintf(err, errlen, "libunbound refuses %s %s: %s", opt, buf, ub_strerror(rc));
		return -1;
	}
	return 0;
}

struct dns *
dns_new(const struct cfg_dns *cfg, char *err, size_t errlen)
{
	struct dns *d = xcalloc(1, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
	d->ctx = ub_ctx_create();
	if (d->ctx == NULL) {
		snprintf(err, errlen, "cannot create the libunbound context");
		goto fail;
	}
	/* A thread, not a forked process, does libunbound's work. */
	int rc = ub_ctx_async(d->ctx, 1);
	/* A resolver on the loopback (James's fallback 127.0.0.1, a test
	 * server) must be usable. */
	if (rc == 0)
		rc = ub_ctx_set_option(d->ctx, "do-not-query-localhost:", "no");
	if (rc != 0) {
		snprintf(err, errlen, "libunbound: %s", ub_strerror(rc));
		goto fail;
	}
	if (cfg->max_cache_size > 0 &&
	    (set_num(d, "rrset-cache-size:",
		 (unsigned long)cfg->max_cache_size * RRSET_BYTES_PER_ENTRY, err, errlen) != 0 ||
		set_num(d, "msg-cache-size:",
		    (unsigned long)cfg->max_cache_size * MSG_BYTES_PER_ENTRY, err, errlen) != 0))
		goto fail;
	if (cfg->negative_ttl >= 0 &&
	    set_num(d, "cache-max-negative-ttl:", (unsigned long)cfg->negative_ttl, err,
		errlen) != 0)
		goto fail;

	/* James: the discovered servers, then the configured ones; 127.0.0.1
	 * when there are none. */
	size_t nfwd = 0;
	if (cfg->autodiscover)
		nfwd += add_resolv_conf(d, cfg->resolv_conf != NULL ? cfg->resolv_conf
		                                                    : "/etc/resolv.conf");
	for (size_t i = 0; i < cfg->nservers; i++) {
		rc = ub_ctx_set_fwd(d->ctx, cfg->servers[i].fwd);
		if (rc != 0) {
			snprintf(err, errlen, "DNS server %s: %s", cfg->servers[i].text,
			    ub_strerror(rc));
			goto fail;
		}
		log_info(NULL, "event=dns_server server=%s", cfg->servers[i].fwd);
		nfwd++;
	}
	if (nfwd == 0) {
		log_info(NULL, "event=dns_server server=127.0.0.1 msg=\"no DNS server configured "
			       "or discovered\"");
		if ((rc = ub_ctx_set_fwd(d->ctx, "127.0.0.1")) != 0) {
			snprintf(err, errlen, "libunbound: %s", ub_strerror(rc));
			goto fail;
		}
	}

	/* The configured servers decide about site-local and documentation
	 * names: no built-in NXDOMAIN for private-network reverse zones, the
	 * RFC 6761 test. zone, home.arpa and the documentation networks
	 * (docs/dns.md). localhost, invalid., onion. keep libunbound's answers.
	 * This finalizes the context: options come first. */
	if ((rc = ub_ctx_set_option(d->ctx, "unblock-lan-zones:", "yes")) != 0 ||
	    (rc = ub_ctx_set_option(d->ctx, "insecure-lan-zones:", "yes")) != 0) {
		snprintf(err, errlen, "libunbound: %s", ub_strerror(rc));
		goto fail;
	}
	for (size_t i = 0; i < sizeof(site_zones) / sizeof(site_zones[0]); i++) {
		if ((rc = ub_ctx_zone_remove(d->ctx, site_zones[i])) != 0) {
			snprintf(err, errlen, "libunbound: zone %s: %s", site_zones[i],
			    ub_strerror(rc));
			goto fail;
		}
	}

	d->base = event_base_new();
	int fd = ub_fd(d->ctx);
	if (d->base == NULL || fd < 0) {
		snprintf(err, errlen, "cannot set up the resolver loop");
		goto fail;
	}
	d->ub_ev = event_new(d->base, fd, EV_READ | EV_PERSIST, ub_readable, d);
	if (d->ub_ev == NULL || event_add(d->ub_ev, NULL) != 0) {
		snprintf(err, errlen, "cannot watch the libunbound descriptor");
		goto fail;
	}
	rc = pthread_create(&d->tid, NULL, resolver_main, d);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the resolver thread: %s", strerror(rc));
		goto fail;
	}
	return d;
fail:
	if (d->ub_ev != NULL)
		event_free(d->ub_ev);
	if (d->base != NULL)
		event_base_free(d->base);
	if (d->ctx != NULL)
		ub_ctx_delete(d->ctx);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return NULL;
}

/* Runs on the resolver thread: ends its loop. */
static void
resolver_stop(void *arg)
{
	struct dns *d = arg;
	event_base_loopbreak(d->base);
}

void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	/* Not event_base_loopbreak from here: a loop that has not started yet
	 * clears the request when it starts, and the join would wait forever
	 * (a daemon that fails right after start-up). A callback queued on
	 * the loop runs whenever the loop runs. */
	xcall(d->base, resolver_stop, d);
	pthread_join(d->tid, NULL);
	/* Stops libunbound's thread; the callbacks of lookups in flight are
	 * never called, so their references are dropped here. */
	ub_ctx_delete(d->ctx);
	pthread_mutex_lock(&d->lock);
	struct dns_query *q = d->live;
	d->live = NULL;
	pthread_mutex_unlock(&d->lock);
	while (q != NULL) {
		struct dns_query *next = q->next;
		if (--q->refs == 0)
			query_free(q);
		else
			log_error(NULL, "event=dns_bug msg=\"lookup of %s still pending at dns_free\"",
			    q->name);
		q = next;
	}
	event_free(d->ub_ev);
	event_base_free(d->base);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

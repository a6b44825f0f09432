/* spf.c - asynchronous RFC 7208 check_host() (see spf.h). */
#include "spf.h"

#include "../core/log.h"
#include "../core/xmalloc.h"
#include "../dns/dns.h"

#include <event2/event.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* RFC 7208 4.6.4 */
#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOID 2
#define SPF_MAX_NAMES 10

#define NAME_SIZE 256
/* RFC 7208 4.6.4: a limit on the elapsed time of one check, at least 20 s. */
#define SPF_DEFAULT_TIMEOUT_MS 20000u

/* What the pending DNS lookup is for. */
enum spf_wait {
	W_NONE,
	W_TXT,      /* the policy of the top frame */
	W_A,        /* "a": addresses of the target */
	W_MX,       /* "mx": the exchanges */
	W_MXADDR,   /* "mx": addresses of exchange names[iname] */
	W_PTR,      /* "ptr": names of the client */
	W_PTRADDR,  /* "ptr": addresses of names[iname] */
	W_EXISTS,   /* "exists": an A record */
	W_EXP,      /* the explanation */
	W_P_PTR,    /* %{p}: names of the client */
	W_P_ADDR,   /* %{p}: addresses of pnames[ip] */
};

/* What to do once %{p} is known. */
enum spf_resume {
	R_ADVANCE,  /* evaluate the current term (or redirect) again */
	R_EXPLAIN,  /* expand exp= and fetch the explanation */
	R_EXPTEXT,  /* expand the explanation text */
};

/* One policy being evaluated: the first, or one reached by include or
 * redirect. */
struct frame {
	char domain[NAME_SIZE];
	struct spf_record rec;
	size_t term;              /* the term being evaluated */
	char target[NAME_SIZE];   /* its expanded domain */
	char **names;             /* mx exchanges / ptr names */
	size_t nnames, iname;
	bool via_redirect;        /* replaced the frame that redirected to it */
	struct frame *parent;
};

struct spf_check {
	struct dns *dns;
	struct event_base *base;
	struct event *ev;         /* delivers a result reached without lookup */
	struct event *deadline;   /* the time limit of the whole check */
	spf_cb *cb;
	void *arg;
	struct netaddr ip;
	char *sender, *local, *sender_dom, *helo, *receiver;
	char first_domain[NAME_SIZE];
	int lookups, voids;
	struct frame *top;
	struct dns_query *pending;
	enum spf_wait wait;
	/* the outcome */
	enum spf_result result;
	char mechanism[128];
	char problem[400];
	char *exp_spec;           /* exp= of the frame that said fail */
	char exp_domain[NAME_SIZE];
	char *explanation;
	char *exp_text;           /* the explanation TXT, waiting for %{p} */
	/* %{p} (RFC 7208 7.3): resolved once, when a macro first needs it */
	bool p_done;
	char p_name[NAME_SIZE];   /* the validated name, or "unknown" */
	char **pnames;
	size_t npnames, ip_;
	enum spf_resume resume;
};

static void advance(struct spf_check *c);
static void explain(struct spf_check *c);
static void explain_text(struct spf_check *c);
static void frame_done(struct spf_check *c, enum spf_result r);
static void lookup_cb(const struct dns_result *r, void *arg);

static void
frame_free(struct frame *f)
{
	spf_record_clear(&f->rec);
	for (size_t i = 0; i < f->nnames; i++)
		free(f->names[i]);
	free(f->names);
	free(f);
}

static void
check_free(struct spf_check *c)
{
	while (c->top != NULL) {
		struct frame *p = c->top->parent;
		frame_free(c->top);
		c->top = p;
	}
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->deadline != NULL)
		event_free(c->deadline);
	free(c->sender);
	free(c->local);
	free(c->sender_dom);
	free(c->helo);
	free(c->receiver);
	free(c->exp_spec);
	free(c->explanation);
	free(c->exp_text);
	for (size_t i = 0; i < c->npnames; i++)
		free(c->pnames[i]);
	free(c->pnames);
	free(c);
}

/* Calls back with the outcome and frees the check. */
static void
deliver(struct spf_check *c)
{
	struct spf_outcome o = {
		.result = c->result,
		.domain = c->first_domain,
		.sender = c->sender,
		.mechanism = c->mechanism[0] != '\0' ? c->mechanism : NULL,
		.explanation = c->result == SPF_FAIL ? c->explanation : NULL,
		.problem = c->problem[0] != '\0' ? c->problem : NULL,
	};
	log_debug(NULL, "event=spf ip_domain=%s result=%s mechanism=\"%s\" problem=\"%s\"",
	    c->first_domain, spf_result_name(c->result), c->mechanism, c->problem);
	c->cb(&o, c->arg);
	check_free(c);
}

static void
deliver_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver(arg);
}

/* The check took too long (each lookup is bounded, but ptr and %{p}
 * skip failed lookups, so many could follow one another). */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct spf_check *c = arg;
	if (c->pending != NULL)
		dns_cancel(c->pending);
	c->pending = NULL;
	while (c->top != NULL) {
		struct frame *p = c->top->parent;
		frame_free(c->top);
		c->top = p;
	}
	c->result = SPF_TEMPERROR;
	snprintf(c->problem, sizeof(c->problem), "SPF evaluation took too long");
	deliver(c);
}

static void
lookup(struct spf_check *c, enum spf_wait w, enum dns_type t, const char *name)
{
	c->wait = w;
	c->pending = dns_lookup(c->dns, c->base, t, name, lookup_cb, c);
}

static void
macro_vars(const struct spf_check *c, const char *domain, struct spf_macro_vars *v)
{
	*v = (struct spf_macro_vars){
		.sender = c->sender,
		.local = c->local,
		.sender_dom = c->sender_dom,
		.domain = domain,
		.ip = &c->ip,
		.helo = c->helo,
		.receiver = c->receiver,
		.validated = c->p_done ? c->p_name : NULL,
		.now = (long long)time(NULL),
	};
}

/* True if the macro-string s uses %{p}. */
static bool
uses_p(const char *s)
{
	for (const char *x = s; s != NULL && (x = strstr(x, "%{")) != NULL; x += 2)
		if (x[2] == 'p' || x[2] == 'P')
			return true;
	return false;
}

/* Starts resolving %{p}; resume says what to do when it is known. */
static void
p_start(struct spf_check *c, enum spf_resume resume)
{
	c->resume = resume;
	c->wait = W_P_PTR;
	c->pending = dns_lookup_ptr(c->dns, c->base, &c->ip, lookup_cb, c);
}

/* %{p} is known: carry on with what needed it. */
static void
p_known(struct spf_check *c, const char *name)
{
	snprintf(c->p_name, sizeof(c->p_name), "%s", name != NULL ? name : "unknown");
	c->p_done = true;
	for (size_t i = 0; i < c->npnames; i++)
		free(c->pnames[i]);
	free(c->pnames);
	c->pnames = NULL;
	c->npnames = c->ip_ = 0;
	switch (c->resume) {
	case R_ADVANCE:
		advance(c);
		return;
	case R_EXPLAIN:
		explain(c);
		return;
	case R_EXPTEXT:
		explain_text(c);
		return;
	}
}

/* Ends the whole check with r (an error found anywhere ends it). */
static void
finish(struct spf_check *c, enum spf_result r, const char *problem)
{
	while (c->top != NULL) {
		struct frame *p = c->top->parent;
		frame_free(c->top);
		c->top = p;
	}
	c->result = r;
	if (problem != NULL && c->problem[0] == '\0')
		snprintf(c->problem, sizeof(c->problem), "%s", problem);
	if (r == SPF_FAIL && c->exp_spec != NULL) {
		explain(c);
		return;
	}
	deliver(c);
}

/* Fetches the explanation of a fail (RFC 7208 6.2): any trouble with it
 * leaves none. */
static void
explain(struct spf_check *c)
{
	char name[NAME_SIZE], err[64];
	struct spf_macro_vars v;
	if (uses_p(c->exp_spec) && !c->p_done) {
		p_start(c, R_EXPLAIN);
		return;
	}
	macro_vars(c, c->exp_domain, &v);
	if (spf_macro_expand(c->exp_spec, &v, false, name, sizeof(name), err, sizeof(err)) > 0) {
		lookup(c, W_EXP, DNS_TXT, name);
		return;
	}
	deliver(c);
}

/* Expands the explanation text and delivers. */
static void
explain_text(struct spf_check *c)
{
	char out[512], err[64];
	struct spf_macro_vars v;
	if (uses_p(c->exp_text) && !c->p_done) {
		p_start(c, R_EXPTEXT);
		return;
	}
	macro_vars(c, c->exp_domain, &v);
	if (spf_macro_expand(c->exp_text, &v, true, out, sizeof(out), err, sizeof(err)) >= 0)
		c->explanation = xstrdup(out);
	deliver(c);
}

/* The explanation TXT record arrived. */
static void
got_exp(struct spf_check *c, const struct dns_result *r)
{
	if (r->status == DNS_FOUND && r->n == 1 &&
	    memchr(r->rr[0].text, '\0', r->rr[0].len) == NULL) {
		c->exp_text = xstrdup(r->rr[0].text);
		explain_text(c);
		return;
	}
	deliver(c);
}

/* True if a and ip share the first prefix bits (same family only). */
static bool
addr_match(const struct netaddr *a, const struct netaddr *ip, unsigned prefix)
{
	if (a->family != ip->family)
		return false;
	unsigned bits = ip->family == AF_INET ? 32 : 128;
	if (prefix > bits)
		prefix = bits;
	size_t full = prefix / 8;
	if (memcmp(a->addr, ip->addr, full) != 0)
		return false;
	unsigned rest = prefix % 8;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->addr[full] & mask) == (ip->addr[full] & mask);
}

static unsigned
term_prefix(const struct spf_check *c, const struct spf_term *t)
{
	return c->ip.family == AF_INET ? t->cidr4 : t->cidr6;
}

/* True if domain (RFC 7208 4.3) may be checked: a valid name of at least
 * two labels. */
static bool
domain_ok(const char *d)
{
	size_t len = strlen(d);
	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || memchr(d, '.', len) == NULL)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)d[i];
		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (ch <= ' ' || ch >= 0x7f || ++label > 63) {
			return false;
		}
	}
	return label > 0;
}

/* Starts evaluating the policy of domain as a new frame. */
static void
push_frame(struct spf_check *c, const char *domain, bool via_redirect)
{
	struct frame *f = xcalloc(1, sizeof(*f));
	snprintf(f->domain, sizeof(f->domain), "%s", domain);
	f->via_redirect = via_redirect;
	f->parent = c->top;
	c->top = f;
	lookup(c, W_TXT, DNS_TXT, domain);
}

static void
set_mechanism(struct spf_check *c, const struct frame *f, const struct spf_term *t)
{
	static const char *const names[] = { "all", "include", "a", "mx", "ptr", "ip4", "ip6",
		"exists" };
	static const char quals[] = { [SPF_PASS] = '+', [SPF_FAIL] = '-', [SPF_SOFTFAIL] = '~',
		[SPF_NEUTRAL] = '?' };
	char q = (unsigned)t->qual < sizeof(quals) ? quals[t->qual] : '+';
	if (t->mech == SPF_M_IP4 || t->mech == SPF_M_IP6) {
		char a[64];
		netaddr_format(&t->net, a, sizeof(a));
		snprintf(c->mechanism, sizeof(c->mechanism), "%c%s:%s/%u", q, names[t->mech], a,
		    t->mech == SPF_M_IP4 ? t->cidr4 : t->cidr6);
	} else if (t->domain != NULL) {
		snprintf(c->mechanism, sizeof(c->mechanism), "%c%s:%s", q, names[t->mech],
		    t->domain);
	} else {
		snprintf(c->mechanism, sizeof(c->mechanism), "%c%s", q, names[t->mech]);
	}
	/* The explanation of the frame whose term failed (RFC 7208 6.2). */
	if (t->qual == SPF_FAIL) {
		free(c->exp_spec);
		c->exp_spec = f->rec.exp != NULL ? xstrdup(f->rec.exp) : NULL;
		snprintf(c->exp_domain, sizeof(c->exp_domain), "%s", f->domain);
	}
}

/* The current term of the top frame matched. */
static void
matched(struct spf_check *c)
{
	struct frame *f = c->top;
	const struct spf_term *t = &f->rec.terms[f->term];
	set_mechanism(c, f, t);
	frame_done(c, t->qual);
}

/* The current term did not match: go on with the next one. */
static void
next_term(struct spf_check *c)
{
	c->top->term++;
	advance(c);
}

/*
 * The top frame has its result r. A frame reached by redirect stands for
 * the frame it replaced (RFC 7208 6.1: its "none" is permerror); a frame
 * with a parent was reached by include (RFC 7208 5.2).
 */
static void
frame_done(struct spf_check *c, enum spf_result r)
{
	struct frame *f = c->top;
	struct frame *p = f->parent;
	if (r == SPF_NONE && f->via_redirect) {
		finish(c, SPF_PERMERROR, "redirect to a domain without SPF record");
		return;
	}
	if (p == NULL) {
		finish(c, r, NULL);
		return;
	}
	c->top = p;
	frame_free(f);
	switch (r) {
	case SPF_PASS:
		matched(c);
		return;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		next_term(c);
		return;
	case SPF_TEMPERROR:
		finish(c, SPF_TEMPERROR, NULL);
		return;
	case SPF_NONE:
		finish(c, SPF_PERMERROR, "include of a domain without SPF record");
		return;
	case SPF_PERMERROR:
		finish(c, SPF_PERMERROR, NULL);
		return;
	}
}

/* Counts a DNS-querying term; false (and permerror) past the limit. */
static bool
count_lookup(struct spf_check *c)
{
	if (++c->lookups > SPF_MAX_LOOKUPS) {
		finish(c, SPF_PERMERROR, "more than 10 DNS-querying terms");
		return false;
	}
	return true;
}

/* Counts a void lookup; false (and permerror) past the limit. */
static bool
count_void(struct spf_check *c)
{
	if (++c->voids > SPF_MAX_VOID) {
		finish(c, SPF_PERMERROR, "more than 2 void lookups");
		return false;
	}
	return true;
}

/* Expands the domain-spec of t (or the frame's domain) into f->target. */
static bool
expand_target(struct spf_check *c, const char *spec)
{
	struct frame *f = c->top;
	char err[96];
	if (spec == NULL) {
		snprintf(f->target, sizeof(f->target), "%s", f->domain);
		return true;
	}
	struct spf_macro_vars v;
	macro_vars(c, f->domain, &v);
	if (spf_macro_expand(spec, &v, false, f->target, sizeof(f->target), err, sizeof(err)) <
	    0) {
		finish(c, SPF_PERMERROR, err);
		return false;
	}
	return true;
}

static enum dns_type
addr_type(const struct spf_check *c)
{
	return c->ip.family == AF_INET ? DNS_A : DNS_AAAA;
}

/*
 * For a macro-string of a term or redirect: true if it can be expanded
 * now; false if %{p} must be resolved first (started, counted as a
 * DNS-querying term, RFC 7208 4.6.4) or the check ended.
 */
static bool
p_ready(struct spf_check *c, const char *spec)
{
	if (!uses_p(spec) || c->p_done)
		return true;
	if (count_lookup(c))
		p_start(c, R_ADVANCE);
	return false;
}

/* Evaluates terms of the top frame from f->term until one needs the DNS
 * or the frame has a result. */
static void
advance(struct spf_check *c)
{
	struct frame *f = c->top;
	while (f->term < f->rec.n) {
		const struct spf_term *t = &f->rec.terms[f->term];
		switch (t->mech) {
		case SPF_M_ALL:
			matched(c);
			return;
		case SPF_M_IP4:
		case SPF_M_IP6:
			if (addr_match(&t->net, &c->ip, term_prefix(c, t))) {
				matched(c);
				return;
			}
			f->term++;
			continue;
		case SPF_M_INCLUDE:
			if (!p_ready(c, t->domain) || !count_lookup(c) ||
			    !expand_target(c, t->domain))
				return;
			push_frame(c, f->target, false);
			return;
		case SPF_M_A:
			if (!p_ready(c, t->domain) || !count_lookup(c) ||
			    !expand_target(c, t->domain))
				return;
			lookup(c, W_A, addr_type(c), f->target);
			return;
		case SPF_M_MX:
			if (!p_ready(c, t->domain) || !count_lookup(c) ||
			    !expand_target(c, t->domain))
				return;
			lookup(c, W_MX, DNS_MX, f->target);
			return;
		case SPF_M_PTR:
			if (!p_ready(c, t->domain) || !count_lookup(c) ||
			    !expand_target(c, t->domain))
				return;
			c->wait = W_PTR;
			c->pending = dns_lookup_ptr(c->dns, c->base, &c->ip, lookup_cb, c);
			return;
		case SPF_M_EXISTS:
			if (!p_ready(c, t->domain) || !count_lookup(c) ||
			    !expand_target(c, t->domain))
				return;
			lookup(c, W_EXISTS, DNS_A, f->target); /* always A (RFC 7208 5.7) */
			return;
		}
	}
	if (f->rec.redirect != NULL) {
		char target[NAME_SIZE], err[96];
		struct spf_macro_vars v;
		if (!p_ready(c, f->rec.redirect) || !count_lookup(c))
			return;
		macro_vars(c, f->domain, &v);
		if (spf_macro_expand(f->rec.redirect, &v, false, target, sizeof(target), err,
			sizeof(err)) < 0) {
			finish(c, SPF_PERMERROR, err);
			return;
		}
		/* The redirecting frame is replaced: its result is the target's,
		 * reported to its includer if it has one. */
		struct frame *old = c->top;
		c->top = old->parent;
		frame_free(old);
		if (!domain_ok(target)) {
			finish(c, SPF_PERMERROR, "redirect to an invalid domain");
			return;
		}
		push_frame(c, target, true);
		return;
	}
	snprintf(c->mechanism, sizeof(c->mechanism), "default");
	frame_done(c, SPF_NEUTRAL);
}

/* Frees the names of the top frame. */
static void
names_clear(struct frame *f)
{
	for (size_t i = 0; i < f->nnames; i++)
		free(f->names[i]);
	free(f->names);
	f->names = NULL;
	f->nnames = f->iname = 0;
}

/* True if name is target or ends with "." target (any case). */
static bool
name_within(const char *name, const char *target)
{
	size_t nl = strlen(name), tl = strlen(target);
	if (tl > 0 && target[tl - 1] == '.')
		tl--;
	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (nl == tl)
		return strncasecmp(name, target, tl) == 0;
	return nl > tl && name[nl - tl - 1] == '.' && strncasecmp(name + nl - tl, target, tl) == 0;
}

/* The next PTR name to validate that lies within the target; false if none. */
static bool
ptr_next(struct spf_check *c)
{
	struct frame *f = c->top;
	while (f->iname < f->nnames && !name_within(f->names[f->iname], f->target))
		f->iname++;
	if (f->iname >= f->nnames)
		return false;
	lookup(c, W_PTRADDR, addr_type(c), f->names[f->iname]);
	return true;
}

static bool
any_addr_match(const struct spf_check *c, const struct dns_result *r, unsigned prefix)
{
	for (size_t i = 0; i < r->n; i++)
		if (addr_match(&r->rr[i].addr, &c->ip, prefix))
			return true;
	return false;
}

/* Validates the next candidate name for %{p}, or settles on "unknown". */
static void
p_next(struct spf_check *c)
{
	if (c->ip_ < c->npnames)
		lookup(c, W_P_ADDR, addr_type(c), c->pnames[c->ip_]);
	else
		p_known(c, NULL);
}

/*
 * An answer for %{p}: the PTR names (at most 10; those within the current
 * domain first, RFC 7208 7.3 prefers them), then the forward lookup of
 * each until one comes back to the client. DNS errors skip a name.
 */
static void
p_answer(struct spf_check *c, enum spf_wait w, const struct dns_result *r)
{
	if (w == W_P_PTR) {
		if (r->status != DNS_FOUND) {
			p_known(c, NULL);
			return;
		}
		const char *domain = c->top != NULL ? c->top->domain : c->exp_domain;
		size_t n = r->n < SPF_MAX_NAMES ? r->n : SPF_MAX_NAMES;
		c->pnames = xcalloc(n, sizeof(char *));
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < n; i++)
				if (name_within(r->rr[i].text, domain) == (pass == 0))
					c->pnames[c->npnames++] = xstrdup(r->rr[i].text);
		c->ip_ = 0;
		p_next(c);
		return;
	}
	if (r->status == DNS_FOUND && any_addr_match(c, r, c->ip.family == AF_INET ? 32 : 128)) {
		p_known(c, c->pnames[c->ip_]);
		return;
	}
	c->ip_++;
	p_next(c);
}

static void
lookup_cb(const struct dns_result *r, void *arg)
{
	struct spf_check *c = arg;
	struct frame *f = c->top;
	enum spf_wait w = c->wait;
	c->pending = NULL;
	c->wait = W_NONE;

	if (w == W_EXP) {
		got_exp(c, r);
		return;
	}
	if (w == W_P_PTR || w == W_P_ADDR) {
		p_answer(c, w, r);
		return;
	}
	const struct spf_term *t = f->term < f->rec.n ? &f->rec.terms[f->term] : NULL;
	switch (w) {
	case W_TXT: {
		/* RFC 7208 4.4, 4.5 */
		if (r->status == DNS_TEMPFAIL) {
			finish(c, SPF_TEMPERROR, "DNS error looking up the SPF record");
			return;
		}
		size_t found = 0, which = 0;
		for (size_t i = 0; r->status == DNS_FOUND && i < r->n; i++) {
			if (spf_is_record(r->rr[i].text, r->rr[i].len)) {
				found++;
				which = i;
			}
		}
		if (found == 0) {
			frame_done(c, SPF_NONE);
			return;
		}
		if (found > 1) {
			finish(c, SPF_PERMERROR, "more than one SPF record");
			return;
		}
		char err[96];
		if (spf_record_parse(r->rr[which].text, r->rr[which].len, &f->rec, err,
			sizeof(err)) != 0) {
			char msg[400];
			snprintf(msg, sizeof(msg), "bad SPF record of %s: %s", f->domain, err);
			finish(c, SPF_PERMERROR, msg);
			return;
		}
		f->term = 0;
		advance(c);
		return;
	}
	case W_A:
	case W_EXISTS:
		if (r->status == DNS_TEMPFAIL) {
			finish(c, SPF_TEMPERROR, "DNS error in a or exists");
			return;
		}
		if (r->status == DNS_FOUND &&
		    (w == W_EXISTS || any_addr_match(c, r, term_prefix(c, t)))) {
			matched(c);
			return;
		}
		if ((r->status == DNS_NXDOMAIN || r->status == DNS_NODATA) && !count_void(c))
			return;
		next_term(c);
		return;
	case W_MX:
		if (r->status == DNS_TEMPFAIL) {
			finish(c, SPF_TEMPERROR, "DNS error in mx");
			return;
		}
		if (r->status != DNS_FOUND) {
			if (r->status != DNS_INVALID && !count_void(c))
				return;
			next_term(c);
			return;
		}
		if (r->n > SPF_MAX_NAMES) {
			finish(c, SPF_PERMERROR, "more than 10 MX records");
			return;
		}
		names_clear(f);
		f->names = xcalloc(r->n, sizeof(char *));
		for (size_t i = 0; i < r->n; i++)
			f->names[f->nnames++] = xstrdup(r->rr[i].text);
		f->iname = 0;
		lookup(c, W_MXADDR, addr_type(c), f->names[0]);
		return;
	case W_MXADDR:
		if (r->status == DNS_TEMPFAIL) {
			finish(c, SPF_TEMPERROR, "DNS error looking up an MX host");
			return;
		}
		if (r->status == DNS_FOUND && any_addr_match(c, r, term_prefix(c, t))) {
			names_clear(f);
			matched(c);
			return;
		}
		if (++f->iname < f->nnames) {
			lookup(c, W_MXADDR, addr_type(c), f->names[f->iname]);
			return;
		}
		names_clear(f);
		next_term(c);
		return;
	case W_PTR:
		/* RFC 7208 5.5: a DNS error means no match. */
		if (r->status != DNS_FOUND) {
			if ((r->status == DNS_NXDOMAIN || r->status == DNS_NODATA) && !count_void(c))
				return;
			next_term(c);
			return;
		}
		names_clear(f);
		size_t n = r->n < SPF_MAX_NAMES ? r->n : SPF_MAX_NAMES;
		f->names = xcalloc(n, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			f->names[f->nnames++] = xstrdup(r->rr[i].text);
		if (!ptr_next(c)) {
			names_clear(f);
			next_term(c);
		}
		return;
	case W_PTRADDR:
		/* An error skips the name (RFC 7208 5.5). */
		if (r->status == DNS_FOUND && any_addr_match(c, r, c->ip.family == AF_INET ? 32 : 128)) {
			names_clear(f);
			matched(c);
			return;
		}
		f->iname++;
		if (!ptr_next(c)) {
			names_clear(f);
			next_term(c);
		}
		return;
	case W_NONE:
	case W_EXP:
	case W_P_PTR:
	case W_P_ADDR:
		break;
	}
}

struct spf_check *
spf_check_start(struct dns *d, struct event_base *base, const struct spf_request *req,
    spf_cb *cb, void *arg)
{
	struct spf_check *c = xcalloc(1, sizeof(*c));
	c->dns = d;
	c->base = base;
	c->cb = cb;
	c->arg = arg;
	c->ip = req->ip;
	/* RFC 7208 5: an IPv4-mapped IPv6 client is an IPv4 client. */
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (c->ip.family == AF_INET6 && memcmp(c->ip.addr, mapped, sizeof(mapped)) == 0) {
		c->ip.family = AF_INET;
		memmove(c->ip.addr, c->ip.addr + 12, 4);
		memset(c->ip.addr + 4, 0, 12);
	}
	c->helo = xstrdup(req->helo != NULL ? req->helo : "");
	c->receiver = req->receiver != NULL ? xstrdup(req->receiver) : NULL;

	/* RFC 7208 2.4: the null sender is postmaster@<HELO>. 4.3: an empty
	 * local part is "postmaster". */
	const char *s = req->sender != NULL ? req->sender : "";
	const char *at = strrchr(s, '@');
	if (s[0] == '\0') {
		c->local = xstrdup("postmaster");
		c->sender_dom = xstrdup(c->helo);
	} else if (at == NULL) {
		c->local = xstrdup("postmaster");
		c->sender_dom = xstrdup(s);
	} else {
		c->local = at == s ? xstrdup("postmaster") : xstrndup(s, (size_t)(at - s));
		c->sender_dom = xstrdup(at + 1);
	}
	c->sender = xasprintf("%s@%s", c->local, c->sender_dom);
	snprintf(c->first_domain, sizeof(c->first_domain), "%s", c->sender_dom);

	if (!domain_ok(c->sender_dom) || (c->ip.family != AF_INET && c->ip.family != AF_INET6)) {
		/* RFC 7208 4.3: a malformed or single-label domain gives none. */
		c->result = SPF_NONE;
		snprintf(c->problem, sizeof(c->problem), "no valid domain to check");
		c->ev = event_new(base, -1, 0, deliver_ev, c);
		if (c->ev == NULL)
			log_fatal("event=fatal msg=\"out of memory in spf_check_start\"");
		event_active(c->ev, EV_READ, 0);
		return c;
	}
	unsigned ms = req->timeout_ms > 0 ? req->timeout_ms : SPF_DEFAULT_TIMEOUT_MS;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	c->deadline = evtimer_new(base, deadline_cb, c);
	if (c->deadline == NULL || evtimer_add(c->deadline, &tv) != 0)
		log_fatal("event=fatal msg=\"cannot arm the SPF time limit\"");
	push_frame(c, c->sender_dom, false);
	return c;
}

void
spf_check_cancel(struct spf_check *c)
{
	if (c == NULL)
		return;
	if (c->pending != NULL)
		dns_cancel(c->pending);
	check_free(c);
}

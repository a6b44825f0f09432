/*
 * helo_dns.c - James's fastfail.ResolvableEhloHeloHandler and
 * fastfail.ReverseEqualsEhloHeloHandler (james.md 1b.6).
 *
 * ResolvableEhloHeloHandler: the HELO/EHLO name must resolve (an A
 * record, else AAAA). ReverseEqualsEhloHeloHandler: the name must be one
 * of the client's PTR names (any case). James's ReverseEquals never calls
 * its own check (a known James bug) and behaves like ResolvableEhloHelo;
 * mailetd does the intended PTR check, forward-confirmed as Java's
 * getHostName() does: the name must also resolve back to the client's
 * address (FCrDNS). An address literal ([1.2.3.4],
 * [IPv6:...]) resolves by itself, and for ReverseEquals must be the
 * client's own address.
 *
 * The lookup starts at HELO/EHLO (which is answered at once); MAIL and
 * RCPT wait for it if needed (PENDING) and then get
 *   501 5.5.4 Provided EHLO/HELO Optional[<name>] can not resolved.
 * (James's text, Java's Optional[...] included). A temporary DNS failure
 * is never taken for "does not resolve": MAIL and RCPT get
 *   451 4.4.3 Temporary DNS failure checking EHLO/HELO <name>; please try again later
 * (James cannot tell the two apart and rejects permanently.)
 * <checkAuthNetworks> (default false, as James's sample files document;
 * James itself ignores it): when false, clients that may relay
 * (authorizedAddresses, AUTH) are not checked.
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"
#include "../../src/dns/dns.h"
#include "../../src/protocol/smtp_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct helo_dns_conf {
	bool check_auth;
};

static const struct cfg_field helo_dns_fields[] = {
	{ .name = "checkAuthNetworks", .type = CFG_T_BOOL, .def = 0,
	    .off = offsetof(struct helo_dns_conf, check_auth) },
};

static int
helo_dns_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct helo_dns_conf *c = xcalloc(1, sizeof(*c));
	cfg_fields_defaults(helo_dns_fields, 1, c);
	cfg_fields_read(x, node, helo_dns_fields, 1, c);
	*conf = c;
	return 0;
}

enum helo_phase { HELO_IDLE, HELO_RUNNING, HELO_DONE };
enum helo_verdict { HELO_GOOD, HELO_BAD, HELO_TEMP };

struct helo_dns_state {
	bool reverse;               /* ReverseEquals, else Resolvable */
	const char *sid;
	enum helo_phase phase;
	enum helo_verdict verdict;
	enum dns_type asked;        /* Resolvable: A, then AAAA; Reverse: PTR,
	                               then A or AAAA (forward confirmation) */
	struct netaddr client;
	struct dns_query *q;
	struct hook_pending *pending;
	struct dns *dns;
	struct event_base *base;
	char helo[512];
	char reply[640];
};

static void
helo_dns_state_free(void *p)
{
	struct helo_dns_state *st = p;
	if (st->q != NULL)
		dns_cancel(st->q); /* the session ends */
	free(st);
}

static struct hook_result
helo_dns_result(struct helo_dns_state *st)
{
	switch (st->verdict) {
	case HELO_BAD:
		snprintf(st->reply, sizeof(st->reply),
		    "Provided EHLO/HELO Optional[%s] can not resolved.", st->helo);
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 501, .ecode = "5.5.4",
			.text = st->reply };
	case HELO_TEMP:
		snprintf(st->reply, sizeof(st->reply),
		    "Temporary DNS failure checking EHLO/HELO %s; please try again later", st->helo);
		return (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451, .ecode = "4.4.3",
			.text = st->reply };
	case HELO_GOOD:
		break;
	}
	return HOOK_RESULT_DECLINED;
}

static void
helo_dns_done(struct helo_dns_state *st, enum helo_verdict v)
{
	st->phase = HELO_DONE;
	st->verdict = v;
	log_info(st->sid, "event=%s helo=%s result=%s", st->reverse ? "helo-reverse" : "helo-resolvable",
	    st->helo, v == HELO_GOOD ? "ok" : v == HELO_BAD ? "bad" : "tempfail");
	struct hook_pending *p = st->pending;
	st->pending = NULL;
	if (p != NULL)
		hook_resume(p, helo_dns_result(st)); /* last: it may run the session on */
}

static void
helo_dns_cb(const struct dns_result *r, void *arg)
{
	struct helo_dns_state *st = arg;
	st->q = NULL;
	if (r->status == DNS_TEMPFAIL) {
		helo_dns_done(st, HELO_TEMP);
		return;
	}
	if (st->reverse && st->asked == DNS_PTR) {
		for (size_t i = 0; i < r->n; i++)
			if (fastfail_same_host(r->rr[i].text, st->helo)) {
				/* Forward-confirm: the name must lead back to the client. */
				st->asked = st->client.family == AF_INET ? DNS_A : DNS_AAAA;
				st->q = dns_lookup(st->dns, st->base, st->asked, st->helo, helo_dns_cb,
				    st);
				return;
			}
		helo_dns_done(st, HELO_BAD);
		return;
	}
	if (st->reverse) {
		size_t alen = st->client.family == AF_INET ? 4 : 16;
		for (size_t i = 0; i < r->n; i++)
			if (r->rr[i].addr.family == st->client.family &&
			    memcmp(r->rr[i].addr.addr, st->client.addr, alen) == 0) {
				helo_dns_done(st, HELO_GOOD);
				return;
			}
		helo_dns_done(st, HELO_BAD);
		return;
	}
	if (r->status == DNS_FOUND) {
		helo_dns_done(st, HELO_GOOD);
	} else if (r->status == DNS_NODATA && st->asked == DNS_A) {
		st->asked = DNS_AAAA; /* the name exists: maybe IPv6 only */
		st->q = dns_lookup(st->dns, st->base, DNS_AAAA, st->helo, helo_dns_cb, st);
	} else {
		helo_dns_done(st, HELO_BAD);
	}
}

/* An address literal: "[1.2.3.4]" or "[IPv6:...]" into a; false if not one. */
static bool
helo_dns_literal(const char *helo, struct netaddr *a)
{
	size_t n = strlen(helo);
	if (n < 3 || helo[0] != '[' || helo[n - 1] != ']' || n > 64)
		return false;
	char buf[64];
	memcpy(buf, helo + 1, n - 2);
	buf[n - 2] = '\0';
	const char *p = strncasecmp(buf, "IPv6:", 5) == 0 ? buf + 5 : buf;
	return netaddr_parse(p, a) == 0;
}

static bool
helo_dns_skip(const struct hook_session *s)
{
	const struct helo_dns_conf *c = s->conf;
	return c == NULL || (s->relaying_allowed && !c->check_auth);
}

static struct hook_result
helo_dns_helo_common(const struct hook_session *s, const char *arg, bool reverse)
{
	if (helo_dns_skip(s))
		return HOOK_RESULT_DECLINED;
	struct helo_dns_state *st = *s->state;
	if (st == NULL) {
		st = *s->state = xcalloc(1, sizeof(*st));
		st->reverse = reverse;
		st->sid = s->id;
	}
	if (st->q != NULL) { /* a second HELO before the first was answered */
		dns_cancel(st->q);
		st->q = NULL;
	}
	snprintf(st->helo, sizeof(st->helo), "%s", arg);
	struct netaddr lit;
	if (helo_dns_literal(arg, &lit)) {
		bool good = !reverse || (lit.family == s->client.family &&
					    memcmp(lit.addr, s->client.addr,
						lit.family == AF_INET ? 4 : 16) == 0);
		helo_dns_done(st, good ? HELO_GOOD : HELO_BAD);
		return HOOK_RESULT_DECLINED;
	}
	st->dns = fastfail_resolver(s);
	st->base = s->base;
	if (st->dns == NULL || st->base == NULL) {
		st->phase = HELO_IDLE; /* nothing to ask: not checked */
		return HOOK_RESULT_DECLINED;
	}
	st->phase = HELO_RUNNING;
	if (reverse) {
		st->asked = DNS_PTR;
		st->client = s->client;
		st->q = dns_lookup_ptr(st->dns, st->base, &s->client, helo_dns_cb, st);
	} else {
		st->asked = DNS_A;
		st->q = dns_lookup(st->dns, st->base, DNS_A, st->helo, helo_dns_cb, st);
	}
	return HOOK_RESULT_DECLINED; /* HELO is answered now; MAIL/RCPT wait if needed */
}

static struct hook_result
resolvable_helo(const struct hook_session *s, const char *arg)
{
	return helo_dns_helo_common(s, arg, false);
}

static struct hook_result
reverse_helo(const struct hook_session *s, const char *arg)
{
	return helo_dns_helo_common(s, arg, true);
}

/* MAIL and RCPT: the verdict, waiting for it if the lookup still runs. */
static struct hook_result
helo_dns_check(const struct hook_session *s)
{
	struct helo_dns_state *st = *s->state;
	if (helo_dns_skip(s) || st == NULL || st->phase == HELO_IDLE)
		return HOOK_RESULT_DECLINED;
	if (st->phase == HELO_RUNNING) {
		if (s->resume == NULL)
			return (struct hook_result){ .verdict = HOOK_DENYSOFT };
		st->pending = hook_suspend(s);
		return (struct hook_result){ .verdict = HOOK_PENDING };
	}
	return helo_dns_result(st);
}

static struct hook_result
helo_dns_mail(const struct hook_session *s, const struct smtp_path *sender)
{
	(void)sender;
	return helo_dns_check(s);
}

static struct hook_result
helo_dns_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	(void)rcpt;
	return helo_dns_check(s);
}

const struct handler_def handler_resolvable_helo = {
	.name = "ResolvableEhloHeloHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.ResolvableEhloHeloHandler",
	.summary = "the HELO/EHLO name must resolve",
	.configure = helo_dns_configure,
	.state_free = helo_dns_state_free,
	.helo = resolvable_helo,
	.mail = helo_dns_mail,
	.rcpt = helo_dns_rcpt,
};

const struct handler_def handler_reverse_helo = {
	.name = "ReverseEqualsEhloHeloHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.ReverseEqualsEhloHeloHandler",
	.summary = "the HELO/EHLO name must be the client's reverse DNS name",
	.configure = helo_dns_configure,
	.state_free = helo_dns_state_free,
	.helo = reverse_helo,
	.mail = helo_dns_mail,
	.rcpt = helo_dns_rcpt,
};

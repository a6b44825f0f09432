/*
 * dnsrbl.c - James's fastfail.DNSRBLHandler (james.md 1b.6).
 *
 * <rblservers> with <whitelist> and <blacklist> zones (repeatable; at
 * least one in all) and <getDetail> (default false). A client that may
 * relay (authorizedAddresses, or after AUTH) is never checked. Otherwise
 * its address is looked up in every zone (RFC 5782: d.c.b.a.zone for
 * IPv4, the 32 nibbles for IPv6, src/dns/dnsbl.h): listed in any
 * whitelist, it passes; else listed in a blacklist (the first in document
 * order), every RCPT gets
 *   554 5.7.1 Rejected: unauthenticated e-mail from /1.2.3.4 is restricted.  Contact the postmaster for details.
 * (James's text, with Java's "/address"), or with getDetail the TXT record
 * of the listing: "554 5.7.1 <TXT>". postmaster@ and abuse@ are left to
 * the core hooks, as James's own comment intends (RFC 5321 4.5.1) though
 * its chain order rejects them too.
 *
 * The lookups start, all at once, when the client connects, so they are
 * usually answered by its first RCPT; a RCPT that comes earlier waits
 * (PENDING). They are made once per connection. A lookup that fails
 * temporarily (timeout, SERVFAIL) counts as "not listed", as in James: a
 * DNSBL outage lets mail pass rather than refuse it. Lookups still running
 * when the session ends are cancelled (state_free).
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"
#include "../../src/dns/dnsbl.h"
#include "../../src/protocol/smtp_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct dnsrbl_conf {
	char **zones;       /* whitelist zones, then blacklist zones */
	size_t nwhite;
	size_t n;
	bool detail;
};

enum dnsrbl_phase { RBL_IDLE, RBL_RUNNING, RBL_DONE };

struct dnsrbl_state;

struct dnsrbl_lookup {
	struct dnsrbl_state *st;
	struct dns_query *q;    /* running, or NULL */
	bool found;
	char name[DNS_NAME_MAX + 1];
};

struct dnsrbl_state {
	const struct dnsrbl_conf *conf;
	const char *sid;        /* the session id, for logs */
	enum dnsrbl_phase phase;
	size_t left;            /* zone lookups outstanding */
	struct dnsrbl_lookup *lk;
	struct dns_query *txt;  /* the getDetail lookup, or NULL */
	long listed_by;         /* index of the listing zone, -1 */
	struct hook_pending *pending; /* a RCPT waiting for the answer */
	struct dns *dns;
	struct event_base *base;
	char reply[300];
};

static void
dnsrbl_conf_free(void *p)
{
	struct dnsrbl_conf *c = p;
	fastfail_zones_free(c->zones, c->n);
	free(c);
}

/* Reads the zones of <rblservers>; whitelists come first in c->zones. */
static int
dnsrbl_servers(struct cfg_xml *x, const xmlNode *node, struct dnsrbl_conf *c)
{
	int rc = 0;
	for (int pass = 0; pass < 2; pass++) {
		const char *want = pass == 0 ? "whitelist" : "blacklist";
		for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
			const char *name = cfg_xml_name(k);
			if (strcmp(name, "whitelist") != 0 && strcmp(name, "blacklist") != 0) {
				if (pass == 0)
					cfg_warn(x->diag, x->path, cfg_xml_line(k),
					    "<%s>: unknown element, ignored", name);
				continue;
			}
			if (strcmp(name, want) != 0)
				continue;
			if (fastfail_zone_add(x, k, &c->zones, &c->n) < 0) {
				rc = -1;
				continue;
			}
			if (pass == 0)
				c->nwhite++;
		}
	}
	return rc;
}

static int
dnsrbl_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct dnsrbl_conf *c = xcalloc(1, sizeof(*c));
	int rc = 0;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		const char *name = cfg_xml_name(k);
		if (strcmp(name, "rblservers") == 0) {
			if (dnsrbl_servers(x, k, c) < 0)
				rc = -1;
		} else if (strcmp(name, "getDetail") == 0) {
			if (cfg_xml_bool(x, k, NULL, &c->detail) < 0)
				rc = -1;
		} else {
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    name);
		}
	}
	if (rc == 0 && c->n == 0) {
		/* James: "Please configure whitelist or blacklist". */
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: DNSRBLHandler needs <rblservers> with a <whitelist> or <blacklist>");
		rc = -1;
	}
	if (rc < 0) {
		dnsrbl_conf_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

static void
dnsrbl_state_free(void *p)
{
	struct dnsrbl_state *st = p;
	/* The session ends: nothing may call back into st any more. */
	for (size_t i = 0; st->lk != NULL && i < st->conf->n; i++)
		if (st->lk[i].q != NULL)
			dns_cancel(st->lk[i].q);
	if (st->txt != NULL)
		dns_cancel(st->txt);
	free(st->lk);
	free(st);
}

/* The decision is there: answer a waiting RCPT (last: it may run the session on). */
static void
dnsrbl_done(struct dnsrbl_state *st)
{
	st->phase = RBL_DONE;
	struct hook_pending *p = st->pending;
	st->pending = NULL;
	if (p == NULL)
		return;
	struct hook_result r = HOOK_RESULT_DECLINED;
	if (st->listed_by >= 0)
		r = (struct hook_result){ .verdict = HOOK_DENY, .code = 554, .ecode = "5.7.1",
			.text = st->reply };
	hook_resume(p, r);
}

static void
dnsrbl_txt_cb(const struct dns_result *r, void *arg)
{
	struct dnsrbl_state *st = arg;
	st->txt = NULL;
	char detail[256];
	if (dnsbl_detail(r, detail, sizeof(detail)) > 0)
		snprintf(st->reply, sizeof(st->reply), "%s", detail);
	dnsrbl_done(st);
}

/* Every zone has answered: whitelists first, then the first listing blacklist. */
static void
dnsrbl_decide(struct dnsrbl_state *st)
{
	const struct dnsrbl_conf *c = st->conf;
	for (size_t i = 0; i < c->nwhite; i++)
		if (st->lk[i].found) {
			log_info(st->sid, "event=dnsrbl result=whitelisted zone=%s", c->zones[i]);
			dnsrbl_done(st);
			return;
		}
	for (size_t i = c->nwhite; i < c->n; i++) {
		if (!st->lk[i].found)
			continue;
		st->listed_by = (long)i;
		log_info(st->sid, "event=dnsrbl result=listed zone=%s", c->zones[i]);
		if (c->detail) {
			st->txt = dns_lookup(st->dns, st->base, DNS_TXT, st->lk[i].name, dnsrbl_txt_cb,
			    st);
			return;
		}
		break;
	}
	dnsrbl_done(st);
}

static void
dnsrbl_cb(const struct dns_result *r, void *arg)
{
	struct dnsrbl_lookup *lk = arg;
	struct dnsrbl_state *st = lk->st;
	size_t i = (size_t)(lk - st->lk);
	lk->q = NULL;
	if (i < st->conf->nwhite) {
		lk->found = r->status == DNS_FOUND;
	} else {
		struct dnsbl_answer ans;
		dnsbl_interpret(r, &ans);
		lk->found = ans.verdict == DNSBL_LISTED;
		if (ans.verdict == DNSBL_ERROR)
			log_warn(st->sid, "event=dnsrbl-error zone=%s msg=\"answer is no listing code\"",
			    st->conf->zones[i]);
	}
	if (r->status == DNS_TEMPFAIL)
		log_warn(st->sid, "event=dnsrbl-tempfail zone=%s why=\"%s\" msg=\"counted as not listed\"",
		    st->conf->zones[i], r->why != NULL ? r->why : "");
	if (--st->left == 0)
		dnsrbl_decide(st);
}

/* Starts the lookups of every zone (on the session's thread). */
static void
dnsrbl_start(struct dnsrbl_state *st, const struct hook_session *s)
{
	const struct dnsrbl_conf *c = st->conf;
	st->phase = RBL_RUNNING;
	st->dns = fastfail_resolver(s);
	st->base = s->base;
	st->lk = xcalloc(c->n, sizeof(*st->lk));
	for (size_t i = 0; i < c->n; i++)
		st->lk[i].st = st;
	/* Count first, then start (a callback never runs inside dns_lookup). */
	for (size_t i = 0; i < c->n; i++) {
		if (dnsbl_query_name(&s->client, c->zones[i], st->lk[i].name,
			sizeof(st->lk[i].name)) >= 0)
			st->left++;
		else
			st->lk[i].name[0] = '\0';
	}
	if (st->left == 0) {
		dnsrbl_done(st); /* no address to look up (a Unix socket) */
		return;
	}
	for (size_t i = 0; i < c->n; i++)
		if (st->lk[i].name[0] != '\0')
			st->lk[i].q = dns_lookup(st->dns, st->base, DNS_A, st->lk[i].name, dnsrbl_cb,
			    &st->lk[i]);
}

static struct dnsrbl_state *
dnsrbl_state(const struct hook_session *s)
{
	if (*s->state == NULL) {
		struct dnsrbl_state *st = xcalloc(1, sizeof(*st));
		st->conf = s->conf;
		st->sid = s->id;
		st->listed_by = -1;
		snprintf(st->reply, sizeof(st->reply),
		    "Rejected: unauthenticated e-mail from /%s is restricted.  Contact the "
		    "postmaster for details.",
		    s->client_text != NULL ? s->client_text : "");
		*s->state = st;
	}
	return *s->state;
}

static struct hook_result
dnsrbl_connect(const struct hook_session *s)
{
	if (s->conf == NULL || s->relaying_allowed || fastfail_resolver(s) == NULL ||
	    s->base == NULL)
		return HOOK_RESULT_DECLINED;
	dnsrbl_start(dnsrbl_state(s), s); /* answers come while the client talks */
	return HOOK_RESULT_DECLINED;
}

static struct hook_result
dnsrbl_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	if (s->conf == NULL || s->relaying_allowed)
		return HOOK_RESULT_DECLINED;
	if ((rcpt->at == 10 && strncasecmp(rcpt->mailbox, "postmaster", 10) == 0) ||
	    (rcpt->at == 5 && strncasecmp(rcpt->mailbox, "abuse", 5) == 0))
		return HOOK_RESULT_DECLINED;
	struct dnsrbl_state *st = dnsrbl_state(s);
	if (st->phase != RBL_DONE && !fastfail_can_wait(s)) {
		log_warn(s->id, "event=dnsrbl-skipped msg=\"no resolver\"");
		return HOOK_RESULT_DECLINED;
	}
	if (st->phase == RBL_IDLE)
		dnsrbl_start(st, s);
	if (st->phase == RBL_RUNNING) {
		st->pending = hook_suspend(s);
		return (struct hook_result){ .verdict = HOOK_PENDING };
	}
	if (st->listed_by < 0)
		return HOOK_RESULT_DECLINED;
	return (struct hook_result){ .verdict = HOOK_DENY, .code = 554, .ecode = "5.7.1",
		.text = st->reply };
}

const struct handler_def handler_dnsrbl = {
	.name = "DNSRBLHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.DNSRBLHandler",
	.summary = "clients listed in DNS blocklists may not send",
	.configure = dnsrbl_configure,
	.conf_free = dnsrbl_conf_free,
	.state_free = dnsrbl_state_free,
	.connect = dnsrbl_connect,
	.rcpt = dnsrbl_rcpt,
};

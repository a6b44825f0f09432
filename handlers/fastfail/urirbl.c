/*
 * urirbl.c - James's fastfail.URIRBLHandler (james.md 1b.6): a message
 * whose text names a domain listed in a URI blocklist (SURBL, URIBL) is
 * refused.
 *
 * <uriRblServers> with <server> zones (1..n, required), <getDetail>
 * (default false). At the end of data the message hook reads the first
 * URIRBL_READ_MAX octets of the message, cut back to the last whole line
 * (uri_scan.h says what is scanned: http, https and www. URLs in the text
 * parts, quoted-printable and base64 decoded), and looks up, for every
 * URL host, the name uri_registered_domain() gives (as James; an IPv4
 * address reversed), and then the full host names when they differ,
 * URIRBL_NAMES_MAX names in all, each as "<name>.<zone>" (A) in every
 * zone, all at once; the message waits (PENDING). An answer in
 * 127.0.0.0/8 (not 127.0.0.1, not a list's 127.255.255.x error code) is
 * a listing. The first listed name in that order, with the first zone in
 * document order, gets
 *   554 5.7.0 Rejected: message contains domain <name> listed by <zone>
 * or with getDetail and a TXT record at the name
 *   554 5.7.0 Rejected: message contains domain <name> listed by <zone> . Details: <TXT>
 * (James prints the zone as "Optional[<zone>]" and drops the space after
 * 5.7.0 in the detail variant: bugs, not copied). A lookup that fails
 * temporarily counts as not listed, as in James: a blocklist outage lets
 * mail pass. Lookups still running when the session ends are cancelled.
 *
 * Clients that may relay are checked too (James does); the James 2.x
 * parameter <checkAuthNetworks>false</checkAuthNetworks> skips them.
 * <action> (James 2.x) is accepted; only "reject" exists.
 *
 * The message is read with pread on the session's I/O thread: the spool
 * has just written it, so the bounded prefix comes from the page cache
 * (a copy of at most 256 KiB, like the writes the session already does
 * there), and the scan is linear in it.
 */
#include "fastfail.h"
#include "uri_scan.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"
#include "../../src/dns/dnsbl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define URIRBL_READ_MAX  (256 * 1024)
#define URIRBL_NAMES_MAX 20

struct urirbl_conf {
	char **zones;
	size_t n;
	bool detail;
	bool skip_relay; /* <checkAuthNetworks>false</checkAuthNetworks> */
};

struct urirbl_state;

struct urirbl_lookup {
	struct urirbl_state *st;
	struct dns_query *q; /* running, or NULL */
	bool found;
	size_t name; /* index into names */
	size_t zone;
	char qname[DNS_NAME_MAX + 1];
};

struct urirbl_state {
	const struct urirbl_conf *conf;
	const char *sid;
	char names[URIRBL_NAMES_MAX][URI_HOST_MAX + 1];
	size_t nnames;
	struct urirbl_lookup *lk;
	size_t nlk;
	size_t left;
	struct dns_query *txt;
	long listed; /* index into lk, or -1 */
	struct hook_pending *pending;
	struct dns *dns;
	struct event_base *base;
	char reply[600];
};

static void
urirbl_conf_free(void *p)
{
	struct urirbl_conf *c = p;
	fastfail_zones_free(c->zones, c->n);
	free(c);
}

static int
urirbl_servers(struct cfg_xml *x, const xmlNode *node, struct urirbl_conf *c)
{
	int rc = 0;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		const char *name = cfg_xml_name(k);
		if (strcmp(name, "server") != 0) {
			cfg_warn(x->diag, x->path, cfg_xml_line(k),
			    "<%s>: unknown element, ignored", name);
			continue;
		}
		if (fastfail_zone_add(x, k, &c->zones, &c->n) < 0)
			rc = -1;
	}
	return rc;
}

static int
urirbl_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct urirbl_conf *c = xcalloc(1, sizeof(*c));
	int rc = 0;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		const char *name = cfg_xml_name(k);
		if (strcmp(name, "uriRblServers") == 0) {
			if (urirbl_servers(x, k, c) < 0)
				rc = -1;
		} else if (strcmp(name, "getDetail") == 0) {
			if (cfg_xml_bool(x, k, NULL, &c->detail) < 0)
				rc = -1;
		} else if (strcmp(name, "checkAuthNetworks") == 0) {
			bool check;
			if (cfg_xml_bool(x, k, NULL, &check) < 0)
				rc = -1;
			else
				c->skip_relay = !check;
		} else if (strcmp(name, "action") == 0) {
			char *v;
			if (cfg_xml_text(x, k, &v) < 0) {
				rc = -1;
				continue;
			}
			if (strcmp(v, "reject") != 0)
				cfg_warn(x->diag, x->path, cfg_xml_line(k),
				    "<action>: \"%s\" is not supported (only reject); ignored", v);
			free(v);
		} else {
			cfg_warn(x->diag, x->path, cfg_xml_line(k),
			    "<%s>: unknown element, ignored", name);
		}
	}
	if (rc == 0 && c->n == 0) {
		/* James: "Please provide at least one server". */
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: URIRBLHandler needs <uriRblServers> with at least one <server>");
		rc = -1;
	}
	if (rc < 0) {
		urirbl_conf_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

/* Cancels what runs (the session ends, or a new message starts). */
static void
urirbl_stop(struct urirbl_state *st)
{
	for (size_t i = 0; i < st->nlk; i++)
		if (st->lk[i].q != NULL)
			dns_cancel(st->lk[i].q);
	if (st->txt != NULL)
		dns_cancel(st->txt);
	st->txt = NULL;
	free(st->lk);
	st->lk = NULL;
	st->nlk = st->left = 0;
}

static void
urirbl_state_free(void *p)
{
	struct urirbl_state *st = p;
	urirbl_stop(st);
	free(st);
}

static void
urirbl_done(struct urirbl_state *st)
{
	struct hook_pending *p = st->pending;
	st->pending = NULL;
	struct hook_result r = HOOK_RESULT_DECLINED;
	if (st->listed >= 0)
		r = (struct hook_result){
		    .verdict = HOOK_DENY, .code = 554, .ecode = "5.7.0", .text = st->reply};
	if (p != NULL)
		hook_resume(p, r);
}

static void
urirbl_txt_cb(const struct dns_result *r, void *arg)
{
	struct urirbl_state *st = arg;
	st->txt = NULL;
	char detail[256];
	if (dnsbl_detail(r, detail, sizeof(detail)) > 0) {
		size_t n = strlen(st->reply);
		snprintf(st->reply + n, sizeof(st->reply) - n, " . Details: %s", detail);
	}
	urirbl_done(st);
}

static void
urirbl_decide(struct urirbl_state *st)
{
	/* lk is in (name, zone) order: the first found is the one to name */
	for (size_t i = 0; i < st->nlk; i++) {
		if (!st->lk[i].found)
			continue;
		const char *name = st->names[st->lk[i].name];
		const char *zone = st->conf->zones[st->lk[i].zone];
		st->listed = (long)i;
		snprintf(st->reply, sizeof(st->reply),
		    "Rejected: message contains domain %s listed by %s", name, zone);
		log_info(st->sid, "event=urirbl result=listed domain=%s zone=%s", name, zone);
		if (st->conf->detail) {
			st->txt = dns_lookup(
			    st->dns, st->base, DNS_TXT, st->lk[i].qname, urirbl_txt_cb, st);
			return;
		}
		break;
	}
	urirbl_done(st);
}

static void
urirbl_cb(const struct dns_result *r, void *arg)
{
	struct urirbl_lookup *lk = arg;
	struct urirbl_state *st = lk->st;
	lk->q = NULL;
	struct dnsbl_answer ans;
	dnsbl_interpret(r, &ans);
	lk->found = ans.verdict == DNSBL_LISTED;
	if (ans.verdict == DNSBL_ERROR)
		log_warn(st->sid, "event=urirbl-error name=%s msg=\"answer is no listing code\"",
		    lk->qname);
	else if (r->status == DNS_TEMPFAIL)
		log_warn(st->sid,
		    "event=urirbl-tempfail name=%s why=\"%s\" msg=\"counted as not listed\"",
		    lk->qname, r->why != NULL ? r->why : "");
	if (--st->left == 0)
		urirbl_decide(st);
}

/* Reads the bounded prefix of the message; NULL if it cannot be read. */
static char *
urirbl_read(const struct hook_session *s, size_t *len)
{
	int fd = hook_message_fd(s);
	if (fd < 0)
		return NULL;
	char *buf = xmalloc(URIRBL_READ_MAX);
	size_t got = 0;
	while (got < URIRBL_READ_MAX) {
		ssize_t k = pread(fd, buf + got, URIRBL_READ_MAX - got, (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			close(fd);
			free(buf);
			errno = e;
			return NULL;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got == URIRBL_READ_MAX) {
		/* cut short: keep whole lines only */
		while (got > 0 && buf[got - 1] != '\n')
			got--;
	}
	close(fd);
	*len = got;
	return buf;
}

static struct hook_result
urirbl_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	const struct urirbl_conf *c = s->conf;
	if (c == NULL || (c->skip_relay && s->relaying_allowed))
		return HOOK_RESULT_DECLINED;
	if (!fastfail_can_wait(s)) {
		log_warn(s->id, "event=urirbl-skipped msg=\"no resolver\"");
		return HOOK_RESULT_DECLINED;
	}
	struct urirbl_state *st = *s->state;
	if (st == NULL) {
		st = *s->state = xcalloc(1, sizeof(*st));
		st->conf = c;
		st->sid = s->id;
	}
	urirbl_stop(st);
	st->listed = -1;
	st->dns = fastfail_resolver(s);
	st->base = s->base;

	size_t len;
	char *msg = urirbl_read(s, &len);
	if (msg == NULL) {
		log_error(s->id,
		    "event=urirbl-error errno=%d error=\"message unreadable: %s\" "
		    "action=accept",
		    errno, strerror(errno));
		return HOOK_RESULT_DECLINED;
	}
	struct uri_hosts *h = xmalloc(sizeof(*h));
	h->n = 0;
	h->truncated = false;
	uri_scan_message(msg, len, h);
	free(msg);
	st->nnames = uri_lookup_names(h, st->names, URIRBL_NAMES_MAX);
	free(h);
	if (st->nnames == 0)
		return HOOK_RESULT_DECLINED;

	st->lk = xcalloc(st->nnames * c->n, sizeof(*st->lk));
	for (size_t i = 0; i < st->nnames; i++)
		for (size_t z = 0; z < c->n; z++) {
			struct urirbl_lookup *lk = &st->lk[st->nlk];
			int n = snprintf(
			    lk->qname, sizeof(lk->qname), "%s.%s", st->names[i], c->zones[z]);
			if (n < 0 || (size_t)n >= sizeof(lk->qname) || n > DNS_NAME_MAX)
				continue; /* too long to ask */
			lk->st = st;
			lk->name = i;
			lk->zone = z;
			st->nlk++;
		}
	if (st->nlk == 0)
		return HOOK_RESULT_DECLINED;
	log_info(s->id, "event=urirbl-lookup names=%zu lookups=%zu", st->nnames, st->nlk);
	/* Count first, then start (a callback never runs inside dns_lookup). */
	st->left = st->nlk;
	for (size_t i = 0; i < st->nlk; i++)
		st->lk[i].q =
		    dns_lookup(st->dns, st->base, DNS_A, st->lk[i].qname, urirbl_cb, &st->lk[i]);
	st->pending = hook_suspend(s);
	return (struct hook_result){.verdict = HOOK_PENDING};
}

const struct handler_def handler_urirbl = {
    .name = "URIRBLHandler",
    .james_class = "org.apache.james.smtpserver.fastfail.URIRBLHandler",
    .summary = "messages naming domains listed in URI blocklists are refused",
    .configure = urirbl_configure,
    .conf_free = urirbl_conf_free,
    .state_free = urirbl_state_free,
    .message = urirbl_message,
};

/*
 * valid_rcpt_mx.c - James's fastfail.ValidRcptMX (james.md 1b.6).
 *
 * <invalidMXNetworks> (repeatable; each a network or a comma-separated
 * list, as <authorizedAddresses>): a recipient whose domain's mail
 * exchangers (MX hosts, at most 10, or without MX the domain itself)
 * have an address in one of these networks is refused:
 *   530 5.7.1 Invalid MX <address> for domain <domain>. Reject email
 * Without <invalidMXNetworks> the bogon networks below are used. James
 * refuses any configured list in init (a known James bug) and prints the
 * client's address instead of the MX's; mailetd does the intended thing.
 * RCPT waits for the lookups (PENDING). A temporary failure of the MX
 * lookup is a DENYSOFT (451, James's default text), as in James; an
 * address lookup that fails is skipped, as in James. Only clients that
 * may relay (authorizedAddresses, AUTH) are checked, the case James's
 * class comment names: anyone else may only write to local domains, and
 * recipients in local domains and "localhost" are not checked (their mail
 * stays here), so strangers cannot make the server look names up.
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/config/config.h"
#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"
#include "../../src/dns/dns.h"
#include "../../src/protocol/smtp_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Networks no public mail exchanger lives in (RFC 6890 special-use). */
static const char bogons[] =
    "0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, "
    "192.0.0.0/24, 192.0.2.0/24, 192.168.0.0/16, 198.18.0.0/15, 198.51.100.0/24, "
    "203.0.113.0/24, 224.0.0.0/4, 240.0.0.0/4, ::/128, ::1/128, fc00::/7, fe80::/10, "
    "2001:db8::/32, ff00::/8";

#define VRMX_HOSTS 10

struct vrmx_conf {
	struct netlist nets;
};

static void
vrmx_conf_free(void *p)
{
	struct vrmx_conf *c = p;
	netlist_clear(&c->nets);
	free(c);
}

static int
vrmx_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct vrmx_conf *c = xcalloc(1, sizeof(*c));
	char err[200];
	int rc = 0;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		const char *name = cfg_xml_name(k);
		char *v;
		if (strcmp(name, "invalidMXNetworks") != 0) {
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    name);
			continue;
		}
		if (cfg_xml_text(x, k, &v) < 0) {
			rc = -1;
			continue;
		}
		if (netlist_parse(&c->nets, v, err, sizeof(err)) < 0) {
			cfg_error(x->diag, x->path, cfg_xml_line(k), "<invalidMXNetworks>: %s", err);
			rc = -1;
		}
		free(v);
	}
	if (rc == 0 && c->nets.n == 0 && netlist_parse(&c->nets, bogons, err, sizeof(err)) < 0) {
		cfg_error(x->diag, x->path, cfg_xml_line(node), "<handler>: %s", err);
		rc = -1;
	}
	if (rc < 0) {
		vrmx_conf_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

struct vrmx_state;

struct vrmx_addr_lookup {
	struct vrmx_state *st;
	struct dns_query *q;
};

struct vrmx_state {
	const char *sid;
	const struct vrmx_conf *conf;
	struct dns *dns;
	struct event_base *base;
	struct dns_query *mxq;
	struct vrmx_addr_lookup lk[2 * VRMX_HOSTS]; /* A and AAAA of each host */
	size_t left;
	struct hook_pending *pending;
	char domain[SMTP_MAILBOX_MAX + 1];
	char banned[64];              /* the first banned address found */
	char reply[SMTP_MAILBOX_MAX + 128];
};

static void
vrmx_cancel(struct vrmx_state *st)
{
	if (st->mxq != NULL)
		dns_cancel(st->mxq);
	st->mxq = NULL;
	for (size_t i = 0; i < 2 * VRMX_HOSTS; i++)
		if (st->lk[i].q != NULL) {
			dns_cancel(st->lk[i].q);
			st->lk[i].q = NULL;
		}
	st->left = 0;
}

static void
vrmx_state_free(void *p)
{
	struct vrmx_state *st = p;
	vrmx_cancel(st);
	free(st);
}

static void
vrmx_finish(struct vrmx_state *st, struct hook_result r)
{
	struct hook_pending *p = st->pending;
	st->pending = NULL;
	hook_resume(p, r);
}

/* Every address is known: a banned one refuses the recipient. */
static void
vrmx_decide(struct vrmx_state *st)
{
	if (st->banned[0] == '\0') {
		vrmx_finish(st, HOOK_RESULT_DECLINED);
		return;
	}
	log_info(st->sid, "event=rcpt-mx domain=%s result=banned address=%s", st->domain,
	    st->banned);
	snprintf(st->reply, sizeof(st->reply), "Invalid MX %s for domain %s. Reject email",
	    st->banned, st->domain);
	vrmx_finish(st, (struct hook_result){ .verdict = HOOK_DENY, .code = 530, .ecode = "5.7.1",
				.text = st->reply });
}

static void
vrmx_addr_cb(const struct dns_result *r, void *arg)
{
	struct vrmx_addr_lookup *lk = arg;
	struct vrmx_state *st = lk->st;
	lk->q = NULL;
	for (size_t i = 0; i < r->n && st->banned[0] == '\0'; i++)
		if (netlist_match(&st->conf->nets, &r->rr[i].addr))
			netaddr_format(&r->rr[i].addr, st->banned, sizeof(st->banned));
	if (--st->left == 0)
		vrmx_decide(st);
}

/* Looks up the addresses of the exchangers names[0..n). */
static void
vrmx_hosts(struct vrmx_state *st, const char *const *names, size_t n)
{
	st->left = 2 * n;
	for (size_t i = 0; i < n; i++) {
		st->lk[2 * i].st = st->lk[2 * i + 1].st = st;
		st->lk[2 * i].q = dns_lookup(st->dns, st->base, DNS_A, names[i], vrmx_addr_cb,
		    &st->lk[2 * i]);
		st->lk[2 * i + 1].q = dns_lookup(st->dns, st->base, DNS_AAAA, names[i], vrmx_addr_cb,
		    &st->lk[2 * i + 1]);
	}
}

static void
vrmx_mx_cb(const struct dns_result *r, void *arg)
{
	struct vrmx_state *st = arg;
	st->mxq = NULL;
	if (r->status == DNS_TEMPFAIL) {
		log_info(st->sid, "event=rcpt-mx domain=%s result=tempfail", st->domain);
		vrmx_finish(st, (struct hook_result){ .verdict = HOOK_DENYSOFT });
		return;
	}
	if (r->status == DNS_NODATA) {
		const char *self = st->domain; /* implicit MX (RFC 5321 5.1) */
		vrmx_hosts(st, &self, 1);
		return;
	}
	const char *names[VRMX_HOSTS];
	size_t n = 0;
	for (size_t i = 0; r->status == DNS_FOUND && i < r->n && n < VRMX_HOSTS; i++)
		if (r->rr[i].text != NULL && r->rr[i].text[0] != '\0')
			names[n++] = r->rr[i].text;
	if (n == 0) { /* no such domain, or a null MX: not this handler's business */
		vrmx_finish(st, HOOK_RESULT_DECLINED);
		return;
	}
	vrmx_hosts(st, names, n); /* dns_lookup copies the names */
}

static struct hook_result
vrmx_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	if (s->conf == NULL || !s->relaying_allowed || rcpt->at >= rcpt->len)
		return HOOK_RESULT_DECLINED;
	const char *domain = rcpt->mailbox + rcpt->at + 1;
	size_t dlen = rcpt->len - rcpt->at - 1;
	if (domain[0] == '[' || strcasecmp(domain, "localhost") == 0 ||
	    config_is_local_domain(s->cfg, domain, dlen))
		return HOOK_RESULT_DECLINED;
	if (!fastfail_can_wait(s)) {
		log_warn(s->id, "event=rcpt-mx-skipped msg=\"no resolver\"");
		return HOOK_RESULT_DECLINED;
	}
	struct vrmx_state *st = *s->state;
	if (st == NULL) {
		st = *s->state = xcalloc(1, sizeof(*st));
		st->sid = s->id;
		st->conf = s->conf;
	}
	vrmx_cancel(st);
	memcpy(st->domain, domain, dlen + 1);
	st->banned[0] = '\0';
	st->dns = fastfail_resolver(s);
	st->base = s->base;
	st->mxq = dns_lookup(st->dns, st->base, DNS_MX, st->domain, vrmx_mx_cb, st);
	st->pending = hook_suspend(s);
	return (struct hook_result){ .verdict = HOOK_PENDING };
}

const struct handler_def handler_valid_rcpt_mx = {
	.name = "ValidRcptMX",
	.james_class = "org.apache.james.smtpserver.fastfail.ValidRcptMX",
	.summary = "refuses recipient domains whose MX is in a banned network",
	.configure = vrmx_configure,
	.conf_free = vrmx_conf_free,
	.state_free = vrmx_state_free,
	.rcpt = vrmx_rcpt,
};

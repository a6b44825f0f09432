/*
 * valid_sender_domain.c - James's fastfail.ValidSenderDomainHandler
 * (james.md 1b.6).
 *
 * At MAIL, a non-null sender's domain must be able to receive mail: it
 * has MX records other than a null MX (RFC 7505), or, without MX, an
 * address record (the implicit MX of RFC 5321 5.1, which James's sample
 * files promise). Otherwise:
 *   501 5.1.7 sender <addr> contains a domain with no valid MX records
 * MAIL waits for the lookups (PENDING). A temporary DNS failure is
 *   451 4.4.3 Temporary DNS failure checking the domain of <addr>; please try again later
 * (James takes it for "no MX", a permanent rejection.) Address literals
 * ([1.2.3.4]) are not looked up. <checkAuthNetworks> (default false, as
 * James's sample files document): when false, clients that may relay are
 * not checked.
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

struct vsd_conf {
	bool check_auth;
};

static const struct cfg_field vsd_fields[] = {
	{ .name = "checkAuthNetworks", .type = CFG_T_BOOL, .def = 0,
	    .off = offsetof(struct vsd_conf, check_auth) },
};

static int
vsd_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct vsd_conf *c = xcalloc(1, sizeof(*c));
	cfg_fields_defaults(vsd_fields, 1, c);
	cfg_fields_read(x, node, vsd_fields, 1, c);
	*conf = c;
	return 0;
}

struct vsd_state {
	const char *sid;
	struct dns *dns;
	struct event_base *base;
	struct dns_query *q;
	enum dns_type asked;          /* MX, then A, then AAAA */
	struct hook_pending *pending;
	char sender[SMTP_MAILBOX_MAX + 1];
	const char *domain;           /* inside sender */
	char reply[SMTP_MAILBOX_MAX + 128];
};

static void
vsd_state_free(void *p)
{
	struct vsd_state *st = p;
	if (st->q != NULL)
		dns_cancel(st->q);
	free(st);
}

static void
vsd_finish(struct vsd_state *st, struct hook_result r, const char *what)
{
	log_info(st->sid, "event=sender-domain domain=%s result=%s", st->domain, what);
	struct hook_pending *p = st->pending;
	st->pending = NULL;
	hook_resume(p, r);
}

static void
vsd_cb(const struct dns_result *r, void *arg)
{
	struct vsd_state *st = arg;
	st->q = NULL;
	if (r->status == DNS_TEMPFAIL) {
		snprintf(st->reply, sizeof(st->reply),
		    "Temporary DNS failure checking the domain of %s; please try again later",
		    st->sender);
		vsd_finish(st,
		    (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451, .ecode = "4.4.3",
			.text = st->reply },
		    "tempfail");
		return;
	}
	bool good = false;
	if (r->status == DNS_FOUND && st->asked == DNS_MX) {
		/* A null MX ("MX 0 .", RFC 7505) says the domain takes no mail. */
		for (size_t i = 0; i < r->n; i++)
			if (r->rr[i].text != NULL && r->rr[i].text[0] != '\0')
				good = true;
	} else if (r->status == DNS_FOUND) {
		good = true;
	} else if (r->status == DNS_NODATA && st->asked != DNS_AAAA) {
		/* No MX: the implicit MX is the domain's address (RFC 5321 5.1). */
		st->asked = st->asked == DNS_MX ? DNS_A : DNS_AAAA;
		st->q = dns_lookup(st->dns, st->base, st->asked, st->domain, vsd_cb, st);
		return;
	}
	if (good) {
		vsd_finish(st, HOOK_RESULT_DECLINED, "ok");
		return;
	}
	snprintf(st->reply, sizeof(st->reply),
	    "sender %s contains a domain with no valid MX records", st->sender);
	vsd_finish(st,
	    (struct hook_result){ .verdict = HOOK_DENY, .code = 501, .ecode = "5.1.7",
		.text = st->reply },
	    "bad");
}

static struct hook_result
vsd_mail(const struct hook_session *s, const struct smtp_path *sender)
{
	const struct vsd_conf *c = s->conf;
	if (c == NULL || sender->null || sender->at >= sender->len ||
	    (s->relaying_allowed && !c->check_auth))
		return HOOK_RESULT_DECLINED;
	if (sender->mailbox[sender->at + 1] == '[')
		return HOOK_RESULT_DECLINED; /* an address literal */
	if (!fastfail_can_wait(s)) {
		log_warn(s->id, "event=sender-domain-skipped msg=\"no resolver\"");
		return HOOK_RESULT_DECLINED;
	}
	struct vsd_state *st = *s->state;
	if (st == NULL) {
		st = *s->state = xcalloc(1, sizeof(*st));
		st->sid = s->id;
	}
	memcpy(st->sender, sender->mailbox, sender->len + 1);
	st->domain = st->sender + sender->at + 1;
	st->dns = fastfail_resolver(s);
	st->base = s->base;
	st->asked = DNS_MX;
	st->q = dns_lookup(st->dns, st->base, DNS_MX, st->domain, vsd_cb, st);
	st->pending = hook_suspend(s);
	return (struct hook_result){ .verdict = HOOK_PENDING };
}

const struct handler_def handler_valid_sender_domain = {
	.name = "ValidSenderDomainHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.ValidSenderDomainHandler",
	.summary = "the sender's domain must have a mail exchanger",
	.configure = vsd_configure,
	.state_free = vsd_state_free,
	.mail = vsd_mail,
};

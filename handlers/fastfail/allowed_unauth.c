/*
 * allowed_unauth.c - James's fastfail.AllowedUnauthenticatedSender
 * (james.md 1b.6).
 *
 * <allowedSenders><allowedSender [fromIps="cidr,..."]>addr</allowedSender>
 * (at least one) and <allowNullSender> (default false). Applies only to a
 * client that may relay without having authenticated (authorizedAddresses):
 * its MAIL FROM must be a listed sender (any case), from a listed network
 * when fromIps is given; <> only with allowNullSender. Otherwise
 * "550 5.7.1 Sender <x> is not allowed for unauthenticated connection
 * from <ip>".
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/xmalloc.h"
#include "../../src/protocol/smtp_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct allowed_sender {
	char *addr;
	bool any_ip;          /* no fromIps */
	struct netlist nets;
};

struct allowed_unauth_conf {
	struct allowed_sender *v;
	size_t n;
	bool allow_null;
};

static void
allowed_unauth_free(void *p)
{
	struct allowed_unauth_conf *c = p;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].addr);
		netlist_clear(&c->v[i].nets);
	}
	free(c->v);
	free(c);
}

static int
allowed_unauth_sender(struct cfg_xml *x, xmlNode *k, struct allowed_unauth_conf *c)
{
	char *addr, *ips = NULL, err[200];
	if (cfg_xml_text(x, k, &addr) < 0)
		return -1;
	if (strchr(addr, '@') == NULL) {
		cfg_error(x->diag, x->path, cfg_xml_line(k), "<allowedSender>: \"%s\" is not an address",
		    addr);
		free(addr);
		return -1;
	}
	struct allowed_sender a = { .addr = addr, .any_ip = true };
	int rc = cfg_xml_attr(x, k, "fromIps", &ips);
	if (rc < 0) {
		free(addr);
		return -1;
	}
	if (rc == 1) {
		a.any_ip = false;
		if (netlist_parse(&a.nets, ips, err, sizeof(err)) != 0) {
			cfg_error(x->diag, x->path, cfg_xml_line(k), "<allowedSender>: fromIps: %s", err);
			free(ips);
			free(addr);
			netlist_clear(&a.nets);
			return -1;
		}
		free(ips);
	}
	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n++] = a;
	return 0;
}

static int
allowed_unauth_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct allowed_unauth_conf *c = xcalloc(1, sizeof(*c));
	int rc = 0;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		const char *name = cfg_xml_name(k);
		if (strcmp(name, "allowNullSender") == 0) {
			if (cfg_xml_bool(x, k, NULL, &c->allow_null) < 0)
				rc = -1;
		} else if (strcmp(name, "allowedSenders") == 0) {
			for (xmlNode *a = cfg_xml_child(k, NULL); a != NULL; a = cfg_xml_next(a, NULL)) {
				if (strcmp(cfg_xml_name(a), "allowedSender") != 0)
					cfg_warn(x->diag, x->path, cfg_xml_line(a),
					    "<%s>: unknown element, ignored", cfg_xml_name(a));
				else if (allowed_unauth_sender(x, a, c) < 0)
					rc = -1;
			}
		} else {
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    name);
		}
	}
	if (rc == 0 && c->n == 0 && !c->allow_null) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: AllowedUnauthenticatedSender needs <allowedSenders><allowedSender>");
		rc = -1;
	}
	if (rc < 0) {
		allowed_unauth_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

static struct hook_result
allowed_unauth_mail(const struct hook_session *s, const struct smtp_path *sender)
{
	const struct allowed_unauth_conf *c = s->conf;
	if (c == NULL || !s->relaying_allowed || s->authenticated)
		return HOOK_RESULT_DECLINED;
	if (sender->null) {
		if (c->allow_null)
			return HOOK_RESULT_DECLINED;
	} else {
		for (size_t i = 0; i < c->n; i++)
			if (strcasecmp(c->v[i].addr, sender->mailbox) == 0 &&
			    (c->v[i].any_ip || netlist_match(&c->v[i].nets, &s->client)))
				return HOOK_RESULT_DECLINED;
	}
	char *buf = *s->state;
	if (buf == NULL)
		buf = *s->state = xmalloc(SMTP_MAILBOX_MAX + 128);
	snprintf(buf, SMTP_MAILBOX_MAX + 128,
	    "Sender <%s> is not allowed for unauthenticated connection from %s", sender->mailbox,
	    s->client_text);
	return (struct hook_result){ .verdict = HOOK_DENY, .code = 550, .ecode = "5.7.1",
		.text = buf };
}

const struct handler_def handler_allowed_unauth = {
	.name = "AllowedUnauthenticatedSender",
	.james_class = "org.apache.james.smtpserver.fastfail.AllowedUnauthenticatedSender",
	.summary = "senders allowed to unauthenticated authorizedAddresses clients",
	.configure = allowed_unauth_configure,
	.conf_free = allowed_unauth_free,
	.mail = allowed_unauth_mail,
};

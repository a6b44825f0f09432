/*
 * config_auth.c - James's ConfigurationAuthHook (reference 1b.6): AUTH
 * (PLAIN, LOGIN) against static accounts written in the configuration,
 * for technical senders:
 *
 *   <handler class="org.apache.james.smtpserver.ConfigurationAuthHook">
 *     <accounts>
 *       <account>
 *         <username>noreply@domain.tld</username>
 *         <passwords><password>secret</password>...</passwords>
 *       </account>
 *     </accounts>
 *   </handler>
 *
 * Several passwords per account ease rotation. A matching user name and
 * password authenticate that name (OK); anything else declines, so the
 * next auth hook (the users repository) may still accept. Passwords are
 * compared in constant time; the configuration keeps them in clear, as
 * James's does.
 */
#include "core_handlers.h"

#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/core/xmalloc.h"

#include <libxml/tree.h>
#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

struct config_account {
	char *user;
	char **passwords;
	size_t npasswords;
};

struct config_auth_conf {
	struct config_account *v;
	size_t n;
};

static void
config_auth_free(void *p)
{
	struct config_auth_conf *c = p;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].user);
		for (size_t j = 0; j < c->v[i].npasswords; j++) {
			OPENSSL_cleanse(c->v[i].passwords[j], strlen(c->v[i].passwords[j]));
			free(c->v[i].passwords[j]);
		}
		free(c->v[i].passwords);
	}
	free(c->v);
	free(c);
}

static int
config_auth_account(struct cfg_xml *x, xmlNode *node, struct config_auth_conf *c)
{
	struct config_account a = { 0 };
	int rc = 0;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		const char *name = cfg_xml_name(k);
		if (strcmp(name, "username") == 0) {
			free(a.user);
			a.user = NULL;
			if (cfg_xml_text(x, k, &a.user) < 0)
				rc = -1;
		} else if (strcmp(name, "passwords") == 0) {
			for (xmlNode *pw = cfg_xml_child(k, NULL); pw != NULL; pw = cfg_xml_next(pw, NULL)) {
				char *text;
				if (strcmp(cfg_xml_name(pw), "password") != 0) {
					cfg_warn(x->diag, x->path, cfg_xml_line(pw),
					    "<%s>: unknown element, ignored", cfg_xml_name(pw));
				} else if (cfg_xml_text(x, pw, &text) < 0) {
					rc = -1;
				} else {
					a.passwords = xreallocarray(a.passwords, a.npasswords + 1,
					    sizeof(*a.passwords));
					a.passwords[a.npasswords++] = text;
				}
			}
		} else {
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    name);
		}
	}
	if (rc == 0 && (a.user == NULL || a.user[0] == '\0' ||
			   strlen(a.user) > HOOK_AUTH_NAME_MAX)) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<account>: needs a <username> (at most %d characters)", HOOK_AUTH_NAME_MAX);
		rc = -1;
	}
	if (rc == 0 && a.npasswords == 0) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<account>: needs <passwords><password>");
		rc = -1;
	}
	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n++] = a; /* freed with c, even when wrong */
	return rc;
}

static int
config_auth_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct config_auth_conf *c = xcalloc(1, sizeof(*c));
	int rc = 0;
	bool accounts = false;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		if (strcmp(cfg_xml_name(k), "accounts") != 0) {
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    cfg_xml_name(k));
			continue;
		}
		accounts = true;
		for (xmlNode *a = cfg_xml_child(k, NULL); a != NULL; a = cfg_xml_next(a, NULL)) {
			if (strcmp(cfg_xml_name(a), "account") != 0)
				cfg_warn(x->diag, x->path, cfg_xml_line(a),
				    "<%s>: unknown element, ignored", cfg_xml_name(a));
			else if (config_auth_account(x, a, c) < 0)
				rc = -1;
		}
	}
	if (rc == 0 && !accounts) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: ConfigurationAuthHook needs <accounts>");
		rc = -1;
	}
	if (rc < 0) {
		config_auth_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

/* Constant-time comparison of a given password with a configured one. */
static bool
config_auth_password_is(const char *want, const char *pw, size_t plen)
{
	size_t wlen = strlen(want);
	/* Compare as many octets either way, so the time tells nothing of want. */
	unsigned char diff = wlen != plen;
	for (size_t i = 0; i < plen; i++)
		diff |= (unsigned char)(pw[i] ^ (i < wlen ? want[i] : 0));
	return diff == 0;
}

static struct hook_result
config_auth(const struct hook_session *s, const struct hook_auth *a)
{
	const struct config_auth_conf *c = s->conf;
	if (c == NULL)
		return HOOK_RESULT_DECLINED;
	for (size_t i = 0; i < c->n; i++) {
		const struct config_account *acc = &c->v[i];
		if (strlen(acc->user) != a->ulen || memcmp(acc->user, a->user, a->ulen) != 0)
			continue;
		bool ok = false;
		for (size_t j = 0; j < acc->npasswords; j++)
			ok |= config_auth_password_is(acc->passwords[j], a->pass, a->plen);
		if (ok && hook_auth_user(s, acc->user, a->ulen) == 0)
			return (struct hook_result){ .verdict = HOOK_OK };
	}
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_config_auth = {
	.name = "ConfigurationAuthHook",
	.james_class = "org.apache.james.smtpserver.ConfigurationAuthHook",
	.summary = "AUTH against static accounts of the configuration",
	.configure = config_auth_configure,
	.conf_free = config_auth_free,
	.auth = config_auth,
};

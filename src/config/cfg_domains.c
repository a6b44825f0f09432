/* cfg_domains.c - loader for domainlist.xml (see cfg_domains.h). */
#include "cfg_domains.h"

#include "../core/log.h"
#include "../core/xmalloc.h"
#include "cfg_xml.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define QUOTE_MAX 96
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* What domainlist.xml is read into before the list is completed. */
struct dom_ctx {
	struct cfg_domains d;
	bool autodetect;
};

static cfg_field_fn dom_name, dom_default, dom_autodetect_ip;

static const struct cfg_field domainnames_fields[] = {
	{ .name = "domainname", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT, .fn = dom_name },
};

static const struct cfg_field domain_fields[] = {
	{ .name = "domainnames", .type = CFG_T_BLOCK, .off = 0, .sub = domainnames_fields,
	    .nsub = NELEM(domainnames_fields) },
	{ .name = "defaultDomain", .type = CFG_T_FUNC, .fn = dom_default },
	{ .name = "autodetect", .type = CFG_T_BOOL, .def = 0,
	    .off = offsetof(struct dom_ctx, autodetect) },
	{ .name = "autodetectIP", .type = CFG_T_FUNC, .fn = dom_autodetect_ip },
	/* The lookup cache of James's domain list; the list here is in memory. */
	{ .name = "read", .type = CFG_T_IGNORE },
};

bool
cfg_domains_contains(const struct cfg_domains *d, const char *name, size_t len)
{
	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->names[i]) == len && strncasecmp(d->names[i], name, len) == 0)
			return true;
	return false;
}

/* Appends name (taken over) unless it is already listed. */
static void
dom_add(struct cfg_domains *d, char *name)
{
	if (cfg_domains_contains(d, name, strlen(name))) {
		free(name);
		return;
	}
	d->names = xreallocarray(d->names, d->n + 1, sizeof(*d->names));
	d->names[d->n++] = name;
}

/*
 * Reads the text of node as a domain name, lower-cased. 1 with *out set, 0
 * if the text is empty, -1 after reporting a bad name.
 */
static int
read_domain(struct cfg_xml *x, const xmlNode *node, char **out)
{
	char *v, q[QUOTE_MAX];
	if (cfg_xml_text(x, node, &v) < 0)
		return -1;
	for (char *p = v; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (v[0] == '\0') {
		free(v);
		return 0;
	}
	if (!cfg_domain_syntax(v)) {
		cfg_error(x->diag, x->path, cfg_xml_line(node), "<%s>: %s is not a domain name",
		    cfg_xml_name(node), log_quote(q, sizeof(q), v, strlen(v)));
		free(v);
		return -1;
	}
	*out = v;
	return 1;
}

/* <domainnames><domainname>: one local domain; empty ones are skipped. */
static void
dom_name(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct dom_ctx *ctx = base;
	char *name;
	if (read_domain(x, node, &name) == 1)
		dom_add(&ctx->d, name);
}

/* <defaultDomain>: must be a name; it is added to the list afterwards. */
static void
dom_default(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct dom_ctx *ctx = base;
	char *name;
	int rc = read_domain(x, node, &name);
	if (rc == 0)
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<defaultDomain>: empty value (remove the element for \"localhost\")");
	if (rc != 1)
		return;
	free(ctx->d.default_domain);
	ctx->d.default_domain = name;
}

/* <autodetectIP>: validated; adding the host's addresses is not there yet. */
static void
dom_autodetect_ip(struct cfg_xml *x, xmlNode *node, void *base)
{
	bool on = false;
	(void)base;
	if (cfg_xml_bool(x, node, NULL, &on) == 1 && on)
		cfg_warn(x->diag, x->path, cfg_xml_line(node),
		    "<autodetectIP>: not yet supported; ignored");
}

/* The lower-cased host name if it is a usable domain other than localhost. */
static char *
autodetected_name(void)
{
	char name[256];
	if (gethostname(name, sizeof(name)) < 0)
		return NULL;
	name[sizeof(name) - 1] = '\0';
	for (char *p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!cfg_domain_syntax(name) || strcmp(name, "localhost") == 0)
		return NULL;
	return xstrdup(name);
}

int
cfg_domains_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_domains *out)
{
	struct dom_ctx ctx;
	struct cfg_xml x;

	memset(&ctx, 0, sizeof(ctx));
	cfg_fields_defaults(domain_fields, NELEM(domain_fields), &ctx);
	int rc = cfg_xml_open(&x, path, opts, diag);
	if (rc == 1) {
		cfg_fields_read(&x, cfg_xml_root(&x), domain_fields, NELEM(domain_fields), &ctx);
		cfg_xml_close(&x);
	}
	if (ctx.d.default_domain == NULL)
		ctx.d.default_domain = xstrdup("localhost");
	dom_add(&ctx.d, xstrdup(ctx.d.default_domain));
	if (ctx.autodetect) {
		char *host = autodetected_name();
		if (host != NULL)
			dom_add(&ctx.d, host);
	}
	*out = ctx.d;
	return rc;
}

void
cfg_domains_clear(struct cfg_domains *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	free(d->default_domain);
	memset(d, 0, sizeof(*d));
}

/* cfg_chain.c - <handlerchain> to a handler chain (see cfg_chain.h). */
#include "cfg_chain.h"

#include "../../handlers/registry.h"
#include "../core/log.h"

#include <stdlib.h>
#include <string.h>

#define QUOTE_MAX 160

/* A James command-handler loader class named as a <handler>: dormant in James. */
static bool
chain_is_loader(const char *cls)
{
	static const char suffix[] = "CmdHandlerLoader";
	size_t len = strlen(cls);
	return (strncmp(cls, "org.apache.james.smtpserver.", 28) == 0 ||
		   strncmp(cls, "org.apache.james.lmtpserver.", 28) == 0) &&
	    len > sizeof(suffix) - 1 && strcmp(cls + len - (sizeof(suffix) - 1), suffix) == 0 &&
	    strchr(cls + 28, '.') == NULL;
}

/* Custom loaders of James's examples: Java code that mailetd cannot load. */
static bool
chain_is_example_loader(const char *cls)
{
	return strncmp(cls, "org.apache.james.examples.", 26) == 0 &&
	    strstr(cls, "CmdHandlerLoader") != NULL;
}

/* One <handler>: appended to c, skipped with a warning, or an error. */
static void
chain_handler(struct cfg_xml *x, const xmlNode *h, struct chain *c)
{
	char *cls, q[QUOTE_MAX];
	long line = cfg_xml_line(h);
	int rc = cfg_xml_attr(x, h, "class", &cls);
	if (rc == 0)
		cfg_error(x->diag, x->path, line, "<handler>: the class attribute is missing");
	if (rc <= 0)
		return;
	const struct handler_def *def = registry_find(cls);
	const char *why;
	if (def != NULL) {
		void *conf = NULL;
		if (def->configure != NULL) {
			if (def->configure(x, h, &conf) != 0) {
				free(cls);
				return;
			}
		} else if (cfg_xml_child(h, NULL) != NULL) {
			cfg_warn(x->diag, x->path, line, "<handler>: %s takes no parameters; ignored",
			    def->name);
		}
		chain_add(c, def, conf, line);
	} else if (chain_is_loader(cls)) {
		/* James creates a dormant object; only coreHandlersPackage counts. */
	} else if ((why = registry_unsupported(cls)) != NULL) {
		cfg_warn(x->diag, x->path, line, "<handler>: %s: %s; it does not run", cls, why);
		chain_skip(c, cls, line, why);
	} else {
		char names[1024];
		registry_names(names, sizeof(names));
		cfg_error(x->diag, x->path, line,
		    "<handler>: unknown class %s (known: %s, or their James class names)",
		    log_quote(q, sizeof(q), cls, strlen(cls)), names);
	}
	free(cls);
}

struct chain *
cfg_chain_read(struct cfg_xml *x, const xmlNode *node, bool lmtp)
{
	struct chain *c = chain_new();
	for (xmlNode *h = cfg_xml_child(node, NULL); h != NULL; h = cfg_xml_next(h, NULL)) {
		if (strcmp(cfg_xml_name(h), "handler") != 0) {
			cfg_warn(x->diag, x->path, cfg_xml_line(h), "<%s>: unknown element, ignored",
			    cfg_xml_name(h));
			continue;
		}
		chain_handler(x, h, c);
	}

	enum chain_core_set set = lmtp ? CHAIN_CORE_LMTP : CHAIN_CORE_SMTP;
	char *pkg, q[QUOTE_MAX];
	if (cfg_xml_attr(x, node, "coreHandlersPackage", &pkg) == 1) {
		if (registry_core_set(pkg, lmtp, &set)) {
			/* one of James's loaders */
		} else if (chain_is_example_loader(pkg)) {
			cfg_warn(x->diag, x->path, cfg_xml_line(node),
			    "<handlerchain>: coreHandlersPackage %s: %s; the default core set %s "
			    "is used",
			    pkg, "custom Java code; mailetd cannot run it", chain_core_set_name(set));
			chain_skip(c, pkg, cfg_xml_line(node), "custom Java code; mailetd cannot run it");
		} else {
			cfg_error(x->diag, x->path, cfg_xml_line(node),
			    "<handlerchain>: unknown coreHandlersPackage %s (known: %s, %s)",
			    log_quote(q, sizeof(q), pkg, strlen(pkg)),
			    chain_core_set_name(lmtp ? CHAIN_CORE_LMTP : CHAIN_CORE_SMTP),
			    chain_core_set_name(lmtp ? CHAIN_CORE_LMTP_MAILET : CHAIN_CORE_SMTP_NOAUTH));
		}
		free(pkg);
	}
	chain_add_core(c, set);
	return c;
}

struct chain *
cfg_chain_default(bool lmtp)
{
	struct chain *c = chain_new();
	chain_add_core(c, lmtp ? CHAIN_CORE_LMTP : CHAIN_CORE_SMTP);
	return c;
}

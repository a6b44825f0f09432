/*
 * dns_common.c - what the DNS-based handlers share (fastfail.h): the
 * resolver of a session, whether a hook may wait for it, and the zone
 * names of their configuration.
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/config/config.h"
#include "../../src/core/xmalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct dns *
fastfail_resolver(const struct hook_session *s)
{
	return s->cfg != NULL ? s->cfg->resolver : NULL;
}

bool
fastfail_can_wait(const struct hook_session *s)
{
	return fastfail_resolver(s) != NULL && s->base != NULL && s->resume != NULL;
}

int
fastfail_zone(char *name)
{
	size_t n = strlen(name);
	if (n > 1 && name[n - 1] == '.')
		name[--n] = '\0';
	return cfg_domain_syntax(name) ? 0 : -1;
}

int
fastfail_zone_add(struct cfg_xml *x, const xmlNode *k, char ***zones, size_t *n)
{
	char *v;
	if (cfg_xml_text(x, k, &v) < 0)
		return -1;
	if (fastfail_zone(v) < 0) {
		cfg_error(x->diag, x->path, cfg_xml_line(k), "<%s>: \"%s\" is not a DNS zone name",
		    cfg_xml_name(k), v);
		free(v);
		return -1;
	}
	*zones = xreallocarray(*zones, *n + 1, sizeof(**zones));
	(*zones)[(*n)++] = v;
	return 0;
}

void
fastfail_zones_free(char **zones, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(zones[i]);
	free(zones);
}

bool
fastfail_same_host(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && la > 0 && strncasecmp(a, b, la) == 0;
}

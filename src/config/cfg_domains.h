/*
 * cfg_domains.h - loader for domainlist.xml (james.md 1g.1).
 *
 * The local domains are <domainnames><domainname> (lower-cased, empty ones
 * skipped), then <defaultDomain> (default "localhost"), then with
 * <autodetect>true</autodetect> the host name unless it is "localhost".
 */
#ifndef MAILETD_CFG_DOMAINS_H
#define MAILETD_CFG_DOMAINS_H

#include "cfg_diag.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Fills *out from path; a missing file gives the defaults (localhost
 * only). *out is always filled, also on errors, and must be released with
 * cfg_domains_clear(). Returns 1 if the file was read, 0 if it does not
 * exist, -1 if it could not be read or parsed.
 */
int cfg_domains_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_domains *out);
void cfg_domains_clear(struct cfg_domains *d);
/* True if name (len bytes, any case) is in the list. */
bool cfg_domains_contains(const struct cfg_domains *d, const char *name, size_t len);

#endif

/*
 * cfg_users.h - loader for usersrepository.xml (james.md 1g.2).
 *
 * The users themselves live in the file store under the data directory
 * (src/auth/users.h); this file only says how names and passwords are
 * treated: <enableVirtualHosting>, <algorithm> (new passwords always use
 * PBKDF2-SHA512; see docs/configuration.md), <hashingMode>,
 * <administratorId(s)>, <verifyFailureDelay>.
 */
#ifndef MAILETD_CFG_USERS_H
#define MAILETD_CFG_USERS_H

#include "cfg_diag.h"
#include "config.h"

/*
 * Fills *out from path; a missing file gives the defaults. *out is always
 * filled, also on errors, and must be released with cfg_users_clear().
 * Returns 1 if the file was read, 0 if it does not exist, -1 if it could
 * not be read or parsed.
 */
int cfg_users_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_users *out);
void cfg_users_clear(struct cfg_users *u);

/*
 * Parses James's DurationParser syntax: a number and an optional unit
 * (ms, s, m, h, d and their long forms, any case), default_unit_ms for
 * a bare number. 0 with *ms set, or -1.
 */
int cfg_users_duration(const char *s, unsigned long long default_unit_ms,
    unsigned long long *ms);

/*
 * Reads element node as a cfg_users_duration (a bare number is seconds)
 * from min_ms to max_ms into *ms: 0, or -1 after reporting
 * "<element>: "v" is not a duration (use a number of seconds, or a number
 * with <units>)" or "<element>: "v" is out of range (<range>)".
 */
struct cfg_xml;
struct _xmlNode;
int cfg_users_duration_elem(struct cfg_xml *x, const struct _xmlNode *node, const char *units,
    unsigned long long min_ms, unsigned long long max_ms, const char *range,
    unsigned long long *ms);

#endif

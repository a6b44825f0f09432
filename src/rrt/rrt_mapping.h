/*
 * rrt_mapping.h - the syntax of recipient rewrite table mappings
 * (james.md 1g.3, docs/rrt.md): sources, typed targets, and James's
 * "source=target,source=target" lists of recipientrewritetable.xml.
 *
 * Sources (normalized to lower case):
 *   user@domain   one address
 *   *@domain      every address of a domain (a bare "domain" means this)
 *   user@*        one local part in every domain
 *
 * Targets, by prefix (matched in any case, written back in James's
 * spelling):
 *   user@domain, user        a plain address (no domain: the domain of
 *                            the address being rewritten)
 *   alias:ADDR               an alias the target user may also send from
 *   forward:ADDR             a forward ("forward:" to itself keeps a copy)
 *   group:ADDR               a member of a group
 *   domain:DOMAIN            the same local part in DOMAIN
 *   domainAlias:DOMAIN       the same, and DOMAIN's users may send from it
 *   regex:REGEX:TEMPLATE     POSIX extended REGEX matched (whole, any case)
 *                            against the address; TEMPLATE with ${n} for
 *                            the groups gives the new address
 *   error:TEXT               the address is refused with TEXT
 *
 * Everything here is pure parsing of untrusted text (mailetctl arguments,
 * the store file, XML values): bounded lengths, no NUL, no allocation
 * beyond the result.
 */
#ifndef MAILETD_RRT_MAPPING_H
#define MAILETD_RRT_MAPPING_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest address (as users.h USERS_NAME_MAX), regex, error text, target. */
#define RRT_ADDR_MAX   320
#define RRT_LOCAL_MAX  64
#define RRT_DOMAIN_MAX 253
#define RRT_REGEX_MAX  256
#define RRT_ERROR_MAX  256
#define RRT_TARGET_MAX 640

enum rrt_type {
	RRT_T_ADDRESS = 0,
	RRT_T_ALIAS,
	RRT_T_FORWARD,
	RRT_T_GROUP,
	RRT_T_DOMAIN,
	RRT_T_DOMAIN_ALIAS,
	RRT_T_REGEX,
	RRT_T_ERROR,
};

/* The prefix of a type ("alias:", "" for RRT_T_ADDRESS). */
const char *rrt_type_prefix(enum rrt_type t);
/* A word for a type ("alias", "address", ...). */
const char *rrt_type_name(enum rrt_type t);
/* James's processing order: domain/domainAlias, group, forward/alias, rest. */
int rrt_type_rank(enum rrt_type t);

/* A parsed target. Free with rrt_target_clear. */
struct rrt_target {
	enum rrt_type type;
	char *text;  /* normalized, with its prefix: what is stored and shown */
	char *value; /* after the prefix: address, domain, error text; regex: REGEX */
	char *tmpl;  /* regex: TEMPLATE; else NULL */
	regex_t *re; /* regex: compiled "^(REGEX)$", case-insensitive; else NULL */
	size_t nsub; /* regex: groups of REGEX */
};

/*
 * Parses target s[0..len) into *out (zeroed first). 0, or -1 with a reason
 * in err ("unknown mapping type \"foo:\" (use ...)"). Untrusted input.
 */
int rrt_target_parse(const char *s, size_t len, struct rrt_target *out, char *err, size_t errlen);
void rrt_target_clear(struct rrt_target *t);

/*
 * Normalizes source s[0..len) into out (outsz >= RRT_ADDR_MAX + 1):
 * "user@domain", "*@domain" (also from a bare domain) or "user@*". 0, or
 * -1 with a reason in err. Untrusted input.
 */
int rrt_source_parse(const char *s, size_t len, char *out, size_t outsz, char *err, size_t errlen);

/*
 * Checks an address local[@domain] as a mapping result: local part of
 * 1..64 printable characters without space or specials, domain a host
 * name. True if usable. out (RRT_ADDR_MAX + 1) gets it lower-cased.
 */
bool rrt_address_ok(const char *s, size_t len, char *out, size_t outsz);

/*
 * Applies a regex target to addr (lower case): when the whole address
 * matches, writes the template with ${n} replaced by group n into out
 * and returns 1; 0 when it does not match or the result does not fit.
 */
int rrt_regex_apply(const struct rrt_target *t, const char *addr, char *out, size_t outsz);

/*
 * Reads James's XML form "source=target[;target...][,source=target...]"
 * (XMLRecipientRewriteTable): items split on ',', trimmed, the source
 * before the first '='; each target of an item split on ';'. fn is called
 * for each (source, target) pair with the raw texts (NUL-terminated, valid
 * during the call); a non-zero return stops and is returned. An item
 * without '=' or with an empty side calls bad(arg, item) and continues.
 * Returns 0 or fn's stop value. Untrusted input.
 */
int rrt_list_parse(const char *s, size_t len,
    int (*fn)(void *arg, const char *source, const char *target),
    void (*bad)(void *arg, const char *item), void *arg);

#endif

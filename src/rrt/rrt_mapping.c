/* rrt_mapping.c - mapping syntax (see rrt_mapping.h). */
#include "rrt_mapping.h"

#include "../core/dname.h"
#include "../core/xmalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Prefixes in James's spelling (Mapping.Type.asPrefix). */
static const struct {
	enum rrt_type type;
	const char *prefix;
	const char *name;
	int rank;
} rrt_types[] = {
    {RRT_T_ADDRESS, "", "address", 3},
    {RRT_T_ALIAS, "alias:", "alias", 2},
    {RRT_T_FORWARD, "forward:", "forward", 2},
    {RRT_T_GROUP, "group:", "group", 1},
    {RRT_T_DOMAIN, "domain:", "domain", 0},
    {RRT_T_DOMAIN_ALIAS, "domainAlias:", "domainAlias", 0},
    {RRT_T_REGEX, "regex:", "regex", 3},
    {RRT_T_ERROR, "error:", "error", 3},
};

const char *
rrt_type_prefix(enum rrt_type t)
{
	return (size_t)t < NELEM(rrt_types) ? rrt_types[t].prefix : "";
}

const char *
rrt_type_name(enum rrt_type t)
{
	return (size_t)t < NELEM(rrt_types) ? rrt_types[t].name : "?";
}

int
rrt_type_rank(enum rrt_type t)
{
	return (size_t)t < NELEM(rrt_types) ? rrt_types[t].rank : 3;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A character of a local part: printable, no space, no specials that
 * would make the address ambiguous in SMTP or in the store's syntax. */
static bool
local_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("@:%/\"\\,;<>()[]=*", c) == NULL;
}

static bool
local_ok(const char *s, size_t len)
{
	if (len == 0 || len > RRT_LOCAL_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!local_char_ok((unsigned char)s[i]))
			return false;
	return true;
}

static void
lower_copy(char *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len] = '\0';
}

bool
rrt_address_ok(const char *s, size_t len, char *out, size_t outsz)
{
	if (len == 0 || len > RRT_ADDR_MAX || len >= outsz)
		return false;
	const char *at = memchr(s, '@', len);
	size_t ll = at != NULL ? (size_t)(at - s) : len;
	if (!local_ok(s, ll))
		return false;
	if (at != NULL && !dname_ok(at + 1, len - ll - 1))
		return false;
	lower_copy(out, s, len);
	return true;
}

int
rrt_source_parse(const char *s, size_t len, char *out, size_t outsz, char *err, size_t errlen)
{
	if (memchr(s, '\0', len) != NULL || len == 0 || len > RRT_ADDR_MAX || len + 3 > outsz) {
		seterr(err, errlen, "not a mapping source (use user@domain, *@domain or user@*)");
		return -1;
	}
	const char *at = memchr(s, '@', len);
	if (at == NULL) {
		/* A whole domain, as James's domain mappings are keyed. */
		if (!dname_ok(s, len)) {
			seterr(err, errlen,
			    "not a domain name, and no '@' (use user@domain, "
			    "*@domain or user@*)");
			return -1;
		}
		out[0] = '*';
		out[1] = '@';
		lower_copy(out + 2, s, len);
		return 0;
	}
	size_t ll = (size_t)(at - s), dl = len - ll - 1;
	bool any_user = ll == 1 && s[0] == '*';
	bool any_domain = dl == 1 && at[1] == '*';
	if (any_user && any_domain) {
		seterr(err, errlen, "*@* would map every address; name a user or a domain");
		return -1;
	}
	if (!any_user && !local_ok(s, ll)) {
		seterr(err, errlen,
		    "the local part is not valid (1 to 64 printable characters "
		    "without spaces or @:%%/\"\\,;<>()[]=*)");
		return -1;
	}
	if (!any_domain && !dname_ok(at + 1, dl)) {
		seterr(err, errlen, "the domain is not a domain name (or * for any domain)");
		return -1;
	}
	lower_copy(out, s, len);
	return 0;
}

void
rrt_target_clear(struct rrt_target *t)
{
	if (t == NULL)
		return;
	if (t->re != NULL) {
		regfree(t->re);
		free(t->re);
	}
	free(t->text);
	free(t->value);
	free(t->tmpl);
	memset(t, 0, sizeof(*t));
}

/* Bounds on a regex, so that compiling and matching stay cheap: glibc's
 * regcomp grows with nested and stacked repetitions ("(a{9}){9}",
 * ".*++++"). */
#define REGEX_MAX_DUPS  16
#define REGEX_MAX_BOUND 16
#define REGEX_MAX_DEPTH 8

/* True if re[0..len) is beyond the bounds above (or malformed enough that
 * regcomp would refuse it anyway). */
static bool
regex_too_complex(const char *re, size_t len)
{
	unsigned dups = 0, depth = 0;
	unsigned long bounds = 0; /* sum of the {m,n} bounds */
	bool after_dup = false;
	for (size_t i = 0; i < len; i++) {
		char c = re[i];
		if (c == '\\') {
			i++;
			after_dup = false;
			continue;
		}
		if (c == '[') {
			/* A bracket expression: ']' first is literal; skip [:class:]. */
			size_t j = i + 1;
			if (j < len && re[j] == '^')
				j++;
			if (j < len && re[j] == ']')
				j++;
			while (j < len && re[j] != ']') {
				if (re[j] == '[' && j + 1 < len &&
				    (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
					char end = re[j + 1];
					j += 2;
					while (j + 1 < len && !(re[j] == end && re[j + 1] == ']'))
						j++;
					j += 2;
					continue;
				}
				j++;
			}
			if (j >= len)
				return true;
			i = j;
			after_dup = false;
			continue;
		}
		if (c == '*' || c == '+' || c == '?' || c == '{') {
			if (after_dup || ++dups > REGEX_MAX_DUPS)
				return true;
			if (c == '{') {
				unsigned long v = 0;
				size_t j = i + 1;
				for (; j < len && re[j] != '}'; j++) {
					if (re[j] == ',') {
						v = 0;
						continue;
					}
					if (re[j] < '0' || re[j] > '9')
						return true;
					v = v * 10 + (unsigned long)(re[j] - '0');
					if (v > REGEX_MAX_BOUND)
						return true;
					if (j + 1 < len && (re[j + 1] == ',' || re[j + 1] == '}'))
						bounds += v;
					if (bounds > 2 * REGEX_MAX_BOUND)
						return true;
				}
				if (j >= len)
					return true;
				i = j;
			}
			after_dup = true;
			continue;
		}
		after_dup = false;
		if (c == '(' && ++depth > REGEX_MAX_DEPTH)
			return true;
		if (c == ')' && depth > 0)
			depth--;
	}
	return false;
}

/* Checks a regex target's REGEX and TEMPLATE and compiles the regex. */
static int
regex_parse(const char *body, size_t len, struct rrt_target *out, char *err, size_t errlen)
{
	/* REGEX:TEMPLATE, split at the last ':' (a template is an address). */
	const char *colon = NULL;
	for (size_t i = len; i > 0; i--) {
		if (body[i - 1] == ':') {
			colon = body + i - 1;
			break;
		}
	}
	if (colon == NULL || colon == body || (size_t)(colon - body) == len - 1) {
		seterr(err, errlen,
		    "a regex mapping is regex:REGEX:TEMPLATE, e.g. "
		    "regex:(.*)@example.org:${1}@example.com");
		return -1;
	}
	size_t rl = (size_t)(colon - body), tl = len - rl - 1;
	if (rl > RRT_REGEX_MAX) {
		seterr(err, errlen, "the regex is longer than %d characters", RRT_REGEX_MAX);
		return -1;
	}
	if (tl > RRT_ADDR_MAX) {
		seterr(err, errlen, "the template is longer than %d characters", RRT_ADDR_MAX);
		return -1;
	}
	for (size_t i = 0; i < rl; i++) {
		unsigned char c = (unsigned char)body[i];
		if (c < 0x20 || c == 0x7f) {
			seterr(err, errlen, "the regex has a control character");
			return -1;
		}
		/* Back-references make matching exponential: not allowed. */
		if (c == '\\' && i + 1 < rl && isdigit((unsigned char)body[i + 1])) {
			seterr(err, errlen, "back-references (\\%c) are not allowed in a regex",
			    body[i + 1]);
			return -1;
		}
	}
	if (regex_too_complex(body, rl)) {
		seterr(err, errlen,
		    "the regex is too complex (at most %d repetitions, no repetition "
		    "of a repetition such as a*+, bounds {m,n} up to %d and %d in "
		    "all, groups nested at most %d deep)",
		    REGEX_MAX_DUPS, REGEX_MAX_BOUND, 2 * REGEX_MAX_BOUND, REGEX_MAX_DEPTH);
		return -1;
	}
	char *re_text = xasprintf("^(%.*s)$", (int)rl, body);
	regex_t *re = xmalloc(sizeof(*re));
	int rc = regcomp(re, re_text, REG_EXTENDED | REG_ICASE);
	free(re_text);
	if (rc != 0) {
		char msg[128];
		regerror(rc, re, msg, sizeof(msg));
		free(re);
		seterr(err, errlen, "the regex does not compile: %s", msg);
		return -1;
	}
	size_t nsub = re->re_nsub > 0 ? re->re_nsub - 1 : 0;
	/* The template: ${n} for n in 0..nsub, other characters of an address. */
	for (size_t i = 0; i < tl; i++) {
		const char *p = colon + 1 + i;
		if (p[0] == '$') {
			size_t k = 1;
			unsigned n = 0;
			if (i + 1 < tl && p[1] == '{') {
				for (k = 2; i + k < tl && isdigit((unsigned char)p[k]) && k < 5;
				     k++)
					n = n * 10 + (unsigned)(p[k] - '0');
			}
			if (k < 3 || i + k >= tl || p[k] != '}' || n > nsub) {
				regfree(re);
				free(re);
				seterr(err, errlen,
				    "the template refers to a group the regex does not have, or "
				    "uses '$' other than ${n} (n from 0 to %zu)",
				    nsub);
				return -1;
			}
			i += k;
			continue;
		}
		if (!local_char_ok((unsigned char)p[0]) && p[0] != '@' && p[0] != '.') {
			regfree(re);
			free(re);
			seterr(err, errlen, "the template has a character no address has: '%c'",
			    isprint((unsigned char)p[0]) ? p[0] : '?');
			return -1;
		}
	}
	out->value = xstrndup(body, rl);
	out->tmpl = xstrndup(colon + 1, tl);
	out->re = re;
	out->nsub = nsub;
	return 0;
}

int
rrt_target_parse(const char *s, size_t len, struct rrt_target *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (len == 0 || len > RRT_TARGET_MAX || memchr(s, '\0', len) != NULL) {
		seterr(err, errlen, "a mapping target is 1 to %d characters", RRT_TARGET_MAX);
		return -1;
	}
	enum rrt_type type = RRT_T_ADDRESS;
	size_t plen = 0;
	for (size_t i = 1; i < NELEM(rrt_types); i++) {
		size_t pl = strlen(rrt_types[i].prefix);
		if (len >= pl && strncasecmp(s, rrt_types[i].prefix, pl) == 0) {
			type = rrt_types[i].type;
			plen = pl;
			break;
		}
	}
	const char *colon = memchr(s, ':', len);
	if (type == RRT_T_ADDRESS && colon != NULL) {
		char q[24];
		size_t ql = (size_t)(colon - s) < 16 ? (size_t)(colon - s) : 16;
		for (size_t i = 0; i < ql; i++)
			q[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
		q[ql] = '\0';
		seterr(err, errlen,
		    "unknown mapping type \"%s:\" (use an address, alias:, forward:, group:, "
		    "domain:, domainAlias:, regex: or error:)",
		    q);
		return -1;
	}
	const char *body = s + plen;
	size_t blen = len - plen;
	char buf[RRT_ADDR_MAX + 1];
	out->type = type;
	switch (type) {
	case RRT_T_ADDRESS:
	case RRT_T_ALIAS:
	case RRT_T_FORWARD:
	case RRT_T_GROUP:
		if (!rrt_address_ok(body, blen, buf, sizeof(buf))) {
			seterr(err, errlen,
			    "%s%s is not an address (user@domain, or user for the "
			    "domain of the address mapped)",
			    type == RRT_T_ADDRESS ? "the target" : "the target of ",
			    rrt_type_prefix(type));
			return -1;
		}
		out->value = xstrdup(buf);
		break;
	case RRT_T_DOMAIN:
	case RRT_T_DOMAIN_ALIAS:
		if (!dname_ok(body, blen)) {
			seterr(err, errlen, "the target of %s is not a domain name",
			    rrt_type_prefix(type));
			return -1;
		}
		lower_copy(buf, body, blen);
		out->value = xstrdup(buf);
		break;
	case RRT_T_REGEX:
		if (regex_parse(body, blen, out, err, errlen) < 0)
			return -1;
		break;
	case RRT_T_ERROR:
		if (blen > RRT_ERROR_MAX) {
			seterr(err, errlen, "the error text is longer than %d characters",
			    RRT_ERROR_MAX);
			return -1;
		}
		for (size_t i = 0; i < blen; i++) {
			unsigned char c = (unsigned char)body[i];
			if (c < 0x20 || c >= 0x7f) {
				seterr(err, errlen,
				    "the error text must be printable ASCII (it "
				    "becomes an SMTP reply)");
				return -1;
			}
		}
		out->value = xstrndup(body, blen);
		break;
	}
	if (type == RRT_T_REGEX)
		out->text = xasprintf("regex:%s:%s", out->value, out->tmpl);
	else
		out->text = xasprintf("%s%s", rrt_type_prefix(type), out->value);
	return 0;
}

int
rrt_regex_apply(const struct rrt_target *t, const char *addr, char *out, size_t outsz)
{
	regmatch_t m[10];
	if (t->type != RRT_T_REGEX || t->re == NULL || outsz == 0)
		return 0;
	if (regexec(t->re, addr, NELEM(m), m, 0) != 0)
		return 0;
	size_t o = 0;
	for (const char *p = t->tmpl; *p != '\0'; p++) {
		const char *piece = p;
		size_t plen = 1;
		if (p[0] == '$' && p[1] == '{') {
			unsigned n = 0;
			const char *q = p + 2;
			while (isdigit((unsigned char)*q))
				n = n * 10 + (unsigned)(*q++ - '0');
			p = q; /* at '}' (checked when parsed) */
			/* Group n of REGEX is group n + 1 of "^(REGEX)$"; ${0} the whole. */
			size_t g = n + 1;
			if (g >= NELEM(m) || m[g].rm_so < 0) {
				plen = 0;
			} else {
				piece = addr + m[g].rm_so;
				plen = (size_t)(m[g].rm_eo - m[g].rm_so);
			}
		}
		if (o + plen >= outsz)
			return 0;
		memcpy(out + o, piece, plen);
		o += plen;
	}
	out[o] = '\0';
	return 1;
}

/* Trims spaces and tabs from both ends of s[*a..*b). */
static void
trim(const char *s, size_t *a, size_t *b)
{
	while (*a < *b && (s[*a] == ' ' || s[*a] == '\t' || s[*a] == '\n' || s[*a] == '\r'))
		(*a)++;
	while (*b > *a &&
	       (s[*b - 1] == ' ' || s[*b - 1] == '\t' || s[*b - 1] == '\n' || s[*b - 1] == '\r'))
		(*b)--;
}

int
rrt_list_parse(const char *s, size_t len,
    int (*fn)(void *arg, const char *source, const char *target),
    void (*bad)(void *arg, const char *item), void *arg)
{
	size_t i = 0;
	while (i <= len) {
		size_t j = i;
		while (j < len && s[j] != ',')
			j++;
		size_t a = i, b = j;
		i = j + 1;
		trim(s, &a, &b);
		if (a == b)
			continue;
		if (memchr(s + a, '\0', b - a) != NULL) {
			bad(arg, "(a NUL character)");
			continue;
		}
		char *item = xstrndup(s + a, b - a);
		char *eq = strchr(item, '=');
		size_t ia = 0, ib = eq != NULL ? (size_t)(eq - item) : 0;
		if (eq != NULL)
			trim(item, &ia, &ib);
		if (eq == NULL || ia == ib) {
			bad(arg, item);
			free(item);
			continue;
		}
		item[ib] = '\0';
		const char *source = item + ia;
		const char *targets = eq + 1;
		size_t tl = strlen(targets);
		bool any = false;
		int rc = 0;
		for (size_t k = 0; k <= tl && rc == 0;) {
			size_t e = k;
			while (e < tl && targets[e] != ';')
				e++;
			size_t ta = k, tb = e;
			k = e + 1;
			trim(targets, &ta, &tb);
			if (ta == tb)
				continue;
			char *t = xstrndup(targets + ta, tb - ta);
			rc = fn(arg, source, t);
			free(t);
			any = true;
		}
		if (!any && rc == 0) {
			*eq = '=';
			bad(arg, item);
		}
		free(item);
		if (rc != 0)
			return rc;
	}
	return 0;
}

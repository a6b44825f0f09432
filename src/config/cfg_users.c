/* cfg_users.c - loader for usersrepository.xml (see cfg_users.h). */
#include "cfg_users.h"

#include "../auth/password.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "cfg_xml.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QUOTE_MAX 96
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* Longest verifyFailureDelay accepted. */
#define DELAY_MAX_MS (60u * 1000)

static cfg_field_fn users_algorithm, users_admin, users_delay;

/* James's Algorithm.HashingMode. */
static const struct cfg_keyword mode_words[] = {
	{ "plain", 0 },
	{ "salted", 1 },
	{ "legacy", 2 },
	{ "legacy_salted", 3 },
	{ NULL, 0 },
};

/* What the file is read into. */
struct users_ctx {
	struct cfg_users u;
	int hashing_mode;
	bool forwarding;
};

static const struct cfg_field admin_fields[] = {
	{ .name = "administratorId", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT, .fn = users_admin },
};

static const struct cfg_field users_fields[] = {
	{ .name = "enableVirtualHosting", .type = CFG_T_BOOL, .def = 0,
	    .off = offsetof(struct users_ctx, u.virtual_hosting) },
	{ .name = "algorithm", .type = CFG_T_FUNC, .fn = users_algorithm },
	{ .name = "hashingMode", .type = CFG_T_KEYWORD, .def = 0,
	    .off = offsetof(struct users_ctx, hashing_mode), .keywords = mode_words },
	{ .name = "administratorId", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT, .fn = users_admin },
	{ .name = "administratorIds", .type = CFG_T_BLOCK, .off = 0, .sub = admin_fields,
	    .nsub = NELEM(admin_fields) },
	{ .name = "verifyFailureDelay", .type = CFG_T_FUNC, .fn = users_delay },
	/* In James's samples, read by no current James code. */
	{ .name = "enableForwarding", .type = CFG_T_BOOL, .def = 0,
	    .off = offsetof(struct users_ctx, forwarding) },
	/* JPA's storage location: the file store is always <dataDirectory>/users. */
	{ .name = "destination", .type = CFG_T_IGNORE },
};

/* The text of an element, "" when empty; NULL after an error. */
static char *
text_of(struct cfg_xml *x, const xmlNode *node)
{
	char *v;
	return cfg_xml_text(x, node, &v) < 0 ? NULL : v;
}

/* Parses a decimal count s[0..len) > 0; -1 if not one. */
static long long
count_of(const char *s, size_t len)
{
	long long v = 0;
	if (len == 0 || len > 12)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 0 ? v : -1;
}

/*
 * <algorithm>: James's NAME[/mode] (james.md 1g.2). Any name James
 * accepts loads; new passwords always use PBKDF2-SHA512, and
 * "PBKDF2-SHA512-<iterations>[-<bits>]" sets its iteration count.
 */
static void
users_algorithm(struct cfg_xml *x, xmlNode *node, void *base)
{
	static const char *const digests[] = { "MD5", "MD2", "SHA", "SHA-1", "SHA1", "SHA-224",
		"SHA-256", "SHA-384", "SHA-512", "SHA3-224", "SHA3-256", "SHA3-384", "SHA3-512" };
	struct users_ctx *ctx = base;
	char q[QUOTE_MAX];
	char *v = text_of(x, node);
	if (v == NULL)
		return;
	long line = cfg_xml_line(node);
	size_t len = strlen(v);
	const char *slash = strchr(v, '/');
	if (slash != NULL) {
		bool mode = false;
		for (size_t i = 0; mode_words[i].name != NULL; i++)
			mode = mode || strcasecmp(slash + 1, mode_words[i].name) == 0;
		if (!mode) {
			cfg_error(x->diag, x->path, line,
			    "<algorithm>: %s has an unknown hashing mode (use plain, salted, legacy "
			    "or legacy_salted)",
			    log_quote(q, sizeof(q), v, strlen(v)));
			free(v);
			return;
		}
		len = (size_t)(slash - v);
	}
	bool ok = false;
	if (len >= 6 && strncasecmp(v, "PBKDF2", 6) == 0) {
		bool sha512 = len >= 13 && strncasecmp(v, "PBKDF2-SHA512", 13) == 0;
		const char *rest = v + (sha512 ? 13 : 6);
		const char *end = v + len;
		ok = true;
		if (rest < end) {
			const char *dash = rest[0] == '-' ? memchr(rest + 1, '-', (size_t)(end - rest - 1))
			                                  : NULL;
			const char *iend = dash != NULL ? dash : end;
			long long it = rest[0] == '-' ? count_of(rest + 1, (size_t)(iend - rest - 1)) : -1;
			long long bits = dash != NULL ? count_of(dash + 1, (size_t)(end - dash - 1)) : 8;
			ok = it > 0 && bits > 0 && bits % 8 == 0 && bits <= 4096;
			if (ok && sha512) {
				if (it > PASSWORD_MAX_ITERATIONS || it < PASSWORD_MIN_ITERATIONS) {
					cfg_error(x->diag, x->path, line,
					    "<algorithm>: %lld iterations is out of range (%u to %u)", it,
					    PASSWORD_MIN_ITERATIONS, PASSWORD_MAX_ITERATIONS);
					free(v);
					return;
				}
				ctx->u.iterations = (unsigned)it;
			}
		}
		if (ok && !sha512)
			cfg_warn(x->diag, x->path, line,
			    "<algorithm>: new passwords are hashed with PBKDF2-SHA512; %s hashes are "
			    "only verified",
			    log_quote(q, sizeof(q), v, len));
	} else {
		for (size_t i = 0; i < NELEM(digests) && !ok; i++)
			ok = strlen(digests[i]) == len && strncasecmp(v, digests[i], len) == 0;
		if (ok)
			cfg_warn(x->diag, x->path, line,
			    "<algorithm>: new passwords are hashed with PBKDF2-SHA512; %s hashes are "
			    "only verified",
			    log_quote(q, sizeof(q), v, len));
	}
	if (!ok) {
		cfg_error(x->diag, x->path, line,
		    "<algorithm>: %s is not a password algorithm (use PBKDF2-SHA512, "
		    "PBKDF2-SHA512-<iterations>, PBKDF2 or a digest such as SHA-512, "
		    "optionally with /plain or /salted)",
		    log_quote(q, sizeof(q), v, strlen(v)));
		free(v);
		return;
	}
	free(ctx->u.algorithm);
	ctx->u.algorithm = v;
}

/* <administratorId>: a user name allowed to act as others (SASL authzid). */
static void
users_admin(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct users_ctx *ctx = base;
	char q[QUOTE_MAX];
	char *v = text_of(x, node);
	if (v == NULL)
		return;
	if (v[0] == '\0') {
		free(v);
		return;
	}
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			cfg_error(x->diag, x->path, cfg_xml_line(node),
			    "<administratorId>: %s is not a user name",
			    log_quote(q, sizeof(q), v, strlen(v)));
			free(v);
			return;
		}
	}
	ctx->u.admins = xreallocarray(ctx->u.admins, ctx->u.nadmins + 1, sizeof(char *));
	ctx->u.admins[ctx->u.nadmins++] = v;
}

int
cfg_users_duration(const char *s, unsigned long long default_unit_ms, unsigned long long *ms)
{
	static const struct {
		const char *name;
		unsigned long long ms;
	} units[] = {
		{ "ms", 1 }, { "msec", 1 }, { "msecs", 1 }, { "millisecond", 1 },
		{ "milliseconds", 1 }, { "s", 1000 }, { "sec", 1000 }, { "secs", 1000 },
		{ "second", 1000 }, { "seconds", 1000 }, { "m", 60000 }, { "min", 60000 },
		{ "mins", 60000 }, { "minute", 60000 }, { "minutes", 60000 }, { "h", 3600000 },
		{ "hour", 3600000 }, { "hours", 3600000 }, { "d", 86400000 }, { "day", 86400000 },
		{ "days", 86400000 },
	};
	size_t n = 0;
	unsigned long long v = 0;
	while (isdigit((unsigned char)s[n])) {
		if (v > 1000000000ULL)
			return -1;
		v = v * 10 + (unsigned long long)(s[n] - '0');
		n++;
	}
	if (n == 0)
		return -1;
	const char *u = s + n;
	while (*u == ' ')
		u++;
	if (*u == '\0') {
		*ms = v * default_unit_ms;
		return 0;
	}
	for (size_t i = 0; i < NELEM(units); i++) {
		if (strcasecmp(u, units[i].name) == 0) {
			*ms = v * units[i].ms;
			return 0;
		}
	}
	return -1;
}

int
cfg_users_duration_elem(struct cfg_xml *x, const xmlNode *node, const char *units,
    unsigned long long min_ms, unsigned long long max_ms, const char *range,
    unsigned long long *ms)
{
	char q[QUOTE_MAX];
	char *v = text_of(x, node);
	if (v == NULL)
		return -1;
	int rc = -1;
	if (cfg_users_duration(v, 1000, ms) < 0)
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<%s>: %s is not a duration (use a number of seconds, or a number with %s)",
		    cfg_xml_name(node), log_quote(q, sizeof(q), v, strlen(v)), units);
	else if (*ms < min_ms || *ms > max_ms)
		cfg_error(x->diag, x->path, cfg_xml_line(node), "<%s>: %s is out of range (%s)",
		    cfg_xml_name(node), log_quote(q, sizeof(q), v, strlen(v)), range);
	else
		rc = 0;
	free(v);
	return rc;
}

/* <verifyFailureDelay>: DurationParser syntax, bare numbers are seconds. */
static void
users_delay(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct users_ctx *ctx = base;
	unsigned long long ms;
	if (cfg_users_duration_elem(x, node, "ms, s, m, h or d", 0, DELAY_MAX_MS,
		"0 to 60 seconds", &ms) == 0)
		ctx->u.failure_delay_ms = (unsigned)ms;
}

int
cfg_users_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_users *out)
{
	struct users_ctx ctx;
	struct cfg_xml x;

	memset(&ctx, 0, sizeof(ctx));
	cfg_fields_defaults(users_fields, NELEM(users_fields), &ctx);
	int rc = cfg_xml_open(&x, path, opts, diag);
	if (rc == 1) {
		xmlNode *root = cfg_xml_root(&x);
		char *ldap = NULL;
		if (cfg_xml_attr(&x, root, "ldapHost", &ldap) == 1)
			cfg_warn(diag, path, cfg_xml_line(root),
			    "<%s>: ldapHost: LDAP users repositories are not supported; users come "
			    "from the file store in the data directory",
			    cfg_xml_name(root));
		free(ldap);
		cfg_fields_read(&x, root, users_fields, NELEM(users_fields), &ctx);
		cfg_xml_close(&x);
	}
	if (ctx.u.algorithm == NULL)
		ctx.u.algorithm = xstrdup("PBKDF2-SHA512");
	*out = ctx.u;
	return rc;
}

void
cfg_users_clear(struct cfg_users *u)
{
	for (size_t i = 0; i < u->nadmins; i++)
		free(u->admins[i]);
	free(u->admins);
	free(u->algorithm);
	memset(u, 0, sizeof(*u));
}

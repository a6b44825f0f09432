/* cfg_main.c - loader for mailetd.xml (see cfg_main.h). */
#include "cfg_main.h"

#include "../core/log.h"
#include "../core/xmalloc.h"
#include "cfg_xml.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* What mailetd.xml is read into before the data directory is resolved. */
struct main_ctx {
	struct cfg_main m;
	char *data_dir; /* <dataDirectory> as written */
};

static cfg_field_fn main_fsync;

static const struct cfg_keyword level_words[] = {
	{ "error", LOG_LVL_ERROR },
	{ "warn", LOG_LVL_WARN },
	{ "info", LOG_LVL_INFO },
	{ "debug", LOG_LVL_DEBUG },
	{ NULL, 0 },
};

static const struct cfg_keyword facility_words[] = {
	{ "mail", LOG_MAIL },
	{ "daemon", LOG_DAEMON },
	{ "user", LOG_USER },
	{ "auth", LOG_AUTH },
	{ "authpriv", LOG_AUTHPRIV },
	{ "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
	{ NULL, 0 },
};

#define M(f) offsetof(struct main_ctx, m.f)

static const struct cfg_field spool_fields[] = {
	{ .name = "fsync", .type = CFG_T_FUNC, .fn = main_fsync },
	{ .name = "commitThreads", .type = CFG_T_UINT, .min = 1, .max = 64, .def = 4,
	    .off = M(commit_threads) },
};

static const struct cfg_field log_fields[] = {
	{ .name = "level", .type = CFG_T_KEYWORD, .def = LOG_LVL_INFO, .off = M(log_level),
	    .keywords = level_words },
	{ .name = "syslog", .type = CFG_T_KEYWORD, .def = -1, .off = M(syslog_facility),
	    .keywords = facility_words },
};

static const struct cfg_field main_fields[] = {
	{ .name = "dataDirectory", .type = CFG_T_STRING,
	    .off = offsetof(struct main_ctx, data_dir) },
	{ .name = "spool", .type = CFG_T_BLOCK, .off = 0, .sub = spool_fields,
	    .nsub = NELEM(spool_fields) },
	{ .name = "shutdownGracePeriod", .type = CFG_T_SECONDS, .min = 0, .max = 3600,
	    .def = 30, .off = M(shutdown_grace) },
	{ .name = "log", .type = CFG_T_BLOCK, .off = 0, .sub = log_fields,
	    .nsub = NELEM(log_fields) },
	{ .name = "maxErrors", .type = CFG_T_UINT, .min = 1, .max = 1000, .def = 20,
	    .off = M(max_errors) },
	{ .name = "minDataRate", .type = CFG_T_UINT, .min = 1, .max = 100000000, .def = 500,
	    .off = M(min_data_rate) },
};

/* <spool><fsync>: false is allowed (tests, benchmarks) but loses the 250 promise. */
static void
main_fsync(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct main_ctx *ctx = base;
	bool on;
	if (cfg_xml_bool(x, node, NULL, &on) < 0)
		return;
	ctx->m.fsync = on;
	if (!on)
		cfg_warn(x->diag, x->path, cfg_xml_line(node),
		    "<fsync>: false: mail acknowledged with 250 can be lost on a crash or "
		    "power cut");
}

/* Returns the directory that holds confdir ("." for a bare name). */
static char *
parent_dir(const char *confdir)
{
	size_t len = strlen(confdir);
	while (len > 1 && confdir[len - 1] == '/')
		len--;
	size_t base = len;
	while (base > 0 && confdir[base - 1] != '/')
		base--;
	/* "." and ".." have no name to strip: go one level up textually. */
	if ((len - base == 1 && confdir[base] == '.') ||
	    (len - base == 2 && confdir[base] == '.' && confdir[base + 1] == '.'))
		return xasprintf("%.*s/..", (int)len, confdir);
	while (len > 0 && confdir[len - 1] != '/')
		len--;
	if (len == 0)
		return xstrdup(".");
	while (len > 1 && confdir[len - 1] == '/')
		len--;
	return xstrndup(confdir, len);
}

/* dir joined with a relative path; "." is left out. */
static char *
join(const char *dir, const char *rel)
{
	if (strcmp(dir, ".") == 0)
		return xstrdup(rel);
	return xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", rel);
}

int
cfg_main_load(const char *path, const char *confdir, const struct config_opts *opts,
    struct cfg_diag *diag, struct cfg_main *out)
{
	struct main_ctx ctx;
	struct cfg_xml x;

	memset(&ctx, 0, sizeof(ctx));
	cfg_fields_defaults(main_fields, NELEM(main_fields), &ctx);
	ctx.m.fsync = true;
	int rc = cfg_xml_open(&x, path, opts, diag);
	if (rc == 1) {
		cfg_fields_read(&x, cfg_xml_root(&x), main_fields, NELEM(main_fields), &ctx);
		cfg_xml_close(&x);
	}
	if (opts != NULL && opts->data_dir != NULL) {
		ctx.m.data_dir = xstrdup(opts->data_dir);
	} else {
		const char *dd = ctx.data_dir != NULL ? ctx.data_dir : "var";
		if (dd[0] == '/') {
			ctx.m.data_dir = xstrdup(dd);
		} else {
			char *parent = parent_dir(confdir);
			ctx.m.data_dir = join(parent, dd);
			free(parent);
		}
	}
	free(ctx.data_dir);
	*out = ctx.m;
	return rc;
}

void
cfg_main_clear(struct cfg_main *m)
{
	free(m->data_dir);
	memset(m, 0, sizeof(*m));
}

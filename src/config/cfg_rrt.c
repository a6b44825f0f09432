/* cfg_rrt.c - loader for recipientrewritetable.xml (see cfg_rrt.h). */
#include "cfg_rrt.h"

#include "../core/log.h"
#include "../core/xmalloc.h"
#include "../rrt/rrt.h"
#include "cfg_xml.h"

#include <stdlib.h>
#include <string.h>

#define QUOTE_MAX 96
#define NELEM(a)  (sizeof(a) / sizeof((a)[0]))

/* What the file is read into. */
struct rrt_ctx {
	struct cfg_rrt r;
	long long limit;
	long limit_line;   /* 0: <mappingLimit> not given */
	struct cfg_xml *x; /* during one <mapping> */
	long line;
};

static cfg_field_fn rrt_limit, rrt_mapping;

static const struct cfg_field rrt_fields[] = {
    {.name = "recursiveMapping",
        .type = CFG_T_BOOL,
        .def = 1,
        .off = offsetof(struct rrt_ctx, r.recursive)},
    {.name = "mappingLimit", .type = CFG_T_FUNC, .fn = rrt_limit},
    {.name = "mapping", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT, .fn = rrt_mapping},
};

/* <mappingLimit>: an integer; its range is checked once recursiveMapping is known. */
static void
rrt_limit(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct rrt_ctx *ctx = base;
	char q[QUOTE_MAX];
	char *v;
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	long long n;
	if (cfg_parse_int(v, &n) != CFG_POK) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<mappingLimit>: %s is not a number (use 1 to %d)",
		    log_quote(q, sizeof(q), v, strlen(v)), RRT_LIMIT_MAX);
	} else {
		ctx->limit = n;
		ctx->limit_line = cfg_xml_line(node);
	}
	free(v);
}

static int
rrt_pair(void *arg, const char *source, const char *target)
{
	struct rrt_ctx *ctx = arg;
	char q[QUOTE_MAX], err[200];
	char src[RRT_ADDR_MAX + 4];
	struct rrt_target t;
	if (rrt_source_parse(source, strlen(source), src, sizeof(src), err, sizeof(err)) < 0) {
		cfg_error(ctx->x->diag, ctx->x->path, ctx->line, "<mapping>: source %s: %s",
		    log_quote(q, sizeof(q), source, strlen(source)), err);
		return 0;
	}
	if (rrt_target_parse(target, strlen(target), &t, err, sizeof(err)) < 0) {
		cfg_error(ctx->x->diag, ctx->x->path, ctx->line, "<mapping>: target %s: %s",
		    log_quote(q, sizeof(q), target, strlen(target)), err);
		return 0;
	}
	rrt_target_clear(&t);
	struct cfg_rrt *r = &ctx->r;
	r->maps = xreallocarray(r->maps, r->nmaps + 1, sizeof(*r->maps));
	r->maps[r->nmaps++] = (struct cfg_rrt_mapping){
	    .source = xstrdup(src), .target = xstrdup(target), .line = ctx->line};
	return 0;
}

static void
rrt_bad_item(void *arg, const char *item)
{
	struct rrt_ctx *ctx = arg;
	char q[QUOTE_MAX];
	cfg_error(ctx->x->diag, ctx->x->path, ctx->line,
	    "<mapping>: %s is not source=target (e.g. alias@example.com=user@example.com)",
	    log_quote(q, sizeof(q), item, strlen(item)));
}

/* <mapping>: James's XML list of static mappings. */
static void
rrt_mapping(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct rrt_ctx *ctx = base;
	char *v;
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	ctx->x = x;
	ctx->line = cfg_xml_line(node);
	(void)rrt_list_parse(v, strlen(v), rrt_pair, rrt_bad_item, ctx);
	ctx->x = NULL;
	free(v);
}

int
cfg_rrt_load(
    const char *path, const struct config_opts *opts, struct cfg_diag *diag, struct cfg_rrt *out)
{
	struct rrt_ctx ctx;
	struct cfg_xml x;

	memset(&ctx, 0, sizeof(ctx));
	cfg_fields_defaults(rrt_fields, NELEM(rrt_fields), &ctx);
	ctx.limit = 10;
	int rc = cfg_xml_open(&x, path, opts, diag);
	if (rc == 1) {
		cfg_fields_read(&x, cfg_xml_root(&x), rrt_fields, NELEM(rrt_fields), &ctx);
		cfg_xml_close(&x);
	}
	if (ctx.r.recursive && ctx.limit_line > 0 && (ctx.limit < 1 || ctx.limit > RRT_LIMIT_MAX)) {
		cfg_error(diag, path, ctx.limit_line,
		    "<mappingLimit>: %lld is out of range (1 to %d when <recursiveMapping> is "
		    "true)",
		    ctx.limit, RRT_LIMIT_MAX);
		ctx.limit = 10;
	}
	/* James: no recursion means a limit of 0; kept at 1 here, unused. */
	ctx.r.limit = ctx.r.recursive ? (unsigned)ctx.limit : 1;
	*out = ctx.r;
	return rc;
}

void
cfg_rrt_clear(struct cfg_rrt *r)
{
	for (size_t i = 0; i < r->nmaps; i++) {
		free(r->maps[i].source);
		free(r->maps[i].target);
	}
	free(r->maps);
	memset(r, 0, sizeof(*r));
}

/*
 * greylist.c - greylisting at RCPT: James's fastfail.JDBCGreylistHandler
 * (james.md 1b.6) with an embedded store instead of a database
 * (greylist_store.h: <dataDirectory>/greylist.db).
 *
 * The triplet is (client network, sender, recipient): the client's IPv4
 * /24 or IPv6 /64 (James uses the exact address; a sender retrying from
 * another host of its pool would never pass), the sender ("" for <>) and
 * the recipient, in lower case. First sighting:
 * "451 4.4.3 Temporary rejected: Please try again later"; a retry before
 * <tempBlockTime>: "451 4.4.3 Temporary rejected: Reconnect to fast.
 * Please try again later" (James's text). A retry later passes and the
 * triplet is auto-whitelisted for <autoWhiteListLifeTime> after each
 * sighting; a triplet never retried is forgotten after <unseenLifeTime>.
 * Clients that may relay and clients in <whitelistedNetworks> are not
 * greylisted. The store's file is read and written on the worker pool
 * (the hook answers PENDING); when it cannot be used, or is full, the
 * recipient is accepted and the problem logged (James logs and accepts).
 *
 * Parameters: tempBlockTime (1 hour), autoWhiteListLifeTime (36 days),
 * unseenLifeTime (4 hours) (DurationParser text, "1 hour"; no unit =
 * ms), whitelistedNetworks (a network list); James's repositoryPath and
 * sqlFile are accepted and ignored.
 */
#include "fastfail.h"
#include "greylist_store.h"

#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/config/config.h"
#include "../../src/core/log.h"
#include "../../src/core/worker.h"
#include "../../src/core/xmalloc.h"
#include "../../src/protocol/smtp_parse.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GREYLIST_FILE "greylist.db"

struct greylist_conf {
	struct greylist_times times;
	struct netlist white;
	struct greylist_store *store;  /* taken at the first check (the data directory) */
};

/* A duration element into one of the times. */
static void
greylist_duration(struct cfg_xml *x, xmlNode *node, uint64_t *out)
{
	char *v;
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	uint64_t ms;
	if (fastfail_duration(v, 1, &ms) < 0)
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<%s>: \"%s\" is not a duration (e.g. 1 hour, 36 days, 500ms)", cfg_xml_name(node),
		    v);
	else
		*out = ms;
	free(v);
}

static void
greylist_temp(struct cfg_xml *x, xmlNode *node, void *base)
{
	greylist_duration(x, node, &((struct greylist_conf *)base)->times.temp_block);
}

static void
greylist_white(struct cfg_xml *x, xmlNode *node, void *base)
{
	greylist_duration(x, node, &((struct greylist_conf *)base)->times.auto_white);
}

static void
greylist_unseen(struct cfg_xml *x, xmlNode *node, void *base)
{
	greylist_duration(x, node, &((struct greylist_conf *)base)->times.unseen);
}

static void
greylist_networks(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct greylist_conf *c = base;
	char *v, err[256];
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	if (netlist_parse(&c->white, v, err, sizeof(err)) < 0)
		cfg_error(x->diag, x->path, cfg_xml_line(node), "<whitelistedNetworks>: %s", err);
	free(v);
}

static const struct cfg_field greylist_fields[] = {
	{ .name = "tempBlockTime", .type = CFG_T_FUNC, .fn = greylist_temp },
	{ .name = "autoWhiteListLifeTime", .type = CFG_T_FUNC, .fn = greylist_white },
	{ .name = "unseenLifeTime", .type = CFG_T_FUNC, .fn = greylist_unseen },
	{ .name = "whitelistedNetworks", .type = CFG_T_FUNC, .flags = CFG_F_REPEAT,
	    .fn = greylist_networks },
	{ .name = "repositoryPath", .type = CFG_T_IGNORE },
	{ .name = "sqlFile", .type = CFG_T_IGNORE },
};
#define NFIELDS (sizeof(greylist_fields) / sizeof(greylist_fields[0]))

static void
greylist_free(void *p)
{
	struct greylist_conf *c = p;
	if (c == NULL)
		return;
	netlist_clear(&c->white);
	greylist_store_put(c->store);
	free(c);
}

static int
greylist_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct greylist_conf *c = xcalloc(1, sizeof(*c));
	/* James's AbstractGreylistHandler defaults. */
	c->times.temp_block = 3600000ULL;
	c->times.auto_white = 3110400000ULL;
	c->times.unseen = 14400000ULL;
	cfg_fields_read(x, node, greylist_fields, NFIELDS, c);
	*conf = c;
	return 0;
}

/*
 * The triplet's key into out: "<network> <sender> <recipient>", the
 * network being the client's /24 (IPv4) or /64 (IPv6). Exposed for the
 * unit tests through fastfail.h.
 */
void
greylist_key(const struct netaddr *client, const char *sender, const char *rcpt, char *out,
    size_t outlen)
{
	struct netaddr net = *client;
	unsigned prefix = net.family == AF_INET ? 24 : 64;
	if (net.family == AF_INET)
		net.addr[3] = 0;
	else
		memset(net.addr + 8, 0, 8);
	char a[64];
	netaddr_format(&net, a, sizeof(a));
	int n = snprintf(out, outlen, "%s/%u %s %s", a, prefix, sender, rcpt);
	for (int i = 0; i < n && (size_t)i < outlen; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/* A check on the worker pool. */
struct greylist_job {
	struct greylist_conf *conf;   /* the chain's (shared) configuration */
	char path[4096];
	char key[GREYLIST_KEY_MAX + 1];
	const char *id;               /* the session's id (lives while pending) */
	enum greylist_verdict v;
	struct hook_pending *pending;
};

/* Guards conf->store on first use: configurations are shared by threads. */
static pthread_mutex_t greylist_conf_mu = PTHREAD_MUTEX_INITIALIZER;

static struct hook_result
greylist_result(const char *id, const char *key, enum greylist_verdict v)
{
	switch (v) {
	case GREYLIST_NEW:
		log_info(id, "event=greylisted triplet=\"%s\"", key);
		return (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451, .ecode = "4.4.3",
			.text = "Temporary rejected: Please try again later" };
	case GREYLIST_TOO_SOON:
		log_info(id, "event=greylisted triplet=\"%s\" reason=too-soon", key);
		return (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451, .ecode = "4.4.3",
			.text = "Temporary rejected: Reconnect to fast. Please try again later" };
	case GREYLIST_FULL:
		log_warn(id, "event=greylist-full triplet=\"%s\" action=accept", key);
		return HOOK_RESULT_DECLINED;
	case GREYLIST_ERROR:
		log_warn(id, "event=greylist-error triplet=\"%s\" action=accept", key);
		return HOOK_RESULT_DECLINED;
	case GREYLIST_PASS:
		break;
	}
	return HOOK_RESULT_DECLINED;
}

static void
greylist_work(void *arg)
{
	struct greylist_job *j = arg;
	pthread_mutex_lock(&greylist_conf_mu);
	if (j->conf->store == NULL)
		j->conf->store = greylist_store_get(j->path);
	struct greylist_store *st = j->conf->store;
	pthread_mutex_unlock(&greylist_conf_mu);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	j->v = greylist_store_check(st, j->key, now, &j->conf->times);
}

static void
greylist_done(void *arg)
{
	struct greylist_job *j = arg;
	struct hook_result r = greylist_result(j->id, j->key, j->v);
	struct hook_pending *p = j->pending;
	free(j);
	hook_resume(p, r);
}

static struct hook_result
greylist_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	struct greylist_conf *c = (struct greylist_conf *)s->conf;
	if (c == NULL || s->relaying_allowed || netlist_match(&c->white, &s->client))
		return HOOK_RESULT_DECLINED;
	if (s->workers == NULL || s->base == NULL || s->resume == NULL || s->cfg == NULL ||
	    s->cfg->main.data_dir == NULL)
		return HOOK_RESULT_DECLINED; /* no session around it (never in the daemon) */
	struct greylist_job *j = xcalloc(1, sizeof(*j));
	j->conf = c;
	j->id = s->id;
	snprintf(j->path, sizeof(j->path), "%s/%s", s->cfg->main.data_dir, GREYLIST_FILE);
	greylist_key(&s->client, s->sender != NULL ? s->sender->mailbox : "", rcpt->mailbox, j->key,
	    sizeof(j->key));
	/* done runs later on this (the session's) thread, never before we return. */
	if (worker_submit(s->workers, greylist_work, greylist_done, j, s->base) != 0) {
		free(j); /* the pool is stopping */
		return HOOK_RESULT_DECLINED;
	}
	j->pending = hook_suspend(s);
	return (struct hook_result){ .verdict = HOOK_PENDING };
}

const struct handler_def handler_greylist = {
	.name = "JDBCGreylistHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.JDBCGreylistHandler",
	.summary = "greylisting of (client network, sender, recipient) in <dataDirectory>/greylist.db",
	.configure = greylist_configure,
	.conf_free = greylist_free,
	.rcpt = greylist_rcpt,
};

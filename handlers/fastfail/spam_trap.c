/*
 * spam_trap.c - James's fastfail.SpamTrapHandler (james.md 1b.6).
 *
 * <spamTrapRecip> (repeatable, at least one) and <blockTime> (ms, default
 * 4320000): a client that sends RCPT to a trap address gets the default
 * DENY ("554 Email rejected") and its IP address is blocked for blockTime:
 * every RCPT from it, in any session of this server, gets the same reply.
 * James's init refuses a non-empty trap list (a known James bug) so the
 * handler cannot be used there; mailetd does what it was meant to do.
 * The block table is shared by the I/O threads (a mutex), bounded to
 * SPAM_TRAP_MAX addresses (the oldest block is dropped when full).
 */
#include "fastfail.h"

#include "../../src/config/cfg_xml.h"
#include "../../src/core/xmalloc.h"
#include "../../src/protocol/smtp_parse.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SPAM_TRAP_MAX 4096

struct spam_trap_block {
	struct netaddr addr;
	uint64_t until_ms;  /* CLOCK_MONOTONIC */
};

struct spam_trap_conf {
	char **traps;
	size_t ntraps;
	uint64_t block_ms;
	pthread_mutex_t mu;
	struct spam_trap_block *v;
	size_t n;
};

static uint64_t
spam_trap_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
spam_trap_free(void *p)
{
	struct spam_trap_conf *c = p;
	for (size_t i = 0; i < c->ntraps; i++)
		free(c->traps[i]);
	free(c->traps);
	free(c->v);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int
spam_trap_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct spam_trap_conf *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	c->block_ms = 4320000;
	int rc = 0;
	for (xmlNode *k = cfg_xml_child(node, NULL); k != NULL; k = cfg_xml_next(k, NULL)) {
		const char *name = cfg_xml_name(k);
		char *v;
		if (strcmp(name, "spamTrapRecip") == 0) {
			if (cfg_xml_text(x, k, &v) < 0) {
				rc = -1;
				continue;
			}
			if (strchr(v, '@') == NULL) {
				cfg_error(x->diag, x->path, cfg_xml_line(k),
				    "<spamTrapRecip>: \"%s\" is not an address", v);
				free(v);
				rc = -1;
				continue;
			}
			c->traps = xreallocarray(c->traps, c->ntraps + 1, sizeof(*c->traps));
			c->traps[c->ntraps++] = v;
		} else if (strcmp(name, "blockTime") == 0) {
			long long n;
			if (cfg_xml_text(x, k, &v) < 0) {
				rc = -1;
				continue;
			}
			if (cfg_parse_int(v, &n) != CFG_POK || n <= 0) {
				cfg_error(x->diag, x->path, cfg_xml_line(k),
				    "<blockTime>: \"%s\" is not a number of milliseconds", v);
				rc = -1;
			} else {
				c->block_ms = (uint64_t)n;
			}
			free(v);
		} else {
			cfg_warn(x->diag, x->path, cfg_xml_line(k), "<%s>: unknown element, ignored",
			    name);
		}
	}
	if (rc == 0 && c->ntraps == 0) {
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<handler>: SpamTrapHandler needs at least one <spamTrapRecip>");
		rc = -1;
	}
	if (rc < 0) {
		spam_trap_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

/* True if a is blocked now; drops expired blocks. */
static bool
spam_trap_blocked(struct spam_trap_conf *c, const struct netaddr *a, uint64_t now)
{
	bool hit = false;
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].until_ms <= now)
			continue;
		if (memcmp(&c->v[i].addr, a, sizeof(*a)) == 0)
			hit = true;
		c->v[k++] = c->v[i];
	}
	c->n = k;
	return hit;
}

static void
spam_trap_block(struct spam_trap_conf *c, const struct netaddr *a, uint64_t now)
{
	if (c->n == SPAM_TRAP_MAX) {
		memmove(c->v, c->v + 1, (c->n - 1) * sizeof(*c->v));
		c->n--;
	}
	if (c->v == NULL)
		c->v = xcalloc(SPAM_TRAP_MAX, sizeof(*c->v));
	c->v[c->n].addr = *a;
	c->v[c->n++].until_ms = now + c->block_ms;
}

static struct hook_result
spam_trap_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	struct spam_trap_conf *c = (struct spam_trap_conf *)s->conf; /* its block table */
	if (c == NULL)
		return HOOK_RESULT_DECLINED;
	uint64_t now = spam_trap_now();
	bool deny = false;
	pthread_mutex_lock(&c->mu);
	if (spam_trap_blocked(c, &s->client, now)) {
		deny = true;
	} else {
		for (size_t i = 0; i < c->ntraps && !deny; i++)
			if (strcasecmp(c->traps[i], rcpt->mailbox) == 0)
				deny = true;
		if (deny)
			spam_trap_block(c, &s->client, now);
	}
	pthread_mutex_unlock(&c->mu);
	return deny ? (struct hook_result){ .verdict = HOOK_DENY } : HOOK_RESULT_DECLINED;
}

const struct handler_def handler_spam_trap = {
	.name = "SpamTrapHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.SpamTrapHandler",
	.summary = "blocks clients that write to trap addresses",
	.configure = spam_trap_configure,
	.conf_free = spam_trap_free,
	.rcpt = spam_trap_rcpt,
};

/*
 * spamassassin.c - James's SpamAssassinHandler (james.md 1b.6):
 * org.apache.james.spamassassin.SpamAssassinHandler, and the older
 * org.apache.james.smtpserver.fastfail.SpamAssassinHandler whose
 * parameters it reads.
 *
 * A message hook: the whole message (as it will be delivered, Received
 * header included) goes to spamd with "CHECK" (spamd.h), asynchronously
 * on the session's event loop; the hook answers PENDING meanwhile. With
 * spamd's answer the message gets James's attributes
 *   org.apache.james.spamassassin.flag    YES | NO
 *   org.apache.james.spamassassin.status  "Yes, hits=7.1 required=5.0"
 * and, when <spamdRejectionHits> is above 0 and the score reaches it,
 * "554 5.7.0 This message reach the spam hits treshold. Please contact
 * the Postmaster if the email is not SPAM. Message rejected" (James's
 * text, spelling included).
 *
 * spamd down, too slow (<spamdTimeout>) or answering something that does
 * not parse: the message is accepted without attributes and the failure
 * is logged, as James does (it logs the MessagingException and declines).
 *
 * spamd's address: <spamdHost>/<spamdPort> (James 3.0's parameters), or
 * when neither is given, spamassassin.properties beside the XML file as
 * current James reads it, else localhost:783.
 *
 * Parameters: spamdHost (localhost), spamdPort (783), spamdRejectionHits
 * (0.0 = never reject), checkAuthNetworks (false: clients that may relay
 * are not scanned), spamdTimeout (mailetd's: a duration, 30 s).
 */
#include "fastfail.h"
#include "spamd.h"

#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPAMASSASSIN_FLAG "org.apache.james.spamassassin.flag"
#define SPAMASSASSIN_STATUS "org.apache.james.spamassassin.status"
#define SPAMASSASSIN_REJECT                                                                        \
	"This message reach the spam hits treshold. Please contact the Postmaster if the email is " \
	"not SPAM. Message rejected"

struct spamassassin_conf {
	char *host;
	int port;
	double hits;               /* spamdRejectionHits; <= 0: never reject */
	bool check_auth;           /* checkAuthNetworks */
	uint64_t timeout_ms;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

static void
spamassassin_hits(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct spamassassin_conf *c = base;
	char *v;
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (v[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(d))
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<spamdRejectionHits>: \"%s\" is not a number", v);
	else
		c->hits = d;
	free(v);
}

static void
spamassassin_timeout(struct cfg_xml *x, xmlNode *node, void *base)
{
	struct spamassassin_conf *c = base;
	char *v;
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	uint64_t ms;
	if (fastfail_duration(v, 1, &ms) < 0 || ms == 0 || ms > 3600000)
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<spamdTimeout>: \"%s\" is not a duration from 1 ms to 1 hour (e.g. 30s)", v);
	else
		c->timeout_ms = ms;
	free(v);
}

static const struct cfg_field spamassassin_fields[] = {
	{ .name = "spamdHost", .type = CFG_T_STRING, .def_str = "localhost",
	    .off = offsetof(struct spamassassin_conf, host) },
	{ .name = "spamdPort", .type = CFG_T_INT, .min = 1, .max = 65535, .def = 783,
	    .off = offsetof(struct spamassassin_conf, port) },
	{ .name = "spamdRejectionHits", .type = CFG_T_FUNC, .fn = spamassassin_hits },
	{ .name = "checkAuthNetworks", .type = CFG_T_BOOL, .def = 0,
	    .off = offsetof(struct spamassassin_conf, check_auth) },
	{ .name = "spamdTimeout", .type = CFG_T_FUNC, .fn = spamassassin_timeout },
};
#define NFIELDS (sizeof(spamassassin_fields) / sizeof(spamassassin_fields[0]))

static void
spamassassin_free(void *p)
{
	struct spamassassin_conf *c = p;
	if (c == NULL)
		return;
	cfg_fields_free(spamassassin_fields, NFIELDS, c);
	free(c);
}

/*
 * spamd's address, resolved once at start-up (getaddrinfo may block then).
 * IPv4 first: "localhost" is then 127.0.0.1, where spamd listens by
 * default (and James's default host), not ::1.
 */
static int
spamassassin_resolve(struct spamassassin_conf *c, char *err, size_t errlen)
{
	char port[8];
	snprintf(port, sizeof(port), "%d", c->port);
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(c->host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		hints.ai_family = AF_UNSPEC;
		rc = getaddrinfo(c->host, port, &hints, &res);
	}
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	memcpy(&c->addr, res->ai_addr, res->ai_addrlen);
	c->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * Current James takes spamd's address from spamassassin.properties beside
 * the XML files (spamassassin.host, default 127.0.0.1; spamassassin.port,
 * default 783), not from the handler. Read when the handler names neither
 * spamdHost nor spamdPort and the file exists. A Java properties subset:
 * "key=value" or "key: value" lines, '#' and '!' comments.
 */
static void
spamassassin_properties(struct cfg_xml *x, struct spamassassin_conf *c)
{
	const char *slash = strrchr(x->path, '/');
	char path[4096];
	if (slash == NULL)
		snprintf(path, sizeof(path), "spamassassin.properties");
	else
		snprintf(path, sizeof(path), "%.*s/spamassassin.properties", (int)(slash - x->path),
		    x->path);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	free(c->host);
	c->host = xstrdup("127.0.0.1");
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		char *k = line + strspn(line, " \t\f");
		k[strcspn(k, "\r\n")] = '\0';
		if (*k == '\0' || *k == '#' || *k == '!')
			continue;
		size_t klen = strcspn(k, "=: \t\f");
		char *v = k + klen;
		v += strspn(v, " \t\f");
		if (*v == '=' || *v == ':')
			v++;
		v += strspn(v, " \t\f");
		size_t vlen = strlen(v);
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			v[--vlen] = '\0';
		if (klen == 17 && strncmp(k, "spamassassin.host", klen) == 0) {
			if (vlen == 0 || vlen > 253)
				cfg_error(x->diag, path, lineno, "spamassassin.host: \"%s\" is not a host", v);
			else {
				free(c->host);
				c->host = xstrdup(v);
			}
		} else if (klen == 17 && strncmp(k, "spamassassin.port", klen) == 0) {
			long long port;
			if (cfg_parse_int(v, &port) != CFG_POK || port < 1 || port > 65535)
				cfg_error(x->diag, path, lineno, "spamassassin.port: \"%s\" is not a port", v);
			else
				c->port = (int)port;
		}
	}
	free(line);
	fclose(f);
}

static int
spamassassin_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct spamassassin_conf *c = xcalloc(1, sizeof(*c));
	cfg_fields_defaults(spamassassin_fields, NFIELDS, c);
	c->timeout_ms = 30000;
	cfg_fields_read(x, node, spamassassin_fields, NFIELDS, c);
	if (cfg_xml_child(node, "spamdHost") == NULL && cfg_xml_child(node, "spamdPort") == NULL)
		spamassassin_properties(x, c);
	char err[256];
	if (spamassassin_resolve(c, err, sizeof(err)) < 0) {
		xmlNode *h = cfg_xml_child(node, "spamdHost");
		cfg_error(x->diag, x->path, cfg_xml_line(h != NULL ? h : node),
		    "<spamdHost>: \"%s\" cannot be resolved: %s", c->host, err);
		spamassassin_free(c);
		return -1;
	}
	*conf = c;
	return 0;
}

/* The attribute texts of the session's current message (its state slot). */
struct spamassassin_state {
	char flag[4];
	char status[2 * SPAMD_NUM_MAX + 32];
};

/* A scan in progress; lives until spamd answered or failed. */
struct spamassassin_job {
	const struct hook_session *s; /* stays valid while the hook is pending */
	const struct spamassassin_conf *c;
	struct hook_pending *pending;
};

/* See fastfail.h: spamd's verdict as James applies it. */
struct hook_result
spamassassin_decide(const struct hook_session *s, const void *conf, const struct spamd_result *r)
{
	const struct spamassassin_conf *c = conf;
	struct spamassassin_state *st = *s->state;
	if (st == NULL)
		st = *s->state = xcalloc(1, sizeof(*st));
	snprintf(st->flag, sizeof(st->flag), "%s", r->spam ? "YES" : "NO");
	snprintf(st->status, sizeof(st->status), "%s, hits=%s required=%s", r->spam ? "Yes" : "No",
	    r->score_text, r->threshold_text);
	if (hook_set_attr(s, SPAMASSASSIN_FLAG, st->flag) != 0 ||
	    hook_set_attr(s, SPAMASSASSIN_STATUS, st->status) != 0)
		log_warn(s->id, "event=spamd-attrs msg=\"too many mail attributes\"");
	if (c->hits > 0 && r->score >= c->hits) {
		log_info(s->id, "event=rejected reason=spam hits=%s required=%.1f",
		    r->score_text, c->hits);
		return (struct hook_result){ .verdict = HOOK_DENY, .code = 554, .ecode = "5.7.0",
			.text = SPAMASSASSIN_REJECT };
	}
	return HOOK_RESULT_DECLINED;
}

static void
spamassassin_done(void *arg, int err, const char *why, const struct spamd_result *r)
{
	struct spamassassin_job *j = arg;
	struct hook_result res = HOOK_RESULT_DECLINED;
	if (err != 0) {
		/* As James: an unreachable or broken spamd lets the message through. */
		log_warn(j->s->id, "event=spamd-error host=%s port=%d errno=%d error=\"%s: %s\" "
		    "action=accept", j->c->host, j->c->port, err, why != NULL ? why : "", strerror(err));
	} else {
		log_info(j->s->id, "event=spamd spam=%s hits=%s required=%s", r->spam ? "yes" : "no",
		    r->score_text, r->threshold_text);
		res = spamassassin_decide(j->s, j->c, r);
	}
	struct hook_pending *p = j->pending;
	free(j);
	hook_resume(p, res);
}

static struct hook_result
spamassassin_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	const struct spamassassin_conf *c = s->conf;
	if (c == NULL || (s->relaying_allowed && !c->check_auth))
		return HOOK_RESULT_DECLINED;
	if (s->base == NULL || s->resume == NULL)
		return HOOK_RESULT_DECLINED; /* cannot wait here (never in a session) */
	int fd = hook_message_fd(s);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		log_error(s->id, "event=spamd-error errno=%d error=\"message unreadable: %s\" "
		    "action=accept", errno, strerror(errno));
		if (fd >= 0)
			close(fd);
		return HOOK_RESULT_DECLINED;
	}
	struct spamassassin_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->c = c;
	/* spamd_check never calls back before this hook has returned. */
	if (spamd_check(s->base, (const struct sockaddr *)&c->addr, c->addrlen, fd,
	        (uint64_t)st.st_size, (unsigned)c->timeout_ms, spamassassin_done, j) != 0) {
		log_warn(s->id, "event=spamd-error host=%s port=%d errno=%d error=\"%s\" action=accept",
		    c->host, c->port, errno, strerror(errno));
		free(j);
		return HOOK_RESULT_DECLINED;
	}
	j->pending = hook_suspend(s);
	return (struct hook_result){ .verdict = HOOK_PENDING };
}

const struct handler_def handler_spamassassin = {
	.name = "SpamAssassinHandler",
	.james_class = "org.apache.james.spamassassin.SpamAssassinHandler",
	.summary = "asks spamd about every message; rejects above spamdRejectionHits",
	.configure = spamassassin_configure,
	.conf_free = spamassassin_free,
	.message = spamassassin_message,
};

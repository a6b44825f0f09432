/*
 * valid_rcpt.c - James's fastfail.ValidRcptHandler (james.md 1b.6).
 *
 * Only recipients in local domains are checked. postmaster and abuse are
 * left to the core PostmasterAbuseRcptHook (RFC 5321 4.5.1 requires
 * postmaster). A recipient is accepted when it maps to a user of the
 * users repository (src/auth/users.h: the local part, or local@domain
 * with virtual hosting, "+detail" removed); otherwise, with
 * <enableRecipientRewriteTable> (default true), when the recipient
 * rewrite table (src/rrt/rrt.h, docs/rrt.md) passes the
 * <recipientRewriteTableCheck>:
 *   mappingExists (default)  some mapping applies, whatever it gives
 *                            (errors, loops and remote targets included);
 *   anyMappingValid          the resolution ends in at least one existing
 *                            local user (error targets ignored; a loop or
 *                            too many mappings fails);
 *   allMappingsValid         every address it ends in is an existing local
 *                            user, and no error mapping is reached.
 * Else "550 5.1.1 Unknown user: <addr>".
 *
 * An LMTP server delivers straight into mailboxes (src/delivery/local.h),
 * so there the check is the delivery's own decision (local_rcpt_users),
 * whatever the mode: a recipient with mappings is accepted only when
 * every address it resolves to is a local user; an error mapping, a loop
 * or a non-local target gets "550 5.1.1 <addr>: <why>" at RCPT instead of
 * a failure after the data.
 *
 * The lookups may read users.db and rrt.db from disk: when the session
 * has a worker pool, they run there and the hook answers PENDING,
 * resuming the session when the answer is back (hook.h); the I/O thread
 * never waits for the files.
 */
#include "fastfail.h"

#include "../../src/auth/users.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/config/config.h"
#include "../../src/core/xmalloc.h"
#include "../../src/delivery/local.h"
#include "../../src/rrt/rrt.h"
#include "../../src/protocol/smtp_parse.h"

#include "../../src/core/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { RRT_MAPPING_EXISTS, RRT_ANY_VALID, RRT_ALL_VALID };

struct valid_rcpt_conf {
	bool rrt;
	int check;
};

static const struct cfg_keyword rrt_checks[] = {
	{ "mappingExists", RRT_MAPPING_EXISTS },
	{ "anyMappingValid", RRT_ANY_VALID },
	{ "allMappingsValid", RRT_ALL_VALID },
	{ NULL, 0 },
};

static const struct cfg_field valid_rcpt_fields[] = {
	{ .name = "enableRecipientRewriteTable", .type = CFG_T_BOOL, .def = 1,
	    .off = offsetof(struct valid_rcpt_conf, rrt) },
	{ .name = "recipientRewriteTableCheck", .type = CFG_T_KEYWORD, .def = RRT_MAPPING_EXISTS,
	    .keywords = rrt_checks, .off = offsetof(struct valid_rcpt_conf, check) },
};

static int
valid_rcpt_configure(struct cfg_xml *x, const struct _xmlNode *node, void **conf)
{
	struct valid_rcpt_conf *c = xcalloc(1, sizeof(*c));
	cfg_fields_defaults(valid_rcpt_fields, 2, c);
	cfg_fields_read(x, node, valid_rcpt_fields, 2, c);
	*conf = c;
	return 0;
}

#define VALID_RCPT_TEXT_MAX (SMTP_MAILBOX_MAX + RRT_ERROR_MAX + RRT_ADDR_MAX + 96)

/* The reply text with the address; kept in the session's state slot. */
static struct hook_result
valid_rcpt_reply(void **slot, int code, const char *ecode, const char *fmt, const char *rcpt)
{
	char *buf = *slot;
	if (buf == NULL)
		buf = *slot = xmalloc(VALID_RCPT_TEXT_MAX);
	snprintf(buf, VALID_RCPT_TEXT_MAX, fmt, rcpt);
	return (struct hook_result){ .verdict = code >= 500 ? HOOK_DENY : HOOK_DENYSOFT,
		.code = code, .ecode = ecode, .text = buf };
}

/* What the lookups decided. */
enum valid_rcpt_verdict {
	VR_ACCEPT,
	VR_UNKNOWN,        /* 550 5.1.1 Unknown user: <addr> */
	VR_REFUSED,        /* LMTP: 550 5.1.1 <addr>: <why> */
};

/* A lookup, on the worker pool or inline. */
struct valid_rcpt_job {
	const struct config *cfg;
	bool rrt;                    /* enableRecipientRewriteTable */
	int check;                   /* recipientRewriteTableCheck */
	bool lmtp;
	char rcpt[SMTP_MAILBOX_MAX + 1];
	size_t at;
	enum valid_rcpt_verdict verdict;
	char why[RRT_ERROR_MAX + RRT_ADDR_MAX + 80];
	void **slot;                 /* the session's state slot (lives while pending) */
	struct hook_pending *pending;
};

/* True if addr (local@domain) is an existing local user. */
static bool
valid_rcpt_is_user(struct users *db, const char *addr, size_t at)
{
	char user[USERS_NAME_MAX + 1];
	return users_recipient_user(db, addr, at, addr + at + 1, strlen(addr + at + 1), user,
	    sizeof(user));
}

/* The table's answer for a recipient that is not a user (SMTP modes). */
static bool
valid_rcpt_rrt_ok(const struct valid_rcpt_job *j)
{
	struct users *db = j->cfg->users_db;
	struct rrt_result res;
	enum rrt_status st = rrt_resolve(j->cfg->rrt_db, j->rcpt, strlen(j->rcpt), &res);
	bool ok = false;
	if (j->check == RRT_MAPPING_EXISTS) {
		ok = st == RRT_MAPPED || st == RRT_LOOP || st == RRT_TOO_MANY;
	} else if (st == RRT_MAPPED) {
		size_t valid = 0;
		for (size_t i = 0; i < res.naddrs; i++) {
			const char *a = res.addrs[i].addr;
			valid += valid_rcpt_is_user(db, a, (size_t)(strrchr(a, '@') - a));
		}
		if (j->check == RRT_ANY_VALID)
			ok = valid > 0;
		else
			ok = valid > 0 && valid == res.naddrs && res.nerrors == 0;
	}
	rrt_result_clear(&res);
	return ok;
}

static void
valid_rcpt_decide(struct valid_rcpt_job *j)
{
	struct users *db = j->cfg->users_db;
	if (j->lmtp) {
		char **users;
		size_t n;
		switch (local_rcpt_users(j->cfg, j->rcpt, &users, &n, j->why, sizeof(j->why))) {
		case LOCAL_RCPT_USERS:
			for (size_t i = 0; i < n; i++)
				free(users[i]);
			free(users);
			j->verdict = VR_ACCEPT;
			return;
		case LOCAL_RCPT_REFUSED:
			j->verdict = VR_REFUSED;
			return;
		case LOCAL_RCPT_UNKNOWN:
			j->verdict = VR_UNKNOWN;
			return;
		}
	}
	if (valid_rcpt_is_user(db, j->rcpt, j->at))
		j->verdict = VR_ACCEPT;
	else if (j->rrt && valid_rcpt_rrt_ok(j))
		j->verdict = VR_ACCEPT;
	else
		j->verdict = VR_UNKNOWN;
}

static struct hook_result
valid_rcpt_result(struct valid_rcpt_job *j)
{
	char fmt[sizeof(j->why) + 16];
	switch (j->verdict) {
	case VR_ACCEPT:
		break;
	case VR_UNKNOWN:
		return valid_rcpt_reply(j->slot, 550, "5.1.1", "Unknown user: %s", j->rcpt);
	case VR_REFUSED:
		/* why is reply text: printable ASCII, '%' doubled for the format. */
		{
			size_t o = 0;
			memcpy(fmt, "%s: ", 4);
			o = 4;
			for (const char *p = j->why; *p != '\0' && o + 3 < sizeof(fmt); p++) {
				unsigned char c = (unsigned char)*p;
				if (c == '%')
					fmt[o++] = '%';
				fmt[o++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
			}
			fmt[o] = '\0';
		}
		return valid_rcpt_reply(j->slot, 550, "5.1.1", fmt, j->rcpt);
	}
	return HOOK_RESULT_DECLINED;
}

static void
valid_rcpt_work(void *arg)
{
	valid_rcpt_decide(arg);
}

/* On the session's thread: the answer resumes the session. */
static void
valid_rcpt_done(void *arg)
{
	struct valid_rcpt_job *j = arg;
	struct hook_result r = valid_rcpt_result(j);
	struct hook_pending *p = j->pending;
	free(j);
	hook_resume(p, r);
}

static struct hook_result
valid_rcpt_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	if (rcpt->at >= rcpt->len)
		return HOOK_RESULT_DECLINED;
	const char *domain = rcpt->mailbox + rcpt->at + 1;
	size_t dlen = rcpt->len - rcpt->at - 1;
	if (!config_is_local_domain(s->cfg, domain, dlen))
		return HOOK_RESULT_DECLINED;
	if ((rcpt->at == 10 && strncasecmp(rcpt->mailbox, "postmaster", 10) == 0) ||
	    (rcpt->at == 5 && strncasecmp(rcpt->mailbox, "abuse", 5) == 0))
		return HOOK_RESULT_DECLINED;
	if (s->cfg->users_db == NULL)
		return valid_rcpt_reply(s->state, 451, "4.0.0", "Unexpected error for %s",
		    rcpt->mailbox);
	const struct valid_rcpt_conf *c = s->conf;
	struct valid_rcpt_job *j = xcalloc(1, sizeof(*j));
	j->cfg = s->cfg;
	j->rrt = c != NULL ? c->rrt : true;
	j->check = c != NULL ? c->check : RRT_MAPPING_EXISTS;
	j->lmtp = s->server != NULL && s->server->proto == CFG_PROTO_LMTP;
	memcpy(j->rcpt, rcpt->mailbox, rcpt->len + 1);
	j->at = rcpt->at;
	j->slot = s->state;
	if (s->workers != NULL && s->base != NULL && s->resume != NULL) {
		/* done runs later on this (the session's) thread, never before we return. */
		if (worker_submit(s->workers, valid_rcpt_work, valid_rcpt_done, j, s->base) == 0) {
			j->pending = hook_suspend(s);
			return (struct hook_result){ .verdict = HOOK_PENDING };
		}
		/* the pool is stopping: answer here */
	}
	valid_rcpt_decide(j);
	struct hook_result r = valid_rcpt_result(j);
	free(j);
	return r;
}

const struct handler_def handler_valid_rcpt = {
	.name = "ValidRcptHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.ValidRcptHandler",
	.summary = "recipients in local domains must be known users or mapped addresses",
	.configure = valid_rcpt_configure,
	.rcpt = valid_rcpt_rcpt,
};

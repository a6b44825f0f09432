/*
 * valid_rcpt.c - James's fastfail.ValidRcptHandler (james.md 1b.6).
 *
 * Only recipients in local domains are checked: the address must map to
 * a user of the users repository (src/auth/users.h: the local part, or
 * local@domain with virtual hosting, "+detail" removed), else
 * "550 5.1.1 Unknown user: <addr>". postmaster and abuse are left to the
 * core PostmasterAbuseRcptHook (RFC 5321 4.5.1 requires postmaster).
 *
 * <enableRecipientRewriteTable> and <recipientRewriteTableCheck>
 * The users repository may read users.db from disk: when the session has
 * a worker pool, the lookup runs there and the hook answers PENDING,
 * resuming the session when the answer is back (hook.h); the I/O thread
 * never waits for the file.
 *
 * (mappingExists, anyMappingValid, allMappingsValid) are read and checked,
 * but mailetd has no recipient rewrite table yet: no address has a
 * mapping, so every mode comes down to "the user must exist".
 */
#include "fastfail.h"

#include "../../src/auth/users.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/config/config.h"
#include "../../src/core/xmalloc.h"
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

/* The reply text with the address; kept in the session's state slot. */
static struct hook_result
valid_rcpt_reply(void **slot, int code, const char *ecode, const char *fmt, const char *rcpt)
{
	char *buf = *slot;
	if (buf == NULL)
		buf = *slot = xmalloc(SMTP_MAILBOX_MAX + 64);
	snprintf(buf, SMTP_MAILBOX_MAX + 64, fmt, rcpt);
	return (struct hook_result){ .verdict = code >= 500 ? HOOK_DENY : HOOK_DENYSOFT,
		.code = code, .ecode = ecode, .text = buf };
}

/* A lookup on the worker pool. */
struct valid_rcpt_job {
	struct users *db;
	char rcpt[SMTP_MAILBOX_MAX + 1];
	size_t at;
	bool known;
	void **slot;                 /* the session's state slot (lives while pending) */
	struct hook_pending *pending;
};

static bool
valid_rcpt_lookup(struct users *db, const char *mailbox, size_t at)
{
	char user[USERS_NAME_MAX + 1];
	return users_recipient_user(db, mailbox, at, mailbox + at + 1, strlen(mailbox + at + 1),
	    user, sizeof(user));
}

static void
valid_rcpt_work(void *arg)
{
	struct valid_rcpt_job *j = arg;
	j->known = valid_rcpt_lookup(j->db, j->rcpt, j->at);
}

/* On the session's thread: the answer resumes the session. */
static void
valid_rcpt_done(void *arg)
{
	struct valid_rcpt_job *j = arg;
	struct hook_result r = j->known
	    ? HOOK_RESULT_DECLINED
	    : valid_rcpt_reply(j->slot, 550, "5.1.1", "Unknown user: %s", j->rcpt);
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
	struct users *db = s->cfg->users_db;
	if (db == NULL)
		return valid_rcpt_reply(s->state, 451, "4.0.0", "Unexpected error for %s",
		    rcpt->mailbox);
	if (s->workers != NULL && s->base != NULL && s->resume != NULL) {
		struct valid_rcpt_job *j = xcalloc(1, sizeof(*j));
		j->db = db;
		memcpy(j->rcpt, rcpt->mailbox, rcpt->len + 1);
		j->at = rcpt->at;
		j->slot = s->state;
		/* done runs later on this (the session's) thread, never before we return. */
		if (worker_submit(s->workers, valid_rcpt_work, valid_rcpt_done, j, s->base) == 0) {
			j->pending = hook_suspend(s);
			return (struct hook_result){ .verdict = HOOK_PENDING };
		}
		free(j); /* the pool is stopping: answer here */
	}
	if (valid_rcpt_lookup(db, rcpt->mailbox, rcpt->at))
		return HOOK_RESULT_DECLINED;
	return valid_rcpt_reply(s->state, 550, "5.1.1", "Unknown user: %s", rcpt->mailbox);
}

const struct handler_def handler_valid_rcpt = {
	.name = "ValidRcptHandler",
	.james_class = "org.apache.james.smtpserver.fastfail.ValidRcptHandler",
	.summary = "recipients in local domains must be known users",
	.configure = valid_rcpt_configure,
	.rcpt = valid_rcpt_rcpt,
};

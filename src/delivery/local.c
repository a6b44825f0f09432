/* local.c - direct delivery into the recipients' Maildirs (see local.h). */
#include "local.h"

#include "../auth/users.h"
#include "../config/config.h"
#include "../core/log.h"
#include "../core/worker.h"
#include "../core/xmalloc.h"
#include "../rrt/rrt.h"
#include "maildir.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct local_job {
	const struct config *cfg;
	struct local_message msg;  /* strings below are the job's own copies */
	char *sender;
	char **rcpts;
	char *log_id;
	struct local_result *res;
	local_done_fn *done;
	void *arg;
};

static void
set_result(struct local_result *r, int code, const char *ecode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
set_result(struct local_result *r, int code, const char *ecode, const char *fmt, ...)
{
	va_list ap;
	r->code = code;
	r->ecode = ecode;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

/* Copies s into a header value, control characters neutralised. */
static void
header_value(char *out, size_t outsz, const char *s)
{
	size_t o = 0;
	for (; *s != '\0' && o + 1 < outsz; s++)
		out[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	out[o] = '\0';
}

/* Delivers the copy of recipient rcpt that goes to user; fills r. */
static void
deliver_user(const struct config *cfg, const struct local_message *msg, const char *rcpt,
    const char *user, struct local_result *r)
{
	char q[200], local[MAILDIR_NAME_MAX + 1];
	const char *domain;
	struct users *db = cfg->users_db;

	log_quote(q, sizeof(q), rcpt, strlen(rcpt));
	if (maildir_split_user(user, cfg->domains.default_domain, local, sizeof(local), &domain) <
	    0) {
		log_error(msg->log_id, "event=delivery-failed rcpt=%s reason=bad-mailbox-name", q);
		set_result(r, 550, "5.3.0", "<%s> Mailbox name not usable", rcpt);
		return;
	}
	int md = maildir_open(cfg->main.data_dir, domain, local);
	if (md < 0) {
		int e = errno;
		log_error(msg->log_id, "event=delivery-failed rcpt=%s op=mkdir errno=%d error=\"%s\"",
		    q, e, strerror(e));
		if (e == ENOSPC)
			set_result(r, 452, "4.3.1", "<%s> Insufficient system storage", rcpt);
		else
			set_result(r, 451, "4.3.0", "<%s> Local error in delivery", rcpt);
		return;
	}

	char ret[400], to[400];
	header_value(ret, sizeof(ret), msg->sender);
	header_value(to, sizeof(to), rcpt);
	char *prefix = xasprintf("Return-Path: <%s>\r\nDelivered-To: %s\r\n", ret, to);
	size_t plen = strlen(prefix);

	uint64_t quota = 0, used = 0;
	if (users_quota(db, user, strlen(user), &quota) && quota > 0) {
		if (maildir_usage(md, &used) < 0) {
			log_error(msg->log_id, "event=delivery-failed rcpt=%s op=usage error=\"%s\"", q,
			    strerror(errno));
			set_result(r, 451, "4.3.0", "<%s> Local error in delivery", rcpt);
			goto out;
		}
		if (used + plen + msg->size > quota) {
			log_info(msg->log_id,
			    "event=delivery-failed rcpt=%s reason=quota used=%" PRIu64
			    " size=%" PRIu64 " quota=%" PRIu64,
			    q, used, (uint64_t)plen + msg->size, quota);
			set_result(r, 452, "4.2.2", "<%s> Mailbox full (over quota)", rcpt);
			goto out;
		}
	}

	char name[MAILDIR_UNIQUE_MAX];
	if (maildir_deliver(md, prefix, plen, msg->fd, msg->size, name, sizeof(name)) < 0) {
		int e = errno;
		log_error(msg->log_id, "event=delivery-failed rcpt=%s op=write errno=%d error=\"%s\"",
		    q, e, strerror(e));
		if (e == EDQUOT)
			set_result(r, 452, "4.2.2", "<%s> Mailbox full (over quota)", rcpt);
		else if (e == ENOSPC)
			set_result(r, 452, "4.3.1", "<%s> Insufficient system storage", rcpt);
		else
			set_result(r, 451, "4.3.0", "<%s> Local error in delivery", rcpt);
		goto out;
	}
	char uq[USERS_NAME_MAX * 4 + 8];
	log_info(msg->log_id, "event=delivered rcpt=%s user=%s file=%s size=%" PRIu64, q,
	    log_quote(uq, sizeof(uq), user, strlen(user)), name, (uint64_t)plen + msg->size);
	set_result(r, 250, "2.1.5", "<%s> Delivered", rcpt);
out:
	free(prefix);
	close(md);
}

enum local_rcpt
local_rcpt_users(const struct config *cfg, const char *rcpt, char ***users, size_t *nusers,
    char *text, size_t textsz)
{
	char user[USERS_NAME_MAX + 1];
	const char *at = strrchr(rcpt, '@');
	struct users *db = cfg->users_db;
	*users = NULL;
	*nusers = 0;
	if (at == NULL || db == NULL)
		return LOCAL_RCPT_UNKNOWN;
	struct rrt_result res;
	enum rrt_status st = rrt_resolve(cfg->rrt_db, rcpt, strlen(rcpt), &res);
	enum local_rcpt rc = LOCAL_RCPT_USERS;
	if (st == RRT_UNMAPPED || st == RRT_BAD_ADDRESS) {
		if (users_recipient_user(db, rcpt, (size_t)(at - rcpt), at + 1, strlen(at + 1), user,
			sizeof(user))) {
			*users = xcalloc(1, sizeof(char *));
			(*users)[(*nusers)++] = xstrdup(user);
		} else {
			rc = LOCAL_RCPT_UNKNOWN;
		}
	} else if (st != RRT_MAPPED) {
		snprintf(text, textsz, "%s", rrt_status_text(st));
		rc = LOCAL_RCPT_REFUSED;
	} else if (res.nerrors > 0) {
		snprintf(text, textsz, "%s", res.errors[0]);
		rc = LOCAL_RCPT_REFUSED;
	} else {
		for (size_t i = 0; i < res.naddrs && rc == LOCAL_RCPT_USERS; i++) {
			const char *a = res.addrs[i].addr;
			const char *aat = strrchr(a, '@');
			if (!users_recipient_user(db, a, (size_t)(aat - a), aat + 1, strlen(aat + 1), user,
				sizeof(user))) {
				snprintf(text, textsz,
				    "mapped to %.*s, which is not a local mailbox (LMTP does not relay)",
				    RRT_ADDR_MAX, a);
				rc = LOCAL_RCPT_REFUSED;
				break;
			}
			bool dup = false;
			for (size_t k = 0; k < *nusers && !dup; k++)
				dup = strcmp((*users)[k], user) == 0;
			if (dup)
				continue;
			*users = xreallocarray(*users, *nusers + 1, sizeof(char *));
			(*users)[(*nusers)++] = xstrdup(user);
		}
		if (rc == LOCAL_RCPT_USERS && *nusers == 0)
			rc = LOCAL_RCPT_UNKNOWN;
	}
	rrt_result_clear(&res);
	if (rc != LOCAL_RCPT_USERS) {
		for (size_t k = 0; k < *nusers; k++)
			free((*users)[k]);
		free(*users);
		*users = NULL;
		*nusers = 0;
	}
	return rc;
}

/* Delivers to one recipient (every user it resolves to); fills r. */
static void
deliver_one(const struct config *cfg, const struct local_message *msg, const char *rcpt,
    struct local_result *r)
{
	char q[200], why[RRT_ERROR_MAX + RRT_ADDR_MAX + 80];
	char **users;
	size_t n;
	log_quote(q, sizeof(q), rcpt, strlen(rcpt));
	switch (local_rcpt_users(cfg, rcpt, &users, &n, why, sizeof(why))) {
	case LOCAL_RCPT_UNKNOWN:
		log_info(msg->log_id, "event=delivery-failed rcpt=%s reason=unknown-user", q);
		set_result(r, 550, "5.1.1", "<%s> User unknown", rcpt);
		return;
	case LOCAL_RCPT_REFUSED: {
		char wq[sizeof(why) + 8];
		log_info(msg->log_id, "event=delivery-failed rcpt=%s reason=mapping why=%s", q,
		    log_quote(wq, sizeof(wq), why, strlen(why)));
		set_result(r, 550, "5.1.1", "<%s> %s", rcpt, why);
		return;
	}
	case LOCAL_RCPT_USERS:
		break;
	}
	/* One reply for the recipient: the first failure wins, so that the
	 * client retries (a retry may duplicate the copies that succeeded,
	 * never lose the ones that failed). */
	bool failed = false;
	for (size_t i = 0; i < n; i++) {
		struct local_result one;
		deliver_user(cfg, msg, rcpt, users[i], &one);
		if (!failed && (one.code != 250 || i == 0)) {
			*r = one;
			failed = one.code != 250;
		}
		free(users[i]);
	}
	free(users);
}

void
local_deliver(const struct config *cfg, const struct local_message *msg,
    struct local_result *res)
{
	for (size_t i = 0; i < msg->nrcpts; i++)
		deliver_one(cfg, msg, msg->rcpts[i], &res[i]);
}

static void
job_work(void *arg)
{
	struct local_job *j = arg;
	local_deliver(j->cfg, &j->msg, j->res);
}

static void
job_free(struct local_job *j)
{
	if (j->msg.fd >= 0)
		close(j->msg.fd);
	for (size_t i = 0; i < j->msg.nrcpts; i++)
		free(j->rcpts[i]);
	free(j->rcpts);
	free(j->sender);
	free(j->log_id);
	free(j->res);
	free(j);
}

static void
job_done(void *arg)
{
	struct local_job *j = arg;
	j->done(j->arg, j->res, j->msg.nrcpts);
	job_free(j);
}

int
local_deliver_async(struct worker_pool *pool, struct event_base *base,
    const struct config *cfg, const struct local_message *msg, local_done_fn *done, void *arg)
{
	struct local_job *j = xcalloc(1, sizeof(*j));
	j->cfg = cfg;
	j->msg = *msg;
	j->sender = xstrdup(msg->sender);
	j->log_id = xstrdup(msg->log_id != NULL ? msg->log_id : "-");
	j->rcpts = xcalloc(msg->nrcpts ? msg->nrcpts : 1, sizeof(*j->rcpts));
	for (size_t i = 0; i < msg->nrcpts; i++)
		j->rcpts[i] = xstrdup(msg->rcpts[i]);
	j->msg.sender = j->sender;
	j->msg.rcpts = (const char *const *)j->rcpts;
	j->msg.log_id = j->log_id;
	j->res = xcalloc(msg->nrcpts ? msg->nrcpts : 1, sizeof(*j->res));
	j->done = done;
	j->arg = arg;
	if (pool == NULL || worker_submit(pool, job_work, job_done, j, base) != 0) {
		job_free(j);
		return -1;
	}
	return 0;
}

/*
 * users_auth.c - James's UsersRepositoryAuthHook (reference 1b.6; core
 * on 3.9.x): AUTH checks the password against the users repository.
 *
 * The check hashes the password (tens of milliseconds), so it runs on the
 * worker pool (users_verify_async) and the hook answers PENDING; the
 * repository's verifyFailureDelay delays a failure there. A wrong
 * password is DENY (535), a repository error or a stopping pool DENYSOFT
 * (454); without a users repository the hook declines.
 */
#include "core_handlers.h"

#include "../../src/auth/users.h"
#include "../../src/config/config.h"
#include "../../src/core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct hook_result auth_denied = { .verdict = HOOK_DENY, .code = 535,
	.ecode = "5.7.8", .text = "Authentication credentials invalid" };
static const struct hook_result auth_error = { .verdict = HOOK_DENYSOFT, .code = 454,
	.ecode = "4.7.0", .text = "Temporary authentication failure" };

struct users_auth_wait {
	const struct hook_session *s; /* kept until resumed (hook.h) */
	struct hook_pending *p;
};

static void
users_auth_done(void *arg, enum users_auth result, const char *name)
{
	struct users_auth_wait *w = arg;
	struct hook_pending *p = w->p;
	const struct hook_session *s = w->s;
	free(w);
	struct hook_result r = auth_error;
	switch (result) {
	case USERS_AUTH_OK:
		if (name != NULL && hook_auth_user(s, name, strlen(name)) == 0)
			r = (struct hook_result){ .verdict = HOOK_OK };
		break;
	case USERS_AUTH_FAIL:
		r = auth_denied;
		break;
	case USERS_AUTH_ERROR:
		break;
	}
	hook_resume(p, r);
}

static struct hook_result
users_auth(const struct hook_session *s, const struct hook_auth *a)
{
	struct users *db = s->cfg->users_db;
	if (db == NULL)
		return HOOK_RESULT_DECLINED;
	if (s->workers == NULL || s->base == NULL)
		return auth_error;
	struct users_auth_wait *w = xmalloc(sizeof(*w));
	w->s = s;
	w->p = NULL;
	if (users_verify_async(db, s->workers, s->base, a->user, a->ulen, a->pass, a->plen,
		users_auth_done, w) != 0) {
		free(w); /* the pool is stopping */
		return auth_error;
	}
	/* The answer comes from base's loop, so never before this returns. */
	w->p = hook_suspend(s);
	return (struct hook_result){ .verdict = HOOK_PENDING };
}

const struct handler_def handler_users_auth = {
	.name = "UsersRepositoryAuthHook",
	.james_class = "org.apache.james.smtpserver.UsersRepositoryAuthHook",
	.summary = "AUTH: the password of a user of the users repository",
	.auth = users_auth,
};

/*
 * session_auth.c - SMTP AUTH (RFC 4954) in a session (see session_int.h):
 * the SASL exchange (PLAIN, LOGIN), the asynchronous password check and
 * its answer, and the slow-down after repeated failures.
 */
#include "session_int.h"

#include "../auth/users.h"
#include "../config/config.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "reply.h"
#include "sasl.h"

#include <event2/event.h>

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * True if EHLO offers AUTH to this client now (james.md 1a.3): AUTH exists,
 * a mechanism is enabled, TLS is active unless requireSSL is off, and the
 * announce policy names this client (forUnauthorizedAddresses: a client
 * outside authorizedAddresses). The relay hook's 530/550 choice follows it.
 */
bool
session_auth_offered(const struct session *s)
{
	const struct cfg_server *c = s->srv;
	if (!c->auth_enabled || c->auth_mechs == 0 || (c->auth_require_ssl && !s->tls_active))
		return false;
	switch (c->auth_announce) {
	case CFG_ANNOUNCE_ALWAYS:
		return true;
	case CFG_ANNOUNCE_UNAUTHORIZED:
		return !netlist_match(&c->authorized, &s->hs.client);
	case CFG_ANNOUNCE_NEVER:
		break;
	}
	return false;
}

/* ---------------------------------------------------------------------- */
/* AUTH (RFC 4954): PLAIN (RFC 4616) and LOGIN                            */

/* Failed AUTH commands after which each further reply is slowed down. */
#define AUTH_FREE_FAILURES 3
#define AUTH_SLOW_SECONDS 2

/* Ends a SASL exchange: wipes and frees what the client told us. */
static void
sasl_end(struct session *s)
{
	if (s->sasl_user != NULL) {
		OPENSSL_cleanse(s->sasl_user, strlen(s->sasl_user));
		free(s->sasl_user);
		s->sasl_user = NULL;
	}
	free(s->authzid);
	s->authzid = NULL;
	s->sasl_mech = SASL_NONE;
	if (s->auth_cred != NULL) { /* the credentials the auth hooks saw */
		OPENSSL_cleanse(s->auth_cred, s->auth_cred_len);
		free(s->auth_cred);
		s->auth_cred = NULL;
		s->auth_cred_len = 0;
	}
	memset(&s->hook_auth, 0, sizeof(s->hook_auth));
	OPENSSL_cleanse(s->hs.auth_name, sizeof(s->hs.auth_name));
}

/* Ends the exchange with an error reply (text, then the mechanism if
 * with_mech) and goes back to READY. */
void
sasl_fail(struct session *s, int code, const char *ecode, const char *text, bool with_mech)
{
	const char *mech = sasl_mech_name(s->sasl_mech);
	sasl_end(s);
	session_set_state(s, ST_READY);
	session_reply(s, code, ecode, "%s%s%s", text, with_mech ? " " : "", with_mech ? mech : "");
}

/* Forgets a successful AUTH (STARTTLS: RFC 3207 4.2). */
void
auth_forget(struct session *s)
{
	sasl_end(s);
	free(s->auth_user);
	s->auth_user = NULL;
	s->hs.auth_user = NULL;
	s->hs.authenticated = false;
	s->hs.relaying_allowed = netlist_match(&s->srv->authorized, &s->hs.client);
}

/* Sends the outcome of the password check; resume: read on afterwards. */
static void
auth_reply_send(struct session *s, bool resume)
{
	session_set_state(s, ST_READY);
	switch (s->auth_reply) {
	case 235:
		session_reply(s, 235, "2.7.0", "Authentication Successful");
		break;
	case 535:
		session_reply(s, 535, "5.7.8", "Authentication credentials invalid");
		break;
	default:
		session_reply(s, 454, "4.7.0", "Temporary authentication failure");
		break;
	}
	if (resume)
		session_process(s);
}

void
auth_slow_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	if (s->state != ST_AUTHCHECK || s->freeing)
		return;
	auth_reply_send(s, true);
}

/*
 * The password check is done (name: the normalized authcid, NULL on a
 * local error). Applies the authzid rule, logs, and replies now or,
 * after repeated failures, AUTH_SLOW_SECONDS later.
 */
static void
auth_finish(struct session *s, enum users_auth result, const char *name, bool resume)
{
	struct users *db = s->env->cfg->users_db;
	char q[200], who[USERS_NAME_MAX + 1];
	const char *mech = sasl_mech_name(s->sasl_mech);
	const char *user = s->sasl_user != NULL ? s->sasl_user : "";
	if (result == USERS_AUTH_OK && s->authzid != NULL && strcasecmp(s->authzid, name) != 0) {
		/* Acting as another user: administrators only (administratorId). */
		size_t zl = strlen(s->authzid);
		if (db == NULL || !users_is_admin(db, name, strlen(name)) || !users_exists(db, s->authzid, zl) ||
		    users_name_check(db, s->authzid, zl, who, sizeof(who)) != USERS_OK)
			result = USERS_AUTH_FAIL;
		else
			name = who;
	}
	switch (result) {
	case USERS_AUTH_OK:
		free(s->auth_user);
		s->auth_user = xstrdup(name);
		s->hs.auth_user = s->auth_user;
		s->hs.authenticated = true;
		s->hs.relaying_allowed = true;
		log_info(s->id, "event=auth client=%s mech=%s user=%s", s->client_text, mech,
		    log_quote(q, sizeof(q), s->auth_user, strlen(s->auth_user)));
		s->auth_reply = 235;
		break;
	case USERS_AUTH_FAIL:
		s->auth_failures++;
		log_info(s->id, "event=auth-failed client=%s mech=%s user=%s failures=%u",
		    s->client_text, mech, log_quote(q, sizeof(q), user, strlen(user)),
		    s->auth_failures);
		s->auth_reply = 535;
		break;
	case USERS_AUTH_ERROR:
		log_error(s->id, "event=auth-error client=%s mech=%s user=%s", s->client_text, mech,
		    log_quote(q, sizeof(q), user, strlen(user)));
		s->auth_reply = 454;
		break;
	}
	sasl_end(s);
	if (s->auth_slow) {
		struct timeval tv = { .tv_sec = AUTH_SLOW_SECONDS, .tv_usec = 0 };
		evtimer_add(s->auth_ev, &tv);
		return;
	}
	auth_reply_send(s, resume);
}

/*
 * The auth hooks answered (at once, or resumed): OK authenticates the
 * user a hook named (else the authcid), DENYSOFT is a temporary failure,
 * anything else (and all declining, as in James) a wrong password.
 */
static void
auth_after(struct session *s, struct hook_result r)
{
	enum users_auth result = USERS_AUTH_FAIL;
	if (r.verdict == HOOK_OK) {
		if (s->hs.auth_name[0] == '\0')
			hook_auth_user(&s->hs, s->hook_auth.user, s->hook_auth.ulen);
		if (s->hs.auth_name[0] != '\0')
			result = USERS_AUTH_OK;
	} else if (r.verdict == HOOK_DENYSOFT) {
		result = USERS_AUTH_ERROR;
	}
	/* auth_finish wipes the credentials (sasl_end) after using the name. */
	char name[HOOK_AUTH_NAME_MAX + 1];
	memcpy(name, s->hs.auth_name, sizeof(name));
	auth_finish(s, result, result == USERS_AUTH_OK ? name : NULL, false);
	OPENSSL_cleanse(name, sizeof(name));
}

/*
 * Asks the auth hooks (James's AuthHook; the core one checks the users
 * repository on the worker pool) about user (ulen) and pw (pwlen). The
 * session keeps a copy of both until the chain has answered.
 */
static void
auth_verify(struct session *s, const char *user, size_t ulen, const char *pw, size_t pwlen)
{
	s->auth_slow = s->auth_failures >= AUTH_FREE_FAILURES;
	session_set_state(s, ST_AUTHCHECK);
	s->auth_cred_len = ulen + pwlen + 1;
	s->auth_cred = xmalloc(s->auth_cred_len);
	memcpy(s->auth_cred, user, ulen);
	memcpy(s->auth_cred + ulen, pw, pwlen);
	s->auth_cred[ulen + pwlen] = '\0';
	s->hook_auth = (struct hook_auth){ .user = s->auth_cred, .ulen = ulen,
		.pass = s->auth_cred + ulen, .plen = pwlen, .mech = sasl_mech_name(s->sasl_mech) };
	s->hs.auth_name[0] = '\0';
	struct hook_result r;
	if (session_hook(s, CHAIN_AUTH, &s->hook_auth, &r, auth_after))
		auth_after(s, r);
}

/*
 * One client response (the initial response or a continuation line):
 * "*" cancels, "=" is an empty response, anything else must be base64.
 */
static void
sasl_step(struct session *s, const char *data, size_t len)
{
	if (len == 1 && data[0] == '*') {
		sasl_fail(s, 501, "5.7.1", "Authentication aborted", false);
		return;
	}
	size_t bufsz = len / 4 * 3 + 1;
	unsigned char *buf = xmalloc(bufsz);
	long n = (len == 1 && data[0] == '=') ? 0 : sasl_b64_decode(data, len, buf);
	struct sasl_plain pl;
	memset(&pl, 0, sizeof(pl));
	if (n < 0 || (s->sasl_mech == SASL_LOGIN && s->sasl_user == NULL &&
			 memchr(buf, '\0', (size_t)n) != NULL) ||
	    (s->sasl_mech == SASL_PLAIN && sasl_plain_split(buf, (size_t)n, &pl) != 0)) {
		OPENSSL_cleanse(buf, bufsz);
		free(buf);
		sasl_fail(s, 501, "5.5.2", "Could not decode parameters for AUTH", true);
		return;
	}
	if (s->sasl_mech == SASL_LOGIN && s->sasl_user == NULL) {
		s->sasl_user = xstrndup((const char *)buf, (size_t)n);
		OPENSSL_cleanse(buf, bufsz);
		free(buf);
		session_set_state(s, ST_SASL);
		session_reply(s, 334, NULL, "%s", SASL_LOGIN_PASS);
		return;
	}
	if (s->sasl_mech == SASL_LOGIN) {
		auth_verify(s, s->sasl_user, strlen(s->sasl_user), (const char *)buf, (size_t)n);
	} else {
		s->sasl_user = xstrndup(pl.authcid, pl.authcid_len);
		if (pl.authzid_len > 0 && (pl.authzid_len != pl.authcid_len ||
					      strncasecmp(pl.authzid, pl.authcid, pl.authcid_len) != 0))
			s->authzid = xstrndup(pl.authzid, pl.authzid_len);
		auth_verify(s, pl.authcid, pl.authcid_len, pl.passwd, pl.passwd_len);
	}
	OPENSSL_cleanse(buf, bufsz);
	free(buf);
}

/*
 * AUTH mechanism [initial-response]. The dispatcher has checked that AUTH
 * exists, the state, TLS (requireSSL) and that nobody is logged in yet.
 */
void
cmd_auth(struct session *s, const char *arg, size_t len)
{
	size_t i = 0;
	while (i < len && arg[i] != ' ')
		i++;
	enum sasl_mech m = sasl_mech_parse(arg, i);
	if (m == SASL_NONE || (s->srv->auth_mechs & (unsigned)m) == 0) {
		session_reply(s, 504, "5.5.4", "Unrecognized Authentication Type");
		return;
	}
	while (i < len && arg[i] == ' ')
		i++;
	s->sasl_mech = m;
	if (i < len) {
		sasl_step(s, arg + i, len - i);
		return;
	}
	session_set_state(s, ST_SASL);
	session_reply(s, 334, NULL, "%s", m == SASL_LOGIN ? SASL_LOGIN_USER : "");
}

/* A line read in ST_SASL. */
void
sasl_line(struct session *s, const char *line, size_t len)
{
	sasl_step(s, line, len);
}

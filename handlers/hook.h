/*
 * hook.h - what a handler sees and what it answers.
 *
 * A handler (one file under handlers/) exports one const struct
 * handler_def with designated initializers and implements any of the hooks.
 * Each hook gets a read-only view of the session and returns a
 * hook_result. The chain runner (chain.h) asks handlers in configured
 * order; the first result that is not HOOK_DECLINED decides, as in James
 * (reference/james.md 1b.3): OK runs the core command with its normal
 * reply and skips later handlers; DENY and DENYSOFT reply with the
 * handler's code and text (defaults 554 5.7.1 / 451 4.7.1); DISCONNECT
 * replies and closes. Only the session writes replies.
 */
#ifndef MAILETD_HOOK_H
#define MAILETD_HOOK_H

#include "../src/core/netaddr.h"

#include <stdbool.h>
#include <stddef.h>

struct config;
struct cfg_server;
struct smtp_path;

enum hook_verdict {
	HOOK_DECLINED = 0,
	HOOK_OK,
	HOOK_DENY,
	HOOK_DENYSOFT,
	HOOK_DISCONNECT,
};

struct hook_result {
	enum hook_verdict verdict;
	int code;           /* 0 = the default for the verdict */
	const char *ecode;  /* enhanced status code, NULL = default */
	const char *text;   /* static or handler-owned text, NULL = default */
};

#define HOOK_RESULT_DECLINED ((struct hook_result){ .verdict = HOOK_DECLINED })

/* The session as handlers see it; the session keeps it current. */
struct hook_session {
	const char *id;                   /* session id for logs */
	const struct config *cfg;
	const struct cfg_server *server;
	struct netaddr client;
	const char *client_text;          /* client address as text */
	const char *helo;                 /* HELO/EHLO argument, NULL before */
	bool esmtp;                       /* EHLO (or LHLO) rather than HELO */
	bool relaying_allowed;            /* authorizedAddresses or AUTH */
	bool authenticated;               /* a successful AUTH */
	const char *auth_user;            /* the authenticated user, or NULL */
	bool auth_announced;              /* EHLO offers AUTH to this client now */
	const struct smtp_path *sender;   /* NULL outside a transaction */
	size_t nrcpts;                    /* recipients accepted so far */
};

struct handler_def {
	const char *name;         /* mailetd's short name */
	const char *james_class;  /* the James class it stands for, or NULL */
	struct hook_result (*connect)(const struct hook_session *s);
	struct hook_result (*helo)(const struct hook_session *s, const char *arg);
	struct hook_result (*mail)(const struct hook_session *s, const struct smtp_path *sender);
	struct hook_result (*rcpt)(const struct hook_session *s, const struct smtp_path *rcpt);
	/* After the end of data, before the message is committed. */
	struct hook_result (*message)(const struct hook_session *s, unsigned long long size);
};

#endif

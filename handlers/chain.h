/*
 * chain.h - the handler chain and its runner.
 *
 * A chain is an ordered list of handlers. For now every server runs the
 * core chain (handlers/core/); <handlerchain> in smtpserver.xml is parsed
 * and reported by the configuration loader, and building chains from it
 * is the handler-chain issue's work.
 */
#ifndef MAILETD_CHAIN_H
#define MAILETD_CHAIN_H

#include "hook.h"

struct chain {
	const struct handler_def *const *v;
	size_t n;
};

enum chain_hook {
	CHAIN_CONNECT,
	CHAIN_HELO,
	CHAIN_MAIL,
	CHAIN_RCPT,
	CHAIN_MESSAGE,
};

/* The core chain, in James's order (CoreCmdHandlerLoader). */
const struct chain *chain_core(void);

/*
 * Asks every handler of c that implements hook, in order, and returns the
 * first result that is not HOOK_DECLINED (HOOK_RESULT_DECLINED if all
 * decline). arg is the hook's argument: the HELO text (const char *), the
 * path (const struct smtp_path *), or a pointer to the message size
 * (const unsigned long long *); NULL for CONNECT. Missing code, enhanced
 * code and text are filled with the verdict's defaults.
 */
struct hook_result chain_run(const struct chain *c, enum chain_hook hook,
    const struct hook_session *s, const void *arg);

#endif

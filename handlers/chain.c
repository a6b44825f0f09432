/* chain.c - the handler chain runner (see chain.h). */
#include "chain.h"

#include "core/core_handlers.h"

static const struct handler_def *const core_handlers[] = {
	&handler_auth_required,   /* MAIL: <auth><required> */
	&handler_relay,           /* RCPT: open-relay protection */
	&handler_postmaster,      /* RCPT: postmaster@ and abuse@ always accepted */
};

static const struct chain core_chain = {
	.v = core_handlers,
	.n = sizeof(core_handlers) / sizeof(core_handlers[0]),
};

const struct chain *
chain_core(void)
{
	return &core_chain;
}

/* Fills what a handler left out with James's defaults (1b.3). */
static struct hook_result
chain_defaults(struct hook_result r)
{
	switch (r.verdict) {
	case HOOK_DENY:
		if (r.code == 0)
			r.code = 554;
		if (r.ecode == NULL)
			r.ecode = "5.7.1";
		if (r.text == NULL)
			r.text = "Email rejected";
		break;
	case HOOK_DENYSOFT:
		if (r.code == 0)
			r.code = 451;
		if (r.ecode == NULL)
			r.ecode = "4.7.1";
		if (r.text == NULL)
			r.text = "Temporary problem. Please try again later";
		break;
	case HOOK_DISCONNECT:
		if (r.code == 0)
			r.code = 421;
		if (r.ecode == NULL)
			r.ecode = "4.7.0";
		if (r.text == NULL)
			r.text = "Server disconnected";
		break;
	case HOOK_OK:
	case HOOK_DECLINED:
		break;
	}
	return r;
}

static struct hook_result
chain_call(const struct handler_def *h, enum chain_hook hook, const struct hook_session *s,
    const void *arg, bool *implemented)
{
	*implemented = true;
	switch (hook) {
	case CHAIN_CONNECT:
		if (h->connect)
			return h->connect(s);
		break;
	case CHAIN_HELO:
		if (h->helo)
			return h->helo(s, arg);
		break;
	case CHAIN_MAIL:
		if (h->mail)
			return h->mail(s, arg);
		break;
	case CHAIN_RCPT:
		if (h->rcpt)
			return h->rcpt(s, arg);
		break;
	case CHAIN_MESSAGE:
		if (h->message)
			return h->message(s, *(const unsigned long long *)arg);
		break;
	}
	*implemented = false;
	return HOOK_RESULT_DECLINED;
}

struct hook_result
chain_run(const struct chain *c, enum chain_hook hook, const struct hook_session *s,
    const void *arg)
{
	for (size_t i = 0; i < c->n; i++) {
		bool implemented;
		struct hook_result r = chain_call(c->v[i], hook, s, arg, &implemented);
		if (implemented && r.verdict != HOOK_DECLINED)
			return chain_defaults(r);
	}
	return HOOK_RESULT_DECLINED;
}

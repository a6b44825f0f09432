/* chain.c - the handler chain and its runner (see chain.h). */
#include "chain.h"

#include "../src/core/xmalloc.h"
#include "../src/spool/spool.h"
#include "core/core_handlers.h"
#include "fastfail/fastfail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The core sets in James's order (james.md 1b.2, 1b.7). */
static const struct handler_def *const core_smtp[] = {
	&handler_mail_size,       /* MailSizeEsmtpExtension */
	&handler_users_auth,      /* UsersRepositoryAuthHook (core on James 3.9.x) */
	&handler_relay,           /* AuthRequiredToRelayRcptHook */
	&handler_verify_identity, /* SenderAuthIdentifyVerificationHook */
	&handler_auth_required,   /* AuthRequiredHook */
	&handler_postmaster,      /* PostmasterAbuseRcptHook */
	&handler_received,        /* ReceivedDataLineFilter */
	&handler_default_attrs,   /* AddDefaultAttributesMessageHook */
};
static const struct handler_def *const core_smtp_noauth[] = {
	&handler_mail_size,
	&handler_users_auth, /* no AUTH unless AuthCmdHandler is named (cfg_smtp.c) */
	&handler_relay,
	&handler_verify_identity,
	&handler_postmaster,
	&handler_received,
	&handler_default_attrs,
};
/* James's LMTP loaders have no AddDefaultAttributesMessageHook (1b.7). */
static const struct handler_def *const core_lmtp[] = {
	&handler_valid_rcpt,
	&handler_mail_size,
	&handler_relay,
	&handler_postmaster,
	&handler_received,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	const struct handler_def *const *v;
	size_t n;
} core_sets[] = {
	[CHAIN_CORE_SMTP] = { "org.apache.james.smtpserver.CoreCmdHandlerLoader", core_smtp,
	    NELEM(core_smtp) },
	[CHAIN_CORE_SMTP_NOAUTH] = { "org.apache.james.smtpserver.NoAuthCmdHandlerLoader",
	    core_smtp_noauth, NELEM(core_smtp_noauth) },
	[CHAIN_CORE_LMTP] = { "org.apache.james.lmtpserver.CoreCmdHandlerLoader", core_lmtp,
	    NELEM(core_lmtp) },
	[CHAIN_CORE_LMTP_MAILET] = { "org.apache.james.lmtpserver.MailetContainerCmdHandlerLoader",
	    core_lmtp, NELEM(core_lmtp) },
};

static struct chain_entry core_entries[NELEM(core_smtp)] = {
	{ .def = &handler_mail_size, .core = true },
	{ .def = &handler_users_auth, .core = true },
	{ .def = &handler_relay, .core = true },
	{ .def = &handler_verify_identity, .core = true },
	{ .def = &handler_auth_required, .core = true },
	{ .def = &handler_postmaster, .core = true },
	{ .def = &handler_received, .core = true },
	{ .def = &handler_default_attrs, .core = true },
};

static const struct chain core_chain = {
	.v = core_entries,
	.n = NELEM(core_entries),
	.core_set = CHAIN_CORE_SMTP,
};

const struct chain *
chain_core(void)
{
	return &core_chain;
}

const char *
chain_core_set_name(enum chain_core_set set)
{
	return core_sets[set].name;
}

struct chain *
chain_new(void)
{
	struct chain *c = xcalloc(1, sizeof(*c));
	c->heap = true;
	return c;
}

void
chain_free(struct chain *c)
{
	if (c == NULL || !c->heap)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].conf == NULL)
			continue;
		if (c->v[i].def->conf_free != NULL)
			c->v[i].def->conf_free(c->v[i].conf);
		else
			free(c->v[i].conf);
	}
	free(c->v);
	for (size_t i = 0; i < c->nskipped; i++)
		free(c->skipped[i].cls);
	free(c->skipped);
	free(c);
}

void
chain_add(struct chain *c, const struct handler_def *def, void *conf, long line)
{
	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n++] = (struct chain_entry){ .def = def, .conf = conf, .line = line };
}

void
chain_add_core(struct chain *c, enum chain_core_set set)
{
	c->core_set = set;
	for (size_t i = 0; i < core_sets[set].n; i++) {
		chain_add(c, core_sets[set].v[i], NULL, 0);
		c->v[c->n - 1].core = true;
	}
}

void
chain_skip(struct chain *c, const char *cls, long line, const char *reason)
{
	c->skipped = xreallocarray(c->skipped, c->nskipped + 1, sizeof(*c->skipped));
	c->skipped[c->nskipped++] = (struct chain_skipped){ .cls = xstrdup(cls), .line = line,
		.reason = reason };
}

void
chain_describe(const struct chain *c, FILE *f)
{
	fprintf(f, "  core: %s\n  chain:", chain_core_set_name(c->core_set));
	for (size_t i = 0; i < c->n; i++)
		fprintf(f, " %s", c->v[i].def->name);
	fputc('\n', f);
	if (c->nskipped == 0)
		return;
	fprintf(f, "  skipped:");
	for (size_t i = 0; i < c->nskipped; i++)
		fprintf(f, "%s %s (%s)", i > 0 ? "," : "", c->skipped[i].cls, c->skipped[i].reason);
	fputc('\n', f);
}

void
chain_session_begin(const struct chain *c, struct hook_session *s)
{
	s->slots = c->n > 0 ? xcalloc(c->n, sizeof(*s->slots)) : NULL;
	s->chain = c;
}

void *
hook_peer_state(const struct hook_session *s, const struct handler_def *def)
{
	if (s->chain == NULL || s->slots == NULL)
		return NULL;
	for (size_t i = 0; i < s->chain->n; i++)
		if (s->chain->v[i].def == def && s->slots[i] != NULL)
			return s->slots[i];
	return NULL;
}

void
chain_session_end(const struct chain *c, struct hook_session *s)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct handler_def *h = c->v[i].def;
		s->conf = c->v[i].conf;
		s->state = s->slots != NULL ? &s->slots[i] : NULL;
		if (h->disconnect != NULL)
			h->disconnect(s);
		if (s->slots != NULL && s->slots[i] != NULL) {
			if (h->state_free != NULL)
				h->state_free(s->slots[i]);
			else
				free(s->slots[i]);
			s->slots[i] = NULL;
		}
	}
	free(s->slots);
	s->slots = NULL;
	s->chain = NULL;
	s->conf = NULL;
	s->state = NULL;
}

struct hook_result
chain_defaults(struct hook_result r)
{
	switch (r.verdict) {
	case HOOK_DENY:
		if (r.code == 0)
			r.code = 554;
		if (r.text == NULL)
			r.text = "Email rejected";
		break;
	case HOOK_DENYSOFT:
		if (r.code == 0)
			r.code = 451;
		if (r.text == NULL)
			r.text = "Temporary problem. Please try again later";
		break;
	case HOOK_DISCONNECT:
		if (r.code == 0)
			r.code = 554;
		if (r.text == NULL)
			r.text = "Server disconnected";
		break;
	case HOOK_OK:
	case HOOK_DECLINED:
	case HOOK_PENDING:
		break;
	}
	return r;
}

static bool
name_in(const char *const *names, const char *name, size_t len)
{
	for (; names != NULL && *names != NULL; names++)
		if (strlen(*names) == len && strncasecmp(*names, name, len) == 0)
			return true;
	return false;
}

bool
chain_rcpt_param_declared(const struct chain *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->n; i++)
		if (name_in(c->v[i].def->rcpt_params, name, len))
			return true;
	return false;
}

bool
chain_mail_param_declared(const struct chain *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->n; i++)
		if (name_in(c->v[i].def->mail_params, name, len))
			return true;
	return false;
}

static size_t
ehlo_keywords(const struct chain *c, struct hook_session *s, const char **out, size_t max,
    bool core)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n && n < max; i++) {
		const struct handler_def *h = c->v[i].def;
		if (h->ehlo_keywords == NULL || c->v[i].core != core)
			continue;
		s->conf = c->v[i].conf;
		s->state = s->slots != NULL ? &s->slots[i] : NULL;
		n += h->ehlo_keywords(s, out + n, max - n);
	}
	return n;
}

size_t
chain_ehlo_keywords(const struct chain *c, struct hook_session *s, const char **out, size_t max)
{
	return ehlo_keywords(c, s, out, max, false);
}

size_t
chain_ehlo_core_keywords(const struct chain *c, struct hook_session *s, const char **out,
    size_t max)
{
	return ehlo_keywords(c, s, out, max, true);
}

void
chain_data_begin(const struct chain *c, struct hook_session *s)
{
	/* From the last to the first: in James each filter hands its lines
	 * to the later ones, so a later filter's lines (the core Received
	 * header) come out above an earlier one's. */
	for (size_t i = c->n; i-- > 0;) {
		const struct handler_def *h = c->v[i].def;
		if (h->data_begin == NULL)
			continue;
		s->conf = c->v[i].conf;
		s->state = s->slots != NULL ? &s->slots[i] : NULL;
		h->data_begin(s);
	}
}

struct hook_result
chain_data_end(const struct chain *c, struct hook_session *s, unsigned long long size,
    bool too_big)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct handler_def *h = c->v[i].def;
		if (h->data_end == NULL)
			continue;
		s->conf = c->v[i].conf;
		s->state = s->slots != NULL ? &s->slots[i] : NULL;
		struct hook_result r = h->data_end(s, size, too_big);
		if (r.verdict == HOOK_PENDING)
			r = (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451,
				.ecode = "4.3.0", .text = "Unable to process request" };
		if (r.verdict == HOOK_DENY || r.verdict == HOOK_DENYSOFT ||
		    r.verdict == HOOK_DISCONNECT)
			return chain_defaults(r);
	}
	return HOOK_RESULT_DECLINED;
}

/* Calls hook of h; *implemented is false when h does not have it. */
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
	case CHAIN_MAIL_PARAM: {
		const struct hook_param *p = arg;
		if (h->mail_param && name_in(h->mail_params, p->name, strlen(p->name)))
			return h->mail_param(s, p);
		break;
	}
	case CHAIN_RCPT:
		if (h->rcpt)
			return h->rcpt(s, arg);
		break;
	case CHAIN_UNKNOWN:
		if (h->unknown)
			return h->unknown(s, arg);
		break;
	case CHAIN_MESSAGE:
		if (h->message)
			return h->message(s, *(const unsigned long long *)arg);
		break;
	case CHAIN_QUIT:
		if (h->quit)
			return h->quit(s);
		break;
	case CHAIN_DISCONNECT:
		break; /* chain_session_end */
	case CHAIN_AUTH:
		if (h->auth)
			return h->auth(s, arg);
		break;
	}
	*implemented = false;
	return HOOK_RESULT_DECLINED;
}

struct hook_result
chain_run_from(const struct chain *c, enum chain_hook hook, struct hook_session *s,
    const void *arg, size_t start, size_t *at)
{
	for (size_t i = start; i < c->n; i++) {
		bool implemented;
		s->conf = c->v[i].conf;
		s->state = s->slots != NULL ? &s->slots[i] : NULL;
		struct hook_result r = chain_call(c->v[i].def, hook, s, arg, &implemented);
		if (implemented && r.verdict != HOOK_DECLINED) {
			if (at != NULL)
				*at = i;
			return chain_defaults(r);
		}
	}
	if (at != NULL)
		*at = c->n;
	return HOOK_RESULT_DECLINED;
}

void
chain_run_always(const struct chain *c, struct hook_session *s, unsigned long long size)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct handler_def *h = c->v[i].def;
		if (!h->message_always || h->message == NULL)
			continue;
		s->conf = c->v[i].conf;
		s->state = s->slots != NULL ? &s->slots[i] : NULL;
		(void)h->message(s, size);
	}
}

struct hook_result
chain_run(const struct chain *c, enum chain_hook hook, struct hook_session *s, const void *arg)
{
	return chain_run_from(c, hook, s, arg, 0, NULL);
}

/* ---------------------------------------------------------------------- */
/* hook.h helpers                                                         */

struct hook_pending {
	hook_resume_fn *fn;
	void *arg;
};

struct hook_pending *
hook_suspend(const struct hook_session *s)
{
	struct hook_pending *p = xmalloc(sizeof(*p));
	p->fn = s->resume;
	p->arg = s->resume_arg;
	((struct hook_session *)s)->pending = p;
	return p;
}

void
hook_resume(struct hook_pending *p, struct hook_result r)
{
	hook_resume_fn *fn = p->fn;
	void *arg = p->arg;
	free(p);
	if (fn != NULL)
		fn(arg, r);
}

int
hook_message_fd(const struct hook_session *s)
{
	if (s->msg == NULL) {
		errno = ENOENT;
		return -1;
	}
	return spool_msg_reader(s->msg);
}

int
hook_add_header(const struct hook_session *s, const char *name, const char *value)
{
	struct hook_session *w = (struct hook_session *)s; /* the session's own object */
	size_t nlen = strlen(name), vlen = strlen(value);
	if (nlen == 0)
		return -1;
	for (size_t i = 0; i < nlen; i++)
		if (name[i] < 33 || name[i] > 126 || name[i] == ':')
			return -1;
	for (size_t i = 0; i < vlen; i++) {
		if (value[i] == '\r' && value[i + 1] == '\n' &&
		    (value[i + 2] == ' ' || value[i + 2] == '\t')) {
			i++; /* a fold: CRLF, then white space */
			continue;
		}
		if (value[i] == '\r' || value[i] == '\n')
			return -1;
	}
	size_t add = nlen + 2 + vlen + 2;
	if (w->prepend_len + add > HOOK_PREPEND_MAX)
		return -1;
	w->prepend = xreallocarray(w->prepend, w->prepend_len + add + 1, 1);
	snprintf(w->prepend + w->prepend_len, add + 1, "%s: %s\r\n", name, value);
	w->prepend_len += add;
	return 0;
}

int
hook_auth_user(const struct hook_session *s, const char *name, size_t len)
{
	struct hook_session *w = (struct hook_session *)s; /* the session's own object */
	if (len == 0 || len > HOOK_AUTH_NAME_MAX || memchr(name, '\0', len) != NULL)
		return -1;
	memcpy(w->auth_name, name, len);
	w->auth_name[len] = '\0';
	return 0;
}

int
hook_data_write(const struct hook_session *s, const char *data, size_t len)
{
	struct hook_session *w = (struct hook_session *)s; /* the session's own object */
	if (w->data_msg == NULL || spool_msg_write(w->data_msg, data, len) != 0) {
		w->data_failed = true;
		return -1;
	}
	return 0;
}

int
hook_set_attr(const struct hook_session *s, const char *name, const char *value)
{
	struct hook_session *w = (struct hook_session *)s; /* the session's own object */
	for (size_t i = 0; i < w->nattrs; i++)
		if (strcmp(w->attr_names[i], name) == 0) {
			w->attr_values[i] = value;
			return 0;
		}
	if (w->nattrs == HOOK_ATTRS_MAX)
		return -1;
	w->attr_names[w->nattrs] = name;
	w->attr_values[w->nattrs++] = value;
	return 0;
}

long
hook_header(const struct hook_session *s, const char *name, size_t index, char *out,
    size_t outsz)
{
	const char *p = s->headers, *end = s->headers + s->headers_len;
	size_t nlen = strlen(name), seen = 0;
	while (p != NULL && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol != NULL ? eol + 1 : end;
		bool match = (size_t)(end - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0 && *p != ' ' && *p != '\t';
		if (!match || seen++ != index) {
			p = next;
			continue;
		}
		/* Unfold: the value and every continuation line (RFC 5322 2.2.3). */
		size_t o = 0;
		const char *v = p + nlen + 1;
		for (;;) {
			const char *e = eol != NULL ? eol : end;
			for (const char *q = v; q < e; q++) {
				if (*q == '\r')
					continue;
				if (o + 1 < outsz)
					out[o] = *q;
				o++;
			}
			if (next >= end || (*next != ' ' && *next != '\t'))
				break;
			v = next;
			eol = memchr(v, '\n', (size_t)(end - v));
			next = eol != NULL ? eol + 1 : end;
		}
		if (outsz > 0)
			out[o < outsz ? o : outsz - 1] = '\0';
		return (long)o;
	}
	return -1;
}

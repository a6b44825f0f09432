/*
 * chain.h - the handler chain and its runner.
 *
 * A chain is the ordered list of handlers of one server, built when the
 * configuration is loaded (src/config/cfg_chain.c): the handlers named in
 * <handlerchain>, in document order, then the core set chosen by
 * coreHandlersPackage (james.md 1b.1). James classes that mailetd does not
 * implement yet are recorded as skipped (shown by mailetd -t -v) and never
 * run. A chain is immutable once built and shared by every session of its
 * server.
 */
#ifndef MAILETD_CHAIN_H
#define MAILETD_CHAIN_H

#include "hook.h"

#include <stdio.h>

struct chain_entry {
	const struct handler_def *def;
	void *conf;       /* from def->configure, owned by the chain */
	long line;        /* line of its <handler>, 0 for a core handler */
	bool core;        /* part of the core set */
};

/* A James class named in <handlerchain> that does not run. */
struct chain_skipped {
	char *cls;
	long line;
	const char *reason;
};

/* The core handler sets (coreHandlersPackage). */
enum chain_core_set {
	CHAIN_CORE_SMTP,          /* org.apache.james.smtpserver.CoreCmdHandlerLoader */
	CHAIN_CORE_SMTP_NOAUTH,   /* ...smtpserver.NoAuthCmdHandlerLoader */
	CHAIN_CORE_LMTP,          /* org.apache.james.lmtpserver.CoreCmdHandlerLoader */
	CHAIN_CORE_LMTP_MAILET,   /* ...lmtpserver.MailetContainerCmdHandlerLoader */
};

struct chain {
	struct chain_entry *v;
	size_t n;
	struct chain_skipped *skipped;
	size_t nskipped;
	enum chain_core_set core_set;
	bool heap;        /* built by chain_new (chain_free frees it) */
};

/* The default SMTP chain (the CoreCmdHandlerLoader set, nothing configured). */
const struct chain *chain_core(void);

/* An empty chain; the caller owns it (chain_free; chain_free(NULL) no-op). */
struct chain *chain_new(void);
void chain_free(struct chain *c);
/* Appends def with its configuration conf (taken over). */
void chain_add(struct chain *c, const struct handler_def *def, void *conf, long line);
/* Appends the handlers of a core set, marked core. */
void chain_add_core(struct chain *c, enum chain_core_set set);
/* Records a class that is named but does not run (cls is copied). */
void chain_skip(struct chain *c, const char *cls, long line, const char *reason);
/* The James name of a core set. */
const char *chain_core_set_name(enum chain_core_set set);

/*
 * Prints the chain for mailetd -t -v: one line "  chain: A B C" with the
 * short names of the handlers that run, in order, and one line
 * "  skipped: X (reason), ..." when some do not.
 */
void chain_describe(const struct chain *c, FILE *f);

/*
 * Session life: chain_session_begin gives s its state slots (s->slots);
 * chain_session_end runs the disconnect hooks and frees every state.
 */
void chain_session_begin(const struct chain *c, struct hook_session *s);
void chain_session_end(const struct chain *c, struct hook_session *s);

/*
 * Asks every handler of c that implements hook, in order, starting at
 * index start, and returns the first result that is not HOOK_DECLINED
 * (HOOK_RESULT_DECLINED if all decline); *at (may be NULL) is the index of
 * the handler that answered. arg is the hook's argument: the HELO text or
 * the unknown verb (const char *), the path (const struct smtp_path *),
 * a const struct hook_param * (CHAIN_MAIL_PARAM: only handlers that
 * declare the name are asked), or a pointer to the message size (const
 * unsigned long long *), the credentials (const struct hook_auth *,
 * CHAIN_AUTH); NULL for CONNECT and QUIT. Missing code and text
 * are filled with James's defaults. HOOK_PENDING is returned as is.
 */
struct hook_result chain_run_from(const struct chain *c, enum chain_hook hook,
    struct hook_session *s, const void *arg, size_t start, size_t *at);
struct hook_result chain_run(const struct chain *c, enum chain_hook hook,
    struct hook_session *s, const void *arg);

/*
 * After a message hook answered OK (which skips the later ones), runs the
 * message hook of every handler marked message_always (they decline).
 */
void chain_run_always(const struct chain *c, struct hook_session *s, unsigned long long size);

/*
 * Data line filters (hook.h): chain_data_begin calls every data_begin
 * from the last handler to the first (what a later filter writes comes
 * out on top, as in James's filter chain: the core Received header stays
 * the first line); chain_data_end every data_end until one answers DENY,
 * DENYSOFT or DISCONNECT (returned with the defaults filled), else
 * HOOK_RESULT_DECLINED.
 */
void chain_data_begin(const struct chain *c, struct hook_session *s);
struct hook_result chain_data_end(const struct chain *c, struct hook_session *s,
    unsigned long long size, bool too_big);

/*
 * Data line filters, data_line (hook.h; chain_lines.c). When the chain has
 * one (chain_has_data_line), the session makes a line splitter per
 * message with chain_lines_new (max: the longest piece a filter gets, at
 * least 2; the session uses HOOK_LINE_MAX; the caller owns the result,
 * chain_lines_free(NULL) is a no-op) and feeds it the message data in
 * chunks of any size with chain_lines_feed: it cuts them into lines
 * (pieces of at most max octets, never between CR and LF; the cuts do not
 * depend on the chunking), runs every data_line filter in chain order and
 * hands what the last one passes on to sink. chain_lines_end passes on a
 * last line without CRLF. Both return HOOK_RESULT_DECLINED, or the first
 * DENY, DENYSOFT or DISCONNECT (defaults filled; PENDING becomes 451):
 * from then on the splitter takes nothing and returns that answer again
 * (chain_lines_result too). Untrusted input: memory is bounded by max.
 */
struct chain_lines;
typedef void chain_sink_fn(void *arg, const char *data, size_t len);
bool chain_has_data_line(const struct chain *c);
struct chain_lines *chain_lines_new(const struct chain *c, size_t max);
void chain_lines_free(struct chain_lines *l);
struct hook_result chain_lines_feed(struct chain_lines *l, struct hook_session *s,
    const char *data, size_t len, chain_sink_fn *sink, void *arg);
struct hook_result chain_lines_end(struct chain_lines *l, struct hook_session *s,
    chain_sink_fn *sink, void *arg);
struct hook_result chain_lines_result(const struct chain_lines *l);

/* Fills what a result leaves out with the verdict's defaults (1b.3). */
struct hook_result chain_defaults(struct hook_result r);

/* True if some handler declares the RCPT parameter name (len bytes, any case). */
bool chain_rcpt_param_declared(const struct chain *c, const char *name, size_t len);
/* True if some handler takes the MAIL parameter name (len bytes, any case). */
bool chain_mail_param_declared(const struct chain *c, const char *name, size_t len);

/*
 * EHLO keywords of the configured (not core) handlers, in chain order;
 * returns how many. The core handlers' keywords (SIZE) come from
 * chain_ehlo_core_keywords: the session places them among its fixed ones.
 */
size_t chain_ehlo_core_keywords(const struct chain *c, struct hook_session *s, const char **out,
    size_t max);
size_t chain_ehlo_keywords(const struct chain *c, struct hook_session *s, const char **out,
    size_t max);

#endif

/*
 * session.c - the SMTP session state machine (see session.h).
 *
 * Input discipline: bytes arrive in the bufferevent's input buffer and are
 * taken out by exactly one of three readers, chosen by the state: the
 * bounded command-line reader (which also reads AUTH's SASL response
 * lines, with their own limit), the DATA decoder (dataread.c), or the BDAT
 * chunk reader. Commands are looked up in one const table (session_cmds.c)
 * that says in which states a verb is allowed and whether it takes an
 * argument; only the dispatcher checks sequence, syntax and the error
 * ceiling. Policy is asked of the handler chain. Replies are written by
 * reply.c into the output buffer; everything answered while handling one
 * read leaves in one write, so pipelined commands get their replies
 * batched (RFC 2920).
 *
 * This file holds the engine: life cycle, readers, dispatcher, replies,
 * hook plumbing, bufferevent callbacks and deadlines. The commands, AUTH,
 * STARTTLS and the transaction live in session_cmds.c, session_auth.c,
 * session_tls.c and session_tx.c; session_int.h is what they share.
 */
#include "session.h"

#include "../../handlers/chain.h"
#include "../config/config.h"
#include "../core/id.h"
#include "../core/log.h"
#include "../core/netaddr.h"
#include "../core/xmalloc.h"
#include "../net/tls.h"
#include "dataread.h"
#include "reply.h"
#include "sasl.h"
#include "session_int.h"
#include "smtp_parse.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Stop reading while this much output waits for a client that does not read. */
#define SESSION_OUT_HIGH (256 * 1024)
/* How much unread input we hold at most (commands or DATA) per session. */
#define SESSION_IN_HIGH (256 * 1024)

static const char *const state_names[] = {
	"greeted", "ready", "mail", "rcpt", "data", "bdat", "commit", "sasl", "authcheck", "closing",
};

static void connect_after(struct session *s, struct hook_result r);

/* ---------------------------------------------------------------------- */
/* replies                                                                */

struct evbuffer *
session_out(struct session *s)
{
	return bufferevent_get_output(s->bev);
}

/* Queues a reply; 4xx/5xx replies count towards the error ceiling. */
void __attribute__((format(printf, 4, 5)))
session_reply(struct session *s, int code, const char *ecode, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	reply_add(session_out(s), code, ecode, "%s", text);
	if (reply_is_error(code))
		s->errors++;
	log_debug(s->id, "event=reply code=%d", code);
}

void
session_reply_hook(struct session *s, const struct hook_result *r)
{
	session_reply(s, r->code, r->ecode, "%s", r->text);
	if (r->verdict == HOOK_DISCONNECT)
		session_close(s);
}

/*
 * A pending hook called back (hook.h): a DECLINED lets the chain go on
 * from the next handler; any other answer is the hook point's result.
 * Then the command finishes (hook_cont) and reading resumes.
 */
static void
session_hook_resume(void *arg, struct hook_result r)
{
	struct session *s = arg;
	s->hook_waiting = false;
	s->hs.pending = NULL;
	if (s->freeing || s->state == ST_CLOSING) {
		/* Nobody to answer: only the HELO argument is ours to free. */
		if (s->hook_point == CHAIN_HELO && s->hook_arg != s->helo) {
			if (s->hs.helo == s->hook_arg)
				s->hs.helo = s->helo;
			free((char *)s->hook_arg);
		}
		if (s->freeing)
			event_active(s->free_ev, EV_TIMEOUT, 0); /* free_cb waited for us */
		return;
	}
	if (r.verdict == HOOK_DECLINED) {
		size_t at;
		r = chain_run_from(s->env->chain, s->hook_point, &s->hs, s->hook_arg, s->hook_at + 1,
		    &at);
		if (r.verdict == HOOK_PENDING) {
			s->hook_waiting = true;
			s->hook_at = at;
			return;
		}
	} else {
		r = chain_defaults(r);
	}
	if (r.verdict == HOOK_PENDING)
		r = chain_defaults((struct hook_result){ .verdict = HOOK_DENYSOFT });
	bufferevent_enable(s->bev, EV_READ);
	s->hook_cont(s, r);
	session_process(s);
}

/*
 * Asks the chain at hook point hook with arg (which must stay valid until
 * cont runs). Returns true with *r when the answer is there now (the
 * caller then calls cont itself); false when a hook is pending: the
 * session reads nothing until it resumes and cont(s, result) runs then.
 */
bool
session_hook(struct session *s, enum chain_hook hook, const void *arg, struct hook_result *r,
    session_hook_cont *cont)
{
	size_t at;
	s->hs.resume = session_hook_resume;
	s->hs.resume_arg = s;
	s->hook_arg = arg;
	*r = chain_run_from(s->env->chain, hook, &s->hs, arg, 0, &at);
	if (r->verdict != HOOK_PENDING)
		return true;
	log_debug(s->id, "event=hook-pending hook=%d handler=%s", (int)hook,
	    s->env->chain->v[at].def->name);
	s->hook_waiting = true;
	s->hook_point = hook;
	s->hook_at = at;
	s->hook_cont = cont;
	bufferevent_disable(s->bev, EV_READ);
	return false;
}

/* Hook points that cannot wait (parameters, unknown, quit): PENDING is a 451. */
struct hook_result
session_hook_now(struct session *s, enum chain_hook hook, const void *arg)
{
	s->hs.resume = NULL;
	s->hs.resume_arg = NULL;
	struct hook_result r = chain_run(s->env->chain, hook, &s->hs, arg);
	if (r.verdict == HOOK_PENDING) {
		log_error(s->id, "event=hook-error msg=\"PENDING where a hook cannot wait\"");
		r = (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451, .ecode = "4.3.0",
			.text = "Unable to process request" };
	}
	return r;
}

static const struct cmd_def *
cmd_lookup(const struct session *s, const char *verb)
{
	for (size_t i = 0; i < s->proto->ncmds; i++)
		if (strcmp(s->proto->cmds[i].verb, verb) == 0)
			return &s->proto->cmds[i];
	return NULL;
}

/*
 * The dispatcher: parses the line, checks sequence, arguments and the
 * HELO requirement from the table, then runs the command.
 */
static void
session_dispatch(struct session *s, const char *line, size_t len)
{
	struct smtp_cmdline cl;
	if (memchr(line, '\0', len) != NULL) {
		session_reply(s, 500, "5.5.2", "NUL character not allowed in a command");
		return;
	}
	if (memchr(line, '\r', len) != NULL) {
		session_reply(s, 500, "5.5.2", "Bare CR not allowed in a command");
		return;
	}
	if (smtp_parse_cmdline(line, len, &cl) != 0) {
		session_reply(s, 500, "5.5.2", "Syntax error, command unrecognized");
		return;
	}
	const struct cmd_def *c = cmd_lookup(s, cl.verb);
	if (c == NULL || ((c->flags & CF_STARTTLS) && !s->srv->tls.start_tls) ||
	    ((c->flags & CF_AUTH) && !s->srv->auth_enabled)) {
		/* The unknown-command hooks (MaxUnknownCmdHandler) may answer first. */
		struct hook_result r = session_hook_now(s, CHAIN_UNKNOWN, cl.verb);
		if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
			session_reply_hook(s, &r);
			return;
		}
		session_reply(s, 500, "5.5.1", "Command %s unrecognized.", cl.verb);
		return;
	}
	if ((c->flags & CF_NO_TLS) && s->tls_active) {
		session_reply(s, 503, "5.5.1", "TLS already active");
		return;
	}
	log_debug(s->id, "event=command verb=%s state=%s", cl.verb, state_names[s->state]);

	if (!(c->states & ST(s->state))) {
		const struct cmd_seq_msg *m = NULL;
		for (const struct cmd_seq_msg *p = c->seq; p != NULL && p->states != 0; p++)
			if (p->states & ST(s->state)) {
				m = p;
				break;
			}
		if (c->reject != NULL) {
			c->reject(s, cl.arg, cl.arglen, m);
			return;
		}
		if (m != NULL)
			session_reply(s, m->code, m->ecode, "%s", m->text);
		else
			session_reply(s, 503, "5.5.1", "Bad sequence of commands");
		return;
	}
	if (c->args == ARG_NONE && cl.arg != NULL) {
		if (c->argtext != NULL)
			session_reply(s, 501, "5.5.4", "%s", c->argtext);
		else
			session_reply(s, 501, "5.5.4", "Unexpected argument provided with %s command",
			    c->verb);
		return;
	}
	if (c->args == ARG_REQ && cl.arg == NULL) {
		session_reply(s, 501, "5.5.4", "%s", c->usage);
		return;
	}
	if ((c->flags & CF_AUTH) && s->hs.authenticated) {
		session_reply(s, 503, "5.5.1",
		    "User has previously authenticated. Further authentication is not required!");
		return;
	}
	if ((c->flags & CF_AUTH) && s->srv->auth_require_ssl && !s->tls_active) {
		/* RFC 4954 4: mailetd never takes a password in the clear (requireSSL). */
		session_reply(s, 538, "5.7.11",
		    "Encryption required for requested authentication mechanism");
		return;
	}
	/* MAIL before HELO/EHLO, when heloEhloEnforcement is on (1a.3). */
	if (c->fn == cmd_mail && s->state == ST_GREETED && s->srv->helo_enforcement) {
		session_reply(s, 503, "5.5.0", "Need HELO or EHLO before MAIL");
		return;
	}
	c->fn(s, cl.arg, cl.arglen);
}

/* ---------------------------------------------------------------------- */
/* input readers                                                          */

void
session_set_state(struct session *s, enum session_state st)
{
	if (s->state == st)
		return;
	log_debug(s->id, "event=state from=%s to=%s", state_names[s->state], state_names[st]);
	s->state = st;
}

/* Arms the line deadline while a partial line waits in the buffer. */
static void
session_line_deadline(struct session *s, bool partial)
{
	if (!partial) {
		event_del(s->line_ev);
		return;
	}
	if (!evtimer_pending(s->line_ev, NULL)) {
		struct timeval tv = { .tv_sec = s->srv->idle_timeout, .tv_usec = 0 };
		evtimer_add(s->line_ev, &tv);
	}
}

/* A line longer than max: 500, or inside AUTH 501 and the exchange ends. */
static void
line_too_long(struct session *s, size_t max)
{
	if (s->state == ST_SASL)
		sasl_fail(s, 501, "5.5.6", "Authentication exchange line is too long", false);
	else
		session_reply(s, 500, "5.5.2", "Line length exceeded (limit %zu octets)", max);
}

/*
 * Takes one command line (or, in ST_SASL, one SASL response line) out of
 * the input. Returns 1 if a line was handled, 0 if more input is needed.
 */
static int
read_command(struct session *s, struct evbuffer *in)
{
	size_t eol_len;
	size_t avail = evbuffer_get_length(in);
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	size_t max = s->state == ST_SASL ? SASL_LINE_MAX : s->srv->max_line_length;

	if (p.pos < 0) {
		if (avail > max) {
			/* Too long already: drop what we have, keep dropping to LF. */
			evbuffer_drain(in, avail);
			s->skipping_line = true;
		}
		session_line_deadline(s, avail > 0);
		return 0;
	}
	size_t n = (size_t)p.pos;
	if (s->skipping_line || n > max + 1) {
		evbuffer_drain(in, n + 1);
		s->skipping_line = false;
		event_del(s->line_ev);
		line_too_long(s, max);
		return 1;
	}
	char *line = (char *)evbuffer_pullup(in, (ssize_t)(n + 1));
	size_t len = n;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > max) {
		evbuffer_drain(in, n + 1);
		line_too_long(s, max);
		return 1;
	}
	/* Commands only append to the output buffer, never touch the input
	 * (BDAT chunks are read by the caller's loop), so line stays valid. */
	event_del(s->line_ev);
	if (s->state == ST_SASL)
		sasl_line(s, line, len);
	else
		session_dispatch(s, line, len);
	evbuffer_drain(in, n + 1);
	return 1;
}

/*
 * The DATA (or BDAT) stage as a whole has a deadline, so a client cannot
 * hold a session by sending one complete line at a time just inside the
 * idle and line timeouts: after the first connectiontimeout seconds the
 * transfer must average at least <minDataRate> octets a second (the idea
 * of Postfix's smtpd_min_data_rate).
 */
static double
data_allowed_seconds(const struct session *s)
{
	return (double)s->srv->idle_timeout +
	    (double)s->data_bytes / (double)s->env->cfg->main.min_data_rate;
}

static void
data_arm(struct session *s, double secs)
{
	struct timeval tv = { .tv_sec = (time_t)secs,
		.tv_usec = (suseconds_t)((secs - (double)(time_t)secs) * 1e6) };
	evtimer_add(s->data_ev, &tv);
}

void
data_stage_begin(struct session *s)
{
	clock_gettime(CLOCK_MONOTONIC, &s->data_start);
	s->data_bytes = 0;
	data_arm(s, data_allowed_seconds(s));
}

static void
data_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	if (s->state != ST_DATA && s->state != ST_BDAT)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double elapsed = (double)(now.tv_sec - s->data_start.tv_sec) +
	    (double)(now.tv_nsec - s->data_start.tv_nsec) / 1e9;
	double allowed = data_allowed_seconds(s);
	if (elapsed < allowed) {
		data_arm(s, allowed - elapsed); /* the client kept up so far */
		return;
	}
	log_info(s->id, "event=timeout reason=data-rate bytes=%" PRIu64 " seconds=%.0f",
	    s->data_bytes, elapsed);
	session_reply(s, 421, "4.4.2", "%s Error: timeout exceeded (message transfer too slow)",
	    s->srv->hello_name);
	session_close(s);
}

/* Feeds the DATA decoder. Returns 1 if the state changed, 0 if it needs input. */
static int
read_data(struct session *s, struct evbuffer *in)
{
	struct evbuffer_iovec vec[8];
	int nv = evbuffer_peek(in, -1, NULL, vec, 8);
	if (nv <= 0)
		return 0;
	if (nv > 8)
		nv = 8;
	size_t total = 0;
	for (int i = 0; i < nv; i++) {
		size_t used;
		enum dataread_result r = dataread_feed(&s->dr, vec[i].iov_base, vec[i].iov_len,
		    &used, tx_emit, s);
		total += used;
		s->data_bytes += used;
		if (r == DATAREAD_MORE)
			continue;
		evbuffer_drain(in, total);
		event_del(s->line_ev);
		if (r == DATAREAD_END) {
			tx_finish(s, s->dr.size, s->dr.too_big, s->dr.line_too_long, s->dr.has_nul);
			return 1;
		}
		/* Bare LF or CR: the SMTP smuggling pattern (CVE-2023-51764). */
		log_warn(s->id, "event=rejected reason=bare-%s-in-data",
		    r == DATAREAD_BARE_LF ? "lf" : "cr");
		session_reply(s, 550, "5.5.2",
		    "Message rejected: bare %s in message data; lines must end with CRLF",
		    r == DATAREAD_BARE_LF ? "LF" : "CR");
		tx_reset(s);
		session_close(s);
		return 1;
	}
	evbuffer_drain(in, total);
	/* A line in progress must be completed within the line deadline. */
	session_line_deadline(s, s->dr.line_len > 0);
	/* evbuffer_peek gave at most 8 segments: go on if more are waiting. */
	return total > 0 && evbuffer_get_length(in) > 0;
}

/*
 * Stores one BDAT chunk piece: bare LF becomes CRLF so the spool always
 * holds CRLF lines; NULs, size and line length are checked as for DATA.
 */
static void
bdat_store(struct session *s, const char *p, size_t n)
{
	struct transaction *tx = &s->tx;
	uint64_t max = s->srv->max_message_size;
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\0')
			tx->bdat_nul = true;
		if (c == '\n') {
			if (!tx->bdat_prev_cr) {
				tx_emit(s, p + start, i - start);
				tx_emit(s, "\r", 1);
				tx->bdat_size++;
				start = i;
			}
			tx->bdat_line = 0;
		} else if (c != '\r' && ++tx->bdat_line > s->srv->max_line_length) {
			tx->bdat_long_line = true;
		}
		tx->bdat_prev_cr = (c == '\r');
	}
	tx->bdat_size += n;
	if (max > 0 && tx->bdat_size > max)
		tx->bdat_too_big = true;
	if (!tx->bdat_too_big)
		tx_emit(s, p + start, n - start);
}

static int
read_bdat(struct session *s, struct evbuffer *in)
{
	struct transaction *tx = &s->tx;
	while (tx->bdat_remaining > 0) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) {
			session_line_deadline(s, true);
			return 0;
		}
		size_t n = v.iov_len;
		if (n > tx->bdat_remaining)
			n = (size_t)tx->bdat_remaining;
		if (!tx->bdat_discard && !tx->bdat_too_big)
			bdat_store(s, v.iov_base, n);
		else if (!tx->bdat_discard)
			tx->bdat_size += n;
		evbuffer_drain(in, n);
		tx->bdat_remaining -= n;
		s->data_bytes += n;
	}
	event_del(s->line_ev);

	/* The chunk is complete. */
	tx->bdat_in_chunk = false;
	if (tx->bdat_discard) {
		bool say = tx->bdat_discard_reply;
		tx_reset(s);
		if (say)
			session_reply(s, 503, "5.5.1", "Bad sequence of commands");
		return 1;
	}
	if (tx->bdat_too_big || tx_line_refused(s)) {
		tx_finish(s, tx->bdat_size, tx->bdat_too_big, false, false);
		return 1;
	}
	if (!tx->bdat_last) {
		session_reply(s, 250, "2.0.0", "%" PRIu64 " octets received", tx->bdat_size);
		/* Stay in ST_BDAT; the next BDAT continues the message. */
		return 1;
	}
	tx_finish(s, tx->bdat_size, false, tx->bdat_long_line, tx->bdat_nul);
	return 1;
}

/*
 * Handles everything that is in the input buffer, as far as the state
 * allows: stops while a commit is pending, when the session closes, or
 * when too much output is waiting for a client that does not read.
 */
void
session_process(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	for (;;) {
		if (s->state == ST_CLOSING || s->state == ST_COMMIT || s->state == ST_AUTHCHECK ||
		    s->freeing || s->hook_waiting ||
		    s->tls_switch_pending)
			break;
		if (s->errors > s->env->cfg->main.max_errors) {
			session_reply(s, 421, "4.7.0", "%s Error: too many errors",
			    s->srv->hello_name);
			log_info(s->id, "event=too-many-errors errors=%u", s->errors);
			session_close(s);
			break;
		}
		if (s->draining && (s->state == ST_GREETED || s->state == ST_READY)) {
			session_reply(s, 421, "4.3.2", "%s Service shutting down",
			    s->srv->hello_name);
			session_close(s);
			break;
		}
		if (evbuffer_get_length(session_out(s)) > SESSION_OUT_HIGH) {
			/* Back-pressure: resume from the write callback. */
			bufferevent_disable(s->bev, EV_READ);
			s->read_paused = true;
			break;
		}
		int progressed;
		if (s->state == ST_DATA)
			progressed = read_data(s, in);
		else if (s->state == ST_BDAT && s->tx.bdat_in_chunk)
			progressed = read_bdat(s, in);
		else
			progressed = read_command(s, in);
		if (!progressed)
			break;
	}
	if (s->input_eof && s->state != ST_CLOSING && !s->freeing && s->state != ST_COMMIT &&
	    s->state != ST_AUTHCHECK && !s->hook_waiting) {
		/* The client half-closed and everything it sent has been
		 * answered: flush the replies, then go. */
		if (s->state == ST_DATA || s->state == ST_BDAT)
			log_info(s->id, "event=lost-connection state=%s", state_names[s->state]);
		session_close(s);
	}
}

/* ---------------------------------------------------------------------- */
/* life cycle                                                             */

static void
session_free(struct session *s)
{
	log_info(s->id, "event=disconnect client=%s messages=%llu duration=%lds tls=%s",
	    s->client_text, s->messages, (long)(time(NULL) - s->started),
	    s->tls_active ? s->tls_version : "no");
	tx_clear(s);
	chain_session_end(s->env->chain, &s->hs);
	if (s->tls_active && !s->input_eof) {
		/* close_notify (RFC 8446 6.1), best effort: the socket is non-blocking. */
		SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
		if (ssl != NULL && SSL_shutdown(ssl) < 0)
			ERR_clear_error();
	}
	session_out_free(s);
	bufferevent_free(s->bev);
	if (!s->bev_owns_fd)
		close(s->fd);
	event_free(s->line_ev);
	event_free(s->data_ev);
	event_free(s->tls_ev);
	event_free(s->free_ev);
	event_free(s->auth_ev);
	free(s->hook_params_text);
	if (s->life_ev != NULL)
		event_free(s->life_ev);
	auth_forget(s);
	free(s->helo);
	session_closed_fn closed = s->closed;
	void *arg = s->closed_arg;
	free(s);
	closed(arg);
}

static void
free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	if (s->commit_pending || s->auth_pending || s->hook_waiting)
		return; /* commit_done(), auth_verified() or a hook's resume comes back here */
	session_free(s);
}

/* Schedules the free; in-flight commits finish first. */
void
session_schedule_free(struct session *s)
{
	s->freeing = true;
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	event_active(s->free_ev, EV_TIMEOUT, 0);
}

/* Queues nothing more; frees once the queued replies are written. */
void
session_close(struct session *s)
{
	if (s->state == ST_CLOSING || s->freeing)
		return;
	tx_clear(s); /* a message being committed belongs to the spool already */
	session_set_state(s, ST_CLOSING);
	bufferevent_disable(s->bev, EV_READ);
	event_del(s->line_ev);
	/* Nothing can be written before the handshake is done. */
	if (evbuffer_get_length(session_out(s)) == 0 || s->tls_handshaking)
		session_schedule_free(s);
	/* else write_cb frees when the output has drained */
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_in_more(arg);
	session_process(arg);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	(void)bev;
	/* The OpenSSL bufferevent may run a write callback late, after newer
	 * replies were queued: only an empty output buffer means "written". */
	if (evbuffer_get_length(session_out(s)) > 0)
		return;
	session_out_idle(s);
	if (s->state == ST_CLOSING) {
		session_schedule_free(s);
		return;
	}
	if (s->tls_switch_pending) {
		/* The 220 is out; switch outside this bufferevent's callback. */
		event_active(s->tls_ev, EV_TIMEOUT, 0);
		return;
	}
	if (s->read_paused) {
		s->read_paused = false;
		bufferevent_enable(s->bev, EV_READ);
		session_process(s);
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	char reason[200];
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		session_tls_done(s);
		return;
	}
	if (s->tls_handshaking && (what & (BEV_EVENT_TIMEOUT | BEV_EVENT_ERROR | BEV_EVENT_EOF))) {
		const char *fallback = (what & BEV_EVENT_TIMEOUT) ? "handshake timeout"
		    : (what & BEV_EVENT_EOF)			  ? "connection closed during handshake"
								  : "socket error";
		session_tls_failed(s, session_tls_reason(s, reason, sizeof(reason), fallback));
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if ((what & BEV_EVENT_READING) && s->state != ST_CLOSING) {
			log_info(s->id, "event=timeout state=%s", state_names[s->state]);
			if (s->state == ST_COMMIT || s->state == ST_AUTHCHECK) {
				/* Waiting for our own disk (or password check), not the client. */
				bufferevent_enable(s->bev, EV_READ);
				return;
			}
			session_reply(s, 421, "4.4.2", "%s Error: timeout exceeded",
			    s->srv->hello_name);
			bufferevent_enable(s->bev, EV_WRITE);
			session_close(s);
			return;
		}
		/* The client does not read what we write. */
		session_schedule_free(s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		/* Reset or write failure: nobody is left to answer. */
		log_debug(s->id, "event=socket-error errno=%d reason=\"%s\"", EVUTIL_SOCKET_ERROR(),
		    session_tls_reason(s, reason, sizeof(reason), "none"));
		s->input_eof = true;
		if (s->state == ST_DATA || s->state == ST_BDAT)
			log_info(s->id, "event=lost-connection state=%s", state_names[s->state]);
		session_schedule_free(s);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		s->input_eof = true;
		if (s->state == ST_CLOSING) {
			if (evbuffer_get_length(session_out(s)) == 0)
				session_schedule_free(s);
			return;
		}
		/* Answer what is still buffered (a client may send QUIT and
		 * half-close); session_process closes when it runs dry. */
		session_process(s);
	}
}

static void
line_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	if (s->state == ST_CLOSING || s->freeing)
		return;
	if (s->tls_handshaking) {
		session_tls_failed(s, "handshake not completed within connectiontimeout");
		return;
	}
	log_info(s->id, "event=timeout reason=line-deadline state=%s", state_names[s->state]);
	session_reply(s, 421, "4.4.2", "%s Error: timeout exceeded", s->srv->hello_name);
	session_close(s);
}

/* Points the bufferevent's callbacks, timeouts and watermarks at the session. */
void
session_setup_bev(struct session *s)
{
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	struct timeval tv = { .tv_sec = s->srv->idle_timeout, .tv_usec = 0 };
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	size_t high = s->srv->max_line_length + 2;
	if (high < SESSION_IN_HIGH)
		high = SESSION_IN_HIGH;
	bufferevent_setwatermark(s->bev, EV_READ, 0, high);
	session_out_setup(s);
	/* A plain socket is written directly (session_out.c). */
	bufferevent_enable(s->bev, s->out_cb != NULL ? EV_READ : EV_READ | EV_WRITE);
}

/* The output is written (session_out.c): as the bufferevent's own report. */
void
session_written(struct session *s)
{
	write_cb(s->bev, s);
}

/* session_new and session_new_tls; ssl is an open TLS connection or NULL. */
static struct session *
session_start(struct event_base *base, int fd, SSL *ssl, const struct sockaddr *peer,
    const struct session_env *env, session_closed_fn closed, void *arg)
{
	struct session *s = xcalloc(1, sizeof(*s));
	id_new(s->id);
	s->base = base;
	s->env = env;
	s->srv = env->server;
	s->proto = env->server->proto == CFG_PROTO_LMTP ? &proto_lmtp : &proto_smtp;
	s->closed = closed;
	s->closed_arg = arg;
	s->started = time(NULL);
	s->state = ST_GREETED;
	s->fd = fd;

	s->line_ev = evtimer_new(base, line_timeout_cb, s);
	s->data_ev = evtimer_new(base, data_timeout_cb, s);
	s->free_ev = event_new(base, -1, 0, free_cb, s);
	s->tls_ev = event_new(base, -1, 0, tls_switch_cb, s);
	if (s->line_ev == NULL || s->data_ev == NULL || s->free_ev == NULL || s->tls_ev == NULL)
		log_fatal("event=fatal msg=\"event_new failed\"");
	s->auth_ev = evtimer_new(base, auth_slow_cb, s);
	if (s->auth_ev == NULL)
		log_fatal("event=fatal msg=\"event_new failed\"");

	if (netaddr_from_sockaddr(peer, &s->hs.client) == 0)
		netaddr_format(&s->hs.client, s->client_text, sizeof(s->client_text));
	else
		snprintf(s->client_text, sizeof(s->client_text), "%s",
		    peer->sa_family == AF_UNIX ? "unix" : "unknown");
	s->hs.id = s->id;
	s->hs.cfg = env->cfg;
	s->hs.server = env->server;
	s->hs.client_text = s->client_text;
	s->hs.base = base;
	s->hs.workers = env->workers;
	s->hs.relaying_allowed = netlist_match(&env->server->authorized, &s->hs.client);
	s->hs.auth_announced = session_auth_offered(s);

	if (ssl != NULL) {
		/* Handshake done by the listener (PROXY header read inside TLS). */
		s->bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_OPEN,
		    BEV_OPT_CLOSE_ON_FREE);
		if (s->bev == NULL)
			log_fatal("event=fatal msg=\"bufferevent_openssl_socket_new failed\"");
		s->bev_owns_fd = true;
		bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
		session_setup_bev(s);
		session_tls_active(s);
	} else if (s->srv->tls.socket_tls) {
		/* Implicit TLS (RFC 8314 3.3): the greeting waits for the handshake. */
		session_tls_start(s);
	} else {
		/* Not BEV_OPT_CLOSE_ON_FREE: STARTTLS replaces this bufferevent. */
		s->bev = bufferevent_socket_new(base, fd, 0);
		if (s->bev == NULL)
			log_fatal("event=fatal msg=\"bufferevent_socket_new failed\"");
		session_setup_bev(s);
	}

	log_info(s->id, "event=connect client=%s server=%s proto=%s relay=%s", s->client_text,
	    s->srv->name, s->proto->name, s->hs.relaying_allowed ? "yes" : "no");

	chain_session_begin(env->chain, &s->hs);
	struct hook_result r;
	if (session_hook(s, CHAIN_CONNECT, NULL, &r, connect_after))
		connect_after(s, r);
	return s;
}

/* MaxConnectionLifespanHandler's limit is over: close without a word. */
static void
life_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	if (s->freeing)
		return;
	log_info(s->id, "event=lifespan-over state=%s", state_names[s->state]);
	tx_clear(s);
	session_set_state(s, ST_CLOSING);
	session_schedule_free(s);
}

/* The connect hooks answered: refuse, or greet. */
static void
connect_after(struct session *s, struct hook_result r)
{
	if (s->hs.lifespan_ms > 0) {
		s->life_ev = evtimer_new(s->base, life_timeout_cb, s);
		if (s->life_ev == NULL)
			log_fatal("event=fatal msg=\"event_new failed\"");
		struct timeval tv = { .tv_sec = (time_t)(s->hs.lifespan_ms / 1000),
			.tv_usec = (suseconds_t)(s->hs.lifespan_ms % 1000) * 1000 };
		evtimer_add(s->life_ev, &tv);
	}
	if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
		session_reply(s, r.code, r.ecode, "%s", r.text);
		session_close(s);
		return;
	}
	if (s->srv->greeting != NULL)
		session_reply(s, 220, NULL, "%s", s->srv->greeting);
	else
		session_reply(s, 220, NULL, "%s %s", s->srv->hello_name, s->proto->greeting);
}

struct session *
session_new(struct event_base *base, int fd, const struct sockaddr *peer,
    const struct session_env *env, session_closed_fn closed, void *arg)
{
	return session_start(base, fd, NULL, peer, env, closed, arg);
}

struct session *
session_new_tls(struct event_base *base, int fd, SSL *ssl, const struct sockaddr *peer,
    const struct session_env *env, session_closed_fn closed, void *arg)
{
	return session_start(base, fd, ssl, peer, env, closed, arg);
}

void
session_shutdown(struct session *s, bool force)
{
	if (s->state == ST_CLOSING || s->freeing)
		return;
	if (!force) {
		s->draining = true;
		if (s->state == ST_GREETED || s->state == ST_READY)
			session_process(s);
		return;
	}
	if (s->state == ST_COMMIT) {
		/* The commit completes; the client gets 421 instead of 250. */
		session_reply(s, 421, "4.3.2", "%s Service shutting down", s->srv->hello_name);
		session_close(s);
		return;
	}
	log_info(s->id, "event=shutdown-abort state=%s", state_names[s->state]);
	session_reply(s, 421, "4.3.2", "%s Service shutting down", s->srv->hello_name);
	session_close(s);
}

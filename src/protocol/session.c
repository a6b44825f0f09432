/*
 * session.c - the SMTP session state machine (see session.h).
 *
 * Input discipline: bytes arrive in the bufferevent's input buffer and are
 * taken out by exactly one of three readers, chosen by the state: the
 * bounded command-line reader (which also reads AUTH's SASL response
 * lines, with their own limit), the DATA decoder (dataread.c), or the BDAT
 * chunk reader. Commands are looked up in one const table that says in
 * which states a verb is allowed and whether it takes an argument; only
 * the dispatcher checks sequence, syntax and the error ceiling. Policy is
 * asked of the handler chain. Replies are written by reply.c into the
 * output buffer; everything answered while handling one read leaves in one
 * write, so pipelined commands get their replies batched (RFC 2920).
 */
#include "session.h"

#include "../../handlers/chain.h"
#include "../auth/users.h"
#include "../config/config.h"
#include "../core/id.h"
#include "../core/log.h"
#include "../core/netaddr.h"
#include "../core/xmalloc.h"
#include "../delivery/local.h"
#include "../net/tls.h"
#include "../spool/spool.h"
#include "dataread.h"
#include "reply.h"
#include "sasl.h"
#include "smtp_parse.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Recipients per transaction: RFC 5321 4.5.3.1.8 asks for at least 100. */
#define SESSION_MAX_RCPTS 1000
/* Stop reading while this much output waits for a client that does not read. */
#define SESSION_OUT_HIGH (256 * 1024)
/* How much unread input we hold at most (commands or DATA) per session. */
#define SESSION_IN_HIGH (256 * 1024)

enum session_state {
	ST_GREETED,  /* greeting sent, no HELO/EHLO yet */
	ST_READY,    /* HELO/EHLO done, no transaction */
	ST_MAIL,     /* MAIL accepted */
	ST_RCPT,     /* at least one RCPT accepted */
	ST_DATA,     /* reading the DATA stream */
	ST_BDAT,     /* inside a BDAT transfer (RFC 3030) */
	ST_COMMIT,   /* waiting for the spool to make the message durable */
	ST_SASL,     /* AUTH: reading the client's next SASL response line */
	ST_AUTHCHECK, /* AUTH: waiting for the password check (or the failure delay) */
	ST_CLOSING,  /* last reply queued, closing */
};

#define ST(x) (1u << (x))

static const char *const state_names[] = {
	"greeted", "ready", "mail", "rcpt", "data", "bdat", "commit", "sasl", "authcheck", "closing",
};

/* The mail transaction: cleared on RSET, HELO/EHLO, end of data and close. */
struct transaction {
	struct smtp_path sender;
	bool has_sender;
	bool smtputf8;             /* MAIL ... SMTPUTF8 */
	char body[16];             /* BODY= value, "" if absent */
	char **rcpts;              /* accepted recipient mailboxes */
	size_t nrcpts;
	struct spool_msg *msg;     /* open while DATA/BDAT is being received */
	char msgid[ID_LEN + 1];
	bool write_failed;         /* a spool write failed: answer 451 at the end */
	/* BDAT */
	bool bdat_in_chunk;        /* a BDAT was accepted; its chunk is being read */
	uint64_t bdat_remaining;   /* octets of the current chunk still to read */
	bool bdat_last;            /* the current chunk is the LAST one */
	bool bdat_discard;         /* chunk is read and thrown away (rejected BDAT) */
	bool bdat_discard_reply;   /* after a discarded chunk, answer 503 */
	bool bdat_prev_cr;         /* last octet of the previous chunk was CR */
	uint64_t bdat_size;
	size_t bdat_line;
	bool bdat_long_line;
	bool bdat_nul;
	bool bdat_too_big;
	/* The header block as it streams by, for message hooks (hook.h). */
	char *hdr;                 /* first HOOK_HEADERS_MAX octets */
	size_t hdr_len;
	size_t hdr_size;           /* octets of the whole block */
	size_t hdr_fields;
	size_t hdr_line;           /* octets of the current line so far */
	bool hdr_done;             /* the blank line was seen */
};

struct session_proto;

struct session {
	char id[ID_LEN + 1];
	struct event_base *base;
	struct bufferevent *bev;
	const struct session_env *env;
	const struct cfg_server *srv;
	const struct session_proto *proto; /* SMTP or LMTP: commands, greeting, replies */
	session_closed_fn closed;
	void *closed_arg;

	struct hook_session hs;     /* the handlers' view, kept current */
	char client_text[64];
	char *helo;                 /* HELO/EHLO argument */

	enum session_state state;
	struct transaction tx;
	struct dataread dr;
	unsigned errors;
	bool skipping_line;         /* discarding the rest of an over-long line */
	bool draining;              /* daemon stopping: close after this transaction */
	bool input_eof;             /* client closed or the socket failed */
	bool freeing;               /* free scheduled; waits for a pending commit */
	bool commit_pending;
	bool read_paused;           /* reading stopped for output back-pressure */

	int fd;                     /* the connection */
	bool bev_owns_fd;           /* an OpenSSL bufferevent closes fd (and frees its SSL) */
	bool tls_handshaking;       /* the line deadline bounds the handshake */
	bool tls_active;
	bool tls_switch_pending;    /* STARTTLS answered: switch once the 220 is written */
	char tls_version[16];
	char tls_cipher[80];

	struct event *line_ev;      /* deadline for completing one line (or handshake) */
	struct event *data_ev;      /* deadline of the DATA/BDAT stage as a whole */
	struct timespec data_start; /* when the DATA/BDAT stage began */
	uint64_t data_bytes;        /* octets received in the stage so far */
	struct event *tls_ev;       /* runs the STARTTLS switch outside bufferevent callbacks */
	struct event *free_ev;      /* deferred free (never free inside a callback) */
	time_t started;
	unsigned long long messages;

	/* SMTP AUTH (RFC 4954); the authenticated state is in hs. */
	enum sasl_mech sasl_mech;   /* the exchange in progress, SASL_NONE outside one */
	char *sasl_user;            /* LOGIN: the user name given; PLAIN: authcid (logs) */
	char *authzid;              /* PLAIN: the identity asked for, if not authcid */
	char *auth_user;            /* the authenticated user (hs.auth_user) */
	unsigned auth_failures;     /* failed AUTH commands in this session */
	bool auth_slow;             /* this AUTH's reply waits for auth_ev */
	bool auth_pending;          /* users_verify_async has not called back yet */
	int auth_reply;             /* the reply held back by auth_ev */
	struct event *auth_ev;      /* slows the reply after repeated failures */

	/* Handler chain: a hook that answered PENDING (hook.h). */
	struct event *life_ev;      /* MaxConnectionLifespanHandler */
	bool hook_waiting;          /* a hook is pending: read nothing */
	enum chain_hook hook_point;
	size_t hook_at;             /* the handler that answered PENDING */
	const void *hook_arg;
	void (*hook_cont)(struct session *s, struct hook_result r);
	struct smtp_path hook_path; /* RCPT's path while its hooks run */
	struct hook_param hook_params[SMTP_PARAMS_MAX]; /* ... and its parameters */
	char *hook_params_text;     /* their names and values (owned) */
	unsigned long long hook_size;
};

struct cmd_seq_msg {
	unsigned states;            /* when the current state is one of these */
	int code;
	const char *ecode;
	const char *text;
};

enum cmd_args {
	ARG_NONE,
	ARG_OPT,
	ARG_REQ,
};

/* Command flags (struct cmd_def.flags). */
enum {
	CF_STARTTLS = 1u << 0, /* exists only where <tls startTLS="true"> */
	CF_NO_TLS = 1u << 1,   /* refused once TLS is active (RFC 3207 4.2) */
	CF_AUTH = 1u << 2,     /* AUTH: exists unless NoAuthCmdHandlerLoader, needs TLS
				* with requireSSL, refused once authenticated */
};

struct cmd_def {
	const char *verb;
	unsigned states;            /* states the verb is allowed in */
	enum cmd_args args;
	unsigned flags;             /* CF_* */
	const char *usage;          /* reply text (501 5.5.4) when ARG_REQ lacks one */
	const char *argtext;        /* reply text (501 5.5.4) when ARG_NONE gets one, or NULL */
	const struct cmd_seq_msg *seq; /* 503 texts by state, ends with states 0 */
	void (*fn)(struct session *s, const char *arg, size_t len);
	/* Called instead of the 503 reply when the state is wrong (BDAT must
	 * still swallow its chunk to stay in sync with the client). */
	void (*reject)(struct session *s, const char *arg, size_t len, const struct cmd_seq_msg *m);
};

/*
 * A protocol the session engine speaks: its command table and what
 * differs at the edges. LMTP (RFC 2033) is SMTP with LHLO instead of
 * HELO/EHLO, one reply per recipient after the data, and delivery
 * straight into the mailboxes instead of the spool queue.
 */
struct session_proto {
	const char *name;
	const struct cmd_def *cmds;
	size_t ncmds;
	const char *greeting;      /* default 220 text after the hello name */
	bool lmtp;
};

static void session_process(struct session *s);
static void tx_commit(struct session *s, struct hook_result r);
static void helo_after(struct session *s, struct hook_result r);
static void connect_after(struct session *s, struct hook_result r);
static void mail_after(struct session *s, struct hook_result r);
static void rcpt_after(struct session *s, struct hook_result r);
static void session_close(struct session *s);
static void session_set_state(struct session *s, enum session_state st);
static void data_stage_begin(struct session *s);

/* ---------------------------------------------------------------------- */
/* replies                                                                */

static struct evbuffer *
session_out(struct session *s)
{
	return bufferevent_get_output(s->bev);
}

/* Queues a reply; 4xx/5xx replies count towards the error ceiling. */
static void __attribute__((format(printf, 4, 5)))
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

static void
session_reply_hook(struct session *s, const struct hook_result *r)
{
	session_reply(s, r->code, r->ecode, "%s", r->text);
	if (r->verdict == HOOK_DISCONNECT)
		session_close(s);
}

typedef void session_hook_cont(struct session *s, struct hook_result r);

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
static bool
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
static struct hook_result
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

/* ---------------------------------------------------------------------- */
/* the transaction                                                        */

static void
tx_clear(struct session *s)
{
	struct transaction *tx = &s->tx;
	for (size_t i = 0; i < tx->nrcpts; i++)
		free(tx->rcpts[i]);
	free(tx->rcpts);
	if (tx->msg != NULL)
		spool_msg_abort(tx->msg);
	free(tx->hdr);
	memset(tx, 0, sizeof(*tx));
	s->hs.tx_serial++;
	s->hs.headers = NULL;
	s->hs.headers_len = 0;
	s->hs.nattrs = 0;
	s->hs.nadd_headers = 0;
	event_del(s->data_ev); /* every end of a transaction ends its data stage */
	s->hs.sender = NULL;
	s->hs.nrcpts = 0;
}

/* Ends the transaction and goes back to READY (or GREETED). */
static void
tx_reset(struct session *s)
{
	tx_clear(s);
	if (s->state != ST_CLOSING)
		session_set_state(s, s->helo != NULL ? ST_READY : ST_GREETED);
}

/* The "with" protocol of the Received header (RFC 3848, RFC 6531 3.7.3). */
static const char *
session_protocol(const struct session *s)
{
	bool a = s->hs.authenticated;
	if (s->proto->lmtp)
		return s->tls_active ? "LMTPS" : "LMTP"; /* RFC 3848; LMTP has no AUTH */
	if (s->tx.smtputf8)
		return s->tls_active ? (a ? "UTF8SMTPSA" : "UTF8SMTPS")
				     : (a ? "UTF8SMTPA" : "UTF8SMTP");
	if (!s->hs.esmtp)
		return "SMTP";
	return s->tls_active ? (a ? "ESMTPSA" : "ESMTPS") : (a ? "ESMTPA" : "ESMTP");
}

/*
 * True if EHLO offers AUTH to this client now (james.md 1a.3): AUTH exists,
 * a mechanism is enabled, TLS is active unless requireSSL is off, and the
 * announce policy names this client (forUnauthorizedAddresses: a client
 * outside authorizedAddresses). The relay hook's 530/550 choice follows it.
 */
static bool
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

/* Writes the Received: trace header (RFC 5321 4.4) as the first bytes. */
static void
tx_write_received(struct session *s)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);

	char *hdr;
	const char *helo = s->helo != NULL ? s->helo : "unknown";
	/* James's ReceivedDataLineFilter form of the TLS comment (1b.5). */
	char tls[128] = "";
	if (s->tls_active)
		snprintf(tls, sizeof(tls), "\r\n\t(using %s with cipher %s)", s->tls_version,
		    s->tls_cipher);
	if (s->tx.nrcpts == 1)
		hdr = xasprintf("Received: from %s ([%s])%s\r\n\tby %s (mailetd) with %s id %s\r\n"
				"\tfor <%s>; %s\r\n",
		    helo, s->client_text, tls, s->srv->hello_name, session_protocol(s),
		    s->tx.msgid, s->tx.rcpts[0], date);
	else
		hdr = xasprintf("Received: from %s ([%s])%s\r\n\tby %s (mailetd) with %s id %s;\r\n"
				"\t%s\r\n",
		    helo, s->client_text, tls, s->srv->hello_name, session_protocol(s),
		    s->tx.msgid, date);
	/* Fields from MAIL/RCPT hooks go above ours (hook_add_header). */
	for (size_t i = 0; i < s->hs.nadd_headers; i++) {
		const char *f = s->hs.add_headers[i];
		if (f[0] != '\0' && (spool_msg_write(s->tx.msg, f, strlen(f)) != 0 ||
					 spool_msg_write(s->tx.msg, "\r\n", 2) != 0))
			s->tx.write_failed = true;
	}
	if (spool_msg_write(s->tx.msg, hdr, strlen(hdr)) != 0)
		s->tx.write_failed = true;
	free(hdr);
}

/* Opens the spool file for a transaction. 0, or -1 after replying 451. */
static int
tx_open_message(struct session *s)
{
	s->tx.msg = spool_msg_new(s->env->spool, "spool", s->tx.msgid);
	if (s->tx.msg == NULL) {
		log_error(s->id, "event=spool-error op=create errno=%d error=\"%s\"", errno,
		    strerror(errno));
		session_reply(s, 451, "4.3.0", "Error processing message: queue unavailable");
		return -1;
	}
	tx_write_received(s);
	return 0;
}

/*
 * Follows the header block of the message while it streams to the spool
 * (until the first empty line): keeps its first HOOK_HEADERS_MAX octets
 * and counts its size and fields for the message hooks.
 */
static void
tx_capture_headers(struct transaction *tx, const char *data, size_t len)
{
	for (size_t i = 0; i < len && !tx->hdr_done; i++) {
		char c = data[i];
		if (c == '\n') {
			if (tx->hdr_line == 0) {
				tx->hdr_done = true;
				break;
			}
			tx->hdr_line = 0;
		} else if (c != '\r') {
			if (tx->hdr_line == 0 && c != ' ' && c != '\t')
				tx->hdr_fields++;
			tx->hdr_line++;
		}
		tx->hdr_size++;
		if (tx->hdr_len < HOOK_HEADERS_MAX) {
			if (tx->hdr == NULL)
				tx->hdr = xmalloc(HOOK_HEADERS_MAX);
			tx->hdr[tx->hdr_len++] = c;
		}
	}
}

static void
tx_emit(void *arg, const char *data, size_t len)
{
	struct session *s = arg;
	if (!s->tx.hdr_done)
		tx_capture_headers(&s->tx, data, len);
	if (s->tx.write_failed || s->tx.msg == NULL)
		return;
	if (spool_msg_write(s->tx.msg, data, len) != 0)
		s->tx.write_failed = true;
}

static void
commit_done(void *arg, int err, const char *id)
{
	struct session *s = arg;
	s->commit_pending = false;
	if (err != 0)
		log_error(s->id, "event=spool-error op=commit msgid=%s errno=%d error=\"%s\"", id,
		    err, strerror(err));
	else
		log_info(s->id, "event=queued msgid=%s", id);

	if (s->freeing || s->state == ST_CLOSING) {
		/* The client went away, or we were forced down and said 421.
		 * Once the output is written, write_cb frees the session. */
		if (s->freeing)
			event_active(s->free_ev, EV_TIMEOUT, 0);
		return;
	}
	if (err != 0)
		session_reply(s, 451, "4.3.0", "Error processing message: queue write failed");
	else {
		s->messages++;
		session_reply(s, 250, "2.6.0", "Message received (queued as %s)", id);
	}
	tx_reset(s);
	session_process(s);
}

/*
 * How many replies the end of the data gets: LMTP answers the final "."
 * (or BDAT LAST) once per accepted recipient, in RCPT order, even when
 * the answer is the same for all (RFC 2033 4.2, RFC 3030 4.2).
 */
static size_t
tx_end_replies(const struct session *s)
{
	bool final = s->state == ST_DATA || s->state == ST_COMMIT ||
	    (s->state == ST_BDAT && s->tx.bdat_last);
	return s->proto->lmtp && final && s->tx.nrcpts > 0 ? s->tx.nrcpts : 1;
}

/* A reply to the end of the data, repeated per recipient for LMTP. */
static void __attribute__((format(printf, 4, 5)))
tx_end_reply(struct session *s, int code, const char *ecode, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (size_t i = 0, n = tx_end_replies(s); i < n; i++)
		session_reply(s, code, ecode, "%s", text);
}

/* The outcome of an LMTP delivery, one result per recipient in RCPT order. */
static void
lmtp_done(void *arg, const struct local_result *res, size_t n)
{
	struct session *s = arg;
	s->commit_pending = false;
	size_t ok = 0;
	for (size_t i = 0; i < n; i++)
		ok += res[i].code == 250;
	log_info(s->id, "event=lmtp-delivered msgid=%s nrcpt=%zu delivered=%zu", s->tx.msgid, n,
	    ok);
	if (s->freeing || s->state == ST_CLOSING) {
		if (s->freeing)
			event_active(s->free_ev, EV_TIMEOUT, 0);
		return;
	}
	/* One burst: every line is queued before the loop writes any. */
	for (size_t i = 0; i < n; i++)
		session_reply(s, res[i].code, res[i].ecode, "%s", res[i].text);
	if (ok > 0)
		s->messages++;
	tx_reset(s);
	session_process(s);
}

/*
 * LMTP: hands the received message to the worker pool for delivery into
 * each recipient's Maildir; lmtp_done() answers. The spool's temporary
 * file is unlinked at once: the delivery reads it through its own
 * descriptor, and nothing of it is left after a crash.
 */
static void
lmtp_deliver(struct session *s)
{
	struct spool_msg *m = s->tx.msg;
	s->tx.msg = NULL;
	uint64_t size = spool_msg_size(m);
	int fd = spool_msg_reader(m);
	int err = errno;
	spool_msg_abort(m);
	session_set_state(s, ST_COMMIT);
	struct local_message lm = {
		.fd = fd,
		.size = size,
		.sender = s->tx.sender.mailbox,
		.rcpts = (const char *const *)s->tx.rcpts,
		.nrcpts = s->tx.nrcpts,
		.log_id = s->id,
	};
	log_info(s->id, "event=message msgid=%s size=%" PRIu64 " nrcpt=%zu", s->tx.msgid, size,
	    s->tx.nrcpts);
	if (fd >= 0) {
		s->commit_pending = true;
		if (local_deliver_async(s->env->workers, s->base, s->env->cfg, &lm, lmtp_done, s) ==
		    0)
			return;
		s->commit_pending = false;
		err = ESHUTDOWN;
	}
	log_error(s->id, "event=delivery-error msgid=%s errno=%d error=\"%s\"", s->tx.msgid, err,
	    strerror(err));
	tx_end_reply(s, 451, "4.3.0", "Local error in processing: message not delivered");
	tx_reset(s);
}

/*
 * The whole message has arrived. Checks what the decoder found, asks the
 * message hooks, then commits; the 250 is sent only from commit_done().
 */
static void
tx_finish(struct session *s, uint64_t size, bool too_big, bool long_line, bool nul)
{
	if (too_big) {
		log_info(s->id, "event=rejected reason=size size=%" PRIu64, size);
		tx_end_reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
		tx_reset(s);
		return;
	}
	if (long_line) {
		tx_end_reply(s, 500, "5.5.2", "Line length exceeded (limit %zu octets)",
		    s->srv->max_line_length);
		tx_reset(s);
		return;
	}
	if (nul) {
		tx_end_reply(s, 554, "5.6.0", "Message contains NUL characters");
		tx_reset(s);
		return;
	}
	if (s->tx.write_failed) {
		log_error(s->id, "event=spool-error op=write msgid=%s", s->tx.msgid);
		tx_end_reply(s, 451, "4.3.0", "Error processing message: queue write failed");
		tx_reset(s);
		return;
	}
	/* The message hooks see the header block (hook.h). */
	event_del(s->data_ev);
	s->hs.headers = s->tx.hdr != NULL ? s->tx.hdr : "";
	s->hs.headers_len = s->tx.hdr_len;
	s->hs.headers_truncated = s->tx.hdr_size > s->tx.hdr_len;
	s->hs.headers_size = s->tx.hdr_size;
	s->hs.headers_fields = s->tx.hdr_fields;
	s->hs.nattrs = 0;
	s->hook_size = size;
	struct hook_result r;
	if (session_hook(s, CHAIN_MESSAGE, &s->hook_size, &r, tx_commit))
		tx_commit(s, r);
}

/* The message hooks answered: refuse, or commit (the 250 comes from commit_done). */
static void
tx_commit(struct session *s, struct hook_result r)
{
	uint64_t size = s->hook_size;
	if (r.verdict == HOOK_DENY || r.verdict == HOOK_DENYSOFT || r.verdict == HOOK_DISCONNECT) {
		log_info(s->id, "event=rejected reason=message-hook code=%d", r.code);
		for (size_t i = 1; i < tx_end_replies(s); i++)
			session_reply(s, r.code, r.ecode, "%s", r.text);
		session_reply_hook(s, &r);
		tx_reset(s);
		return;
	}
	if (s->proto->lmtp) {
		lmtp_deliver(s);
		return;
	}

	char sender[SMTP_MAILBOX_MAX + 1];
	snprintf(sender, sizeof(sender), "%s", s->tx.sender.mailbox);
	struct spool_attr attrs[4 + HOOK_ATTRS_MAX];
	size_t nattrs = 0;
	if (s->hs.relaying_allowed)
		attrs[nattrs++] = (struct spool_attr){ "org.apache.james.SMTPIsAuthNetwork", "true" };
	if (s->auth_user != NULL)
		attrs[nattrs++] = (struct spool_attr){ "org.apache.james.SMTPAuthUser", s->auth_user };
	if (s->tls_active) {
		/* James's AddDefaultAttributesMessageHook (1b.5). */
		attrs[nattrs++] = (struct spool_attr){ "org.apache.james.ssl.protocol",
			s->tls_version };
		attrs[nattrs++] = (struct spool_attr){ "org.apache.james.ssl.cipher", s->tls_cipher };
	}
	for (size_t i = 0; i < s->hs.nattrs; i++) /* set by message hooks */
		attrs[nattrs++] = (struct spool_attr){ s->hs.attr_names[i], s->hs.attr_values[i] };
	struct spool_envelope env = {
		.sender = sender,
		.rcpts = (const char *const *)s->tx.rcpts,
		.nrcpts = s->tx.nrcpts,
		.client_addr = s->client_text,
		.client_name = "unknown",
		.helo = s->helo,
		.protocol = session_protocol(s),
		.session_id = s->id,
		.server_name = s->srv->name,
		.received = time(NULL),
		.attrs = attrs,
		.nattrs = nattrs,
		.smtputf8 = s->tx.smtputf8,
		.body = s->tx.body[0] ? s->tx.body : NULL,
	};
	log_info(s->id, "event=message msgid=%s size=%" PRIu64 " nrcpt=%zu", s->tx.msgid, size,
	    s->tx.nrcpts);
	struct spool_msg *m = s->tx.msg;
	s->tx.msg = NULL; /* owned by the spool now */
	s->commit_pending = true;
	session_set_state(s, ST_COMMIT);
	spool_msg_commit(m, &env, s->base, commit_done, s);
}

/* ---------------------------------------------------------------------- */
/* commands                                                               */

static void
cmd_helo_common(struct session *s, const char *arg, size_t len, bool esmtp)
{
	if (!smtp_valid_helo(arg, len)) {
		session_reply(s, 501, "5.5.2", "Invalid domain name or ip supplied as HELO argument");
		return;
	}
	char *helo = xstrndup(arg, len);
	s->hs.helo = helo;
	s->hs.esmtp = esmtp;
	struct hook_result r;
	if (session_hook(s, CHAIN_HELO, helo, &r, helo_after))
		helo_after(s, r);
}

/* The HELO hooks answered (the argument is s->hook_arg, not yet s->helo). */
static void
helo_after(struct session *s, struct hook_result r)
{
	char *helo = (char *)s->hook_arg;
	bool esmtp = s->hs.esmtp;
	if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
		s->hs.helo = s->helo;
		free(helo);
		session_reply_hook(s, &r);
		return;
	}
	free(s->helo);
	s->helo = helo;
	/* RFC 5321 4.1.4: HELO/EHLO resets any transaction in progress. */
	tx_reset(s);
	session_set_state(s, ST_READY);

	if (!esmtp) {
		session_reply(s, 250, NULL, "%s Hello %s [%s]", s->srv->hello_name, helo,
		    s->client_text);
		return;
	}
	char first[300], size[40];
	snprintf(first, sizeof(first), "%s Hello %s [%s]", s->srv->hello_name, helo,
	    s->client_text);
	if (s->srv->max_message_size > 0)
		snprintf(size, sizeof(size), "SIZE %" PRIu64, s->srv->max_message_size);
	else
		snprintf(size, sizeof(size), "SIZE");
	if (s->proto->lmtp) {
		/* LHLO (RFC 2033 4.1): no AUTH, no STARTTLS, no SMTPUTF8; handlers
		 * may add keywords (DSN in James's lmtpdsn.xml). */
		const char *lmtp[6 + 8] = { first, "PIPELINING", size, "8BITMIME",
			"ENHANCEDSTATUSCODES", "CHUNKING" };
		size_t nl = 6 + chain_ehlo_keywords(s->env->chain, &s->hs, lmtp + 6, 8);
		reply_add_lines(session_out(s), 250, NULL, lmtp, nl);
		return;
	}
	const char *lines[11 + 8] = {
		first, "PIPELINING", size, "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING",
	};
	size_t n = 7;
	/* Keywords handlers contribute (james.md 1c: after the fixed ones). */
	n += chain_ehlo_keywords(s->env->chain, &s->hs, lines + n, 8);
	/* AUTH and the legacy AUTH= form (james.md 1c), in James's order. */
	char auth[32], auth_old[32];
	s->hs.auth_announced = session_auth_offered(s);
	if (s->hs.auth_announced) {
		unsigned m = s->srv->auth_mechs;
		snprintf(auth, sizeof(auth), "AUTH%s%s", (m & CFG_MECH_LOGIN) ? " LOGIN" : "",
		    (m & CFG_MECH_PLAIN) ? " PLAIN" : "");
		snprintf(auth_old, sizeof(auth_old), "AUTH=%s", auth + 5);
		lines[n++] = auth;
		lines[n++] = auth_old;
	}
	/* STARTTLS last, and only while it can still be used (RFC 3207 4.2). */
	if (s->srv->tls.start_tls && !s->tls_active)
		lines[n++] = "STARTTLS";
	reply_add_lines(session_out(s), 250, NULL, lines, n);
}

static void
cmd_helo(struct session *s, const char *arg, size_t len)
{
	cmd_helo_common(s, arg, len, false);
}

static void
cmd_ehlo(struct session *s, const char *arg, size_t len)
{
	cmd_helo_common(s, arg, len, true);
}

/* LHLO: EHLO's LMTP twin (RFC 2033 4.1). */
static void
cmd_lhlo(struct session *s, const char *arg, size_t len)
{
	cmd_helo_common(s, arg, len, true);
}

/*
 * Appends "@<defaultDomain>" to a mailbox given without a domain, as James
 * does (1b.4). Returns -1 if the result would be too long.
 */
static int
path_add_default_domain(const struct session *s, struct smtp_path *p)
{
	if (p->null || p->at < p->len)
		return 0;
	const char *dom = s->env->cfg->domains.default_domain;
	size_t dl = strlen(dom);
	if (p->len + 1 + dl > SMTP_MAILBOX_MAX)
		return -1;
	p->mailbox[p->len] = '@';
	memcpy(p->mailbox + p->len + 1, dom, dl + 1);
	p->at = p->len;
	p->len += 1 + dl;
	return 0;
}

static void
cmd_mail(struct session *s, const char *arg, size_t len)
{
	struct transaction *tx = &s->tx;
	const char *ptext;
	size_t plen;
	s->hs.mail_serial++; /* the parameter hooks start afresh */
	enum smtp_path_status st = smtp_parse_path_arg(arg, len, false,
	    s->srv->brackets_enforcement, &tx->sender, &ptext, &plen);
	switch (st) {
	case SMTP_PATH_OK:
		break;
	case SMTP_PATH_NO_PREFIX:
		session_reply(s, 501, "5.5.4", "Usage: MAIL FROM:<sender>");
		return;
	case SMTP_PATH_NO_BRACKETS:
		session_reply(s, 501, "5.1.7", "Syntax error in MAIL command");
		return;
	case SMTP_PATH_BAD_PARAMS:
		session_reply(s, 501, "5.5.4", "Syntax error in parameters or arguments");
		return;
	case SMTP_PATH_BAD_ADDRESS:
	case SMTP_PATH_TOO_LONG:
		session_reply(s, 501, "5.1.7", "Syntax error in sender address");
		return;
	}

	struct smtp_param params[SMTP_PARAMS_MAX];
	int np = smtp_parse_params(ptext, plen, true, params, SMTP_PARAMS_MAX);
	if (np < 0) {
		session_reply(s, 501, "5.5.4", "Syntax error in parameters or arguments");
		return;
	}
	bool utf8 = false;
	char body[16] = "";
	for (int i = 0; i < np; i++) {
		const struct smtp_param *p = &params[i];
		if (smtp_param_is(p, "SIZE")) {
			unsigned long long n;
			if (p->value == NULL || smtp_parse_u64(p->value, p->valuelen, &n) != 0) {
				session_reply(s, 501, "5.5.4",
				    "Syntactically incorrect value for SIZE parameter");
				return;
			}
			if (s->srv->max_message_size > 0 && n > s->srv->max_message_size) {
				session_reply(s, 552, "5.3.4",
				    "Message size exceeds fixed maximum message size");
				return;
			}
		} else if (smtp_param_is(p, "BODY")) {
			/* RFC 6152; BINARYMIME is not offered (no RFC 3030 binary mode). */
			if (p->value == NULL ||
			    !((p->valuelen == 4 && strncasecmp(p->value, "7BIT", 4) == 0) ||
				(p->valuelen == 8 && strncasecmp(p->value, "8BITMIME", 8) == 0))) {
				session_reply(s, 501, "5.5.4", "Unsupported BODY type");
				return;
			}
			memcpy(body, p->value, p->valuelen);
			body[p->valuelen] = '\0';
			for (char *c = body; *c; c++)
				if (*c >= 'a' && *c <= 'z')
					*c = (char)(*c - 'a' + 'A');
		} else if (smtp_param_is(p, "SMTPUTF8")) {
			if (p->value != NULL) {
				session_reply(s, 501, "5.5.4", "SMTPUTF8 takes no value");
				return;
			}
			utf8 = true;
		} else if (smtp_param_is(p, "AUTH") && p->value != NULL) {
			/* RFC 4954 5: accepted; James ignores it too (1b.2). */
			char q[160];
			log_info(s->id, "event=mail-auth-param value=%s",
			    log_quote(q, sizeof(q), p->value, p->valuelen));
		} else if (chain_mail_param_declared(s->env->chain, p->key, p->keylen)) {
			/* A handler takes it (1b.3); the first answer stops the command. */
			char name[64], value[256];
			snprintf(name, sizeof(name), "%.*s", (int)p->keylen, p->key);
			for (char *c = name; *c; c++)
				if (*c >= 'a' && *c <= 'z')
					*c = (char)(*c - 'a' + 'A');
			snprintf(value, sizeof(value), "%.*s", p->value ? (int)p->valuelen : 0,
			    p->value ? p->value : "");
			struct hook_param hp = { .name = name, .value = value };
			struct hook_result r = session_hook_now(s, CHAIN_MAIL_PARAM, &hp);
			if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
				session_reply_hook(s, &r);
				return;
			}
		} else {
			/* James ignores MAIL parameters nobody declared (1b.3). */
			log_debug(s->id, "event=ignored-mail-param");
		}
	}
	if (tx->sender.utf8 && !utf8) {
		session_reply(s, 553, "5.6.7", "SMTPUTF8 is required for a UTF-8 address");
		return;
	}
	if (path_add_default_domain(s, &tx->sender) != 0) {
		session_reply(s, 501, "5.1.7", "Syntax error in sender address");
		return;
	}

	s->hs.sender = &tx->sender;
	tx->smtputf8 = utf8;
	memcpy(tx->body, body, sizeof(body));
	struct hook_result r;
	if (session_hook(s, CHAIN_MAIL, &tx->sender, &r, mail_after))
		mail_after(s, r);
}

/* The MAIL hooks answered. */
static void
mail_after(struct session *s, struct hook_result r)
{
	struct transaction *tx = &s->tx;
	if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
		s->hs.sender = NULL;
		tx->smtputf8 = false;
		tx->body[0] = '\0';
		session_reply_hook(s, &r);
		return;
	}
	tx->has_sender = true;
	session_set_state(s, ST_MAIL);
	session_reply(s, 250, "2.1.0", "Sender <%s> OK", tx->sender.mailbox);
}

static void
cmd_rcpt(struct session *s, const char *arg, size_t len)
{
	struct transaction *tx = &s->tx;
	struct smtp_path rcpt;
	const char *ptext;
	size_t plen;
	enum smtp_path_status st = smtp_parse_path_arg(arg, len, true,
	    s->srv->brackets_enforcement, &rcpt, &ptext, &plen);
	switch (st) {
	case SMTP_PATH_OK:
		break;
	case SMTP_PATH_NO_PREFIX:
		session_reply(s, 501, "5.5.2", "Usage: RCPT TO:<recipient>");
		return;
	case SMTP_PATH_NO_BRACKETS:
	case SMTP_PATH_BAD_PARAMS:
		session_reply(s, 501, "5.5.2", "Syntax error in parameters or arguments");
		return;
	case SMTP_PATH_BAD_ADDRESS:
	case SMTP_PATH_TOO_LONG:
		session_reply(s, 553, "5.1.3", "Syntax error in recipient address");
		return;
	}
	struct smtp_param params[SMTP_PARAMS_MAX];
	int np = smtp_parse_params(ptext, plen, true, params, SMTP_PARAMS_MAX);
	if (np < 0) {
		session_reply(s, 501, "5.5.2", "Syntax error in parameters or arguments");
		return;
	}
	/* The declared parameters go to the RCPT hooks, copied: a hook may wait. */
	free(s->hook_params_text);
	s->hook_params_text = xmalloc(plen * 2 + 2 * SMTP_PARAMS_MAX + 1);
	char *pt = s->hook_params_text;
	s->hs.rcpt_params = s->hook_params;
	s->hs.nrcpt_params = 0;
	for (int i = 0; i < np; i++) {
		/* James's experimental SmtpUtf8RcptHook accepts SMTPUTF8 here. */
		if (smtp_param_is(&params[i], "SMTPUTF8") && params[i].value == NULL)
			continue;
		if (chain_rcpt_param_declared(s->env->chain, params[i].key, params[i].keylen)) {
			struct hook_param *hp = &s->hook_params[s->hs.nrcpt_params++];
			hp->name = pt;
			for (size_t k = 0; k < params[i].keylen; k++) {
				char ch = params[i].key[k];
				*pt++ = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
			}
			*pt++ = '\0';
			hp->value = pt;
			if (params[i].value != NULL) {
				memcpy(pt, params[i].value, params[i].valuelen);
				pt += params[i].valuelen;
			}
			*pt++ = '\0';
			continue;
		}
		/* 1b.3: an RCPT parameter no handler declares is refused. */
		session_reply(s, 504, "5.5.4", "Unrecognized or unsupported option: %.*s",
		    (int)params[i].keylen, params[i].key);
		return;
	}
	if (rcpt.utf8 && !tx->smtputf8) {
		session_reply(s, 553, "5.6.7", "SMTPUTF8 is required for a UTF-8 address");
		return;
	}
	if (path_add_default_domain(s, &rcpt) != 0) {
		session_reply(s, 553, "5.1.3", "Syntax error in recipient address");
		return;
	}
	if (tx->nrcpts >= SESSION_MAX_RCPTS) {
		session_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	if (s->proto->lmtp && !config_is_local_domain(s->env->cfg, rcpt.mailbox + rcpt.at + 1,
				  rcpt.len - rcpt.at - 1)) {
		/* LMTP delivers to local mailboxes only, never relays. */
		session_reply(s, 550, "5.1.2", "<%s> Recipient domain is not local", rcpt.mailbox);
		return;
	}
	s->hook_path = rcpt;
	struct hook_result r;
	if (session_hook(s, CHAIN_RCPT, &s->hook_path, &r, rcpt_after))
		rcpt_after(s, r);
}

/* The RCPT hooks answered for s->hook_path. */
static void
rcpt_after(struct session *s, struct hook_result r)
{
	struct transaction *tx = &s->tx;
	const struct smtp_path rcpt = s->hook_path;
	s->hs.nrcpt_params = 0; /* the hooks are done with them */
	if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
		char q[160];
		log_info(s->id, "event=rcpt-rejected rcpt=%s code=%d",
		    log_quote(q, sizeof(q), rcpt.mailbox, rcpt.len), r.code);
		session_reply_hook(s, &r);
		return;
	}
	tx->rcpts = xreallocarray(tx->rcpts, tx->nrcpts + 1, sizeof(*tx->rcpts));
	tx->rcpts[tx->nrcpts++] = xstrndup(rcpt.mailbox, rcpt.len);
	s->hs.nrcpts = tx->nrcpts;
	session_set_state(s, ST_RCPT);
	session_reply(s, 250, "2.1.5", "Recipient <%s> OK", rcpt.mailbox);
}

static void
cmd_data(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	if (tx_open_message(s) != 0) {
		tx_reset(s);
		return;
	}
	dataread_init(&s->dr, s->srv->max_message_size, s->srv->max_line_length);
	session_set_state(s, ST_DATA);
	data_stage_begin(s);
	session_reply(s, 354, NULL, "Ok Send data ending with <CRLF>.<CRLF>");
}

/* Parses "size [LAST]". 0, or -1 on a syntax error. */
static int
bdat_parse(const char *arg, size_t len, uint64_t *size, bool *last)
{
	size_t i = 0;
	while (i < len && arg[i] != ' ')
		i++;
	unsigned long long n;
	if (smtp_parse_u64(arg, i, &n) != 0)
		return -1;
	*size = n;
	*last = false;
	while (i < len && arg[i] == ' ')
		i++;
	if (i == len)
		return 0;
	if (len - i == 4 && strncasecmp(arg + i, "LAST", 4) == 0) {
		*last = true;
		return 0;
	}
	return -1;
}

/*
 * A BDAT whose size cannot be read leaves us unable to find the next
 * command in the stream: answer and close rather than execute chunk data.
 */
static bool
bdat_check_syntax(struct session *s, const char *arg, size_t len, uint64_t *size, bool *last)
{
	if (bdat_parse(arg, len, size, last) == 0)
		return true;
	session_reply(s, 501, "5.5.4", "Syntax error in BDAT size; closing connection");
	session_close(s);
	return false;
}

static void
cmd_bdat(struct session *s, const char *arg, size_t len)
{
	uint64_t size;
	bool last;
	if (!bdat_check_syntax(s, arg, len, &size, &last))
		return;
	if (s->state == ST_RCPT) {
		if (tx_open_message(s) != 0) {
			/* 451 is said; still swallow the chunk to stay in sync. */
			tx_reset(s);
			s->tx.bdat_discard = true;
			s->tx.bdat_discard_reply = false;
			s->tx.bdat_in_chunk = true;
			s->tx.bdat_remaining = size;
			session_set_state(s, ST_BDAT);
			return;
		}
		session_set_state(s, ST_BDAT);
	}
	s->tx.bdat_in_chunk = true;
	s->tx.bdat_remaining = size;
	s->tx.bdat_last = last;
	s->tx.bdat_discard = false;
	if (!evtimer_pending(s->data_ev, NULL))
		data_stage_begin(s); /* the first chunk starts the stage */
}

/* BDAT in a state that does not allow it: read and drop the chunk, then 503. */
static void
bdat_reject(struct session *s, const char *arg, size_t len, const struct cmd_seq_msg *m)
{
	uint64_t size;
	bool last;
	(void)m;
	if (!bdat_check_syntax(s, arg, len, &size, &last))
		return;
	tx_clear(s);
	s->tx.bdat_discard = true;
	s->tx.bdat_discard_reply = true;
	s->tx.bdat_in_chunk = true;
	s->tx.bdat_remaining = size;
	session_set_state(s, ST_BDAT);
	data_stage_begin(s);
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
}

/* Ends the exchange with an error reply (text, then the mechanism if
 * with_mech) and goes back to READY. */
static void
sasl_fail(struct session *s, int code, const char *ecode, const char *text, bool with_mech)
{
	const char *mech = sasl_mech_name(s->sasl_mech);
	sasl_end(s);
	session_set_state(s, ST_READY);
	session_reply(s, code, ecode, "%s%s%s", text, with_mech ? " " : "", with_mech ? mech : "");
}

/* Forgets a successful AUTH (STARTTLS: RFC 3207 4.2). */
static void
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

static void
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
		if (!users_is_admin(db, name, strlen(name)) || !users_exists(db, s->authzid, zl) ||
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

/* users_verify_async's answer, on the session's thread. */
static void
auth_verified(void *arg, enum users_auth result, const char *name)
{
	struct session *s = arg;
	s->auth_pending = false;
	if (s->freeing) {
		event_active(s->free_ev, EV_TIMEOUT, 0); /* free_cb waited for us */
		return;
	}
	if (s->state != ST_AUTHCHECK)
		return; /* closing */
	auth_finish(s, result, name, true);
}

/* Starts the password check of user (ulen) and pw (pwlen) on the worker pool. */
static void
auth_verify(struct session *s, const char *user, size_t ulen, const char *pw, size_t pwlen)
{
	s->auth_slow = s->auth_failures >= AUTH_FREE_FAILURES;
	session_set_state(s, ST_AUTHCHECK);
	s->auth_pending = true;
	if (s->env->cfg->users_db == NULL || s->env->workers == NULL ||
	    users_verify_async(s->env->cfg->users_db, s->env->workers, s->base, user, ulen, pw,
		pwlen, auth_verified, s) != 0) {
		s->auth_pending = false;
		auth_finish(s, USERS_AUTH_ERROR, NULL, false);
	}
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
static void
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
static void
sasl_line(struct session *s, const char *line, size_t len)
{
	sasl_step(s, line, len);
}

/*
 * STARTTLS (RFC 3207): 220, then the session forgets everything it was
 * told in the clear (4.2: HELO name, transaction) and waits in GREETED.
 * Reading stops now; the switch to TLS happens once the 220 is written
 * (write_cb), and whatever the client sent after the command line is
 * thrown away unread (CVE-2011-0411).
 */
static void
cmd_starttls(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	session_reply(s, 220, "2.0.0", "Ready to start TLS");
	tx_clear(s);
	auth_forget(s);
	free(s->helo);
	s->helo = NULL;
	s->hs.helo = NULL;
	s->hs.esmtp = false;
	session_set_state(s, ST_GREETED);
	s->tls_switch_pending = true;
	bufferevent_disable(s->bev, EV_READ);
	event_del(s->line_ev);
}

static void
cmd_rset(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	tx_reset(s);
	session_reply(s, 250, "2.0.0", "OK");
}

static void
cmd_noop(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	session_reply(s, 250, "2.0.0", "OK");
}

static void
cmd_quit(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	struct hook_result r = session_hook_now(s, CHAIN_QUIT, NULL);
	if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
		session_reply(s, r.code, r.ecode, "%s", r.text);
		session_close(s);
		return;
	}
	session_reply(s, 221, "2.0.0", "%s Service closing transmission channel",
	    s->srv->hello_name);
	session_close(s);
}

static void
cmd_vrfy(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	/* RFC 5321 3.5.3: 252 neither confirms nor denies the address. */
	session_reply(s, 252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
}

static void
cmd_expn(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	session_reply(s, 502, "5.3.3", "EXPN is not supported");
}

static void
cmd_help(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	/* STARTTLS and AUTH only where EHLO would offer them now. */
	bool starttls = s->srv->tls.start_tls && !s->tls_active;
	char verbs[96];
	snprintf(verbs, sizeof(verbs), "EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP%s%s",
	    starttls ? " STARTTLS" : "", session_auth_offered(s) ? " AUTH" : "");
	const char *const lines[] = {
		"mailetd - commands:",
		verbs,
		"See RFC 5321 for their use",
	};
	reply_add_lines(session_out(s), 214, "2.0.0", lines, sizeof(lines) / sizeof(lines[0]));
}

static const struct cmd_seq_msg seq_mail[] = {
	{ ST(ST_MAIL) | ST(ST_RCPT), 503, "5.5.0", "Sender already specified" },
	{ ST(ST_GREETED), 503, "5.5.0", "Need HELO or EHLO before MAIL" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_rcpt[] = {
	{ ST(ST_GREETED) | ST(ST_READY), 503, "5.5.0", "Need MAIL before RCPT" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_data[] = {
	{ ST(ST_GREETED) | ST(ST_READY), 503, "5.5.0", "No sender specified" },
	{ ST(ST_MAIL), 503, "5.5.0", "No recipients specified" },
	{ ST(ST_BDAT), 503, "5.5.1", "DATA is not allowed during a BDAT transfer" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_starttls[] = {
	{ ST(ST_MAIL) | ST(ST_RCPT), 503, "5.5.1", "Error: MAIL transaction in progress" },
	{ ST(ST_BDAT), 503, "5.5.1", "Only BDAT, RSET, NOOP and QUIT are allowed during a BDAT transfer" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_bdat_phase[] = {
	{ ST(ST_BDAT), 503, "5.5.1", "Only BDAT, RSET, NOOP and QUIT are allowed during a BDAT transfer" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_auth[] = {
	{ ST(ST_GREETED), 503, "5.5.1", "Need EHLO before AUTH" },
	{ ST(ST_MAIL) | ST(ST_RCPT) | ST(ST_BDAT), 503, "5.5.1",
	    "AUTH is not allowed during a mail transaction" },
	{ 0, 0, NULL, NULL },
};

#define ST_COMMAND (ST(ST_GREETED) | ST(ST_READY) | ST(ST_MAIL) | ST(ST_RCPT))
#define ST_ANY_CMD (ST_COMMAND | ST(ST_BDAT))

/* The SMTP command table: the one place that says what is allowed when. */
static const struct cmd_def smtp_cmds[] = {
	{ .verb = "EHLO", .states = ST_COMMAND, .args = ARG_REQ, .fn = cmd_ehlo,
	    .usage = "Domain address required: EHLO", .seq = seq_bdat_phase },
	{ .verb = "HELO", .states = ST_COMMAND, .args = ARG_REQ, .fn = cmd_helo,
	    .usage = "Domain address required: HELO", .seq = seq_bdat_phase },
	{ .verb = "MAIL", .states = ST(ST_GREETED) | ST(ST_READY), .args = ARG_REQ, .fn = cmd_mail,
	    .usage = "Usage: MAIL FROM:<sender>", .seq = seq_mail },
	{ .verb = "RCPT", .states = ST(ST_MAIL) | ST(ST_RCPT), .args = ARG_REQ, .fn = cmd_rcpt,
	    .usage = "Usage: RCPT TO:<recipient>", .seq = seq_rcpt },
	{ .verb = "DATA", .states = ST(ST_RCPT), .args = ARG_NONE, .fn = cmd_data, .seq = seq_data },
	{ .verb = "BDAT", .states = ST(ST_RCPT) | ST(ST_BDAT), .args = ARG_REQ, .fn = cmd_bdat,
	    .usage = "Usage: BDAT size [LAST]", .reject = bdat_reject },
	{ .verb = "RSET", .states = ST_ANY_CMD, .args = ARG_NONE, .fn = cmd_rset },
	{ .verb = "NOOP", .states = ST_ANY_CMD, .args = ARG_OPT, .fn = cmd_noop },
	{ .verb = "QUIT", .states = ST_ANY_CMD, .args = ARG_NONE, .fn = cmd_quit },
	{ .verb = "VRFY", .states = ST_COMMAND, .args = ARG_REQ, .fn = cmd_vrfy,
	    .usage = "Usage: VRFY <address>", .seq = seq_bdat_phase },
	{ .verb = "EXPN", .states = ST_COMMAND, .args = ARG_OPT, .fn = cmd_expn,
	    .seq = seq_bdat_phase },
	{ .verb = "HELP", .states = ST_COMMAND, .args = ARG_OPT, .fn = cmd_help,
	    .seq = seq_bdat_phase },
	{ .verb = "STARTTLS", .states = ST(ST_GREETED) | ST(ST_READY), .args = ARG_NONE,
	    .flags = CF_STARTTLS | CF_NO_TLS, .fn = cmd_starttls, .seq = seq_starttls,
	    .argtext = "Syntax error (no parameters allowed) with STARTTLS command" },
	{ .verb = "AUTH", .states = ST(ST_READY), .args = ARG_REQ, .flags = CF_AUTH,
	    .fn = cmd_auth, .seq = seq_auth,
	    .usage = "Usage: AUTH (authentication type) <challenge>" },
};

/*
 * The LMTP command table (RFC 2033): LHLO replaces HELO and EHLO, which
 * are unknown commands here (500), as are AUTH, STARTTLS and HELP.
 */
static const struct cmd_def lmtp_cmds[] = {
	{ .verb = "LHLO", .states = ST_COMMAND, .args = ARG_REQ, .fn = cmd_lhlo,
	    .usage = "Domain address required: LHLO", .seq = seq_bdat_phase },
	{ .verb = "MAIL", .states = ST(ST_GREETED) | ST(ST_READY), .args = ARG_REQ, .fn = cmd_mail,
	    .usage = "Usage: MAIL FROM:<sender>", .seq = seq_mail },
	{ .verb = "RCPT", .states = ST(ST_MAIL) | ST(ST_RCPT), .args = ARG_REQ, .fn = cmd_rcpt,
	    .usage = "Usage: RCPT TO:<recipient>", .seq = seq_rcpt },
	{ .verb = "DATA", .states = ST(ST_RCPT), .args = ARG_NONE, .fn = cmd_data, .seq = seq_data },
	{ .verb = "BDAT", .states = ST(ST_RCPT) | ST(ST_BDAT), .args = ARG_REQ, .fn = cmd_bdat,
	    .usage = "Usage: BDAT size [LAST]", .reject = bdat_reject },
	{ .verb = "RSET", .states = ST_ANY_CMD, .args = ARG_NONE, .fn = cmd_rset },
	{ .verb = "NOOP", .states = ST_ANY_CMD, .args = ARG_OPT, .fn = cmd_noop },
	{ .verb = "QUIT", .states = ST_ANY_CMD, .args = ARG_NONE, .fn = cmd_quit },
	{ .verb = "VRFY", .states = ST_COMMAND, .args = ARG_REQ, .fn = cmd_vrfy,
	    .usage = "Usage: VRFY <address>", .seq = seq_bdat_phase },
	{ .verb = "EXPN", .states = ST_COMMAND, .args = ARG_OPT, .fn = cmd_expn,
	    .seq = seq_bdat_phase },
};

static const struct session_proto proto_smtp = {
	.name = "SMTP",
	.cmds = smtp_cmds,
	.ncmds = sizeof(smtp_cmds) / sizeof(smtp_cmds[0]),
	.greeting = "ESMTP mailetd ready",
};

static const struct session_proto proto_lmtp = {
	.name = "LMTP",
	.cmds = lmtp_cmds,
	.ncmds = sizeof(lmtp_cmds) / sizeof(lmtp_cmds[0]),
	.greeting = "LMTP mailetd ready",
	.lmtp = true,
};

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

static void
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

static void
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
	if (tx->bdat_too_big) {
		tx_finish(s, tx->bdat_size, true, false, false);
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
static void
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
static void
session_schedule_free(struct session *s)
{
	s->freeing = true;
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	event_active(s->free_ev, EV_TIMEOUT, 0);
}

/* Queues nothing more; frees once the queued replies are written. */
static void
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

/* Ends a session whose TLS handshake failed; nothing can be said to the client. */
static void
session_tls_failed(struct session *s, const char *reason)
{
	char q[200];
	log_info(s->id, "event=tls-failed client=%s reason=%s", s->client_text,
	    log_quote(q, sizeof(q), reason, strlen(reason)));
	s->tls_handshaking = false;
	s->input_eof = true;
	tx_clear(s);
	session_set_state(s, ST_CLOSING);
	session_schedule_free(s);
}

/* The reason of the first OpenSSL error of the session's bufferevent. */
static const char *
session_tls_reason(struct session *s, char *buf, size_t len, const char *fallback)
{
	unsigned long e, first = 0;
	if (!s->bev_owns_fd)
		return fallback;
	while ((e = bufferevent_get_openssl_error(s->bev)) != 0)
		if (first == 0)
			first = e;
	if (first == 0)
		return fallback;
	return tls_error_reason(buf, len, first, fallback);
}

/* TLS is active from here on (RFC 3207 4.2): records and logs it. */
static void
session_tls_active(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	const char *version, *cipher;
	tls_describe(ssl, &version, &cipher);
	snprintf(s->tls_version, sizeof(s->tls_version), "%s", version);
	snprintf(s->tls_cipher, sizeof(s->tls_cipher), "%s", cipher);
	s->tls_handshaking = false;
	s->tls_active = true;
	s->hs.tls_active = true;
	s->hs.auth_announced = session_auth_offered(s);
	event_del(s->line_ev);
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char q[300], subject[256] = "", qs[300] = "none";
	/* A verified client certificate (<clientAuth>): whose it is. */
	X509 *peer = SSL_get0_peer_certificate(ssl);
	if (peer != NULL) {
		X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof(subject));
		log_quote(qs, sizeof(qs), subject, strlen(subject));
	}
	log_info(s->id, "event=tls version=%s cipher=%s sni=%s client_cert=%s", s->tls_version,
	    s->tls_cipher, sni != NULL ? log_quote(q, sizeof(q), sni, strlen(sni)) : "none", qs);
}

/* The handshake is done: TLS is active, and input may wait. */
static void
session_tls_done(struct session *s)
{
	session_tls_active(s);
	session_process(s);
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
static void
session_setup_bev(struct session *s)
{
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	struct timeval tv = { .tv_sec = s->srv->idle_timeout, .tv_usec = 0 };
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	size_t high = s->srv->max_line_length + 2;
	if (high < SESSION_IN_HIGH)
		high = SESSION_IN_HIGH;
	bufferevent_setwatermark(s->bev, EV_READ, 0, high);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/*
 * Puts the connection under TLS as the server side of the handshake. The
 * whole handshake must finish within connectiontimeout (the line
 * deadline, which no byte resets).
 */
static void
session_tls_start(struct session *s)
{
	SSL *ssl = tls_ssl_new(s->srv->tls.ctx);
	s->bev = bufferevent_openssl_socket_new(s->base, s->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL)
		log_fatal("event=fatal msg=\"bufferevent_openssl_socket_new failed\"");
	s->bev_owns_fd = true;
	/* A client that closes without close_notify is an ordinary EOF. */
	bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	s->tls_handshaking = true;
	session_setup_bev(s);
	struct timeval tv = { .tv_sec = s->srv->idle_timeout, .tv_usec = 0 };
	evtimer_add(s->line_ev, &tv);
}

/* The 220 to STARTTLS is written: drop the cleartext input, start TLS. */
static void
tls_switch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	if (!s->tls_switch_pending || s->freeing || s->state == ST_CLOSING)
		return;
	s->tls_switch_pending = false;
	size_t junk = evbuffer_get_length(bufferevent_get_input(s->bev));
	if (junk > 0)
		/* Commands pipelined after STARTTLS (CVE-2011-0411): never run them. */
		log_warn(s->id, "event=starttls-injection client=%s bytes=%zu "
				"msg=\"input after STARTTLS discarded\"",
		    s->client_text, junk);
	bufferevent_free(s->bev); /* the plain one does not own the fd */
	session_tls_start(s);
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

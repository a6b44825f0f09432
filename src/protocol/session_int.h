/*
 * session_int.h - what the files of the session engine share: the states,
 * the session and transaction structs, the command table types and the
 * functions one file calls in another. Internal to src/protocol/session*.c
 * and never included elsewhere; session.h is the public interface.
 *
 *   session.c       life cycle, the readers (command line, DATA, BDAT), the
 *                   dispatcher, bufferevent callbacks, deadlines, replies
 *                   and the hook plumbing (session_hook, resume)
 *   session_cmds.c  the commands, the command tables, the SMTP and LMTP
 *                   protocol descriptions
 *   session_auth.c  AUTH: the SASL exchange, password check, slow-down
 *   session_tls.c   STARTTLS and the TLS handshake's outcome
 *   session_tx.c    the transaction: Received header, header capture,
 *                   spool commit, LMTP delivery, end-of-data replies
 *
 * Each function's contract is the comment above its definition.
 */
#ifndef MAILETD_SESSION_INT_H
#define MAILETD_SESSION_INT_H

#include "session.h"

#include "../../handlers/chain.h"
#include "../core/id.h"
#include "dataread.h"
#include "sasl.h"
#include "smtp_parse.h"

#include <event2/event.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
	size_t hdr_cap;            /* octets allocated for hdr (grown as needed) */
	/* data_line filters (hook.h): the line splitter, only when the chain
	 * has a filter, and the octets stored after the filters. */
	struct chain_lines *lines;
	uint64_t stored;
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
	char *auth_cred;            /* the auth hooks' credentials (wiped by sasl_end) */
	size_t auth_cred_len;
	struct hook_auth hook_auth; /* ... as the hooks see them */

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

	/* Plain sockets: replies written without a loop trip (session_out.c). */
	struct event *out_ev;               /* flushes the output after a pass */
	struct evbuffer_cb_entry *out_cb;   /* on the output buffer; NULL under TLS */
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

/* What runs when a hook has answered (at once, or after PENDING). */
typedef void session_hook_cont(struct session *s, struct hook_result r);

/* session.c */
struct evbuffer *session_out(struct session *s);
void session_reply(struct session *s, int code, const char *ecode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void session_reply_hook(struct session *s, const struct hook_result *r);
bool session_hook(struct session *s, enum chain_hook hook, const void *arg, struct hook_result *r,
    session_hook_cont *cont);
struct hook_result session_hook_now(struct session *s, enum chain_hook hook, const void *arg);
void session_set_state(struct session *s, enum session_state st);
void data_stage_begin(struct session *s);
void session_process(struct session *s);
void session_schedule_free(struct session *s);
void session_close(struct session *s);
void session_setup_bev(struct session *s);
void session_written(struct session *s);

/* session_out.c */
void session_out_setup(struct session *s);
void session_out_idle(struct session *s);
void session_out_release(struct session *s);
void session_out_free(struct session *s);
void session_in_more(struct session *s);

/* session_cmds.c */
void cmd_mail(struct session *s, const char *arg, size_t len);
extern const struct session_proto proto_smtp;
extern const struct session_proto proto_lmtp;

/* session_auth.c */
bool session_auth_offered(const struct session *s);
void sasl_fail(struct session *s, int code, const char *ecode, const char *text, bool with_mech);
void auth_forget(struct session *s);
void auth_slow_cb(evutil_socket_t fd, short what, void *arg);
void cmd_auth(struct session *s, const char *arg, size_t len);
void sasl_line(struct session *s, const char *line, size_t len);

/* session_tls.c */
void cmd_starttls(struct session *s, const char *arg, size_t len);
void session_tls_failed(struct session *s, const char *reason);
const char *session_tls_reason(struct session *s, char *buf, size_t len, const char *fallback);
void session_tls_active(struct session *s);
void session_tls_done(struct session *s);
void session_tls_start(struct session *s);
void tls_switch_cb(evutil_socket_t fd, short what, void *arg);

/* session_tx.c */
void tx_clear(struct session *s);
void tx_reset(struct session *s);
int tx_open_message(struct session *s);
void tx_emit(void *arg, const char *data, size_t len);
void tx_finish(struct session *s, uint64_t size, bool too_big, bool long_line, bool nul);
bool tx_line_refused(const struct session *s);

#endif

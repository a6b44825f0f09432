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
 * handler's code and text (defaults 554 / 451); DISCONNECT replies and
 * closes. Only the session writes replies.
 *
 * Configuration: a handler named in <handlerchain> may have a configure
 * function that reads its own child elements (src/config/cfg_xml.h) into a
 * configuration object; every hook call then finds it in s->conf. Core
 * handlers and handlers without configure get s->conf == NULL.
 *
 * Per-session state: *s->state is a slot owned by the handler for this
 * session (NULL at connect); whatever the handler stores there is freed
 * at disconnect with state_free (free() when state_free is NULL).
 *
 * PENDING: a hook that must wait (DNS, a worker thread) calls
 * hook_suspend(s) to get a handle, returns HOOK_PENDING, and later calls
 * hook_resume(handle, result) exactly once on the session's thread. The
 * session reads no input meanwhile and is not freed until it was resumed
 * (a resume after the client left is accepted and ignored). A resumed
 * HOOK_DECLINED lets the chain go on with the next handler. Only the
 * connect, helo, mail, rcpt, auth and message hooks may wait; elsewhere
 * (MAIL parameters, unknown command, quit, data line filters) PENDING is
 * answered 451.
 */
#ifndef MAILETD_HOOK_H
#define MAILETD_HOOK_H

#include "../src/core/netaddr.h"

#include <stdbool.h>
#include <stddef.h>

struct config;
struct cfg_server;
struct cfg_xml;
struct _xmlNode;
struct smtp_path;
struct smtp_param;
struct chain;
struct spool_msg;

enum hook_verdict {
	HOOK_DECLINED = 0,
	HOOK_OK,
	HOOK_DENY,
	HOOK_DENYSOFT,
	HOOK_DISCONNECT,
	HOOK_PENDING,
};

struct hook_result {
	enum hook_verdict verdict;
	int code;           /* 0 = the default for the verdict */
	const char *ecode;  /* enhanced status code, NULL = default (none) */
	const char *text;   /* static or handler-owned text, NULL = default */
};

#define HOOK_RESULT_DECLINED ((struct hook_result){ .verdict = HOOK_DECLINED })

struct hook_pending;
struct event_base;
struct worker_pool;

/* The session's side of a PENDING hook (set by the session). */
typedef void hook_resume_fn(void *arg, struct hook_result r);

/* A MAIL or RCPT parameter (the argument of a CHAIN_MAIL_PARAM call). */
struct hook_param {
	const char *name;   /* upper-cased keyword, NUL-terminated */
	const char *value;  /* NUL-terminated, "" for a bare keyword */
};

/* The credentials of an AUTH (PLAIN, LOGIN) for the auth hooks; not
 * NUL-terminated; valid until the AUTH command is answered (wiped then). */
struct hook_auth {
	const char *user;   /* the authentication identity (authcid) */
	size_t ulen;
	const char *pass;
	size_t plen;
	const char *mech;   /* "PLAIN" or "LOGIN" */
};

/* Longest user name an auth hook may authenticate (hook_auth_user). */
#define HOOK_AUTH_NAME_MAX 320

/* Mail attributes a message hook adds to the spool envelope. */
#define HOOK_ATTRS_MAX 20
/* Header fields MAIL/RCPT hooks add to a transaction's message. */

/* The session as handlers see it; the session keeps it current. */
struct hook_session {
	const char *id;                   /* session id for logs */
	const struct config *cfg;
	const struct cfg_server *server;
	struct netaddr client;
	const char *client_text;          /* client address as text */
	const char *helo;                 /* HELO/EHLO argument, NULL before */
	bool esmtp;                       /* EHLO (or LHLO) rather than HELO */
	bool tls_active;                  /* the connection is under TLS */
	const char *tls_version;          /* under TLS: "TLSv1.3" etc. */
	const char *tls_cipher;           /* under TLS: the cipher's name */
	bool relaying_allowed;            /* authorizedAddresses or AUTH */
	bool authenticated;               /* a successful AUTH */
	const char *auth_user;            /* the authenticated user, or NULL */
	char auth_name[HOOK_AUTH_NAME_MAX + 1]; /* auth hooks: who an OK authenticates */
	bool auth_announced;              /* EHLO offers AUTH to this client now */
	const struct smtp_path *sender;   /* NULL outside a transaction */
	/* RCPT hooks: the command's parameters (names upper-cased); only
	 * parameters some handler declares get this far. */
	const struct hook_param *rcpt_params;
	size_t nrcpt_params;
	size_t nrcpts;                    /* recipients accepted so far */
	unsigned long tx_serial;          /* changes whenever a transaction ends (RSET,
	                                     HELO/EHLO, end of message) */
	unsigned long mail_serial;        /* changes with every MAIL command (its
	                                     parameters start afresh) */
	/* Connect hooks may set a maximum life of the connection (ms, 0 =
	 * none); the session then closes it silently when it is over. */
	unsigned long long lifespan_ms;

	/* Message hooks: the header block of the message as the client sent
	 * it, after the data_line filters (before the blank line; at most
	 * HOOK_HEADERS_MAX octets kept), and its real size and number of
	 * header fields. */
	const char *headers;
	size_t headers_len;
	bool headers_truncated;           /* the block is longer than what is kept */
	size_t headers_size;              /* octets of the whole header block */
	size_t headers_fields;            /* header fields (continuations not counted) */

	/* Data line filters (data_begin, data_end): the transaction's
	 * message id, its recipients (nrcpts of them) and the "with" protocol
	 * of the Received header (ESMTPSA, LMTP, ...). NULL elsewhere. */
	const char *msgid;
	const char *const *rcpts;
	const char *protocol;
	struct spool_msg *data_msg;       /* data_begin: where hook_data_write writes */
	bool data_failed;                 /* a hook_data_write failed */

	/* Message hooks: the message being received (the spool's temporary
	 * file; read it with hook_message_fd), NULL elsewhere. */
	struct spool_msg *msg;

	/* Message hooks may add header fields on top of the message
	 * (hook_add_header); the session owns the buffer. */
	char *prepend;
	size_t prepend_len;

	/* Message hooks may add mail attributes (name, value: static or
	 * owned by the handler's configuration). */
	const char *attr_names[HOOK_ATTRS_MAX];
	const char *attr_values[HOOK_ATTRS_MAX];
	size_t nattrs;

	/* Set by the runner for each call (see the comment at the top). */
	const void *conf;
	void **state;
	void **slots;                     /* every handler's state slot (chain.h) */
	const struct chain *chain;        /* the chain the slots belong to */

	/* The session's event loop and the daemon's worker pool (may be
	 * NULL): a hook may run blocking work on the pool and resume on base. */
	struct event_base *base;
	struct worker_pool *workers;

	/* Set by the session: how a PENDING hook resumes it. */
	hook_resume_fn *resume;
	void *resume_arg;
	struct hook_pending *pending;     /* the handle of the call in progress */
};

#define HOOK_HEADERS_MAX (64 * 1024)

/*
 * Data line filters, data_line: where a line is in the stream the filter
 * sees (James's SeparatingDataLineFilter). The header block runs to the
 * first empty line (octets other than CR before its LF: none), which is
 * the separator; everything after it is body. Each filter has its own
 * view: what the earlier filters dropped or added counts.
 */
enum hook_line_where {
	HOOK_LINE_HEADER,
	HOOK_LINE_SEPARATOR,
	HOOK_LINE_BODY,
};

/* Longest piece of a line a data_line filter is given (octets, CRLF included). */
#define HOOK_LINE_MAX 8192

/*
 * One line (or piece of a line) for a data_line filter. A line longer than
 * HOOK_LINE_MAX (maxlinelength may be larger, and a longer line is
 * refused only at the end of the data) comes in pieces: every piece but
 * the last has more set, every piece but the first has cont set. A
 * piece never ends between the CR and the LF of a CRLF. The last line of
 * a BDAT message may lack CRLF (more is then false).
 */
struct hook_line {
	const char *data;             /* the octets, with the line's CRLF */
	size_t len;
	enum hook_line_where where;   /* of the line this piece belongs to */
	bool cont;                    /* continues a line given in an earlier call */
	bool more;                    /* the line goes on in a later call (unless the
	                                 message ends first) */
	/*
	 * The filter's answer when it does not pass the line on unchanged:
	 * replaced = true and out[0..out_len) (static, or the handler's own
	 * and untouched until its next call) is passed on instead: zero
	 * octets drop the line, several lines are split again for the later
	 * filters, each seeing them as lines of its own stream.
	 */
	bool replaced;
	const char *out;
	size_t out_len;
};

/* Where a hook call is: which hook, and the handler it stopped at. */
enum chain_hook {
	CHAIN_CONNECT,
	CHAIN_HELO,
	CHAIN_MAIL,
	CHAIN_MAIL_PARAM,
	CHAIN_RCPT,
	CHAIN_UNKNOWN,
	CHAIN_MESSAGE,
	CHAIN_QUIT,
	CHAIN_DISCONNECT,
	CHAIN_AUTH,
};

struct handler_def {
	const char *name;         /* mailetd's short name */
	const char *james_class;  /* the James class it stands for, or NULL */
	const char *summary;      /* one line for -t -v and docs */

	/*
	 * Reads the handler's own child elements of node (its <handler>);
	 * problems are reported with cfg_error/cfg_warn ("file:line: <elem>:
	 * reason"). Returns 0 with *conf set (may be NULL), or -1.
	 */
	int (*configure)(struct cfg_xml *x, const struct _xmlNode *node, void **conf);
	void (*conf_free)(void *conf);
	void (*state_free)(void *state);

	struct hook_result (*connect)(const struct hook_session *s);
	/* HELO/EHLO argument; ehlo_keywords may add EHLO lines (below). */
	struct hook_result (*helo)(const struct hook_session *s, const char *arg);
	/* EHLO keywords this handler contributes: up to max lines into out. */
	size_t (*ehlo_keywords)(const struct hook_session *s, const char **out, size_t max);
	struct hook_result (*mail)(const struct hook_session *s, const struct smtp_path *sender);
	/* MAIL parameters: names this handler takes (NULL-terminated) and the hook. */
	const char *const *mail_params;
	struct hook_result (*mail_param)(const struct hook_session *s, const struct hook_param *p);
	struct hook_result (*rcpt)(const struct hook_session *s, const struct smtp_path *rcpt);
	/* RCPT parameters this handler declares (NULL-terminated); any other
	 * RCPT parameter gets 504 (james.md 1b.3). */
	const char *const *rcpt_params;
	struct hook_result (*unknown)(const struct hook_session *s, const char *verb);
	/* After the end of data, before the message is committed; s->headers
	 * is set; size is the data stored (after the data_line filters). */
	struct hook_result (*message)(const struct hook_session *s, unsigned long long size);
	/* The message hook also runs when an earlier message hook answered
	 * OK (chain_run_always): for core hooks whose work must not be lost
	 * (the default attributes); it must answer HOOK_DECLINED. */
	bool message_always;
	/*
	 * Data line filters (James's DataLineFilter): run for every message,
	 * each handler that has them, in chain order (configured before core).
	 * data_begin: the data starts (DATA's 354, or the first BDAT); the
	 * filter may write lines on top of the message (hook_data_write);
	 * called from the last handler to the first, so the core Received
	 * header stays on top of what configured filters write.
	 * data_end: the data is complete, before the message hooks; size is
	 * the octets the decoder counted and too_big tells that it stopped
	 * storing at maxmessagesize (the count itself stays in the decoder,
	 * dataread.c, for speed). The first DENY, DENYSOFT or DISCONNECT
	 * answers the end of the data; OK counts as DECLINED here (no filter
	 * may spare a message the others' checks, e.g. the size limit).
	 * Neither may answer PENDING.
	 */
	void (*data_begin)(const struct hook_session *s);
	/*
	 * data_line (James's DataLineFilter.onLine): every line of the
	 * message as the client sent it (dot-unstuffed; DATA, BDAT, LMTP),
	 * after data_begin, in chain order; each filter sees what the earlier
	 * ones passed on, and what the last passes on is stored (the Received
	 * header of data_begin is not a line here). DECLINED or OK passes the
	 * line on as line->replaced says; DENY, DENYSOFT or DISCONNECT stop
	 * the filters: the rest of the message is read and thrown away and
	 * the answer is the reply to the end of the data (DATA's "." or the
	 * BDAT chunk in progress), before data_end and the message hooks; no
	 * PENDING (451). A chain without data_line costs nothing: the data
	 * is then not split into lines at all. Per-transaction state goes in
	 * the state slot (compare s->tx_serial).
	 */
	struct hook_result (*data_line)(const struct hook_session *s, struct hook_line *line);
	struct hook_result (*data_end)(const struct hook_session *s, unsigned long long size,
	    bool too_big);
	/*
	 * AUTH (James's AuthHook): checks the credentials. OK authenticates
	 * the user the hook names with hook_auth_user (before answering);
	 * DENY is 535, DENYSOFT 454; DECLINED asks the next handler, and when
	 * all decline the answer is 535. May answer PENDING (the core
	 * UsersRepositoryAuthHook hashes on the worker pool). The session's
	 * replies, failure slow-down and logs stay the same whoever answers.
	 */
	struct hook_result (*auth)(const struct hook_session *s, const struct hook_auth *a);
	struct hook_result (*quit)(const struct hook_session *s);
	/* The session ends; the result is ignored. */
	void (*disconnect)(const struct hook_session *s);
};

/*
 * PENDING (see the top): takes the handle of the hook call in progress.
 * Call only from a hook that will return HOOK_PENDING.
 */
struct hook_pending *hook_suspend(const struct hook_session *s);
/* Resumes the session with the hook's real result, on the session's thread. */
void hook_resume(struct hook_pending *p, struct hook_result r);

/*
 * The value of header field name (any case) in the message's header block,
 * index-th occurrence (0 = first), unfolded into out (outsz bytes,
 * truncated, NUL-terminated). Returns the unfolded length, or -1 when there
 * is no such field.
 */
long hook_header(const struct hook_session *s, const char *name, size_t index, char *out,
    size_t outsz);

/*
 * The per-session state of another handler of the same chain (James's
 * hooks of one extension share the transaction's state: a MAIL parameter
 * hook records, the message hook reads). NULL if def is not in the chain
 * or has no state yet.
 */
void *hook_peer_state(const struct hook_session *s, const struct handler_def *def);

/*
 * Message hooks: a new read-only descriptor on the whole message as it
 * will be delivered (the bytes at offsets 0 to the hook's size argument:
 * mailetd's Received header, then the data, dot-unstuffed, CRLF lines).
 * The caller owns it and closes it; it stays readable after the
 * transaction ends (a PENDING hook may keep reading it). -1 with errno
 * when there is no message (not a message hook) or on a write error.
 */
int hook_message_fd(const struct hook_session *s);

/* Most octets of header fields message hooks may add to one message. */
#define HOOK_PREPEND_MAX 8192

/*
 * Message hooks: adds the header field "name: value" on top of the
 * message, above mailetd's Received header (where RFC 7208 9.1 wants
 * Received-SPF); fields come out in the order added. name is a field
 * name (printable US-ASCII but ':'); value has no NUL, and no CR or LF
 * except in a fold (CRLF followed by a space or a tab, RFC 5322 2.2.3).
 * The field is added only if the message is accepted. 0, or -1 for a bad
 * name or value or when HOOK_PREPEND_MAX would be passed.
 */
int hook_add_header(const struct hook_session *s, const char *name, const char *value);

/*
 * Data line filters, data_begin: writes len octets (whole CRLF lines) on
 * top of the message data. 0, or -1 (the message will be refused 451).
 */
int hook_data_write(const struct hook_session *s, const char *data, size_t len);

/*
 * Auth hooks: names the user an OK authenticates (len octets, at most
 * HOOK_AUTH_NAME_MAX, no NUL). 0, or -1 when the name is unusable.
 */
int hook_auth_user(const struct hook_session *s, const char *name, size_t len);

/* Adds a mail attribute to the message (message hooks). 0, or -1 if full. */
int hook_set_attr(const struct hook_session *s, const char *name, const char *value);


#endif

/*
 * session_tx.c - the mail transaction of a session (see session_int.h):
 * clearing and resetting it, the Received: trace header, capturing the
 * header block for the message hooks, opening and committing the spool
 * file, LMTP delivery into the mailboxes and the replies to the end of
 * the data (one per recipient for LMTP).
 */
#include "session_int.h"

#include "../../handlers/chain.h"
#include "../config/config.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "../delivery/local.h"
#include "../spool/spool.h"
#include "reply.h"

#include <event2/event.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void tx_commit(struct session *s, struct hook_result r);

/* ---------------------------------------------------------------------- */
/* the transaction                                                        */

void
tx_clear(struct session *s)
{
	struct transaction *tx = &s->tx;
	for (size_t i = 0; i < tx->nrcpts; i++)
		free(tx->rcpts[i]);
	free(tx->rcpts);
	if (tx->msg != NULL)
		spool_msg_abort(tx->msg);
	free(tx->hdr);
	chain_lines_free(tx->lines);
	memset(tx, 0, sizeof(*tx));
	s->hs.tx_serial++;
	s->hs.headers = NULL;
	s->hs.headers_len = 0;
	s->hs.msg = NULL;
	free(s->hs.prepend); /* hook_add_header() */
	s->hs.prepend = NULL;
	s->hs.prepend_len = 0;
	s->hs.nattrs = 0;
	event_del(s->data_ev); /* every end of a transaction ends its data stage */
	s->hs.sender = NULL;
	s->hs.nrcpts = 0;
	s->hs.msgid = NULL;
	s->hs.rcpts = NULL;
	s->hs.protocol = NULL;
}

/* Ends the transaction and goes back to READY (or GREETED). */
void
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

/* Opens the spool file for a transaction. 0, or -1 after replying 451. */
int
tx_open_message(struct session *s)
{
	s->tx.msg = spool_msg_new(s->env->spool, "spool", s->tx.msgid);
	if (s->tx.msg == NULL) {
		log_error(s->id, "event=spool-error op=create errno=%d error=\"%s\"", errno,
		    strerror(errno));
		session_reply(s, 451, "4.3.0", "Error processing message: queue unavailable");
		return -1;
	}
	/* Data line filters see the start of the data: the Received header
	 * (ReceivedDataLineFilter) is written here, as the first bytes. */
	s->hs.msgid = s->tx.msgid;
	s->hs.rcpts = (const char *const *)s->tx.rcpts;
	s->hs.protocol = session_protocol(s);
	s->hs.data_msg = s->tx.msg;
	s->hs.data_failed = false;
	chain_data_begin(s->env->chain, &s->hs);
	s->hs.data_msg = NULL;
	if (s->hs.data_failed)
		s->tx.write_failed = true;
	/* Only a chain with data_line filters has the data cut into lines. */
	if (chain_has_data_line(s->env->chain))
		s->tx.lines = chain_lines_new(s->env->chain, HOOK_LINE_MAX);
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
			if (tx->hdr_len == tx->hdr_cap) {
				/* Grown as the block comes: a whole HOOK_HEADERS_MAX
				 * per message cost a heap trim (madvise) per message. */
				size_t cap = tx->hdr_cap > 0 ? tx->hdr_cap * 2 : 2048;
				if (cap > HOOK_HEADERS_MAX)
					cap = HOOK_HEADERS_MAX;
				tx->hdr = xreallocarray(tx->hdr, cap, 1);
				tx->hdr_cap = cap;
			}
			tx->hdr[tx->hdr_len++] = c;
		}
	}
}

/* Stores message data (what the data_line filters passed on, if any). */
static void
tx_store(void *arg, const char *data, size_t len)
{
	struct session *s = arg;
	if (!s->tx.hdr_done)
		tx_capture_headers(&s->tx, data, len);
	s->tx.stored += len;
	if (s->tx.write_failed || s->tx.msg == NULL)
		return;
	if (spool_msg_write(s->tx.msg, data, len) != 0)
		s->tx.write_failed = true;
}

void
tx_emit(void *arg, const char *data, size_t len)
{
	struct session *s = arg;
	if (s->tx.lines != NULL) /* after a filter's refusal it takes nothing */
		(void)chain_lines_feed(s->tx.lines, &s->hs, data, len, tx_store, s);
	else
		tx_store(s, data, len);
}

/* True once a data_line filter refused the message (the BDAT chunk ends it). */
bool
tx_line_refused(const struct session *s)
{
	return s->tx.lines != NULL && chain_lines_result(s->tx.lines).verdict != HOOK_DECLINED;
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
	spool_msg_prepend(m, s->hs.prepend, s->hs.prepend_len); /* a failure is sticky */
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

/* Answers the end of the data with a hook's refusal (per recipient in
 * LMTP; the last reply may close the connection) and ends the transaction. */
static void
tx_end_refuse(struct session *s, const struct hook_result *r)
{
	for (size_t i = 1; i < tx_end_replies(s); i++)
		session_reply(s, r->code, r->ecode, "%s", r->text);
	session_reply_hook(s, r);
	tx_reset(s);
}

/*
 * The whole message has arrived. Checks what the decoder found, asks the
 * message hooks, then commits; the 250 is sent only from commit_done().
 */
void
tx_finish(struct session *s, uint64_t size, bool too_big, bool long_line, bool nul)
{
	/* data_line filters: a last line without CRLF, then their answer,
	 * which comes before every other check of the data. */
	if (s->tx.lines != NULL) {
		struct hook_result lr = too_big ? chain_lines_result(s->tx.lines)
						: chain_lines_end(s->tx.lines, &s->hs, tx_store, s);
		if (lr.verdict != HOOK_DECLINED) {
			log_info(s->id, "event=rejected reason=line-filter code=%d", lr.code);
			tx_end_refuse(s, &lr);
			return;
		}
	}
	/* Data line filters: the end of the data (the size limit is
	 * MailSizeEsmtpExtension's decision, from the decoder's count). */
	struct hook_result r = chain_data_end(s->env->chain, &s->hs, size, too_big);
	if (r.verdict == HOOK_DECLINED && too_big) /* never queue a truncated message */
		r = chain_defaults((struct hook_result){ .verdict = HOOK_DENY, .code = 552,
		    .ecode = "5.3.4", .text = "Message size exceeds fixed maximum message size" });
	if (r.verdict != HOOK_DECLINED) {
		if (too_big)
			log_info(s->id, "event=rejected reason=size size=%" PRIu64, size);
		else
			log_info(s->id, "event=rejected reason=data-filter code=%d", r.code);
		tx_end_refuse(s, &r);
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
	s->hs.msg = s->tx.msg; /* hook_message_fd() */
	s->hs.nattrs = 0;
	/* What is stored: the filters may have changed the size (the limit
	 * above counted what the client sent). */
	s->hook_size = s->tx.lines != NULL ? s->tx.stored : size;
	if (session_hook(s, CHAIN_MESSAGE, &s->hook_size, &r, tx_commit))
		tx_commit(s, r);
}

/* The message hooks answered: refuse, or commit (the 250 comes from commit_done). */
static void
tx_commit(struct session *s, struct hook_result r)
{
	uint64_t size = s->hook_size;
	s->hs.msg = NULL; /* the message hooks are done */
	if (r.verdict == HOOK_DENY || r.verdict == HOOK_DENYSOFT || r.verdict == HOOK_DISCONNECT) {
		log_info(s->id, "event=rejected reason=message-hook code=%d", r.code);
		tx_end_refuse(s, &r);
		return;
	}
	if (s->proto->lmtp) {
		lmtp_deliver(s);
		return;
	}

	char sender[SMTP_MAILBOX_MAX + 1];
	snprintf(sender, sizeof(sender), "%s", s->tx.sender.mailbox);
	/* A message hook's OK skipped the later ones: the default attributes
	 * (AddDefaultAttributesMessageHook) are set anyway. */
	if (r.verdict == HOOK_OK)
		chain_run_always(s->env->chain, &s->hs, size);
	struct spool_attr attrs[HOOK_ATTRS_MAX];
	size_t nattrs = 0;
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
	spool_msg_prepend(m, s->hs.prepend, s->hs.prepend_len); /* a failure fails the commit */
	s->commit_pending = true;
	session_set_state(s, ST_COMMIT);
	spool_msg_commit(m, &env, s->base, commit_done, s);
}

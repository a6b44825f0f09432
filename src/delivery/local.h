/*
 * local.h - direct delivery of a received message into the recipients'
 * mailboxes (the LMTP server's default handler chain, James's
 * MailboxDeliverToRecipientHandler), one outcome per recipient.
 *
 * For each recipient, in order: the address is mapped to a user of the
 * users repository as James does (users_recipient_user: "+detail" is
 * dropped; with enableVirtualHosting the user is local@domain, else the
 * local part); an unknown user gets 550 5.1.1; a user with a quota that
 * the copy would exceed gets 452 4.2.2; otherwise a copy with
 * "Return-Path:" and "Delivered-To:" headers in front goes into the
 * user's Maildir (maildir.h) and, once it is durable there, the
 * recipient gets 250 2.1.5. A local failure gets 451 4.3.0 (452 4.3.1
 * when the disk is full, 452 4.2.2 on EDQUOT).
 *
 * Recipient rewrite table (src/rrt/rrt.h, docs/rrt.md): a recipient with
 * mappings is delivered to the local users it resolves to (aliases,
 * groups, forwards, domain mappings, in any depth), one copy per distinct
 * user, and gets one reply: 250 when every copy is durable, else the
 * first failure. LMTP has no remote delivery, so a resolution that
 * reaches an address that is not a local user, an error: mapping, a loop
 * or too many mappings refuses the recipient (550 5.1.1 with the reason)
 * and delivers nothing; local_rcpt_users is the same decision, which the
 * LMTP server's ValidRcptHandler makes at RCPT already.
 *
 * The work runs on the worker pool, never on an I/O thread; the results
 * come back on the caller's event_base.
 */
#ifndef MAILETD_LOCAL_H
#define MAILETD_LOCAL_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct event_base;
struct worker_pool;

/* The outcome for one recipient. */
struct local_result {
	int code;          /* 250, 550, 452 or 451 */
	const char *ecode; /* "2.1.5", "5.1.1", ... (static) */
	char text[400];    /* reply text, without code and enhanced code */
};

/* Called on base's thread with one result per recipient, in order;
 * res is valid during the call only. */
typedef void local_done_fn(void *arg, const struct local_result *res, size_t n);

/* What to deliver. Strings are copied by local_deliver_async. */
struct local_message {
	int fd;               /* readable, the message at offsets 0..size; taken over */
	uint64_t size;
	const char *sender;   /* reverse-path mailbox, "" for <> */
	const char *const *rcpts;
	size_t nrcpts;
	const char *log_id;   /* session id for the log lines */
};

/*
 * Starts the delivery of msg on pool; done(arg, ...) runs on base's loop
 * thread when every recipient has its outcome. cfg (data directory,
 * users repository, default domain) must outlive the job. msg->fd is
 * owned by the job from now on, also on failure. Returns 0, or -1 if the
 * pool is stopping (done is then never called).
 */
int local_deliver_async(struct worker_pool *pool, struct event_base *base,
    const struct config *cfg, const struct local_message *msg, local_done_fn *done, void *arg);

enum local_rcpt {
	LOCAL_RCPT_USERS = 0,  /* *users holds the local users (at least one) */
	LOCAL_RCPT_UNKNOWN,    /* no mapping and no such user */
	LOCAL_RCPT_REFUSED,    /* mapped, but not deliverable here: text says why */
};

/*
 * The local users rcpt (local@domain) delivers to: its mappings resolved,
 * or else the user itself (users_recipient_user). On LOCAL_RCPT_USERS,
 * *users (caller frees each and the array) gets *nusers distinct user
 * names; on LOCAL_RCPT_REFUSED, text (textsz) gets a reason suitable for
 * a reply. Reads the users repository and the table: worker threads.
 * Untrusted input.
 */
enum local_rcpt local_rcpt_users(const struct config *cfg, const char *rcpt, char ***users,
    size_t *nusers, char *text, size_t textsz);

/*
 * The same, synchronously, on the calling thread (worker threads and
 * tests only): fills res[0..msg->nrcpts). Does not close msg->fd.
 */
void local_deliver(const struct config *cfg, const struct local_message *msg,
    struct local_result *res);

#endif

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

/*
 * The same, synchronously, on the calling thread (worker threads and
 * tests only): fills res[0..msg->nrcpts). Does not close msg->fd.
 */
void local_deliver(const struct config *cfg, const struct local_message *msg,
    struct local_result *res);

#endif

/*
 * spamd.h - a client of SpamAssassin's spamd (the SPAMC/SPAMD protocol,
 * spamd(8), "CHECK" method), for SpamAssassinHandler.
 *
 * spamd_check() connects to spamd with a non-blocking socket on the
 * caller's event_base, sends
 *
 *   CHECK SPAMC/1.5\r\n
 *   Content-length: <size>\r\n
 *   \r\n
 *   <the message>
 *
 * and reads the reply until spamd closes the connection. Everything runs
 * on the caller's loop thread; the message is sent from a file descriptor
 * (libevent sends it with sendfile where it can), nothing blocks.
 */
#ifndef MAILETD_SPAMD_H
#define MAILETD_SPAMD_H

#include "../../src/core/netaddr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* The longest reply spamd_check() accepts (a CHECK reply is a few lines). */
#define SPAMD_REPLY_MAX 4096
/* Longest score or threshold text kept ("-12.5", "1000.0"). */
#define SPAMD_NUM_MAX 15

/* What spamd said about a message. */
struct spamd_result {
	bool spam;                          /* "True"/"Yes" */
	double score;
	char score_text[SPAMD_NUM_MAX + 1]; /* as spamd wrote it */
	char threshold_text[SPAMD_NUM_MAX + 1];
};

/*
 * Parses a complete spamd reply to CHECK (buf, len: every byte received
 * before spamd closed; untrusted network input, may hold NULs). Strict:
 *
 *   SPAMD/<digits>.<digits> 0 EX_OK CRLF
 *   header lines "Name: value" CRLF, among them exactly one
 *     "Spam: (True|False|Yes|No) ; <score> / <threshold>"
 *     and at most one "Content-length: <digits>"
 *   CRLF
 *   exactly Content-length more octets (none when absent)
 *
 * Numbers are an optional '-', digits, optionally '.' and digits (at most
 * SPAMD_NUM_MAX characters). Lines end with CRLF only. Returns 0 with *r
 * filled, or -1 with *why set to a static reason (also for a reply whose
 * code is not 0, such as "SPAMD/1.0 76 Bad header line").
 */
int spamd_reply_parse(const char *buf, size_t len, struct spamd_result *r, const char **why);

/*
 * The outcome of spamd_check(): err is 0 and r is the verdict, or err is
 * an errno value (ETIMEDOUT, ECONNREFUSED, EPROTO for a reply that does
 * not parse ...) with a short reason in why, and r is NULL. Runs on the
 * loop thread of the base given to spamd_check(), exactly once, never
 * from within spamd_check().
 */
typedef void spamd_done_fn(void *arg, int err, const char *why, const struct spamd_result *r);

/*
 * Asks spamd at addr:port (port in addr) about the message in fd (size
 * octets from offset 0; fd is taken over and closed). The whole exchange
 * must end within timeout_ms. Returns 0 (done will run), or -1 with errno
 * when nothing could be started (fd is closed then too).
 */
int spamd_check(struct event_base *base, const struct sockaddr *addr, socklen_t addrlen, int fd,
    uint64_t size, unsigned timeout_ms, spamd_done_fn *done, void *arg);

#endif

/*
 * session.h - one SMTP session on one connection (RFC 5321).
 *
 * The session is a table-driven state machine (see the command table in
 * session_cmds.c): it reads bounded lines, answers pipelined commands in order,
 * streams DATA and BDAT into the spool, and asks the handler chain for
 * every policy decision. It lives on one I/O thread and is only touched
 * by that thread.
 */
#ifndef MAILETD_SESSION_H
#define MAILETD_SESSION_H

#include <openssl/ssl.h>

#include <stdbool.h>
#include <sys/socket.h>

struct event_base;
struct config;
struct cfg_server;
struct spool;
struct chain;
struct worker_pool;
struct session;

/* What a listener gives each of its sessions; outlives them. */
struct session_env {
	const struct config *cfg;
	const struct cfg_server *server;
	struct spool *spool;
	const struct chain *chain;
	struct worker_pool *workers; /* password checks of AUTH */
};

/* Called once when the session has been torn down (fd closed). */
typedef void (*session_closed_fn)(void *arg);

/*
 * Starts a session on the connected socket fd (owned from now on) on base:
 * runs the connect hooks and sends the greeting. peer is the client's
 * address. closed(arg) runs on base's thread after the session is freed.
 * On a server with <tls socketTLS="true"> the connection starts with the
 * TLS handshake (the greeting follows it); with startTLS="true" the
 * session offers STARTTLS and switches the same socket to TLS itself.
 */
struct session *session_new(struct event_base *base, int fd, const struct sockaddr *peer,
    const struct session_env *env, session_closed_fn closed, void *arg);

/*
 * The same on a connection whose TLS handshake the listener has already
 * done (ssl, open, bound to fd: <proxyFirst>false</proxyFirst>); the
 * session owns ssl from now on.
 */
struct session *session_new_tls(struct event_base *base, int fd, SSL *ssl,
    const struct sockaddr *peer, const struct session_env *env, session_closed_fn closed,
    void *arg);

/*
 * Asks the session to end because the daemon stops. force=false: a
 * session outside a mail transaction gets 421 and is closed now; one in a
 * transaction finishes it (the client gets its 250) and then gets 421.
 * force=true: whatever is in progress is abandoned (nothing acknowledged
 * is lost: a message being committed still gets committed), 421, close.
 */
void session_shutdown(struct session *s, bool force);

#endif

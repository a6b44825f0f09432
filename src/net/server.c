/* server.c - listeners, I/O threads, limits, shutdown (see server.h). */
#include "server.h"

#include "../../handlers/chain.h"
#include "../config/config.h"
#include "../core/log.h"
#include "../core/netaddr.h"
#include "../core/xcall.h"
#include "../core/xmalloc.h"
#include "../protocol/session.h"
#include "proxy.h"
#include "tls.h"

#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct iothread;
struct server;

/* Per-IP connection counts of one <smtpserver>: a small chained hash. */
struct ipcount {
	struct netaddr addr;
	unsigned n;
	struct ipcount *next;
};

#define IPTAB_SIZE 1024

/* One configured server (<smtpserver> block) at run time. */
struct srvctx {
	struct server *server;
	struct session_env env;
	atomic_uint active;
	pthread_mutex_t iplock;
	struct ipcount *iptab[IPTAB_SIZE];
};

struct conn {
	struct srvctx *ctx;
	struct iothread *thread;
	struct session *session;
	struct proxy_reader *proxy;   /* reading the PROXY header (no session yet) */
	SSL *ssl;                     /* proxyFirst=false: TLS done before the header */
	struct netaddr addr;          /* the client: the proxied source with PROXY */
	struct sockaddr_storage peer;
	bool ip_counted;              /* addr holds a connectionLimitPerIP slot */
	int fd;
	TAILQ_ENTRY(conn) link;
};

TAILQ_HEAD(connlist, conn);

/* A listening socket, shared by the listeners every I/O thread has on it. */
struct lsock {
	int fd;
	atomic_uint users; /* listeners still open on it; the last one closes fd */
};

/* One I/O thread's listener on one listening socket. */
struct tlistener {
	struct evconnlistener *lev; /* NULL once freed */
	struct srvctx *ctx;
	struct iothread *thread;
	struct lsock *sock;
};

struct iothread {
	struct server *server;
	pthread_t tid;
	struct event_base *base;
	struct connlist conns; /* touched only by this thread */
	unsigned index;
};

/* A UNIX socket file this server made (removed when it stops). */
struct unix_sock {
	const char *path; /* in the configuration */
	dev_t dev;
	ino_t ino;
};

struct server {
	const struct config *cfg;
	struct event_base *base; /* the acceptor's loop */
	struct iothread *threads;
	unsigned nthreads;
	unsigned next_thread;
	struct srvctx *ctxs;
	size_t nctxs;
	struct lsock *socks;         /* one per bound address */
	size_t nsocks;
	struct tlistener *listeners; /* nsocks x nthreads */
	size_t nlisteners;
	atomic_bool refusing;        /* stopping: accepted connections get 421 */
	struct unix_sock *unixes;
	size_t nunixes;
	atomic_uint active;      /* connections of all servers */
	struct event *sigterm, *sigint, *sighup, *tick;
	bool stopping;
	bool forced;
	time_t stop_started;
};

/* ---------------------------------------------------------------------- */
/* per-IP counting                                                        */

static unsigned
ip_hash(const struct netaddr *a)
{
	size_t len = a->family == AF_INET ? 4 : 16;
	unsigned h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ a->addr[i]) * 16777619u;
	return h % IPTAB_SIZE;
}

static bool
ip_equal(const struct netaddr *a, const struct netaddr *b)
{
	return a->family == b->family &&
	    memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

/* Counts a connection from a; returns false (and counts nothing) if that
 * would exceed limit (0 = unlimited). */
static bool
ip_acquire(struct srvctx *c, const struct netaddr *a, unsigned limit)
{
	unsigned h = ip_hash(a);
	bool ok = true;
	pthread_mutex_lock(&c->iplock);
	struct ipcount *e = c->iptab[h];
	while (e != NULL && !ip_equal(&e->addr, a))
		e = e->next;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->addr = *a;
		e->next = c->iptab[h];
		c->iptab[h] = e;
	}
	/* A new entry has n == 0 < limit, so it is never left at zero. */
	if (limit > 0 && e->n >= limit)
		ok = false;
	else
		e->n++;
	pthread_mutex_unlock(&c->iplock);
	return ok;
}

static void
ip_release(struct srvctx *c, const struct netaddr *a)
{
	unsigned h = ip_hash(a);
	pthread_mutex_lock(&c->iplock);
	for (struct ipcount **pp = &c->iptab[h]; *pp != NULL; pp = &(*pp)->next) {
		struct ipcount *e = *pp;
		if (!ip_equal(&e->addr, a))
			continue;
		if (--e->n == 0) {
			*pp = e->next;
			free(e);
		}
		break;
	}
	pthread_mutex_unlock(&c->iplock);
}

/* ---------------------------------------------------------------------- */
/* I/O threads                                                            */

static void *
iothread_main(void *arg)
{
	struct iothread *t = arg;
	event_base_loop(t->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* Runs on the I/O thread when a session has been freed. */
static void
conn_closed(void *arg)
{
	struct conn *c = arg;
	struct iothread *t = c->thread;
	TAILQ_REMOVE(&t->conns, c, link);
	if (c->ip_counted)
		ip_release(c->ctx, &c->addr);
	atomic_fetch_sub(&c->ctx->active, 1);
	atomic_fetch_sub(&c->ctx->server->active, 1);
	free(c);
}

static void refuse(int fd, const char *text);

/*
 * The PROXY header of c has been read (h) or not (h NULL, why). Only a
 * TCP client address is accepted; from here on that address is the
 * client for the session (relaying, AUTH announce, Received, logs) and
 * for connectionLimitPerIP. A bad header closes without a reply.
 */
static void
conn_proxy_done(void *arg, const struct proxy_header *h, const char *why)
{
	struct conn *c = arg;
	const struct cfg_server *cs = c->ctx->env.server;
	char sock[INET6_ADDRSTRLEN], client[INET6_ADDRSTRLEN];
	c->proxy = NULL;
	netaddr_format(&c->addr, sock, sizeof(sock));
	if (h != NULL && !proxy_has_client(h))
		why = h->command == PROXY_CMD_LOCAL ? "LOCAL command (no client address)"
						    : "not a TCP client over IPv4 or IPv6";
	if (h == NULL || !proxy_has_client(h)) {
		log_info(NULL, "event=proxy-refused proxy=%s server=%s reason=\"%s\"", sock,
		    cs->name, why);
		SSL_free(c->ssl);
		close(c->fd);
		conn_closed(c);
		return;
	}
	c->addr = h->src;
	netaddr_to_sockaddr(&h->src, h->sport, &c->peer, &(socklen_t){ 0 });
	netaddr_format(&c->addr, client, sizeof(client));
	log_info(NULL, "event=proxy proxy=%s client=%s port=%u version=%d server=%s", sock, client,
	    h->sport, h->version, cs->name);
	if (!ip_acquire(c->ctx, &c->addr, cs->conn_limit_per_ip)) {
		log_warn(NULL,
		    "event=refused reason=connection-limit-per-ip client=%s server=%s limit=%u",
		    client, cs->name, cs->conn_limit_per_ip);
		if (c->ssl != NULL) {
			/* Inside TLS a cleartext 421 would be noise: just close. */
			SSL_free(c->ssl);
			close(c->fd);
		} else {
			refuse(c->fd,
			    "421 4.7.0 Too many connections from your address, try again later\r\n");
		}
		conn_closed(c);
		return;
	}
	c->ip_counted = true;
	if (c->ssl != NULL) {
		SSL *ssl = c->ssl;
		c->ssl = NULL; /* the session owns it now */
		c->session = session_new_tls(c->thread->base, c->fd, ssl,
		    (struct sockaddr *)&c->peer, &c->ctx->env, conn_closed, c);
		return;
	}
	c->session = session_new(c->thread->base, c->fd, (struct sockaddr *)&c->peer,
	    &c->ctx->env, conn_closed, c);
}

/*
 * Runs on the I/O thread: the connection becomes a session, after its
 * PROXY header where one is required (read before the greeting and before
 * any TLS handshake, within connectiontimeout).
 */
static void
conn_start(void *arg)
{
	struct conn *c = arg;
	const struct cfg_server *cs = c->ctx->env.server;
	TAILQ_INSERT_TAIL(&c->thread->conns, c, link);
	if (cs->proxy_required && cs->tls.socket_tls && !cs->proxy_first) {
		/* James's proxyFirst=false: TLS first, the header inside it. */
		c->ssl = tls_ssl_new(cs->tls.ctx);
		c->proxy = proxy_reader_new_tls(c->thread->base, c->fd, c->ssl, cs->idle_timeout,
		    conn_proxy_done, c);
		return;
	}
	if (cs->proxy_required) {
		c->proxy = proxy_reader_new(c->thread->base, c->fd, cs->idle_timeout,
		    conn_proxy_done, c);
		return;
	}
	c->session = session_new(c->thread->base, c->fd, (struct sockaddr *)&c->peer,
	    &c->ctx->env, conn_closed, c);
}

static void thread_close_listeners(struct iothread *t);

struct shutdown_req {
	struct iothread *thread;
	bool force;
};

static void
thread_shutdown(void *arg)
{
	struct shutdown_req *r = arg;
	struct conn *c, *next;
	thread_close_listeners(r->thread);
	/* session_shutdown never frees synchronously, so the walk is safe. */
	for (c = TAILQ_FIRST(&r->thread->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->session == NULL) {
			/* Still waiting for its PROXY header: nothing to finish. */
			proxy_reader_free(c->proxy);
			SSL_free(c->ssl);
			close(c->fd);
			conn_closed(c);
			continue;
		}
		session_shutdown(c->session, r->force);
	}
	free(r);
}

static void
thread_stop(void *arg)
{
	struct iothread *t = arg;
	event_base_loopbreak(t->base);
}

static void
server_tell_threads(struct server *srv, bool force)
{
	for (unsigned i = 0; i < srv->nthreads; i++) {
		struct shutdown_req *r = xmalloc(sizeof(*r));
		r->thread = &srv->threads[i];
		r->force = force;
		xcall(srv->threads[i].base, thread_shutdown, r);
	}
}

/* ---------------------------------------------------------------------- */
/* accepting                                                              */

static void
refuse(int fd, const char *text)
{
	/* Best effort: a short reply fits the socket buffer; never block. */
	(void)!send(fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct tlistener *tl = arg;
	struct srvctx *ctx = tl->ctx;
	struct server *srv = ctx->server;
	const struct cfg_server *cs = ctx->env.server;
	(void)lev;

	struct netaddr addr;
	char text[INET6_ADDRSTRLEN] = "unknown";
	if (sa->sa_family == AF_UNIX) {
		/* A local client on a UNIX socket (LMTP): counted as one address. */
		memset(&addr, 0, sizeof(addr));
		addr.family = AF_UNIX;
		snprintf(text, sizeof(text), "unix");
	} else if (netaddr_from_sockaddr(sa, &addr) != 0) {
		close(fd);
		return;
	} else {
		netaddr_format(&addr, text, sizeof(text));
	}
	if (atomic_load(&srv->refusing)) {
		refuse(fd, "421 4.3.2 Service shutting down\r\n");
		return;
	}
	if (cs->conn_limit > 0 && atomic_load(&ctx->active) >= cs->conn_limit) {
		log_warn(NULL, "event=refused reason=connection-limit client=%s server=%s limit=%u",
		    text, cs->name, cs->conn_limit);
		refuse(fd, "421 4.7.0 Too many connections, try again later\r\n");
		return;
	}
	/* Behind a proxy the client is known only from the header (conn_proxy_done). */
	if (!cs->proxy_required && !ip_acquire(ctx, &addr, cs->conn_limit_per_ip)) {
		log_warn(NULL,
		    "event=refused reason=connection-limit-per-ip client=%s server=%s limit=%u",
		    text, cs->name, cs->conn_limit_per_ip);
		refuse(fd, "421 4.7.0 Too many connections from your address, try again later\r\n");
		return;
	}
	int one = 1;
	if (sa->sa_family != AF_UNIX) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	}

	struct conn *c = xcalloc(1, sizeof(*c));
	c->ctx = ctx;
	c->addr = addr;
	c->ip_counted = !cs->proxy_required;
	c->fd = fd;
	memcpy(&c->peer, sa, (size_t)salen < sizeof(c->peer) ? (size_t)salen : sizeof(c->peer));
	c->thread = tl->thread; /* the session stays on the thread that accepted it */
	atomic_fetch_add(&ctx->active, 1);
	atomic_fetch_add(&srv->active, 1);
	conn_start(c);
}

/* Frees tl's listener; the last listener on its socket closes the socket. */
static void
tlistener_free(struct tlistener *tl)
{
	if (tl->lev == NULL)
		return;
	evconnlistener_free(tl->lev);
	tl->lev = NULL;
	if (atomic_fetch_sub(&tl->sock->users, 1) == 1)
		close(tl->sock->fd);
}

/* Runs on an I/O thread: it accepts no more (stopping). */
static void
thread_close_listeners(struct iothread *t)
{
	struct server *srv = t->server;
	for (size_t i = 0; i < srv->nlisteners; i++)
		if (srv->listeners[i].thread == t)
			tlistener_free(&srv->listeners[i]);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	(void)lev;
	(void)arg;
	int err = EVUTIL_SOCKET_ERROR();
	/* EMFILE and friends: log and keep going; libevent retries. */
	log_error(NULL, "event=accept-error errno=%d error=\"%s\"", err, strerror(err));
}

/* Mode of a UNIX socket we create: anyone on the host may connect, as to
 * a loopback port; restrict access with the directory that holds it. */
#define UNIX_SOCKET_MODE 0666

/*
 * Creates a listening UNIX-domain socket at b's path. A socket file left
 * there (by an earlier run) is replaced; anything else at that path is
 * an error and is left alone. Returns the fd or -1 with err set.
 */
static int
listen_unix(const struct cfg_bind *b, int backlog, char *err, size_t errlen)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)(const void *)&b->ss;
	struct stat st;
	if (lstat(sun->sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "cannot bind %s: the path exists and is not a socket",
			    b->text);
			return -1;
		}
		if (unlink(sun->sun_path) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot replace the old socket %s: %s", b->text,
			    strerror(errno));
			return -1;
		}
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket for %s: %s", b->text, strerror(errno));
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&b->ss, b->sslen) != 0 ||
	    chmod(sun->sun_path, UNIX_SOCKET_MODE) != 0) {
		snprintf(err, errlen, "cannot bind %s: %s", b->text, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", b->text, strerror(errno));
		unlink(sun->sun_path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Remembers the socket file just made for b, to remove it at the end. */
static void
unix_remember(struct server *srv, const struct cfg_bind *b)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)(const void *)&b->ss;
	struct stat st;
	if (lstat(sun->sun_path, &st) != 0)
		return;
	srv->unixes = xreallocarray(srv->unixes, srv->nunixes + 1, sizeof(*srv->unixes));
	srv->unixes[srv->nunixes++] = (struct unix_sock){ sun->sun_path, st.st_dev, st.st_ino };
}

/* Removes the socket files we made, if they are still ours. */
static void
unix_remove_all(struct server *srv)
{
	for (size_t i = 0; i < srv->nunixes; i++) {
		struct stat st;
		const struct unix_sock *u = &srv->unixes[i];
		if (lstat(u->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == u->dev &&
		    st.st_ino == u->ino)
			unlink(u->path);
	}
	srv->nunixes = 0;
}

/* Creates a listening socket for b. Returns the fd or -1 with err set. */
static int
listen_socket(const struct cfg_bind *b, int backlog, char *err, size_t errlen)
{
	if (b->ss.ss_family == AF_UNIX)
		return listen_unix(b, backlog, err, errlen);
	int fd = socket(b->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket for %s: %s", b->text, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (b->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&b->ss, b->sslen) != 0) {
		snprintf(err, errlen, "cannot bind %s: %s", b->text, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", b->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---------------------------------------------------------------------- */
/* signals and shutdown                                                   */

static void
server_finish(struct server *srv)
{
	for (unsigned i = 0; i < srv->nthreads; i++)
		xcall(srv->threads[i].base, thread_stop, &srv->threads[i]);
	event_base_loopbreak(srv->base);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	unsigned active = atomic_load(&srv->active);
	if (active == 0) {
		log_info(NULL, "event=stopped msg=\"all sessions closed\"");
		server_finish(srv);
		return;
	}
	time_t waited = time(NULL) - srv->stop_started;
	if (!srv->forced && waited >= (time_t)srv->cfg->main.shutdown_grace) {
		log_warn(NULL, "event=shutdown-grace-expired sessions=%u", active);
		srv->forced = true;
		server_tell_threads(srv, true);
	}
	/* Forced sessions close at once; only commits in flight remain. */
	if (srv->forced && waited >= (time_t)srv->cfg->main.shutdown_grace + 30) {
		log_error(NULL, "event=shutdown-stuck sessions=%u", active);
		server_finish(srv);
	}
}

static void
server_stop(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	atomic_store(&srv->refusing, true);
	srv->stop_started = time(NULL);
	log_info(NULL, "event=stopping sessions=%u grace=%us", atomic_load(&srv->active),
	    srv->cfg->main.shutdown_grace);
	unix_remove_all(srv);
	/* Each I/O thread frees its own listeners first (thread_shutdown); the
	 * last one on a socket closes it, and new clients are refused. */
	server_tell_threads(srv, false);
	struct timeval tv = { 0, 100 * 1000 };
	event_add(srv->tick, &tv);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct server *srv = arg;
	if (sig == SIGHUP) {
		log_warn(NULL, "event=sighup msg=\"configuration reload is not supported yet; "
			       "restart to apply changes\"");
		return;
	}
	log_info(NULL, "event=signal signal=%s", sig == SIGTERM ? "TERM" : "INT");
	server_stop(srv);
}

/* ---------------------------------------------------------------------- */
/* construction                                                           */

struct server *
server_new(const struct config *cfg, struct spool *spool, struct worker_pool *workers,
    char *err, size_t errlen)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	srv->cfg = cfg;
	srv->base = event_base_new();
	if (srv->base == NULL) {
		snprintf(err, errlen, "cannot create the event loop");
		free(srv);
		return NULL;
	}

	srv->nctxs = cfg->nservers;
	srv->ctxs = xcalloc(srv->nctxs ? srv->nctxs : 1, sizeof(*srv->ctxs));
	size_t nbinds = 0;
	for (size_t i = 0; i < cfg->nservers; i++) {
		struct srvctx *c = &srv->ctxs[i];
		c->server = srv;
		c->env.cfg = cfg;
		c->env.server = &cfg->servers[i];
		c->env.spool = spool;
		c->env.workers = workers;
		c->env.chain = cfg->servers[i].chain != NULL ? cfg->servers[i].chain : chain_core();
		pthread_mutex_init(&c->iplock, NULL);
		if (cfg->servers[i].enabled)
			nbinds += cfg->servers[i].nbinds;
	}
	srv->nthreads = cfg->io_workers > 0 ? cfg->io_workers : 1;
	srv->threads = xcalloc(srv->nthreads, sizeof(*srv->threads));
	for (unsigned i = 0; i < srv->nthreads; i++) {
		struct iothread *t = &srv->threads[i];
		t->server = srv;
		t->index = i;
		TAILQ_INIT(&t->conns);
		t->base = event_base_new();
		if (t->base == NULL) {
			snprintf(err, errlen, "cannot create an I/O event loop");
			server_free(srv);
			return NULL;
		}
	}
	srv->socks = xcalloc(nbinds ? nbinds : 1, sizeof(*srv->socks));
	srv->listeners = xcalloc((nbinds ? nbinds : 1) * srv->nthreads, sizeof(*srv->listeners));
	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct cfg_server *cs = &cfg->servers[i];
		if (!cs->enabled)
			continue;
		for (size_t j = 0; j < cs->nbinds; j++) {
			int fd = listen_socket(&cs->binds[j], cs->backlog, err, errlen);
			if (fd < 0) {
				server_free(srv);
				return NULL;
			}
			if (cs->binds[j].ss.ss_family == AF_UNIX)
				unix_remember(srv, &cs->binds[j]);
			/*
			 * Every I/O thread listens on the socket and serves what
			 * it accepts: no hand-off from an acceptor thread (one
			 * thread wake-up less per connection), and a busy thread
			 * accepts only when its loop comes round.
			 */
			struct lsock *ls = &srv->socks[srv->nsocks++];
			ls->fd = fd;
			atomic_init(&ls->users, 0);
			for (unsigned k = 0; k < srv->nthreads; k++) {
				struct tlistener *tl = &srv->listeners[srv->nlisteners];
				tl->ctx = &srv->ctxs[i];
				tl->thread = &srv->threads[k];
				tl->sock = ls;
				/* backlog 0: listen_socket has called listen() */
				tl->lev = evconnlistener_new(tl->thread->base, accept_cb, tl, 0, 0, fd);
				if (tl->lev == NULL) {
					snprintf(err, errlen, "cannot listen on %s", cs->binds[j].text);
					if (k == 0)
						close(fd);
					server_free(srv);
					return NULL;
				}
				atomic_fetch_add(&ls->users, 1);
				srv->nlisteners++;
				evconnlistener_set_error_cb(tl->lev, accept_error_cb);
			}
			log_info(NULL, "event=listening server=%s bind=%s", cs->name,
			    cs->binds[j].text);
		}
	}

	srv->sigterm = evsignal_new(srv->base, SIGTERM, signal_cb, srv);
	srv->sigint = evsignal_new(srv->base, SIGINT, signal_cb, srv);
	srv->sighup = evsignal_new(srv->base, SIGHUP, signal_cb, srv);
	srv->tick = event_new(srv->base, -1, EV_PERSIST, tick_cb, srv);
	if (srv->sigterm == NULL || srv->sigint == NULL || srv->sighup == NULL ||
	    srv->tick == NULL || event_add(srv->sigterm, NULL) != 0 ||
	    event_add(srv->sigint, NULL) != 0 || event_add(srv->sighup, NULL) != 0) {
		snprintf(err, errlen, "cannot install signal handlers");
		server_free(srv);
		return NULL;
	}
	return srv;
}

int
server_run(struct server *srv)
{
	for (unsigned i = 0; i < srv->nthreads; i++) {
		int e = pthread_create(&srv->threads[i].tid, NULL, iothread_main, &srv->threads[i]);
		if (e != 0)
			log_fatal("event=fatal msg=\"cannot start an I/O thread: %s\"", strerror(e));
	}
	log_info(NULL, "event=started io_threads=%u", srv->nthreads);
	event_base_loop(srv->base, EVLOOP_NO_EXIT_ON_EMPTY);
	for (unsigned i = 0; i < srv->nthreads; i++) {
		pthread_join(srv->threads[i].tid, NULL);
		srv->threads[i].tid = 0;
	}
	return 0;
}

void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	/* Listeners the threads did not free (they never ran, or a failed start). */
	for (size_t i = 0; i < srv->nlisteners; i++)
		tlistener_free(&srv->listeners[i]);
	free(srv->listeners);
	free(srv->socks);
	unix_remove_all(srv);
	free(srv->unixes);
	if (srv->sigterm)
		event_free(srv->sigterm);
	if (srv->sigint)
		event_free(srv->sigint);
	if (srv->sighup)
		event_free(srv->sighup);
	if (srv->tick)
		event_free(srv->tick);
	for (unsigned i = 0; srv->threads != NULL && i < srv->nthreads; i++)
		if (srv->threads[i].base != NULL)
			event_base_free(srv->threads[i].base);
	free(srv->threads);
	for (size_t i = 0; i < srv->nctxs; i++) {
		struct srvctx *c = &srv->ctxs[i];
		for (size_t h = 0; h < IPTAB_SIZE; h++)
			while (c->iptab[h] != NULL) {
				struct ipcount *e = c->iptab[h];
				c->iptab[h] = e->next;
				free(e);
			}
		pthread_mutex_destroy(&c->iplock);
	}
	free(srv->ctxs);
	event_base_free(srv->base);
	free(srv);
}

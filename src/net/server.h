/*
 * server.h - the network side: listeners, I/O threads, connection limits,
 * signals and graceful shutdown.
 *
 * N I/O threads, each with its own event_base, all listen on every
 * listening socket; the thread that accepts a connection checks it
 * against connectionLimit and connectionLimitPerIP and serves its session
 * until it closes (no hand-off between threads). The calling thread's
 * loop handles signals and the shutdown.
 */
#ifndef MAILETD_SERVER_H
#define MAILETD_SERVER_H

#include <stddef.h>

struct config;
struct spool;
struct server;
struct worker_pool;

/*
 * Creates the I/O threads' loops and binds every enabled server's
 * addresses. On failure returns NULL with a reason ("cannot bind
 * 127.0.0.1:25: Permission denied") in err. cfg, spool and workers (the
 * pool that checks AUTH passwords) must outlive it.
 */
struct server *server_new(const struct config *cfg, struct spool *spool,
    struct worker_pool *workers, char *err, size_t errlen);

/*
 * Runs until SIGTERM or SIGINT, then stops accepting, lets sessions finish
 * for up to <shutdownGracePeriod> seconds, closes the rest, and returns 0.
 */
int server_run(struct server *srv);

/* Frees everything; server_free(NULL) is a no-op. */
void server_free(struct server *srv);

#endif

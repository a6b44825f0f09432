/*
 * worker.h - a small pool of threads for work that must not run on an
 * I/O thread (password hashing, later other blocking calls).
 *
 * A job is two functions: work(arg) runs on one of the pool's threads;
 * then done(arg) runs on the event_base given at submission, posted there
 * with xcall, so the job's owner (a session on its I/O thread) only ever
 * sees its state on its own thread. Jobs start in submission order.
 */
#ifndef MAILETD_WORKER_H
#define MAILETD_WORKER_H

#include <stddef.h>

struct event_base;
struct worker_pool;

typedef void worker_fn(void *arg);

/*
 * Starts nthreads threads (at least 1). The caller owns the pool and
 * frees it with worker_pool_free(). Aborts if a thread cannot be started.
 */
struct worker_pool *worker_pool_new(unsigned nthreads);

/*
 * Queues a job. work(arg) runs on a worker thread; afterwards done(arg)
 * runs on base's loop thread (base NULL: done, if not NULL, runs on the
 * worker thread right after work). arg is owned by the caller throughout;
 * done is the place to free it. Thread-safe. Returns 0, or -1 when the
 * pool is shutting down (nothing runs).
 */
int worker_submit(struct worker_pool *pool, worker_fn *work, worker_fn *done, void *arg,
    struct event_base *base);

/* Number of jobs queued and not yet started. */
size_t worker_pending(struct worker_pool *pool);

/*
 * Stops the pool: jobs already queued still run (their done calls are
 * posted), then the threads are joined and the pool freed. The event
 * bases that will receive done calls must outlive this call's posts.
 * NULL is a no-op.
 */
void worker_pool_free(struct worker_pool *pool);

#endif

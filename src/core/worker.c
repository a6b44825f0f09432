/* worker.c - a small thread pool whose jobs finish on an event_base (see worker.h). */
#include "worker.h"

#include "log.h"
#include "xcall.h"
#include "xmalloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct worker_job {
	worker_fn *work;
	worker_fn *done;
	void *arg;
	struct event_base *base;
	struct worker_job *next;
};

struct worker_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct worker_job *head, *tail; /* FIFO of queued jobs */
	size_t pending;
	bool stopping;
	pthread_t *threads;
	unsigned nthreads;
};

/* A worker thread: takes jobs until the pool stops and the queue is empty. */
static void *
worker_main(void *p)
{
	struct worker_pool *pool = p;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->head == NULL && !pool->stopping)
			pthread_cond_wait(&pool->cond, &pool->lock);
		struct worker_job *j = pool->head;
		if (j == NULL)
			break; /* stopping and drained */
		pool->head = j->next;
		if (pool->head == NULL)
			pool->tail = NULL;
		pool->pending--;
		pthread_mutex_unlock(&pool->lock);

		j->work(j->arg);
		if (j->done != NULL) {
			if (j->base != NULL)
				xcall(j->base, j->done, j->arg);
			else
				j->done(j->arg);
		}
		free(j);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

struct worker_pool *
worker_pool_new(unsigned nthreads)
{
	struct worker_pool *pool = xcalloc(1, sizeof(*pool));

	if (nthreads == 0)
		nthreads = 1;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	pool->threads = xcalloc(nthreads, sizeof(*pool->threads));
	for (unsigned i = 0; i < nthreads; i++) {
		int rc = pthread_create(&pool->threads[i], NULL, worker_main, pool);
		if (rc != 0)
			log_fatal("event=fatal msg=\"cannot start a worker thread: %s\"",
			    strerror(rc));
		pool->nthreads++;
	}
	return pool;
}

int
worker_submit(struct worker_pool *pool, worker_fn *work, worker_fn *done, void *arg,
    struct event_base *base)
{
	struct worker_job *j = xcalloc(1, sizeof(*j));

	j->work = work;
	j->done = done;
	j->arg = arg;
	j->base = base;
	pthread_mutex_lock(&pool->lock);
	if (pool->stopping) {
		pthread_mutex_unlock(&pool->lock);
		free(j);
		return -1;
	}
	if (pool->tail != NULL)
		pool->tail->next = j;
	else
		pool->head = j;
	pool->tail = j;
	pool->pending++;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

size_t
worker_pending(struct worker_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	size_t n = pool->pending;
	pthread_mutex_unlock(&pool->lock);
	return n;
}

void
worker_pool_free(struct worker_pool *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	free(pool->threads);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

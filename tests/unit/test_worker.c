/* test_worker.c - unit tests of the worker pool. */
#include "../../src/core/worker.h"

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define NJOBS 200

struct job {
	pthread_t base_thread; /* the thread that runs the loop */
	struct event_base *base;
	pthread_t work_thread;
	bool worked, done, done_on_base;
	atomic_int *finished;
	int total;
};

static void
job_work(void *p)
{
	struct job *j = p;
	j->work_thread = pthread_self();
	j->worked = true;
}

static void
job_done(void *p)
{
	struct job *j = p;
	j->done = true;
	j->done_on_base = pthread_equal(pthread_self(), j->base_thread);
	if (atomic_fetch_add(j->finished, 1) + 1 == j->total && j->base != NULL)
		event_base_loopbreak(j->base);
}

/* Work runs on worker threads; each completion runs on the loop thread. */
START_TEST(work_off_thread_done_on_base)
{
	struct event_base *base = event_base_new();
	struct worker_pool *pool = worker_pool_new(4);
	static struct job jobs[NJOBS];
	atomic_int finished = 0;

	for (int i = 0; i < NJOBS; i++) {
		jobs[i] = (struct job){.base_thread = pthread_self(), .base = base,
		    .finished = &finished, .total = NJOBS};
		ck_assert_int_eq(worker_submit(pool, job_work, job_done, &jobs[i], base), 0);
	}
	/* A timer keeps the loop alive until the last completion breaks it. */
	struct timeval limit = {10, 0};
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	ck_assert_int_eq(atomic_load(&finished), NJOBS);
	for (int i = 0; i < NJOBS; i++) {
		ck_assert(jobs[i].worked);
		ck_assert(jobs[i].done);
		ck_assert(jobs[i].done_on_base);
		ck_assert(!pthread_equal(jobs[i].work_thread, pthread_self()));
	}
	worker_pool_free(pool);
	event_base_free(base);
}
END_TEST

static void
slow_work(void *p)
{
	usleep(2000);
	job_work(p);
}

/* Without a base, done runs on the worker; freeing the pool drains the queue. */
START_TEST(free_drains_queue)
{
	struct worker_pool *pool = worker_pool_new(1);
	static struct job jobs[20];
	atomic_int finished = 0;

	for (int i = 0; i < 20; i++) {
		jobs[i] = (struct job){.base_thread = pthread_self(), .finished = &finished,
		    .total = 20};
		ck_assert_int_eq(worker_submit(pool, slow_work, job_done, &jobs[i], NULL), 0);
	}
	ck_assert_uint_le(worker_pending(pool), 20);
	worker_pool_free(pool);
	ck_assert_int_eq(atomic_load(&finished), 20);
	for (int i = 0; i < 20; i++) {
		ck_assert(jobs[i].worked && jobs[i].done);
		ck_assert(!jobs[i].done_on_base);
	}
	worker_pool_free(NULL);
}
END_TEST

static void
order_work(void *p)
{
	int *slot = p;
	static int next;
	*slot = next++;
}

/* With one thread, jobs run in submission order; done may be NULL. */
START_TEST(fifo_order)
{
	struct worker_pool *pool = worker_pool_new(0); /* at least one thread */
	int slots[50];
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(worker_submit(pool, order_work, NULL, &slots[i], NULL), 0);
	worker_pool_free(pool);
	for (int i = 1; i < 50; i++)
		ck_assert_int_eq(slots[i], slots[i - 1] + 1);
}
END_TEST

int
main(void)
{
	evthread_use_pthreads();
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, work_off_thread_done_on_base);
	tcase_add_test(tc, free_drains_queue);
	tcase_add_test(tc, fifo_order);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * xcall.h - run a function on another thread's event loop.
 *
 * Worker threads (spool commits, later password hashing and DNS) hand their
 * results back to the I/O thread that owns the session this way, so session
 * state is only ever touched by its own thread. Requires
 * evthread_use_pthreads() before any event_base is created.
 */
#ifndef MAILETD_XCALL_H
#define MAILETD_XCALL_H

struct event_base;

/* Schedules fn(arg) to run once, soon, on base's loop thread. Thread-safe.
 * Calls run in the order they were posted from one thread. Aborts if
 * libevent cannot allocate the event. */
void xcall(struct event_base *base, void (*fn)(void *arg), void *arg);

#endif

/* xcall.c - run a function on another thread's event loop (see xcall.h). */
#include "xcall.h"

#include "log.h"

#include <event2/event.h>

#include <stdlib.h>

struct xcall_ctx {
	void (*fn)(void *);
	void *arg;
};

static void
xcall_cb(evutil_socket_t fd, short what, void *p)
{
	(void)fd;
	(void)what;
	struct xcall_ctx c = *(struct xcall_ctx *)p;
	free(p);
	c.fn(c.arg);
}

void
xcall(struct event_base *base, void (*fn)(void *arg), void *arg)
{
	struct xcall_ctx *c = malloc(sizeof(*c));
	if (c == NULL)
		log_fatal("event=fatal msg=\"out of memory in xcall\"");
	c->fn = fn;
	c->arg = arg;
	/*
	 * With a NULL timeout event_base_once() activates the event at once
	 * under the base lock and wakes the loop if it is another thread's:
	 * this is libevent's documented idiom for a cross-thread call.
	 */
	if (event_base_once(base, -1, EV_TIMEOUT, xcall_cb, c, NULL) != 0)
		log_fatal("event=fatal msg=\"event_base_once failed\"");
}

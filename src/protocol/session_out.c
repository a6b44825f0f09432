/*
 * session_out.c - replies on a plain socket leave without a trip through
 * the event loop.
 *
 * A bufferevent writes its output buffer when the loop reports the socket
 * writable: each reply costs an epoll_ctl to watch for writability, an
 * epoll_wait that returns at once, the writev, and an epoll_ctl to stop
 * watching: four system calls where one does, and on a virtual machine a
 * system call is dear (about 2 us here). On a cleartext connection the
 * session instead keeps the bufferevent's writing disabled while its
 * output is empty, and when replies are added, a flush event (activated
 * by the buffer's callback, so no system call) runs once the current
 * callback is done and writes them straight to the socket. Everything
 * answered in one processing pass still leaves in one write (PIPELINING,
 * RFC 2920): the flush runs after the pass, never inside it. What the
 * socket does not take at once (a client that does not read, a large
 * pipelined batch), and any write error, are left to the bufferevent: it
 * is enabled for writing and finishes as before, with its write timeout
 * and error event. Once the buffer is empty, the session's write
 * callback runs as it would have (close after the last reply, STARTTLS
 * switch, resume reading).
 *
 * Reading: libevent 2.1 reads at most 4096 octets per readiness event
 * (EVBUFFER_MAX_READ), each read costing an epoll_wait, an ioctl(FIONREAD)
 * and a readv: a 4 KiB message with its headers arrives in two rounds, a
 * 1 MiB one in 256. When a read filled the input to 4096 octets or more,
 * session_in_more reads on at once, up to 16 KiB a call, until the socket
 * has no more or the input is at its high-water mark (end of file and
 * errors are left for the bufferevent's next read to report).
 *
 * TLS bufferevents (implicit TLS, after STARTTLS, PROXY inside TLS) are
 * left alone: their reads and writes go through OpenSSL.
 */
#include "session_int.h"

#include "../core/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <errno.h>
#include <sys/uio.h>

/* libevent 2.1's read size (EVBUFFER_MAX_READ) and ours. */
#define LIBEVENT_READ 4096
#define SESSION_READ  (16 * 1024 - 256) /* one 16 KiB chain: bigger ones cost heap trims */

static void
out_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	if (s->out_cb == NULL || s->freeing)
		return; /* no longer a plain socket, or being freed: nothing to say */
	struct evbuffer *out = session_out(s);
	if (evbuffer_get_length(out) > 0) {
		/* A socket bufferevent keeps its output's front frozen so that
		 * only it drains it; it unfreezes around its own writes too. */
		evbuffer_unfreeze(out, 1);
		int n = evbuffer_write(out, s->fd);
		int err = errno;
		evbuffer_freeze(out, 1);
		errno = err;
		if ((n < 0 && errno != EAGAIN && errno != EINTR) || evbuffer_get_length(out) > 0) {
			/* Rest (or error) to the bufferevent: it retries when
			 * the socket is writable, and reports errors and the
			 * write timeout through the event callback. */
			bufferevent_enable(s->bev, EV_WRITE);
			return;
		}
	}
	session_written(s);
}

/* The output buffer changed: replies were added, so flush after this pass. */
static void
out_added_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	(void)buf;
	struct session *s = arg;
	if (info->n_added > 0)
		event_active(s->out_ev, EV_TIMEOUT, 0);
}

void
session_out_setup(struct session *s)
{
	if (s->bev_owns_fd)
		return; /* an OpenSSL bufferevent: its writes go through TLS */
	if (s->out_ev == NULL) {
		s->out_ev = event_new(s->base, -1, 0, out_flush_cb, s);
		if (s->out_ev == NULL)
			log_fatal("event=fatal msg=\"event_new failed\"");
	}
	s->out_cb = evbuffer_add_cb(session_out(s), out_added_cb, s);
	if (s->out_cb == NULL)
		log_fatal("event=fatal msg=\"evbuffer_add_cb failed\"");
	bufferevent_disable(s->bev, EV_WRITE); /* session_setup_bev enables reading only */
	/* Replies queued before (the greeting): out now. */
	if (evbuffer_get_length(session_out(s)) > 0)
		event_active(s->out_ev, EV_TIMEOUT, 0);
}

void
session_out_idle(struct session *s)
{
	if (s->out_cb != NULL && evbuffer_get_length(session_out(s)) == 0)
		bufferevent_disable(s->bev, EV_WRITE);
}

void
session_out_release(struct session *s)
{
	if (s->out_cb != NULL) {
		evbuffer_remove_cb_entry(session_out(s), s->out_cb);
		s->out_cb = NULL;
	}
	if (s->out_ev != NULL)
		event_del(s->out_ev);
}

void
session_out_free(struct session *s)
{
	session_out_release(s);
	if (s->out_ev != NULL)
		event_free(s->out_ev);
	s->out_ev = NULL;
}

void
session_in_more(struct session *s)
{
	if (s->out_cb == NULL || s->freeing)
		return;
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t have = evbuffer_get_length(in), high = 0;
	if (have < LIBEVENT_READ)
		return; /* the last read was not cut short */
	bufferevent_getwatermark(s->bev, EV_READ, NULL, &high);
	/* A socket bufferevent keeps its input's end frozen: only it adds. */
	evbuffer_unfreeze(in, 0);
	while (high == 0 || have < high) {
		size_t want = SESSION_READ;
		if (high > 0 && high - have < want)
			want = high - have;
		struct evbuffer_iovec v[2];
		int nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
		if (nv <= 0)
			break;
		struct iovec iov[2];
		size_t room = 0;
		for (int i = 0; i < nv; i++) {
			size_t len = v[i].iov_len;
			if (len > want - room)
				len = want - room;
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = len;
			room += len;
		}
		ssize_t r = readv(s->fd, iov, nv);
		if (r <= 0) {
			evbuffer_commit_space(in, v, 0);
			break;
		}
		size_t left = (size_t)r;
		int used = 0;
		for (int i = 0; i < nv && left > 0; i++) {
			v[i].iov_len = left < iov[i].iov_len ? left : iov[i].iov_len;
			left -= v[i].iov_len;
			used++;
		}
		evbuffer_commit_space(in, v, used);
		have += (size_t)r;
		if ((size_t)r < room)
			break; /* the socket had no more */
	}
	evbuffer_freeze(in, 0);
}

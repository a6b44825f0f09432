/*
 * session_tls.c - TLS in a session (see session_int.h): STARTTLS (RFC
 * 3207), the switch of the bufferevent to TLS once the 220 is written,
 * and the handshake's outcome (active, failed, its error text).
 */
#include "session_int.h"

#include "../config/config.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "../net/tls.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * STARTTLS (RFC 3207): 220, then the session forgets everything it was
 * told in the clear (4.2: HELO name, transaction) and waits in GREETED.
 * Reading stops now; the switch to TLS happens once the 220 is written
 * (write_cb), and whatever the client sent after the command line is
 * thrown away unread (CVE-2011-0411).
 */
void
cmd_starttls(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	session_reply(s, 220, "2.0.0", "Ready to start TLS");
	tx_clear(s);
	auth_forget(s);
	free(s->helo);
	s->helo = NULL;
	s->hs.helo = NULL;
	s->hs.esmtp = false;
	session_set_state(s, ST_GREETED);
	s->tls_switch_pending = true;
	bufferevent_disable(s->bev, EV_READ);
	event_del(s->line_ev);
}

/* Ends a session whose TLS handshake failed; nothing can be said to the client. */
void
session_tls_failed(struct session *s, const char *reason)
{
	char q[200];
	log_info(s->id, "event=tls-failed client=%s reason=%s", s->client_text,
	    log_quote(q, sizeof(q), reason, strlen(reason)));
	s->tls_handshaking = false;
	s->input_eof = true;
	tx_clear(s);
	session_set_state(s, ST_CLOSING);
	session_schedule_free(s);
}

/* The reason of the first OpenSSL error of the session's bufferevent. */
const char *
session_tls_reason(struct session *s, char *buf, size_t len, const char *fallback)
{
	unsigned long e, first = 0;
	if (!s->bev_owns_fd)
		return fallback;
	while ((e = bufferevent_get_openssl_error(s->bev)) != 0)
		if (first == 0)
			first = e;
	if (first == 0)
		return fallback;
	return tls_error_reason(buf, len, first, fallback);
}

/* TLS is active from here on (RFC 3207 4.2): records and logs it. */
void
session_tls_active(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	const char *version, *cipher;
	tls_describe(ssl, &version, &cipher);
	snprintf(s->tls_version, sizeof(s->tls_version), "%s", version);
	snprintf(s->tls_cipher, sizeof(s->tls_cipher), "%s", cipher);
	s->tls_handshaking = false;
	s->tls_active = true;
	s->hs.tls_active = true;
	s->hs.tls_version = s->tls_version;
	s->hs.tls_cipher = s->tls_cipher;
	s->hs.auth_announced = session_auth_offered(s);
	event_del(s->line_ev);
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char q[300], subject[256] = "", qs[300] = "none";
	/* A verified client certificate (<clientAuth>): whose it is. */
	X509 *peer = SSL_get0_peer_certificate(ssl);
	if (peer != NULL) {
		X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof(subject));
		log_quote(qs, sizeof(qs), subject, strlen(subject));
	}
	log_info(s->id, "event=tls version=%s cipher=%s sni=%s client_cert=%s", s->tls_version,
	    s->tls_cipher, sni != NULL ? log_quote(q, sizeof(q), sni, strlen(sni)) : "none", qs);
}

/* The handshake is done: TLS is active, and input may wait. */
void
session_tls_done(struct session *s)
{
	session_tls_active(s);
	session_process(s);
}

/*
 * Puts the connection under TLS as the server side of the handshake. The
 * whole handshake must finish within connectiontimeout (the line
 * deadline, which no byte resets).
 */
void
session_tls_start(struct session *s)
{
	SSL *ssl = tls_ssl_new(s->srv->tls.ctx);
	s->bev = bufferevent_openssl_socket_new(s->base, s->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL)
		log_fatal("event=fatal msg=\"bufferevent_openssl_socket_new failed\"");
	s->bev_owns_fd = true;
	/* A client that closes without close_notify is an ordinary EOF. */
	bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	s->tls_handshaking = true;
	session_setup_bev(s);
	struct timeval tv = { .tv_sec = s->srv->idle_timeout, .tv_usec = 0 };
	evtimer_add(s->line_ev, &tv);
}

/* The 220 to STARTTLS is written: drop the cleartext input, start TLS. */
void
tls_switch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	if (!s->tls_switch_pending || s->freeing || s->state == ST_CLOSING)
		return;
	s->tls_switch_pending = false;
	size_t junk = evbuffer_get_length(bufferevent_get_input(s->bev));
	if (junk > 0)
		/* Commands pipelined after STARTTLS (CVE-2011-0411): never run them. */
		log_warn(s->id, "event=starttls-injection client=%s bytes=%zu "
				"msg=\"input after STARTTLS discarded\"",
		    s->client_text, junk);
	session_out_release(s);
	bufferevent_free(s->bev); /* the plain one does not own the fd */
	session_tls_start(s);
}

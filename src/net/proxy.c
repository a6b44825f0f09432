/* proxy.c - PROXY protocol v1/v2 parser and header reader (see proxy.h). */
#include "proxy.h"

#include "../core/log.h"
#include "../core/xmalloc.h"

#include <event2/event.h>

#include <openssl/err.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v1_sig[6] = {'P', 'R', 'O', 'X', 'Y', ' '};
static const uint8_t v2_sig[12] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* v2 families (high nibble of octet 14) and their address block sizes. */
enum { V2_UNSPEC = 0, V2_INET = 1, V2_INET6 = 2, V2_UNIX = 3 };
static const size_t v2_addr_len[4] = {0, 12, 36, 216};

/* ---------------------------------------------------------------------- */
/* version 1                                                              */

/* Parses a decimal port: "0" or 1-5 digits without a leading zero, <= 65535. */
static int
v1_port(const uint8_t *p, size_t len, uint16_t *out)
{
	if (len == 0 || len > 5 || (p[0] == '0' && len > 1))
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* Parses a numeric address of family af (inet_pton: no leading zeros in IPv4). */
static int
v1_addr(const uint8_t *p, size_t len, int af, struct netaddr *out)
{
	char text[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, p, len);
	text[len] = '\0';
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
			return -1;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
			return -1;
	}
	/* As for a socket peer: a v4-mapped IPv6 address is matched as IPv4. */
	return netaddr_from_sockaddr((struct sockaddr *)&ss, out);
}

/*
 * "PROXY" SP family SP src SP dst SP sport SP dport CRLF; line is the text
 * before the CRLF. Single spaces only: an empty field is an error.
 */
static enum proxy_status
v1_line(const uint8_t *line, size_t len, struct proxy_header *h, const char **why)
{
	const uint8_t *tok[7];
	size_t tlen[7], n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		if (n == 7) {
			*why = "v1: too many fields";
			return PROXY_BAD;
		}
		tok[n] = line + start;
		tlen[n] = i - start;
		if (tlen[n] == 0) {
			*why = "v1: empty field (fields are separated by one space)";
			return PROXY_BAD;
		}
		n++;
		start = i + 1;
		/* UNKNOWN: the rest of the line is to be ignored (spec 2.1). */
		if (n == 2 && tlen[1] == 7 && memcmp(tok[1], "UNKNOWN", 7) == 0)
			break;
	}
	h->version = 1;
	h->command = PROXY_CMD_PROXY;
	h->stream = true;
	if (tlen[1] == 7 && memcmp(tok[1], "UNKNOWN", 7) == 0) {
		h->family = AF_UNSPEC;
		return PROXY_OK;
	}
	if (tlen[1] != 4 || (memcmp(tok[1], "TCP4", 4) != 0 && memcmp(tok[1], "TCP6", 4) != 0)) {
		*why = "v1: protocol is not TCP4, TCP6 or UNKNOWN";
		return PROXY_BAD;
	}
	if (n != 6) {
		*why = "v1: wrong number of fields";
		return PROXY_BAD;
	}
	int af = tok[1][3] == '4' ? AF_INET : AF_INET6;
	h->family = af;
	if (v1_addr(tok[2], tlen[2], af, &h->src) < 0 ||
	    v1_addr(tok[3], tlen[3], af, &h->dst) < 0) {
		*why = "v1: bad address for the protocol";
		return PROXY_BAD;
	}
	if (v1_port(tok[4], tlen[4], &h->sport) < 0 || v1_port(tok[5], tlen[5], &h->dport) < 0) {
		*why = "v1: bad port";
		return PROXY_BAD;
	}
	return PROXY_OK;
}

static enum proxy_status
parse_v1(const uint8_t *buf, size_t len, struct proxy_header *h, const char **why)
{
	size_t n = len < sizeof(v1_sig) ? len : sizeof(v1_sig);
	if (memcmp(buf, v1_sig, n) != 0) {
		*why = "not a PROXY header";
		return PROXY_BAD;
	}
	for (size_t i = 0; i < len && i < PROXY_V1_MAX; i++) {
		if (buf[i] == '\r') {
			if (i + 2 > PROXY_V1_MAX) {
				*why = "v1: no CRLF within 107 octets";
				return PROXY_BAD;
			}
			if (i + 1 == len)
				return PROXY_MORE;
			if (buf[i + 1] != '\n') {
				*why = "v1: CR without LF";
				return PROXY_BAD;
			}
			if (i < sizeof(v1_sig)) {
				*why = "v1: no protocol";
				return PROXY_BAD;
			}
			h->len = i + 2;
			return v1_line(buf, i, h, why);
		}
		if (buf[i] < 0x20 || buf[i] > 0x7e) {
			*why = "v1: control or non-ASCII octet";
			return PROXY_BAD;
		}
	}
	if (len >= PROXY_V1_MAX) {
		*why = "v1: no CRLF within 107 octets";
		return PROXY_BAD;
	}
	return PROXY_MORE;
}

/* ---------------------------------------------------------------------- */
/* version 2                                                              */

static void
v2_inet(const uint8_t *p, int af, struct proxy_header *h)
{
	struct sockaddr_storage ss;
	size_t alen = af == AF_INET ? 4 : 16;
	for (int i = 0; i < 2; i++) {
		memset(&ss, 0, sizeof(ss));
		if (af == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, p + (size_t)i * alen, alen);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, p + (size_t)i * alen, alen);
		}
		netaddr_from_sockaddr((struct sockaddr *)&ss, i == 0 ? &h->src : &h->dst);
	}
	h->sport = (uint16_t)(p[2 * alen] << 8 | p[2 * alen + 1]);
	h->dport = (uint16_t)(p[2 * alen + 2] << 8 | p[2 * alen + 3]);
}

/* v2 TLV types with a meaning for the receiver (spec 2.2.x). */
#define PP2_TYPE_CRC32C 0x03

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of p[0..n). */
static uint32_t
crc32c(const uint8_t *p, size_t n, size_t skip_at)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		/* The checksum field itself counts as zeros (spec 2.2.5). */
		uint8_t b = i >= skip_at && i < skip_at + 4 ? 0 : p[i];
		crc ^= b;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static enum proxy_status
parse_v2(const uint8_t *buf, size_t len, struct proxy_header *h, const char **why)
{
	size_t n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
	if (memcmp(buf, v2_sig, n) != 0) {
		*why = "not a PROXY header";
		return PROXY_BAD;
	}
	if (len > 12 && ((buf[12] >> 4) != 2 || (buf[12] & 0x0f) > 1)) {
		*why = "v2: bad version or command";
		return PROXY_BAD;
	}
	if (len > 13 && ((buf[13] >> 4) > V2_UNIX || (buf[13] & 0x0f) > 2)) {
		*why = "v2: bad address family or transport";
		return PROXY_BAD;
	}
	if (len < 16)
		return PROXY_MORE;
	size_t total = 16 + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PROXY_MAX_HEADER) {
		*why = "v2: header too long";
		return PROXY_BAD;
	}
	unsigned fam = buf[13] >> 4;
	bool local = (buf[12] & 0x0f) == 0;
	/* LOCAL: the address block, if any, is to be ignored (spec 2.2). */
	if (!local && total - 16 < v2_addr_len[fam]) {
		*why = "v2: length shorter than the address block";
		return PROXY_BAD;
	}
	if (len < total)
		return PROXY_MORE;

	h->version = 2;
	h->len = total;
	h->command = local ? PROXY_CMD_LOCAL : PROXY_CMD_PROXY;
	h->stream = (buf[13] & 0x0f) == 1;
	static const int families[4] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX};
	h->family = families[fam];
	if (local)
		return PROXY_OK;
	if (fam == V2_INET || fam == V2_INET6)
		v2_inet(buf + 16, h->family, h);
	/* TLVs (type, 16-bit length, value) must tile the rest exactly. */
	for (size_t off = 16 + v2_addr_len[fam]; off < total;) {
		if (total - off < 3) {
			*why = "v2: truncated TLV";
			return PROXY_BAD;
		}
		size_t vlen = (size_t)buf[off + 1] << 8 | buf[off + 2];
		if (vlen > total - off - 3) {
			*why = "v2: TLV runs past the header";
			return PROXY_BAD;
		}
		if (buf[off] == PP2_TYPE_CRC32C) {
			/* A checksum that is sent must be right. */
			const uint8_t *v = buf + off + 3;
			if (vlen != 4) {
				*why = "v2: CRC32C TLV is not 4 octets";
				return PROXY_BAD;
			}
			uint32_t want = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
			                (uint32_t)v[2] << 8 | v[3];
			if (crc32c(buf, total, off + 3) != want) {
				*why = "v2: CRC32C checksum mismatch";
				return PROXY_BAD;
			}
		}
		off += 3 + vlen;
	}
	return PROXY_OK;
}

enum proxy_status
proxy_parse(const uint8_t *buf, size_t len, struct proxy_header *h, const char **why)
{
	memset(h, 0, sizeof(*h));
	*why = NULL;
	if (len == 0)
		return PROXY_MORE;
	if (buf[0] == 'P')
		return parse_v1(buf, len, h, why);
	if (buf[0] == 0x0d)
		return parse_v2(buf, len, h, why);
	*why = "not a PROXY header";
	return PROXY_BAD;
}

bool
proxy_has_client(const struct proxy_header *h)
{
	return h->command == PROXY_CMD_PROXY && h->stream &&
	       (h->family == AF_INET || h->family == AF_INET6);
}

/* ---------------------------------------------------------------------- */
/* reading a header off a socket                                          */

struct proxy_reader {
	int fd;
	SSL *ssl; /* proxyFirst=false: the header is read inside TLS */
	bool handshaken;
	struct event *read_ev;
	struct event *write_ev; /* TLS only: the handshake wants to write */
	struct event *deadline_ev;
	proxy_done_fn done;
	void *arg;
	size_t have; /* octets consumed into buf */
	uint8_t buf[PROXY_MAX_HEADER];
};

void
proxy_reader_free(struct proxy_reader *r)
{
	if (r == NULL)
		return;
	event_free(r->read_ev);
	if (r->write_ev != NULL)
		event_free(r->write_ev);
	event_free(r->deadline_ev);
	free(r);
}

/* Reports the outcome and frees the reader. */
static void
reader_finish(struct proxy_reader *r, const struct proxy_header *h, const char *why)
{
	event_del(r->read_ev);
	if (r->write_ev != NULL)
		event_del(r->write_ev);
	event_del(r->deadline_ev);
	r->done(r->arg, h, why);
	proxy_reader_free(r);
}

/*
 * Parses the r->have octets kept in r->buf and the n peeked after them:
 * *st and *h, and in *want how many of the n to consume (up to the end of
 * a complete header, else all). -1 after finishing the reader when the
 * header is bad.
 */
static int
reader_parse(struct proxy_reader *r, size_t n, struct proxy_header *h, enum proxy_status *st,
    size_t *want)
{
	const char *why;
	*st = proxy_parse(r->buf, r->have + n, h, &why);
	if (*st == PROXY_BAD) {
		reader_finish(r, NULL, why);
		return -1;
	}
	if (*st == PROXY_OK && (h->len <= r->have || h->len > r->have + n)) {
		reader_finish(r, NULL, "internal error");
		return -1;
	}
	*want = *st == PROXY_OK ? h->len - r->have : n;
	return 0;
}

/*
 * Peeks at what has arrived, parses it together with what was consumed
 * before, and consumes only octets that belong to the header: all of them
 * while the header is incomplete, exactly up to its end once it is.
 */
static void
reader_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_reader *r = arg;
	(void)what;
	ssize_t n = recv(fd, r->buf + r->have, sizeof(r->buf) - r->have, MSG_PEEK);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		reader_finish(r, NULL, "socket error");
		return;
	}
	if (n == 0) {
		reader_finish(r, NULL, "closed before a complete header");
		return;
	}
	struct proxy_header h;
	enum proxy_status st;
	size_t want;
	if (reader_parse(r, (size_t)n, &h, &st, &want) < 0)
		return;
	/* The octets were peeked, so this cannot block or come up short. */
	ssize_t got = recv(fd, r->buf + r->have, want, 0);
	if (got != (ssize_t)want) {
		reader_finish(r, NULL, "socket error");
		return;
	}
	r->have += want;
	if (st == PROXY_OK)
		reader_finish(r, &h, NULL);
}

/*
 * TLS: waits for what OpenSSL asked for (err is SSL_get_error's answer);
 * returns -1 (after finishing the reader) when it is not a wait.
 */
static int
reader_tls_wait(struct proxy_reader *r, int err, const char *what)
{
	if (err == SSL_ERROR_WANT_READ) {
		event_add(r->read_ev, NULL);
		return 0;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		event_add(r->write_ev, NULL);
		return 0;
	}
	ERR_clear_error();
	reader_finish(
	    r, NULL, err == SSL_ERROR_ZERO_RETURN ? "closed before a complete header" : what);
	return -1;
}

/*
 * TLS (proxyFirst false): completes the handshake, then peeks at the
 * decrypted stream and reads exactly the header's octets out of it, as
 * reader_read_cb does on the socket. Loops while OpenSSL holds decrypted
 * data, since no socket event would announce it.
 */
static void
reader_tls_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_reader *r = arg;
	(void)fd;
	(void)what;
	if (!r->handshaken) {
		ERR_clear_error();
		int rc = SSL_accept(r->ssl);
		if (rc != 1) {
			reader_tls_wait(r, SSL_get_error(r->ssl, rc), "TLS handshake failed");
			return;
		}
		r->handshaken = true;
	}
	for (;;) {
		ERR_clear_error();
		int n = SSL_peek(r->ssl, r->buf + r->have, (int)(sizeof(r->buf) - r->have));
		if (n <= 0) {
			reader_tls_wait(r, SSL_get_error(r->ssl, n), "TLS error");
			return;
		}
		struct proxy_header h;
		enum proxy_status st;
		size_t want;
		if (reader_parse(r, (size_t)n, &h, &st, &want) < 0)
			return;
		if (SSL_read(r->ssl, r->buf + r->have, (int)want) != (int)want) {
			ERR_clear_error();
			reader_finish(r, NULL, "TLS error");
			return;
		}
		r->have += want;
		if (st == PROXY_OK) {
			reader_finish(r, &h, NULL);
			return;
		}
	}
}

static void
reader_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct proxy_reader *r = arg;
	reader_finish(r, NULL,
	    r->ssl != NULL && !r->handshaken
	        ? "TLS handshake not completed within connectiontimeout"
	        : "no complete header within connectiontimeout");
}

struct proxy_reader *
proxy_reader_new(struct event_base *base, int fd, unsigned timeout_s, proxy_done_fn done, void *arg)
{
	struct proxy_reader *r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->done = done;
	r->arg = arg;
	r->read_ev = event_new(base, fd, EV_READ | EV_PERSIST, reader_read_cb, r);
	r->deadline_ev = evtimer_new(base, reader_deadline_cb, r);
	if (r->read_ev == NULL || r->deadline_ev == NULL)
		log_fatal("event=fatal msg=\"event_new failed\"");
	struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
	event_add(r->read_ev, NULL);
	evtimer_add(r->deadline_ev, &tv);
	return r;
}

struct proxy_reader *
proxy_reader_new_tls(
    struct event_base *base, int fd, SSL *ssl, unsigned timeout_s, proxy_done_fn done, void *arg)
{
	struct proxy_reader *r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->ssl = ssl;
	r->done = done;
	r->arg = arg;
	if (SSL_set_fd(ssl, fd) != 1)
		log_fatal("event=fatal msg=\"SSL_set_fd failed\"");
	r->read_ev = event_new(base, fd, EV_READ, reader_tls_cb, r);
	r->write_ev = event_new(base, fd, EV_WRITE, reader_tls_cb, r);
	r->deadline_ev = evtimer_new(base, reader_deadline_cb, r);
	if (r->read_ev == NULL || r->write_ev == NULL || r->deadline_ev == NULL)
		log_fatal("event=fatal msg=\"event_new failed\"");
	struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
	event_add(r->read_ev, NULL);
	evtimer_add(r->deadline_ev, &tv);
	return r;
}

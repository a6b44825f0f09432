/* test_proxy.c - unit tests of the PROXY protocol parser and reader (proxy.c). */
#include "../../src/net/proxy.h"

#include <event2/event.h>

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/* version 1                                                              */

static const struct {
	const char *in;
	enum proxy_status want;
	int family;
	const char *src; /* expected source address text, NULL: not checked */
	unsigned sport;
} v1_cases[] = {
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n", PROXY_OK, AF_INET, "192.0.2.1", 56324 },
	{ "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", PROXY_OK, AF_INET,
	    "255.255.255.255", 65535 },
	{ "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", PROXY_OK, AF_INET, "0.0.0.0", 0 },
	{ "PROXY TCP6 2001:db8::1 2001:db8::2 1024 587\r\n", PROXY_OK, AF_INET6, "2001:db8::1",
	    1024 },
	/* v4-mapped IPv6 is matched as IPv4, as for a socket peer */
	{ "PROXY TCP6 ::ffff:127.0.0.2 ::1 1 2\r\n", PROXY_OK, AF_INET6, "127.0.0.2", 1 },
	{ "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	  "65535 65535\r\n",
	    PROXY_OK, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535 },
	{ "PROXY UNKNOWN\r\n", PROXY_OK, AF_UNSPEC, NULL, 0 },
	{ "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", PROXY_OK, AF_UNSPEC, NULL, 0 },
	/* malformed */
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\n", PROXY_BAD, 0, NULL, 0 },   /* bare LF */
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\rX", PROXY_BAD, 0, NULL, 0 },  /* CR alone */
	{ "PROXY TCP4  192.0.2.1 198.51.100.2 56324 25\r\n", PROXY_BAD, 0, NULL, 0 }, /* 2 spaces */
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25 \r\n", PROXY_BAD, 0, NULL, 0 }, /* trailing */
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n", PROXY_BAD, 0, NULL, 0 },      /* 5 fields */
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3\r\n", PROXY_BAD, 0, NULL, 0 },      /* 7 fields */
	{ "PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n", PROXY_BAD, 0, NULL, 0 },   /* v6 in TCP4 */
	{ "PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n", PROXY_BAD, 0, NULL, 0 },      /* v4 in TCP6 */
	{ "PROXY TCP4 192.0.2.01 198.51.100.2 1 2\r\n", PROXY_BAD, 0, NULL, 0 },    /* leading 0 */
	{ "PROXY TCP4 192.0.2 198.51.100.2 1 2\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 65536 25\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 025 25\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 -1 25\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 +1 25\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 123456 25\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY tcp4 192.0.2.1 198.51.100.2 1 25\r\n", PROXY_BAD, 0, NULL, 0 },   /* case */
	{ "PROXY UDP4 192.0.2.1 198.51.100.2 1 25\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY UNKNOWNX\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY \r\n", PROXY_BAD, 0, NULL, 0 },
	{ "proxy TCP4 192.0.2.1 198.51.100.2 1 25\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "PROXY TCP4 192.0.2.1\t198.51.100.2 1 25\r\n", PROXY_BAD, 0, NULL, 0 },   /* tab */
	{ "PROXY UNKNOWN \x80\r\n", PROXY_BAD, 0, NULL, 0 },                     /* non-ASCII */
	{ "EHLO client.example\r\n", PROXY_BAD, 0, NULL, 0 },
	{ "\x16\x03\x01\x02\x00\x01", PROXY_BAD, 0, NULL, 0 },                   /* TLS hello */
	{ "PRXY", PROXY_BAD, 0, NULL, 0 },
	/* incomplete */
	{ "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r", PROXY_MORE, 0, NULL, 0 },
	{ "PROX", PROXY_MORE, 0, NULL, 0 },
};

START_TEST(v1_table)
{
	for (size_t i = 0; i < sizeof(v1_cases) / sizeof(v1_cases[0]); i++) {
		const char *in = v1_cases[i].in;
		struct proxy_header h;
		const char *why;
		enum proxy_status st = proxy_parse((const uint8_t *)in, strlen(in), &h, &why);
		ck_assert_msg(st == v1_cases[i].want, "case %zu (%s): got %d", i, in, st);
		if (st == PROXY_BAD)
			ck_assert_msg(why != NULL, "case %zu: no reason", i);
		if (st != PROXY_OK)
			continue;
		ck_assert_int_eq(h.version, 1);
		ck_assert_uint_eq(h.len, strlen(in));
		ck_assert_int_eq(h.family, v1_cases[i].family);
		if (v1_cases[i].src != NULL) {
			char text[INET6_ADDRSTRLEN];
			netaddr_format(&h.src, text, sizeof(text));
			ck_assert_str_eq(text, v1_cases[i].src);
			ck_assert_uint_eq(h.sport, v1_cases[i].sport);
			ck_assert(proxy_has_client(&h));
		} else {
			ck_assert(!proxy_has_client(&h));
		}
	}
}
END_TEST

/* Exactly 107 octets is the longest v1 header; 108 is refused. */
START_TEST(v1_length_limit)
{
	char buf[256];
	struct proxy_header h;
	const char *why;
	/* "PROXY UNKNOWN " is 14 octets, padding + CRLF brings it to n. */
	for (size_t n = 100; n <= 110; n++) {
		memset(buf, 'x', sizeof(buf));
		memcpy(buf, "PROXY UNKNOWN ", 14);
		memcpy(buf + n - 2, "\r\n", 2);
		enum proxy_status st = proxy_parse((const uint8_t *)buf, n, &h, &why);
		ck_assert_msg(st == (n <= PROXY_V1_MAX ? PROXY_OK : PROXY_BAD), "n=%zu st=%d", n, st);
	}
	/* No CRLF at all: more is wanted only up to 107 octets. */
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(proxy_parse((const uint8_t *)buf, 106, &h, &why), PROXY_MORE);
	ck_assert_int_eq(proxy_parse((const uint8_t *)buf, 107, &h, &why), PROXY_BAD);
	ck_assert_int_eq(proxy_parse((const uint8_t *)buf, 200, &h, &why), PROXY_BAD);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* version 2                                                              */

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
	0x54, 0x0a };

/* Builds a v2 header: ver_cmd, fam, then body of blen octets. Returns its length. */
static size_t
v2_build(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body, size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	memcpy(out + 16, body, blen);
	return 16 + blen;
}

static const uint8_t inet_body[12] = { 127, 0, 0, 2, 127, 0, 0, 1, 0xc3, 0x50, 0x00, 0x19 };

START_TEST(v2_inet)
{
	uint8_t buf[512];
	struct proxy_header h;
	const char *why;
	size_t n = v2_build(buf, 0x21, 0x11, inet_body, sizeof(inet_body));
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_OK);
	ck_assert_int_eq(h.version, 2);
	ck_assert_uint_eq(h.len, 28);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert(h.stream);
	ck_assert_uint_eq(h.sport, 50000);
	ck_assert_uint_eq(h.dport, 25);
	char text[INET6_ADDRSTRLEN];
	netaddr_format(&h.src, text, sizeof(text));
	ck_assert_str_eq(text, "127.0.0.2");
	netaddr_format(&h.dst, text, sizeof(text));
	ck_assert_str_eq(text, "127.0.0.1");
	ck_assert(proxy_has_client(&h));
	/* Trailing octets (the client's first bytes) are not part of it. */
	memcpy(buf + n, "\x16\x03\x01", 3);
	ck_assert_int_eq(proxy_parse(buf, n + 3, &h, &why), PROXY_OK);
	ck_assert_uint_eq(h.len, 28);
}
END_TEST

START_TEST(v2_inet6_and_tlvs)
{
	uint8_t body[64], buf[512];
	struct proxy_header h;
	const char *why;
	memset(body, 0, sizeof(body));
	body[15] = 1;               /* src ::1 */
	body[16] = 0x20;            /* dst 2001:db8::... */
	body[17] = 0x01;
	body[18] = 0x0d;
	body[19] = 0xb8;
	body[32] = 0x04;            /* sport 1025 */
	body[33] = 0x01;
	body[35] = 25;
	/* TLVs: ALPN "smtp", NOOP with empty value, unknown type 0xe0 length 2 */
	static const uint8_t tlvs[] = { 0x01, 0x00, 0x04, 's', 'm', 't', 'p', 0x04, 0x00, 0x00,
		0xe0, 0x00, 0x02, 0xaa, 0xbb };
	memcpy(body + 36, tlvs, sizeof(tlvs));
	size_t blen = 36 + sizeof(tlvs);
	size_t n = v2_build(buf, 0x21, 0x21, body, blen);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_OK);
	ck_assert_uint_eq(h.len, n);
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_uint_eq(h.sport, 1025);
	char text[INET6_ADDRSTRLEN];
	netaddr_format(&h.src, text, sizeof(text));
	ck_assert_str_eq(text, "::1");
	ck_assert(proxy_has_client(&h));

	/* A TLV whose length runs past the header */
	uint8_t bad[64];
	memcpy(bad, body, blen);
	bad[36 + 2] = 0x05;
	n = v2_build(buf, 0x21, 0x21, bad, blen);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
	/* A truncated TLV header (2 octets left) */
	n = v2_build(buf, 0x21, 0x21, body, 36 + 2);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
}
END_TEST

START_TEST(v2_refusals)
{
	uint8_t buf[PROXY_MAX_HEADER + 64], body[PROXY_MAX_HEADER];
	struct proxy_header h;
	const char *why;
	size_t n;
	memset(body, 0, sizeof(body));
	memcpy(body, inet_body, sizeof(inet_body));

	/* LOCAL (health check): well-formed, but no client to believe */
	n = v2_build(buf, 0x20, 0x00, body, 0);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_OK);
	ck_assert_int_eq(h.command, PROXY_CMD_LOCAL);
	ck_assert(!proxy_has_client(&h));
	/* LOCAL may carry an address block; it is ignored */
	n = v2_build(buf, 0x20, 0x11, body, 12);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_OK);
	ck_assert(!proxy_has_client(&h));
	/* PROXY over UNSPEC, UNIX, or UDP */
	n = v2_build(buf, 0x21, 0x00, body, 0);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_OK);
	ck_assert(!proxy_has_client(&h));
	n = v2_build(buf, 0x21, 0x31, body, 216);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_OK);
	ck_assert_int_eq(h.family, AF_UNIX);
	ck_assert(!proxy_has_client(&h));
	n = v2_build(buf, 0x21, 0x12, body, 12);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_OK);
	ck_assert(!proxy_has_client(&h));

	/* malformed */
	n = v2_build(buf, 0x11, 0x11, body, 12); /* version 1 in binary */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
	n = v2_build(buf, 0x22, 0x11, body, 12); /* command 2 */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
	n = v2_build(buf, 0x21, 0x41, body, 12); /* family 4 */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
	n = v2_build(buf, 0x21, 0x13, body, 12); /* transport 3 */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
	n = v2_build(buf, 0x21, 0x11, body, 11); /* short address block */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
	n = v2_build(buf, 0x21, 0x21, body, 12); /* INET6 with an INET block */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
	/* over the size limit: refused from the 16-octet fixed part alone */
	n = v2_build(buf, 0x21, 0x11, body, PROXY_MAX_HEADER - 16 + 1);
	ck_assert_int_eq(proxy_parse(buf, 16, &h, &why), PROXY_BAD);
	/* exactly at the limit: fine (a NOOP TLV filling it) */
	body[12] = 0x04;
	body[13] = (uint8_t)((PROXY_MAX_HEADER - 16 - 12 - 3) >> 8);
	body[14] = (uint8_t)(PROXY_MAX_HEADER - 16 - 12 - 3);
	n = v2_build(buf, 0x21, 0x11, body, PROXY_MAX_HEADER - 16);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_OK);
	ck_assert_uint_eq(h.len, PROXY_MAX_HEADER);
	/* a broken signature */
	n = v2_build(buf, 0x21, 0x11, inet_body, 12);
	buf[5] = 0x0a;
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
	ck_assert_int_eq(proxy_parse(buf, 6, &h, &why), PROXY_BAD);
}
END_TEST

/* A header captured from haproxy 2.6 (send-proxy-v2 proxy-v2-options crc32c). */
static const uint8_t haproxy_crc[] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55,
	0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x13, 0x7f, 0x00, 0x00, 0x02, 0x7f, 0x00, 0x00, 0x01,
	0x9c, 0xbb, 0x93, 0xe1, 0x03, 0x00, 0x04, 0xb4, 0x3c, 0xc9, 0xe2 };

START_TEST(v2_crc32c)
{
	uint8_t buf[64];
	struct proxy_header h;
	const char *why;
	ck_assert_int_eq(proxy_parse(haproxy_crc, sizeof(haproxy_crc), &h, &why), PROXY_OK);
	ck_assert_uint_eq(h.sport, 40123);
	ck_assert_uint_eq(h.len, sizeof(haproxy_crc));
	/* any flipped bit of the header, or of the checksum, is refused */
	for (size_t i = 16; i < sizeof(haproxy_crc); i++) {
		if (i >= 28 && i < 31)
			continue; /* the TLV's type and length: other errors */
		memcpy(buf, haproxy_crc, sizeof(haproxy_crc));
		buf[i] ^= 0x01;
		ck_assert_msg(proxy_parse(buf, sizeof(haproxy_crc), &h, &why) == PROXY_BAD,
		    "flipped octet %zu accepted", i);
	}
	/* a CRC32C TLV of the wrong length */
	uint8_t body[12 + 3 + 2];
	memcpy(body, inet_body, 12);
	body[12] = 0x03;
	body[13] = 0x00;
	body[14] = 0x02;
	body[15] = body[16] = 0;
	size_t n = v2_build(buf, 0x21, 0x11, body, sizeof(body));
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), PROXY_BAD);
}
END_TEST

/* Every proper prefix of a valid header is PROXY_MORE, never BAD or OK. */
START_TEST(split_prefixes)
{
	uint8_t v2[64];
	size_t v2len = v2_build(v2, 0x21, 0x11, inet_body, sizeof(inet_body));
	const char *v1 = "PROXY TCP6 2001:db8::1 2001:db8::2 1024 587\r\n";
	struct {
		const uint8_t *p;
		size_t len;
	} hdrs[] = { { (const uint8_t *)v1, strlen(v1) }, { v2, v2len } };
	for (size_t k = 0; k < 2; k++) {
		struct proxy_header h;
		const char *why;
		for (size_t i = 0; i < hdrs[k].len; i++)
			ck_assert_msg(proxy_parse(hdrs[k].p, i, &h, &why) == PROXY_MORE,
			    "header %zu prefix %zu", k, i);
		ck_assert_int_eq(proxy_parse(hdrs[k].p, hdrs[k].len, &h, &why), PROXY_OK);
	}
}
END_TEST

/* ---------------------------------------------------------------------- */
/* the reader on a socket                                                 */

struct reader_result {
	int calls;
	bool ok;
	struct proxy_header h;
	char why[128];
};

static void
reader_done(void *arg, const struct proxy_header *h, const char *why)
{
	struct reader_result *r = arg;
	r->calls++;
	r->ok = h != NULL;
	if (h != NULL)
		r->h = *h;
	else
		snprintf(r->why, sizeof(r->why), "%s", why);
}

struct piece {
	struct event_base *base;
	int fd;
	const uint8_t *p;
	size_t len;
	struct event *ev;
	const struct reader_result *res;
	size_t *written;
};

/* Writes one piece, unless the reader is done already. */
static void
piece_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct piece *pc = arg;
	if (pc->res->calls != 0)
		return;
	ck_assert(write(pc->fd, pc->p, pc->len) == (ssize_t)pc->len);
	*pc->written += pc->len;
}

/*
 * Sends data to a reader in pieces of step octets, one every 5 ms, until
 * the reader is done, running the loop until then (or 2 s). Returns the
 * number of octets left unread in the socket after it; *written (if not
 * NULL) is how many were sent. On a busy machine timers run late and
 * several pieces may be in the socket when the reader sees the end of
 * the header: the reader must leave them there.
 */
static size_t
run_reader_n(const uint8_t *data, size_t len, size_t step, unsigned timeout_s,
    struct reader_result *res, size_t *written)
{
	size_t sent = 0;
	int sv[2];
	ck_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	struct event_base *base = event_base_new();
	memset(res, 0, sizeof(*res));
	proxy_reader_new(base, sv[0], timeout_s, reader_done, res);
	size_t npieces = step ? (len + step - 1) / step : 0;
	struct piece *pcs = calloc(npieces ? npieces : 1, sizeof(*pcs));
	for (size_t i = 0; i < npieces; i++) {
		pcs[i].fd = sv[1];
		pcs[i].p = data + i * step;
		pcs[i].len = len - i * step < step ? len - i * step : step;
		pcs[i].res = res;
		pcs[i].written = &sent;
		pcs[i].ev = evtimer_new(base, piece_cb, &pcs[i]);
		struct timeval tv = { 0, (suseconds_t)(5000 * (i + 1)) };
		evtimer_add(pcs[i].ev, &tv);
	}
	for (int spins = 0; res->calls == 0 && spins < 4000; spins++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(500);
	for (size_t i = 0; i < npieces; i++)
		event_free(pcs[i].ev);
	free(pcs);
	char rest[8192];
	ssize_t n = recv(sv[0], rest, sizeof(rest), MSG_DONTWAIT);
	event_base_free(base);
	close(sv[0]);
	close(sv[1]);
	if (written != NULL)
		*written = sent;
	return n > 0 ? (size_t)n : 0;
}

static size_t
run_reader(const uint8_t *data, size_t len, size_t step, unsigned timeout_s,
    struct reader_result *res)
{
	return run_reader_n(data, len, step, timeout_s, res, NULL);
}

START_TEST(reader_split_reads)
{
	struct reader_result res;
	const char *v1 = "PROXY TCP4 127.0.0.2 127.0.0.1 40000 25\r\nEHLO x\r\n";
	const size_t hlen = strlen("PROXY TCP4 127.0.0.2 127.0.0.1 40000 25\r\n");
	/* one octet at a time: exactly the header is consumed; whatever was
	 * sent after it before the reader finished stays in the socket */
	size_t written;
	size_t left = run_reader_n((const uint8_t *)v1, strlen(v1), 1, 5, &res, &written);
	ck_assert_int_eq(res.calls, 1);
	ck_assert_msg(res.ok, "%s", res.why);
	ck_assert_uint_eq(res.h.sport, 40000);
	ck_assert_uint_ge(written, hlen);
	ck_assert_uint_eq(left, written - hlen);

	/* all in one write: exactly the header is taken */
	left = run_reader((const uint8_t *)v1, strlen(v1), strlen(v1), 5, &res);
	ck_assert(res.ok);
	ck_assert_uint_eq(left, strlen("EHLO x\r\n"));

	uint8_t v2[64];
	size_t n = v2_build(v2, 0x21, 0x11, inet_body, sizeof(inet_body));
	memcpy(v2 + n, "\x16\x03\x01", 3);
	left = run_reader(v2, n + 3, n + 3, 5, &res);
	ck_assert(res.ok);
	ck_assert_uint_eq(res.h.sport, 50000);
	ck_assert_uint_eq(left, 3);
	left = run_reader(v2, n, 3, 5, &res);
	ck_assert(res.ok);
}
END_TEST

START_TEST(reader_failures)
{
	struct reader_result res;
	const char *garbage = "EHLO client.example\r\n";
	run_reader((const uint8_t *)garbage, strlen(garbage), strlen(garbage), 5, &res);
	ck_assert_int_eq(res.calls, 1);
	ck_assert(!res.ok);
	/* nothing sent: the deadline ends it */
	run_reader(NULL, 0, 0, 1, &res);
	ck_assert_int_eq(res.calls, 1);
	ck_assert(!res.ok);
	ck_assert_str_eq(res.why, "no complete header within connectiontimeout");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, v1_table);
	tcase_add_test(tc, v1_length_limit);
	tcase_add_test(tc, v2_inet);
	tcase_add_test(tc, v2_inet6_and_tlvs);
	tcase_add_test(tc, v2_refusals);
	tcase_add_test(tc, v2_crc32c);
	tcase_add_test(tc, split_prefixes);
	tcase_add_test(tc, reader_split_reads);
	tcase_add_test(tc, reader_failures);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * proxy.h - the HAProxy PROXY protocol, versions 1 and 2 (receiving side).
 *
 * A server with <proxyRequired>true</proxyRequired> (james.md 1a.1) sits
 * behind a proxy that opens every connection with a header naming the
 * real client. proxy_parse() is the strict parser of that header (pure,
 * no I/O: unit tests and the fuzzer call it); proxy_reader reads one
 * header off a fresh socket on an I/O thread, consuming exactly the
 * header's octets and nothing after them (the SMTP or TLS bytes that
 * follow belong to the session), within a deadline.
 *
 * Version 1 (text): "PROXY TCP4|TCP6 src dst sport dport\r\n" with single
 * spaces, numeric addresses of the named family, decimal ports 0-65535
 * without leading zeros, at most 107 octets with the CRLF; or
 * "PROXY UNKNOWN" followed by anything up to the CRLF.
 * Version 2 (binary): the 12-octet signature, version 2, command LOCAL or
 * PROXY, family/transport, a 16-bit length, the address block of the
 * family, then TLVs, which are walked for well-formedness and skipped;
 * a CRC32C TLV must be 4 octets and match the header.
 * The whole header may not exceed PROXY_MAX_HEADER octets.
 */
#ifndef MAILETD_PROXY_H
#define MAILETD_PROXY_H

#include "../core/netaddr.h"

#include <openssl/ssl.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* Longest v1 header (spec section 2.1) and longest v2 header we take. */
#define PROXY_V1_MAX     107
#define PROXY_MAX_HEADER 4096

enum proxy_status {
	PROXY_MORE, /* a valid prefix: more octets are needed */
	PROXY_OK,   /* a complete, well-formed header */
	PROXY_BAD,  /* not a PROXY header, or malformed */
};

enum proxy_command {
	PROXY_CMD_LOCAL, /* v2 LOCAL: the proxy's own connection (health check) */
	PROXY_CMD_PROXY, /* a relayed connection (v1 always) */
};

struct proxy_header {
	int version; /* 1 or 2 */
	enum proxy_command command;
	int family;              /* AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC
	                            (v1 UNKNOWN, v2 UNSPEC) */
	bool stream;             /* TCP / SOCK_STREAM transport */
	struct netaddr src, dst; /* valid for AF_INET and AF_INET6 */
	uint16_t sport, dport;
	size_t len; /* octets of the whole header */
};

/*
 * Parses the start of a connection's input, buf[0..len) (untrusted).
 * PROXY_OK: *h is filled and h->len octets are the header (anything after
 * them is not looked at). PROXY_MORE: buf is a proper prefix of a header
 * that may still be valid and shorter than the limits. PROXY_BAD: *why
 * (static text) says what is wrong. Never reads past len.
 */
enum proxy_status proxy_parse(
    const uint8_t *buf, size_t len, struct proxy_header *h, const char **why);

/*
 * True if h names a TCP client over IPv4 or IPv6, the only kind a relay
 * decision can be based on. v1 UNKNOWN, v2 LOCAL and v2 UNSPEC/UNIX/UDP
 * are refused by the server (as James refuses anything but TCP4/TCP6):
 * their "real connection endpoint" would be the proxy's own address.
 */
bool proxy_has_client(const struct proxy_header *h);

/*
 * Called once when a reader ends. h is the header on success, NULL on
 * failure, with why saying what happened (timeout, closed, malformed).
 * The reader frees itself after this returns; do not free it here.
 */
typedef void (*proxy_done_fn)(void *arg, const struct proxy_header *h, const char *why);

struct proxy_reader;

/*
 * Starts reading a header from the non-blocking socket fd on base; done
 * runs on base's thread within timeout_s seconds. The reader never closes
 * fd and consumes exactly the header's octets.
 */
struct proxy_reader *proxy_reader_new(
    struct event_base *base, int fd, unsigned timeout_s, proxy_done_fn done, void *arg);

/*
 * The same for <proxyFirst>false</proxyFirst> on an implicit-TLS server:
 * the server side of the TLS handshake is done on ssl (a fresh SSL from
 * tls_ssl_new, not yet bound to fd) first, then the header is read inside
 * TLS. ssl stays the caller's: on success it is an open TLS connection to
 * hand to the session; on failure the caller frees it. The deadline
 * covers handshake and header together.
 */
struct proxy_reader *proxy_reader_new_tls(
    struct event_base *base, int fd, SSL *ssl, unsigned timeout_s, proxy_done_fn done, void *arg);

/* Abandons a reader that has not finished (done is not called); NULL is a no-op. */
void proxy_reader_free(struct proxy_reader *r);

#endif

/*
 * uri_scan.h - the host names of the http, https and www. URLs in a message
 * (URIRBLHandler, urirbl.c). Pure functions on a buffer; network input:
 * strict, bounded, fuzzed (tests/fuzz/fuzz_uri.c).
 *
 * What is scanned (as James's URIRBLHandler, james.md 1b.6): the text
 * parts of the message, text/plain and text/html (and a part without
 * Content-Type, text/plain by RFC 2045), in multipart bodies nested up
 * to URI_SCAN_DEPTH levels, decoded from quoted-printable (soft line
 * breaks joined) or base64. Header fields and other parts are not
 * scanned. Not covered (James covers them): ftp:, mailto: and bare
 * e-mail addresses.
 *
 * A URL is "http://" or "https://" (any case) not preceded by a letter or
 * digit, or a schemeless "www." ("www2." ...; not after a letter, digit,
 * ".", "-" or "=", as James's URIScanner), then an authority up to the first "/", "?", "#", "\",
 * white space, a quote, "<", ">" or another octet URLs cannot hold; its host is after the last "@"
 * (userinfo is dropped) and before ":port". The host is kept, lower-cased, only if it is a domain
 * name of at least two labels (letters, digits, inner hyphens; 1..63 octets each; 253 in all; a
 * trailing dot dropped) whose last label has a letter, or an IPv4 address in dotted-quad form.
 * Anything else (IDN in UTF-8, percent-encoding, IPv6 literals) is skipped.
 */
#ifndef MAILETD_URI_SCAN_H
#define MAILETD_URI_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#define URI_HOST_MAX       253
#define URI_SCAN_HOSTS_MAX 64  /* distinct host names kept */
#define URI_SCAN_DEPTH     8   /* multipart nesting */
#define URI_SCAN_PARTS_MAX 256 /* MIME parts looked at */

struct uri_hosts {
	size_t n;
	bool truncated; /* more distinct names were found than kept */
	char name[URI_SCAN_HOSTS_MAX][URI_HOST_MAX + 1];
};

/* Adds (deduplicated, in order of appearance) the URL hosts of the text
 * text[0..len) to h. */
void uri_scan_text(const char *text, size_t len, struct uri_hosts *h);

/*
 * Adds the URL hosts of the message msg[0..len) (header block, blank
 * line, body; CRLF or LF line ends) to h, from its text parts (see the
 * top). A message cut short is scanned as far as it goes.
 */
void uri_scan_message(const char *msg, size_t len, struct uri_hosts *h);

/*
 * The name a URI blocklist is asked about for host (from uri_hosts):
 * for an IPv4 address its octets reversed (d.c.b.a, as James); else the
 * registered domain: the last two labels, or three when the last two
 * are a country's second-level public suffix (a two-letter top-level
 * domain and a second level such as co, com, net, org, ac, gov, edu, or,
 * ne, go, ltd, plc: "example.co.uk"). Returns the length written into
 * out (outlen > strlen(host)), or -1.
 */
int uri_registered_domain(const char *host, char *out, size_t outlen);

/*
 * The names to ask URI blocklists about for the hosts h, in order: every
 * host's uri_registered_domain(), then the hosts that are not the same
 * name (nor an IPv4 address), distinct, at most max. Returns how many.
 */
size_t uri_lookup_names(const struct uri_hosts *h, char names[][URI_HOST_MAX + 1], size_t max);

#endif

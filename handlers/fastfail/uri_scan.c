/*
 * uri_scan.c - the host names of the URLs in a message (uri_scan.h).
 * Everything works on (pointer, length) slices of the caller's buffer;
 * nothing reads past an end, nothing recurses deeper than
 * URI_SCAN_DEPTH.
 */
#include "uri_scan.h"

#include "../../src/core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URI_AUTHORITY_MAX 1024 /* a longer authority is skipped */
#define MIME_VALUE_MAX    1024 /* Content-Type value kept */
#define MIME_BOUNDARY_MAX 200  /* RFC 2046 says 70; be lenient */

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Octets an authority may hold (RFC 3986 3.2 without the quote and
 * parentheses, which end URLs in running text). */
static bool
authority_char(unsigned char c)
{
	return is_alnum(c) || strchr("-._~%!$&*+,;=:@[]", c) != NULL;
}

/* Four dotted decimal octets, 0..255 each. */
static bool
is_ipv4(const char *s)
{
	int parts = 0;
	while (*s != '\0') {
		int v = 0, k = 0;
		while (s[k] >= '0' && s[k] <= '9' && k < 4)
			v = v * 10 + (s[k++] - '0');
		if (k == 0 || k > 3 || v > 255)
			return false;
		parts++;
		s += k;
		if (*s == '.')
			s++;
		else if (*s != '\0')
			return false;
		else
			break;
		if (*s == '\0')
			return false;
	}
	return parts == 4;
}

/* A domain name of two labels or more whose last label has a letter. */
static bool
is_domain(const char *s, size_t len)
{
	if (len == 0 || len > URI_HOST_MAX)
		return false;
	size_t labels = 0, start = 0;
	bool letter = false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			unsigned char c = (unsigned char)s[i];
			if (!is_alnum(c) && c != '-')
				return false;
			if (!(c >= '0' && c <= '9') && c != '-')
				letter = true;
			continue;
		}
		size_t l = i - start;
		if (l == 0 || l > 63 || s[start] == '-' || s[i - 1] == '-')
			return false;
		labels++;
		if (i < len)
			letter = false; /* only the last label's letters count */
		start = i + 1;
	}
	return labels >= 2 && letter;
}

static void
hosts_add(struct uri_hosts *h, const char *host)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->name[i], host) == 0)
			return;
	if (h->n == URI_SCAN_HOSTS_MAX) {
		h->truncated = true;
		return;
	}
	memcpy(h->name[h->n++], host, strlen(host) + 1);
}

/* The host of the authority a[0..len), if it is one (see the top of uri_scan.h). */
static void
authority_host(const char *a, size_t len, struct uri_hosts *h)
{
	const char *at = NULL;
	for (size_t i = 0; i < len; i++)
		if (a[i] == '@')
			at = a + i;
	if (at != NULL) {
		len -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	size_t n = 0;
	while (n < len && (is_alnum((unsigned char)a[n]) || a[n] == '-' || a[n] == '.'))
		n++;
	/* What follows the name: nothing, a port, or the rest of the text. */
	if (n < len && a[n] == ':') {
		for (size_t i = n + 1; i < len; i++)
			if (a[i] < '0' || a[i] > '9')
				return;
	} else if (n < len && a[n] != ',' && a[n] != ';' && a[n] != '!' && a[n] != '*') {
		return; /* "%", "[", "&", "=", ...: not a plain host name */
	}
	if (n > 0 && a[n - 1] == '.')
		n--;
	if (n == 0 || n > URI_HOST_MAX)
		return;
	char host[URI_HOST_MAX + 1];
	for (size_t i = 0; i < n; i++)
		host[i] = (char)lower((unsigned char)a[i]);
	host[n] = '\0';
	if (is_ipv4(host) || is_domain(host, n))
		hosts_add(h, host);
}

/*
 * Where the authority of a URL starting at text[i] begins: after "http://"
 * or "https://", or at a schemeless "www." (also "www2." and so on, as
 * James's URIScanner: not after a letter, digit, ".", "-" or "="); 0 when
 * no URL starts there.
 */
static size_t
url_start(const char *text, size_t len, size_t i)
{
	const char *p = text + i;
	unsigned char before = i > 0 ? (unsigned char)text[i - 1] : ' ';
	if (is_alnum(before))
		return 0;
	unsigned char c = lower((unsigned char)p[0]);
	if (c == 'h' && i + 7 <= len && strncasecmp(p, "http", 4) == 0) {
		size_t k = 4;
		if (lower((unsigned char)p[k]) == 's')
			k++;
		if (i + k + 3 <= len && memcmp(p + k, "://", 3) == 0)
			return i + k + 3;
		return 0;
	}
	if (c == 'w' && before != '.' && before != '-' && before != '=' && i + 4 <= len &&
	    strncasecmp(p, "www", 3) == 0) {
		size_t k = 3;
		while (i + k < len && p[k] >= '0' && p[k] <= '9' && k < 6)
			k++;
		if (i + k < len && p[k] == '.')
			return i;
	}
	return 0;
}

void
uri_scan_text(const char *text, size_t len, struct uri_hosts *h)
{
	size_t i = 0;
	while (i < len) {
		size_t a = url_start(text, len, i);
		if (a == 0) {
			i++;
			continue;
		}
		size_t e = a;
		while (
		    e < len && e - a <= URI_AUTHORITY_MAX && authority_char((unsigned char)text[e]))
			e++;
		if (e - a <= URI_AUTHORITY_MAX)
			authority_host(text + a, e - a, h);
		i = e > i ? e : i + 1;
	}
}

/* ---- MIME ---- */

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Quoted-printable (RFC 2045 6.7) into out (len octets at least). */
static size_t
qp_decode(const char *in, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '=') {
			out[o++] = in[i];
			continue;
		}
		/* A soft line break: "=" [white space] CRLF or LF. */
		size_t j = i + 1;
		while (j < len && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j < len && in[j] == '\r' && j + 1 < len && in[j + 1] == '\n') {
			i = j + 1;
			continue;
		}
		if (j < len && in[j] == '\n') {
			i = j;
			continue;
		}
		if (j == len) {
			i = j;
			continue;
		}
		int hi = i + 2 < len ? hexval((unsigned char)in[i + 1]) : -1;
		int lo = hi >= 0 ? hexval((unsigned char)in[i + 2]) : -1;
		if (lo >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = '=';
		}
	}
	return o;
}

/* Base64 (RFC 2045 6.8): other octets are ignored, "=" ends. */
static size_t
b64_decode(const char *in, size_t len, char *out)
{
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=')
			break;
		else
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return o;
}

/* The next line of p[*pos..len): its start and length without CR LF. */
static bool
next_line(const char *p, size_t len, size_t *pos, const char **line, size_t *llen)
{
	if (*pos >= len)
		return false;
	const char *s = p + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t n = nl != NULL ? (size_t)(nl - s) : len - *pos;
	*pos += n + (nl != NULL);
	if (n > 0 && s[n - 1] == '\r')
		n--;
	*line = s;
	*llen = n;
	return true;
}

struct mime_entity {
	char ctype[MIME_VALUE_MAX + 1];
	size_t ctype_len;
	char cte[64];
	size_t cte_len;
	size_t body; /* offset of the body */
};

static void
append_value(char *buf, size_t cap, size_t *len, const char *v, size_t n)
{
	if (*len + n > cap)
		n = cap - *len;
	memcpy(buf + *len, v, n);
	*len += n;
	buf[*len] = '\0';
}

/* Reads the header block of the entity p[0..len). */
static void
mime_headers(const char *p, size_t len, struct mime_entity *e)
{
	size_t pos = 0;
	const char *line;
	size_t n;
	int field = 0; /* 1 Content-Type, 2 Content-Transfer-Encoding */
	e->ctype_len = e->cte_len = 0;
	e->ctype[0] = e->cte[0] = '\0';
	e->body = len;
	while (next_line(p, len, &pos, &line, &n)) {
		if (n == 0) {
			e->body = pos;
			return;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			if (field == 1)
				append_value(e->ctype, MIME_VALUE_MAX, &e->ctype_len, line, n);
			else if (field == 2)
				append_value(e->cte, sizeof(e->cte) - 1, &e->cte_len, line, n);
			continue;
		}
		const char *colon = memchr(line, ':', n);
		field = 0;
		if (colon == NULL)
			continue;
		size_t nl = (size_t)(colon - line), vl = n - nl - 1;
		if (nl == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
			field = 1;
			e->ctype_len = 0;
			append_value(e->ctype, MIME_VALUE_MAX, &e->ctype_len, colon + 1, vl);
		} else if (nl == 25 && strncasecmp(line, "Content-Transfer-Encoding", 25) == 0) {
			field = 2;
			e->cte_len = 0;
			append_value(e->cte, sizeof(e->cte) - 1, &e->cte_len, colon + 1, vl);
		}
	}
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Does the Content-Type value v start with type/subtype sub (NULL = any)? */
static bool
ctype_is(const char *v, const char *type, const char *sub)
{
	v = skip_ws(v);
	size_t tl = strlen(type);
	if (strncasecmp(v, type, tl) != 0 || v[tl] != '/')
		return false;
	if (sub == NULL)
		return true;
	v += tl + 1;
	size_t sl = strlen(sub);
	return strncasecmp(v, sub, sl) == 0 &&
	       (v[sl] == '\0' || v[sl] == ';' || v[sl] == ' ' || v[sl] == '\t' || v[sl] == '(');
}

/* The boundary parameter of a Content-Type value into out; its length or 0. */
static size_t
ctype_boundary(const char *v, char *out, size_t cap)
{
	const char *p = strchr(v, ';');
	while (p != NULL) {
		p = skip_ws(p + 1);
		if (strncasecmp(p, "boundary", 8) == 0) {
			const char *q = skip_ws(p + 8);
			if (*q == '=') {
				q = skip_ws(q + 1);
				size_t n = 0;
				if (*q == '"') {
					for (q++; *q != '\0' && *q != '"' && n < cap; q++) {
						if (*q == '\\' && q[1] != '\0')
							q++;
						out[n++] = *q;
					}
					if (*q != '"')
						return 0;
				} else {
					while (*q != '\0' && *q != ';' && *q != ' ' && *q != '\t' &&
					       n < cap)
						out[n++] = *q++;
					if (n == cap)
						return 0;
				}
				return n;
			}
		}
		/* the next parameter: past a quoted string */
		bool quoted = false;
		for (; *p != '\0'; p++) {
			if (*p == '\\' && quoted && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = !quoted;
			else if (*p == ';' && !quoted)
				break;
		}
		p = *p == ';' ? p : NULL;
	}
	return 0;
}

struct scan_ctx {
	struct uri_hosts *h;
	size_t parts;
};

static void scan_entity(struct scan_ctx *c, const char *p, size_t len, int depth);

/* Is line a delimiter of boundary b? 1 = a part follows, 2 = the close one. */
static int
is_delimiter(const char *line, size_t n, const char *b, size_t bl)
{
	if (n < bl + 2 || line[0] != '-' || line[1] != '-' || memcmp(line + 2, b, bl) != 0)
		return 0;
	size_t i = bl + 2;
	int kind = 1;
	if (i + 2 <= n && line[i] == '-' && line[i + 1] == '-') {
		kind = 2;
		i += 2;
	}
	for (; i < n; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return kind;
}

static void
scan_multipart(struct scan_ctx *c, const char *p, size_t len, const char *b, size_t bl, int depth)
{
	size_t pos = 0, part = 0;
	bool in_part = false;
	const char *line;
	size_t n;
	for (;;) {
		size_t at = pos;
		if (!next_line(p, len, &pos, &line, &n))
			break;
		int k = is_delimiter(line, n, b, bl);
		if (k == 0)
			continue;
		if (in_part) {
			/* the part ends before the line break in front of the delimiter */
			size_t end = at;
			if (end > part && p[end - 1] == '\n')
				end--;
			if (end > part && p[end - 1] == '\r')
				end--;
			scan_entity(c, p + part, end - part, depth + 1);
		}
		if (k == 2)
			return;
		in_part = true;
		part = pos;
	}
	if (in_part) /* cut short: the last part goes to the end */
		scan_entity(c, p + part, len - part, depth + 1);
}

static void
scan_entity(struct scan_ctx *c, const char *p, size_t len, int depth)
{
	if (depth > URI_SCAN_DEPTH || c->parts >= URI_SCAN_PARTS_MAX)
		return;
	c->parts++;
	struct mime_entity *e = xmalloc(sizeof(*e));
	mime_headers(p, len, e);
	const char *body = p + e->body;
	size_t blen = len - e->body;
	if (e->ctype_len == 0 || ctype_is(e->ctype, "text", "plain") ||
	    ctype_is(e->ctype, "text", "html")) {
		const char *cte = skip_ws(e->cte);
		size_t cl = strcspn(cte, " \t(;");
		if (cl == 16 && strncasecmp(cte, "quoted-printable", 16) == 0) {
			char *d = xmalloc(blen + 1);
			uri_scan_text(d, qp_decode(body, blen, d), c->h);
			free(d);
		} else if (cl == 6 && strncasecmp(cte, "base64", 6) == 0) {
			char *d = xmalloc(blen + 1);
			uri_scan_text(d, b64_decode(body, blen, d), c->h);
			free(d);
		} else {
			uri_scan_text(body, blen, c->h);
		}
	} else if (ctype_is(e->ctype, "multipart", NULL)) {
		char b[MIME_BOUNDARY_MAX];
		size_t bl = ctype_boundary(e->ctype, b, sizeof(b));
		if (bl > 0)
			scan_multipart(c, body, blen, b, bl, depth);
	}
	free(e);
}

void
uri_scan_message(const char *msg, size_t len, struct uri_hosts *h)
{
	struct scan_ctx c = {.h = h, .parts = 0};
	scan_entity(&c, msg, len, 0);
}

/* Second levels under a country code that are public suffixes. */
static const char *const cc_second[] = {"ac", "co", "com", "edu", "go", "gob", "gov", "ltd", "me",
    "mil", "ne", "net", "nom", "or", "org", "plc", "sch", NULL};

int
uri_registered_domain(const char *host, char *out, size_t outlen)
{
	size_t len = strlen(host);
	if (len + 1 > outlen || len == 0)
		return -1;
	if (is_ipv4(host)) {
		unsigned o[4];
		if (sscanf(host, "%u.%u.%u.%u", &o[0], &o[1], &o[2], &o[3]) != 4)
			return -1;
		int n = snprintf(out, outlen, "%u.%u.%u.%u", o[3], o[2], o[1], o[0]);
		return n > 0 && (size_t)n < outlen ? n : -1;
	}
	/* the starts of the last three labels */
	const char *l1 = NULL, *l2 = NULL, *l3 = NULL;
	for (const char *p = host + len; p > host; p--)
		if (p[-1] == '.') {
			if (l1 == NULL)
				l1 = p;
			else if (l2 == NULL)
				l2 = p;
			else {
				l3 = p;
				break;
			}
		}
	if (l1 == NULL)
		return -1;
	if (l2 == NULL)
		l2 = host;
	const char *start = l2;
	if (strlen(l1) == 2 && l2 != host) {
		size_t sl = (size_t)(l1 - 1 - l2);
		for (size_t i = 0; cc_second[i] != NULL; i++)
			if (strlen(cc_second[i]) == sl && strncmp(cc_second[i], l2, sl) == 0) {
				start = l3 != NULL ? l3 : host;
				break;
			}
	}
	size_t n = len - (size_t)(start - host);
	memcpy(out, start, n + 1);
	return (int)n;
}

static void
names_add(char names[][URI_HOST_MAX + 1], size_t *n, size_t max, const char *name)
{
	if (*n == max)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return;
	snprintf(names[(*n)++], URI_HOST_MAX + 1, "%s", name);
}

size_t
uri_lookup_names(const struct uri_hosts *h, char names[][URI_HOST_MAX + 1], size_t max)
{
	size_t n = 0;
	char dom[URI_HOST_MAX + 1];
	for (size_t i = 0; i < h->n; i++)
		if (uri_registered_domain(h->name[i], dom, sizeof(dom)) > 0)
			names_add(names, &n, max, dom);
	for (size_t i = 0; i < h->n; i++)
		if (!is_ipv4(h->name[i]) &&
		    uri_registered_domain(h->name[i], dom, sizeof(dom)) > 0 &&
		    strcmp(dom, h->name[i]) != 0)
			names_add(names, &n, max, h->name[i]);
	return n;
}

/* spf_record.c - the SPF record parser and macro expansion (see spf_record.h). */
#include "spf_record.h"

#include "../core/xmalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Terms in one record: far more than 10 lookups allow; refuses garbage. */
#define SPF_MAX_TERMS 64

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail",
		"temperror", "permerror" };
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

bool
spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool
is_delim(char c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/*
 * Checks the macro-string s[0..len): literals %x21-24 / %x26-7E (and
 * spaces in an explanation), "%%", "%_", "%-" and
 * "%{" letter *DIGIT ["r"] *delimiter "}". exp allows c, r, t.
 * On success *ends_macro says whether it ends with a macro-expand.
 */
static int
macro_check(const char *s, size_t len, bool exp, bool *ends_macro, char *err, size_t errlen)
{
	size_t i = 0;
	*ends_macro = false;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		*ends_macro = false;
		if (c != '%') {
			if (c < 0x21 || c > 0x7e) {
				if (!(exp && c == ' ')) {
					seterr(err, errlen, "bad character 0x%02x", c);
					return -1;
				}
			}
			i++;
			continue;
		}
		if (i + 1 >= len) {
			seterr(err, errlen, "\"%%\" at the end");
			return -1;
		}
		char n = s[i + 1];
		if (n == '%' || n == '_' || n == '-') {
			i += 2;
			*ends_macro = true;
			continue;
		}
		if (n != '{') {
			seterr(err, errlen, "bad macro \"%%%c\"", n);
			return -1;
		}
		i += 2;
		char l = i < len ? (char)tolower((unsigned char)s[i]) : '\0';
		if (l == '\0' || strchr("slodiphv", l) == NULL) {
			if (!(exp && l != '\0' && strchr("crt", l) != NULL)) {
				seterr(err, errlen, "bad macro letter");
				return -1;
			}
		}
		i++;
		size_t digits = 0;
		unsigned long num = 0;
		while (i < len && isdigit((unsigned char)s[i])) {
			num = num * 10 + (unsigned long)(s[i] - '0');
			if (++digits > 3) {
				seterr(err, errlen, "macro transformer too long");
				return -1;
			}
			i++;
		}
		if (digits > 0 && num == 0) { /* RFC 7208 7.3: MUST be nonzero */
			seterr(err, errlen, "macro transformer 0");
			return -1;
		}
		if (i < len && (s[i] == 'r' || s[i] == 'R'))
			i++;
		while (i < len && is_delim(s[i]))
			i++;
		if (i >= len || s[i] != '}') {
			seterr(err, errlen, "unterminated macro");
			return -1;
		}
		i++;
		*ends_macro = true;
	}
	return 0;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool
toplabel_ok(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[len - 1]))
		return false;
	bool alpha = false, hyphen = false;
	for (size_t i = 0; i < len; i++) {
		if (isalpha((unsigned char)s[i]))
			alpha = true;
		else if (s[i] == '-')
			hyphen = true;
		else if (!isdigit((unsigned char)s[i]))
			return false;
	}
	return alpha || hyphen;
}

/* domain-spec = macro-string domain-end;
 * domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static int
domain_spec_check(const char *s, size_t len, char *err, size_t errlen)
{
	bool ends_macro;
	if (len == 0) {
		seterr(err, errlen, "empty domain-spec");
		return -1;
	}
	if (macro_check(s, len, false, &ends_macro, err, errlen) != 0)
		return -1;
	if (ends_macro)
		return 0;
	size_t end = len;
	if (s[end - 1] == '.')
		end--;
	size_t dot = end;
	while (dot > 0 && s[dot - 1] != '.')
		dot--;
	if (dot == 0 || !toplabel_ok(s + dot, end - dot)) {
		seterr(err, errlen, "domain-spec has no valid top label");
		return -1;
	}
	return 0;
}

/* A CIDR length: "0" or 1-3 digits without a leading zero, <= max. */
static int
cidr_of(const char *s, size_t len, unsigned max, unsigned *out)
{
	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Strips a dual-cidr-length ("/n", "//m", "/n//m") from the end of
 * s[0..*len); -1 if one is there but malformed. */
static int
dual_cidr(const char *s, size_t *len, struct spf_term *t)
{
	size_t end = *len, i = end;
	while (i > 0 && isdigit((unsigned char)s[i - 1]))
		i--;
	if (i == end || i == 0 || s[i - 1] != '/')
		return 0; /* no CIDR (a "/" inside a macro-string stays) */
	if (i >= 2 && s[i - 2] == '/') {
		if (cidr_of(s + i, end - i, 128, &t->cidr6) != 0)
			return -1;
		end = i - 2;
		i = end;
		while (i > 0 && isdigit((unsigned char)s[i - 1]))
			i--;
		if (i == end || i == 0 || s[i - 1] != '/') {
			*len = end;
			return 0;
		}
	}
	if (cidr_of(s + i, end - i, 32, &t->cidr4) != 0)
		return -1;
	*len = i - 1;
	return 0;
}

/* One mechanism term s[0..len) (qualifier removed). */
static int
parse_mechanism(const char *s, size_t len, struct spf_term *t, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum spf_mech mech;
	} mechs[] = {
		{ "all", SPF_M_ALL }, { "include", SPF_M_INCLUDE }, { "a", SPF_M_A },
		{ "mx", SPF_M_MX }, { "ptr", SPF_M_PTR }, { "ip4", SPF_M_IP4 },
		{ "ip6", SPF_M_IP6 }, { "exists", SPF_M_EXISTS },
	};
	size_t nl = 0;
	while (nl < len && s[nl] != ':' && s[nl] != '/')
		nl++;
	size_t k;
	for (k = 0; k < sizeof(mechs) / sizeof(mechs[0]); k++)
		if (strlen(mechs[k].name) == nl && strncasecmp(s, mechs[k].name, nl) == 0)
			break;
	if (k == sizeof(mechs) / sizeof(mechs[0])) {
		seterr(err, errlen, "unknown mechanism \"%.*s\"", (int)(nl < 32 ? nl : 32), s);
		return -1;
	}
	t->mech = mechs[k].mech;
	t->cidr4 = 32;
	t->cidr6 = 128;
	const char *arg = s + nl;
	size_t alen = len - nl;
	switch (t->mech) {
	case SPF_M_ALL:
		if (alen != 0) {
			seterr(err, errlen, "\"all\" takes no argument");
			return -1;
		}
		return 0;
	case SPF_M_INCLUDE:
	case SPF_M_EXISTS:
	case SPF_M_PTR:
		if (alen == 0 && t->mech == SPF_M_PTR)
			return 0;
		if (alen < 2 || arg[0] != ':') {
			seterr(err, errlen, "\"%s\" needs \":domain\"", mechs[k].name);
			return -1;
		}
		if (domain_spec_check(arg + 1, alen - 1, err, errlen) != 0)
			return -1;
		t->domain = xstrndup(arg + 1, alen - 1);
		return 0;
	case SPF_M_A:
	case SPF_M_MX:
		if (dual_cidr(arg, &alen, t) != 0) {
			seterr(err, errlen, "bad CIDR length in \"%s\"", mechs[k].name);
			return -1;
		}
		if (alen == 0)
			return 0;
		if (arg[0] != ':' || domain_spec_check(arg + 1, alen - 1, err, errlen) != 0) {
			if (arg[0] != ':')
				seterr(err, errlen, "bad argument to \"%s\"", mechs[k].name);
			return -1;
		}
		t->domain = xstrndup(arg + 1, alen - 1);
		return 0;
	case SPF_M_IP4:
	case SPF_M_IP6: {
		bool v4 = t->mech == SPF_M_IP4;
		if (alen < 2 || arg[0] != ':') {
			seterr(err, errlen, "\"%s\" needs \":address\"", mechs[k].name);
			return -1;
		}
		const char *slash = memchr(arg + 1, '/', alen - 1);
		size_t al = slash != NULL ? (size_t)(slash - arg - 1) : alen - 1;
		char buf[INET6_ADDRSTRLEN + 1];
		if (al == 0 || al >= sizeof(buf)) {
			seterr(err, errlen, "bad address in \"%s\"", mechs[k].name);
			return -1;
		}
		memcpy(buf, arg + 1, al);
		buf[al] = '\0';
		uint8_t bin[16];
		if (inet_pton(v4 ? AF_INET : AF_INET6, buf, bin) != 1) {
			seterr(err, errlen, "bad address in \"%s\"", mechs[k].name);
			return -1;
		}
		t->net.family = v4 ? AF_INET : AF_INET6;
		memset(t->net.addr, 0, sizeof(t->net.addr));
		memcpy(t->net.addr, bin, v4 ? 4 : 16);
		if (slash != NULL &&
		    cidr_of(slash + 1, (size_t)(arg + alen - slash - 1), v4 ? 32 : 128,
			v4 ? &t->cidr4 : &t->cidr6) != 0) {
			seterr(err, errlen, "bad CIDR length in \"%s\"", mechs[k].name);
			return -1;
		}
		return 0;
	}
	}
	return -1;
}

void
spf_record_clear(struct spf_record *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->terms[i].domain);
	free(r->terms);
	free(r->redirect);
	free(r->exp);
	memset(r, 0, sizeof(*r));
}

int
spf_record_parse(const char *txt, size_t len, struct spf_record *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!spf_is_record(txt, len)) {
		seterr(err, errlen, "not an SPF record");
		return -1;
	}
	if (memchr(txt, '\0', len) != NULL) {
		seterr(err, errlen, "NUL in record");
		return -1;
	}
	size_t i = 6;
	while (i < len) {
		if (txt[i] == ' ') {
			i++;
			continue;
		}
		size_t start = i;
		while (i < len && txt[i] != ' ')
			i++;
		const char *t = txt + start;
		size_t tl = i - start;
		/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) "=" : a modifier */
		size_t nl = 0;
		if (isalpha((unsigned char)t[0]))
			while (nl < tl && (isalnum((unsigned char)t[nl]) || t[nl] == '-' ||
					      t[nl] == '_' || t[nl] == '.'))
				nl++;
		if (nl > 0 && nl < tl && t[nl] == '=') {
			const char *val = t + nl + 1;
			size_t vl = tl - nl - 1;
			bool redirect = nl == 8 && strncasecmp(t, "redirect", 8) == 0;
			bool exp = nl == 3 && strncasecmp(t, "exp", 3) == 0;
			if (redirect || exp) {
				char **slot = redirect ? &out->redirect : &out->exp;
				if (*slot != NULL) {
					seterr(err, errlen, "\"%s\" given twice",
					    redirect ? "redirect" : "exp");
					goto fail;
				}
				if (domain_spec_check(val, vl, err, errlen) != 0)
					goto fail;
				*slot = xstrndup(val, vl);
			} else {
				bool ends;
				if (macro_check(val, vl, false, &ends, err, errlen) != 0)
					goto fail;
			}
			continue;
		}
		struct spf_term term;
		memset(&term, 0, sizeof(term));
		term.qual = SPF_PASS;
		switch (t[0]) {
		case '+':
			term.qual = SPF_PASS;
			break;
		case '-':
			term.qual = SPF_FAIL;
			break;
		case '~':
			term.qual = SPF_SOFTFAIL;
			break;
		case '?':
			term.qual = SPF_NEUTRAL;
			break;
		}
		size_t q = strchr("+-~?", t[0]) != NULL ? 1 : 0;
		if (q == tl) {
			seterr(err, errlen, "qualifier without mechanism");
			goto fail;
		}
		if (parse_mechanism(t + q, tl - q, &term, err, errlen) != 0)
			goto fail;
		if (out->n == SPF_MAX_TERMS) {
			free(term.domain);
			seterr(err, errlen, "more than %d terms", SPF_MAX_TERMS);
			goto fail;
		}
		out->terms = xreallocarray(out->terms, out->n + 1, sizeof(*out->terms));
		out->terms[out->n++] = term;
	}
	return 0;
fail:
	spf_record_clear(out);
	return -1;
}

/* --- macro expansion ------------------------------------------------------ */

/* Appends s[0..len) to out, URL-escaping it when upper (RFC 7208 7.3). */
static int
put(char *out, size_t outlen, size_t *o, const char *s, size_t len, bool upper)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = !upper || isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
		size_t need = plain ? 1 : 3;
		if (*o + need >= outlen)
			return -1;
		if (plain) {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
	return 0;
}

/* The value of macro letter l, in buf when it must be built. */
static const char *
letter_value(char l, const struct spf_macro_vars *v, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	switch (l) {
	case 's':
		return v->sender;
	case 'l':
		return v->local;
	case 'o':
		return v->sender_dom;
	case 'd':
		return v->domain;
	case 'h':
		return v->helo;
	case 'p':
		/* RFC 7208 7.3: "unknown" when there is no validated name. */
		return v->validated != NULL ? v->validated : "unknown";
	case 'v':
		return v->ip->family == AF_INET ? "in-addr" : "ip6";
	case 'r':
		return v->receiver != NULL ? v->receiver : "unknown";
	case 't':
		snprintf(buf, len, "%lld", v->now);
		return buf;
	case 'c':
		netaddr_format(v->ip, buf, len);
		return buf;
	case 'i':
		if (v->ip->family == AF_INET) {
			netaddr_format(v->ip, buf, len);
		} else {
			/* Dot-separated nibbles, most significant first. */
			size_t n = 0;
			for (int i = 0; i < 16 && n + 4 < len; i++) {
				buf[n++] = hex[v->ip->addr[i] >> 4];
				buf[n++] = '.';
				buf[n++] = hex[v->ip->addr[i] & 15];
				buf[n++] = '.';
			}
			buf[n > 0 ? n - 1 : 0] = '\0';
		}
		return buf;
	}
	return "";
}

int
spf_macro_expand(const char *s, const struct spf_macro_vars *v, bool exp, char *out,
    size_t outlen, char *err, size_t errlen)
{
	bool ends;
	size_t o = 0, len = strlen(s);
	if (outlen == 0 || macro_check(s, len, exp, &ends, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < len;) {
		if (s[i] != '%') {
			if (put(out, outlen, &o, s + i, 1, false) != 0)
				goto toolong;
			i++;
			continue;
		}
		char n = s[i + 1];
		if (n == '%' || n == '_' || n == '-') {
			const char *r = n == '%' ? "%" : n == '_' ? " " : "%20";
			if (put(out, outlen, &o, r, strlen(r), false) != 0)
				goto toolong;
			i += 2;
			continue;
		}
		/* "%{" letter digits [r] delimiters "}", checked above */
		i += 2;
		char letter = s[i];
		bool upper = isupper((unsigned char)letter);
		letter = (char)tolower((unsigned char)letter);
		i++;
		size_t keep = 0;
		while (isdigit((unsigned char)s[i]))
			keep = keep * 10 + (size_t)(s[i++] - '0');
		bool reverse = false;
		if (s[i] == 'r' || s[i] == 'R') {
			reverse = true;
			i++;
		}
		char delims[8] = "";
		size_t nd = 0;
		while (s[i] != '}') {
			if (nd < sizeof(delims) - 1 && strchr(delims, s[i]) == NULL)
				delims[nd++] = s[i];
			i++;
		}
		delims[nd] = '\0';
		i++;
		if (nd == 0)
			memcpy(delims, ".", 2);
		char buf[128];
		const char *val = letter_value(letter, v, buf, sizeof(buf));
		/* Split into parts on the delimiters. */
		size_t vl = strlen(val);
		const char *parts[256];
		size_t plen[256], np = 0;
		size_t st = 0;
		for (size_t k = 0; k <= vl; k++) {
			if (k == vl || strchr(delims, val[k]) != NULL) {
				if (np == sizeof(parts) / sizeof(parts[0])) {
					seterr(err, errlen, "macro value has too many parts");
					return -1;
				}
				parts[np] = val + st;
				plen[np++] = k - st;
				st = k + 1;
			}
		}
		if (reverse) {
			for (size_t a = 0, b = np - 1; a < b; a++, b--) {
				const char *tp = parts[a];
				parts[a] = parts[b];
				parts[b] = tp;
				size_t tl = plen[a];
				plen[a] = plen[b];
				plen[b] = tl;
			}
		}
		size_t first = keep > 0 && keep < np ? np - keep : 0;
		for (size_t k = first; k < np; k++) {
			if (k > first && put(out, outlen, &o, ".", 1, false) != 0)
				goto toolong;
			if (put(out, outlen, &o, parts[k], plen[k], upper) != 0)
				goto toolong;
		}
	}
	out[o] = '\0';
	if (!exp) {
		/* RFC 7208 7.3: over 253 octets, drop labels on the left. */
		size_t cut = 0;
		while (o - cut > 253) {
			const char *dot = memchr(out + cut, '.', o - cut);
			if (dot == NULL) {
				seterr(err, errlen, "expanded domain too long");
				return -1;
			}
			cut = (size_t)(dot - out) + 1;
		}
		if (cut > 0) {
			memmove(out, out + cut, o - cut + 1);
			o -= cut;
		}
	}
	return (int)o;
toolong:
	seterr(err, errlen, "macro expansion too long");
	return -1;
}

/*
 * smtp_parse.c - parsers for SMTP command lines (see smtp_parse.h).
 *
 * All input here is untrusted. Every function works on (pointer, length),
 * reads nothing past the length, allocates nothing, and judges characters
 * through the class tables below rather than <ctype.h> (which depends on
 * the locale and is undefined for negative char values).
 */
#include "smtp_parse.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

/* Character classes of the ASCII octets, one bit per grammar rule. */
enum {
	SC_ALPHA = 1 << 0,    /* ALPHA */
	SC_DIGIT = 1 << 1,    /* DIGIT */
	SC_ATEXT = 1 << 2,    /* RFC 5322 3.2.3 atext (ASCII part) */
	SC_QTEXT = 1 << 3,    /* RFC 5321 4.1.2 qtextSMTP: %d32-33 / %d35-91 / %d93-126 */
	SC_DCONTENT = 1 << 4, /* RFC 5321 4.1.3 dcontent: %d33-90 / %d94-126 */
	SC_VALUE = 1 << 5,    /* RFC 5321 4.1.2 esmtp-value: %d33-60 / %d62-126 */
	SC_BLANK = 1 << 6,    /* SP / HTAB */
	SC_IP6 = 1 << 7,      /* may appear in an IPv6 address text: HEXDIG ":" "." */
};

/* clang-format off */
/* Printable punctuation that is qtext, dcontent and value alike. */
#define SC_P (SC_QTEXT | SC_DCONTENT | SC_VALUE)
/* The same, and also atext. */
#define SC_AT (SC_P | SC_ATEXT)
#define SC_L (SC_AT | SC_ALPHA)
#define SC_H (SC_L | SC_IP6)
#define SC_D (SC_AT | SC_DIGIT | SC_IP6)
#define SC_D10 SC_D, SC_D, SC_D, SC_D, SC_D, SC_D, SC_D, SC_D, SC_D, SC_D
#define SC_HEX6 SC_H, SC_H, SC_H, SC_H, SC_H, SC_H
#define SC_L20 SC_L, SC_L, SC_L, SC_L, SC_L, SC_L, SC_L, SC_L, SC_L, SC_L, \
	SC_L, SC_L, SC_L, SC_L, SC_L, SC_L, SC_L, SC_L, SC_L, SC_L
static const unsigned char sc_class[128] = {
	['\t'] = SC_BLANK,
	[' '] = SC_QTEXT | SC_BLANK,
	['!'] = SC_AT,
	['"'] = SC_DCONTENT | SC_VALUE,
	['#'] = SC_AT, ['$'] = SC_AT, ['%'] = SC_AT, ['&'] = SC_AT, ['\''] = SC_AT,
	['('] = SC_P, [')'] = SC_P,
	['*'] = SC_AT, ['+'] = SC_AT,
	[','] = SC_P,
	['-'] = SC_AT,
	['.'] = SC_P | SC_IP6,
	['/'] = SC_AT,
	['0'] = SC_D10,
	[':'] = SC_P | SC_IP6,
	[';'] = SC_P, ['<'] = SC_P,
	['='] = SC_QTEXT | SC_DCONTENT | SC_ATEXT, /* not in esmtp-value */
	['>'] = SC_P,
	['?'] = SC_AT,
	['@'] = SC_P,
	['A'] = SC_HEX6, SC_L20,
	['['] = SC_QTEXT | SC_VALUE,
	['\\'] = SC_VALUE,
	[']'] = SC_QTEXT | SC_VALUE,
	['^'] = SC_AT, ['_'] = SC_AT, ['`'] = SC_AT,
	['a'] = SC_HEX6, SC_L20,
	['{'] = SC_AT, ['|'] = SC_AT, ['}'] = SC_AT, ['~'] = SC_AT,
};
/* clang-format on */

/* True if octet c is ASCII and has one of the class bits in mask. */
static bool
sc_is(unsigned char c, unsigned mask)
{
	return c < 0x80 && (sc_class[c] & mask) != 0;
}

static unsigned char
sc_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* Case-insensitive (ASCII) compare of s[0..n) with the first n octets of lit. */
static bool
sc_caseeq(const char *s, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sc_upper((unsigned char)s[i]) != sc_upper((unsigned char)lit[i]))
			return false;
	return true;
}

/* Returns the first index at or after i in s[0..len) that is not SP/HTAB. */
static size_t
sc_skip_blanks(const char *s, size_t len, size_t i)
{
	while (i < len && sc_is((unsigned char)s[i], SC_BLANK))
		i++;
	return i;
}

/*
 * RFC 3629 section 4: the well-formed multi-octet sequences, by lead
 * octet. The range of the second octet is what excludes overlongs
 * (E0, F0), surrogates (ED) and code points above U+10FFFF (F4); every
 * further octet is 80..BF.
 */
/* clang-format off */
static const struct utf8_lead {
	unsigned char lo, hi;   /* range of the lead octet */
	unsigned char len;      /* octets in the sequence */
	unsigned char lo2, hi2; /* range of the second octet */
} utf8_leads[] = {
	{ 0xc2, 0xdf, 2, 0x80, 0xbf },
	{ 0xe0, 0xe0, 3, 0xa0, 0xbf },
	{ 0xe1, 0xec, 3, 0x80, 0xbf },
	{ 0xed, 0xed, 3, 0x80, 0x9f },
	{ 0xee, 0xef, 3, 0x80, 0xbf },
	{ 0xf0, 0xf0, 4, 0x90, 0xbf },
	{ 0xf1, 0xf3, 4, 0x80, 0xbf },
	{ 0xf4, 0xf4, 4, 0x80, 0x8f },
};
/* clang-format on */

/*
 * Length of the well-formed non-ASCII UTF-8 sequence at s[0..n) (2 to 4),
 * or 0 when s does not start with one (ASCII, stray continuation octet,
 * overlong, surrogate, beyond U+10FFFF, truncated).
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	const struct utf8_lead *l = NULL;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < sizeof(utf8_leads) / sizeof(utf8_leads[0]); i++) {
		if (s[0] >= utf8_leads[i].lo && s[0] <= utf8_leads[i].hi) {
			l = &utf8_leads[i];
			break;
		}
	}
	if (l == NULL || n < l->len || s[1] < l->lo2 || s[1] > l->hi2)
		return 0;
	for (size_t i = 2; i < l->len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return l->len;
}

/* RFC 3629 well-formedness; ASCII, NUL included, is always fine. */
bool
smtp_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = utf8_seq(u + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/*
 * Splits a command line into verb and argument (contract in the header).
 * A NUL anywhere in the line also gives -1, so no handler ever sees one.
 * Only SP ends the verb; "HELO\tx" is a bad verb. On -1, verb is "" and
 * arg NULL.
 */
int
smtp_parse_cmdline(const char *line, size_t len, struct smtp_cmdline *out)
{
	size_t n, i, end;

	out->verb[0] = '\0';
	out->arg = NULL;
	out->arglen = 0;
	if (line == NULL || len == 0 || memchr(line, '\0', len) != NULL)
		return -1;
	for (n = 0; n < len && line[n] != ' '; n++) {
		unsigned char c = (unsigned char)line[n];
		if (n == SMTP_VERB_MAX || !sc_is(c, SC_ALPHA | SC_DIGIT)) {
			out->verb[0] = '\0';
			return -1;
		}
		out->verb[n] = (char)sc_upper(c);
	}
	if (n == 0)
		return -1;
	out->verb[n] = '\0';
	i = sc_skip_blanks(line, len, n);
	end = len;
	while (end > i && sc_is((unsigned char)line[end - 1], SC_BLANK))
		end--;
	if (end > i) {
		out->arg = line + i;
		out->arglen = end - i;
	}
	return 0;
}

/*
 * Checks that s[0..n) is an RFC 5321 Domain: dot-separated labels of
 * letters, digits and inner hyphens (RFC 1123 2.1: a label may start with
 * a digit), each 1..63 octets, the whole at most 255, no empty label and
 * so no leading, doubled or trailing dot. With utf8, a well-formed
 * non-ASCII UTF-8 sequence counts as a letter (U-labels, RFC 6531 3.3);
 * the octet limits then apply to the UTF-8 form.
 */
static bool
dom_valid(const char *s, size_t n, bool utf8)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, label = 0;

	if (n == 0 || n > 255)
		return false;
	while (i < n) {
		unsigned char c = u[i];
		size_t step = 1;

		if (c == '.') {
			if (label == 0 || u[i - 1] == '-')
				return false;
			label = 0;
			i++;
			continue;
		}
		if (c == '-') {
			if (label == 0)
				return false;
		} else if (c >= 0x80) {
			if (!utf8 || (step = utf8_seq(u + i, n - i)) == 0)
				return false;
		} else if (!sc_is(c, SC_ALPHA | SC_DIGIT)) {
			return false;
		}
		label += step;
		i += step;
		if (label > 63)
			return false;
	}
	return label > 0 && u[n - 1] != '-';
}

/* True if s[0..n) is a dotted-quad IPv4 address (RFC 5321 4.1.3 IPv4-address-literal). */
static bool
lit_ipv4(const char *s, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t digits = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		while (i < n && digits < 4 && sc_is((unsigned char)s[i], SC_DIGIT)) {
			v = v * 10 + (unsigned)(s[i] - '0');
			digits++;
			i++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
	}
	return i == n;
}

/*
 * True if s[0..n) is IPv6 address text. Only hex digits, ":" and "." may
 * appear, which also keeps a NUL from cutting the copy handed to
 * inet_pton(3) short.
 */
static bool
lit_ipv6(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n == 0 || n >= sizeof(buf))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!sc_is((unsigned char)s[i], SC_IP6))
			return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* True if s[0..n) is an RFC 5321 Ldh-str used as a Standardized-tag. */
static bool
lit_tag(const char *s, size_t n)
{
	if (n == 0 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '-' && !sc_is((unsigned char)s[i], SC_ALPHA | SC_DIGIT))
			return false;
	return true;
}

/* What an address literal may be, beyond IPv4 and "IPv6:" (always allowed). */
enum {
	LIT_GENERAL = 1 << 0, /* General-address-literal "tag:dcontent" */
	LIT_BARE_V6 = 1 << 1, /* "[::1]" without the tag, as EHLO sees it */
};

/*
 * Checks the text between "[" and "]" of an address literal (RFC 5321
 * 4.1.3). A tag of "IPv6" (any case) must be followed by a valid IPv6
 * address; it never falls back to the general form.
 */
static bool
lit_valid(const char *s, size_t n, unsigned flags)
{
	const char *colon;
	size_t tlen;

	if (lit_ipv4(s, n))
		return true;
	if (n > 5 && sc_caseeq(s, "IPv6:", 5))
		return lit_ipv6(s + 5, n - 5);
	if ((flags & LIT_BARE_V6) && lit_ipv6(s, n))
		return true;
	if (!(flags & LIT_GENERAL) || (colon = memchr(s, ':', n)) == NULL)
		return false;
	tlen = (size_t)(colon - s);
	if (!lit_tag(s, tlen) || tlen + 1 == n)
		return false;
	for (size_t i = tlen + 1; i < n; i++)
		if (!sc_is((unsigned char)s[i], SC_DCONTENT))
			return false;
	return true;
}

/*
 * EHLO/HELO argument check, after James's EHLO table (1b.4): an ASCII
 * domain or IPv4 text, "[IPv4]", "[IPv6:...]" or "[::1]". Stricter than
 * James on one point: a trailing dot ("example.com.") is refused, as
 * RFC 5321 Domain has none. General literals ("[tag:x]") are refused.
 */
bool
smtp_valid_helo(const char *s, size_t len)
{
	if (s == NULL || len == 0)
		return false;
	if (s[0] == '[')
		return len > 2 && s[len - 1] == ']' && lit_valid(s + 1, len - 2, LIT_BARE_V6);
	/* ASCII only: EHLO comes before any SMTPUTF8 negotiation. */
	return dom_valid(s, len, false);
}

/*
 * Scans a domain or (with literal_ok) an address literal starting at
 * s[*pos]. The domain ends at the first octet that cannot belong to it;
 * the caller judges that terminator. Advances *pos past the domain and
 * sets *utf8 if it holds non-ASCII octets. Returns false if invalid.
 */
static bool
path_domain(const char *s, size_t len, size_t *pos, bool literal_ok, bool *utf8)
{
	size_t p = *pos, start = p;
	bool high = false;

	if (literal_ok && p < len && s[p] == '[') {
		const char *close = memchr(s + p, ']', len - p);
		if (close == NULL)
			return false;
		size_t end = (size_t)(close - s);
		if (!lit_valid(s + p + 1, end - p - 1, LIT_GENERAL))
			return false;
		*pos = end + 1;
		return true;
	}
	while (p < len) {
		unsigned char c = (unsigned char)s[p];
		if (c >= 0x80)
			high = true;
		else if (c != '.' && c != '-' && !sc_is(c, SC_ALPHA | SC_DIGIT))
			break;
		p++;
	}
	if (!dom_valid(s + start, p - start, true))
		return false;
	if (high)
		*utf8 = true;
	*pos = p;
	return true;
}

/*
 * Scans a Dot-string local part (RFC 5321 4.1.2, atext of RFC 5322 3.2.3,
 * plus UTF-8 per RFC 6531 3.3) at s[*pos]: one or more atoms separated
 * by single dots. Returns false if empty or on a leading, doubled or
 * trailing dot or malformed UTF-8.
 */
static bool
path_dotstring(const char *s, size_t len, size_t *pos, bool *utf8)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t p = *pos;
	bool atom = false; /* the current atom is not empty */

	while (p < len) {
		unsigned char c = u[p];
		if (c == '.') {
			if (!atom)
				return false;
			atom = false;
			p++;
		} else if (c >= 0x80) {
			size_t n = utf8_seq(u + p, len - p);
			if (n == 0)
				return false;
			*utf8 = true;
			atom = true;
			p += n;
		} else if (sc_is(c, SC_ATEXT)) {
			atom = true;
			p++;
		} else {
			break;
		}
	}
	if (!atom)
		return false;
	*pos = p;
	return true;
}

/*
 * Scans a Quoted-string local part at s[*pos] (which is the opening
 * DQUOTE): qtextSMTP, quoted-pairSMTP ("\" %d32-126) and, per RFC 6531,
 * UTF-8. Advances *pos past the closing DQUOTE.
 */
static bool
path_quoted(const char *s, size_t len, size_t *pos, bool *utf8)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t p = *pos + 1;

	while (p < len) {
		unsigned char c = u[p];
		if (c == '"') {
			*pos = p + 1;
			return true;
		}
		if (c == '\\') {
			if (p + 1 >= len || u[p + 1] < 32 || u[p + 1] > 126)
				return false;
			p += 2;
		} else if (c >= 0x80) {
			size_t n = utf8_seq(u + p, len - p);
			if (n == 0)
				return false;
			*utf8 = true;
			p += n;
		} else if (sc_is(c, SC_QTEXT)) {
			p++;
		} else {
			return false;
		}
	}
	return false;
}

/*
 * Scans an obsolete source route (RFC 5321 4.1.2 A-d-l ":", appendix C)
 * at s[*pos], which is "@": "@" Domain *("," "@" Domain) ":". The route
 * is only checked and skipped; the caller drops it.
 */
static bool
path_route(const char *s, size_t len, size_t *pos, bool *utf8)
{
	size_t p = *pos;

	for (;;) {
		if (p >= len || s[p] != '@')
			return false;
		p++;
		if (!path_domain(s, len, &p, false, utf8))
			return false;
		if (p < len && s[p] == ',') {
			p++;
			continue;
		}
		if (p < len && s[p] == ':') {
			*pos = p + 1;
			return true;
		}
		return false;
	}
}

/*
 * Scans a Mailbox at s[*pos]: Local-part ["@" (Domain / address-literal)].
 * The "@" part may be missing (the caller appends a default domain, as
 * James does). On success copies it into path and advances *pos to the
 * octet after it; the caller judges what follows.
 */
static enum smtp_path_status
path_mailbox(const char *s, size_t len, size_t *pos, struct smtp_path *path)
{
	size_t p = *pos, start = p, at;
	bool ok;

	if (p < len && s[p] == '"')
		ok = path_quoted(s, len, &p, &path->utf8);
	else
		ok = path_dotstring(s, len, &p, &path->utf8);
	if (!ok)
		return SMTP_PATH_BAD_ADDRESS;
	at = p - start;
	if (p < len && s[p] == '@') {
		p++;
		if (!path_domain(s, len, &p, true, &path->utf8))
			return SMTP_PATH_BAD_ADDRESS;
	}
	if (p - start > SMTP_MAILBOX_MAX)
		return SMTP_PATH_TOO_LONG;
	/* local-part "@" domain is contiguous in the input. */
	memcpy(path->mailbox, s + start, p - start);
	path->len = p - start;
	path->mailbox[path->len] = '\0';
	path->at = at; /* == len when there is no "@" */
	*pos = p;
	return SMTP_PATH_OK;
}

/*
 * Scans "<" ... ">" at s[*pos] (which is "<"): the null path "<>" (and
 * "<@>", which James also takes as the null sender) for MAIL only, or an
 * optional source route then a mailbox. Advances *pos past ">".
 */
static enum smtp_path_status
path_bracketed(const char *s, size_t len, size_t *pos, bool is_rcpt, struct smtp_path *path)
{
	size_t p = *pos + 1;
	enum smtp_path_status st;

	if (p < len && (s[p] == '>' || (s[p] == '@' && p + 1 < len && s[p + 1] == '>'))) {
		if (is_rcpt)
			return SMTP_PATH_BAD_ADDRESS;
		path->null = true;
		*pos = p + (s[p] == '@' ? 2 : 1);
		return SMTP_PATH_OK;
	}
	if (p < len && s[p] == '@') {
		if (!path_route(s, len, &p, &path->utf8))
			return SMTP_PATH_BAD_ADDRESS;
		path->has_route = true;
	}
	st = path_mailbox(s, len, &p, path);
	if (st != SMTP_PATH_OK)
		return st;
	if (p >= len || s[p] != '>')
		return SMTP_PATH_BAD_ADDRESS;
	*pos = p + 1;
	return SMTP_PATH_OK;
}

static void
path_clear(struct smtp_path *path)
{
	path->null = false;
	path->utf8 = false;
	path->has_route = false;
	path->len = 0;
	path->at = 0;
	path->mailbox[0] = '\0';
}

/*
 * Parses the argument of MAIL or RCPT (contract in the header). Choices:
 * - the colon must follow FROM/TO at once; SP and HTAB may follow it;
 * - an empty path gives NO_BRACKETS when brackets are required, else
 *   BAD_ADDRESS; a NUL after the prefix gives BAD_ADDRESS;
 * - "<@>" is the null sender for MAIL, as in James; "<>" and "<@>" are
 *   BAD_ADDRESS for RCPT;
 * - a mailbox without "@" ("postmaster", or any local part) is stored as
 *   sent with at == len; the caller recognises postmaster or appends the
 *   default domain;
 * - utf8 is set for any octet >= 0x80 in the path, a dropped source route
 *   included, so a caller without SMTPUTF8 rejects all of them;
 * - after ">" comes the end, or SP/HTAB and the parameters (BAD_PARAMS
 *   otherwise); after a bare mailbox, anything but a blank is BAD_ADDRESS.
 * On any error the path is cleared and *params is NULL.
 */
enum smtp_path_status
smtp_parse_path_arg(const char *arg, size_t len, bool is_rcpt, bool brackets_required,
    struct smtp_path *path, const char **params, size_t *paramslen)
{
	const char *prefix = is_rcpt ? "TO:" : "FROM:";
	size_t plen = strlen(prefix), p;
	enum smtp_path_status st;
	bool bracketed;

	path_clear(path);
	*params = NULL;
	*paramslen = 0;
	/* "MAIL FROM :<x>" is not tolerated: the colon must follow at once. */
	if (arg == NULL || len < plen || !sc_caseeq(arg, prefix, plen))
		return SMTP_PATH_NO_PREFIX;
	p = sc_skip_blanks(arg, len, plen);
	if (memchr(arg + p, '\0', len - p) != NULL)
		return SMTP_PATH_BAD_ADDRESS;
	bracketed = p < len && arg[p] == '<';
	if (!bracketed && brackets_required)
		return SMTP_PATH_NO_BRACKETS;
	if (bracketed)
		st = path_bracketed(arg, len, &p, is_rcpt, path);
	else
		st = path_mailbox(arg, len, &p, path);
	if (st == SMTP_PATH_OK && p < len && !sc_is((unsigned char)arg[p], SC_BLANK))
		st = bracketed ? SMTP_PATH_BAD_PARAMS : SMTP_PATH_BAD_ADDRESS;
	if (st != SMTP_PATH_OK) {
		path_clear(path);
		return st;
	}
	p = sc_skip_blanks(arg, len, p);
	*params = arg + p;
	*paramslen = len - p;
	return SMTP_PATH_OK;
}

/*
 * Splits ESMTP parameters (contract in the header). Runs of SP between
 * items and SP at either end are tolerated; HTAB is not a separator.
 * "a b=c d" is three parameters; "=x", "K=", "K=a=b" are errors.
 */
int
smtp_parse_params(const char *s, size_t len, bool allow_utf8, struct smtp_param *out, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n = 0;

	if (max > INT_MAX)
		max = INT_MAX;
	if (s == NULL)
		return len == 0 ? 0 : -1;
	for (;;) {
		size_t key, keylen, val = 0, vallen = 0;
		bool has_val = false;

		/* Items are separated by SP (RFC 5321 4.1.2); runs are tolerated. */
		while (i < len && u[i] == ' ')
			i++;
		if (i == len)
			break;
		key = i;
		if (!sc_is(u[i], SC_ALPHA | SC_DIGIT))
			return -1;
		while (i < len && (u[i] == '-' || sc_is(u[i], SC_ALPHA | SC_DIGIT)))
			i++;
		keylen = i - key;
		if (i < len && u[i] == '=') {
			has_val = true;
			val = ++i;
			while (i < len && u[i] != ' ') {
				size_t step = 1;
				if (u[i] >= 0x80) {
					if (!allow_utf8 || (step = utf8_seq(u + i, len - i)) == 0)
						return -1;
				} else if (!sc_is(u[i], SC_VALUE)) {
					return -1;
				}
				i += step;
			}
			vallen = i - val;
			if (vallen == 0)
				return -1;
		}
		if (i < len && u[i] != ' ')
			return -1;
		if (n >= max)
			return -1;
		out[n].key = s + key;
		out[n].keylen = keylen;
		out[n].value = has_val ? s + val : NULL;
		out[n].valuelen = vallen;
		n++;
	}
	return (int)n;
}

bool
smtp_param_is(const struct smtp_param *p, const char *name)
{
	size_t n = strlen(name);

	return p->keylen == n && sc_caseeq(p->key, name, n);
}

/* 1..20 decimal digits, checked for overflow; *out is untouched on -1. */
int
smtp_parse_u64(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;

	if (s == NULL || len == 0 || len > 20)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d;
		if (!sc_is((unsigned char)s[i], SC_DIGIT))
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

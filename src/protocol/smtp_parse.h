/*
 * smtp_parse.h - parsers for SMTP command lines (RFC 5321 4.1, RFC 6531).
 *
 * Everything here takes untrusted network input as (pointer, length), never
 * relies on NUL termination, never allocates, and never reads past len.
 */
#ifndef MAILETD_SMTP_PARSE_H
#define MAILETD_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_VERB_MAX 15      /* longest verb we accept ("STARTTLS" is 8) */
#define SMTP_MAILBOX_MAX 512  /* octets of local-part "@" domain we keep */
#define SMTP_PARAMS_MAX 16    /* ESMTP parameters on one MAIL or RCPT */

/* A command line split into verb and argument. */
struct smtp_cmdline {
	char verb[SMTP_VERB_MAX + 1]; /* upper-cased, NUL-terminated */
	const char *arg;              /* points into the line; NULL if none */
	size_t arglen;                /* argument with surrounding blanks trimmed */
};

/*
 * Splits line[0..len) (without CRLF) into verb and argument. The verb is
 * the text up to the first space, upper-cased; it must be 1..SMTP_VERB_MAX
 * ASCII letters or digits. Returns 0, or -1 if the verb is empty, too long
 * or has other characters (the caller answers 500 5.5.1 / 5.5.2).
 */
int smtp_parse_cmdline(const char *line, size_t len, struct smtp_cmdline *out);

/* A parsed reverse-path or forward-path. */
struct smtp_path {
	bool null;                         /* "<>" (only valid as a reverse-path) */
	bool utf8;                         /* contains octets >= 0x80 (RFC 6531) */
	bool has_route;                    /* an obsolete source route was given and dropped */
	size_t len;                        /* length of mailbox */
	size_t at;                         /* index of the '@' in mailbox, or len if none */
	char mailbox[SMTP_MAILBOX_MAX + 1];/* local-part as sent (quoted form kept)
	                                      "@" domain, NUL-terminated; "" if null */
};

enum smtp_path_status {
	SMTP_PATH_OK = 0,
	SMTP_PATH_NO_PREFIX,    /* the argument does not start with FROM: / TO: */
	SMTP_PATH_NO_BRACKETS,  /* brackets required but missing */
	SMTP_PATH_BAD_ADDRESS,  /* not a valid RFC 5321 mailbox */
	SMTP_PATH_TOO_LONG,     /* mailbox longer than SMTP_MAILBOX_MAX */
	SMTP_PATH_BAD_PARAMS,   /* text after the path is not " param..." */
};

/*
 * Parses the argument of MAIL (is_rcpt false, expects "FROM:") or RCPT
 * (expects "TO:"). The prefix is case-insensitive; blanks after the colon
 * are tolerated (as Postfix and James do). The path is "<" [route ":"]
 * mailbox ">", "<>" for MAIL, or, for RCPT, "<postmaster>" (any case) with
 * no domain (RFC 5321 4.5.1). When brackets are not required a bare
 * mailbox is accepted too. A mailbox without "@" (James's behaviour; the
 * caller appends the default domain) is accepted with at == len.
 * Domains are RFC 5321 domains (LDH labels, no trailing dot) or address
 * literals ([1.2.3.4], [IPv6:...], [tag:text]); with utf8 allowed,
 * local parts and domains may hold UTF-8 (validated, RFC 6531 3.3).
 * On success *params points at the ESMTP parameter text after the path
 * (blanks skipped; may be empty) and *paramslen is its length.
 */
enum smtp_path_status smtp_parse_path_arg(const char *arg, size_t len, bool is_rcpt,
    bool brackets_required, struct smtp_path *path, const char **params, size_t *paramslen);

/* One ESMTP parameter: keyword["=" value]. */
struct smtp_param {
	const char *key;   /* points into the input */
	size_t keylen;
	const char *value; /* NULL when there is no "=" */
	size_t valuelen;
};

/*
 * Splits s[0..len) into space-separated esmtp-param items (RFC 5321 4.1.2:
 * keyword = ALPHA/DIGIT *(ALPHA/DIGIT/"-"), value = 1*(%d33-60 / %d62-126),
 * plus UTF-8 in values when allow_utf8, RFC 6531). Returns the number of
 * parameters stored in out (at most max), or -1 on a syntax error or when
 * there are more than max.
 */
int smtp_parse_params(const char *s, size_t len, bool allow_utf8, struct smtp_param *out,
    size_t max);

/* Case-insensitive compare of a parameter keyword with a NUL-terminated name. */
bool smtp_param_is(const struct smtp_param *p, const char *name);

/*
 * Parses a decimal number of at most 20 digits with no sign, blanks or
 * other characters into *out. Returns 0, or -1 (also on overflow).
 */
int smtp_parse_u64(const char *s, size_t len, unsigned long long *out);

/*
 * Checks a HELO/EHLO argument: a domain (labels of letters, digits and
 * inner hyphens, a label may start with a digit, a single label is fine),
 * an IPv4 address, or an address literal ("[1.2.3.4]", "[IPv6:...]",
 * "[::1]"). Returns true when acceptable (James's EHLO rules, 1b.4).
 */
bool smtp_valid_helo(const char *s, size_t len);

/* True if s[0..len) is well-formed UTF-8 without overlongs or surrogates. */
bool smtp_utf8_valid(const char *s, size_t len);

#endif

/*
 * sasl.h - decoding of SMTP AUTH data (RFC 4954) for PLAIN (RFC 4616) and
 * LOGIN: strict base64 and the PLAIN message. Pure functions on
 * (ptr, len) input; they never allocate, log or keep what they are given.
 */
#ifndef MAILETD_SASL_H
#define MAILETD_SASL_H

#include <stdbool.h>
#include <stddef.h>

/* Longest continuation line accepted (base64 octets). */
#define SASL_LINE_MAX 12288

/* The LOGIN prompts, base64 of "Username:" and "Password:". */
#define SASL_LOGIN_USER "VXNlcm5hbWU6"
#define SASL_LOGIN_PASS "UGFzc3dvcmQ6"

/* The mechanisms mailetd knows (match CFG_MECH_* in config.h). */
enum sasl_mech {
	SASL_NONE = 0,
	SASL_LOGIN = 1u << 0,
	SASL_PLAIN = 1u << 1,
};

/* The mechanism named by name (len octets, any case), or SASL_NONE. */
enum sasl_mech sasl_mech_parse(const char *name, size_t len);

/* "PLAIN" or "LOGIN". */
const char *sasl_mech_name(enum sasl_mech m);

/*
 * Decodes strict base64 (RFC 4648 4: padding required, no white space, no
 * other characters) into out, which must hold len / 4 * 3 octets. Empty
 * input decodes to nothing. Returns the decoded length, or -1 if in is not
 * base64.
 */
long sasl_b64_decode(const char *in, size_t len, unsigned char *out);

/* The parts of a PLAIN message; pointers into the decoded buffer. */
struct sasl_plain {
	const char *authzid; /* may be empty */
	size_t authzid_len;
	const char *authcid;
	size_t authcid_len;
	const char *passwd;
	size_t passwd_len;
};

/*
 * Splits a decoded PLAIN message "authzid NUL authcid NUL passwd"; like
 * James it also takes "authcid NUL passwd" and a trailing NUL. 0, or -1
 * when the message has no NUL, too many, or an empty authcid.
 */
int sasl_plain_split(const unsigned char *buf, size_t len, struct sasl_plain *out);

#endif

/* sasl.c - SMTP AUTH PLAIN/LOGIN decoding (see sasl.h). */
#include "sasl.h"

#include <string.h>
#include <strings.h>

enum sasl_mech
sasl_mech_parse(const char *name, size_t len)
{
	if (len == 5 && strncasecmp(name, "PLAIN", 5) == 0)
		return SASL_PLAIN;
	if (len == 5 && strncasecmp(name, "LOGIN", 5) == 0)
		return SASL_LOGIN;
	return SASL_NONE;
}

const char *
sasl_mech_name(enum sasl_mech m)
{
	return m == SASL_PLAIN ? "PLAIN" : m == SASL_LOGIN ? "LOGIN" : "NONE";
}

/* The value of base64 digit c, or -1. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
sasl_b64_decode(const char *in, size_t len, unsigned char *out)
{
	if (len % 4 != 0)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		const unsigned char *q = (const unsigned char *)in + i;
		bool last = i + 4 == len;
		size_t pad = 0;
		if (last && q[3] == '=')
			pad = q[2] == '=' ? 2 : 1;
		int v[4] = {0, 0, 0, 0};
		for (size_t k = 0; k < 4 - pad; k++)
			if ((v[k] = b64_value(q[k])) < 0)
				return -1;
		unsigned long w = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
		                  ((unsigned long)v[2] << 6) | (unsigned long)v[3];
		/* Non-zero bits under the padding: not canonical. */
		if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
			return -1;
		out[o++] = (unsigned char)(w >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(w >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)w;
	}
	return (long)o;
}

int
sasl_plain_split(const unsigned char *buf, size_t len, struct sasl_plain *out)
{
	const char *p = (const char *)buf;
	const char *n1 = memchr(p, '\0', len);
	if (n1 == NULL)
		return -1;
	const char *rest = n1 + 1;
	size_t rlen = len - (size_t)(rest - p);
	const char *n2 = memchr(rest, '\0', rlen);
	memset(out, 0, sizeof(*out));
	if (n2 == NULL) {
		/* authcid NUL passwd */
		out->authzid = p;
		out->authcid = p;
		out->authcid_len = (size_t)(n1 - p);
		out->passwd = rest;
		out->passwd_len = rlen;
	} else {
		const char *pw = n2 + 1;
		size_t pwlen = len - (size_t)(pw - p);
		if (pwlen > 0 && pw[pwlen - 1] == '\0')
			pwlen--; /* a trailing NUL is tolerated, as James does */
		if (memchr(pw, '\0', pwlen) != NULL)
			return -1;
		out->authzid = p;
		out->authzid_len = (size_t)(n1 - p);
		out->authcid = rest;
		out->authcid_len = (size_t)(n2 - rest);
		out->passwd = pw;
		out->passwd_len = pwlen;
	}
	return out->authcid_len > 0 ? 0 : -1;
}

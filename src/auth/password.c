/* password.c - password hashes (see password.h). */
#include "password.h"

#include "../core/xmalloc.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PBKDF2_PREFIX "{PBKDF2-SHA512}"
#define JAMES_PREFIX "{JAMES:"
#define SALT_LEN 16
#define KEY_LEN 64
/* Largest key or digest any accepted hash describes (4096-bit PBKDF2). */
#define MAX_KEY_LEN 512

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding; out must hold 4 * ((n + 2) / 3) + 1. */
static void
b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
	}
	out[o] = '\0';
}

static int
b64_val(unsigned char c)
{
	const char *p = c != '\0' ? strchr(b64chars, c) : NULL;
	return p != NULL ? (int)(p - b64chars) : -1;
}

/*
 * Decodes base64 s[0..len) into out (at most outmax bytes). Padding is
 * optional; white space (Java's MIME encoder breaks lines) is skipped
 * when skip_ws. Returns the number of bytes, or -1 if s is not base64 or
 * does not fit. Untrusted input.
 */
static long
b64_decode(const char *s, size_t len, bool skip_ws, unsigned char *out, size_t outmax)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (skip_ws && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64_val(c);
		if (v < 0 || pad > 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outmax)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	return (long)o;
}

void
password_free(char *secret)
{
	if (secret == NULL)
		return;
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
}

static unsigned
clamp_iterations(unsigned it)
{
	if (it < PASSWORD_MIN_ITERATIONS)
		return PASSWORD_MIN_ITERATIONS;
	if (it > PASSWORD_MAX_ITERATIONS)
		return PASSWORD_MAX_ITERATIONS;
	return it;
}

char *
password_hash(const char *pw, size_t pwlen, unsigned iterations)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char salt64[4 * ((SALT_LEN + 2) / 3) + 1], key64[4 * ((KEY_LEN + 2) / 3) + 1];

	iterations = clamp_iterations(iterations);
	if (pwlen > INT_MAX || RAND_bytes(salt, sizeof(salt)) != 1)
		return NULL;
	if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, sizeof(salt), (int)iterations,
	        EVP_sha512(), sizeof(key), key) != 1)
		return NULL;
	b64_encode(salt, sizeof(salt), salt64);
	b64_encode(key, sizeof(key), key64);
	OPENSSL_cleanse(key, sizeof(key));
	char *out = xasprintf(PBKDF2_PREFIX "%u$%s$%s", iterations, salt64, key64);
	OPENSSL_cleanse(key64, sizeof(key64));
	return out;
}

/* Parses a decimal unsigned in s[0..len) within 1..max; -1 if not. */
static long
parse_uint(const char *s, size_t len, long max)
{
	long v = 0;
	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= max ? v : -1;
}

/* Constant-time comparison of a derived key with the expected one. */
static enum password_rc
compare_keys(const unsigned char *a, const unsigned char *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0 ? PASSWORD_OK : PASSWORD_MISMATCH;
}

/* {PBKDF2-SHA512}iter$salt$key: s points after the prefix. */
static enum password_rc
verify_pbkdf2(const char *s, const char *pw, size_t pwlen, bool check_only)
{
	unsigned char salt[MAX_KEY_LEN], want[MAX_KEY_LEN], got[MAX_KEY_LEN];
	const char *d1 = strchr(s, '$');
	const char *d2 = d1 != NULL ? strchr(d1 + 1, '$') : NULL;
	if (d2 == NULL)
		return PASSWORD_BADHASH;
	long it = parse_uint(s, (size_t)(d1 - s), PASSWORD_MAX_ITERATIONS);
	long sl = b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), false, salt, sizeof(salt));
	long kl = b64_decode(d2 + 1, strlen(d2 + 1), false, want, sizeof(want));
	if (it < 1 || sl < 1 || kl < 16)
		return PASSWORD_BADHASH;
	if (check_only)
		return PASSWORD_OK;
	if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)sl, (int)it, EVP_sha512(), (int)kl,
	        got) != 1)
		return PASSWORD_BADHASH;
	enum password_rc rc = compare_keys(got, want, (size_t)kl);
	OPENSSL_cleanse(got, sizeof(got));
	return rc;
}

/* Dovecot scheme names and the crypt(3) ids they stand for. */
static const struct {
	const char *scheme; /* with braces */
	const char *ids[3]; /* accepted "$id$" prefixes */
} crypt_schemes[] = {
	{ "{SHA512-CRYPT}", { "$6$", NULL, NULL } },
	{ "{SHA256-CRYPT}", { "$5$", NULL, NULL } },
	{ "{BLF-CRYPT}", { "$2y$", "$2b$", "$2a$" } },
	{ "{CRYPT}", { "$6$", "$5$", "$2y$" } },
};

static bool
crypt_id_ok(const char *h, const char *const *ids)
{
	for (size_t i = 0; i < 3 && ids[i] != NULL; i++)
		if (strncmp(h, ids[i], strlen(ids[i])) == 0)
			return true;
	return false;
}

/* The crypt(3) hash inside stored, or NULL if stored is not one. */
static const char *
crypt_part(const char *stored)
{
	static const char *const bare[] = { "$6$", "$5$", "$2y$" };
	static const char *const bare2[] = { "$2b$", "$2a$", NULL };
	for (size_t i = 0; i < sizeof(crypt_schemes) / sizeof(crypt_schemes[0]); i++) {
		size_t n = strlen(crypt_schemes[i].scheme);
		if (strncasecmp(stored, crypt_schemes[i].scheme, n) == 0)
			return crypt_id_ok(stored + n, crypt_schemes[i].ids) ? stored + n : NULL;
	}
	if (crypt_id_ok(stored, bare) || crypt_id_ok(stored, bare2))
		return stored;
	return NULL;
}

/* A crypt(3) hash, checked by libxcrypt. */
static enum password_rc
verify_crypt(const char *h, const char *pw, size_t pwlen, bool check_only)
{
	/* "$id$[rounds=N$]salt$hash": an empty salt or hash is no hash. */
	size_t dollars = 0;
	for (const char *p = h; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == ':' || *p == 0x7f)
			return PASSWORD_BADHASH;
		dollars += *p == '$';
	}
	size_t hl = strlen(h);
	if (dollars < 3 || hl < 20 || h[hl - 1] == '$')
		return PASSWORD_BADHASH;
	if (check_only)
		return PASSWORD_OK;
	/* crypt takes a C string: a password with a NUL byte cannot match. */
	if (memchr(pw, '\0', pwlen) != NULL)
		return PASSWORD_MISMATCH;
	char *pwz = xstrndup(pw, pwlen);
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *r = crypt_r(pwz, h, cd);
	enum password_rc rc = PASSWORD_BADHASH;
	/* libxcrypt returns a string starting with '*' for an invalid setting. */
	if (r != NULL && r[0] != '*') {
		size_t n = strlen(h);
		rc = strlen(r) == n && CRYPTO_memcmp(r, h, n) == 0 ? PASSWORD_OK
		                                                   : PASSWORD_MISMATCH;
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	password_free(pwz);
	return rc;
}

/* A parsed James algorithm string (james.md 1g.2). */
struct james_alg {
	enum { JAMES_DIGEST, JAMES_PBKDF2 } kind;
	const EVP_MD *md;
	bool salted;      /* digest modes: input is user name + password */
	long iterations;  /* PBKDF2 */
	long keybytes;    /* PBKDF2 */
};

/* Parses "NAME[/mode]" s[0..len). 0 or -1. */
static int
james_parse(const char *s, size_t len, struct james_alg *a)
{
	static const struct {
		const char *name;
		const char *ossl;
	} digests[] = {
		{ "MD5", "MD5" }, { "SHA-1", "SHA1" }, { "SHA1", "SHA1" },
		{ "SHA-256", "SHA256" }, { "SHA-512", "SHA512" }, { "SHA-384", "SHA384" },
		{ "SHA-224", "SHA224" },
	};
	char name[64];
	const char *slash = memchr(s, '/', len);
	size_t nl = slash != NULL ? (size_t)(slash - s) : len;
	memset(a, 0, sizeof(*a));
	if (nl == 0 || nl >= sizeof(name))
		return -1;
	memcpy(name, s, nl);
	name[nl] = '\0';
	if (slash != NULL) {
		const char *mode = slash + 1;
		size_t ml = len - nl - 1;
		if (ml == 5 && strncasecmp(mode, "plain", 5) == 0)
			a->salted = false;
		else if (ml == 6 && strncasecmp(mode, "salted", 6) == 0)
			a->salted = true;
		else
			return -1; /* legacy modes and anything else */
	}
	const char *rest = NULL;
	if (strncasecmp(name, "PBKDF2-SHA512", 13) == 0) {
		a->md = EVP_sha512();
		rest = name + 13;
	} else if (strncasecmp(name, "PBKDF2", 6) == 0) {
		a->md = EVP_sha1();
		rest = name + 6;
	}
	if (rest != NULL) {
		a->kind = JAMES_PBKDF2;
		a->iterations = 1000;
		a->keybytes = 64;
		if (*rest == '\0')
			return 0;
		if (*rest != '-')
			return -1;
		const char *dash = strchr(rest + 1, '-');
		size_t il = dash != NULL ? (size_t)(dash - rest - 1) : strlen(rest + 1);
		a->iterations = parse_uint(rest + 1, il, PASSWORD_MAX_ITERATIONS);
		if (a->iterations < 0)
			return -1;
		if (dash != NULL) {
			long bits = parse_uint(dash + 1, strlen(dash + 1), MAX_KEY_LEN * 8);
			if (bits < 8 || bits % 8 != 0)
				return -1;
			a->keybytes = bits / 8;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		if (strcasecmp(name, digests[i].name) == 0) {
			a->kind = JAMES_DIGEST;
			a->md = EVP_get_digestbyname(digests[i].ossl);
			return a->md != NULL ? 0 : -1;
		}
	}
	return -1;
}

/*
 * Java's String.getBytes(ISO_8859_1) of a UTF-8 password: characters above
 * U+00FF become '?'. out must hold len bytes; returns the length.
 */
static size_t
utf8_to_latin1(const char *in, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; o++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x80) {
			out[o] = (char)c;
			i++;
			continue;
		}
		size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		unsigned v = n == 2 && i + 1 < len
		    ? ((c & 0x1fu) << 6) | ((unsigned char)in[i + 1] & 0x3fu)
		    : 0x100u;
		out[o] = v <= 0xff ? (char)v : '?';
		i += n;
		if (i > len)
			i = len;
	}
	return o;
}

/* {JAMES:alg}hash: s points after "{JAMES:". */
static enum password_rc
verify_james(const char *s, const char *user, const char *pw, size_t pwlen, bool check_only)
{
	unsigned char want[MAX_KEY_LEN], got[MAX_KEY_LEN];
	struct james_alg a;
	const char *end = strchr(s, '}');
	if (end == NULL || james_parse(s, (size_t)(end - s), &a) < 0)
		return PASSWORD_BADHASH;
	long wl = b64_decode(end + 1, strlen(end + 1), true, want, sizeof(want));
	if (wl < 1)
		return PASSWORD_BADHASH;
	if (check_only)
		return PASSWORD_OK;
	if (user == NULL)
		return PASSWORD_BADHASH;
	size_t ul = strlen(user);
	enum password_rc rc = PASSWORD_MISMATCH;
	if (a.kind == JAMES_PBKDF2) {
		/* PBEKeySpec: the password's UTF-8 bytes; salt = the user name. */
		if ((long)wl != a.keybytes || ul > INT_MAX)
			return PASSWORD_MISMATCH;
		if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, (const unsigned char *)user, (int)ul,
		        (int)a.iterations, a.md, (int)a.keybytes, got) != 1)
			return PASSWORD_BADHASH;
		rc = compare_keys(got, want, (size_t)wl);
	} else {
		unsigned int dl = 0;
		char *in = xmalloc(ul + pwlen + 1);
		size_t n = 0;
		if (a.salted) {
			n = utf8_to_latin1(user, ul, in);
		}
		n += utf8_to_latin1(pw, pwlen, in + n);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		if (ctx == NULL || EVP_DigestInit_ex(ctx, a.md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, in, n) != 1 || EVP_DigestFinal_ex(ctx, got, &dl) != 1)
			rc = PASSWORD_BADHASH;
		else if ((long)dl == wl)
			rc = compare_keys(got, want, dl);
		EVP_MD_CTX_free(ctx);
		OPENSSL_cleanse(in, ul + pwlen + 1);
		free(in);
	}
	OPENSSL_cleanse(got, sizeof(got));
	return rc;
}

/* The dispatcher of password_verify and password_hash_valid. */
static enum password_rc
verify(const char *stored, const char *user, const char *pw, size_t pwlen, bool check_only)
{
	if (stored == NULL)
		return PASSWORD_BADHASH;
	if (!check_only && (pw == NULL || pwlen > PASSWORD_MAX_LEN))
		return pw == NULL ? PASSWORD_BADHASH : PASSWORD_MISMATCH;
	if (strncasecmp(stored, PBKDF2_PREFIX, strlen(PBKDF2_PREFIX)) == 0)
		return verify_pbkdf2(stored + strlen(PBKDF2_PREFIX), pw, pwlen, check_only);
	if (strncasecmp(stored, JAMES_PREFIX, strlen(JAMES_PREFIX)) == 0)
		return verify_james(stored + strlen(JAMES_PREFIX), user, pw, pwlen, check_only);
	const char *c = crypt_part(stored);
	if (c != NULL)
		return verify_crypt(c, pw, pwlen, check_only);
	return PASSWORD_BADHASH;
}

enum password_rc
password_verify(const char *stored, const char *user, const char *pw, size_t pwlen)
{
	return verify(stored, user, pw, pwlen, false);
}

bool
password_hash_valid(const char *stored)
{
	return verify(stored, NULL, NULL, 0, true) == PASSWORD_OK;
}

/*
 * spool_format.c - the on-disk format of a spool file (see spool_format.h).
 *
 * Envelope lines are "key value\n". Values are escaped so that they can
 * never hold a line break or break parsing: '%', every byte below 0x20
 * and 0x7f become %XX (upper-case hex); in an attribute name '=' does too,
 * so the first raw '=' of an "attr" value separates name and value.
 * Spaces and UTF-8 stay as they are: the key ends at the first space.
 * Unknown keys of the right shape are ignored, so that a later version
 * may add fields without older readers calling the file corrupt. Whatever
 * the writer produces, the reader accepts.
 */
#include "spool_format.h"

#include "../core/xmalloc.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_ENV_MAGIC      "MAILETD-ENVELOPE 1\n"
#define SPOOL_ENV_MAGIC_LEN  (sizeof(SPOOL_ENV_MAGIC) - 1)
#define SPOOL_FOOTER_TAG     "MAILETD-FOOTER "
#define SPOOL_FOOTER_TAG_LEN (sizeof(SPOOL_FOOTER_TAG) - 1)
#define SPOOL_FOOTER_DIGITS  20
#define SPOOL_FOOTER_LEN     (SPOOL_FOOTER_TAG_LEN + SPOOL_FOOTER_DIGITS + 1)
#define SPOOL_ENV_MAX        SPOOL_FORMAT_ENV_MAX

/* Version 2 (see spool.h): same envelope lines plus "queue", and a
 * footer that also carries the file's HMAC-SHA256. */
#define SPOOL_ENV2_MAGIC      "MAILETD-ENVELOPE 2\n"
#define SPOOL_FOOTER2_TAG     "MAILETD-FOOTER2 "
#define SPOOL_FOOTER2_TAG_LEN (sizeof(SPOOL_FOOTER2_TAG) - 1)
/* tag, offset, space: the part of the footer the MAC covers */
#define SPOOL_FOOTER2_PRE_LEN (SPOOL_FOOTER2_TAG_LEN + SPOOL_FOOTER_DIGITS + 1)
#define SPOOL_FOOTER2_LEN     (SPOOL_FOOTER2_PRE_LEN + SPOOL_FORMAT_MAC_HEX + 1)
/* What the MAC absorbs before the id and the file's bytes. */
#define SPOOL_MAC_DOMAIN      "MAILETD-SPOOL-MAC 2\n"

/* --- names ---------------------------------------------------------------- */

bool
spool_format_queue_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (n >= SPOOL_QUEUE_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

bool
spool_format_id_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (n >= ID_LEN)
			return false;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return n == ID_LEN;
}

/* --- files ---------------------------------------------------------------- */

/*
 * Reads exactly n bytes at off. 0, or -1 with errno; a file shorter than
 * expected (truncated under us) is EINVAL.
 */
int
spool_format_pread_all(int fd, void *p, size_t n, uint64_t off)
{
	unsigned char *c = p;

	while (n > 0) {
		ssize_t r = pread(fd, c, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EINVAL;
			return -1;
		}
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* --- the envelope: one table describes the format ------------------------- */

enum spool_format_kind {
	SPOOL_ENV_STR,  /* one escaped string */
	SPOOL_ENV_RCPT, /* repeated: one recipient per line */
	SPOOL_ENV_ATTR, /* repeated: "name=value" */
	SPOOL_ENV_TIME, /* decimal unix seconds */
	SPOOL_ENV_FLAG, /* "1", line absent when false */
	SPOOL_ENV_QUEUE, /* version 2: the queue the message is committed to */
};

struct spool_format_field {
	const char *key;
	enum spool_format_kind kind;
	bool required;    /* always written, must be read back */
	size_t env_off;   /* SPOOL_ENV_STR: the member of struct spool_envelope */
	size_t entry_off; /* SPOOL_ENV_STR: the member of struct spool_entry */
};

#define SPOOL_STR_FIELD(k, env_member, entry_member, req)                                          \
	{                                                                                          \
		.key = (k), .kind = SPOOL_ENV_STR, .required = (req),                              \
		.env_off = offsetof(struct spool_envelope, env_member),                            \
		.entry_off = offsetof(struct spool_entry, entry_member),                           \
	}

static const struct spool_format_field spool_format_fields[] = {
    SPOOL_STR_FIELD("sender", sender, sender, true),
    {.key = "rcpt", .kind = SPOOL_ENV_RCPT},
    SPOOL_STR_FIELD("client-addr", client_addr, client_addr, false),
    SPOOL_STR_FIELD("client-name", client_name, client_name, false),
    SPOOL_STR_FIELD("helo", helo, helo, false),
    SPOOL_STR_FIELD("protocol", protocol, protocol, false),
    SPOOL_STR_FIELD("session", session_id, session_id, false),
    SPOOL_STR_FIELD("server", server_name, server_name, false),
    {.key = "received", .kind = SPOOL_ENV_TIME, .required = true},
    {.key = "attr", .kind = SPOOL_ENV_ATTR},
    {.key = "smtputf8", .kind = SPOOL_ENV_FLAG},
    SPOOL_STR_FIELD("body", body, body, false),
    {.key = "queue", .kind = SPOOL_ENV_QUEUE},
};

#define SPOOL_NFIELDS (sizeof(spool_format_fields) / sizeof(spool_format_fields[0]))

static bool
spool_format_must_escape(unsigned char c, bool eq)
{
	return c < 0x20 || c == 0x7f || c == '%' || (eq && c == '=');
}

/* --- writing -------------------------------------------------------------- */

/* The writer's output, with the envelope's length so far. */
struct spool_format_sink {
	spool_format_put_fn put;
	void *ctx;
	uint64_t len;
};

/* Passes p[0..n) on, keeping the envelope under SPOOL_ENV_MAX (EFBIG). */
static int
spool_format_out(struct spool_format_sink *o, const void *p, size_t n)
{
	if (n > SPOOL_ENV_MAX - o->len) {
		errno = EFBIG;
		return -1;
	}
	o->len += n;
	return o->put(o->ctx, p, n);
}

/* Writes s escaped as described at the top of this file. */
static int
spool_format_out_escaped(struct spool_format_sink *o, const char *s, bool eq)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run = s, *p = s;

	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (!spool_format_must_escape(c, eq))
			continue;
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
		if (spool_format_out(o, run, (size_t)(p - run)) < 0 ||
		    spool_format_out(o, esc, sizeof(esc)) < 0)
			return -1;
		run = p + 1;
	}
	return spool_format_out(o, run, (size_t)(p - run));
}

/* Writes "key " + escaped value + "\n". */
static int
spool_format_out_line(struct spool_format_sink *o, const char *key, const char *value)
{
	if (spool_format_out(o, key, strlen(key)) < 0 || spool_format_out(o, " ", 1) < 0 ||
	    spool_format_out_escaped(o, value, false) < 0)
		return -1;
	return spool_format_out(o, "\n", 1);
}

/* Writes magic and the envelope lines; a "queue" line when queue is set. */
static int
spool_format_out_env(struct spool_format_sink *o, const struct spool_envelope *env,
    const char *magic, const char *queue)
{
	char num[32];

	if (spool_format_out(o, magic, SPOOL_ENV_MAGIC_LEN) < 0)
		return -1;
	for (size_t i = 0; i < SPOOL_NFIELDS; i++) {
		const struct spool_format_field *f = &spool_format_fields[i];
		switch (f->kind) {
		case SPOOL_ENV_STR: {
			const char *v =
			    *(const char *const *)(const void *)((const char *)env + f->env_off);
			if (v == NULL && f->required)
				v = "";
			if (v != NULL && spool_format_out_line(o, f->key, v) < 0)
				return -1;
			break;
		}
		case SPOOL_ENV_RCPT:
			for (size_t r = 0; r < env->nrcpts; r++)
				if (spool_format_out_line(o, f->key, env->rcpts[r]) < 0)
					return -1;
			break;
		case SPOOL_ENV_ATTR:
			for (size_t a = 0; a < env->nattrs; a++) {
				const struct spool_attr *at = &env->attrs[a];
				if (spool_format_out(o, "attr ", 5) < 0 ||
				    spool_format_out_escaped(o, at->name, true) < 0 ||
				    spool_format_out(o, "=", 1) < 0 ||
				    spool_format_out_escaped(o, at->value ? at->value : "", false) <
				        0 ||
				    spool_format_out(o, "\n", 1) < 0)
					return -1;
			}
			break;
		case SPOOL_ENV_TIME:
			snprintf(num, sizeof(num), "%lld", (long long)env->received);
			if (spool_format_out_line(o, f->key, num) < 0)
				return -1;
			break;
		case SPOOL_ENV_FLAG:
			if (env->smtputf8 && spool_format_out_line(o, f->key, "1") < 0)
				return -1;
			break;
		case SPOOL_ENV_QUEUE:
			if (queue != NULL && spool_format_out_line(o, f->key, queue) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

int
spool_format_write(
    const struct spool_envelope *env, uint64_t env_off, spool_format_put_fn put, void *ctx)
{
	struct spool_format_sink out = {.put = put, .ctx = ctx}, *o = &out;

	if (spool_format_out_env(o, env, SPOOL_ENV_MAGIC, NULL) < 0)
		return -1;
	char footer[SPOOL_FOOTER_LEN + 1];
	snprintf(footer, sizeof(footer), SPOOL_FOOTER_TAG "%020" PRIu64 "\n", env_off);
	return spool_format_out(o, footer, SPOOL_FOOTER_LEN);
}

int
spool_format_write_sealed(const struct spool_envelope *env, const char *queue,
    uint64_t env_off, spool_format_put_fn put, spool_format_seal_fn seal, void *ctx)
{
	struct spool_format_sink out = {.put = put, .ctx = ctx}, *o = &out;
	char pre[SPOOL_FOOTER2_PRE_LEN + 1];
	char hex[SPOOL_FORMAT_MAC_HEX + 2];

	if (!spool_format_queue_ok(queue)) {
		errno = EINVAL;
		return -1;
	}
	if (spool_format_out_env(o, env, SPOOL_ENV2_MAGIC, queue) < 0)
		return -1;
	snprintf(pre, sizeof(pre), SPOOL_FOOTER2_TAG "%020" PRIu64 " ", env_off);
	if (spool_format_out(o, pre, SPOOL_FOOTER2_PRE_LEN) < 0)
		return -1;
	if (seal(ctx, hex) < 0)
		return -1;
	hex[SPOOL_FORMAT_MAC_HEX] = '\n';
	return spool_format_out(o, hex, SPOOL_FORMAT_MAC_HEX + 1);
}

/* --- the MAC ---------------------------------------------------------------- */

struct spool_format_mac {
	EVP_MAC_CTX *ctx;
};

struct spool_format_mac *
spool_format_mac_new(const unsigned char key[SPOOL_FORMAT_KEY_LEN])
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL)
		return NULL;
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context keeps its own reference */
	if (c == NULL)
		return NULL;
	if (EVP_MAC_init(c, key, SPOOL_FORMAT_KEY_LEN, params) != 1) {
		EVP_MAC_CTX_free(c);
		return NULL;
	}
	struct spool_format_mac *m = xmalloc(sizeof(*m));
	m->ctx = c;
	return m;
}

struct spool_format_mac *
spool_format_mac_start(const struct spool_format_mac *keyed, const char *id)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(keyed->ctx);
	if (c == NULL)
		return NULL;
	if (EVP_MAC_update(c, (const unsigned char *)SPOOL_MAC_DOMAIN,
	        sizeof(SPOOL_MAC_DOMAIN) - 1) != 1 ||
	    EVP_MAC_update(c, (const unsigned char *)id, strlen(id)) != 1 ||
	    EVP_MAC_update(c, (const unsigned char *)"\n", 1) != 1) {
		EVP_MAC_CTX_free(c);
		return NULL;
	}
	struct spool_format_mac *m = xmalloc(sizeof(*m));
	m->ctx = c;
	return m;
}

void
spool_format_mac_update(struct spool_format_mac *m, const void *p, size_t n)
{
	/* Cannot fail for HMAC once initialised; a failure would show as a
	 * wrong MAC, which only ever rejects. */
	(void)EVP_MAC_update(m->ctx, p, n);
}

int
spool_format_mac_hex(struct spool_format_mac *m, char hex[SPOOL_FORMAT_MAC_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char out[EVP_MAX_MD_SIZE];
	size_t outl = 0;

	if (EVP_MAC_final(m->ctx, out, &outl, sizeof(out)) != 1 ||
	    outl * 2 != SPOOL_FORMAT_MAC_HEX)
		return -1;
	for (size_t i = 0; i < outl; i++) {
		hex[2 * i] = digits[out[i] >> 4];
		hex[2 * i + 1] = digits[out[i] & 15];
	}
	hex[SPOOL_FORMAT_MAC_HEX] = '\0';
	return 0;
}

void
spool_format_mac_free(struct spool_format_mac *m)
{
	if (m == NULL)
		return;
	EVP_MAC_CTX_free(m->ctx);
	free(m);
}

/* --- reading -------------------------------------------------------------- */

/* Parses 20 decimal digits at s into *v. false on a bad digit or overflow. */
static bool
spool_format_parse_off(const char *s, uint64_t *v)
{
	uint64_t off = 0;

	for (size_t i = 0; i < SPOOL_FOOTER_DIGITS; i++) {
		char c = s[i];
		if (c < '0' || c > '9')
			return false;
		unsigned d = (unsigned)(c - '0');
		if (off > (UINT64_MAX - d) / 10)
			return false;
		off = off * 10 + d;
	}
	*v = off;
	return true;
}

/*
 * Checks the footer of the open file fd (version 2 if its last bytes are
 * a version 2 footer, else version 1) and the envelope magic of the same
 * version it points at. Stores the file size, the envelope offset (=
 * message size), the footer's length and the version. 0, or -1 with
 * errno (EINVAL and a reason in *why for a bad file). The MAC of a
 * version 2 footer is not checked here (spool_format_check_seal does).
 */
static int
spool_format_footer(int fd, uint64_t *fsize, uint64_t *env_off, size_t *foot_len,
    int *version, const char **why)
{
	struct stat st;
	char foot[SPOOL_FOOTER2_LEN];
	char magic[SPOOL_ENV_MAGIC_LEN];
	uint64_t off = 0;
	size_t flen = SPOOL_FOOTER_LEN;
	const char *want = SPOOL_ENV_MAGIC;

	*why = "unreadable";
	if (fstat(fd, &st) < 0)
		return -1;
	*why = "not a regular file";
	if (!S_ISREG(st.st_mode))
		goto bad;
	uint64_t size = (uint64_t)st.st_size;
	*why = "too short";
	if (size < SPOOL_FOOTER_LEN + SPOOL_ENV_MAGIC_LEN)
		goto bad;
	if (size >= SPOOL_FOOTER2_LEN + SPOOL_ENV_MAGIC_LEN) {
		*why = "truncated";
		if (spool_format_pread_all(fd, foot, SPOOL_FOOTER2_LEN, size - SPOOL_FOOTER2_LEN) < 0)
			return -1;
		/*
		 * Only a well-formed version 2 footer counts: a version 1 file
		 * whose envelope happens to hold the tag just before its own
		 * footer is read as version 1 below. (A version 2 file never
		 * passes as version 1: its last bytes are hex digits.)
		 */
		bool v2 = memcmp(foot, SPOOL_FOOTER2_TAG, SPOOL_FOOTER2_TAG_LEN) == 0 &&
		          foot[SPOOL_FOOTER2_PRE_LEN - 1] == ' ' &&
		          foot[SPOOL_FOOTER2_LEN - 1] == '\n' &&
		          spool_format_parse_off(foot + SPOOL_FOOTER2_TAG_LEN, &off);
		for (size_t i = SPOOL_FOOTER2_PRE_LEN; v2 && i < SPOOL_FOOTER2_LEN - 1; i++)
			v2 = (foot[i] >= '0' && foot[i] <= '9') || (foot[i] >= 'a' && foot[i] <= 'f');
		if (v2) {
			flen = SPOOL_FOOTER2_LEN;
			want = SPOOL_ENV2_MAGIC;
		}
	}
	if (flen == SPOOL_FOOTER_LEN) {
		*why = "truncated";
		if (spool_format_pread_all(fd, foot, SPOOL_FOOTER_LEN, size - SPOOL_FOOTER_LEN) < 0)
			return -1;
		*why = "no footer";
		if (memcmp(foot, SPOOL_FOOTER_TAG, SPOOL_FOOTER_TAG_LEN) != 0 ||
		    foot[SPOOL_FOOTER_LEN - 1] != '\n')
			goto bad;
		*why = "bad footer offset";
		if (!spool_format_parse_off(foot + SPOOL_FOOTER_TAG_LEN, &off))
			goto bad;
	}
	*why = "footer offset past end of file";
	if (off > size - flen - SPOOL_ENV_MAGIC_LEN)
		goto bad;
	*why = "truncated";
	if (spool_format_pread_all(fd, magic, sizeof(magic), off) < 0)
		return -1;
	*why = "no envelope at footer offset";
	if (memcmp(magic, want, SPOOL_ENV_MAGIC_LEN) != 0)
		goto bad;
	*fsize = size;
	*env_off = off;
	*foot_len = flen;
	*version = flen == SPOOL_FOOTER2_LEN ? 2 : 1;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
spool_format_check_seal(
    int fd, const struct spool_format_mac *keyed, const char *id, const char **why)
{
	uint64_t fsize, env_off;
	size_t flen;
	int version;
	char want[SPOOL_FORMAT_MAC_HEX + 1], got[SPOOL_FORMAT_MAC_HEX];

	if (spool_format_footer(fd, &fsize, &env_off, &flen, &version, why) < 0)
		return -1;
	*why = "no sealed footer";
	if (version != 2) {
		errno = EINVAL;
		return -1;
	}
	struct spool_format_mac *m = spool_format_mac_start(keyed, id);
	if (m == NULL) {
		*why = "MAC unavailable";
		errno = ENOMEM;
		return -1;
	}
	uint64_t macd = fsize - SPOOL_FORMAT_MAC_HEX - 1; /* bytes before the MAC */
	unsigned char *buf = xmalloc(64 * 1024);
	int rc = 0;
	for (uint64_t off = 0; off < macd && rc == 0;) {
		size_t k = macd - off < 64 * 1024 ? (size_t)(macd - off) : 64 * 1024;
		rc = spool_format_pread_all(fd, buf, k, off);
		if (rc == 0)
			spool_format_mac_update(m, buf, k);
		off += k;
	}
	free(buf);
	if (rc == 0)
		rc = spool_format_pread_all(fd, got, sizeof(got), macd);
	if (rc < 0) {
		int saved = errno;
		spool_format_mac_free(m);
		*why = "truncated";
		errno = saved;
		return -1;
	}
	rc = spool_format_mac_hex(m, want);
	spool_format_mac_free(m);
	*why = "MAC unavailable";
	if (rc < 0) {
		errno = ENOMEM;
		return -1;
	}
	*why = "bad MAC";
	if (CRYPTO_memcmp(want, got, SPOOL_FORMAT_MAC_HEX) != 0) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

static int
spool_format_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
spool_format_read_footer(int fd, uint64_t *msg_size, const char **why)
{
	uint64_t fsize;
	size_t flen;
	int version;
	return spool_format_footer(fd, &fsize, msg_size, &flen, &version, why);
}

/*
 * Undoes the escaping of s[0..n) into a new string. NULL for a bad escape,
 * an escaped NUL or a raw control byte (the caller reports EINVAL).
 */
static char *
spool_format_unescape(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (n - i < 3)
				goto bad;
			hi = spool_format_hexval(s[i + 1]);
			lo = spool_format_hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (c < 0x20 || c == 0x7f) {
			goto bad;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* Parses a decimal time_t: an optional '-' and digits only. 0 or -1. */
static int
spool_format_parse_time(const char *s, time_t *t)
{
	const char *digits = s[0] == '-' ? s + 1 : s;
	char *end;

	if (digits[0] < '0' || digits[0] > '9')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*t = (time_t)v;
	return 0;
}

static bool
spool_format_key_ok(const char *k, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '-'))
			return false;
	return true;
}

/*
 * Parses the envelope lines in buf[0..n) (after the magic line) into e.
 * buf is modified (lines are NUL-terminated in place). 0, or -1 with a
 * reason in *why; e then holds partial results for the caller to clear.
 */
static int
spool_format_parse_env(
    char *buf, size_t n, int version, struct spool_entry *e, const char **why)
{
	uint32_t seen = 0;
	size_t rcap = 0, acap = 0;

	*why = "NUL byte in envelope";
	if (memchr(buf, '\0', n) != NULL)
		return -1;
	*why = "envelope does not end with a line feed";
	if (n > 0 && buf[n - 1] != '\n')
		return -1;
	for (char *p = buf; p < buf + n;) {
		char *nl = memchr(p, '\n', (size_t)(buf + n - p));
		*nl = '\0';
		char *sp = strchr(p, ' ');
		*why = "envelope line without a value";
		if (sp == NULL)
			return -1;
		size_t klen = (size_t)(sp - p);
		*why = "bad envelope key";
		if (!spool_format_key_ok(p, klen))
			return -1;
		char *val = sp + 1;
		size_t vlen = (size_t)(nl - val);
		size_t i;
		for (i = 0; i < SPOOL_NFIELDS; i++)
			if (strlen(spool_format_fields[i].key) == klen &&
			    memcmp(spool_format_fields[i].key, p, klen) == 0)
				break;
		p = nl + 1;
		if (i == SPOOL_NFIELDS)
			continue; /* a field of a later version */
		const struct spool_format_field *f = &spool_format_fields[i];
		if (f->kind == SPOOL_ENV_QUEUE && version < 2)
			continue; /* not part of version 1 */
		if (f->kind != SPOOL_ENV_RCPT && f->kind != SPOOL_ENV_ATTR) {
			*why = "repeated envelope field";
			if (seen & (1u << i))
				return -1;
		}
		seen |= 1u << i;
		*why = "bad escape in envelope";
		switch (f->kind) {
		case SPOOL_ENV_STR: {
			char *v = spool_format_unescape(val, vlen);
			if (v == NULL)
				return -1;
			*(char **)(void *)((char *)e + f->entry_off) = v;
			break;
		}
		case SPOOL_ENV_RCPT: {
			char *v = spool_format_unescape(val, vlen);
			if (v == NULL)
				return -1;
			if (e->nrcpts == rcap) {
				rcap = rcap ? rcap * 2 : 4;
				e->rcpts = xreallocarray(e->rcpts, rcap, sizeof(*e->rcpts));
			}
			e->rcpts[e->nrcpts++] = v;
			break;
		}
		case SPOOL_ENV_ATTR: {
			char *eq = memchr(val, '=', vlen);
			*why = "bad attribute in envelope";
			if (eq == NULL)
				return -1;
			*why = "bad escape in envelope";
			char *name = spool_format_unescape(val, (size_t)(eq - val));
			if (name == NULL)
				return -1;
			char *value = spool_format_unescape(eq + 1, (size_t)(nl - eq - 1));
			if (value == NULL) {
				free(name);
				return -1;
			}
			if (e->nattrs == acap) {
				acap = acap ? acap * 2 : 4;
				e->attrs = xreallocarray(e->attrs, acap, sizeof(*e->attrs));
			}
			e->attrs[e->nattrs].name = name;
			e->attrs[e->nattrs].value = value;
			e->nattrs++;
			break;
		}
		case SPOOL_ENV_TIME:
			*why = "bad time in envelope";
			if (spool_format_parse_time(val, &e->received) < 0)
				return -1;
			break;
		case SPOOL_ENV_FLAG:
			*why = "bad flag in envelope";
			if (strcmp(val, "1") != 0 && strcmp(val, "0") != 0)
				return -1;
			e->smtputf8 = val[0] == '1';
			break;
		case SPOOL_ENV_QUEUE:
			*why = "bad queue in envelope";
			if (!spool_format_queue_ok(val))
				return -1;
			snprintf(e->queue, sizeof(e->queue), "%s", val);
			break;
		}
	}
	for (size_t i = 0; i < SPOOL_NFIELDS; i++) {
		*why = "envelope field missing";
		if (spool_format_fields[i].required && !(seen & (1u << i)))
			return -1;
		if (spool_format_fields[i].kind == SPOOL_ENV_QUEUE && version >= 2 &&
		    !(seen & (1u << i)))
			return -1;
	}
	return 0;
}

/*
 * Reads footer and envelope of the open file fd into e (zeroed first;
 * id and queue are left for the caller). 0, or -1 with errno (EINVAL and
 * a reason in *why for a file that does not parse); e is cleared on
 * failure.
 */
int
spool_format_read_entry(int fd, struct spool_entry *e, const char **why)
{
	uint64_t fsize, env_off;
	size_t flen;
	int version;

	memset(e, 0, sizeof(*e));
	if (spool_format_footer(fd, &fsize, &env_off, &flen, &version, why) < 0)
		return -1;
	uint64_t start = env_off + SPOOL_ENV_MAGIC_LEN;
	uint64_t len = fsize - flen - start;
	if (len > SPOOL_ENV_MAX) {
		*why = "envelope too large";
		errno = EINVAL;
		return -1;
	}
	char *buf = xmalloc((size_t)len + 1);
	if (spool_format_pread_all(fd, buf, (size_t)len, start) < 0) {
		int saved = errno;
		*why = "truncated";
		free(buf);
		errno = saved;
		return -1;
	}
	buf[len] = '\0';
	int rc = spool_format_parse_env(buf, (size_t)len, version, e, why);
	free(buf);
	if (rc < 0) {
		spool_entry_clear(e);
		errno = EINVAL;
		return -1;
	}
	e->size = env_off;
	e->body_offset = 0;
	return 0;
}

int
spool_entry_read(const char *path, struct spool_entry *e)
{
	const char *why;

	memset(e, 0, sizeof(*e));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = spool_format_read_entry(fd, e, &why);
	int saved = errno;
	close(fd);
	if (rc < 0) {
		errno = saved;
		return -1;
	}

	/* id from the file name, queue from its directory's name (not from
	 * a version 2 envelope's "queue" line). */
	e->queue[0] = '\0';
	size_t len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		len--;
	size_t b = len;
	while (b > 0 && path[b - 1] != '/')
		b--;
	if (len - b == ID_LEN) {
		memcpy(e->id, path + b, ID_LEN);
		e->id[ID_LEN] = '\0';
		if (!spool_format_id_ok(e->id))
			e->id[0] = '\0';
	}
	size_t qe = b;
	while (qe > 0 && path[qe - 1] == '/')
		qe--;
	size_t qb = qe;
	while (qb > 0 && path[qb - 1] != '/')
		qb--;
	if (qe > qb && qe - qb <= SPOOL_QUEUE_NAME_MAX) {
		memcpy(e->queue, path + qb, qe - qb);
		e->queue[qe - qb] = '\0';
		if (!spool_format_queue_ok(e->queue))
			e->queue[0] = '\0';
	}
	return 0;
}

void
spool_entry_clear(struct spool_entry *e)
{
	if (e == NULL)
		return;
	free(e->sender);
	for (size_t i = 0; i < e->nrcpts; i++)
		free(e->rcpts[i]);
	free(e->rcpts);
	free(e->client_addr);
	free(e->client_name);
	free(e->helo);
	free(e->protocol);
	free(e->session_id);
	free(e->server_name);
	free(e->body);
	for (size_t i = 0; i < e->nattrs; i++) {
		free(e->attrs[i].name);
		free(e->attrs[i].value);
	}
	free(e->attrs);
	memset(e, 0, sizeof(*e));
}

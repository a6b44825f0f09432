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

int
spool_format_write(
    const struct spool_envelope *env, uint64_t env_off, spool_format_put_fn put, void *ctx)
{
	struct spool_format_sink out = {.put = put, .ctx = ctx}, *o = &out;
	char num[32];

	if (spool_format_out(o, SPOOL_ENV_MAGIC, SPOOL_ENV_MAGIC_LEN) < 0)
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
		}
	}

	char footer[SPOOL_FOOTER_LEN + 1];
	snprintf(footer, sizeof(footer), SPOOL_FOOTER_TAG "%020" PRIu64 "\n", env_off);
	return spool_format_out(o, footer, SPOOL_FOOTER_LEN);
}

/* --- reading -------------------------------------------------------------- */

/*
 * Checks the footer of the open file fd and the envelope magic it points
 * at. Stores the file size and the envelope offset (= message size).
 * 0, or -1 with errno (EINVAL and a reason in *why for a bad file).
 */
static int
spool_format_footer(int fd, uint64_t *fsize, uint64_t *env_off, const char **why)
{
	struct stat st;
	char foot[SPOOL_FOOTER_LEN];
	char magic[SPOOL_ENV_MAGIC_LEN];
	uint64_t off = 0;

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
	*why = "truncated";
	if (spool_format_pread_all(fd, foot, sizeof(foot), size - SPOOL_FOOTER_LEN) < 0)
		return -1;
	*why = "no footer";
	if (memcmp(foot, SPOOL_FOOTER_TAG, SPOOL_FOOTER_TAG_LEN) != 0 ||
	    foot[SPOOL_FOOTER_LEN - 1] != '\n')
		goto bad;
	*why = "bad footer offset";
	for (size_t i = 0; i < SPOOL_FOOTER_DIGITS; i++) {
		char c = foot[SPOOL_FOOTER_TAG_LEN + i];
		if (c < '0' || c > '9')
			goto bad;
		unsigned d = (unsigned)(c - '0');
		if (off > (UINT64_MAX - d) / 10)
			goto bad;
		off = off * 10 + d;
	}
	*why = "footer offset past end of file";
	if (off > size - SPOOL_FOOTER_LEN - SPOOL_ENV_MAGIC_LEN)
		goto bad;
	*why = "truncated";
	if (spool_format_pread_all(fd, magic, sizeof(magic), off) < 0)
		return -1;
	*why = "no envelope at footer offset";
	if (memcmp(magic, SPOOL_ENV_MAGIC, SPOOL_ENV_MAGIC_LEN) != 0)
		goto bad;
	*fsize = size;
	*env_off = off;
	return 0;
bad:
	errno = EINVAL;
	return -1;
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
	return spool_format_footer(fd, &fsize, msg_size, why);
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
spool_format_parse_env(char *buf, size_t n, struct spool_entry *e, const char **why)
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
		}
	}
	for (size_t i = 0; i < SPOOL_NFIELDS; i++) {
		*why = "envelope field missing";
		if (spool_format_fields[i].required && !(seen & (1u << i)))
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

	memset(e, 0, sizeof(*e));
	if (spool_format_footer(fd, &fsize, &env_off, why) < 0)
		return -1;
	uint64_t start = env_off + SPOOL_ENV_MAGIC_LEN;
	uint64_t len = fsize - SPOOL_FOOTER_LEN - start;
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
	int rc = spool_format_parse_env(buf, (size_t)len, e, why);
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

	/* id from the file name, queue from its directory's name. */
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

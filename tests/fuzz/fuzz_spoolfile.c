/*
 * fuzz_spoolfile.c - libFuzzer target: reading a spool file (both format
 * versions) and the commit seal that start-up recovery trusts.
 *
 * The first octet picks the mode:
 *  - even: the rest is a whole file, as found in tmp/ or a queue. The
 *    footer and envelope readers must not crash, a parsed entry must be
 *    consistent with the file, and the seal must NOT check: the key is
 *    secret, so no input may pass (a pass would mean a forged footer in
 *    client bytes is taken as committed).
 *  - odd: the rest is split into message bytes and envelope strings, a
 *    sealed file is built with the real writer, and then: its seal checks,
 *    it reads back to the same envelope, and the file cut at, or with one
 *    bit flipped at, a position chosen by the input no longer checks.
 */
#include "fuzz_util.h"
#include "../../src/core/id.h"
#include "../../src/spool/spool_format.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_ID "0123456789abcdef0123"

static struct spool_format_mac *fuzz_key;

/* A memory file holding p[0..n); -1 aborts the run. */
static int
fuzz_memfile(const void *p, size_t n)
{
	int fd = memfd_create("spoolfile", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	if (n > 0)
		FUZZ_CHECK(write(fd, p, n) == (ssize_t)n);
	return fd;
}

struct fuzz_buf {
	unsigned char *b;
	size_t n, cap;
	struct spool_format_mac *mac;
};

static int
fuzz_put(void *ctx, const void *p, size_t n)
{
	struct fuzz_buf *o = ctx;
	if (n == 0)
		return 0;
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2;
		o->b = realloc(o->b, o->cap);
		FUZZ_CHECK(o->b != NULL);
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
	if (o->mac != NULL)
		spool_format_mac_update(o->mac, p, n);
	return 0;
}

static int
fuzz_seal(void *ctx, char hex[SPOOL_FORMAT_MAC_HEX + 1])
{
	struct fuzz_buf *o = ctx;
	int rc = spool_format_mac_hex(o->mac, hex);
	spool_format_mac_free(o->mac);
	o->mac = NULL;
	return rc;
}

static int
fuzz_sealed(int fd)
{
	const char *why;
	return spool_format_check_seal(fd, fuzz_key, FUZZ_ID, &why);
}

/* Mode even: an arbitrary file. */
static void
fuzz_file(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfile(data, size);
	struct spool_entry e;
	const char *why = NULL;
	uint64_t msg;

	int rf = spool_format_read_footer(fd, &msg, &why);
	if (rf == 0)
		FUZZ_CHECK(msg < size);
	int re = spool_format_read_entry(fd, &e, &why);
	if (re == 0) {
		FUZZ_CHECK(rf == 0 && e.size == msg);
		FUZZ_CHECK(e.sender != NULL);
		FUZZ_CHECK(e.queue[0] == '\0' || spool_format_queue_ok(e.queue));
		spool_entry_clear(&e);
	} else {
		FUZZ_CHECK(why != NULL && e.sender == NULL && e.nrcpts == 0);
	}
	FUZZ_CHECK(fuzz_sealed(fd) < 0);
	close(fd);
}

/* Mode odd: a sealed file from the writer, then damaged. */
static void
fuzz_roundtrip(const uint8_t *data, size_t size)
{
	/* message | sender | rcpt | helo, split at NUL bytes */
	char *copy = malloc(size + 4);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	memset(copy + size, 0, 4);
	const char *part[4];
	size_t plen[4];
	size_t off = 0;
	for (int i = 0; i < 4; i++) {
		part[i] = copy + off;
		plen[i] = strnlen(copy + off, size - off);
		off += plen[i];
		if (off < size)
			off++; /* the NUL that ended it */
	}
	const char *rcpts[1] = {part[2]};
	struct spool_envelope env = {
	    .sender = part[1],
	    .rcpts = rcpts,
	    .nrcpts = 1,
	    .helo = part[3],
	    .received = (time_t)size,
	};
	struct fuzz_buf o = {0};
	o.mac = spool_format_mac_start(fuzz_key, FUZZ_ID);
	FUZZ_CHECK(o.mac != NULL);
	fuzz_put(&o, part[0], plen[0]);
	FUZZ_CHECK(spool_format_write_sealed(&env, "spool", plen[0], fuzz_put, fuzz_seal, &o) == 0);
	FUZZ_CHECK(o.mac == NULL);

	int fd = fuzz_memfile(o.b, o.n);
	FUZZ_CHECK(fuzz_sealed(fd) == 0);
	struct spool_entry e;
	const char *why;
	FUZZ_CHECK(spool_format_read_entry(fd, &e, &why) == 0);
	FUZZ_CHECK(e.size == plen[0]);
	FUZZ_CHECK(strcmp(e.sender, part[1]) == 0);
	FUZZ_CHECK(e.nrcpts == 1 && strcmp(e.rcpts[0], part[2]) == 0);
	FUZZ_CHECK(strcmp(e.helo, part[3]) == 0);
	FUZZ_CHECK(strcmp(e.queue, "spool") == 0);
	spool_entry_clear(&e);
	close(fd);

	/* Cut short anywhere: not sealed. */
	size_t pos = size > 0 ? (size_t)data[size - 1] * 257u % o.n : 0;
	fd = fuzz_memfile(o.b, pos);
	FUZZ_CHECK(fuzz_sealed(fd) < 0);
	close(fd);
	/* One bit flipped anywhere: not sealed. */
	o.b[pos] ^= (unsigned char)(1u << (size % 8));
	fd = fuzz_memfile(o.b, o.n);
	FUZZ_CHECK(fuzz_sealed(fd) < 0);
	close(fd);
	free(o.b);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_key == NULL) {
		unsigned char key[SPOOL_FORMAT_KEY_LEN];
		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (unsigned char)(i * 37 + 11);
		fuzz_key = spool_format_mac_new(key);
		FUZZ_CHECK(fuzz_key != NULL);
	}
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_file(data + 1, size - 1);
	else
		fuzz_roundtrip(data + 1, size - 1);
	return 0;
}

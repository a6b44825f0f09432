/*
 * fuzz_path.c - libFuzzer target: the MAIL/RCPT argument parser and the
 * ESMTP parameter parser directly. The first octet picks MAIL or RCPT,
 * bracket enforcement and UTF-8 in parameters; the rest is the argument.
 * Invariants: the mailbox is NUL-terminated, no longer than the maximum,
 * at <= len, appears verbatim in the input, matches the utf8 flag, and
 * parses back to itself.
 */
#include "fuzz_util.h"
#include "../../src/protocol/smtp_parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks the mailbox of a successful parse. */
static void
fuzz_check_mailbox(const struct smtp_path *path, const char *arg, size_t len, int is_rcpt)
{
	struct smtp_path again;
	char buf[SMTP_MAILBOX_MAX + 8];
	const char *params;
	size_t plen, n;
	int high = 0;

	FUZZ_CHECK(path->len <= SMTP_MAILBOX_MAX);
	FUZZ_CHECK(path->at <= path->len);
	FUZZ_CHECK(path->mailbox[path->len] == '\0');
	FUZZ_CHECK(strlen(path->mailbox) == path->len);
	FUZZ_CHECK(path->at == path->len || path->mailbox[path->at] == '@');
	if (path->null) {
		FUZZ_CHECK(!is_rcpt && path->len == 0 && path->at == 0);
		return;
	}
	FUZZ_CHECK(path->len > 0 && path->at > 0);
	FUZZ_CHECK(memmem(arg, len, path->mailbox, path->len) != NULL);
	for (size_t i = 0; i < path->len; i++)
		if ((unsigned char)path->mailbox[i] >= 0x80)
			high = 1;
	FUZZ_CHECK(!high || path->utf8);
	FUZZ_CHECK(smtp_utf8_valid(path->mailbox, path->len));

	/* the mailbox, put back between brackets, parses to itself */
	n = (size_t)snprintf(buf, sizeof(buf), "%s<%s>", is_rcpt ? "TO:" : "FROM:", path->mailbox);
	FUZZ_CHECK(n < sizeof(buf));
	FUZZ_CHECK(smtp_parse_path_arg(buf, n, is_rcpt, 1, &again, &params, &plen) == SMTP_PATH_OK);
	FUZZ_CHECK(again.len == path->len && again.at == path->at && !again.null);
	FUZZ_CHECK(memcmp(again.mailbox, path->mailbox, path->len) == 0);
	FUZZ_CHECK(!again.has_route && plen == 0);
	FUZZ_CHECK(again.utf8 == high);
}

static void
fuzz_check_params(const char *params, size_t plen, int utf8)
{
	struct smtp_param p[SMTP_PARAMS_MAX];
	int n = smtp_parse_params(params, plen, utf8, p, SMTP_PARAMS_MAX);

	FUZZ_CHECK(n >= -1 && n <= SMTP_PARAMS_MAX);
	for (int i = 0; i < n; i++) {
		unsigned long long v;
		FUZZ_CHECK(p[i].keylen > 0 && fuzz_inside(p[i].key, p[i].keylen, params, plen));
		FUZZ_CHECK(memchr(p[i].key, '\0', p[i].keylen) == NULL);
		if (p[i].value == NULL) {
			FUZZ_CHECK(p[i].valuelen == 0);
			continue;
		}
		FUZZ_CHECK(p[i].valuelen > 0);
		FUZZ_CHECK(fuzz_inside(p[i].value, p[i].valuelen, params, plen));
		FUZZ_CHECK(memchr(p[i].value, '\0', p[i].valuelen) == NULL);
		FUZZ_CHECK(memchr(p[i].value, ' ', p[i].valuelen) == NULL);
		FUZZ_CHECK(memchr(p[i].value, '=', p[i].valuelen) == NULL);
		if (smtp_param_is(&p[i], "SIZE") &&
		    smtp_parse_u64(p[i].value, p[i].valuelen, &v) == 0) {
			/* the number printed back equals the digits without leading zeros */
			char num[32];
			size_t z = 0, k;
			while (z + 1 < p[i].valuelen && p[i].value[z] == '0')
				z++;
			k = (size_t)snprintf(num, sizeof(num), "%llu", v);
			FUZZ_CHECK(k == p[i].valuelen - z && memcmp(num, p[i].value + z, k) == 0);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_path path;
	const char *arg, *params;
	size_t len, plen;
	int is_rcpt, brackets, utf8;
	enum smtp_path_status st;

	if (size == 0)
		return 0;
	is_rcpt = data[0] & 1;
	brackets = (data[0] >> 1) & 1;
	utf8 = (data[0] >> 2) & 1;
	arg = (const char *)data + 1;
	len = size - 1;

	st = smtp_parse_path_arg(arg, len, is_rcpt, brackets, &path, &params, &plen);
	FUZZ_CHECK(st >= SMTP_PATH_OK && st <= SMTP_PATH_BAD_PARAMS);
	FUZZ_CHECK(path.len <= SMTP_MAILBOX_MAX && path.at <= path.len);
	FUZZ_CHECK(path.mailbox[path.len] == '\0');
	if (st != SMTP_PATH_OK) {
		FUZZ_CHECK(params == NULL && plen == 0 && path.len == 0 && !path.null);
	} else {
		FUZZ_CHECK(memchr(arg, '\0', len) == NULL);
		FUZZ_CHECK(fuzz_inside(params, plen, arg, len) && params + plen == arg + len);
		fuzz_check_mailbox(&path, arg, len, is_rcpt);
		fuzz_check_params(params, plen, utf8);
	}
	/* the parameter parser and the checks on the raw input as well */
	fuzz_check_params(arg, len, utf8);
	(void)smtp_valid_helo(arg, len);
	return 0;
}

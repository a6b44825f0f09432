/*
 * fuzz_cmdline.c - libFuzzer target: a whole SMTP command line through
 * smtp_parse_cmdline(), then, for MAIL and RCPT, the path parser in both
 * bracket modes and the parameter parser on what follows the path, and
 * the HELO check on every argument.
 */
#include "fuzz_util.h"
#include "../../src/protocol/smtp_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
fuzz_path(const char *arg, size_t len, int is_rcpt, int brackets)
{
	struct smtp_param p[SMTP_PARAMS_MAX];
	struct smtp_path path;
	const char *params;
	size_t plen;
	int n;

	if (smtp_parse_path_arg(arg, len, is_rcpt, brackets, &path, &params, &plen) !=
	    SMTP_PATH_OK) {
		FUZZ_CHECK(params == NULL && plen == 0 && path.len == 0);
		return;
	}
	FUZZ_CHECK(path.len <= SMTP_MAILBOX_MAX && path.at <= path.len);
	FUZZ_CHECK(path.mailbox[path.len] == '\0' && strlen(path.mailbox) == path.len);
	FUZZ_CHECK(fuzz_inside(params, plen, arg, len) && params + plen == arg + len);
	n = smtp_parse_params(params, plen, path.utf8, p, SMTP_PARAMS_MAX);
	FUZZ_CHECK(n >= -1 && n <= SMTP_PARAMS_MAX);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(p[i].keylen > 0 && fuzz_inside(p[i].key, p[i].keylen, params, plen));
		FUZZ_CHECK(
		    p[i].value == NULL ||
		    (p[i].valuelen > 0 && fuzz_inside(p[i].value, p[i].valuelen, params, plen)));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct smtp_cmdline cl;

	if (smtp_parse_cmdline(line, size, &cl) != 0)
		return 0;
	FUZZ_CHECK(cl.verb[0] != '\0' && strlen(cl.verb) <= SMTP_VERB_MAX);
	if (cl.arg == NULL) {
		FUZZ_CHECK(cl.arglen == 0);
		return 0;
	}
	FUZZ_CHECK(cl.arglen > 0 && fuzz_inside(cl.arg, cl.arglen, line, size));
	(void)smtp_valid_helo(cl.arg, cl.arglen);
	if (strcmp(cl.verb, "MAIL") == 0 || strcmp(cl.verb, "RCPT") == 0) {
		int is_rcpt = cl.verb[0] == 'R';
		fuzz_path(cl.arg, cl.arglen, is_rcpt, 1);
		fuzz_path(cl.arg, cl.arglen, is_rcpt, 0);
	}
	return 0;
}

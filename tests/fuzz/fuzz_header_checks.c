/*
 * fuzz_header_checks.c - libFuzzer target: HeaderChecksFilter
 * (handlers/fastfail/header_checks.c) on arbitrary message data, through
 * the data_line runner and data_end as the session calls them.
 *
 * The first octet gives the chunk length; the rest is the message. It is
 * fed whole, in chunks and octet by octet (up to 4 KiB): the three must
 * give the same answer, the filter never changes what it passes on (what
 * is stored is a prefix of the input, all of it when nothing matched),
 * and a refusal is one of the configured ones.
 */
#include "fuzz_util.h"
#include "../../handlers/chain.h"
#include "../../src/config/cfg_chain.h"
#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"
#include "../../src/config/config.h"
#include "../../src/core/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char conf_xml[] =
    "<handlerchain>\n"
    "<handler class=\"HeaderChecksFilter\">\n"
    "<reject pattern=\"^subject:.*x\"/>\n"
    "<defer pattern=\"^[a-c]+: *y+$\" code=\"450\"/>\n"
    "<disconnect pattern=\"q[[:space:]]q\"/>\n"
    "<body_reject pattern=\"^z\" code=\"554\" ecode=\"5.7.0\">no</body_reject>\n"
    "</handler>\n"
    "</handlerchain>\n";

static struct chain *chain;
static struct cfg_server server;
static struct hook_session hs;

static struct {
	char *p;
	size_t len;
	const char *in;
	size_t in_len;
} stored;

static void
fuzz_sink(void *arg, const char *data, size_t len)
{
	(void)arg;
	FUZZ_CHECK(stored.len + len <= stored.in_len);
	FUZZ_CHECK(memcmp(stored.in + stored.len, data, len) == 0);
	stored.len += len;
}

static void
setup(void)
{
	char file[] = "/tmp/mailetd-fuzz-hc-XXXXXX";
	int fd = mkstemp(file);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, conf_xml, sizeof(conf_xml) - 1) == (ssize_t)(sizeof(conf_xml) - 1));
	close(fd);
	struct cfg_diag d;
	cfg_diag_init(&d);
	struct cfg_xml x;
	FUZZ_CHECK(cfg_xml_open(&x, file, NULL, &d) == 1);
	chain = cfg_chain_read(&x, cfg_xml_root(&x), false);
	cfg_xml_close(&x);
	unlink(file);
	FUZZ_CHECK(chain != NULL && d.errors == 0);
	cfg_diag_clear(&d);
	log_set_level(LOG_LVL_ERROR);
	hs.id = "fuzz";
	hs.msgid = "fuzz";
	hs.server = &server;
	chain_session_begin(chain, &hs);
}

static struct hook_result
feed(const char *d, size_t n, size_t step)
{
	hs.tx_serial++;
	stored.len = 0;
	stored.in = d;
	stored.in_len = n;
	struct chain_lines *l = chain_lines_new(chain, HOOK_LINE_MAX);
	for (size_t o = 0; o < n; o += step)
		chain_lines_feed(l, &hs, d + o, n - o < step ? n - o : step, fuzz_sink, NULL);
	struct hook_result r = chain_lines_end(l, &hs, fuzz_sink, NULL);
	chain_lines_free(l);
	if (r.verdict == HOOK_DECLINED) {
		FUZZ_CHECK(stored.len == n);
		r = chain_data_end(chain, &hs, n, false);
	}
	switch (r.verdict) {
	case HOOK_DECLINED:
		break;
	case HOOK_DENY:
		FUZZ_CHECK(r.code == 550 || r.code == 554);
		break;
	case HOOK_DENYSOFT:
		FUZZ_CHECK(r.code == 450);
		break;
	case HOOK_DISCONNECT:
		FUZZ_CHECK(r.code == 554);
		break;
	default:
		FUZZ_CHECK(0);
	}
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (chain == NULL)
		setup();
	if (size < 1)
		return 0;
	size_t step = data[0] ? data[0] : 1;
	const char *msg = (const char *)data + 1;
	size_t n = size - 1;
	struct hook_result whole = feed(msg, n, n > 0 ? n : 1);
	struct hook_result chunked = feed(msg, n, step);
	FUZZ_CHECK(whole.verdict == chunked.verdict && whole.code == chunked.code);
	if (n <= 4096) {
		struct hook_result octets = feed(msg, n, 1);
		FUZZ_CHECK(whole.verdict == octets.verdict && whole.code == octets.code);
	}
	return 0;
}

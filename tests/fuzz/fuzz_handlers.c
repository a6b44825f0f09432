/*
 * fuzz_handlers.c - the message header block as handlers read it: header
 * lookup with unfolding (hook_header) and verifyIdentity's From: parser
 * (the core chain's message hook), on arbitrary client bytes.
 */
#include "../../handlers/chain.h"
#include "../../src/config/config.h"
#include "fuzz_util.h"

#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dom[] = "mailetd.test";
	static char *doms[] = { dom };
	struct config cfg;
	struct cfg_server srv;
	struct hook_session hs;
	memset(&cfg, 0, sizeof(cfg));
	memset(&srv, 0, sizeof(srv));
	memset(&hs, 0, sizeof(hs));
	cfg.domains.names = doms;
	cfg.domains.n = 1;
	cfg.domains.default_domain = dom;
	srv.verify_identity = CFG_VERIFY_STRICT;
	hs.cfg = &cfg;
	hs.server = &srv;
	hs.id = "fuzz";
	hs.authenticated = true;
	hs.auth_user = "bob";
	hs.headers = (const char *)data;
	hs.headers_len = size;

	char small[8], big[4096];
	static const char *const names[] = { "From", "Subject", "X", "" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		long n = hook_header(&hs, names[i], 0, small, sizeof(small));
		long m = hook_header(&hs, names[i], 0, big, sizeof(big));
		FUZZ_CHECK(n == m);
		if (memchr(data, '\0', size) == NULL)
			FUZZ_CHECK(n < 0 || strlen(small) == ((size_t)n < sizeof(small)
								     ? (size_t)n
								     : sizeof(small) - 1));
		FUZZ_CHECK(n <= (long)size);
	}
	unsigned long long sz = size;
	struct hook_result r = chain_run(chain_core(), CHAIN_MESSAGE, &hs, &sz);
	/* Without a users repository nobody's address is bob's: never accepted. */
	FUZZ_CHECK(r.verdict == HOOK_DENY && r.code == 503);
	return 0;
}

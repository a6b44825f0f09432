/*
 * fuzz_proxy.c - libFuzzer target: the PROXY protocol v1/v2 parser
 * (proxy.c) on arbitrary connection input, whole and as every prefix the
 * reader could see first.
 */
#include "fuzz_util.h"
#include "../../src/net/proxy.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header h;
	const char *why;
	enum proxy_status st = proxy_parse(data, size, &h, &why);
	FUZZ_CHECK(st == PROXY_MORE || st == PROXY_OK || st == PROXY_BAD);
	FUZZ_CHECK(st != PROXY_BAD || why != NULL);
	if (st == PROXY_MORE)
		FUZZ_CHECK(size < PROXY_MAX_HEADER);
	if (st != PROXY_OK)
		return 0;
	FUZZ_CHECK(h.len > 0 && h.len <= size && h.len <= PROXY_MAX_HEADER);
	FUZZ_CHECK(h.version != 1 || h.len <= PROXY_V1_MAX);
	if (proxy_has_client(&h))
		FUZZ_CHECK(h.src.family == AF_INET || h.src.family == AF_INET6);
	/* The header alone parses the same; every shorter prefix wants more
	 * (a prefix is never judged complete or bad differently). */
	struct proxy_header h2;
	FUZZ_CHECK(proxy_parse(data, h.len, &h2, &why) == PROXY_OK && h2.len == h.len);
	for (size_t i = 0; i < h.len; i++)
		FUZZ_CHECK(proxy_parse(data, i, &h2, &why) == PROXY_MORE);
	return 0;
}

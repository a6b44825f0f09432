/*
 * fuzz_dnsname.c - libFuzzer target: DNS data from the network through
 * dns_name_decode() (wire-format names in MX and PTR rdata) at every
 * offset, with small and large output buffers.
 */
#include "fuzz_util.h"
#include "../../src/dns/dns.h"

#include <stdint.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[1100], small[16];
	for (size_t off = 0; off <= size && off < 64; off++) {
		long end = dns_name_decode(data, size, off, out, sizeof(out));
		FUZZ_CHECK(end == -1 || ((size_t)end > off && (size_t)end <= size));
		if (end < 0)
			continue;
		size_t len = strlen(out);
		/* At most 255 octets of wire name, each shown as up to 4 characters. */
		FUZZ_CHECK(len < 4 * 255);
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK(out[i] > ' ' && out[i] < 0x7f);
		long e2 = dns_name_decode(data, size, off, small, sizeof(small));
		FUZZ_CHECK(e2 == -1 || (e2 == end && strlen(small) < sizeof(small)));
	}
	return 0;
}

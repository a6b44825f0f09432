/*
 * fuzz_spf.c - libFuzzer target: a TXT record through the SPF record
 * parser, and each domain-spec it accepts (and the raw input as an
 * explanation) through macro expansion.
 */
#include "fuzz_util.h"
#include "../../src/spf/spf_record.h"

#include <stdint.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_record r;
	char err[128], out[1024];
	struct netaddr ip4, ip6;
	netaddr_parse("192.0.2.3", &ip4);
	netaddr_parse("2001:db8::cb01", &ip6);
	struct spf_macro_vars v = { .sender = "strong-bad@email.example.com",
		.local = "strong-bad", .sender_dom = "email.example.com",
		.domain = "email.example.com", .ip = &ip4, .helo = "mx.example.org",
		.receiver = NULL, .now = 0 };

	if (spf_record_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
		FUZZ_CHECK(spf_is_record((const char *)data, size));
		FUZZ_CHECK(r.n <= size);
		for (size_t i = 0; i < r.n; i++) {
			const struct spf_term *t = &r.terms[i];
			FUZZ_CHECK(t->cidr4 <= 32 && t->cidr6 <= 128);
			if (t->domain == NULL)
				continue;
			v.ip = i % 2 ? &ip6 : &ip4;
			int n = spf_macro_expand(t->domain, &v, false, out, sizeof(out), err,
			    sizeof(err));
			FUZZ_CHECK(n < 0 || (n <= 253 && strlen(out) == (size_t)n));
		}
		const char *mods[2] = { r.redirect, r.exp };
		for (int i = 0; i < 2; i++) {
			if (mods[i] == NULL)
				continue;
			int n = spf_macro_expand(mods[i], &v, false, out, sizeof(out), err,
			    sizeof(err));
			FUZZ_CHECK(n < 0 || (n <= 253 && strlen(out) == (size_t)n));
		}
		spf_record_clear(&r);
	} else {
		FUZZ_CHECK(r.n == 0 && r.terms == NULL && r.redirect == NULL && r.exp == NULL);
	}
	/* The input as an explanation string (exp= TXT record text). */
	if (size < 512 && memchr(data, '\0', size) == NULL) {
		char s[512];
		memcpy(s, data, size);
		s[size] = '\0';
		int n = spf_macro_expand(s, &v, true, out, sizeof(out), err, sizeof(err));
		FUZZ_CHECK(n < 0 || strlen(out) == (size_t)n);
	}
	return 0;
}

/*
 * fuzz_uri.c - libFuzzer target: the URL host extractor of URIRBLHandler
 * (handlers/fastfail/uri_scan.c) on arbitrary bytes, as a whole message
 * (MIME, quoted-printable, base64) and as plain text, and the blocklist
 * names made from what it found.
 */
#include "../../handlers/fastfail/uri_scan.h"
#include "fuzz_util.h"

#include <string.h>

static void
check_hosts(const struct uri_hosts *h)
{
	FUZZ_CHECK(h->n <= URI_SCAN_HOSTS_MAX);
	for (size_t i = 0; i < h->n; i++) {
		const char *s = h->name[i];
		size_t n = strlen(s);
		FUZZ_CHECK(n >= 3 && n <= URI_HOST_MAX);
		FUZZ_CHECK(strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n);
		FUZZ_CHECK(s[0] != '.' && s[n - 1] != '.' && strstr(s, "..") == NULL);
		FUZZ_CHECK(strchr(s, '.') != NULL);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(h->name[j], s) != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy without a terminating NUL: reads past the end show. */
	char *buf = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	static struct uri_hosts h;
	h.n = 0;
	h.truncated = false;
	uri_scan_message(buf, size, &h);
	check_hosts(&h);
	static char names[20][URI_HOST_MAX + 1];
	size_t n = uri_lookup_names(&h, names, 20);
	FUZZ_CHECK(n <= 20 && (h.n == 0) == (n == 0));
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(strlen(names[i]) <= URI_HOST_MAX && strlen(names[i]) > 0);
	h.n = 0;
	uri_scan_text(buf, size, &h);
	check_hosts(&h);
	free(buf);
	return 0;
}

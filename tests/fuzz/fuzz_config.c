/*
 * fuzz_config.c - libFuzzer target for the configuration loaders.
 *
 * The first byte of the input picks the file ('0' and every fourth value:
 * smtpserver.xml, then domainlist.xml, mailetd.xml, lmtpserver.xml); the rest is
 * written as that file into a temporary directory made once, and the
 * whole directory goes through config_load() and config_free(). Host
 * names resolve through a fixed table so that the fuzzer never waits on
 * DNS.
 */
#include "../../src/config/config.h"
#include "../../src/core/netaddr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = { "smtpserver.xml", "domainlist.xml", "mailetd.xml",
	"lmtpserver.xml" };
#define NFILES (sizeof(files) / sizeof(files[0]))
static char dir[64];
static char paths[NFILES][128];

static int
fixed_resolver(const char *host, int family, struct netaddr *out, size_t max, size_t *n,
    char *err, size_t errlen)
{
	*n = 0;
	if (strcmp(host, "localhost") != 0 || max == 0 || family == AF_INET6) {
		snprintf(err, errlen, "Name or service not known");
		return -1;
	}
	netaddr_parse("127.0.0.1", &out[0]);
	*n = 1;
	return 0;
}

static void
cleanup(void)
{
	for (size_t i = 0; i < NFILES; i++)
		unlink(paths[i]);
	rmdir(dir);
}

static void
init_once(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mailetd-fuzz-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	for (size_t i = 0; i < NFILES; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, files[i]);
	netaddr_set_resolver(fixed_resolver);
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dir[0] == '\0')
		init_once();
	if (size == 0)
		return 0;
	size_t which = data[0] % NFILES;
	for (size_t i = 0; i < NFILES; i++)
		unlink(paths[i]);
	FILE *f = fopen(paths[which], "wb");
	if (f == NULL)
		abort();
	if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1)
		abort();
	if (fclose(f) != 0)
		abort();

	struct cfg_diag d;
	cfg_diag_init(&d);
	struct config *cfg = config_load(dir, NULL, &d);
	config_free(cfg);
	cfg_diag_clear(&d);
	return 0;
}

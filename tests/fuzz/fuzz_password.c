/*
 * fuzz_password.c - libFuzzer target: the parser of stored password hashes
 * (they come from imported files: mailetctl user import). The input is
 * the stored string; password_hash_valid must never crash, read out of
 * bounds or accept a string without a known prefix. Verification itself
 * is not run: its cost is the hash's own iteration count, by design.
 */
#include "../../src/auth/password.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (password_hash_valid(s) && s[0] != '{' && s[0] != '$')
		abort();
	/* A hash with a one-iteration PBKDF2 count is cheap: verify it too. */
	if (strncasecmp(s, "{PBKDF2-SHA512}1$", 17) == 0)
		(void)password_verify(s, "user", "password", 8);
	free(s);
	return 0;
}

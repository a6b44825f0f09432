/*
 * fuzz_spf_field.c - libFuzzer target: SPFHandler's Received-SPF field
 * (handlers/fastfail/spf_handler.c) from arbitrary values. The first
 * byte picks the result; the rest is split at NUL bytes into the client
 * address, the sender, the HELO name, the receiver, the checked identity,
 * the mechanism and the problem (an empty one of the last three is
 * absent). Whatever they hold, the field must be one well-formed header
 * field: only CRLF followed by a tab breaks a line, no line is longer
 * than 998 octets, quoted strings are closed, and the unfolded value has
 * no line break at all.
 */
#include "fuzz_util.h"
#include "../../handlers/fastfail/fastfail.h"
#include "../../src/spf/spf.h"

#include <stdint.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char buf[8192];
	size_t n = size - 1 < sizeof(buf) - 1 ? size - 1 : sizeof(buf) - 1;
	memcpy(buf, data + 1, n);
	buf[n] = '\0';
	const char *part[7] = { "", "", "", "", "", "", "" };
	char *p = buf;
	for (size_t i = 0; i < 7 && p <= buf + n; i++) {
		part[i] = p;
		p += strlen(p) + 1;
	}
	struct spf_outcome o = {
		.result = (enum spf_result)(data[0] % 7),
		.sender = part[4][0] != '\0' ? part[4] : NULL,
		.mechanism = part[5][0] != '\0' ? part[5] : NULL,
		.problem = part[6][0] != '\0' ? part[6] : NULL,
	};
	char field[SPF_HANDLER_FIELD_MAX], value[SPF_HANDLER_FIELD_MAX];
	spf_handler_field(&o, part[0], part[1], part[2], part[3], field, value, sizeof(field));

	size_t len = strlen(field);
	FUZZ_CHECK(len < sizeof(field) - 1); /* never cut: the limits keep it short */
	FUZZ_CHECK(strncmp(field, "Received-SPF: ", 14) == 0);
	size_t line = 0;
	int quoted = 0, depth = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)field[i];
		if (ch == '\r') {
			FUZZ_CHECK(field[i + 1] == '\n' && field[i + 2] == '\t');
			FUZZ_CHECK(!quoted && depth == 0);
			line = 1; /* the tab */
			i += 2;
			continue;
		}
		FUZZ_CHECK(ch != '\n');
		FUZZ_CHECK(++line <= 998);
		if (ch == '\\') {
			FUZZ_CHECK(quoted || depth > 0); /* a quoted-pair */
			FUZZ_CHECK(i + 1 < len && field[i + 1] != '\r');
			i++;
			line++;
			continue;
		}
		if (quoted) {
			if (ch == '"')
				quoted = 0;
			continue;
		}
		if (ch == '(')
			depth++;
		else if (ch == ')')
			FUZZ_CHECK(depth-- > 0);
		else if (ch == '"' && depth == 0)
			quoted = 1;
		else if (depth == 0)
			FUZZ_CHECK(ch >= 0x20 && ch < 0x7f);
	}
	FUZZ_CHECK(!quoted && depth == 0);
	FUZZ_CHECK(strchr(value, '\r') == NULL && strchr(value, '\n') == NULL);
	return 0;
}

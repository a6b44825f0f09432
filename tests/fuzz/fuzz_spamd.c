/*
 * fuzz_spamd.c - libFuzzer target: the parser of spamd's reply to CHECK
 * (handlers/fastfail/spamd.c) on arbitrary bytes.
 */
#include "fuzz_util.h"
#include "../../handlers/fastfail/spamd.h"

#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy without a terminating NUL: reads past the end show. */
	char *buf = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	struct spamd_result r;
	const char *why = NULL;
	int rc = spamd_reply_parse(buf, size, &r, &why);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(why != NULL);
	} else {
		/* Accepted: the texts are bounded numbers, the reply has a status line. */
		size_t sl = strlen(r.score_text), tl = strlen(r.threshold_text);
		FUZZ_CHECK(sl > 0 && sl <= SPAMD_NUM_MAX && tl > 0 && tl <= SPAMD_NUM_MAX);
		FUZZ_CHECK(size >= 6 && memcmp(buf, "SPAMD/", 6) == 0);
		char *end;
		double d = strtod(r.score_text, &end);
		FUZZ_CHECK(*end == '\0' && d == r.score);
	}
	free(buf);
	return 0;
}

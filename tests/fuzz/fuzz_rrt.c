/*
 * fuzz_rrt.c - libFuzzer target: the recipient rewrite table's parsers
 * (src/rrt/rrt_mapping.h, rrt.h), which read mailetctl arguments, the
 * store file <dataDirectory>/users/rrt.db and recipientrewritetable.xml's
 * <mapping> values. The first byte picks the parser:
 *   0  the store file text (rrt_store_parse_text)
 *   1  an XML <mapping> list; each pair's source and target are parsed
 *   2  "TARGET\nADDRESS": a target, applied to the address when it is a
 *      regex (the ${n} template substitution)
 * Invariants: a parsed target's normalized text parses again to itself;
 * a regex result fits its buffer and is NUL-terminated.
 */
#include "../../src/core/log.h"
#include "../../src/rrt/rrt.h"
#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
check_target(const char *s, size_t len)
{
	struct rrt_target t, u;
	char err[200];
	if (rrt_target_parse(s, len, &t, err, sizeof(err)) < 0)
		return;
	FUZZ_CHECK(t.text != NULL && t.value != NULL);
	/* Normalization is stable. */
	FUZZ_CHECK(rrt_target_parse(t.text, strlen(t.text), &u, err, sizeof(err)) == 0);
	FUZZ_CHECK(strcmp(t.text, u.text) == 0 && t.type == u.type);
	rrt_target_clear(&u);
	rrt_target_clear(&t);
}

static int
pair(void *arg, const char *source, const char *target)
{
	char out[RRT_ADDR_MAX + 4], err[200];
	(void)arg;
	if (rrt_source_parse(source, strlen(source), out, sizeof(out), err, sizeof(err)) == 0)
		FUZZ_CHECK(strlen(out) <= RRT_ADDR_MAX + 2);
	check_target(target, strlen(target));
	return 0;
}

static void
bad(void *arg, const char *item)
{
	(void)arg;
	FUZZ_CHECK(item != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	if (!inited) {
		log_init("fuzz_rrt", LOG_LVL_ERROR, false);
		log_set_stderr(false); /* malformed store lines are logged */
		inited = 1;
	}
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	switch (data[0] % 3) {
	case 0:
		(void)rrt_store_parse_text(p, n);
		break;
	case 1:
		(void)rrt_list_parse(p, n, pair, bad, NULL);
		break;
	default: {
		const char *nl = memchr(p, '\n', n);
		size_t tl = nl != NULL ? (size_t)(nl - p) : n;
		struct rrt_target t;
		char err[200];
		check_target(p, tl);
		if (nl == NULL || rrt_target_parse(p, tl, &t, err, sizeof(err)) < 0)
			break;
		char addr[RRT_ADDR_MAX + 1];
		size_t al = n - tl - 1 < RRT_ADDR_MAX ? n - tl - 1 : RRT_ADDR_MAX;
		memcpy(addr, nl + 1, al);
		addr[al] = '\0';
		char out[RRT_ADDR_MAX + 1];
		if (rrt_regex_apply(&t, addr, out, sizeof(out)) == 1)
			FUZZ_CHECK(strlen(out) < sizeof(out));
		rrt_target_clear(&t);
		break;
	}
	}
	return 0;
}

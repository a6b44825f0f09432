/* duration.c - James's DurationParser syntax (see fastfail.h). */
#include "fastfail.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *unit;
	uint64_t ms;
} duration_units[] = {
	{ "ms", 1 }, { "msec", 1 }, { "msecs", 1 }, { "millisecond", 1 }, { "milliseconds", 1 },
	{ "s", 1000 }, { "sec", 1000 }, { "secs", 1000 }, { "second", 1000 },
	{ "seconds", 1000 }, { "m", 60000 }, { "min", 60000 }, { "mins", 60000 },
	{ "minute", 60000 }, { "minutes", 60000 }, { "h", 3600000 }, { "hour", 3600000 },
	{ "hours", 3600000 }, { "d", 86400000 }, { "day", 86400000 }, { "days", 86400000 },
};

int
fastfail_duration(const char *s, uint64_t default_unit_ms, uint64_t *ms)
{
	const char *p = s;
	uint64_t n = 0;
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (n > UINT64_MAX / 10 / 86400000)
			return -1;
		n = n * 10 + (uint64_t)(*p++ - '0');
	}
	while (*p == ' ')
		p++;
	uint64_t unit = default_unit_ms;
	if (*p != '\0') {
		size_t i;
		for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
			if (strcasecmp(p, duration_units[i].unit) == 0)
				break;
		if (i == sizeof(duration_units) / sizeof(duration_units[0]))
			return -1;
		unit = duration_units[i].ms;
	}
	*ms = n * unit;
	return 0;
}

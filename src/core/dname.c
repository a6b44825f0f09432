/*
 * dname.c - domain name syntax (dname.h).
 */
#include "dname.h"

#include <ctype.h>

bool
dname_ok(const char *s, size_t len)
{
	size_t label = 0;
	if (len == 0 || len > DNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && !(c == '-' && label > 0))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[len - 1] != '-';
}

/*
 * attrs.c - the reply of the message hooks that record mail attributes
 * (DSN, MT-PRIORITY, REQUIRETLS, FUTURERELEASE, SPF, SetMailAttribute)
 * when hook_set_attr finds the message's attributes full (fastfail.h).
 */
#include "fastfail.h"

struct hook_result
fastfail_attrs_full(void)
{
	return (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451, .ecode = "4.3.0",
		.text = "Error processing message: too many mail attributes" };
}

/* id.c - identifiers for sessions and messages (see id.h). */
#include "id.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

static uint32_t id_seed;
static atomic_uint_fast32_t id_counter;

void
id_init(void)
{
	uint32_t s;
	if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
		s = (uint32_t)getpid() * 2654435761u;
	id_seed = s;
}

void
id_new(char out[ID_LEN + 1])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	uint32_t n = (uint32_t)atomic_fetch_add(&id_counter, 1);
	/* 9 hex of seconds + 5 of microseconds + 6 of seed-mixed counter. */
	snprintf(out, ID_LEN + 1, "%09llx%05x%06x",
	    (unsigned long long)tv.tv_sec & 0xfffffffffULL,
	    (unsigned)tv.tv_usec & 0xfffff, (id_seed + n * 0x9e3779b1u) & 0xffffff);
}

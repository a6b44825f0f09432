/*
 * fileio.c - small file-system helpers (fileio.h).
 */
#include "fileio.h"

#include <errno.h>
#include <unistd.h>

int
fileio_write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * fileio.h - small file-system helpers shared by the spool and the
 * maildir delivery.
 */
#ifndef MAILETD_FILEIO_H
#define MAILETD_FILEIO_H

#include <stddef.h>

/* write(2)s all of p[0..n) to fd, retrying on EINTR and short writes.
 * 0, or -1 with errno. */
int fileio_write_all(int fd, const void *p, size_t n);

#endif

/*
 * dname.h - the syntax of a domain name (RFC 1035 2.3.1 host names with
 * RFC 1123's leading digits), shared by the users repository, the
 * recipient rewrite table and the configuration loaders.
 */
#ifndef MAILETD_DNAME_H
#define MAILETD_DNAME_H

#include <stdbool.h>
#include <stddef.h>

/* Longest domain name in text form, without a trailing dot. */
#define DNAME_MAX 253

/*
 * True if s[0..len) is a domain name: 1 to DNAME_MAX octets of labels
 * joined by '.', each label 1 to 63 letters, digits and '-' that neither
 * starts nor ends with '-'. No trailing dot, no NUL.
 */
bool dname_ok(const char *s, size_t len);

#endif

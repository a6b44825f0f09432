/*
 * cfg_diag.h - collected configuration diagnostics.
 *
 * Loaders report every problem they find instead of stopping at the first;
 * each message reads "file:line: <element>: what is wrong (what is
 * accepted)". Warnings (features not supported yet, ignored elements) do
 * not stop start-up; any error does.
 */
#ifndef MAILETD_CFG_DIAG_H
#define MAILETD_CFG_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum cfg_diag_kind {
	CFG_DIAG_ERROR,
	CFG_DIAG_WARNING,
};

struct cfg_diag_msg {
	enum cfg_diag_kind kind;
	char *text; /* "file:line: ..." without the "error:" prefix */
};

struct cfg_diag {
	struct cfg_diag_msg *v;
	size_t n;
	size_t errors;
	size_t warnings;
};

void cfg_diag_init(struct cfg_diag *d);
void cfg_diag_clear(struct cfg_diag *d);
/* line <= 0 omits the line number; file NULL: the text stands alone. */
void cfg_error(struct cfg_diag *d, const char *file, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cfg_warn(struct cfg_diag *d, const char *file, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints every message as "prog: error: text" or "prog: warning: text". */
void cfg_diag_print(const struct cfg_diag *d, FILE *f, const char *prog);

#endif

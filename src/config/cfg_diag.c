/* cfg_diag.c - collected configuration diagnostics (see cfg_diag.h). */
#include "cfg_diag.h"

#include "../core/xmalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
cfg_diag_init(struct cfg_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
cfg_diag_clear(struct cfg_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].text);
	free(d->v);
	cfg_diag_init(d);
}

/* Appends "file:line: <fmt>" (or "file: <fmt>" when line <= 0). */
static void
diag_add(struct cfg_diag *d, enum cfg_diag_kind kind, const char *file, long line,
    const char *fmt, va_list ap)
{
	char *what = xvasprintf(fmt, ap);
	char *text;
	if (file == NULL)
		text = what;
	else {
		text = line > 0 ? xasprintf("%s:%ld: %s", file, line, what) :
		    xasprintf("%s: %s", file, what);
		free(what);
	}
	d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n].kind = kind;
	d->v[d->n].text = text;
	d->n++;
	if (kind == CFG_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
}

void
cfg_error(struct cfg_diag *d, const char *file, long line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_add(d, CFG_DIAG_ERROR, file, line, fmt, ap);
	va_end(ap);
}

void
cfg_warn(struct cfg_diag *d, const char *file, long line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_add(d, CFG_DIAG_WARNING, file, line, fmt, ap);
	va_end(ap);
}

void
cfg_diag_print(const struct cfg_diag *d, FILE *f, const char *prog)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s: %s: %s\n", prog,
		    d->v[i].kind == CFG_DIAG_ERROR ? "error" : "warning", d->v[i].text);
}

/*
 * cfg_xml.h - the XML layer shared by every configuration loader.
 *
 * A file is parsed safely (no network, no DTD loading, no entity
 * substitution, no XInclude; a DOCTYPE that declares entities is refused)
 * and its elements are read through tables: one struct cfg_field per
 * element names its type, range, default and where the value goes. Every
 * problem is reported to the cfg_diag with "file:line: <element>: ..." and
 * reading continues, so that one load reports all the errors of a file.
 *
 * Values are the element's text with surrounding white space trimmed and
 * ${env:VAR} / ${sys:name} expanded ("$${" is a literal "${"). Only
 * values that are actually read are expanded, so a variable inside an
 * ignored element is never an error.
 *
 * Only the configuration loaders include this header.
 */
#ifndef MAILETD_CFG_XML_H
#define MAILETD_CFG_XML_H

#include "cfg_diag.h"
#include "config.h"

#include <libxml/tree.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Larger files are refused before parsing. */
#define CFG_XML_MAX_FILE (8u * 1024 * 1024)

/* A word a value may be (matched in any case) and what it stands for. */
struct cfg_keyword {
	const char *name;
	int value;
};

/* One open configuration file. */
struct cfg_xml {
	const char *path;                /* as shown in diagnostics; not owned */
	xmlDoc *doc;
	struct cfg_diag *diag;
	const struct config_opts *opts;  /* ${sys:} values; may be NULL */
};

/*
 * Reads and parses path. Returns 1 when the file was parsed (close it with
 * cfg_xml_close), 0 when it does not exist (nothing to close), -1 when it
 * could not be read or is not well-formed; the problem is then reported
 * ("file:line: not well-formed XML: <libxml2 message>"). x->path keeps
 * the pointer path, which must outlive x.
 */
int cfg_xml_open(struct cfg_xml *x, const char *path, const struct config_opts *opts,
    struct cfg_diag *diag);
void cfg_xml_close(struct cfg_xml *x);

xmlNode *cfg_xml_root(const struct cfg_xml *x);
/* First element child of parent named name (any name if NULL), or NULL. */
xmlNode *cfg_xml_child(const xmlNode *parent, const char *name);
/* Next element sibling after node named name (any name if NULL), or NULL. */
xmlNode *cfg_xml_next(const xmlNode *node, const char *name);
const char *cfg_xml_name(const xmlNode *node);
long cfg_xml_line(const xmlNode *node);

/*
 * The element's text (direct text and CDATA children), trimmed and
 * interpolated, in *out (caller frees). 0, or -1 after reporting an error
 * (an undefined variable, an entity reference).
 */
int cfg_xml_text(struct cfg_xml *x, const xmlNode *node, char **out);
/* The same for an attribute: 1 present (*out set), 0 absent, -1 error. */
int cfg_xml_attr(struct cfg_xml *x, const xmlNode *node, const char *name, char **out);
/*
 * A boolean from attribute attr of node, or from its text when attr is
 * NULL: 1 present (*out set), 0 absent (attribute only; *out untouched),
 * -1 after reporting "<elem>: attr="v" is not a boolean ...".
 */
int cfg_xml_bool(struct cfg_xml *x, const xmlNode *node, const char *attr, bool *out);

/*
 * A keyword (any case) from the text of node: 0 with *out set to its
 * value, or -1 after reporting "<elem>: "v" is not valid (use a, b or c)".
 */
int cfg_xml_keyword(struct cfg_xml *x, const xmlNode *node, const struct cfg_keyword *k,
    int *out);

/*
 * Expands ${env:VAR} and ${sys:name} in s. 0 with *out allocated, or -1
 * with a reason in err such as "undefined variable ${env:SMTP_PORT}".
 */
int cfg_interpolate(const char *s, const struct config_opts *opts, char **out, char *err,
    size_t errlen);

/* Results of the value parsers below. */
enum cfg_perr {
	CFG_POK = 0,
	CFG_PBAD = -1,      /* not of the type at all */
	CFG_PNEGATIVE = -2, /* a negative size */
	CFG_PRANGE = -3,    /* too large to represent */
};

/* James's booleans: true/false yes/no on/off y/n t/f, any case. */
enum cfg_perr cfg_parse_bool(const char *s, bool *out);
/* A decimal integer, optionally negative; no sign "+", no spaces. */
enum cfg_perr cfg_parse_int(const char *s, long long *out);
/*
 * James's Size: a number with an optional last character B, K, M or G
 * (any case, powers of 1024; no suffix means KiB); 0, UNLIMITED and
 * UNKNOWN (any case) mean no limit and give 0. At most INT64_MAX bytes.
 */
enum cfg_perr cfg_parse_size(const char *s, uint64_t *out);

/* Text for the hint of a Size error, shared with the tests. */
#define CFG_SIZE_HINT "use a number with B, K, M or G, or 0/UNLIMITED for no limit"

/* --- tables ------------------------------------------------------------- */

enum cfg_type {
	CFG_T_BOOL,    /* bool */
	CFG_T_INT,     /* int in min..max */
	CFG_T_UINT,    /* unsigned in min..max */
	CFG_T_SIZET,   /* size_t in min..max, plain number */
	CFG_T_SIZE,    /* uint64_t bytes, James Size syntax, 0 = no limit */
	CFG_T_SECONDS, /* unsigned seconds in min..max */
	CFG_T_STRING,  /* char * (owned), one line; empty text = default */
	CFG_T_KEYWORD, /* int, one of .keywords (any case) */
	CFG_T_IGNORE,  /* accepted, never read */
	CFG_T_FUNC,    /* .fn reads the element */
	CFG_T_BLOCK,   /* the element's children are read with .sub */
};

/* The element may appear more than once (each one is read). */
#define CFG_F_REPEAT 0x1u

struct cfg_xml;
typedef void cfg_field_fn(struct cfg_xml *x, xmlNode *node, void *base);

struct cfg_field {
	const char *name;      /* element name, case-sensitive as in James */
	enum cfg_type type;
	unsigned flags;        /* CFG_F_* */
	long long min, max;    /* range of the numeric types */
	long long def;         /* default of bool, numeric and keyword types */
	const char *def_str;   /* default of CFG_T_STRING (copied), or NULL */
	size_t off;            /* where the value goes, from base */
	const struct cfg_keyword *keywords; /* CFG_T_KEYWORD, ends with a NULL name */
	cfg_field_fn *fn;      /* CFG_T_FUNC */
	const struct cfg_field *sub; /* CFG_T_BLOCK: the children's table... */
	size_t nsub;                 /* ...and its length; its base is base + off */
};

/* Stores the default of every value field of t (recursing into blocks). */
void cfg_fields_defaults(const struct cfg_field *t, size_t n, void *base);
/*
 * Reads every element child of parent through t (at most 64 entries): a
 * value field is parsed, range-checked and stored; an unknown element is
 * a warning "<name>: unknown element, ignored"; a second occurrence of a
 * field without CFG_F_REPEAT is a warning and is not read.
 */
void cfg_fields_read(struct cfg_xml *x, const xmlNode *parent, const struct cfg_field *t,
    size_t n, void *base);
/* Frees the CFG_T_STRING values of t in base (recursing into blocks). */
void cfg_fields_free(const struct cfg_field *t, size_t n, void *base);

/* True if s is a host or domain name: dot-separated labels of letters,
 * digits and inner hyphens, 1-63 octets each, at most 253 in all. */
bool cfg_domain_syntax(const char *s);

#endif

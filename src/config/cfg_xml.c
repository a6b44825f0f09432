/* cfg_xml.c - the XML layer shared by the configuration loaders (see cfg_xml.h). */
#include "cfg_xml.h"

#include "../core/dname.h"
#include "../core/log.h"
#include "../core/xmalloc.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(CFG_XML_MAX_FILE < INT_MAX, "the file size must fit libxml2's int");

/* Room for a quoted value in a message; longer values end in "...". */
#define QUOTE_MAX 96

/* --- reading and parsing a file --------------------------------------------- */

/*
 * Reads the whole file into a new buffer. 1 with *buf and *len set, 0 if the
 * file does not exist, -1 after reporting why it cannot be read.
 */
static int
read_file(const char *path, struct cfg_diag *diag, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		cfg_error(diag, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cfg_error(diag, path, 0, "not a regular file");
		close(fd);
		return -1;
	}
	if ((uintmax_t)st.st_size > CFG_XML_MAX_FILE) {
		cfg_error(diag, path, 0, "file too large (more than %u bytes)", CFG_XML_MAX_FILE);
		close(fd);
		return -1;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *b = xmalloc(cap);
	for (;;) {
		if (n == cap - 1) {
			if (cap > CFG_XML_MAX_FILE) {
				cfg_error(diag, path, 0, "file too large (more than %u bytes)",
				    CFG_XML_MAX_FILE);
				free(b);
				close(fd);
				return -1;
			}
			cap *= 2;
			b = xreallocarray(b, cap, 1);
		}
		ssize_t r = read(fd, b + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cfg_error(diag, path, 0, "cannot read: %s", strerror(errno));
			free(b);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 1;
}

/* Copies libxml2's message without its trailing newline and control bytes. */
static char *
xml_message(const char *msg)
{
	char *m = xstrdup(msg != NULL ? msg : "unknown error");
	size_t len = strlen(m);
	while (len > 0 && isspace((unsigned char)m[len - 1]))
		m[--len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)m[i] < 0x20)
			m[i] = ' ';
	return m;
}

/* The first error libxml2 reports while parsing: later ones are echoes. */
struct first_error {
	bool set;
	long line;
	char *message;
};

/* libxml2's structured error callback; data is the parser context. */
static void
keep_first_error(void *data, xmlError *e)
{
	xmlParserCtxt *ctxt = data;
	struct first_error *fe = ctxt != NULL ? ctxt->_private : NULL;
	if (fe == NULL || fe->set || e == NULL || e->level < XML_ERR_ERROR)
		return;
	fe->set = true;
	fe->line = e->line;
	fe->message = xml_message(e->message);
}

/* Swallows what libxml2 would print on stderr (encoding errors). */
static void
quiet_generic_error(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/*
 * Parsing options: no network, no DTD loading or default attributes, no
 * entity substitution (XML_PARSE_NOENT absent), no XInclude; errors are
 * collected from the context instead of being printed by libxml2.
 */
static const int xml_options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
    XML_PARSE_BIG_LINES;

int
cfg_xml_open(struct cfg_xml *x, const char *path, const struct config_opts *opts,
    struct cfg_diag *diag)
{
	char *buf;
	size_t len;

	memset(x, 0, sizeof(*x));
	x->path = path;
	x->diag = diag;
	x->opts = opts;
	int rc = read_file(path, diag, &buf, &len);
	if (rc <= 0)
		return rc;

	xmlInitParser();
	xmlParserCtxt *ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		free(buf);
		cfg_error(diag, path, 0, "cannot create an XML parser");
		return -1;
	}
	struct first_error fe = { .set = false };
	ctxt->_private = &fe;
	ctxt->sax->serror = keep_first_error;
	/* Per thread in libxml2; restored at once so other users see no change. */
	xmlGenericErrorFunc old_fn = xmlGenericError;
	void *old_ctx = xmlGenericErrorContext;
	xmlSetGenericErrorFunc(NULL, quiet_generic_error);
	xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, xml_options);
	xmlSetGenericErrorFunc(old_ctx, old_fn);
	free(buf);
	if (doc == NULL) {
		if (!fe.set) {
			const xmlError *e = xmlCtxtGetLastError(ctxt);
			fe.line = e != NULL ? e->line : 0;
			fe.message = xml_message(e != NULL ? e->message : NULL);
		}
		cfg_error(diag, path, fe.line, "not well-formed XML: %s", fe.message);
		free(fe.message);
		xmlFreeParserCtxt(ctxt);
		return -1;
	}
	free(fe.message);
	xmlFreeParserCtxt(ctxt);

	/* Entities would be expanded behind our back by any text accessor. */
	if (doc->intSubset != NULL &&
	    (doc->intSubset->entities != NULL || doc->intSubset->pentities != NULL)) {
		cfg_error(diag, path, 0, "the DOCTYPE declares entities, which mailetd does "
		    "not support");
		xmlFreeDoc(doc);
		return -1;
	}
	if (xmlDocGetRootElement(doc) == NULL) {
		cfg_error(diag, path, 0, "not well-formed XML: no root element");
		xmlFreeDoc(doc);
		return -1;
	}
	x->doc = doc;
	return 1;
}

void
cfg_xml_close(struct cfg_xml *x)
{
	if (x->doc != NULL)
		xmlFreeDoc(x->doc);
	x->doc = NULL;
}

xmlNode *
cfg_xml_root(const struct cfg_xml *x)
{
	return x->doc != NULL ? xmlDocGetRootElement(x->doc) : NULL;
}

/* --- navigation -------------------------------------------------------------- */

static bool
is_element(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    (name == NULL || strcmp((const char *)n->name, name) == 0);
}

xmlNode *
cfg_xml_child(const xmlNode *parent, const char *name)
{
	for (xmlNode *c = parent->children; c != NULL; c = c->next)
		if (is_element(c, name))
			return c;
	return NULL;
}

xmlNode *
cfg_xml_next(const xmlNode *node, const char *name)
{
	for (xmlNode *c = node->next; c != NULL; c = c->next)
		if (is_element(c, name))
			return c;
	return NULL;
}

const char *
cfg_xml_name(const xmlNode *node)
{
	return (const char *)node->name;
}

long
cfg_xml_line(const xmlNode *node)
{
	return xmlGetLineNo(node);
}

/* --- values -------------------------------------------------------------------- */

/* Returns s without leading and trailing white space, in a new string. */
static char *
trim_dup(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)s[0])) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* Looks up ${sys:name} in opts; NULL if undefined. */
static const char *
sys_value(const struct config_opts *opts, const char *name)
{
	if (opts == NULL)
		return NULL;
	for (size_t i = 0; i < opts->nsys; i++)
		if (strcmp(opts->sys_names[i], name) == 0)
			return opts->sys_values[i];
	return NULL;
}

/* Appends len bytes of s to the growing string *b (used, capacity). */
static void
buf_add(char **b, size_t *used, size_t *cap, const char *s, size_t len)
{
	if (*used + len + 1 > *cap) {
		while (*used + len + 1 > *cap)
			*cap = *cap * 2 + 16;
		*b = xreallocarray(*b, *cap, 1);
	}
	memcpy(*b + *used, s, len);
	*used += len;
	(*b)[*used] = '\0';
}

int
cfg_interpolate(const char *s, const struct config_opts *opts, char **out, char *err,
    size_t errlen)
{
	size_t used = 0, cap = strlen(s) + 1;
	char *b = xmalloc(cap);
	b[0] = '\0';

	for (const char *p = s; *p != '\0';) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			buf_add(&b, &used, &cap, "${", 2); /* "$${" escapes a literal "${" */
			p += 3;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			buf_add(&b, &used, &cap, p, 1);
			p++;
			continue;
		}
		const char *name = p + 2;
		const char *close = strchr(name, '}');
		char q[QUOTE_MAX];
		if (close == NULL) {
			snprintf(err, errlen, "unterminated variable in %s",
			    log_quote(q, sizeof(q), s, strlen(s)));
			free(b);
			return -1;
		}
		size_t nlen = (size_t)(close - name);
		const char *value = NULL;
		char *var = xstrndup(name, nlen);
		if (strspn(var, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-:") != nlen) {
			snprintf(err, errlen, "bad variable name %s",
			    log_quote(q, sizeof(q), var, nlen));
			free(var);
			free(b);
			return -1;
		}
		if (strncmp(var, "env:", 4) == 0)
			value = getenv(var + 4);
		else if (strncmp(var, "sys:", 4) == 0)
			value = sys_value(opts, var + 4);
		else {
			snprintf(err, errlen, "unsupported variable ${%s} (use ${env:NAME} or "
			    "${sys:name})", var);
			free(var);
			free(b);
			return -1;
		}
		if (value == NULL || nlen == 4) {
			snprintf(err, errlen, "undefined variable ${%s}", var);
			free(var);
			free(b);
			return -1;
		}
		free(var);
		buf_add(&b, &used, &cap, value, strlen(value));
		p = close + 1;
	}
	*out = b;
	return 0;
}

/* Trims and interpolates raw, reporting problems against node. */
static int
finish_value(struct cfg_xml *x, const xmlNode *node, const char *raw, size_t len,
    char **out)
{
	char *t = trim_dup(raw, len);
	char err[256];
	int rc = cfg_interpolate(t, x->opts, out, err, sizeof(err));
	free(t);
	if (rc < 0)
		cfg_error(x->diag, x->path, cfg_xml_line(node), "<%s>: %s", cfg_xml_name(node), err);
	return rc;
}

int
cfg_xml_text(struct cfg_xml *x, const xmlNode *node, char **out)
{
	size_t used = 0, cap = 64;
	char *b = xmalloc(cap);
	b[0] = '\0';
	*out = NULL;
	for (const xmlNode *c = node->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content != NULL)
				buf_add(&b, &used, &cap, (const char *)c->content,
				    strlen((const char *)c->content));
		} else if (c->type == XML_ENTITY_REF_NODE) {
			cfg_error(x->diag, x->path, cfg_xml_line(node),
			    "<%s>: entity references are not supported", cfg_xml_name(node));
			free(b);
			return -1;
		}
	}
	int rc = finish_value(x, node, b, used, out);
	free(b);
	return rc;
}

int
cfg_xml_attr(struct cfg_xml *x, const xmlNode *node, const char *name, char **out)
{
	*out = NULL;
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	if (v == NULL)
		return 0;
	int rc = finish_value(x, node, (const char *)v, strlen((const char *)v), out);
	xmlFree(v);
	return rc < 0 ? -1 : 1;
}

int
cfg_xml_bool(struct cfg_xml *x, const xmlNode *node, const char *attr, bool *out)
{
	char *v;
	int rc;
	if (attr != NULL) {
		rc = cfg_xml_attr(x, node, attr, &v);
		if (rc <= 0)
			return rc;
	} else if (cfg_xml_text(x, node, &v) < 0) {
		return -1;
	}
	if (cfg_parse_bool(v, out) != CFG_POK) {
		char q[QUOTE_MAX];
		log_quote(q, sizeof(q), v, strlen(v));
		if (attr != NULL)
			cfg_error(x->diag, x->path, cfg_xml_line(node),
			    "<%s>: %s=%s is not a boolean (use true or false)", cfg_xml_name(node),
			    attr, q);
		else
			cfg_error(x->diag, x->path, cfg_xml_line(node),
			    "<%s>: %s is not a boolean (use true or false)", cfg_xml_name(node), q);
		free(v);
		return -1;
	}
	free(v);
	return 1;
}

/* --- value parsers ------------------------------------------------------------- */

/* Commons Configuration's PropertyConverter spellings. */
static const struct cfg_keyword bool_words[] = {
	{ "true", 1 }, { "yes", 1 }, { "on", 1 }, { "y", 1 }, { "t", 1 },
	{ "false", 0 }, { "no", 0 }, { "off", 0 }, { "n", 0 }, { "f", 0 },
	{ NULL, 0 },
};

/* Finds s (any case) in a NULL-terminated keyword table. */
static const struct cfg_keyword *
keyword_find(const struct cfg_keyword *k, const char *s)
{
	for (; k->name != NULL; k++)
		if (strcasecmp(k->name, s) == 0)
			return k;
	return NULL;
}

enum cfg_perr
cfg_parse_bool(const char *s, bool *out)
{
	const struct cfg_keyword *k = keyword_find(bool_words, s);
	if (k == NULL)
		return CFG_PBAD;
	*out = k->value != 0;
	return CFG_POK;
}

enum cfg_perr
cfg_parse_int(const char *s, long long *out)
{
	const char *d = s[0] == '-' ? s + 1 : s;
	if (d[0] == '\0' || strspn(d, "0123456789") != strlen(d))
		return CFG_PBAD;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno == ERANGE)
		return CFG_PRANGE;
	*out = v;
	return CFG_POK;
}

/* Size units by their (upper-case) letter: powers of 1024. */
static const struct {
	char unit;
	unsigned shift;
} size_units[] = {
	{ 'B', 0 },
	{ 'K', 10 },
	{ 'M', 20 },
	{ 'G', 30 },
};

enum cfg_perr
cfg_parse_size(const char *s, uint64_t *out)
{
	size_t len = strlen(s);
	if (strcasecmp(s, "UNLIMITED") == 0 || strcasecmp(s, "UNKNOWN") == 0) {
		*out = 0;
		return CFG_POK;
	}
	if (len == 0)
		return CFG_PBAD;
	if (s[0] == '-') {
		uint64_t ignored;
		return cfg_parse_size(s + 1, &ignored) == CFG_PBAD || s[1] == '-' ? CFG_PBAD :
		    CFG_PNEGATIVE;
	}
	unsigned shift = 10; /* a bare number is KiB, as Size.parse(value, K) */
	size_t digits = len;
	if (!isdigit((unsigned char)s[len - 1])) {
		size_t i;
		for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++)
			if (toupper((unsigned char)s[len - 1]) == size_units[i].unit)
				break;
		if (i == sizeof(size_units) / sizeof(size_units[0]))
			return CFG_PBAD;
		shift = size_units[i].shift;
		digits = len - 1;
	}
	if (digits == 0 || strspn(s, "0123456789") != digits)
		return CFG_PBAD;
	uint64_t v = 0;
	for (size_t i = 0; i < digits; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return CFG_PRANGE;
		v = v * 10 + d;
	}
	if (v > ((uint64_t)INT64_MAX >> shift))
		return CFG_PRANGE;
	*out = v << shift;
	return CFG_POK;
}

bool
cfg_domain_syntax(const char *s)
{
	return dname_ok(s, strlen(s));
}

/* --- tables ------------------------------------------------------------------------ */

static void *
field_ptr(void *base, const struct cfg_field *f)
{
	return (char *)base + f->off;
}

void
cfg_fields_defaults(const struct cfg_field *t, size_t n, void *base)
{
	for (size_t i = 0; i < n; i++) {
		const struct cfg_field *f = &t[i];
		void *p = field_ptr(base, f);
		switch (f->type) {
		case CFG_T_BOOL:
			*(bool *)p = f->def != 0;
			break;
		case CFG_T_INT:
		case CFG_T_KEYWORD:
			*(int *)p = (int)f->def;
			break;
		case CFG_T_UINT:
		case CFG_T_SECONDS:
			*(unsigned *)p = (unsigned)f->def;
			break;
		case CFG_T_SIZET:
			*(size_t *)p = (size_t)f->def;
			break;
		case CFG_T_SIZE:
			*(uint64_t *)p = (uint64_t)f->def;
			break;
		case CFG_T_STRING:
			*(char **)p = f->def_str != NULL ? xstrdup(f->def_str) : NULL;
			break;
		case CFG_T_BLOCK:
			cfg_fields_defaults(f->sub, f->nsub, p);
			break;
		case CFG_T_IGNORE:
		case CFG_T_FUNC:
			break;
		}
	}
}

void
cfg_fields_free(const struct cfg_field *t, size_t n, void *base)
{
	for (size_t i = 0; i < n; i++) {
		void *p = field_ptr(base, &t[i]);
		if (t[i].type == CFG_T_STRING) {
			free(*(char **)p);
			*(char **)p = NULL;
		} else if (t[i].type == CFG_T_BLOCK) {
			cfg_fields_free(t[i].sub, t[i].nsub, p);
		}
	}
}

/* Writes "a, b or c" for the keywords of k into buf. */
static void
keyword_list(const struct cfg_keyword *k, char *buf, size_t len)
{
	size_t n = 0, o = 0;
	while (k[n].name != NULL)
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(buf + o, len - o, "%s%s", sep, k[i].name);
		if (w < 0 || (size_t)w >= len - o)
			return;
		o += (size_t)w;
	}
}

int
cfg_xml_keyword(struct cfg_xml *x, const xmlNode *node, const struct cfg_keyword *k, int *out)
{
	char *v;
	if (cfg_xml_text(x, node, &v) < 0)
		return -1;
	const struct cfg_keyword *found = keyword_find(k, v);
	if (found == NULL) {
		char q[QUOTE_MAX], list[256];
		keyword_list(k, list, sizeof(list));
		cfg_error(x->diag, x->path, cfg_xml_line(node), "<%s>: %s is not valid (use %s)",
		    cfg_xml_name(node), log_quote(q, sizeof(q), v, strlen(v)), list);
		free(v);
		return -1;
	}
	*out = found->value;
	free(v);
	return 0;
}

/* Checks v against the field's range and reports "<name>: v is out of range". */
static bool
in_range(struct cfg_xml *x, const xmlNode *node, const struct cfg_field *f, long long v)
{
	if (v >= f->min && v <= f->max)
		return true;
	const char *unit = f->type == CFG_T_SECONDS ? " seconds" : "";
	if (f->max >= INT_MAX)
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<%s>: %lld is out of range (%lld or more%s)", f->name, v, f->min, unit);
	else
		cfg_error(x->diag, x->path, cfg_xml_line(node),
		    "<%s>: %lld is out of range (%lld to %lld%s)", f->name, v, f->min, f->max,
		    unit);
	return false;
}

/* True if s holds a control character (a value must stay on one line). */
static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Parses the text of node as field f and stores it; reports any problem. */
static void
read_value(struct cfg_xml *x, xmlNode *node, const struct cfg_field *f, void *base)
{
	char *v;
	if (cfg_xml_text(x, node, &v) < 0)
		return;
	void *p = field_ptr(base, f);
	long line = cfg_xml_line(node);
	char q[QUOTE_MAX];
	log_quote(q, sizeof(q), v, strlen(v));
	long long n = 0;
	enum cfg_perr rc;

	switch (f->type) {
	case CFG_T_BOOL:
		if (cfg_parse_bool(v, (bool *)p) != CFG_POK)
			cfg_error(x->diag, x->path, line,
			    "<%s>: %s is not a boolean (use true or false)", f->name, q);
		break;
	case CFG_T_INT:
	case CFG_T_UINT:
	case CFG_T_SIZET:
	case CFG_T_SECONDS:
		rc = cfg_parse_int(v, &n);
		if (rc == CFG_PBAD) {
			cfg_error(x->diag, x->path, line, "<%s>: %s is not a %s", f->name, q,
			    f->type == CFG_T_SECONDS ? "number of seconds" : "number");
			break;
		}
		if (rc == CFG_PRANGE) {
			cfg_error(x->diag, x->path, line, "<%s>: %s is too large", f->name, q);
			break;
		}
		if (!in_range(x, node, f, n))
			break;
		if (f->type == CFG_T_INT)
			*(int *)p = (int)n;
		else if (f->type == CFG_T_SIZET)
			*(size_t *)p = (size_t)n;
		else
			*(unsigned *)p = (unsigned)n;
		break;
	case CFG_T_SIZE:
		rc = cfg_parse_size(v, (uint64_t *)p);
		if (rc == CFG_PBAD)
			cfg_error(x->diag, x->path, line, "<%s>: %s is not a size (" CFG_SIZE_HINT ")",
			    f->name, q);
		else if (rc == CFG_PNEGATIVE)
			cfg_error(x->diag, x->path, line,
			    "<%s>: %s is negative (use 0 or UNLIMITED for no limit)", f->name, q);
		else if (rc == CFG_PRANGE)
			cfg_error(x->diag, x->path, line, "<%s>: %s is too large", f->name, q);
		break;
	case CFG_T_STRING:
		if (has_control(v)) {
			cfg_error(x->diag, x->path, line,
			    "<%s>: %s contains a line break or control character", f->name, q);
			break;
		}
		free(*(char **)p);
		*(char **)p = NULL;
		if (v[0] != '\0') {
			*(char **)p = v;
			v = NULL;
		} else if (f->def_str != NULL) {
			*(char **)p = xstrdup(f->def_str);
		}
		break;
	case CFG_T_KEYWORD:
	case CFG_T_IGNORE:
	case CFG_T_FUNC:
	case CFG_T_BLOCK:
		break;
	}
	free(v);
}

void
cfg_fields_read(struct cfg_xml *x, const xmlNode *parent, const struct cfg_field *t,
    size_t n, void *base)
{
	uint64_t seen = 0;
	for (xmlNode *c = cfg_xml_child(parent, NULL); c != NULL; c = cfg_xml_next(c, NULL)) {
		const char *name = cfg_xml_name(c);
		size_t i;
		for (i = 0; i < n && i < 64; i++)
			if (strcmp(t[i].name, name) == 0)
				break;
		if (i == n || i == 64) {
			cfg_warn(x->diag, x->path, cfg_xml_line(c), "<%s>: unknown element, ignored",
			    name);
			continue;
		}
		const struct cfg_field *f = &t[i];
		if ((seen & (UINT64_C(1) << i)) != 0 && (f->flags & CFG_F_REPEAT) == 0) {
			cfg_warn(x->diag, x->path, cfg_xml_line(c),
			    "<%s>: given more than once; only the first is used", name);
			continue;
		}
		seen |= UINT64_C(1) << i;
		switch (f->type) {
		case CFG_T_IGNORE:
			break;
		case CFG_T_FUNC:
			f->fn(x, c, base);
			break;
		case CFG_T_BLOCK:
			cfg_fields_read(x, c, f->sub, f->nsub, field_ptr(base, f));
			break;
		case CFG_T_KEYWORD: {
			int v;
			if (cfg_xml_keyword(x, c, f->keywords, &v) == 0)
				*(int *)field_ptr(base, f) = v;
			break;
		}
		default:
			read_value(x, c, f, base);
			break;
		}
	}
}

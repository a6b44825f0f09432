/* greylist_store.c - the greylisting store (see greylist_store.h). */
#include "greylist_store.h"

#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct greylist_entry {
	struct greylist_entry *next;
	uint64_t first, last;
	uint32_t passes;
	char key[];
};

struct greylist_store {
	struct greylist_store *next;   /* the list of every store */
	char *path;
	unsigned refs;
	bool loaded;
	int fd;                        /* the log, opened for appending */
	struct greylist_entry **bucket;
	size_t nbucket, n;
	size_t records;                /* lines in the file */
	uint64_t next_sweep;           /* when expired entries are dropped next (ms) */
};

/* One lock for the list of stores and every table: calls are short. */
static pthread_mutex_t greylist_mu = PTHREAD_MUTEX_INITIALIZER;
static struct greylist_store *greylist_stores;

struct greylist_store *
greylist_store_get(const char *path)
{
	pthread_mutex_lock(&greylist_mu);
	struct greylist_store *st;
	for (st = greylist_stores; st != NULL; st = st->next)
		if (strcmp(st->path, path) == 0)
			break;
	if (st == NULL) {
		st = xcalloc(1, sizeof(*st));
		st->path = xstrdup(path);
		st->fd = -1;
		st->next = greylist_stores;
		greylist_stores = st;
	}
	st->refs++;
	pthread_mutex_unlock(&greylist_mu);
	return st;
}

static void
greylist_table_clear(struct greylist_store *st)
{
	for (size_t i = 0; i < st->nbucket; i++)
		for (struct greylist_entry *e = st->bucket[i], *nx; e != NULL; e = nx) {
			nx = e->next;
			free(e);
		}
	free(st->bucket);
	st->bucket = NULL;
	st->nbucket = st->n = 0;
}

void
greylist_store_put(struct greylist_store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&greylist_mu);
	if (--st->refs == 0) {
		for (struct greylist_store **pp = &greylist_stores; *pp != NULL; pp = &(*pp)->next)
			if (*pp == st) {
				*pp = st->next;
				break;
			}
		if (st->fd >= 0)
			close(st->fd);
		greylist_table_clear(st);
		free(st->path);
		free(st);
	}
	pthread_mutex_unlock(&greylist_mu);
}

/* FNV-1a. */
static uint64_t
greylist_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct greylist_entry **
greylist_find(struct greylist_store *st, const char *key)
{
	if (st->nbucket == 0)
		return NULL;
	struct greylist_entry **pp = &st->bucket[greylist_hash(key) % st->nbucket];
	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0)
			return pp;
	return NULL;
}

static void
greylist_grow(struct greylist_store *st)
{
	size_t nb = st->nbucket == 0 ? 1024 : st->nbucket * 2;
	struct greylist_entry **b = xcalloc(nb, sizeof(*b));
	for (size_t i = 0; i < st->nbucket; i++)
		for (struct greylist_entry *e = st->bucket[i], *nx; e != NULL; e = nx) {
			nx = e->next;
			size_t h = greylist_hash(e->key) % nb;
			e->next = b[h];
			b[h] = e;
		}
	free(st->bucket);
	st->bucket = b;
	st->nbucket = nb;
}

static struct greylist_entry *
greylist_insert(struct greylist_store *st, const char *key)
{
	if (st->n >= st->nbucket)
		greylist_grow(st);
	size_t len = strlen(key);
	struct greylist_entry *e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	size_t h = greylist_hash(key) % st->nbucket;
	e->next = st->bucket[h];
	st->bucket[h] = e;
	st->n++;
	return e;
}

static bool
greylist_expired(const struct greylist_entry *e, uint64_t now, const struct greylist_times *t)
{
	uint64_t age = now > e->last ? now - e->last : 0;
	return e->passes == 0 ? age > t->unseen : age > t->auto_white;
}

/* One record line into buf; its length. */
static int
greylist_record(char *buf, size_t len, const struct greylist_entry *e)
{
	return snprintf(buf, len, "G1 %" PRIu64 " %" PRIu64 " %" PRIu32 " %s\n", e->first, e->last,
	    e->passes, e->key);
}

/* Parses one line (without its newline) into the table; false if it does not parse. */
static bool
greylist_parse_line(struct greylist_store *st, const char *line)
{
	uint64_t first, last;
	uint32_t passes;
	int off = 0;
	if (sscanf(line, "G1 %" SCNu64 " %" SCNu64 " %" SCNu32 " %n", &first, &last, &passes,
	        &off) != 3 ||
	    off == 0 || line[off] == '\0' || strlen(line + off) > GREYLIST_KEY_MAX)
		return false;
	const char *key = line + off;
	struct greylist_entry **pp = greylist_find(st, key);
	struct greylist_entry *e = pp != NULL ? *pp : NULL;
	if (e == NULL) {
		if (st->n >= GREYLIST_MAX_ENTRIES)
			return true;
		e = greylist_insert(st, key);
	}
	e->first = first;
	e->last = last;
	e->passes = passes;
	return true;
}

/* Reads the log into the table and opens it for appending. 0/-1 (logged). */
static int
greylist_load(struct greylist_store *st)
{
	FILE *f = fopen(st->path, "re");
	if (f == NULL && errno != ENOENT) {
		log_error(NULL, "event=greylist-error file=%s op=open errno=%d error=\"%s\"", st->path,
		    errno, strerror(errno));
		return -1;
	}
	greylist_table_clear(st);
	st->records = 0;
	if (f != NULL) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		size_t bad = 0;
		while ((n = getline(&line, &cap, f)) > 0) {
			st->records++;
			if (line[n - 1] != '\n') { /* a torn last line */
				bad++;
				continue;
			}
			line[n - 1] = '\0';
			if (!greylist_parse_line(st, line))
				bad++;
		}
		free(line);
		fclose(f);
		if (bad > 0)
			log_warn(NULL, "event=greylist-load file=%s skipped=%zu", st->path, bad);
	}
	st->fd = open(st->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (st->fd < 0) {
		log_error(NULL, "event=greylist-error file=%s op=open errno=%d error=\"%s\"", st->path,
		    errno, strerror(errno));
		greylist_table_clear(st);
		return -1;
	}
	st->loaded = true;
	return 0;
}

static void
greylist_append(struct greylist_store *st, const struct greylist_entry *e)
{
	char buf[GREYLIST_KEY_MAX + 96];
	int len = greylist_record(buf, sizeof(buf), e);
	if (len <= 0 || (size_t)len >= sizeof(buf))
		return;
	if (write(st->fd, buf, (size_t)len) != len)
		log_error(NULL, "event=greylist-error file=%s op=write errno=%d error=\"%s\"",
		    st->path, errno, strerror(errno));
	st->records++;
}

/*
 * Drops expired entries and rewrites the file with the live ones (a new
 * file renamed over the old one: a crash leaves one or the other).
 */
static void
greylist_compact(struct greylist_store *st, uint64_t now, const struct greylist_times *t)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", st->path) >= (int)sizeof(tmp))
		return;
	for (size_t i = 0; i < st->nbucket; i++)
		for (struct greylist_entry **pp = &st->bucket[i]; *pp != NULL;) {
			struct greylist_entry *e = *pp;
			if (greylist_expired(e, now, t)) {
				*pp = e->next;
				free(e);
				st->n--;
			} else {
				pp = &e->next;
			}
		}
	FILE *f = fopen(tmp, "we");
	if (f == NULL)
		goto fail;
	char buf[GREYLIST_KEY_MAX + 96];
	size_t records = 0;
	for (size_t i = 0; i < st->nbucket; i++)
		for (struct greylist_entry *e = st->bucket[i]; e != NULL; e = e->next) {
			int len = greylist_record(buf, sizeof(buf), e);
			if (len > 0 && (size_t)len < sizeof(buf) && fwrite(buf, 1, (size_t)len, f) != (size_t)len)
				break;
			records++;
		}
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(tmp);
		goto fail;
	}
	fclose(f);
	if (rename(tmp, st->path) != 0) {
		unlink(tmp);
		goto fail;
	}
	int fd = open(st->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	close(st->fd);
	st->fd = fd;
	st->records = records;
	log_info(NULL, "event=greylist-compacted file=%s entries=%zu", st->path, st->n);
	return;
fail:
	log_error(NULL, "event=greylist-error file=%s op=compact errno=%d error=\"%s\"", st->path,
	    errno, strerror(errno));
	st->records = st->n; /* do not retry on every call */
}

enum greylist_verdict
greylist_store_check(struct greylist_store *st, const char *key, uint64_t now_ms,
    const struct greylist_times *t)
{
	enum greylist_verdict v;
	pthread_mutex_lock(&greylist_mu);
	if (!st->loaded && greylist_load(st) < 0) {
		v = GREYLIST_ERROR;
		goto out;
	}
	/* Expired entries go, and the log is rewritten, once per lifetime
	 * (the shorter of the two) or when it holds mostly stale records. */
	uint64_t every = t->unseen < t->auto_white ? t->unseen : t->auto_white;
	if (st->next_sweep == 0)
		st->next_sweep = now_ms + every;
	if (st->records > 2 * st->n + 1024 || now_ms >= st->next_sweep) {
		greylist_compact(st, now_ms, t);
		st->next_sweep = now_ms + every;
	}
	struct greylist_entry **pp = greylist_find(st, key);
	struct greylist_entry *e = pp != NULL ? *pp : NULL;
	if (e != NULL && greylist_expired(e, now_ms, t)) {
		/* Gone as far as James's cleanup is concerned: a first sighting again. */
		e->first = e->last = now_ms;
		e->passes = 0;
		greylist_append(st, e);
		v = GREYLIST_NEW;
	} else if (e == NULL) {
		if (st->n >= GREYLIST_MAX_ENTRIES)
			greylist_compact(st, now_ms, t);
		if (st->n >= GREYLIST_MAX_ENTRIES) {
			v = GREYLIST_FULL;
			goto out;
		}
		e = greylist_insert(st, key);
		e->first = e->last = now_ms;
		e->passes = 0;
		greylist_append(st, e);
		v = GREYLIST_NEW;
	} else if (e->passes == 0 && now_ms < e->first + t->temp_block) {
		v = GREYLIST_TOO_SOON;
	} else {
		if (e->passes < UINT32_MAX)
			e->passes++;
		e->last = now_ms;
		greylist_append(st, e);
		v = GREYLIST_PASS;
	}
out:
	pthread_mutex_unlock(&greylist_mu);
	return v;
}

size_t
greylist_store_count(struct greylist_store *st)
{
	pthread_mutex_lock(&greylist_mu);
	size_t n = st->n;
	pthread_mutex_unlock(&greylist_mu);
	return n;
}

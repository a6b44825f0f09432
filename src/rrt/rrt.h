/*
 * rrt.h - the recipient rewrite table (James's RecipientRewriteTable,
 * james.md 1g.3; docs/rrt.md): aliases, forwards, groups, domain
 * mappings, regex mappings and error mappings, and how an address
 * resolves through them.
 *
 * Mappings come from two places, consulted together:
 *   - the store, <dataDirectory>/users/rrt.db, changed with mailetctl:
 *       "# mailetd rrt 1", then one mapping per line: SOURCE SP TARGET
 *     with the fields %-escaped as in users.db (rrt_mapping.h gives the
 *     syntax). Writers hold an flock on <dataDirectory>/users/rrt.lock,
 *     reread the file, and replace it atomically (tmp, fsync, rename,
 *     fsync of the directory). Readers (the daemon) stat the file at most
 *     once a second and reread it when it changed, as users.h does, so a
 *     change is seen within a second without a restart; a file that does
 *     not parse keeps the previous mappings (and logs an error);
 *   - the static <mapping> elements of recipientrewritetable.xml, fixed
 *     for the life of the configuration.
 *
 * Lookup (rrt_lookup): the mappings of user@domain; only if there are
 * none, those of *@domain; only if none, those of user@*. A local part
 * with "+detail" that has no mapping is looked up again without it.
 *
 * Resolution (rrt_resolve): each mapping, in James's type order, rewrites
 * the address; with recursiveMapping each new address is resolved again,
 * up to mappingLimit rewrites in a chain. An address mapped to itself is
 * a final address (a "forward:" to oneself keeps a local copy). A chain
 * that comes back to an address already on it is a loop; a chain longer
 * than mappingLimit, more than RRT_MAX_TARGETS final addresses or more
 * than RRT_MAX_WORK lookups for one resolution are "too many mappings".
 * Both are reported, never followed.
 *
 * All functions are thread-safe; lookups take a mutex for the in-memory
 * work (no I/O but the once-a-second stat and a reread after a change).
 */
#ifndef MAILETD_RRT_H
#define MAILETD_RRT_H

#include "rrt_mapping.h"

#include <stdbool.h>
#include <stddef.h>

struct rrt;
struct rrt_tx;
struct users;

/* Bounds of one resolution. */
#define RRT_MAX_TARGETS 256
#define RRT_MAX_WORK    2000
/* Largest mappingLimit accepted (recursion depth). */
#define RRT_LIMIT_MAX 100

/* A static mapping (recipientrewritetable.xml), already checked. */
struct rrt_static {
	const char *source;
	const char *target;
};

struct rrt_opts {
	bool recursive;                   /* recursiveMapping, default true */
	unsigned limit;                   /* mappingLimit, 1..RRT_LIMIT_MAX, default 10 */
	const struct rrt_static *statics; /* copied */
	size_t nstatics;
};

/*
 * A table on <data_dir>/users/rrt.db (data_dir NULL: static mappings
 * only, no store). Nothing is read until the first lookup. A static
 * mapping that does not parse is skipped (the configuration loader has
 * refused it already). The caller owns the result; rrt_free(NULL) is a
 * no-op.
 */
struct rrt *rrt_open(const char *data_dir, const struct rrt_opts *opts);
void rrt_free(struct rrt *t);

/* --- resolution ------------------------------------------------------- */

enum rrt_status {
	RRT_UNMAPPED = 0, /* no mapping applies: the address stands for itself */
	RRT_MAPPED,       /* addrs and errors hold the outcome */
	RRT_LOOP,         /* a mapping chain comes back to an address on it */
	RRT_TOO_MANY,     /* beyond mappingLimit or the bounds above */
	RRT_BAD_ADDRESS,  /* the address is not local@domain */
};

/* A final address of a resolution. */
struct rrt_addr {
	char *addr;        /* lower case, local@domain */
	enum rrt_type via; /* the type of the last mapping that led to it */
};

struct rrt_result {
	enum rrt_status status;
	struct rrt_addr *addrs; /* distinct, in resolution order */
	size_t naddrs;
	char **errors; /* texts of error: mappings reached */
	size_t nerrors;
	char *loop_at; /* RRT_LOOP / RRT_TOO_MANY: the address where it stopped */
};

/*
 * Resolves addr[0..len) (local@domain, any case). Fills *res (clear it
 * with rrt_result_clear); returns res->status. t NULL resolves nothing
 * (RRT_UNMAPPED). Untrusted input.
 */
enum rrt_status rrt_resolve(struct rrt *t, const char *addr, size_t len, struct rrt_result *res);
void rrt_result_clear(struct rrt_result *res);
/* A short text for a status ("mapping loop", ...). */
const char *rrt_status_text(enum rrt_status st);

/*
 * The mappings that apply directly to addr (lookup order above, no
 * recursion): calls fn for each target text and type. Returns the count.
 * Untrusted input.
 */
size_t rrt_lookup(struct rrt *t, const char *addr, size_t len,
    void (*fn)(void *arg, const char *source, const char *target, enum rrt_type type), void *arg);

/*
 * CanSendFrom's alias part: true if sender[0..len) leads to the user
 * named user (users.h name) through alias: and domainAlias: mappings only
 * (recursively, within mappingLimit): e.g. "bob.smith@example.com" with
 * the mapping alias:bob@example.com, or "bob@example.net" when *@example.net
 * has domainAlias:example.com. group: and forward: never grant it.
 * Untrusted input.
 */
bool rrt_is_alias_of(
    struct rrt *t, struct users *users, const char *sender, size_t len, const char *user);

/* --- listing and changes (mailetctl) ----------------------------------- */

struct rrt_entry_view {
	const char *source;
	const char *target;
	enum rrt_type type;
	bool is_static; /* from recipientrewritetable.xml */
};

/*
 * Calls fn for every mapping (store read fresh, then static ones), sorted
 * by source; only those of source (normalized) when source is not NULL.
 * Returns the count, or -1 with errno (EINVAL: the store is malformed).
 */
long rrt_list(struct rrt *t, const char *source,
    void (*fn)(void *arg, const struct rrt_entry_view *e), void *arg);

enum rrt_rc {
	RRT_OK = 0,
	RRT_EXISTS,    /* add: the mapping is already there */
	RRT_NOT_FOUND, /* del: no such mapping in the store */
	RRT_STATIC,    /* del: the mapping comes from recipientrewritetable.xml */
	RRT_BAD,       /* a source or target that does not parse */
	RRT_NO_STORE,  /* no data directory */
	RRT_ERR = -1,  /* system error; errno is set */
};

/* A short English text for rc. */
const char *rrt_strerror(enum rrt_rc rc);

/* Starts a change: creates the directory, takes the lock, reads the
 * store. NULL with errno set (EINVAL: the store is malformed). */
struct rrt_tx *rrt_tx_begin(struct rrt *t);
/* Adds or removes one mapping; source and target must parse (err, errlen
 * receive the reason for RRT_BAD). */
enum rrt_rc rrt_tx_add(
    struct rrt_tx *tx, const char *source, const char *target, char *err, size_t errlen);
enum rrt_rc rrt_tx_del(
    struct rrt_tx *tx, const char *source, const char *target, char *err, size_t errlen);
/* Writes the store atomically if it changed, releases the lock, frees tx.
 * 0, or -1 with errno. */
int rrt_tx_commit(struct rrt_tx *tx);
/* Drops the changes. NULL is a no-op. */
void rrt_tx_abort(struct rrt_tx *tx);

/*
 * Parses buf[0..len) as the text of a store file (for the fuzzer and the
 * tests): the number of mappings, or -1 if it is malformed (logged).
 * Untrusted input.
 */
long rrt_store_parse_text(const char *buf, size_t len);

#endif

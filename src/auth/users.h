/*
 * users.h - the users repository: an embedded file store of users and of
 * domains added at run time.
 *
 * Files, under <dataDirectory>/users/ (mode 0700):
 *
 *   users.db    "# mailetd users 1", then one user per line:
 *               NAME SP HASH [SP QUOTA-BYTES]
 *   domains.db  "# mailetd domains 1", then one domain per line
 *   lock        flock(2) target that serializes writers
 *
 * Fields are %-escaped: bytes <= 0x20, 0x7f and '%' are written as %HH,
 * so a field never holds a space or a line break. Names are stored
 * lower-case (user names are case-insensitive here; see
 * docs/configuration.md). HASH is any form password.h verifies.
 *
 * Writes (users_tx_*) hold an exclusive flock on "lock", reread the files,
 * and replace each changed file atomically: write "<file>.tmp", fsync,
 * rename over the file, fsync the directory. A crash leaves either the
 * old or the new file, never a partial one; concurrent mailetctl runs are
 * serialized by the lock.
 *
 * Readers (the daemon) never lock the files. Each lookup calls stat(2) on
 * the file at most once a second and rereads it only when its inode,
 * size or mtime changed, so a change made with mailetctl is seen within a
 * second, without a restart. A file that does not parse keeps the
 * previous contents (and logs an error). The cost on an I/O thread is one
 * stat a second and, after a change, the read of a small file (domains.db
 * holds a few names); users.db is read by worker threads during password
 * checks and by recipient lookups. All functions are thread-safe.
 */
#ifndef MAILETD_USERS_H
#define MAILETD_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct worker_pool;
struct users;
struct users_tx;

/* Longest user name and domain accepted. */
#define USERS_NAME_MAX 320
#define USERS_DOMAIN_MAX 253

struct users_opts {
	bool virtual_hosting;        /* names are user@domain, domain local */
	unsigned iterations;         /* PBKDF2 rounds of new hashes (0 = default) */
	unsigned failure_delay_ms;   /* users_verify_async: delay of a failure */
	/* The configured local domains (domainlist.xml), lower-case; borrowed,
	 * must outlive the repository. Domains in domains.db add to them. */
	char *const *domains;
	size_t ndomains;
	/* administratorId values (may act as other users); borrowed. */
	char *const *admins;
	size_t nadmins;
};

enum users_rc {
	USERS_OK = 0,
	USERS_EXISTS,      /* add: the user or domain is already there */
	USERS_NOT_FOUND,   /* del/passwd: no such user or domain */
	USERS_BAD_NAME,    /* not a valid user name (see users_name_check) */
	USERS_NOT_LOCAL,   /* virtual hosting: the name's domain is not local */
	USERS_BAD_HASH,    /* the hash is not a form password.h knows */
	USERS_IN_USE,      /* domain del: users of the domain remain */
	USERS_ERROR = -1,  /* system error; errno is set */
};

/* A short English text for rc ("user already exists", ...). */
const char *users_strerror(enum users_rc rc);

/*
 * A repository on <data_dir>/users. Nothing is read or created until the
 * first lookup or transaction. opts is copied (its arrays are borrowed).
 * The caller owns the result; users_free(NULL) is a no-op.
 */
struct users *users_open(const char *data_dir, const struct users_opts *opts);
void users_free(struct users *u);

/* --- lookups (daemon side) ------------------------------------------- */

/* True if domain (len bytes, any case) was added at run time (domains.db). */
bool users_domain_added(struct users *u, const char *domain, size_t len);
/* True if domain is local: configured or added at run time. */
bool users_domain_is_local(struct users *u, const char *domain, size_t len);

/* True if the user name (len bytes, any case) exists. Untrusted input. */
bool users_exists(struct users *u, const char *name, size_t len);

/*
 * Maps a recipient address to a user, as James's users repository does
 * (james.md 1g.2): "+detail" is removed from the local part; with virtual
 * hosting the user is local@domain, else local (the domain must be local
 * either way). On success the user name is written to out (outsz bytes,
 * NUL-terminated) and true returned. Untrusted input.
 */
bool users_recipient_user(struct users *u, const char *local, size_t llen,
    const char *domain, size_t dlen, char *out, size_t outsz);

/*
 * The quota of an existing user (bytes, 0 = none) in *quota: true, or
 * false if there is no such user. Untrusted input.
 */
bool users_quota(struct users *u, const char *name, size_t len, uint64_t *quota);

/* True if name is an administratorId (may authorize as any user). */
bool users_is_admin(const struct users *u, const char *name, size_t len);

enum users_auth {
	USERS_AUTH_OK = 0,
	USERS_AUTH_FAIL,   /* unknown user or wrong password (not told apart) */
	USERS_AUTH_ERROR,  /* the stored hash is unusable, or a system error */
};

/*
 * Checks a password, synchronously: takes tens of milliseconds. Worker
 * threads only. An unknown user costs as much as a known one. name and
 * pw are untrusted; pw is not kept.
 */
enum users_auth users_verify(struct users *u, const char *name, size_t nlen, const char *pw,
    size_t pwlen);

/*
 * The result of users_verify_async, called on base's loop thread. name
 * is the normalized user name (lower-case), valid during the call only.
 */
typedef void users_verify_cb(void *arg, enum users_auth result, const char *name);

/*
 * Checks a password on the worker pool and calls cb(arg, ...) on base's
 * thread: the call an SMTP AUTH command makes. name and pw are copied
 * (the copy of pw is wiped once hashed), so the caller may wipe its own
 * at once. A failure is reported after failure_delay_ms
 * (verifyFailureDelay), from a timer on base, so the worker is not held.
 * Returns 0, or -1 if the pool is stopping (cb is then never called).
 */
int users_verify_async(struct users *u, struct worker_pool *pool, struct event_base *base,
    const char *name, size_t nlen, const char *pw, size_t pwlen, users_verify_cb *cb,
    void *arg);

/* --- listing ----------------------------------------------------------- */

struct users_entry {
	const char *name;
	uint64_t quota;   /* bytes, 0 = none */
};

/*
 * Calls fn for each user (sorted by name) or each run-time domain; reads
 * the files fresh. Returns the count, or -1 with errno set (a malformed
 * file gives EINVAL).
 */
long users_list(struct users *u, void (*fn)(void *arg, const struct users_entry *e),
    void *arg);
long users_domain_list(struct users *u, void (*fn)(void *arg, const char *domain), void *arg);

/* --- changes (mailetctl side) ----------------------------------------- */

enum users_put {
	USERS_PUT_NEW,      /* add: the user must not exist */
	USERS_PUT_EXISTING, /* passwd: the user must exist */
	USERS_PUT_ANY,      /* import: add or replace */
};

/*
 * Starts a change: creates the directory if needed, takes the lock and
 * reads the current files. NULL with errno set on failure (EINVAL: a file
 * is malformed; the line is logged).
 */
struct users_tx *users_tx_begin(struct users *u);
/* Normalizes and checks name, checks hash (not a password!). */
enum users_rc users_tx_put(struct users_tx *tx, const char *name, const char *hash,
    enum users_put mode);
enum users_rc users_tx_del(struct users_tx *tx, const char *name);
/* Sets the quota (bytes, 0 = none) of an existing user. */
enum users_rc users_tx_quota(struct users_tx *tx, const char *name, uint64_t quota);
enum users_rc users_tx_domain_add(struct users_tx *tx, const char *domain);
/* Refuses (USERS_IN_USE) while users of the domain exist. */
enum users_rc users_tx_domain_del(struct users_tx *tx, const char *domain);
/* Writes the changed files atomically, releases the lock, frees tx.
 * 0, or -1 with errno set (nothing written for that file). */
int users_tx_commit(struct users_tx *tx);
/* Drops the changes, releases the lock, frees tx. NULL is a no-op. */
void users_tx_abort(struct users_tx *tx);

/*
 * Normalizes name (lower-case) into out and checks it: a local part of
 * printable ASCII without space, '@', '+', ':', '%' or '/', 1..64 octets;
 * with virtual hosting "@" and a domain name too. Does not check that the
 * domain is local.
 */
enum users_rc users_name_check(const struct users *u, const char *name, size_t len,
    char *out, size_t outsz);

#endif

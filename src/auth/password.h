/*
 * password.h - password hashes: making new ones, verifying stored ones.
 *
 * New passwords are hashed with PBKDF2-HMAC-SHA512, a random 16-byte salt
 * and a configurable iteration count, into a self-describing string:
 *
 *   {PBKDF2-SHA512}<iterations>$<salt, base64>$<64-byte key, base64>
 *
 * Verification also accepts the forms an administrator imports:
 *
 *   {SHA512-CRYPT}$6$..., {SHA256-CRYPT}$5$..., {BLF-CRYPT}$2y$...
 *       Dovecot's crypt(3) schemes, checked with libxcrypt's crypt_r
 *       ({BLF-CRYPT} only where libxcrypt has bcrypt); a bare "$6$..."
 *       / "$5$..." / "$2y$..." is read the same way.
 *   {JAMES:<algorithm>}<base64 hash>
 *       a hash exported from Apache James (james.md 1g.2), where the
 *       algorithm is James's string as it stores it: "PBKDF2-SHA512",
 *       "PBKDF2-SHA512-<iter>[-<bits>]", "PBKDF2[-<iter>[-<bits>]]"
 *       (PBKDF2-HMAC-SHA1) or a digest "MD5", "SHA-1", "SHA-256",
 *       "SHA-512", each with an optional "/plain" or "/salted" mode. James
 *       salts with the user name, so verifying these needs it. The legacy
 *       modes (James 2.x base64 quirks) are not supported.
 *
 * Comparisons are constant-time; every buffer that held a password or a
 * derived key is wiped with OPENSSL_cleanse before it is freed.
 *
 * These functions burn CPU on purpose (password_verify of a PBKDF2 hash
 * with the default count takes tens of milliseconds): never call them on
 * an I/O thread; use the worker pool (src/core/worker.h).
 */
#ifndef MAILETD_PASSWORD_H
#define MAILETD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Default PBKDF2 iteration count for new passwords: about 75 ms on one
 * core of the 2020s x86 build host (150 ms for OWASP's 2023 figure of
 * 210000, which <algorithm>PBKDF2-SHA512-210000</algorithm> in
 * usersrepository.xml selects). Chosen so that a burst of AUTH attempts
 * cannot starve the worker pool.
 */
#define PASSWORD_DEFAULT_ITERATIONS 100000u
#define PASSWORD_MIN_ITERATIONS 1000u
#define PASSWORD_MAX_ITERATIONS 100000000u

/* Longest password accepted; longer ones never verify. */
#define PASSWORD_MAX_LEN 1024u

enum password_rc {
	PASSWORD_OK = 0,        /* the password matches */
	PASSWORD_MISMATCH = 1,  /* well-formed hash, wrong password */
	PASSWORD_BADHASH = -1,  /* the stored string is not a hash we know */
};

/*
 * Hashes pw (pwlen bytes, may contain any byte) into a new
 * {PBKDF2-SHA512} string with a random salt and `iterations` rounds
 * (clamped to the MIN..MAX range). Returns an allocated string the caller
 * frees, or NULL if the random generator failed.
 */
char *password_hash(const char *pw, size_t pwlen, unsigned iterations);

/*
 * Checks pw (pwlen bytes) against stored (a NUL-terminated string in one
 * of the forms above; untrusted: it may come from an imported file).
 * user is the user name, needed only by {JAMES:...} hashes (may be NULL
 * otherwise). Constant-time in the comparison of the result.
 */
enum password_rc password_verify(const char *stored, const char *user, const char *pw,
    size_t pwlen);

/* True if stored is in a form password_verify understands (its syntax
 * only; crypt hashes are checked as far as their prefix). */
bool password_hash_valid(const char *stored);

/* Wipes and frees a string that held a secret; NULL is a no-op. */
void password_free(char *secret);

#endif

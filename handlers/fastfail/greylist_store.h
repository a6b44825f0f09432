/*
 * greylist_store.h - the embedded store of the greylisting handler
 * (greylist.c): triplets (client network, sender, recipient) with the
 * time they were first and last seen and how often they passed.
 *
 * The table lives in memory, protected by one mutex, so sessions on
 * every I/O thread may use it; its file is a log of records appended on
 * every change and rewritten (compacted, expired entries dropped) when
 * the log holds far more records than live entries. Every call may read
 * or write the file: call them on the worker pool, never on an I/O
 * thread. The file is not fsync'd: a crash may forget the latest
 * sightings, which only means one more temporary rejection.
 *
 * File format, one record a line (the key is the rest of the line):
 *   G1 <first seen, ms since the epoch> <last seen> <passes> <key>\n
 * Lines that do not parse (a torn last line after a crash) are skipped.
 *
 * Stores are shared by path and counted: every handler configuration
 * (every server, every reload) that names the same file gets the same
 * store.
 */
#ifndef MAILETD_GREYLIST_STORE_H
#define MAILETD_GREYLIST_STORE_H

#include <stddef.h>
#include <stdint.h>

struct greylist_store;

/* Most entries kept; beyond, new triplets are let through (logged by the caller). */
#define GREYLIST_MAX_ENTRIES 200000
/* Longest key ("192.0.2.0/24 sender recipient"). */
#define GREYLIST_KEY_MAX 1100

/* James's three times (AbstractGreylistHandler), in milliseconds. */
struct greylist_times {
	uint64_t temp_block;      /* tempBlockTime: a retry before this is too soon */
	uint64_t auto_white;      /* autoWhiteListLifeTime: a passed triplet lives this long unseen */
	uint64_t unseen;          /* unseenLifeTime: a never-passed triplet lives this long */
};

enum greylist_verdict {
	GREYLIST_PASS,            /* known and old enough (or already passed): accept */
	GREYLIST_NEW,             /* first sighting (or expired): recorded, reject for now */
	GREYLIST_TOO_SOON,        /* seen, but tempBlockTime is not over */
	GREYLIST_FULL,            /* not recorded: the table is full (accept) */
	GREYLIST_ERROR,           /* the file cannot be opened or read (accept) */
};

/*
 * The store of file path (taken and counted; loaded at the first check).
 * Release with greylist_store_put(); NULL is a no-op there.
 */
struct greylist_store *greylist_store_get(const char *path);
void greylist_store_put(struct greylist_store *st);

/*
 * Looks up key (NUL-terminated, no newline) at time now_ms and records
 * the sighting as James does: a new triplet is stored with 0 passes; a
 * retry after tempBlockTime, or any sighting of a triplet that passed
 * before, counts a pass and refreshes its time; an expired triplet
 * starts again as new. Thread-safe; may do file I/O.
 */
enum greylist_verdict greylist_store_check(struct greylist_store *st, const char *key,
    uint64_t now_ms, const struct greylist_times *t);

/* Live entries (for tests). */
size_t greylist_store_count(struct greylist_store *st);

#endif

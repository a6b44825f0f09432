/*
 * spool.h - the durable mail queue.
 *
 * Layout under the spool directory (<dataDirectory>/spool):
 *   commit.key      32 random bytes (mode 0600), made at the first open:
 *                   the key of the commit seal below; never leaves here
 *   tmp/            messages being received, and committed messages not
 *                   yet moved into their queue (see recovery below)
 *   queue/<name>/   committed messages of the named queue ("spool" is the
 *                   one the SMTP server fills; "outgoing", "error" ... later)
 *   corrupt/        files found in a queue that do not parse; kept for the
 *                   administrator, never processed
 *
 * One file per message, named by its id: the message bytes exactly as they
 * will be delivered (Received header included, dot-unstuffed, CRLF lines),
 * followed by the envelope as text and a fixed-size footer line that
 * points at the envelope and seals the file (format version 2):
 *
 *   <message bytes>
 *   MAILETD-ENVELOPE 2\n
 *   key value\n ...        (values escaped, see spool_format.c; the last
 *                          line is "queue <name>", the message's queue)
 *   MAILETD-FOOTER2 <20-digit offset of the envelope> <MAC>\n
 *
 * MAC is HMAC-SHA256, keyed with commit.key, in 64 lower-case hex digits,
 * over "MAILETD-SPOOL-MAC 2\n", the id, "\n" and every byte of the file
 * before the MAC (message, envelope, the footer up to its last space).
 * Version 1 files (from before the seal: "MAILETD-ENVELOPE 1", no queue
 * line, footer "MAILETD-FOOTER <offset>\n") are still read in queues.
 *
 * Commit: write the envelope and footer, fdatasync the file; if the file
 * was not taken from the pool (below), fsync tmp/ once per batch. The
 * message is now durable: a crash from here on finds it in tmp/ with a
 * valid seal. Then rename it into queue/<name>/, without an fsync of its
 * own (the next journal commit carries it; a queue directory new since
 * start is fsync'd into queue/ first, once), and only then is the commit
 * callback told success and may the server say 250. The rename is done
 * before the ack although durability does not need it: it costs no
 * flush, and it keeps "250 said => the file is in queue/" for mailetctl
 * and the queue's readers. Commits are done by committer threads, never
 * on an I/O thread, several messages per batch (group commit).
 *
 * A batch first starts the writeback of all its files
 * (sync_file_range), then fdatasyncs them one by one: the disk has the
 * whole batch in flight while the first fdatasync waits. While a
 * committer is busy, a new commit wakes another one only when 8 or more
 * messages wait (else they join the busy one's next batch: one thread
 * switch per batch, not per message), and the callbacks of a batch go to
 * each I/O thread in one xcall.
 *
 * The pool (fsync on): up to 128 empty files made ahead in tmp/ under
 * fresh ids, their directory entries made durable by one fsync of tmp/
 * per refill (a committer tops the pool up after a batch when fewer than
 * 64 are left; one refill serves 64+ messages). spool_msg_new takes the
 * oldest; the commit of such a message is one fdatasync: one journal
 * commit on ext4, and no separate fsync of tmp/, which on ext4 costs a
 * cache flush even when the entry is already committed, and a journal
 * commit of its own when other sessions created files in tmp/ meanwhile
 * (as the old fsync of the queue directory did after the rename). When
 * the pool is empty, spool_msg_new creates its own file and the batch
 * fsyncs tmp/. Ids from the pool were drawn when the file was made, a
 * little before the message arrived: ids still sort by creation, but
 * only about by arrival. Unused pool files are removed by spool_close;
 * after a crash they are empty and removed by the recovery.
 *
 * With fsync off there is no pool, and no flush, so nothing to group:
 * spool_msg_commit writes, closes and renames on the caller's thread (an
 * I/O thread) and posts the callback to base at once, saving the two
 * thread wake-ups of a hand-off to a committer and back (measured: about
 * 2 fewer context switches and a third less daemon CPU per message at 1
 * and 20 sessions). spool_close waits for such a commit in progress.
 *
 * Start-up recovery: a file in tmp/ whose seal checks (footer, envelope,
 * MAC over the whole file) is a committed message: it is fdatasync'd
 * (a kill -9 may have left it in the page cache only) and moved into the
 * queue its envelope names, which is fsync'd. A file whose footer is
 * well-formed but whose MAC is wrong is not committed either: it goes to
 * corrupt/ (as "tmp.<id>", with a warning), since it is a forgery in a
 * client's bytes or a file sealed under a commit.key that was replaced
 * (keep commit.key with the spool). Anything else in tmp/ is an
 * interrupted transfer, never acknowledged, and deleted. The seal is
 * what makes this safe: a client controls the message bytes, and a
 * transfer interrupted mid-DATA could end with bytes that look exactly
 * like an envelope and a footer (choosing the recipients: an open relay
 * on the next start). Without the key, which no client sees, the MAC
 * cannot be right, and it also covers the message bytes, so a file
 * whose data a crash left half-written never passes. Files in queue/
 * are not MAC-checked (it would mean reading every message at start):
 * only the committer and the recovery put files there, always complete
 * (fdatasync'd, or seal-checked), by rename; as before, one that does
 * not parse goes to corrupt/. This relies on rename being atomic across
 * a crash (ext4, XFS, btrfs): a committed file is in tmp/ or in its
 * queue, never in neither.
 */
#ifndef MAILETD_SPOOL_H
#define MAILETD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/id.h"

struct event_base;
struct spool;
struct spool_msg;

#define SPOOL_QUEUE_NAME_MAX 64

struct spool_attr {
	const char *name;
	const char *value;
};

/* The envelope of a message. All strings are borrowed for the call. */
struct spool_envelope {
	const char *sender;          /* reverse-path mailbox, "" for <> */
	const char *const *rcpts;    /* forward-path mailboxes */
	size_t nrcpts;
	const char *client_addr;     /* "127.0.0.1" */
	const char *client_name;     /* reverse DNS name or "unknown" */
	const char *helo;            /* HELO/EHLO argument, may be NULL */
	const char *protocol;        /* "ESMTP", "SMTP", "ESMTPS", "LMTP" ... */
	const char *session_id;
	const char *server_name;     /* the <smtpserver> that received it */
	time_t received;
	const struct spool_attr *attrs; /* mail attributes (name, value) */
	size_t nattrs;
	bool smtputf8;               /* MAIL had SMTPUTF8 */
	const char *body;            /* BODY= parameter ("7BIT", "8BITMIME") or NULL */
};

/*
 * Opens (creating as needed, mode 0700) the spool under dir, loads (or
 * creates) commit.key, recovers tmp/ (committed files into their queue,
 * interrupted transfers deleted) and moves unparsable queue files to
 * corrupt/, and starts the committer threads. do_fsync=false skips every fsync (unsafe:
 * a crash may lose acknowledged mail; for benchmarks only). On failure
 * returns NULL with a reason in err.
 */
struct spool *spool_open(const char *dir, bool do_fsync, unsigned commit_threads,
    char *err, size_t errlen);
/* Waits for commits in flight, stops the threads and frees the spool.
 * Every commit handed over before the call still completes, and its
 * callback is posted (xcall) before spool_close returns: it runs when its
 * base's loop next runs, and must not use sp any more. A commit started
 * while spool_close runs fails with ECANCELED. spool_close(NULL) is a
 * no-op. */
void spool_close(struct spool *sp);

/*
 * Starts a new message for queue (created if needed) in tmp/ with a fresh
 * id (copied to id_out if not NULL). Returns NULL and sets errno on a
 * file-system error (EINVAL: queue is not [a-z0-9_-]{1,64}; ESHUTDOWN:
 * spool_close has begun). The message must end with spool_msg_commit()
 * or spool_msg_abort().
 */
struct spool_msg *spool_msg_new(struct spool *sp, const char *queue, char id_out[ID_LEN + 1]);
const char *spool_msg_id(const struct spool_msg *m);
/* Appends message bytes (buffered). Returns 0, or -1 after a write error
 * (sticky: later writes and the commit fail too). */
int spool_msg_write(struct spool_msg *m, const void *data, size_t len);
/* Bytes written so far. */
uint64_t spool_msg_size(const struct spool_msg *m);
/* Deletes the temporary file and frees m. NULL is a no-op. */
void spool_msg_abort(struct spool_msg *m);

/*
 * Writes out what m buffers and returns a new read-only descriptor on its
 * temporary file (the caller closes it), or -1 with errno (also after an
 * earlier write error). The message bytes are at offsets 0 to
 * spool_msg_size(m). The descriptor stays readable after
 * spool_msg_abort(m) has unlinked the file: this is how LMTP reads a
 * message back for delivery without committing it to a queue.
 */
int spool_msg_reader(struct spool_msg *m);

/*
 * Puts data (len octets: header fields a message hook adds, CRLF lines)
 * before the message bytes written so far, so that they come first in
 * the delivered message. The temporary file is rewritten (a new file with
 * data, then the old bytes, renamed over it): page-cache work on the
 * caller's thread, like the writes themselves. Descriptors from
 * spool_msg_reader() taken before still read the old bytes. 0, or -1
 * with errno; a failure is sticky (the commit fails too).
 */
int spool_msg_prepend(struct spool_msg *m, const void *data, size_t len);

/*
 * Result of a commit: err is 0 on success (the message is durable), else
 * an errno value and the message is gone. id is valid during the call.
 */
typedef void (*spool_commit_cb)(void *arg, int err, const char *id);

/*
 * Writes env as the message's envelope and commits the message; m is
 * owned by the spool from now on. cb(arg, ...) runs later on base's loop
 * thread (through xcall), exactly once, never inside this call (with
 * fsync off the commit itself is done inside it, see above).
 */
void spool_msg_commit(struct spool_msg *m, const struct spool_envelope *env,
    struct event_base *base, spool_commit_cb cb, void *arg);

/* A committed message as read back from disk. */
struct spool_entry {
	char id[ID_LEN + 1];
	char queue[SPOOL_QUEUE_NAME_MAX + 1];
	char *sender;
	char **rcpts;
	size_t nrcpts;
	char *client_addr;
	char *helo;
	char *protocol;
	char *session_id;
	char *server_name;
	time_t received;
	uint64_t size;            /* message bytes, envelope excluded */
	uint64_t body_offset;     /* always 0: the message starts the file */
	struct spool_attr_owned { char *name; char *value; } *attrs;
	size_t nattrs;
	/* Added with spool.c: the remaining envelope fields. Strings are NULL
	 * when the field was absent from the envelope (helo, body ...). */
	char *client_name;
	bool smtputf8;
	char *body;
};

/* Reads the envelope of the committed file at path. 0, or -1 with errno
 * (EINVAL for a file that does not parse). Free with spool_entry_clear().
 * id and queue are taken from the file name and its directory's name when
 * these are valid, else left empty. On failure e is left cleared. Safe on
 * arbitrary file contents. */
int spool_entry_read(const char *path, struct spool_entry *e);
void spool_entry_clear(struct spool_entry *e);

/*
 * Calls fn for every committed message of queue (every queue when queue is
 * NULL) under spool directory dir, in id (= arrival) order. Does not need
 * an open spool: the admin tool uses it on a running daemon's directory.
 * Returns the number of messages, or -1 with errno.
 */
long spool_list(const char *dir, const char *queue,
    void (*fn)(void *arg, const struct spool_entry *e), void *arg);

/* Writes the message bytes of id (in any queue) to fd. 0, or -1 with errno. */
int spool_cat(const char *dir, const char *id, int fd);

#endif

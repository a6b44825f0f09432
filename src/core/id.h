/*
 * id.h - identifiers for sessions and messages.
 *
 * Ids are lowercase hex, unique within the host across restarts (time,
 * a per-process random seed and a counter) and sort by creation time, so a
 * spool listing in name order is in arrival order. Thread-safe.
 */
#ifndef MAILETD_ID_H
#define MAILETD_ID_H

#define ID_LEN 20 /* characters, without the NUL */

/* Seeds the generator from the kernel's random source; call once at start. */
void id_init(void);
/* Writes a fresh id into out (ID_LEN + 1 bytes). */
void id_new(char out[ID_LEN + 1]);

#endif

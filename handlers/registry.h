/*
 * registry.h - every handler mailetd knows, by mailetd's short name and by
 * James's fully-qualified class name, and the James classes it knows of
 * but does not run yet.
 */
#ifndef MAILETD_REGISTRY_H
#define MAILETD_REGISTRY_H

#include "chain.h"

/* The handler named cls (short name or James class, exact case), or NULL. */
const struct handler_def *registry_find(const char *cls);

/*
 * Why a James class that mailetd does not run is skipped ("not supported
 * yet", "built in", ...), or NULL when cls is not such a class.
 */
const char *registry_unsupported(const char *cls);

/*
 * True if cls is one of James's command-handler loaders (a core set); *set
 * is the core set it stands for. lmtp selects the LMTP loaders.
 */
bool registry_core_set(const char *cls, bool lmtp, enum chain_core_set *set);

/* The short names of every handler that runs, ", "-separated, into buf. */
void registry_names(char *buf, size_t len);

#endif

/*
 * cfg_rrt.h - loader for recipientrewritetable.xml (james.md 1g.3,
 * docs/rrt.md).
 *
 *   <recursiveMapping>  boolean, default true
 *   <mappingLimit>      1 to 100 when recursive (default 10); ignored
 *                       (James: 0) when not
 *   <mapping>           repeatable, "source=target[;target][,source=target]"
 *                       (James's XML-backed table): static mappings, each
 *                       checked here so that a bad one stops start-up
 *                       with file:line
 *
 * The class attribute of the root (James's implementation choice) is
 * accepted and has no effect: mailetd has one table, the file store in
 * the data directory plus these static mappings (src/rrt/rrt.h).
 */
#ifndef MAILETD_CFG_RRT_H
#define MAILETD_CFG_RRT_H

#include "cfg_diag.h"
#include "config.h"

/*
 * Fills *out from path; a missing file gives the defaults. *out is always
 * filled, also on errors, and must be released with cfg_rrt_clear().
 * Returns 1 if the file was read, 0 if it does not exist, -1 if it could
 * not be read or parsed.
 */
int cfg_rrt_load(
    const char *path, const struct config_opts *opts, struct cfg_diag *diag, struct cfg_rrt *out);
void cfg_rrt_clear(struct cfg_rrt *r);

#endif

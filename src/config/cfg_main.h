/*
 * cfg_main.h - loader for mailetd.xml, mailetd's own settings (root
 * element <mailetd>): data directory, spool, shutdown, logging, session
 * error ceiling. The file is optional; every element has a default.
 */
#ifndef MAILETD_CFG_MAIN_H
#define MAILETD_CFG_MAIN_H

#include "cfg_diag.h"
#include "config.h"

/*
 * Fills *out from path (missing file: defaults). A relative
 * <dataDirectory> is taken relative to the parent directory of confdir
 * (James's var/ sits next to conf/); opts->data_dir, when set, overrides
 * it. *out is always filled, also on errors; release it with
 * cfg_main_clear(). Returns 1 if the file was read, 0 if it does not
 * exist, -1 if it could not be read or parsed.
 */
int cfg_main_load(const char *path, const char *confdir, const struct config_opts *opts,
    struct cfg_diag *diag, struct cfg_main *out);
void cfg_main_clear(struct cfg_main *m);

#endif

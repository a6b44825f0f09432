/*
 * rrt_admin.h - mailetctl's commands for the recipient rewrite table
 * (docs/rrt.md):
 *
 *   mapping add SOURCE TARGET     add a mapping to the store
 *   mapping del SOURCE TARGET     remove one
 *   mapping list [SOURCE]         list the store's and the static mappings
 *   mapping resolve ADDRESS       show what ADDRESS resolves to
 *   alias add ALIAS USER          mapping add ALIAS alias:USER (USER must exist)
 *   alias del ALIAS USER          mapping del ALIAS alias:USER
 *
 * SOURCE and TARGET use James's syntax (rrt_mapping.h). Output goes to
 * stdout, errors to stderr as "mailetctl: ...".
 */
#ifndef MAILETD_RRT_ADMIN_H
#define MAILETD_RRT_ADMIN_H

#include <stdio.h>

struct config;

/* The usage lines of these commands (each starts with "       mailetctl"). */
void rrt_admin_usage(FILE *f);

/*
 * Runs "mapping ..." or "alias ..." (argv[0] is the noun). Returns 0 done,
 * 1 error (reason on stderr), 2 usage.
 */
int rrt_admin_main(const struct config *cfg, int argc, char **argv);

/* True if argv[0] is a noun of these commands. */
int rrt_admin_is_noun(const char *noun);

#endif

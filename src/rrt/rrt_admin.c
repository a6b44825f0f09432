/* rrt_admin.c - mailetctl mapping / alias commands (see rrt_admin.h). */
#include "rrt_admin.h"

#include "../auth/users.h"
#include "../config/config.h"
#include "../core/log.h"
#include "../core/ttysafe.h"
#include "rrt.h"

#include <errno.h>
#include <string.h>

enum { ADM_OK = 0, ADM_ERROR = 1, ADM_USAGE = 2 };

void
rrt_admin_usage(FILE *f)
{
	fprintf(f, "       mailetctl [-c CONFDIR] [-d DATADIR] mapping add|del SOURCE TARGET\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] mapping list [SOURCE]\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] mapping resolve ADDRESS\n"
	           "       mailetctl [-c CONFDIR] [-d DATADIR] alias add|del ALIAS USER\n");
}

int
rrt_admin_is_noun(const char *noun)
{
	return strcmp(noun, "mapping") == 0 || strcmp(noun, "alias") == 0;
}

/* add (true) or del one mapping. */
static int
adm_change(const struct config *cfg, const char *source, const char *target, bool add)
{
	char err[256], a[RRT_ADDR_MAX + 8], b[RRT_TARGET_MAX + 8];
	struct rrt_tx *tx = rrt_tx_begin(cfg->rrt_db);
	if (tx == NULL) {
		fprintf(stderr, "mailetctl: cannot open the mapping store: %s\n",
		    errno == EINVAL ? "the file is malformed (see the log line above)"
		                    : strerror(errno));
		return ADM_ERROR;
	}
	err[0] = '\0';
	enum rrt_rc rc = add ? rrt_tx_add(tx, source, target, err, sizeof(err))
	                     : rrt_tx_del(tx, source, target, err, sizeof(err));
	if (rc != RRT_OK) {
		rrt_tx_abort(tx);
		fprintf(stderr, "mailetctl: mapping %s %s: %s\n", ttysafe(a, sizeof(a), source),
		    ttysafe(b, sizeof(b), target), rc == RRT_BAD ? err : rrt_strerror(rc));
		return ADM_ERROR;
	}
	if (rrt_tx_commit(tx) < 0) {
		fprintf(stderr, "mailetctl: cannot write the mapping store: %s\n", strerror(errno));
		return ADM_ERROR;
	}
	/* Shown as stored: normalized (both parsed above, so they parse). */
	struct rrt_target t;
	if (rrt_source_parse(source, strlen(source), a, sizeof(a), err, sizeof(err)) == 0 &&
	    rrt_target_parse(target, strlen(target), &t, err, sizeof(err)) == 0) {
		printf("%s mapping %s %s\n", add ? "added" : "deleted", a,
		    ttysafe(b, sizeof(b), t.text));
		rrt_target_clear(&t);
	}
	return ADM_OK;
}

static void
adm_list_line(void *arg, const struct rrt_entry_view *e)
{
	char b[RRT_TARGET_MAX + 8];
	(void)arg;
	printf("%s %s%s\n", e->source, ttysafe(b, sizeof(b), e->target),
	    e->is_static ? "  (recipientrewritetable.xml)" : "");
}

static int
adm_list(const struct config *cfg, const char *source)
{
	char src[RRT_ADDR_MAX + 8], err[256];
	if (source != NULL &&
	    rrt_source_parse(source, strlen(source), src, sizeof(src), err, sizeof(err)) < 0) {
		fprintf(stderr, "mailetctl: mapping list %s: %s\n",
		    ttysafe(src, sizeof(src), source), err);
		return ADM_ERROR;
	}
	if (rrt_list(cfg->rrt_db, source != NULL ? src : NULL, adm_list_line, NULL) < 0) {
		fprintf(stderr, "mailetctl: cannot read the mapping store: %s\n",
		    errno == EINVAL ? "the file is malformed" : strerror(errno));
		return ADM_ERROR;
	}
	return ADM_OK;
}

static int
adm_resolve(const struct config *cfg, const char *addr)
{
	char a[RRT_ADDR_MAX + 8], user[USERS_NAME_MAX + 1];
	struct rrt_result res;
	enum rrt_status st = rrt_resolve(cfg->rrt_db, addr, strlen(addr), &res);
	if (st == RRT_BAD_ADDRESS) {
		fprintf(stderr, "mailetctl: mapping resolve %s: not an address (user@domain)\n",
		    ttysafe(a, sizeof(a), addr));
		rrt_result_clear(&res);
		return ADM_ERROR;
	}
	printf("%s: %s", ttysafe(a, sizeof(a), addr), rrt_status_text(st));
	if (res.loop_at != NULL)
		printf(" (at %s)", ttysafe(a, sizeof(a), res.loop_at));
	printf("\n");
	for (size_t i = 0; i < res.naddrs; i++) {
		const char *x = res.addrs[i].addr;
		const char *at = strrchr(x, '@');
		bool local = cfg->users_db != NULL &&
		             users_recipient_user(cfg->users_db, x, (size_t)(at - x), at + 1,
		                 strlen(at + 1), user, sizeof(user));
		printf("  %s (%s)", x, rrt_type_name(res.addrs[i].via));
		if (local)
			printf(" local user %s\n", user);
		else
			printf(" not a local user\n");
	}
	for (size_t i = 0; i < res.nerrors; i++)
		printf("  error: %s\n", ttysafe(a, sizeof(a), res.errors[i]));
	if (st == RRT_UNMAPPED) {
		const char *at = strrchr(addr, '@');
		if (at != NULL && cfg->users_db != NULL &&
		    users_recipient_user(cfg->users_db, addr, (size_t)(at - addr), at + 1,
		        strlen(at + 1), user, sizeof(user)))
			printf("  local user %s\n", user);
	}
	rrt_result_clear(&res);
	return ADM_OK;
}

/* alias add|del ALIAS USER: the target is alias:<user's address>. */
static int
adm_alias(const struct config *cfg, const char *alias, const char *user, bool add)
{
	char n[USERS_NAME_MAX + 1], a[RRT_ADDR_MAX + 8];
	if (users_name_check(cfg->users_db, user, strlen(user), n, sizeof(n)) != USERS_OK) {
		fprintf(stderr, "mailetctl: alias: %s is not a user name%s\n",
		    ttysafe(a, sizeof(a), user),
		    strchr(user, '@') != NULL ? " (virtual hosting is off: use the local part)"
		                              : " (virtual hosting is on: use user@domain)");
		return ADM_ERROR;
	}
	if (add && !users_exists(cfg->users_db, n, strlen(n))) {
		fprintf(stderr, "mailetctl: alias: no such user %s (mailetctl user add)\n",
		    ttysafe(a, sizeof(a), n));
		return ADM_ERROR;
	}
	/* Without virtual hosting the user's address is user@<the alias's domain>. */
	char target[USERS_NAME_MAX + 16];
	snprintf(target, sizeof(target), "alias:%s", n);
	return adm_change(cfg, alias, target, add);
}

int
rrt_admin_main(const struct config *cfg, int argc, char **argv)
{
	if (argc < 2)
		return ADM_USAGE;
	const char *noun = argv[0], *verb = argv[1];
	if (strcmp(noun, "mapping") == 0) {
		if ((strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0) && argc == 4)
			return adm_change(cfg, argv[2], argv[3], verb[0] == 'a');
		if (strcmp(verb, "list") == 0 && argc <= 3)
			return adm_list(cfg, argc == 3 ? argv[2] : NULL);
		if (strcmp(verb, "resolve") == 0 && argc == 3)
			return adm_resolve(cfg, argv[2]);
		return ADM_USAGE;
	}
	if (strcmp(noun, "alias") == 0 && argc == 4 &&
	    (strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0))
		return adm_alias(cfg, argv[2], argv[3], verb[0] == 'a');
	return ADM_USAGE;
}

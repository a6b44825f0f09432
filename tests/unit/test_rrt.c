/* test_rrt.c - unit tests of the recipient rewrite table (src/rrt). */
#include "../../src/auth/password.h"
#include "../../src/auth/users.h"
#include "../../src/config/cfg_diag.h"
#include "../../src/config/config.h"
#include "../../src/core/log.h"
#include "../../src/core/xmalloc.h"
#include "../../src/rrt/rrt.h"

#define DATADIR_FIXTURE_NAME "rrt"
#include "datadir_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct rrt *
open_table(bool recursive, unsigned limit, const struct rrt_static *st, size_t n)
{
	struct rrt_opts o = { .recursive = recursive, .limit = limit, .statics = st,
		.nstatics = n };
	return rrt_open(datadir, &o);
}

/* Adds mappings "source target" pairs in one transaction. */
static void
add_all(struct rrt *t, const char *const *pairs, size_t n)
{
	struct rrt_tx *tx = rrt_tx_begin(t);
	ck_assert_ptr_nonnull(tx);
	for (size_t i = 0; i + 1 < n; i += 2) {
		char err[200] = "";
		enum rrt_rc rc = rrt_tx_add(tx, pairs[i], pairs[i + 1], err, sizeof(err));
		ck_assert_msg(rc == RRT_OK, "%s %s: %s %s", pairs[i], pairs[i + 1],
		    rrt_strerror(rc), err);
	}
	ck_assert_int_eq(rrt_tx_commit(tx), 0);
}

/* "a,b,c" of the addresses of a resolution, "E:text" for errors. */
static char *
resolve_text(struct rrt *t, const char *addr, enum rrt_status *st)
{
	struct rrt_result r;
	*st = rrt_resolve(t, addr, strlen(addr), &r);
	char *out = xstrdup("");
	for (size_t i = 0; i < r.naddrs; i++) {
		char *n = xasprintf("%s%s%s", out, out[0] ? "," : "", r.addrs[i].addr);
		free(out);
		out = n;
	}
	for (size_t i = 0; i < r.nerrors; i++) {
		char *n = xasprintf("%s%sE:%s", out, out[0] ? "," : "", r.errors[i]);
		free(out);
		out = n;
	}
	rrt_result_clear(&r);
	return out;
}

static void
expect(struct rrt *t, const char *addr, enum rrt_status want_st, const char *want)
{
	enum rrt_status st;
	char *got = resolve_text(t, addr, &st);
	ck_assert_msg(st == want_st && strcmp(got, want) == 0,
	    "%s: got %s [%s], want %s [%s]", addr, rrt_status_text(st), got,
	    rrt_status_text(want_st), want);
	free(got);
}

/* --- syntax ----------------------------------------------------------------- */

static const struct {
	const char *in;
	int ok;
	enum rrt_type type;
	const char *text;
} targets[] = {
	{ "bob@example.com", 1, RRT_T_ADDRESS, "bob@example.com" },
	{ "Bob@Example.COM", 1, RRT_T_ADDRESS, "bob@example.com" },
	{ "bob", 1, RRT_T_ADDRESS, "bob" },
	{ "alias:bob@example.com", 1, RRT_T_ALIAS, "alias:bob@example.com" },
	{ "ALIAS:bob", 1, RRT_T_ALIAS, "alias:bob" },
	{ "forward:x@remote.org", 1, RRT_T_FORWARD, "forward:x@remote.org" },
	{ "group:a@example.com", 1, RRT_T_GROUP, "group:a@example.com" },
	{ "domain:Example.org", 1, RRT_T_DOMAIN, "domain:example.org" },
	{ "domainalias:example.org", 1, RRT_T_DOMAIN_ALIAS, "domainAlias:example.org" },
	{ "domainAlias:example.org", 1, RRT_T_DOMAIN_ALIAS, "domainAlias:example.org" },
	{ "regex:(.*)@example.org:${1}@example.com", 1, RRT_T_REGEX,
	    "regex:(.*)@example.org:${1}@example.com" },
	{ "error:Mailbox Gone", 1, RRT_T_ERROR, "error:Mailbox Gone" },
	{ "error:", 1, RRT_T_ERROR, "error:" },
	{ "foo:bar", 0, 0, NULL },
	{ "bob@", 0, 0, NULL },
	{ "@example.com", 0, 0, NULL },
	{ "bo b@example.com", 0, 0, NULL },
	{ "domain:not_a_domain", 0, 0, NULL },
	{ "alias:", 0, 0, NULL },
	{ "regex:(.*)@x", 0, 0, NULL },            /* no template */
	{ "regex:(a:${1}@x", 0, 0, NULL },          /* does not compile */
	{ "regex:(a)\\1:${1}@x", 0, 0, NULL },      /* back-reference */
	{ "regex:(.*)@x:${2}@y", 0, 0, NULL },      /* group 2 does not exist */
	{ "regex:(.*)@x:$1@y", 0, 0, NULL },        /* $ without braces */
	{ "error:bad\ttab", 0, 0, NULL },
	/* Regexes that would make regcomp slow or large (a fuzzer find). */
	{ "regex:(.*+++++++++++++++++++++++++++++++++++++++++++)@x:${1}@y", 0, 0, NULL },
	{ "regex:(a{17})@x:${1}@y", 0, 0, NULL },
	{ "regex:((a{16}){16}){2}@x:${1}@y", 0, 0, NULL },
	{ "regex:((((((((((a))))))))))@x:${1}@y", 0, 0, NULL },
	{ "regex:(a{2,16})([]x[:alpha:]]*)@x:${2}@y", 1, RRT_T_REGEX,
	    "regex:(a{2,16})([]x[:alpha:]]*)@x:${2}@y" },
	{ "regex:[abc@x:${0}@y", 0, 0, NULL },
	{ "", 0, 0, NULL },
};

START_TEST(target_syntax)
{
	for (size_t i = 0; i < NELEM(targets); i++) {
		struct rrt_target t;
		char err[200] = "";
		int rc = rrt_target_parse(targets[i].in, strlen(targets[i].in), &t, err, sizeof(err));
		ck_assert_msg((rc == 0) == (targets[i].ok == 1), "%s: rc %d (%s)", targets[i].in, rc,
		    err);
		if (rc == 0) {
			ck_assert_int_eq(t.type, targets[i].type);
			ck_assert_str_eq(t.text, targets[i].text);
		} else {
			ck_assert_msg(err[0] != '\0', "%s: no reason", targets[i].in);
		}
		rrt_target_clear(&t);
	}
	struct rrt_target t;
	char err[200];
	ck_assert_int_eq(rrt_target_parse("foo:bar", 7, &t, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown mapping type \"foo:\""));
}
END_TEST

START_TEST(source_syntax)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "Bob@Example.com", "bob@example.com" },
		{ "*@example.com", "*@example.com" },
		{ "example.com", "*@example.com" },
		{ "bob@*", "bob@*" },
	};
	static const char *const bad[] = { "*@*", "bob@", "@x", "bo b@x", "a@b_c", "", "x@y@z" };
	char out[RRT_ADDR_MAX + 4], err[200];
	for (size_t i = 0; i < NELEM(ok); i++) {
		ck_assert_int_eq(rrt_source_parse(ok[i].in, strlen(ok[i].in), out, sizeof(out), err,
				     sizeof(err)),
		    0);
		ck_assert_str_eq(out, ok[i].out);
	}
	for (size_t i = 0; i < NELEM(bad); i++)
		ck_assert_msg(rrt_source_parse(bad[i], strlen(bad[i]), out, sizeof(out), err,
				  sizeof(err)) == -1,
		    "%s accepted", bad[i]);
}
END_TEST

struct pairs {
	char buf[512];
	int bad;
};

static int
pair_cb(void *arg, const char *s, const char *t)
{
	struct pairs *p = arg;
	size_t l = strlen(p->buf);
	snprintf(p->buf + l, sizeof(p->buf) - l, "[%s|%s]", s, t);
	return 0;
}

static void
bad_cb(void *arg, const char *item)
{
	(void)item;
	((struct pairs *)arg)->bad++;
}

START_TEST(xml_list)
{
	struct pairs p = { "", 0 };
	const char *s = " some@domain=some , a@x=b@y;c@z,,noequals, =x, y= ";
	ck_assert_int_eq(rrt_list_parse(s, strlen(s), pair_cb, bad_cb, &p), 0);
	ck_assert_str_eq(p.buf, "[some@domain|some][a@x|b@y][a@x|c@z]");
	ck_assert_int_eq(p.bad, 3);
}
END_TEST

/* --- resolution ------------------------------------------------------------- */

START_TEST(every_type)
{
	struct rrt *t = open_table(true, 10, NULL, 0);
	static const char *const m[] = {
		"plain@example.com", "bob@example.com",
		"al@example.com", "alias:bob@example.com",
		"fw@example.com", "forward:x@remote.org",
		"team@example.com", "group:bob@example.com",
		"team@example.com", "group:carol",
		"*@old.test", "domain:example.com",
		"*@alias.test", "domainAlias:example.com",
		"*@rx.test", "regex:([a-z]+)\\.([a-z]+)@rx.test:${2}@example.com",
		"gone@example.com", "error:Gone away",
	};
	add_all(t, m, NELEM(m));
	expect(t, "plain@example.com", RRT_MAPPED, "bob@example.com");
	expect(t, "al@example.com", RRT_MAPPED, "bob@example.com");
	expect(t, "fw@example.com", RRT_MAPPED, "x@remote.org");
	expect(t, "team@example.com", RRT_MAPPED, "bob@example.com,carol@example.com");
	expect(t, "anyone@old.test", RRT_MAPPED, "anyone@example.com");
	expect(t, "anyone@alias.test", RRT_MAPPED, "anyone@example.com");
	expect(t, "john.smith@rx.test", RRT_MAPPED, "smith@example.com");
	expect(t, "nodot@rx.test", RRT_UNMAPPED, "");
	expect(t, "gone@example.com", RRT_MAPPED, "E:Gone away");
	expect(t, "nobody@example.com", RRT_UNMAPPED, "");
	/* Case: any case in, lower case out. */
	expect(t, "AL@Example.COM", RRT_MAPPED, "bob@example.com");
	expect(t, "John.Smith@RX.test", RRT_MAPPED, "smith@example.com");
	/* Sub-addressing. */
	expect(t, "al+list@example.com", RRT_MAPPED, "bob@example.com");
	/* Not addresses. */
	expect(t, "nodomain", RRT_BAD_ADDRESS, "");
	rrt_free(t);
}
END_TEST

START_TEST(lookup_order)
{
	/* Not recursive, to see the first step alone. */
	struct rrt *t = open_table(false, 1, NULL, 0);
	static const char *const m[] = {
		"bob@example.com", "user-level@example.org",
		"*@example.com", "domain:example.net",
		"bob@*", "any-domain@example.org",
		"carol@*", "carol-any@example.org",
	};
	add_all(t, m, NELEM(m));
	/* user@domain wins over the domain and over user@*. */
	expect(t, "bob@example.com", RRT_MAPPED, "user-level@example.org");
	/* No user mapping: the domain's. */
	expect(t, "dave@example.com", RRT_MAPPED, "dave@example.net");
	/* The domain's before user@*. */
	expect(t, "carol@example.com", RRT_MAPPED, "carol@example.net");
	/* Only user@* applies. */
	expect(t, "carol@elsewhere.test", RRT_MAPPED, "carol-any@example.org");
	expect(t, "bob@elsewhere.test", RRT_MAPPED, "any-domain@example.org");
	size_t n = rrt_lookup(t, "bob@example.com", 15, NULL, NULL);
	ck_assert_uint_eq(n, 1);
	rrt_free(t);
	/* Recursive: carol@example.net then finds carol@*. */
	t = open_table(true, 10, NULL, 0);
	expect(t, "carol@example.com", RRT_MAPPED, "carol-any@example.org");
	rrt_free(t);
}
END_TEST

START_TEST(recursion_and_limit)
{
	static const char *const m[] = {
		"a@x.test", "b@x.test",
		"b@x.test", "c@x.test",
		"c@x.test", "d@x.test",
	};
	struct rrt *t = open_table(true, 10, NULL, 0);
	add_all(t, m, NELEM(m));
	expect(t, "a@x.test", RRT_MAPPED, "d@x.test");
	rrt_free(t);
	/* Three rewrites in the chain: a limit of 3 allows it, 2 does not. */
	t = open_table(true, 3, NULL, 0);
	expect(t, "a@x.test", RRT_MAPPED, "d@x.test");
	rrt_free(t);
	t = open_table(true, 2, NULL, 0);
	enum rrt_status st;
	char *got = resolve_text(t, "a@x.test", &st);
	ck_assert_int_eq(st, RRT_TOO_MANY);
	free(got);
	rrt_free(t);
	/* recursiveMapping=false: one step only. */
	t = open_table(false, 1, NULL, 0);
	expect(t, "a@x.test", RRT_MAPPED, "b@x.test");
	rrt_free(t);
}
END_TEST

START_TEST(loops)
{
	static const char *const m[] = {
		"a@x.test", "b@x.test",
		"b@x.test", "a@x.test",
		"self@x.test", "self@x.test",
		"keep@x.test", "forward:keep@x.test",
		"keep@x.test", "forward:other@remote.org",
		"*@loop.test", "domain:loop2.test",
		"*@loop2.test", "domain:loop.test",
		"g1@x.test", "group:g2@x.test",
		"g2@x.test", "group:g1@x.test",
	};
	struct rrt *t = open_table(true, 10, NULL, 0);
	add_all(t, m, NELEM(m));
	struct rrt_result r;
	ck_assert_int_eq(rrt_resolve(t, "a@x.test", 8, &r), RRT_LOOP);
	ck_assert_str_eq(r.loop_at, "a@x.test");
	rrt_result_clear(&r);
	ck_assert_int_eq(rrt_resolve(t, "u@loop.test", 11, &r), RRT_LOOP);
	rrt_result_clear(&r);
	ck_assert_int_eq(rrt_resolve(t, "g1@x.test", 9, &r), RRT_LOOP);
	rrt_result_clear(&r);
	/* Mapped to itself: the address itself, not a loop. */
	expect(t, "self@x.test", RRT_MAPPED, "self@x.test");
	/* forward: to itself keeps a local copy. */
	expect(t, "keep@x.test", RRT_MAPPED, "keep@x.test,other@remote.org");
	rrt_free(t);
}
END_TEST

/* A wide group fan-out is bounded, not followed to exhaustion. */
START_TEST(bounded_work)
{
	struct rrt *t = open_table(true, 10, NULL, 0);
	struct rrt_tx *tx = rrt_tx_begin(t);
	char err[200];
	/* level i has 20 members, each a group of level i+1: 20^5 paths. */
	for (int lvl = 0; lvl < 5; lvl++) {
		for (int k = 0; k < 20; k++) {
			char src[64], tgt[64];
			snprintf(src, sizeof(src), "l%d@x.test", lvl);
			snprintf(tgt, sizeof(tgt), "group:l%d@x.test", lvl + 1);
			if (k > 0)
				snprintf(tgt, sizeof(tgt), "group:l%d-%d@x.test", lvl + 1, k);
			ck_assert_int_eq(rrt_tx_add(tx, src, tgt, err, sizeof(err)), RRT_OK);
			snprintf(src, sizeof(src), "l%d-%d@x.test", lvl + 1, k);
			snprintf(tgt, sizeof(tgt), "group:l%d@x.test", lvl + 2);
			if (k > 0)
				ck_assert_int_eq(rrt_tx_add(tx, src, tgt, err, sizeof(err)), RRT_OK);
		}
	}
	ck_assert_int_eq(rrt_tx_commit(tx), 0);
	struct rrt_result r;
	enum rrt_status st = rrt_resolve(t, "l0@x.test", 9, &r);
	ck_assert_msg(st == RRT_MAPPED || st == RRT_TOO_MANY, "%s", rrt_status_text(st));
	ck_assert_uint_le(r.naddrs, RRT_MAX_TARGETS);
	rrt_result_clear(&r);
	rrt_free(t);
}
END_TEST

/* --- store ------------------------------------------------------------------ */

struct listed {
	char buf[1024];
};

static void
list_cb(void *arg, const struct rrt_entry_view *e)
{
	struct listed *l = arg;
	size_t n = strlen(l->buf);
	snprintf(l->buf + n, sizeof(l->buf) - n, "%s %s%s\n", e->source, e->target,
	    e->is_static ? " S" : "");
}

START_TEST(store_round_trip)
{
	static const struct rrt_static st[] = { { "some@domain", "some" } };
	struct rrt *t = open_table(true, 10, st, 1);
	struct rrt_tx *tx = rrt_tx_begin(t);
	char err[200];
	ck_assert_int_eq(rrt_tx_add(tx, "Gone@Example.com", "error:Left the company, sorry", err,
			     sizeof(err)),
	    RRT_OK);
	ck_assert_int_eq(rrt_tx_add(tx, "gone@example.com", "error:Left the company, sorry", err,
			     sizeof(err)),
	    RRT_EXISTS);
	ck_assert_int_eq(rrt_tx_add(tx, "a@example.com", "alias:bob", err, sizeof(err)), RRT_OK);
	ck_assert_int_eq(rrt_tx_add(tx, "a@example.com", "nope:bob", err, sizeof(err)), RRT_BAD);
	ck_assert_ptr_nonnull(strstr(err, "unknown mapping type"));
	ck_assert_int_eq(rrt_tx_add(tx, "some@domain", "some", err, sizeof(err)), RRT_EXISTS);
	ck_assert_int_eq(rrt_tx_commit(tx), 0);

	struct listed l = { "" };
	ck_assert_int_eq(rrt_list(t, NULL, list_cb, &l), 3);
	ck_assert_str_eq(l.buf, "a@example.com alias:bob\n"
	                        "gone@example.com error:Left the company, sorry\n"
	                        "some@domain some S\n");
	/* The file: header, escaped fields. */
	char *path = xasprintf("%s/users/rrt.db", datadir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char text[512];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	ck_assert_str_eq(text, "# mailetd rrt 1\n"
	                       "a@example.com alias:bob\n"
	                       "gone@example.com error:Left%20the%20company,%20sorry\n");
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	free(path);
	expect(t, "some@domain", RRT_MAPPED, "some@domain");
	expect(t, "gone@example.com", RRT_MAPPED, "E:Left the company, sorry");

	tx = rrt_tx_begin(t);
	ck_assert_int_eq(rrt_tx_del(tx, "some@domain", "some", err, sizeof(err)), RRT_STATIC);
	ck_assert_int_eq(rrt_tx_del(tx, "a@example.com", "alias:nobody", err, sizeof(err)),
	    RRT_NOT_FOUND);
	ck_assert_int_eq(rrt_tx_del(tx, "A@example.com", "ALIAS:Bob", err, sizeof(err)), RRT_OK);
	ck_assert_int_eq(rrt_tx_commit(tx), 0);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(rrt_list(t, "a@example.com", list_cb, &l), 0);
	rrt_free(t);
}
END_TEST

START_TEST(malformed_store)
{
	static const struct {
		const char *text;
		long n;
	} cases[] = {
		{ "# mailetd rrt 1\n", 0 },
		{ "# mailetd rrt 1\na@x.test b@x.test\n\n", 1 },
		{ "a@x.test alias:b\nc@x.test error:x%20y", 2 },
		{ "a@x.test\n", -1 },
		{ "a@x.test b@x.test extra\n", -1 },
		{ "a@x.test foo:bar\n", -1 },
		{ "a@@x.test b@x.test\n", -1 },
		{ "a@x.test error:%00\n", -1 },
		{ "a@x.test error:%4\n", -1 },
		{ " b@x.test\n", -1 },
	};
	for (size_t i = 0; i < NELEM(cases); i++)
		ck_assert_msg(rrt_store_parse_text(cases[i].text, strlen(cases[i].text)) ==
		        cases[i].n,
		    "case %zu", i);
	/* A malformed file on disk: the daemon keeps what it had. */
	struct rrt *t = open_table(true, 10, NULL, 0);
	static const char *const m[] = { "a@x.test", "b@x.test" };
	add_all(t, m, 2);
	expect(t, "a@x.test", RRT_MAPPED, "b@x.test");
	char *path = xasprintf("%s/users/rrt.db", datadir);
	sleep(1);
	FILE *f = fopen(path, "w");
	fputs("garbage\n", f);
	fclose(f);
	usleep(1100000);
	expect(t, "a@x.test", RRT_MAPPED, "b@x.test");
	/* The tool refuses to change it. */
	ck_assert_ptr_null(rrt_tx_begin(t));
	free(path);
	rrt_free(t);
}
END_TEST

START_TEST(reload_on_change)
{
	struct rrt *daemon = open_table(true, 10, NULL, 0);
	struct rrt *ctl = open_table(true, 10, NULL, 0);
	expect(daemon, "new@x.test", RRT_UNMAPPED, "");
	static const char *const m[] = { "new@x.test", "bob@x.test" };
	add_all(ctl, m, 2);
	usleep(1100000);
	expect(daemon, "new@x.test", RRT_MAPPED, "bob@x.test");
	struct rrt_tx *tx = rrt_tx_begin(ctl);
	char err[200];
	ck_assert_int_eq(rrt_tx_del(tx, "new@x.test", "bob@x.test", err, sizeof(err)), RRT_OK);
	ck_assert_int_eq(rrt_tx_commit(tx), 0);
	usleep(1100000);
	expect(daemon, "new@x.test", RRT_UNMAPPED, "");
	rrt_free(daemon);
	rrt_free(ctl);
}
END_TEST

/* CanSendFrom: aliases and domain aliases, never groups or forwards. */
START_TEST(alias_of_user)
{
	static char *const doms[] = { "example.com", "alias.test" };
	struct users_opts uo = { .virtual_hosting = false, .iterations = 1000, .domains = doms,
		.ndomains = 2 };
	struct users *u = users_open(datadir, &uo);
	struct users_tx *utx = users_tx_begin(u);
	char *h = password_hash("pw", 2, 1000);
	ck_assert_int_eq(users_tx_put(utx, "bob", h, USERS_PUT_NEW), USERS_OK);
	ck_assert_int_eq(users_tx_put(utx, "alice", h, USERS_PUT_NEW), USERS_OK);
	password_free(h);
	ck_assert_int_eq(users_tx_commit(utx), 0);
	struct rrt *t = open_table(true, 10, NULL, 0);
	static const char *const m[] = {
		"bob.smith@example.com", "alias:bob",
		"boss@example.com", "alias:bob.smith@example.com",
		"team@example.com", "group:bob",
		"fw@example.com", "forward:bob",
		"*@other.test", "domainAlias:example.com",
	};
	add_all(t, m, NELEM(m));
	ck_assert(rrt_is_alias_of(t, u, "bob.smith@example.com", 21, "bob"));
	ck_assert(rrt_is_alias_of(t, u, "BOSS@example.com", 16, "bob"));
	ck_assert(!rrt_is_alias_of(t, u, "bob.smith@example.com", 21, "alice"));
	ck_assert(!rrt_is_alias_of(t, u, "team@example.com", 16, "bob"));
	ck_assert(!rrt_is_alias_of(t, u, "fw@example.com", 14, "bob"));
	ck_assert(rrt_is_alias_of(t, u, "bob@other.test", 14, "bob"));
	ck_assert(!rrt_is_alias_of(t, u, "alice@other.test", 16, "bob"));
	/* The address itself is not "an alias" (the caller checks ownership). */
	ck_assert(!rrt_is_alias_of(t, u, "nobody@example.com", 18, "bob"));
	rrt_free(t);
	users_free(u);

	/* Virtual hosting: user names are addresses; a domain alias maps
	 * bob@alias.test to the user bob@example.com only. */
	char *vdir = xasprintf("%s/vhost", datadir);
	uo.virtual_hosting = true;
	u = users_open(vdir, &uo);
	utx = users_tx_begin(u);
	h = password_hash("pw", 2, 1000);
	ck_assert_int_eq(users_tx_put(utx, "bob@example.com", h, USERS_PUT_NEW), USERS_OK);
	ck_assert_int_eq(users_tx_put(utx, "bob@alias.test", h, USERS_PUT_NEW), USERS_OK);
	password_free(h);
	ck_assert_int_eq(users_tx_commit(utx), 0);
	struct rrt_opts ro = { .recursive = true, .limit = 10 };
	t = rrt_open(vdir, &ro);
	static const char *const vm[] = { "*@other.test", "domainAlias:example.com",
		"b@example.com", "alias:bob@example.com" };
	add_all(t, vm, NELEM(vm));
	ck_assert(rrt_is_alias_of(t, u, "bob@other.test", 14, "bob@example.com"));
	ck_assert(rrt_is_alias_of(t, u, "b@example.com", 13, "bob@example.com"));
	ck_assert(!rrt_is_alias_of(t, u, "bob@other.test", 14, "bob@alias.test"));
	ck_assert(!rrt_is_alias_of(t, u, "b@example.com", 13, "bob@alias.test"));
	/* Not recursive: one step is still an alias. */
	rrt_free(t);
	ro.recursive = false;
	t = rrt_open(vdir, &ro);
	ck_assert(rrt_is_alias_of(t, u, "bob@other.test", 14, "bob@example.com"));
	rrt_free(t);
	users_free(u);
	free(vdir);
}
END_TEST

/* --- recipientrewritetable.xml ---------------------------------------------------------- */

static char *
load_conf(const char *xml, struct config **out)
{
	char *dir = xasprintf("%s/conf", datadir);
	mkdir(dir, 0700);
	char *path = xasprintf("%s/recipientrewritetable.xml", dir);
	FILE *f = fopen(path, "w");
	fputs(xml, f);
	fclose(f);
	struct cfg_diag d;
	cfg_diag_init(&d);
	struct config_opts o = { .data_dir = datadir };
	*out = config_load(dir, &o, &d);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	cfg_diag_print(&d, m, "t");
	fclose(m);
	cfg_diag_clear(&d);
	free(path);
	free(dir);
	return buf;
}

START_TEST(xml_config)
{
	struct config *cfg;
	char *diag = load_conf("<recipientrewritetable class=\"x\">\n"
	                       "  <recursiveMapping>true</recursiveMapping>\n"
	                       "  <mappingLimit>3</mappingLimit>\n"
	                       "  <mapping>Info@Example.com=bob@example.com;"
	                       "carol@example.com, old.test=domain:example.com</mapping>\n"
	                       "  <mapping>some@domain=some</mapping>\n"
	                       "</recipientrewritetable>\n",
	    &cfg);
	ck_assert_msg(cfg != NULL, "%s", diag);
	free(diag);
	ck_assert(cfg->rrt.recursive);
	ck_assert_uint_eq(cfg->rrt.limit, 3);
	ck_assert_uint_eq(cfg->rrt.nmaps, 4);
	expect(cfg->rrt_db, "info@example.com", RRT_MAPPED, "bob@example.com,carol@example.com");
	expect(cfg->rrt_db, "x@old.test", RRT_MAPPED, "x@example.com");
	config_free(cfg);

	static const struct {
		const char *xml, *want;
	} bad[] = {
		{ "<r>\n<mappingLimit>0</mappingLimit>\n</r>\n",
		    "recipientrewritetable.xml:2: <mappingLimit>: 0 is out of range" },
		{ "<r>\n<mappingLimit>ten</mappingLimit>\n</r>\n",
		    "recipientrewritetable.xml:2: <mappingLimit>: \"ten\" is not a number" },
		{ "<r>\n<recursiveMapping>maybe</recursiveMapping>\n</r>\n",
		    "recipientrewritetable.xml:2: <recursiveMapping>" },
		{ "<r>\n\n<mapping>a@x.test=foo:bar</mapping>\n</r>\n",
		    "recipientrewritetable.xml:3: <mapping>: target \"foo:bar\": unknown mapping "
		    "type" },
		{ "<r>\n<mapping>justtext</mapping>\n</r>\n",
		    "recipientrewritetable.xml:2: <mapping>: \"justtext\" is not source=target" },
		{ "<r>\n<mapping>bad source@x=y@z</mapping>\n</r>\n",
		    "recipientrewritetable.xml:2: <mapping>: source" },
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		diag = load_conf(bad[i].xml, &cfg);
		ck_assert_msg(cfg == NULL && strstr(diag, bad[i].want) != NULL, "case %zu: %s", i,
		    diag);
		free(diag);
	}

	/* Not recursive: any limit is accepted and unused. */
	diag = load_conf("<r><recursiveMapping>false</recursiveMapping>"
	                 "<mappingLimit>0</mappingLimit></r>",
	    &cfg);
	ck_assert_msg(cfg != NULL, "%s", diag);
	ck_assert(!cfg->rrt.recursive);
	free(diag);
	config_free(cfg);
}
END_TEST

int
main(void)
{
	log_init("test_rrt", LOG_LVL_ERROR, false);
	Suite *s = suite_create("rrt");
	TCase *tc = tcase_create("rrt");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, target_syntax);
	tcase_add_test(tc, source_syntax);
	tcase_add_test(tc, xml_list);
	tcase_add_test(tc, every_type);
	tcase_add_test(tc, lookup_order);
	tcase_add_test(tc, recursion_and_limit);
	tcase_add_test(tc, loops);
	tcase_add_test(tc, bounded_work);
	tcase_add_test(tc, store_round_trip);
	tcase_add_test(tc, malformed_store);
	tcase_add_test(tc, reload_on_change);
	tcase_add_test(tc, alias_of_user);
	tcase_add_test(tc, xml_config);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

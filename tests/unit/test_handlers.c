/* test_handlers.c - decisions of the core handlers and the chain runner. */
#include "../../handlers/chain.h"
#include "../../handlers/core/core_handlers.h"
#include "../../src/config/config.h"
#include "../../src/protocol/smtp_parse.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static char dom1[] = "mailetd.test", dom2[] = "local.test";
static char *doms[] = { dom1, dom2 };
static struct config cfg;
static struct cfg_server srv;
static struct hook_session hs;

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(&srv, 0, sizeof(srv));
	memset(&hs, 0, sizeof(hs));
	cfg.domains.names = doms;
	cfg.domains.n = 2;
	cfg.domains.default_domain = dom1;
	hs.cfg = &cfg;
	hs.server = &srv;
	hs.id = "test";
}

static struct smtp_path
path(const char *arg)
{
	struct smtp_path p;
	const char *params;
	size_t plen;
	ck_assert_int_eq(smtp_parse_path_arg(arg, strlen(arg), true, true, &p, &params, &plen),
	    SMTP_PATH_OK);
	return p;
}

static const struct {
	const char *rcpt;
	bool relaying;
	enum hook_verdict want;
	int code;
} rcpt_cases[] = {
	{ "TO:<bob@mailetd.test>", false, HOOK_DECLINED, 0 },
	{ "TO:<bob@LOCAL.TEST>", false, HOOK_DECLINED, 0 },
	{ "TO:<bob@elsewhere.example>", false, HOOK_DENY, 550 },
	{ "TO:<bob@elsewhere.example>", true, HOOK_DECLINED, 0 },
	{ "TO:<bob%elsewhere.example@mailetd.test>", false, HOOK_DENY, 550 },
	{ "TO:<elsewhere.example!bob@mailetd.test>", false, HOOK_DENY, 550 },
	{ "TO:<\"bob@elsewhere.example\"@mailetd.test>", false, HOOK_DENY, 550 },
	{ "TO:<@mailetd.test:bob@elsewhere.example>", false, HOOK_DENY, 550 },
	{ "TO:<bob@[127.0.0.1]>", false, HOOK_DENY, 550 },
	{ "TO:<bob@mailetd.test.evil.example>", false, HOOK_DENY, 550 },
	{ "TO:<postmaster@mailetd.test>", false, HOOK_OK, 0 },
	{ "TO:<Abuse@mailetd.test>", false, HOOK_OK, 0 },
	/* postmaster never opens a relay: the relay hook runs first */
	{ "TO:<postmaster@elsewhere.example>", false, HOOK_DENY, 550 },
	{ "TO:<postmaster@elsewhere.example>", true, HOOK_OK, 0 },
};

START_TEST(rcpt_decisions)
{
	struct smtp_path p = path(rcpt_cases[_i].rcpt);
	hs.relaying_allowed = rcpt_cases[_i].relaying;
	struct hook_result r = chain_run(chain_core(), CHAIN_RCPT, &hs, &p);
	ck_assert_msg(r.verdict == rcpt_cases[_i].want, "%s: verdict %d", rcpt_cases[_i].rcpt,
	    r.verdict);
	if (rcpt_cases[_i].code)
		ck_assert_int_eq(r.code, rcpt_cases[_i].code);
	if (r.verdict == HOOK_DENY) {
		ck_assert_str_eq(r.ecode, "5.7.1");
		ck_assert_str_eq(r.text, "Requested action not taken: relaying denied");
	}
}
END_TEST

START_TEST(auth_required_blocks_mail_without_relay_rights)
{
	struct smtp_path p;
	const char *params;
	size_t plen;
	ck_assert_int_eq(smtp_parse_path_arg("FROM:<a@example.org>", 20, false, true, &p, &params,
			     &plen),
	    SMTP_PATH_OK);
	struct hook_result r = chain_run(chain_core(), CHAIN_MAIL, &hs, &p);
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
	srv.auth_required = true;
	r = chain_run(chain_core(), CHAIN_MAIL, &hs, &p);
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(r.code, 530);
	hs.relaying_allowed = true;
	r = chain_run(chain_core(), CHAIN_MAIL, &hs, &p);
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
}
END_TEST

static struct hook_result
deny_plain(const struct hook_session *s, const char *arg)
{
	(void)s;
	(void)arg;
	return (struct hook_result){ .verdict = HOOK_DENYSOFT };
}

static struct hook_result
ok_helo(const struct hook_session *s, const char *arg)
{
	(void)s;
	(void)arg;
	return (struct hook_result){ .verdict = HOOK_OK };
}

START_TEST(runner_first_non_declined_wins_and_defaults_fill)
{
	static const struct handler_def none = { .name = "none" };
	static const struct handler_def soft = { .name = "soft", .helo = deny_plain };
	static const struct handler_def ok = { .name = "ok", .helo = ok_helo };
	const struct handler_def *v1[] = { &none, &soft, &ok };
	struct chain c1 = { v1, 3 };
	struct hook_result r = chain_run(&c1, CHAIN_HELO, &hs, "x");
	ck_assert_int_eq(r.verdict, HOOK_DENYSOFT);
	ck_assert_int_eq(r.code, 451);
	ck_assert_str_eq(r.text, "Temporary problem. Please try again later");
	const struct handler_def *v2[] = { &ok, &soft };
	struct chain c2 = { v2, 2 };
	r = chain_run(&c2, CHAIN_HELO, &hs, "x");
	ck_assert_int_eq(r.verdict, HOOK_OK);
	struct chain c3 = { v1, 1 };
	r = chain_run(&c3, CHAIN_HELO, &hs, "x");
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("handlers");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, rcpt_decisions, 0, sizeof(rcpt_cases) / sizeof(rcpt_cases[0]));
	tcase_add_test(tc, auth_required_blocks_mail_without_relay_rights);
	tcase_add_test(tc, runner_first_non_declined_wins_and_defaults_fill);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

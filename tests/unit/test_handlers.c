/* test_handlers.c - the chain runner, the core handlers and the fastfail handlers. */
#include "../../handlers/chain.h"
#include "../../handlers/core/core_handlers.h"
#include "../../handlers/fastfail/fastfail.h"
#include "../../src/auth/password.h"
#include "../../src/auth/users.h"
#include "../../src/config/cfg_chain.h"
#include "../../src/config/config.h"
#include "../../src/core/xmalloc.h"
#include "../../src/protocol/smtp_parse.h"
#include "../../src/core/worker.h"
#include "../../src/spool/spool.h"
#include "chain_fixture.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dom1[] = "mailetd.test", dom2[] = "local.test";
static char *doms[] = { dom1, dom2 };
static struct config cfg;
static struct cfg_server srv;
static struct hook_session hs;
static char datadir[256];

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
	hs.client_text = "192.0.2.7";
	ck_assert_int_eq(netaddr_parse("192.0.2.7", &hs.client), 0);
}

/* A users repository with bob and carol (no virtual hosting). */
static void
setup_users(void)
{
	setup();
	snprintf(datadir, sizeof(datadir), "/tmp/mailetd-test-handlers-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(datadir));
	struct users_opts o = { .iterations = 1000, .domains = doms, .ndomains = 2 };
	cfg.users_db = users_open(datadir, &o);
	ck_assert_ptr_nonnull(cfg.users_db);
	struct users_tx *tx = users_tx_begin(cfg.users_db);
	ck_assert_ptr_nonnull(tx);
	const char *names[] = { "bob", "carol" };
	for (size_t i = 0; i < 2; i++) {
		char *h = password_hash("pw", 2, 1000);
		ck_assert_int_eq(users_tx_put(tx, names[i], h, USERS_PUT_NEW), USERS_OK);
		password_free(h);
	}
	ck_assert_int_eq(users_tx_commit(tx), 0);
}

static void
teardown_users(void)
{
	users_free(cfg.users_db);
	cfg.users_db = NULL;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", datadir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct smtp_path
path(const char *arg)
{
	struct smtp_path p;
	const char *params;
	size_t plen;
	bool rcpt = strncmp(arg, "TO:", 3) == 0;
	ck_assert_int_eq(smtp_parse_path_arg(arg, strlen(arg), rcpt, true, &p, &params, &plen),
	    SMTP_PATH_OK);
	return p;
}


static struct chain *
chain_ok(const char *xml)
{
	size_t errors;
	struct chain *c = chain_from(xml, &errors);
	ck_assert_uint_eq(errors, 0);
	chain_session_begin(c, &hs);
	return c;
}

static void
chain_done(struct chain *c)
{
	chain_session_end(c, &hs);
	chain_free(c);
}

/* ---------------------------------------------------------------------- */
/* core handlers                                                          */

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
	struct smtp_path p = path("FROM:<a@example.org>");
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

/* verifyIdentity at MAIL (and RCPT, which re-checks the sender). */
static const struct {
	enum cfg_verify mode;
	const char *auth_user;   /* NULL: not authenticated */
	bool relaying;
	const char *helo;
	const char *sender;
	int code;                /* 0: declined */
} verify_cases[] = {
	{ CFG_VERIFY_STRICT, "bob", true, "x", "FROM:<bob@mailetd.test>", 0 },
	{ CFG_VERIFY_STRICT, "bob", true, "x", "FROM:<BOB@local.test>", 0 },
	{ CFG_VERIFY_STRICT, "bob", true, "x", "FROM:<bob+tag@mailetd.test>", 0 },
	{ CFG_VERIFY_STRICT, "bob", true, "x", "FROM:<carol@mailetd.test>", 503 },
	{ CFG_VERIFY_STRICT, "bob", true, "x", "FROM:<nobody@mailetd.test>", 503 },
	{ CFG_VERIFY_STRICT, "bob", true, "x", "FROM:<bob@elsewhere.example>", 503 },
	{ CFG_VERIFY_STRICT, "bob", true, "x", "FROM:<>", 0 },
	{ CFG_VERIFY_STRICT, NULL, false, "x", "FROM:<bob@mailetd.test>", 530 },
	{ CFG_VERIFY_STRICT, NULL, false, "mx.example.org", "FROM:<bob@mailetd.test>", 530 },
	{ CFG_VERIFY_STRICT, NULL, true, "x", "FROM:<bob@mailetd.test>", 0 },
	{ CFG_VERIFY_STRICT, NULL, false, "x", "FROM:<a@elsewhere.example>", 0 },
	{ CFG_VERIFY_STRICT, NULL, false, "x", "FROM:<>", 0 },
	{ CFG_VERIFY_RELAXED, NULL, false, "mx.example.org", "FROM:<bob@mailetd.test>", 0 },
	{ CFG_VERIFY_RELAXED, NULL, false, "appleclient", "FROM:<bob@mailetd.test>", 530 },
	{ CFG_VERIFY_RELAXED, NULL, false, "127.0.0.1", "FROM:<bob@mailetd.test>", 530 },
	{ CFG_VERIFY_RELAXED, "bob", true, "mx.example.org", "FROM:<carol@mailetd.test>", 503 },
	{ CFG_VERIFY_DISABLED, "bob", true, "x", "FROM:<carol@mailetd.test>", 0 },
	{ CFG_VERIFY_DISABLED, NULL, false, "x", "FROM:<bob@mailetd.test>", 0 },
};

START_TEST(verify_identity_sender)
{
	srv.verify_identity = verify_cases[_i].mode;
	hs.authenticated = verify_cases[_i].auth_user != NULL;
	hs.auth_user = verify_cases[_i].auth_user;
	hs.relaying_allowed = verify_cases[_i].relaying;
	hs.helo = verify_cases[_i].helo;
	struct smtp_path p = path(verify_cases[_i].sender);
	if (p.at == p.len && !p.null) {
		ck_abort_msg("test sender needs a domain");
	}
	struct hook_result r = chain_run(chain_core(), CHAIN_MAIL, &hs, &p);
	int code = r.verdict == HOOK_DECLINED ? 0 : r.code;
	ck_assert_msg(code == verify_cases[_i].code, "case %d (%s): got %d", _i,
	    verify_cases[_i].sender, code);
	if (code == 503)
		ck_assert_str_eq(r.text, "Incorrect Authentication for Specified Email Address");
	if (code == 530)
		ck_assert_str_eq(r.text, "Authentication Required");
	/* RCPT re-checks the sender (James runs the hook at both). */
	hs.sender = &p;
	struct smtp_path rc = path("TO:<carol@mailetd.test>");
	r = chain_run(chain_core(), CHAIN_RCPT, &hs, &rc);
	int rcode = r.verdict == HOOK_DECLINED || r.verdict == HOOK_OK ? 0 : r.code;
	ck_assert_int_eq(rcode, code);
}
END_TEST

static const struct {
	const char *headers;
	int code;                /* 0: declined */
	const char *ecode;
} from_cases[] = {
	{ "From: bob@mailetd.test\r\nSubject: x\r\n", 0, NULL },
	{ "Subject: x\r\nFROM: Bob Smith <bob@mailetd.test>\r\n", 0, NULL },
	{ "From: \"Smith, Bob\" <bob@local.test> (home)\r\n", 0, NULL },
	{ "From: bob@mailetd.test (Bob)\r\n", 0, NULL },
	{ "From: Bob\r\n <bob@mailetd.test>\r\n", 0, NULL },
	{ "From: team: bob@mailetd.test, Bob <bob+x@mailetd.test>;\r\n", 0, NULL },
	{ "Subject: x\r\n", 503, "5.5.4" },
	{ "From: carol@mailetd.test\r\n", 503, "5.7.1" },
	{ "From: Bob <bob@mailetd.test>, carol@mailetd.test\r\n", 503, "5.7.1" },
	{ "From: team: bob@mailetd.test, carol@mailetd.test;\r\n", 503, "5.7.1" },
	{ "From: undisclosed-recipients:;\r\n", 503, "5.7.1" },
	{ "From: not an address\r\n", 503, "5.7.1" },
	{ "From: <bob@mailetd.test\r\n", 503, "5.7.1" },
	{ "From: bob@mailetd.test\r\nFrom: carol@mailetd.test\r\n", 503, "5.7.1" },
	{ "From: \"bob@mailetd.test\" <carol@mailetd.test>\r\n", 503, "5.7.1" },
};

START_TEST(verify_identity_from_header)
{
	srv.verify_identity = CFG_VERIFY_STRICT;
	hs.authenticated = true;
	hs.auth_user = "bob";
	hs.relaying_allowed = true;
	hs.headers = from_cases[_i].headers;
	hs.headers_len = strlen(hs.headers);
	unsigned long long sz = 100;
	struct hook_result r = chain_run(chain_core(), CHAIN_MESSAGE, &hs, &sz);
	int code = r.verdict == HOOK_DECLINED ? 0 : r.code;
	ck_assert_msg(code == from_cases[_i].code, "case %d: %s: got %d", _i,
	    from_cases[_i].headers, code);
	if (code != 0)
		ck_assert_str_eq(r.ecode, from_cases[_i].ecode);
	/* Unauthenticated clients and the disabled mode are not checked. */
	hs.authenticated = false;
	hs.auth_user = NULL;
	r = chain_run(chain_core(), CHAIN_MESSAGE, &hs, &sz);
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
	hs.authenticated = true;
	hs.auth_user = "bob";
	srv.verify_identity = CFG_VERIFY_DISABLED;
	r = chain_run(chain_core(), CHAIN_MESSAGE, &hs, &sz);
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
}
END_TEST

START_TEST(header_lookup_unfolds)
{
	hs.headers = "Subject: one\r\n two\r\nX-A: 1\r\nx-a:2\r\n";
	hs.headers_len = strlen(hs.headers);
	char buf[64];
	ck_assert_int_eq(hook_header(&hs, "subject", 0, buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, " one two");
	ck_assert_int_eq(hook_header(&hs, "X-A", 1, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "2");
	ck_assert_int_eq(hook_header(&hs, "X-A", 2, buf, sizeof(buf)), -1);
	ck_assert_int_eq(hook_header(&hs, "X", 0, buf, sizeof(buf)), -1);
	ck_assert_int_eq(hook_header(&hs, "Subject", 0, buf, 4), 8);
	ck_assert_str_eq(buf, " on");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* the runner                                                             */

static struct hook_result
deny_soft(const struct hook_session *s, const char *arg)
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

static struct hook_result
deny_helo(const struct hook_session *s, const char *arg)
{
	(void)s;
	(void)arg;
	return (struct hook_result){ .verdict = HOOK_DENY };
}

static struct hook_result
bye_helo(const struct hook_session *s, const char *arg)
{
	(void)s;
	(void)arg;
	return (struct hook_result){ .verdict = HOOK_DISCONNECT };
}

static const struct handler_def h_none = { .name = "none" };
static const struct handler_def h_soft = { .name = "soft", .helo = deny_soft };
static const struct handler_def h_ok = { .name = "ok", .helo = ok_helo };
static const struct handler_def h_deny = { .name = "deny", .helo = deny_helo };
static const struct handler_def h_bye = { .name = "bye", .helo = bye_helo };

static struct hook_result
run_helo(const struct handler_def *const *v, size_t n)
{
	struct chain *c = chain_new();
	for (size_t i = 0; i < n; i++)
		chain_add(c, v[i], NULL, 0);
	struct hook_result r = chain_run(c, CHAIN_HELO, &hs, "x");
	chain_free(c);
	return r;
}

START_TEST(runner_first_non_declined_wins_and_defaults_fill)
{
	const struct handler_def *v1[] = { &h_none, &h_soft, &h_ok };
	struct hook_result r = run_helo(v1, 3);
	ck_assert_int_eq(r.verdict, HOOK_DENYSOFT);
	ck_assert_int_eq(r.code, 451);
	ck_assert_str_eq(r.text, "Temporary problem. Please try again later");
	const struct handler_def *v2[] = { &h_ok, &h_soft, &h_deny };
	ck_assert_int_eq(run_helo(v2, 3).verdict, HOOK_OK);
	ck_assert_int_eq(run_helo(v1, 1).verdict, HOOK_DECLINED);
	const struct handler_def *v3[] = { &h_none, &h_deny, &h_ok };
	r = run_helo(v3, 3);
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(r.code, 554);
	ck_assert_str_eq(r.text, "Email rejected");
	const struct handler_def *v4[] = { &h_bye };
	r = run_helo(v4, 1);
	ck_assert_int_eq(r.verdict, HOOK_DISCONNECT);
	ck_assert_int_eq(r.code, 554);
	ck_assert_str_eq(r.text, "Server disconnected");
}
END_TEST

START_TEST(configured_handlers_run_before_core)
{
	/* A configured OK for postmaster@remote comes before the core relay
	 * hook: as in James, a configured handler shadows the core ones. */
	struct chain *c = chain_new();
	chain_add(c, &handler_postmaster, NULL, 1);
	chain_add_core(c, CHAIN_CORE_SMTP);
	ck_assert_str_eq(c->v[0].def->name, "PostmasterAbuseRcptHook");
	ck_assert_str_eq(c->v[1].def->name, "MailSizeEsmtpExtension");
	ck_assert_str_eq(c->v[2].def->name, "UsersRepositoryAuthHook");
	ck_assert_str_eq(c->v[3].def->name, "AuthRequiredToRelayRcptHook");
	ck_assert(c->v[1].core && !c->v[0].core);
	struct smtp_path p = path("TO:<postmaster@elsewhere.example>");
	ck_assert_int_eq(chain_run(c, CHAIN_RCPT, &hs, &p).verdict, HOOK_OK);
	ck_assert_int_eq(chain_run(chain_core(), CHAIN_RCPT, &hs, &p).verdict, HOOK_DENY);
	chain_free(c);
}
END_TEST

/* Disconnect hooks run at the end, then every state is freed. */
static int disconnects, state_frees;

static void
count_disconnect(const struct hook_session *s)
{
	ck_assert_ptr_nonnull(*s->state);
	disconnects++;
}

static void
count_state_free(void *p)
{
	state_frees++;
	free(p);
}

static struct hook_result
make_state(const struct hook_session *s)
{
	*s->state = xstrdup("state");
	return HOOK_RESULT_DECLINED;
}

static const struct handler_def h_state = { .name = "state", .connect = make_state,
	.disconnect = count_disconnect, .state_free = count_state_free };

START_TEST(session_end_runs_disconnect_and_frees_state)
{
	struct chain *c = chain_new();
	chain_add(c, &h_state, NULL, 1);
	chain_add(c, &h_none, NULL, 2);
	chain_add(c, &h_state, NULL, 3);
	chain_session_begin(c, &hs);
	ck_assert_int_eq(chain_run(c, CHAIN_CONNECT, &hs, NULL).verdict, HOOK_DECLINED);
	ck_assert_ptr_nonnull(hs.slots[0]);
	ck_assert_ptr_null(hs.slots[1]);
	ck_assert_ptr_ne(hs.slots[0], hs.slots[2]); /* one slot per entry */
	ck_assert_ptr_eq(hook_peer_state(&hs, &h_state), hs.slots[0]);
	ck_assert_ptr_null(hook_peer_state(&hs, &h_ok));
	disconnects = state_frees = 0;
	chain_session_end(c, &hs);
	ck_assert_int_eq(disconnects, 2);
	ck_assert_int_eq(state_frees, 2);
	ck_assert_ptr_null(hs.slots);
	chain_free(c);
}
END_TEST

/* A handler that waits: it suspends and is resumed by the test later. */
static struct hook_pending *waiting;
static struct hook_result resumed;
static int resumed_calls;

static struct hook_result
wait_rcpt(const struct hook_session *s, const struct smtp_path *p)
{
	(void)p;
	waiting = hook_suspend(s);
	return (struct hook_result){ .verdict = HOOK_PENDING };
}

static void
test_resume(void *arg, struct hook_result r)
{
	ck_assert_ptr_eq(arg, &hs);
	resumed = r;
	resumed_calls++;
}

static const struct handler_def h_wait = { .name = "wait", .rcpt = wait_rcpt };

START_TEST(pending_resumes_and_chain_continues)
{
	struct chain *c = chain_new();
	chain_add(c, &h_wait, NULL, 1);
	chain_add_core(c, CHAIN_CORE_SMTP);
	hs.resume = test_resume;
	hs.resume_arg = &hs;
	resumed_calls = 0;
	struct smtp_path p = path("TO:<bob@elsewhere.example>");
	size_t at;
	struct hook_result r = chain_run_from(c, CHAIN_RCPT, &hs, &p, 0, &at);
	ck_assert_int_eq(r.verdict, HOOK_PENDING);
	ck_assert_uint_eq(at, 0);
	ck_assert_ptr_nonnull(waiting);
	/* The handler answers DECLINED later: the session goes on from at + 1,
	 * where the relay hook refuses the remote recipient. */
	hook_resume(waiting, HOOK_RESULT_DECLINED);
	ck_assert_int_eq(resumed_calls, 1);
	ck_assert_int_eq(resumed.verdict, HOOK_DECLINED);
	r = chain_run_from(c, CHAIN_RCPT, &hs, &p, at + 1, &at);
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(r.code, 550);
	ck_assert_str_eq(c->v[at].def->name, "AuthRequiredToRelayRcptHook");
	/* A real answer is final. */
	r = chain_run_from(c, CHAIN_RCPT, &hs, &p, 0, &at);
	ck_assert_int_eq(r.verdict, HOOK_PENDING);
	hook_resume(waiting, (struct hook_result){ .verdict = HOOK_DENYSOFT, .code = 451,
				     .ecode = "4.4.3", .text = "try later" });
	ck_assert_int_eq(resumed_calls, 2);
	ck_assert_int_eq(resumed.verdict, HOOK_DENYSOFT);
	ck_assert_str_eq(resumed.text, "try later");
	chain_free(c);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* configuration                                                          */

START_TEST(chain_from_xml_order_skips_and_errors)
{
	size_t errors;
	struct chain *c = chain_from(
	    "<handlerchain>\n"
	    "<handler class=\"org.apache.james.smtpserver.fastfail.ValidRcptHandler\"/>\n"
	    "<handler class=\"org.apache.james.smtpserver.CoreCmdHandlerLoader\"/>\n"
	    "<handler class=\"org.apache.james.crowdsec.CrowdsecEhloHook\"/>\n"
	    "<handler class=\"MaxRcptHandler\"><maxRcpt>3</maxRcpt></handler>\n"
	    "</handlerchain>\n",
	    &errors);
	ck_assert_uint_eq(errors, 0);
	const char *want[] = { "ValidRcptHandler", "MaxRcptHandler", "MailSizeEsmtpExtension",
		"UsersRepositoryAuthHook", "AuthRequiredToRelayRcptHook",
		"SenderAuthIdentifyVerificationHook", "AuthRequiredHook", "PostmasterAbuseRcptHook",
		"ReceivedDataLineFilter", "AddDefaultAttributesMessageHook" };
	ck_assert_uint_eq(c->n, 10);
	for (size_t i = 0; i < 10; i++)
		ck_assert_str_eq(c->v[i].def->name, want[i]);
	ck_assert_uint_eq(c->nskipped, 1);
	ck_assert_str_eq(c->skipped[0].cls, "org.apache.james.crowdsec.CrowdsecEhloHook");
	ck_assert_int_eq(c->skipped[0].line, 4);
	chain_free(c);

	c = chain_from("<handlerchain coreHandlersPackage="
		       "\"org.apache.james.smtpserver.NoAuthCmdHandlerLoader\"/>\n",
	    &errors);
	ck_assert_uint_eq(errors, 0);
	ck_assert_int_eq(c->core_set, CHAIN_CORE_SMTP_NOAUTH);
	ck_assert_uint_eq(c->n, 7);
	chain_free(c);

	const char *bad[] = {
		"<handlerchain><handler class=\"com.example.Nope\"/></handlerchain>",
		"<handlerchain><handler/></handlerchain>",
		"<handlerchain coreHandlersPackage=\"com.example.Loader\"/>",
		"<handlerchain><handler class=\"MaxRcptHandler\"/></handlerchain>",
		"<handlerchain><handler class=\"MaxRcptHandler\"><maxRcpt>x</maxRcpt></handler>"
		"</handlerchain>",
		"<handlerchain><handler class=\"EnforceHeaderLimitationsMessageHook\">"
		"<maxLines>5</maxLines></handler></handlerchain>",
		"<handlerchain><handler class=\"SpamTrapHandler\"/></handlerchain>",
		"<handlerchain><handler class=\"MaxConnectionLifespanHandler\">"
		"<duration>soon</duration></handler></handlerchain>",
		"<handlerchain><handler class=\"AllowedUnauthenticatedSender\"><allowedSenders>"
		"<allowedSender fromIps=\"300.1.1.1\">a@b.c</allowedSender></allowedSenders>"
		"</handler></handlerchain>",
		"<handlerchain><handler class=\"ValidRcptHandler\"><recipientRewriteTableCheck>"
		"some</recipientRewriteTableCheck></handler></handlerchain>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = chain_from(bad[i], &errors);
		ck_assert_msg(errors > 0, "no error for %s", bad[i]);
		chain_free(c);
	}
}
END_TEST

START_TEST(duration_syntax)
{
	uint64_t ms;
	ck_assert_int_eq(fastfail_duration("1s", 1, &ms), 0);
	ck_assert_uint_eq(ms, 1000);
	ck_assert_int_eq(fastfail_duration("250", 1, &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(fastfail_duration("2 minutes", 1, &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(fastfail_duration("1 Hour", 1, &ms), 0);
	ck_assert_uint_eq(ms, 3600000);
	ck_assert_int_eq(fastfail_duration("1 fortnight", 1, &ms), -1);
	ck_assert_int_eq(fastfail_duration("-1s", 1, &ms), -1);
	ck_assert_int_eq(fastfail_duration("", 1, &ms), -1);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* fastfail handlers                                                      */

START_TEST(max_rcpt_limit)
{
	struct chain *c = chain_ok("<handlerchain><handler class=\"org.apache.james.smtpserver."
				   "fastfail.MaxRcptHandler\"><maxRcpt>2</maxRcpt></handler>"
				   "</handlerchain>");
	struct smtp_path p = path("TO:<bob@mailetd.test>");
	for (size_t n = 0; n < 4; n++) {
		hs.nrcpts = n;
		struct hook_result r = chain_run(c, CHAIN_RCPT, &hs, &p);
		if (n < 2) {
			ck_assert_int_eq(r.verdict, HOOK_DECLINED);
			continue;
		}
		ck_assert_int_eq(r.code, 452);
		ck_assert_str_eq(r.ecode, "4.5.3");
		ck_assert_str_eq(r.text, "Requested action not taken: max recipients reached");
	}
	chain_done(c);
}
END_TEST

START_TEST(max_unknown_counts_per_transaction)
{
	struct chain *c = chain_ok("<handlerchain><handler class=\"MaxUnknownCmdHandler\">"
				   "<maxUnknownCmdCount>2</maxUnknownCmdCount></handler>"
				   "</handlerchain>");
	ck_assert_int_eq(chain_run(c, CHAIN_UNKNOWN, &hs, "FOO").verdict, HOOK_DECLINED);
	ck_assert_int_eq(chain_run(c, CHAIN_UNKNOWN, &hs, "FOO").verdict, HOOK_DECLINED);
	hs.tx_serial++; /* RSET: a new count */
	ck_assert_int_eq(chain_run(c, CHAIN_UNKNOWN, &hs, "FOO").verdict, HOOK_DECLINED);
	ck_assert_int_eq(chain_run(c, CHAIN_UNKNOWN, &hs, "FOO").verdict, HOOK_DECLINED);
	struct hook_result r = chain_run(c, CHAIN_UNKNOWN, &hs, "FOO");
	ck_assert_int_eq(r.verdict, HOOK_DISCONNECT);
	ck_assert_int_eq(r.code, 521);
	ck_assert_str_eq(r.text, "Closing connection as too many unknown commands received");
	chain_done(c); /* the state is freed (ASan checks) */
}
END_TEST

START_TEST(valid_rcpt_users)
{
	struct chain *c = chain_ok("<handlerchain><handler class=\"ValidRcptHandler\">"
				   "<recipientRewriteTableCheck>anyMappingValid"
				   "</recipientRewriteTableCheck></handler></handlerchain>");
	static const struct {
		const char *rcpt;
		int code;
	} cases[] = {
		{ "TO:<bob@mailetd.test>", 0 },
		{ "TO:<Carol@LOCAL.test>", 0 },
		{ "TO:<bob+list@mailetd.test>", 0 },
		{ "TO:<nobody@mailetd.test>", 550 },
		{ "TO:<postmaster@mailetd.test>", 0 },
		{ "TO:<anyone@elsewhere.example>", 0 },
	};
	hs.relaying_allowed = true;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_path p = path(cases[i].rcpt);
		struct hook_result r = chain_run_from(c, CHAIN_RCPT, &hs, &p, 0, NULL);
		int code = r.verdict == HOOK_DECLINED || r.verdict == HOOK_OK ? 0 : r.code;
		ck_assert_msg(code == cases[i].code, "%s: %d", cases[i].rcpt, code);
		if (code == 550) {
			ck_assert_str_eq(r.ecode, "5.1.1");
			ck_assert_str_eq(r.text, "Unknown user: nobody@mailetd.test");
		}
	}
	chain_done(c);
}
END_TEST

START_TEST(spam_trap_blocks_the_client)
{
	struct chain *c = chain_ok("<handlerchain><handler class=\"SpamTrapHandler\">"
				   "<spamTrapRecip>trap@mailetd.test</spamTrapRecip>"
				   "<blockTime>60000</blockTime></handler></handlerchain>");
	struct smtp_path good = path("TO:<bob@mailetd.test>");
	struct smtp_path trap = path("TO:<TRAP@mailetd.test>");
	hs.relaying_allowed = true;
	ck_assert_int_eq(chain_run(c, CHAIN_RCPT, &hs, &good).verdict, HOOK_DECLINED);
	struct hook_result r = chain_run(c, CHAIN_RCPT, &hs, &trap);
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(r.code, 554);
	ck_assert_int_eq(chain_run(c, CHAIN_RCPT, &hs, &good).verdict, HOOK_DENY);
	struct netaddr other = hs.client;
	ck_assert_int_eq(netaddr_parse("192.0.2.8", &hs.client), 0);
	ck_assert_int_eq(chain_run(c, CHAIN_RCPT, &hs, &good).verdict, HOOK_DECLINED);
	hs.client = other;
	chain_done(c);
}
END_TEST

START_TEST(allowed_unauthenticated_sender)
{
	struct chain *c = chain_ok(
	    "<handlerchain><handler class=\"org.apache.james.smtpserver.fastfail."
	    "AllowedUnauthenticatedSender\"><allowNullSender>false</allowNullSender>"
	    "<allowedSenders><allowedSender>allowed@example.com</allowedSender>"
	    "<allowedSender fromIps=\"172.34.56.0/24\">ip-restricted@example.com</allowedSender>"
	    "</allowedSenders></handler></handlerchain>");
	static const struct {
		const char *sender;
		bool relaying, auth;
		const char *ip;
		int code;
	} cases[] = {
		{ "FROM:<allowed@example.com>", true, false, "192.0.2.7", 0 },
		{ "FROM:<ALLOWED@example.com>", true, false, "192.0.2.7", 0 },
		{ "FROM:<other@example.com>", true, false, "192.0.2.7", 550 },
		{ "FROM:<ip-restricted@example.com>", true, false, "192.0.2.7", 550 },
		{ "FROM:<ip-restricted@example.com>", true, false, "172.34.56.9", 0 },
		{ "FROM:<>", true, false, "192.0.2.7", 550 },
		{ "FROM:<other@example.com>", true, true, "192.0.2.7", 0 },
		{ "FROM:<other@example.com>", false, false, "192.0.2.7", 0 },
	};
	srv.verify_identity = CFG_VERIFY_DISABLED;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_path p = path(cases[i].sender);
		hs.relaying_allowed = cases[i].relaying;
		hs.authenticated = cases[i].auth;
		ck_assert_int_eq(netaddr_parse(cases[i].ip, &hs.client), 0);
		hs.client_text = cases[i].ip;
		struct hook_result r = chain_run(c, CHAIN_MAIL, &hs, &p);
		int code = r.verdict == HOOK_DECLINED ? 0 : r.code;
		ck_assert_msg(code == cases[i].code, "%s: %d", cases[i].sender, code);
		if (i == 2)
			ck_assert_str_eq(r.text, "Sender <other@example.com> is not allowed for "
						 "unauthenticated connection from 192.0.2.7");
		if (i == 5)
			ck_assert_str_eq(r.text, "Sender <> is not allowed for unauthenticated "
						 "connection from 192.0.2.7");
	}
	chain_done(c);
}
END_TEST

START_TEST(header_limits)
{
	struct chain *c = chain_ok("<handlerchain><handler class=\"org.apache.james.smtpserver."
				   "EnforceHeaderLimitationsMessageHook\"><maxLines>3</maxLines>"
				   "<maxSize>1K</maxSize></handler></handlerchain>");
	unsigned long long sz = 10;
	hs.headers_fields = 3;
	hs.headers_size = 1024;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	hs.headers_fields = 4;
	struct hook_result r = chain_run(c, CHAIN_MESSAGE, &hs, &sz);
	ck_assert_int_eq(r.verdict, HOOK_DENYSOFT);
	ck_assert_int_eq(r.code, 552);
	ck_assert_str_eq(r.text, "Header Lines are too many");
	hs.headers_fields = 3;
	hs.headers_size = 1025;
	r = chain_run(c, CHAIN_MESSAGE, &hs, &sz);
	ck_assert_int_eq(r.code, 552);
	ck_assert_str_eq(r.text, "Header size is too large");
	chain_done(c);
	/* <= 0: James's defaults, 500 lines and 64 KiB */
	c = chain_ok("<handlerchain><handler class=\"EnforceHeaderLimitationsMessageHook\">"
		     "<maxLines>0</maxLines><maxSize>-1</maxSize></handler></handlerchain>");
	hs.headers_fields = 500;
	hs.headers_size = 65536;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	hs.headers_fields = 501;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DENYSOFT);
	chain_done(c);
}
END_TEST

START_TEST(lifespan_and_attribute)
{
	struct chain *c = chain_ok(
	    "<handlerchain><handler class=\"org.apache.james.smtpserver.netty."
	    "MaxConnectionLifespanHandler\"><duration>1s</duration></handler>"
	    "<handler class=\"SetMailAttributeMessageHook\"><name>tag</name><value>v1</value>"
	    "</handler></handlerchain>");
	ck_assert_int_eq(chain_run(c, CHAIN_CONNECT, &hs, NULL).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.lifespan_ms, 1000);
	unsigned long long sz = 1;
	hs.relaying_allowed = true;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	/* The configured hook first, then the core default attributes. */
	ck_assert_uint_eq(hs.nattrs, 2);
	ck_assert_str_eq(hs.attr_names[0], "tag");
	ck_assert_str_eq(hs.attr_values[0], "v1");
	ck_assert_str_eq(hs.attr_names[1], "org.apache.james.SMTPIsAuthNetwork");
	chain_done(c);
}
END_TEST

/* SetMimeHeaderHandler and hook_add_header: fields to put on top. */
START_TEST(set_mime_header_and_added_headers)
{
	struct chain *c = chain_ok(
	    "<handlerchain><handler class=\"org.apache.james.smtpserver.SetMimeHeaderHandler\">"
	    "<headername>SPF-test</headername><headervalue>passed</headervalue></handler>"
	    "<handler class=\"SetMimeHeaderHandler\"><headername>X-Two</headername>"
	    "<headervalue>2</headervalue></handler></handlerchain>");
	unsigned long long sz = 1;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.prepend_len, strlen("SPF-test: passed\r\nX-Two: 2\r\n"));
	ck_assert(memcmp(hs.prepend, "SPF-test: passed\r\nX-Two: 2\r\n", hs.prepend_len) == 0);
	/* Refused: bad names, line breaks, and too much in all. */
	ck_assert_int_eq(hook_add_header(&hs, "Bad Name", "x"), -1);
	ck_assert_int_eq(hook_add_header(&hs, "A:B", "x"), -1);
	ck_assert_int_eq(hook_add_header(&hs, "", "x"), -1);
	ck_assert_int_eq(hook_add_header(&hs, "X-Inject", "a\r\nBcc: x@example.org"), -1);
	char big[HOOK_PREPEND_MAX];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(hook_add_header(&hs, "X-Big", big), -1);
	chain_done(c);
	free(hs.prepend);
	hs.prepend = NULL;
	hs.prepend_len = 0;
	size_t errors;
	const char *bad[] = {
		"<handlerchain><handler class=\"SetMimeHeaderHandler\"><headername>X</headername>"
		"</handler></handlerchain>",
		"<handlerchain><handler class=\"SetMimeHeaderHandler\"><headername>X: Y</headername>"
		"<headervalue>v</headervalue></handler></handlerchain>",
	};
	for (size_t i = 0; i < 2; i++) {
		chain_free(chain_from(bad[i], &errors));
		ck_assert_uint_gt(errors, 0);
	}
}
END_TEST

static struct hook_result
mail_param(struct chain *c, const char *name, const char *value)
{
	struct hook_param p = { .name = name, .value = value };
	return chain_run(c, CHAIN_MAIL_PARAM, &hs, &p);
}

START_TEST(mt_priority_and_require_tls)
{
	struct chain *c = chain_ok(
	    "<handlerchain><handler class=\"SmtpMtPriorityEhloHook\"/>"
	    "<handler class=\"SmtpMtPriorityParameterHook\"/>"
	    "<handler class=\"SmtpMtPriorityMessageHook\"/>"
	    "<handler class=\"SmtpRequireTlsEhloHook\"/>"
	    "<handler class=\"SmtpRequireTlsParameterHook\"/>"
	    "<handler class=\"SmtpRequireTlsMessageHook\"/></handlerchain>");
	const char *kw[8];
	ck_assert_uint_eq(chain_ehlo_keywords(c, &hs, kw, 8), 1);
	ck_assert_str_eq(kw[0], "MT-PRIORITY");
	hs.tls_active = true;
	ck_assert_uint_eq(chain_ehlo_keywords(c, &hs, kw, 8), 2);
	ck_assert_str_eq(kw[1], "REQUIRETLS");
	ck_assert(chain_mail_param_declared(c, "mt-priority", 11));
	ck_assert(!chain_mail_param_declared(c, "NOTIFY", 6));

	static const struct {
		const char *value;
		bool auth;
		int code;       /* 0: accepted */
		const char *attr;
	} cases[] = {
		{ "-9", false, 0, "-9" }, { "9", true, 0, "9" }, { "3", false, 0, "0" },
		{ "+2", true, 0, "2" }, { "10", true, 501, NULL }, { "-10", true, 501, NULL },
		{ "x", true, 501, NULL }, { "", true, 501, NULL },
	};
	unsigned long long sz = 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hs.mail_serial++;
		hs.nattrs = 0;
		hs.authenticated = cases[i].auth;
		struct hook_result r = mail_param(c, "MT-PRIORITY", cases[i].value);
		int code = r.verdict == HOOK_DECLINED ? 0 : r.code;
		ck_assert_msg(code == cases[i].code, "%s: %d", cases[i].value, code);
		if (code != 0) {
			ck_assert_str_eq(r.text,
			    "Incorrect syntax when handling MT-PRIORITY mail parameter");
			continue;
		}
		r = mail_param(c, "MT-PRIORITY", cases[i].value);
		ck_assert_int_eq(r.code, 501); /* a second one */
		ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
		ck_assert_uint_eq(hs.nattrs, 1);
		ck_assert_str_eq(hs.attr_names[0], "MAIL_PRIORITY");
		ck_assert_str_eq(hs.attr_values[0], cases[i].attr);
	}
	/* A new MAIL without the parameter: no attribute. */
	hs.mail_serial++;
	hs.nattrs = 0;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 0);

	/* REQUIRETLS: recorded over TLS only; TLS-Required: No gives false. */
	hs.tls_active = false;
	ck_assert_int_eq(mail_param(c, "REQUIRETLS", "").verdict, HOOK_DECLINED);
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 0);
	hs.mail_serial++;
	hs.tls_active = true;
	ck_assert_int_eq(mail_param(c, "REQUIRETLS", "").verdict, HOOK_DECLINED);
	ck_assert_int_eq(mail_param(c, "REQUIRETLS", "").code, 501);
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 1);
	ck_assert_str_eq(hs.attr_values[0], "true");
	hs.mail_serial++;
	hs.nattrs = 0;
	hs.headers = "Subject: x\r\nTLS-Required:  no\r\n";
	hs.headers_len = strlen(hs.headers);
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 1);
	ck_assert_str_eq(hs.attr_names[0], "REQUIRETLS");
	ck_assert_str_eq(hs.attr_values[0], "false");
	chain_done(c);
}
END_TEST

START_TEST(dsn_parameters)
{
	struct chain *c = chain_ok(
	    "<handlerchain><handler class=\"DSNEhloHook\"/><handler class=\"DSNMailParameterHook\"/>"
	    "<handler class=\"DSNRcptParameterHook\"/><handler class=\"DSNMessageHook\"/>"
	    "</handlerchain>");
	const char *kw[4];
	ck_assert_uint_eq(chain_ehlo_keywords(c, &hs, kw, 4), 1);
	ck_assert_str_eq(kw[0], "DSN");
	ck_assert(chain_rcpt_param_declared(c, "orcpt", 5));
	ck_assert(chain_mail_param_declared(c, "ENVID", 5));
	static const struct {
		const char *name, *value;
		int code;
	} mail_cases[] = {
		{ "RET", "hdrs", 0 }, { "RET", "BOTH", 0 }, { "ENVID", "QQ314159", 0 },
		{ "ENVID", "a+2Bb", 0 }, { "ENVID", "a+2b", 501 }, { "ENVID", "a+2", 501 },
		{ "ENVID", "", 501 },
		{ "ENVID", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 501 },
	};
	for (size_t i = 0; i < sizeof(mail_cases) / sizeof(mail_cases[0]); i++) {
		hs.mail_serial++;
		struct hook_result r = mail_param(c, mail_cases[i].name, mail_cases[i].value);
		int code = r.verdict == HOOK_DECLINED ? 0 : r.code;
		ck_assert_msg(code == mail_cases[i].code, "%s=%s: %d", mail_cases[i].name,
		    mail_cases[i].value, code);
	}
	static const struct {
		const char *notify, *orcpt;
		int code;
	} rcpt_cases[] = {
		{ "NEVER", NULL, 0 }, { "success,DELAY", NULL, 0 }, { "SUCCESS,FAILURE,DELAY", NULL, 0 },
		{ "NEVER,SUCCESS", NULL, 501 }, { "SUCCESS,SUCCESS", NULL, 501 }, { "", NULL, 501 },
		{ "BOGUS", NULL, 501 }, { NULL, "rfc822;bob@mailetd.test", 0 },
		{ NULL, "RFC822;b+2Bx@mailetd.test", 0 }, { NULL, "x400;bob@mailetd.test", 501 },
		{ NULL, "rfc822;nobody", 501 }, { NULL, "rfc822;", 501 },
	};
	struct smtp_path p = path("TO:<bob@mailetd.test>");
	for (size_t i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]); i++) {
		struct hook_param hp[2];
		size_t n = 0;
		if (rcpt_cases[i].notify)
			hp[n++] = (struct hook_param){ "NOTIFY", rcpt_cases[i].notify };
		if (rcpt_cases[i].orcpt)
			hp[n++] = (struct hook_param){ "ORCPT", rcpt_cases[i].orcpt };
		hs.rcpt_params = hp;
		hs.nrcpt_params = n;
		struct hook_result r = chain_run(c, CHAIN_RCPT, &hs, &p);
		int code = r.verdict == HOOK_DECLINED ? 0 : r.code;
		ck_assert_msg(code == rcpt_cases[i].code, "case %zu: %d", i, code);
		if (code)
			ck_assert_str_eq(r.text, "Invalid NOTIFY or ORCPT parameter value");
	}
	/* The message carries what the current MAIL and transaction gave. */
	hs.tx_serial++;
	hs.mail_serial++;
	hs.nattrs = 0;
	ck_assert_int_eq(mail_param(c, "RET", "FULL").verdict, HOOK_DECLINED);
	struct hook_param hp = { "NOTIFY", "NEVER" };
	hs.rcpt_params = &hp;
	hs.nrcpt_params = 1;
	ck_assert_int_eq(chain_run(c, CHAIN_RCPT, &hs, &p).verdict, HOOK_DECLINED);
	unsigned long long sz = 1;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 3);
	ck_assert_str_eq(hs.attr_names[0], "dsn-ret");
	ck_assert_str_eq(hs.attr_values[0], "FULL");
	ck_assert_str_eq(hs.attr_names[1], "dsn-rcpt");
	ck_assert_str_eq(hs.attr_values[1], "<bob@mailetd.test> NOTIFY=NEVER\n");
	ck_assert_str_eq(hs.attr_names[2], "dsn-arrival-date");
	chain_done(c);
}
END_TEST

/* FUTURERELEASE (RFC 4865): James's replies in James's order, at a fixed time. */
START_TEST(future_release_decisions)
{
	struct timespec now = { .tv_sec = 1800000000, .tv_nsec = 500000000 }; /* 2027-01-15T08:00:00.5Z */
	static const struct {
		bool auth;
		const char *name, *value;
		int code;          /* 0 = accepted */
		long long hold;
		const char *text;
	} t[] = {
		{ false, "HOLDFOR", "10", 554, 0,
		    "Needs to be logged in in order to use future release extension" },
		{ true, "HOLDFOR", "0", 0, 0, NULL },
		{ true, "HOLDFOR", "+3600", 0, 3600, NULL },
		{ true, "HOLDFOR", "86400", 0, 86400, NULL },
		{ true, "HOLDFOR", "86401", 501, 0,
		    "HoldFor is greater than max-future-release-interval or holdUntil exceeded "
		    "max-future-release-date-time" },
		{ true, "HOLDFOR", "99999999999999999999", 501, 0,
		    "Incorrect syntax when handling FUTURE-RELEASE mail parameter" },
		{ true, "HOLDFOR", "-1", 501, 0,
		    "HoldFor value is negative or holdUntil value is before now" },
		{ true, "HOLDFOR", "1h", 501, 0,
		    "Incorrect syntax when handling FUTURE-RELEASE mail parameter" },
		{ true, "HOLDFOR", "", 501, 0, NULL },
		{ true, "HOLDUNTIL", "2027-01-15T09:00:00Z", 0, 3600, NULL },
		{ true, "HOLDUNTIL", "2027-01-15T10:00:00.25+01:00", 0, 3600, NULL },
		{ true, "HOLDUNTIL", "2027-01-15t09:00:00.7z", 0, 3601, NULL },
		{ true, "HOLDUNTIL", "2027-01-16T08:00:00.5Z", 0, 86400, NULL },
		{ true, "HOLDUNTIL", "2027-01-16T08:00:00.6Z", 501, 0, NULL },
		{ true, "HOLDUNTIL", "2027-01-15T07:59:59Z", 501, 0,
		    "HoldFor value is negative or holdUntil value is before now" },
		{ true, "HOLDUNTIL", "2027-02-29T00:00:00Z", 501, 0,
		    "Incorrect syntax when handling FUTURE-RELEASE mail parameter" },
		{ true, "HOLDUNTIL", "2027-01-15 09:00:00Z", 501, 0, NULL },
		{ true, "HOLDUNTIL", "2027-01-15T09:00:00", 501, 0, NULL },
		{ true, "HOLDUNTIL", "2027-01-15T09:00:00.Z", 501, 0, NULL },
		{ true, "HOLDUNTIL", "2027-01-15T09:00:00Zx", 501, 0, NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		hs.authenticated = t[i].auth;
		struct hook_param p = { t[i].name, t[i].value };
		long long hold = -1;
		time_t release = 0;
		struct hook_result r = future_release_check(&hs, &p, &now, &hold, &release);
		int code = r.verdict == HOOK_DECLINED ? 0 : r.code == 0 ? 554 : r.code;
		ck_assert_msg(code == t[i].code, "case %zu: %d", i, code);
		if (code == 0) {
			ck_assert_msg(hold == t[i].hold, "case %zu: hold %lld", i, hold);
			ck_assert(release >= now.tv_sec && release <= now.tv_sec + 86401);
		} else {
			ck_assert_int_eq(r.verdict, HOOK_DENY);
		}
		if (t[i].text != NULL)
			ck_assert_str_eq(r.text, t[i].text);
	}
	/* HOLDUNTIL's instant is the release time; a fraction rounds up */
	struct hook_param p = { "HOLDUNTIL", "2027-01-15T09:00:00.7Z" };
	long long hold;
	time_t release;
	hs.authenticated = true;
	future_release_check(&hs, &p, &now, &hold, &release);
	ck_assert_int_eq((long long)release, 1800003601LL);
	long long secs;
	int ns;
	ck_assert_int_eq(future_release_parse_instant("1970-01-01T00:00:00Z", &secs, &ns), 0);
	ck_assert_int_eq(secs, 0);
	ck_assert_int_eq(future_release_parse_instant("2000-02-29T23:59:60.123456789-00:30", &secs,
	    &ns), 0);
	ck_assert_int_eq(secs, 951868799LL + 1800);
	ck_assert_int_eq(ns, 123456789);
	ck_assert_int_eq(future_release_parse_instant("2000-01-01T00:00:00.1234567890Z", &secs,
	    &ns), -1);
	ck_assert_int_eq(future_release_parse_instant("2000-13-01T00:00:00Z", &secs, &ns), -1);
	ck_assert_int_eq(future_release_parse_instant("1900-02-29T00:00:00Z", &secs, &ns), -1);
}
END_TEST

/* Through the chain: the keyword for authenticated clients, one parameter
 * per MAIL, the attributes on the message. */
START_TEST(future_release_chain)
{
	struct chain *c = chain_ok(
	    "<handlerchain><handler class=\"org.apache.james.smtpserver.futurerelease.FutureReleaseEHLOHook\"/>"
	    "<handler class=\"org.apache.james.smtpserver.futurerelease.FutureReleaseMailParameterHook\"/>"
	    "<handler class=\"org.apache.james.smtpserver.futurerelease.FutureReleaseMessageHook\"/>"
	    "</handlerchain>");
	const char *kw[4];
	hs.authenticated = false;
	ck_assert_uint_eq(chain_ehlo_keywords(c, &hs, kw, 4), 0);
	hs.authenticated = true;
	/* Instants are checked against the clock read before and after the
	 * call (a loaded machine may stall between the two). */
	long long t0 = (long long)time(NULL);
	ck_assert_uint_eq(chain_ehlo_keywords(c, &hs, kw, 4), 1);
	ck_assert(strncmp(kw[0], "FUTURERELEASE 86400 ", 20) == 0);
	long long secs;
	int ns;
	ck_assert_int_eq(future_release_parse_instant(kw[0] + 20, &secs, &ns), 0);
	ck_assert(secs >= t0 + 86400 && secs <= (long long)time(NULL) + 86400);
	ck_assert(chain_mail_param_declared(c, "HOLDFOR", 7));
	ck_assert(chain_mail_param_declared(c, "holduntil", 9));
	hs.mail_serial++;
	t0 = (long long)time(NULL);
	ck_assert_int_eq(mail_param(c, "HOLDFOR", "600").verdict, HOOK_DECLINED);
	long long t1 = (long long)time(NULL);
	struct hook_result r = mail_param(c, "HOLDUNTIL", "2099-01-01T00:00:00Z");
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_str_eq(r.text, "HoldFor is greater than max-future-release-interval or holdUntil "
				 "exceeded max-future-release-date-time");
	r = mail_param(c, "HOLDFOR", "60");
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(chain_defaults(r).code, 554);
	ck_assert_str_eq(r.text, "Mail parameter cannot contains both holdFor and holdUntil parameters");
	hs.nattrs = 0;
	unsigned long long sz = 1;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 2);
	ck_assert_str_eq(hs.attr_names[0], "futurerelease-hold-for");
	ck_assert_str_eq(hs.attr_values[0], "600");
	ck_assert_str_eq(hs.attr_names[1], "futurerelease-release-at");
	ck_assert_int_eq(future_release_parse_instant(hs.attr_values[1], &secs, &ns), 0);
	ck_assert(secs >= t0 + 600 && secs <= t1 + 600);
	/* a new MAIL without parameters: hold-for 0, no release time */
	hs.mail_serial++;
	hs.nattrs = 0;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 1);
	ck_assert_str_eq(hs.attr_values[0], "0");
	chain_done(c);
	hs.authenticated = false;
}
END_TEST

/* A message hook that accepts at once (skips the later message hooks). */
static struct hook_result
ok_message(const struct hook_session *s, unsigned long long size)
{
	(void)s;
	(void)size;
	return (struct hook_result){ .verdict = HOOK_OK };
}

static const struct handler_def handler_ok_message = { .name = "OkMessage",
	.message = ok_message };

static const char *
attr_of(const char *name)
{
	for (size_t i = 0; i < hs.nattrs; i++)
		if (strcmp(hs.attr_names[i], name) == 0)
			return hs.attr_values[i];
	return NULL;
}

START_TEST(default_attributes)
{
	unsigned long long sz = 10;
	/* Nothing to say about a plain, unauthenticated session. */
	ck_assert_int_eq(chain_run(chain_core(), CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 0);
	/* Relaying allowed (authorizedAddresses): only SMTPIsAuthNetwork. */
	hs.relaying_allowed = true;
	chain_run(chain_core(), CHAIN_MESSAGE, &hs, &sz);
	ck_assert_uint_eq(hs.nattrs, 1);
	ck_assert_str_eq(attr_of("org.apache.james.SMTPIsAuthNetwork"), "true");
	/* AUTH under TLS: all four, each once. */
	hs.nattrs = 0;
	hs.authenticated = true;
	hs.auth_user = "bob";
	hs.tls_active = true;
	hs.tls_version = "TLSv1.3";
	hs.tls_cipher = "TLS_AES_256_GCM_SHA384";
	chain_run(chain_core(), CHAIN_MESSAGE, &hs, &sz);
	chain_run(chain_core(), CHAIN_MESSAGE, &hs, &sz);
	ck_assert_uint_eq(hs.nattrs, 4);
	ck_assert_str_eq(attr_of("org.apache.james.SMTPAuthUser"), "bob");
	ck_assert_str_eq(attr_of("org.apache.james.ssl.protocol"), "TLSv1.3");
	ck_assert_str_eq(attr_of("org.apache.james.ssl.cipher"), "TLS_AES_256_GCM_SHA384");
	/* A configured OK skips the core message hooks; chain_run_always
	 * still sets the default attributes. */
	hs.nattrs = 0;
	struct chain *c = chain_new();
	chain_add(c, &handler_ok_message, NULL, 1);
	chain_add_core(c, CHAIN_CORE_SMTP);
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &sz).verdict, HOOK_OK);
	ck_assert_uint_eq(hs.nattrs, 0);
	chain_run_always(c, &hs, sz);
	ck_assert_uint_eq(hs.nattrs, 4);
	ck_assert_str_eq(attr_of("org.apache.james.SMTPIsAuthNetwork"), "true");
	chain_free(c);
}
END_TEST

START_TEST(mail_size_decisions)
{
	const struct chain *c = chain_core();
	chain_session_begin(c, &hs);
	/* EHLO: "SIZE <max>", or "SIZE" without a limit; core, not configured. */
	const char *kw[4];
	ck_assert_uint_eq(chain_ehlo_keywords(c, &hs, kw, 4), 0);
	ck_assert_uint_eq(chain_ehlo_core_keywords(c, &hs, kw, 4), 1);
	ck_assert_str_eq(kw[0], "SIZE");
	srv.max_message_size = 1024;
	ck_assert_uint_eq(chain_ehlo_core_keywords(c, &hs, kw, 4), 1);
	ck_assert_str_eq(kw[0], "SIZE 1024");
	/* MAIL SIZE=: declared, checked against the limit. */
	ck_assert(chain_mail_param_declared(c, "size", 4));
	struct hook_param p = { .name = "SIZE", .value = "1024" };
	ck_assert_int_eq(chain_run(c, CHAIN_MAIL_PARAM, &hs, &p).verdict, HOOK_DECLINED);
	p.value = "1025";
	struct hook_result r = chain_run(c, CHAIN_MAIL_PARAM, &hs, &p);
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(r.code, 552);
	ck_assert_str_eq(r.ecode, "5.3.4");
	ck_assert_str_eq(r.text, "Message size exceeds fixed maximum message size");
	const char *bad[] = { "", "abc", "-1", "12x", "123456789012345678901" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.value = bad[i];
		r = chain_run(c, CHAIN_MAIL_PARAM, &hs, &p);
		ck_assert_int_eq(r.verdict, HOOK_DENY);
		ck_assert_int_eq(r.code, 501);
		ck_assert_str_eq(r.text, "Syntactically incorrect value for SIZE parameter");
	}
	/* The end of the data: the decoder's count and its too_big. */
	ck_assert_int_eq(chain_data_end(c, &hs, 1024, false).verdict, HOOK_DECLINED);
	r = chain_data_end(c, &hs, 1024, true);
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(r.code, 552);
	ck_assert_int_eq(chain_data_end(c, &hs, 1025, false).code, 552);
	srv.max_message_size = 0; /* no limit */
	p.value = "99999999999";
	ck_assert_int_eq(chain_run(c, CHAIN_MAIL_PARAM, &hs, &p).verdict, HOOK_DECLINED);
	ck_assert_int_eq(chain_data_end(c, &hs, 99999999999ULL, false).verdict, HOOK_DECLINED);
	chain_session_end(c, &hs);
}
END_TEST

/* Runs the data_begin filters of the core chain into a spool message; returns what they wrote. */
static char *
received_text_of(const struct chain *chain)
{
	char dir[] = "/tmp/mailetd-test-received-XXXXXX", err[200];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct spool *sp = spool_open(dir, false, 1, err, sizeof(err));
	ck_assert_msg(sp != NULL, "%s", err);
	char id[ID_LEN + 1];
	struct spool_msg *m = spool_msg_new(sp, "spool", id);
	ck_assert_ptr_nonnull(m);
	hs.msgid = id;
	hs.data_msg = m;
	hs.data_failed = false;
	chain_data_begin(chain, &hs);
	ck_assert(!hs.data_failed);
	hs.data_msg = NULL;
	hs.msgid = NULL;
	int fd = spool_msg_reader(m);
	ck_assert_int_ge(fd, 0);
	static char buf[2048];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	close(fd);
	spool_msg_abort(m);
	spool_close(sp);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	/* The id is random: put a fixed one in its place. */
	char *p = strstr(buf, id);
	ck_assert_ptr_nonnull(p);
	memset(p, 'I', strlen(id));
	return buf;
}

static char *
received_text(void)
{
	return received_text_of(chain_core());
}

/* A configured data line filter that writes a header field at the start. */
static void
test_data_begin(const struct hook_session *s)
{
	hook_data_write(s, "X-Filter: yes\r\n", 15);
}

static const struct handler_def handler_test_filter = { .name = "TestFilter",
	.data_begin = test_data_begin };

START_TEST(received_header_filter)
{
	srv.hello_name = (char *)"mx.example";
	hs.helo = "client.example";
	hs.protocol = "ESMTP";
	const char *one[] = { "bob@mailetd.test" };
	hs.rcpts = one;
	hs.nrcpts = 1;
	char *h = received_text();
	char idx[ID_LEN + 1];
	memset(idx, 'I', ID_LEN);
	idx[ID_LEN] = '\0';
	char want[512];
	snprintf(want, sizeof(want),
	    "Received: from client.example ([192.0.2.7])\r\n\tby mx.example (mailetd) with "
	    "ESMTP id %s\r\n\tfor <bob@mailetd.test>; ", idx);
	ck_assert_msg(strncmp(h, want, strlen(want)) == 0, "%s", h);
	ck_assert(strlen(h) > 2 && strcmp(h + strlen(h) - 2, "\r\n") == 0);
	/* Two recipients: none named; under TLS, James's comment. */
	const char *two[] = { "bob@mailetd.test", "carol@mailetd.test" };
	hs.rcpts = two;
	hs.nrcpts = 2;
	hs.tls_active = true;
	hs.tls_version = "TLSv1.3";
	hs.tls_cipher = "TLS_AES_128_GCM_SHA256";
	hs.protocol = "ESMTPS";
	h = received_text();
	snprintf(want, sizeof(want),
	    "Received: from client.example ([192.0.2.7])\r\n\t(using TLSv1.3 with cipher "
	    "TLS_AES_128_GCM_SHA256)\r\n\tby mx.example (mailetd) with ESMTPS id %s;\r\n\t", idx);
	ck_assert_msg(strncmp(h, want, strlen(want)) == 0, "%s", h);
	ck_assert_ptr_null(strstr(h, "bob@"));
	/* A configured filter's lines come below the core Received header. */
	struct chain *c = chain_new();
	chain_add(c, &handler_test_filter, NULL, 1);
	chain_add_core(c, CHAIN_CORE_SMTP);
	h = received_text_of(c);
	chain_free(c);
	ck_assert_msg(strncmp(h, "Received: from client.example", 29) == 0, "%s", h);
	char *f = strstr(h, "X-Filter: yes\r\n");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f, "X-Filter: yes\r\n");
	/* No writer (not in a data_begin): the failure is recorded. */
	hs.data_failed = false;
	ck_assert_int_eq(hook_data_write(&hs, "x\r\n", 3), -1);
	ck_assert(hs.data_failed);
}
END_TEST

static struct hook_result
auth_run(const struct chain *c, const char *user, const char *pw)
{
	struct hook_auth a = { .user = user, .ulen = strlen(user), .pass = pw,
		.plen = strlen(pw), .mech = "PLAIN" };
	hs.auth_name[0] = '\0';
	return chain_run(c, CHAIN_AUTH, &hs, &a);
}

START_TEST(configuration_auth_hook)
{
	struct chain *c = chain_ok(
	    "<handlerchain><handler class=\"org.apache.james.smtpserver.ConfigurationAuthHook\">"
	    "<accounts><account><username>app@domain.tld</username><passwords>"
	    "<password>one</password><password>two</password></passwords></account>"
	    "<account><username>other@domain.tld</username><passwords><password>three</password>"
	    "</passwords></account></accounts></handler></handlerchain>");
	ck_assert_str_eq(c->v[0].def->name, "ConfigurationAuthHook");
	/* Any of the account's passwords; the hook names the user. */
	ck_assert_int_eq(auth_run(c, "app@domain.tld", "one").verdict, HOOK_OK);
	ck_assert_str_eq(hs.auth_name, "app@domain.tld");
	ck_assert_int_eq(auth_run(c, "app@domain.tld", "two").verdict, HOOK_OK);
	ck_assert_int_eq(auth_run(c, "other@domain.tld", "three").verdict, HOOK_OK);
	ck_assert_str_eq(hs.auth_name, "other@domain.tld");
	/* Anything else declines (no users repository here: all decline). */
	ck_assert_int_eq(auth_run(c, "app@domain.tld", "three").verdict, HOOK_DECLINED);
	ck_assert_int_eq(auth_run(c, "app@domain.tld", "on").verdict, HOOK_DECLINED);
	ck_assert_int_eq(auth_run(c, "app@domain.tld", "onex").verdict, HOOK_DECLINED);
	ck_assert_int_eq(auth_run(c, "app@domain.tl", "one").verdict, HOOK_DECLINED);
	ck_assert_int_eq(auth_run(c, "nobody", "one").verdict, HOOK_DECLINED);
	ck_assert_str_eq(hs.auth_name, "");
	chain_done(c);

	/* Configuration errors. */
	const char *bad[] = {
		"<handlerchain><handler class=\"ConfigurationAuthHook\"/></handlerchain>",
		"<handlerchain><handler class=\"ConfigurationAuthHook\"><accounts><account>"
		"<username>a</username></account></accounts></handler></handlerchain>",
		"<handlerchain><handler class=\"ConfigurationAuthHook\"><accounts><account>"
		"<passwords><password>p</password></passwords></account></accounts></handler>"
		"</handlerchain>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t errors;
		struct chain *b = chain_from(bad[i], &errors);
		ck_assert_msg(errors > 0, "%s", bad[i]);
		chain_free(b);
	}
}
END_TEST

/* The users repository's auth hook answers PENDING and resumes from the pool. */
static struct hook_result auth_resumed;
static int auth_resumes;

static void
auth_resume_cb(void *arg, struct hook_result r)
{
	auth_resumed = r;
	auth_resumes++;
	event_base_loopbreak(arg);
}

static struct hook_result
users_auth_wait(struct event_base *base, const char *user, const char *pw)
{
	auth_resumes = 0;
	struct hook_result r = auth_run(chain_core(), user, pw);
	if (r.verdict != HOOK_PENDING)
		return r;
	struct timeval tv = { .tv_sec = 20 };
	struct event *guard = evtimer_new(base, NULL, NULL);
	evtimer_add(guard, &tv);
	event_base_loop(base, 0);
	event_free(guard);
	ck_assert_int_eq(auth_resumes, 1);
	return auth_resumed;
}

START_TEST(users_repository_auth_hook)
{
	evthread_use_pthreads(); /* the pool wakes the loop from its thread */
	struct event_base *base = event_base_new();
	struct worker_pool *pool = worker_pool_new(1);
	hs.base = base;
	hs.workers = pool;
	hs.resume = auth_resume_cb;
	hs.resume_arg = base;
	chain_session_begin(chain_core(), &hs);
	struct hook_result r = users_auth_wait(base, "bob", "pw");
	ck_assert_int_eq(r.verdict, HOOK_OK);
	ck_assert_str_eq(hs.auth_name, "bob");
	r = users_auth_wait(base, "bob", "wrong");
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(r.code, 535);
	ck_assert_str_eq(r.ecode, "5.7.8");
	ck_assert_str_eq(hs.auth_name, "");
	r = users_auth_wait(base, "nobody", "pw");
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	/* No worker pool: a temporary failure, at once. */
	hs.workers = NULL;
	r = auth_run(chain_core(), "bob", "pw");
	ck_assert_int_eq(r.verdict, HOOK_DENYSOFT);
	ck_assert_int_eq(r.code, 454);
	chain_session_end(chain_core(), &hs);
	hs.base = NULL;
	worker_pool_free(pool);
	event_base_free(base);
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
	tcase_add_test(tc, configured_handlers_run_before_core);
	tcase_add_test(tc, pending_resumes_and_chain_continues);
	tcase_add_test(tc, session_end_runs_disconnect_and_frees_state);
	tcase_add_test(tc, header_lookup_unfolds);
	tcase_add_test(tc, chain_from_xml_order_skips_and_errors);
	tcase_add_test(tc, duration_syntax);
	tcase_add_test(tc, max_rcpt_limit);
	tcase_add_test(tc, max_unknown_counts_per_transaction);
	tcase_add_test(tc, spam_trap_blocks_the_client);
	tcase_add_test(tc, allowed_unauthenticated_sender);
	tcase_add_test(tc, header_limits);
	tcase_add_test(tc, lifespan_and_attribute);
	tcase_add_test(tc, set_mime_header_and_added_headers);
	tcase_add_test(tc, mt_priority_and_require_tls);
	tcase_add_test(tc, dsn_parameters);
	tcase_add_test(tc, future_release_decisions);
	tcase_add_test(tc, future_release_chain);
	tcase_add_test(tc, default_attributes);
	tcase_add_test(tc, mail_size_decisions);
	tcase_add_test(tc, received_header_filter);
	tcase_add_test(tc, configuration_auth_hook);
	suite_add_tcase(s, tc);
	TCase *tu = tcase_create("users");
	tcase_add_checked_fixture(tu, setup_users, teardown_users);
	tcase_set_timeout(tu, 30);
	tcase_add_loop_test(tu, verify_identity_sender, 0,
	    sizeof(verify_cases) / sizeof(verify_cases[0]));
	tcase_add_loop_test(tu, verify_identity_from_header, 0,
	    sizeof(from_cases) / sizeof(from_cases[0]));
	tcase_add_test(tu, valid_rcpt_users);
	tcase_add_test(tu, users_repository_auth_hook);
	suite_add_tcase(s, tu);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * test_dns_handlers.c - the decisions of the DNS-based handlers
 * (handlers/fastfail/dnsrbl.c, helo_dns.c, valid_sender_domain.c,
 * valid_rcpt_mx.c, spf_handler.c, urirbl.c) against a dnsserver.py zone, through the
 * chain runner with a real resolver, a real event loop and PENDING.
 */
#include "../../handlers/chain.h"
#include "../../handlers/fastfail/fastfail.h"
#include "../../src/config/cfg_chain.h"
#include "../../src/config/config.h"
#include "../../src/dns/dns.h"
#include "../../src/protocol/smtp_parse.h"
#include "../../src/spool/spool.h"

#include "dnsserver_fixture.h"
#include "chain_fixture.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define V6 "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"

static const char zone_json[] =
    "{\"names\": {"
    "\"7.2.0.192.bl.test\": {\"A\": [\"127.0.0.2\"], \"TXT\": [\"go away\"]},"
    "\"7.2.0.192.err.test\": {\"A\": [\"127.255.255.254\"]},"
    "\"" V6 ".bl.test\": {\"A\": [\"127.0.0.3\"]},"
    "\"7.2.0.192.wl.test\": {\"A\": [\"127.0.0.2\"]},"
    "\"good.test\": {\"A\": [\"192.0.2.1\"]},"
    "\"v6only.test\": {\"AAAA\": [\"2001:db8::1\"]},"
    "\"7.2.0.192.in-addr.arpa\": {\"PTR\": [\"host.example.test\", \"other.test\", "
    "  \"liar.test\"]},"
    "\"host.example.test\": {\"A\": [\"192.0.2.1\", \"192.0.2.7\"]},"
    "\"other.test\": {\"A\": [\"192.0.2.7\"]},"
    "\"liar.test\": {\"A\": [\"192.0.2.99\"]},"
    "\"5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa\": "
    "  {\"PTR\": [\"v6host.test\"]},"
    "\"v6host.test\": {\"AAAA\": [\"2001:db8::5\"]},"
    "\"mx.test\": {\"MX\": [[10, \"mail.mx.test\"]]},"
    "\"mail.mx.test\": {\"A\": [\"198.51.100.7\"], \"AAAA\": [\"2001:db8::7\"]},"
    "\"aonly.test\": {\"A\": [\"198.51.100.8\"]},"
    "\"nullmx.test\": {\"MX\": [[0, \".\"]]},"
    "\"v6mx.test\": {\"MX\": [[10, \"mail.v6mx.test\"]]},"
    "\"mail.v6mx.test\": {\"AAAA\": [\"fd00::25\"]},"
    "\"spf-pass.test\": {\"TXT\": [\"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all\"]},"
    "\"spf-fail.test\": {\"TXT\": [\"v=spf1 -all\"]},"
    "\"spf-soft.test\": {\"TXT\": [\"v=spf1 ~all\"]},"
    "\"spf-neutral.test\": {\"TXT\": [\"v=spf1 ?all\"]},"
    "\"spf-perm.test\": {\"TXT\": [\"v=spf1 ip4:1.2.3.4/40 -all\"]},"
    "\"evil.example.uribl.test\": {\"A\": [\"127.0.0.2\"], \"TXT\": [\"see https://uribl.test/evil\"]},"
    "\"example.co.uk.uribl.test\": {\"A\": [\"127.0.0.4\"]},"
    "\"7.100.51.198.uribl.test\": {\"A\": [\"127.0.0.2\"]},"
    "\"bad.good.example.uribl.test\": {\"A\": [\"127.0.0.2\"]},"
    "\"evil.example.second.test\": {\"A\": [\"127.0.0.8\"]},"
    "\"evil.example.uerr.test\": {\"A\": [\"127.255.255.254\"]}"
    "}, \"drop\": [\"slow.test\", \"7.2.0.192.slowbl.test\", \"evil.example.slowuri.test\"],"
    " \"servfail\": [\"broken.test\"]}";

static char dom1[] = "mailetd.test";
static char *doms[] = { dom1 };
static char hello[] = "mx.mailetd.test";
static struct config cfg;
static struct cfg_server srv;
static struct hook_session hs;
static struct dns *resolver;
static struct event_base *base;
static char fwd[64];

static struct hook_result resumed;
static int resumed_calls;

static void
test_resume(void *arg, struct hook_result r)
{
	ck_assert_ptr_eq(arg, &hs);
	resumed = r;
	resumed_calls++;
}

static void
set_client(const char *ip)
{
	ck_assert_int_eq(netaddr_parse(ip, &hs.client), 0);
	hs.client_text = ip;
}

static void
setup(void)
{
	char err[256];
	evthread_use_pthreads();
	dnsserver_start(zone_json);
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", server_port);
	static struct cfg_dns_server one;
	static struct cfg_dns c;
	one = (struct cfg_dns_server){ .text = fwd, .fwd = fwd, .line = 1 };
	c = (struct cfg_dns){ .servers = &one, .nservers = 1, .max_cache_size = 1000,
		.negative_ttl = -1, .timeout_ms = 1000 };
	resolver = dns_new(&c, err, sizeof(err));
	ck_assert_msg(resolver != NULL, "%s", err);
	base = event_base_new();
	memset(&cfg, 0, sizeof(cfg));
	memset(&srv, 0, sizeof(srv));
	memset(&hs, 0, sizeof(hs));
	cfg.domains.names = doms;
	cfg.domains.n = 1;
	cfg.domains.default_domain = dom1;
	cfg.resolver = resolver;
	srv.hello_name = hello;
	hs.cfg = &cfg;
	hs.server = &srv;
	hs.id = "test";
	hs.base = base;
	hs.resume = test_resume;
	hs.resume_arg = &hs;
	set_client("192.0.2.7");
	resumed_calls = 0;
}

static void
teardown(void)
{
	event_base_free(base);
	dns_free(resolver);
	dnsserver_stop();
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

/* A chain of the <handler> elements in xml (no core set), session begun. */
static struct chain *
chain_of(const char *handlers)
{
	char file[32];
	char xml[2048];
	snprintf(xml, sizeof(xml), "<handlerchain>%s</handlerchain>\n", handlers);
	struct cfg_diag d;
	struct chain *c = fixture_chain_read(xml, &d, file);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "  diag: %s\n", d.v[i].text);
	ck_assert_uint_eq(d.errors, 0);
	cfg_diag_clear(&d);
	/* Only the configured handlers: drop the core set. */
	while (c->n > 0 && c->v[c->n - 1].core)
		c->n--;
	chain_session_begin(c, &hs);
	return c;
}

static void
chain_done(struct chain *c)
{
	chain_session_end(c, &hs);
	chain_free(c);
}

/* Runs the loop until a PENDING hook resumed (at most 5 s). */
static struct hook_result
wait_resume(void)
{
	int before = resumed_calls;
	for (int i = 0; i < 500 && resumed_calls == before; i++) {
		struct timeval t = { 0, 10000 };
		event_base_loopexit(base, &t);
		event_base_dispatch(base);
	}
	ck_assert_int_eq(resumed_calls, before + 1);
	return chain_defaults(resumed);
}

/* The hook's final answer: now, or after waiting when it is PENDING. */
static struct hook_result
ask(struct chain *c, enum chain_hook hook, const void *arg)
{
	struct hook_result r = chain_run(c, hook, &hs, arg);
	return r.verdict == HOOK_PENDING ? wait_resume() : r;
}

static struct hook_result
rcpt(struct chain *c, const char *to)
{
	struct smtp_path p = path(to);
	return ask(c, CHAIN_RCPT, &p);
}

static struct hook_result
mail(struct chain *c, const char *from)
{
	struct smtp_path p = path(from);
	return ask(c, CHAIN_MAIL, &p);
}

/* Runs the loop for ms milliseconds (lookups started at connect arrive). */
static void
spin(int ms)
{
	struct timeval t = { ms / 1000, (ms % 1000) * 1000 };
	event_base_loopexit(base, &t);
	event_base_dispatch(base);
}

#define RBL "<handler class=\"DNSRBLHandler\">"

/* Forgets the header fields message hooks added (the session does it at
 * the end of a transaction). */
static void
drop_prepend(void)
{
	free(hs.prepend);
	hs.prepend = NULL;
	hs.prepend_len = 0;
}

START_TEST(dnsrbl_decisions)
{
	static const struct {
		const char *handler;
		const char *client;
		bool relaying;
		const char *rcpt;
		enum hook_verdict want;
		const char *text;
	} t[] = {
		{ RBL "<rblservers><blacklist>bl.test</blacklist></rblservers></handler>", "192.0.2.7",
		    false, "TO:<bob@mailetd.test>", HOOK_DENY,
		    "Rejected: unauthenticated e-mail from /192.0.2.7 is restricted.  Contact the "
		    "postmaster for details." },
		{ RBL "<rblservers><blacklist>bl.test</blacklist></rblservers></handler>", "192.0.2.7",
		    true, "TO:<bob@mailetd.test>", HOOK_DECLINED, NULL },
		{ RBL "<rblservers><blacklist>bl.test</blacklist></rblservers></handler>", "192.0.2.7",
		    false, "TO:<Postmaster@mailetd.test>", HOOK_DECLINED, NULL },
		{ RBL "<rblservers><blacklist>bl.test</blacklist></rblservers></handler>", "192.0.2.8",
		    false, "TO:<bob@mailetd.test>", HOOK_DECLINED, NULL },
		{ RBL "<getDetail>true</getDetail><rblservers><blacklist>bl.test</blacklist>"
		      "</rblservers></handler>",
		    "192.0.2.7", false, "TO:<bob@mailetd.test>", HOOK_DENY, "go away" },
		{ RBL "<rblservers><whitelist>wl.test.</whitelist><blacklist>bl.test</blacklist>"
		      "</rblservers></handler>",
		    "192.0.2.7", false, "TO:<bob@mailetd.test>", HOOK_DECLINED, NULL },
		/* 127.255.255.x is a list's error code, not a listing; a timeout passes. */
		{ RBL "<rblservers><blacklist>err.test</blacklist></rblservers></handler>",
		    "192.0.2.7", false, "TO:<bob@mailetd.test>", HOOK_DECLINED, NULL },
		{ RBL "<rblservers><blacklist>slowbl.test</blacklist><blacklist>bl.test</blacklist>"
		      "</rblservers></handler>",
		    "192.0.2.7", false, "TO:<bob@mailetd.test>", HOOK_DENY, NULL },
		{ RBL "<rblservers><blacklist>bl.test</blacklist></rblservers></handler>",
		    "::1", false, "TO:<bob@mailetd.test>", HOOK_DENY,
		    "Rejected: unauthenticated e-mail from /::1 is restricted.  Contact the "
		    "postmaster for details." },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		set_client(t[i].client);
		hs.relaying_allowed = t[i].relaying;
		struct chain *c = chain_of(t[i].handler);
		struct hook_result r = rcpt(c, t[i].rcpt);
		ck_assert_msg(r.verdict == t[i].want, "case %zu: verdict %d", i, r.verdict);
		if (r.verdict == HOOK_DENY) {
			ck_assert_int_eq(r.code, 554);
			ck_assert_str_eq(r.ecode, "5.7.1");
		}
		if (t[i].text != NULL)
			ck_assert_str_eq(r.text, t[i].text);
		chain_done(c);
	}
}
END_TEST

/* Looked up at connect: the RCPT after the answers does not wait; once per
 * connection; a session that ends with lookups running cancels them. */
START_TEST(dnsrbl_prefetch_and_cancel)
{
	struct chain *c = chain_of(RBL "<rblservers><blacklist>bl.test</blacklist></rblservers>"
				       "</handler>");
	ck_assert_int_eq(chain_run(c, CHAIN_CONNECT, &hs, NULL).verdict, HOOK_DECLINED);
	spin(300);
	struct smtp_path p = path("TO:<bob@mailetd.test>");
	struct hook_result r = chain_run(c, CHAIN_RCPT, &hs, &p);
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	r = chain_run(c, CHAIN_RCPT, &hs, &p);
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(queries("7.2.0.192.bl.test", "A"), 1);
	chain_done(c);

	c = chain_of(RBL "<rblservers><blacklist>slowbl.test</blacklist></rblservers></handler>");
	chain_run(c, CHAIN_CONNECT, &hs, NULL);
	chain_done(c); /* cancels the running lookup: no callback may follow */
	spin(1300);
	ck_assert_int_eq(resumed_calls, 0);
}
END_TEST

#define RESOLVABLE "<handler class=\"ResolvableEhloHeloHandler\"/>"
#define REVERSE "<handler class=\"ReverseEqualsEhloHeloHandler\"/>"

START_TEST(helo_decisions)
{
	static const struct {
		const char *handler;
		const char *helo;
		enum hook_verdict want;
		int code;
	} t[] = {
		{ RESOLVABLE, "good.test", HOOK_DECLINED, 0 },
		{ RESOLVABLE, "v6only.test", HOOK_DECLINED, 0 },
		{ RESOLVABLE, "[192.0.2.99]", HOOK_DECLINED, 0 },
		{ RESOLVABLE, "nohost.test", HOOK_DENY, 501 },
		{ RESOLVABLE, "slow.test", HOOK_DENYSOFT, 451 },
		{ RESOLVABLE, "broken.test", HOOK_DENYSOFT, 451 },
		{ REVERSE, "host.example.test", HOOK_DECLINED, 0 },
		{ REVERSE, "OTHER.test", HOOK_DECLINED, 0 },
		{ REVERSE, "[192.0.2.7]", HOOK_DECLINED, 0 },
		{ REVERSE, "[192.0.2.8]", HOOK_DENY, 501 },
		{ REVERSE, "good.test", HOOK_DENY, 501 },
		/* A PTR name that does not resolve back to the client (FCrDNS). */
		{ REVERSE, "liar.test", HOOK_DENY, 501 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct chain *c = chain_of(t[i].handler);
		hs.helo = t[i].helo;
		ck_assert_int_eq(chain_run(c, CHAIN_HELO, &hs, t[i].helo).verdict, HOOK_DECLINED);
		struct hook_result r = mail(c, "FROM:<a@example.org>");
		ck_assert_msg(r.verdict == t[i].want, "case %zu (%s): verdict %d", i, t[i].helo,
		    r.verdict);
		if (t[i].code != 0)
			ck_assert_int_eq(r.code, t[i].code);
		if (r.code == 501) {
			char want[128];
			snprintf(want, sizeof(want), "Provided EHLO/HELO Optional[%s] can not resolved.",
			    t[i].helo);
			ck_assert_str_eq(r.text, want);
			ck_assert_str_eq(r.ecode, "5.5.4");
		}
		/* RCPT gets the same answer, without a second lookup. */
		ck_assert_int_eq(rcpt(c, "TO:<bob@mailetd.test>").verdict, t[i].want);
		/* A client that may relay is not checked. */
		hs.relaying_allowed = true;
		ck_assert_int_eq(rcpt(c, "TO:<bob@mailetd.test>").verdict, HOOK_DECLINED);
		hs.relaying_allowed = false;
		chain_done(c);
	}
}
END_TEST

/* IPv6: the PTR name, forward-confirmed by AAAA. */
START_TEST(reverse_helo_ipv6)
{
	set_client("2001:db8::5");
	struct chain *c = chain_of(REVERSE);
	hs.helo = "v6host.test";
	chain_run(c, CHAIN_HELO, &hs, hs.helo);
	ck_assert_int_eq(mail(c, "FROM:<a@example.org>").verdict, HOOK_DECLINED);
	hs.helo = "host.example.test";
	chain_run(c, CHAIN_HELO, &hs, hs.helo);
	ck_assert_int_eq(mail(c, "FROM:<a@example.org>").verdict, HOOK_DENY);
	chain_done(c);
}
END_TEST

START_TEST(valid_sender_domain_decisions)
{
	static const struct {
		const char *from;
		enum hook_verdict want;
		int code;
	} t[] = {
		{ "FROM:<a@mx.test>", HOOK_DECLINED, 0 },
		{ "FROM:<a@aonly.test>", HOOK_DECLINED, 0 },
		{ "FROM:<a@v6only.test>", HOOK_DECLINED, 0 },
		{ "FROM:<>", HOOK_DECLINED, 0 },
		{ "FROM:<a@nullmx.test>", HOOK_DENY, 501 },
		{ "FROM:<a@nohost.test>", HOOK_DENY, 501 },
		{ "FROM:<a@slow.test>", HOOK_DENYSOFT, 451 },
		{ "FROM:<a@broken.test>", HOOK_DENYSOFT, 451 },
	};
	struct chain *c = chain_of("<handler class=\"ValidSenderDomainHandler\"/>");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct hook_result r = mail(c, t[i].from);
		ck_assert_msg(r.verdict == t[i].want, "case %zu: verdict %d", i, r.verdict);
		if (t[i].code != 0)
			ck_assert_int_eq(r.code, t[i].code);
	}
	struct hook_result r = mail(c, "FROM:<a@nohost.test>");
	ck_assert_str_eq(r.text, "sender a@nohost.test contains a domain with no valid MX records");
	ck_assert_str_eq(r.ecode, "5.1.7");
	chain_done(c);
}
END_TEST

START_TEST(valid_rcpt_mx_decisions)
{
	struct chain *c = chain_of("<handler class=\"ValidRcptMX\"><invalidMXNetworks>"
				   "198.51.100.0/24, 10.0.0.0/8</invalidMXNetworks></handler>");
	/* Only clients that may relay send mail to other domains. */
	ck_assert_int_eq(chain_run(c, CHAIN_RCPT, &hs, &(struct smtp_path){ 0 }).verdict,
	    HOOK_DECLINED);
	struct smtp_path remote = path("TO:<x@mx.test>");
	ck_assert_int_eq(chain_run(c, CHAIN_RCPT, &hs, &remote).verdict, HOOK_DECLINED);
	hs.relaying_allowed = true;
	struct hook_result r = rcpt(c, "TO:<x@mx.test>");
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_int_eq(r.code, 530);
	ck_assert_str_eq(r.text, "Invalid MX 198.51.100.7 for domain mx.test. Reject email");
	ck_assert_int_eq(rcpt(c, "TO:<x@aonly.test>").verdict, HOOK_DENY); /* implicit MX */
	ck_assert_int_eq(rcpt(c, "TO:<x@v6mx.test>").verdict, HOOK_DECLINED);
	ck_assert_int_eq(rcpt(c, "TO:<x@nohost.test>").verdict, HOOK_DECLINED);
	ck_assert_int_eq(rcpt(c, "TO:<x@nullmx.test>").verdict, HOOK_DECLINED);
	ck_assert_int_eq(rcpt(c, "TO:<bob@mailetd.test>").verdict, HOOK_DECLINED);
	r = rcpt(c, "TO:<x@slow.test>");
	ck_assert_int_eq(r.verdict, HOOK_DENYSOFT);
	ck_assert_int_eq(r.code, 451);
	chain_done(c);
	/* The default list: bogons (fd00::/8 is in fc00::/7). */
	c = chain_of("<handler class=\"ValidRcptMX\"/>");
	r = rcpt(c, "TO:<x@v6mx.test>");
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	ck_assert_str_eq(r.text, "Invalid MX fd00::25 for domain v6mx.test. Reject email");
	chain_done(c);
}
END_TEST

#define SPF(soft, perm)                                                                   \
	"<handler class=\"SPFHandler\"><blockSoftFail>" soft "</blockSoftFail><blockPermError>" \
	perm "</blockPermError></handler>"

START_TEST(spf_decisions)
{
	static const struct {
		const char *handler;
		const char *from;
		enum hook_verdict want;
		int code;
		const char *text;
	} t[] = {
		{ SPF("false", "true"), "FROM:<a@spf-pass.test>", HOOK_DECLINED, 0, NULL },
		{ SPF("false", "true"), "FROM:<a@spf-neutral.test>", HOOK_DECLINED, 0, NULL },
		{ SPF("false", "true"), "FROM:<a@nospf.test>", HOOK_DECLINED, 0, NULL },
		{ SPF("false", "true"), "FROM:<a@spf-fail.test>", HOOK_DENY, 554,
		    "Blocked - see: SPF fail for a@spf-fail.test from 192.0.2.7" },
		{ SPF("false", "true"), "FROM:<a@spf-soft.test>", HOOK_DECLINED, 0, NULL },
		{ SPF("true", "true"), "FROM:<a@spf-soft.test>", HOOK_DENY, 554,
		    "Blocked - see: SPF softfail for a@spf-soft.test from 192.0.2.7" },
		{ SPF("false", "true"), "FROM:<a@spf-perm.test>", HOOK_DENY, 554,
		    "Block caused by an invalid SPF record" },
		{ SPF("false", "false"), "FROM:<a@spf-perm.test>", HOOK_DECLINED, 0, NULL },
		{ SPF("false", "true"), "FROM:<a@broken.test>", HOOK_DENYSOFT, 451,
		    "Temporarily rejected: Problem on SPF lookup" },
	};
	hs.helo = "client.example";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct chain *c = chain_of(t[i].handler);
		hs.mail_serial++;
		struct hook_result r = mail(c, t[i].from);
		ck_assert_msg(r.verdict == t[i].want, "case %zu: verdict %d", i, r.verdict);
		if (t[i].code != 0)
			ck_assert_int_eq(r.code, t[i].code);
		if (t[i].text != NULL)
			ck_assert_str_eq(r.text, t[i].text);
		/* A Received-SPF field on the message exactly when MAIL goes on. */
		unsigned long long size = 10;
		hs.nattrs = 0;
		ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &size).verdict, HOOK_DECLINED);
		ck_assert_int_eq(hs.prepend_len > 0, r.verdict == HOOK_DECLINED);
		drop_prepend();
		chain_done(c);
	}
	/* Not checked: a client that may relay, or before HELO. */
	struct chain *c = chain_of(SPF("false", "true"));
	hs.relaying_allowed = true;
	ck_assert_int_eq(chain_run(c, CHAIN_MAIL, &hs, &(struct smtp_path){ .null = true }).verdict,
	    HOOK_DECLINED);
	hs.relaying_allowed = false;
	hs.helo = NULL;
	struct smtp_path p = path("FROM:<a@spf-fail.test>");
	ck_assert_int_eq(chain_run(c, CHAIN_MAIL, &hs, &p).verdict, HOOK_DECLINED);
	chain_done(c);
}
END_TEST

START_TEST(spf_header_and_attributes)
{
	set_client("2001:db8::5");
	hs.helo = "client.example";
	hs.mail_serial = 7;
	struct chain *c = chain_of(SPF("false", "true"));
	unsigned long long size = 10;
	struct hook_result r = mail(c, "FROM:<\"odd (x)\"@spf-pass.test>");
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &size).verdict, HOOK_DECLINED);
	const char *f = hs.prepend;
	ck_assert_str_eq(f,
	    "Received-SPF: pass (mx.mailetd.test: domain of \"odd \\(x\\)\"@spf-pass.test "
	    "designates 2001:db8::5 as permitted sender)\r\n"
	    "\tclient-ip=\"2001:db8::5\";\r\n"
	    "\tenvelope-from=\"\\\"odd (x)\\\"@spf-pass.test\";\r\n"
	    "\thelo=client.example;\r\n"
	    "\treceiver=mx.mailetd.test;\r\n"
	    "\tidentity=mailfrom;\r\n"
	    "\tmechanism=\"+ip6:2001:db8::/32\"\r\n");
	drop_prepend();
	/* A long sender full of characters to escape: short lines, closed quotes. */
	hs.mail_serial++;
	char from[600] = "FROM:<\"";
	for (int i = 0; i < 30; i++)
		strcat(from, "\\\"");
	strcat(from, "\"@");
	for (int i = 0; i < 3; i++)
		strcat(from, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	strcat(from, "spf-pass.test>");
	r = mail(c, from);
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
	hs.nattrs = 0;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &size).verdict, HOOK_DECLINED);
	f = hs.prepend;
	for (const char *l = f; l != NULL; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL) {
		const char *e = strstr(l, "\r\n");
		ck_assert_uint_le(e != NULL ? (size_t)(e - l) : strlen(l), 998);
	}
	ck_assert(strstr(f, "envelope-from=\"\\\"\\\\\\\"") != NULL);
	ck_assert(strstr(f, "\";\r\n\thelo=client.example;") != NULL);
	drop_prepend();
	/* The first MAIL's result again for the message below. */
	hs.mail_serial++;
	r = mail(c, "FROM:<\"odd (x)\"@spf-pass.test>");
	ck_assert_int_eq(r.verdict, HOOK_DECLINED);
	hs.nattrs = 0;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &size).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 2);
	ck_assert_str_eq(hs.attr_names[0], "org.apache.james.spf.header");
	ck_assert(strncmp(hs.attr_values[0], "pass (mx.mailetd.test: ", 23) == 0);
	ck_assert(strstr(hs.attr_values[0], "\r") == NULL);
	ck_assert(strstr(hs.attr_values[0], " client-ip=\"2001:db8::5\"; envelope-from=") != NULL);
	ck_assert_str_eq(hs.attr_names[1], "org.apache.james.spf.result");
	ck_assert_str_eq(hs.attr_values[1], "pass");
	drop_prepend();
	/* A new MAIL that fails leaves nothing for the message. */
	hs.mail_serial++;
	r = mail(c, "FROM:<a@spf-fail.test>");
	ck_assert_int_eq(r.verdict, HOOK_DENY);
	hs.nattrs = 0;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &size).verdict, HOOK_DECLINED);
	ck_assert_uint_eq(hs.nattrs, 0);
	ck_assert_uint_eq(hs.prepend_len, 0);
	chain_done(c);
}
END_TEST

#define URIRBL(zones, extra) \
	"<handler class=\"org.apache.james.smtpserver.fastfail.URIRBLHandler\"><uriRblServers>" \
	zones "</uriRblServers>" extra "</handler>"

static struct spool *uri_spool;
static char uri_dir[64];

/* The message hook's answer on message text (a spool message, as in a session). */
static struct hook_result
uri_message(struct chain *c, const char *text)
{
	struct spool_msg *m = spool_msg_new(uri_spool, "spool", NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(spool_msg_write(m, text, strlen(text)), 0);
	hs.msg = m;
	unsigned long long size = strlen(text);
	hs.nattrs = 0;
	struct hook_result r = chain_run(c, CHAIN_MESSAGE, &hs, &size);
	if (r.verdict == HOOK_PENDING)
		r = wait_resume();
	hs.msg = NULL;
	spool_msg_abort(m);
	return r;
}

static void
uri_spool_open(void)
{
	char err[256];
	snprintf(uri_dir, sizeof(uri_dir), "/tmp/mailetd-test-uri-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(uri_dir));
	uri_spool = spool_open(uri_dir, false, 1, err, sizeof(err));
	ck_assert_msg(uri_spool != NULL, "%s", err);
}

static void
uri_spool_close(void)
{
	spool_close(uri_spool);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", uri_dir);
	ck_assert_int_eq(system(cmd), 0);
}

#define EVIL_TEXT "Subject: hi\r\n\r\nclick http://www.EVIL.example/now\r\n"

START_TEST(urirbl_decisions)
{
	uri_spool_open();
	static const struct {
		const char *handler;
		bool relaying;
		const char *msg;
		enum hook_verdict want;
		const char *text;
	} t[] = {
		{ URIRBL("<server>uribl.test</server>", ""), false, EVIL_TEXT, HOOK_DENY,
		    "Rejected: message contains domain evil.example listed by uribl.test" },
		{ URIRBL("<server>uribl.test.</server>", "<getDetail>true</getDetail>"), false,
		    EVIL_TEXT, HOOK_DENY,
		    "Rejected: message contains domain evil.example listed by uribl.test . Details: "
		    "see https://uribl.test/evil" },
		{ URIRBL("<server>uribl.test</server>", ""), false,
		    "Subject: hi\r\n\r\nhttp://good.example/ https://mx.test/\r\n", HOOK_DECLINED, NULL },
		/* the full host name is asked too, after the registered domains */
		{ URIRBL("<server>uribl.test</server>", ""), false,
		    "Subject: hi\r\n\r\nhttp://good.example/ http://bad.good.example/\r\n", HOOK_DENY,
		    "Rejected: message contains domain bad.good.example listed by uribl.test" },
		{ URIRBL("<server>uribl.test</server>", ""), false,
		    "\r\nhttp://www.example.co.uk/ http://198.51.100.7/\r\n", HOOK_DENY,
		    "Rejected: message contains domain example.co.uk listed by uribl.test" },
		{ URIRBL("<server>uribl.test</server>", ""), false,
		    "\r\nhttps://198.51.100.7:443/\r\n", HOOK_DENY,
		    "Rejected: message contains domain 7.100.51.198 listed by uribl.test" },
		/* quoted-printable inside multipart */
		{ URIRBL("<server>uribl.test</server>", ""), false,
		    "Content-Type: multipart/alternative; boundary=zz\r\n\r\n--zz\r\n"
		    "Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
		    "<a href=3D\"http://ev=\r\nil.example/\">x</a>\r\n--zz--\r\n",
		    HOOK_DENY, "Rejected: message contains domain evil.example listed by uribl.test" },
		/* a URL in a header field or a non-text part is not looked at */
		{ URIRBL("<server>uribl.test</server>", ""), false,
		    "Subject: http://evil.example/\r\n\r\nnothing\r\n", HOOK_DECLINED, NULL },
		/* zones in document order: the first listing one is named */
		{ URIRBL("<server>uerr.test</server><server>second.test</server><server>uribl.test</server>",
		      ""),
		    false, EVIL_TEXT, HOOK_DENY,
		    "Rejected: message contains domain evil.example listed by second.test" },
		/* a list's error code and a timeout are "not listed" */
		{ URIRBL("<server>uerr.test</server>", ""), false, EVIL_TEXT, HOOK_DECLINED, NULL },
		{ URIRBL("<server>slowuri.test</server>", ""), false, EVIL_TEXT, HOOK_DECLINED, NULL },
		/* relaying clients are checked (James), unless checkAuthNetworks is false */
		{ URIRBL("<server>uribl.test</server>", ""), true, EVIL_TEXT, HOOK_DENY, NULL },
		{ URIRBL("<server>uribl.test</server>", "<checkAuthNetworks>false</checkAuthNetworks>"),
		    true, EVIL_TEXT, HOOK_DECLINED, NULL },
		{ URIRBL("<server>uribl.test</server>", "<checkAuthNetworks>false</checkAuthNetworks>"),
		    false, EVIL_TEXT, HOOK_DENY, NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		hs.relaying_allowed = t[i].relaying;
		struct chain *c = chain_of(t[i].handler);
		struct hook_result r = uri_message(c, t[i].msg);
		ck_assert_msg(r.verdict == t[i].want, "case %zu: verdict %d", i, r.verdict);
		if (r.verdict == HOOK_DENY) {
			ck_assert_int_eq(r.code, 554);
			ck_assert_str_eq(r.ecode, "5.7.0");
		}
		if (t[i].text != NULL)
			ck_assert_str_eq(r.text, t[i].text);
		chain_done(c);
	}
	hs.relaying_allowed = false;
	/* every name once per zone; the registered domain and the host */
	ck_assert_int_ge(queries("www.evil.example.uribl.test", "A"), 1);
	ck_assert_int_ge(queries("evil.example.uribl.test", "A"), 1);
	uri_spool_close();
}
END_TEST

/* Two messages in one session; a session that ends while the lookups run
 * cancels them (no resume may follow). */
START_TEST(urirbl_session_and_cancel)
{
	uri_spool_open();
	struct chain *c = chain_of(URIRBL("<server>uribl.test</server>", ""));
	ck_assert_int_eq(uri_message(c, EVIL_TEXT).verdict, HOOK_DENY);
	ck_assert_int_eq(uri_message(c, "\r\nhttp://good.example/\r\n").verdict, HOOK_DECLINED);
	ck_assert_int_eq(uri_message(c, "\r\nno links\r\n").verdict, HOOK_DECLINED);
	chain_done(c);

	c = chain_of(URIRBL("<server>slowuri.test</server>", ""));
	struct spool_msg *m = spool_msg_new(uri_spool, "spool", NULL);
	ck_assert_int_eq(spool_msg_write(m, EVIL_TEXT, strlen(EVIL_TEXT)), 0);
	hs.msg = m;
	unsigned long long size = strlen(EVIL_TEXT);
	int before = resumed_calls;
	ck_assert_int_eq(chain_run(c, CHAIN_MESSAGE, &hs, &size).verdict, HOOK_PENDING);
	hs.msg = NULL;
	spool_msg_abort(m);
	chain_done(c);
	spin(1300);
	ck_assert_int_eq(resumed_calls, before);
	uri_spool_close();
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dns_handlers");
	TCase *tc = tcase_create("decisions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, dnsrbl_decisions);
	tcase_add_test(tc, dnsrbl_prefetch_and_cancel);
	tcase_add_test(tc, helo_decisions);
	tcase_add_test(tc, reverse_helo_ipv6);
	tcase_add_test(tc, valid_sender_domain_decisions);
	tcase_add_test(tc, valid_rcpt_mx_decisions);
	tcase_add_test(tc, spf_decisions);
	tcase_add_test(tc, spf_header_and_attributes);
	tcase_add_test(tc, urirbl_decisions);
	tcase_add_test(tc, urirbl_session_and_cancel);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

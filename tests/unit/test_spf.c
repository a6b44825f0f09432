/*
 * test_spf.c - unit tests of SPF (src/spf): the record parser, macro
 * expansion (RFC 7208 7.4's examples), and check_host() against zones
 * served by tests/integration/dnsserver.py. Run from the project root.
 */
#include "../../src/config/config.h"
#include "../../src/dns/dns.h"
#include "../../src/spf/spf.h"
#include "dnsserver_fixture.h"

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- parser -------------------------------------------------------------------- */

static const struct {
	const char *rec;
	int ok;        /* 1 parses, 0 error */
	size_t nterms;
} records[] = {
	{ "v=spf1", 1, 0 },
	{ "V=SPF1 -ALL", 1, 1 },
	{ "v=spf1 -all", 1, 1 },
	{ "v=spf1  ip4:192.0.2.0/24   ~all ", 1, 2 },
	{ "v=spf1 +a -mx ?ptr ~exists:%{i}.bl.example.org -all", 1, 5 },
	{ "v=spf1 a:example.org/24//64 mx//48 a/0 mx:mail.example.org/32", 1, 4 },
	{ "v=spf1 ip6:2001:db8::/32 ip6:::1 ip4:10.0.0.1", 1, 3 },
	{ "v=spf1 include:_spf.example.com redirect=_spf.example.net", 1, 1 },
	{ "v=spf1 exp=explain.%{d} -all", 1, 1 },
	{ "v=spf1 foo=bar.%{d} other.mod=x -all", 1, 1 },
	{ "v=spf1 a:%{d}", 1, 1 },
	{ "v=spf1 exists:%{l1r-}.%%.%_.%-.example.com", 1, 1 },
	{ "v=spf1 ptr:example.com.", 1, 1 },
	{ "v=spf1 a:foo.1-2", 1, 1 }, /* toplabel of digits with a hyphen */
	/* errors */
	{ "v=spf10 -all", 0, 0 },
	{ "v=spf1\t-all", 0, 0 },
	{ "spf1 -all", 0, 0 },
	{ "v=spf1 -none", 0, 0 },
	{ "v=spf1 all:x", 0, 0 },
	{ "v=spf1 -", 0, 0 },
	{ "v=spf1 include", 0, 0 },
	{ "v=spf1 include:", 0, 0 },
	{ "v=spf1 exists", 0, 0 },
	{ "v=spf1 ip4:192.0.2.0/33", 0, 0 },
	{ "v=spf1 ip4:192.0.2.0/024", 0, 0 },
	{ "v=spf1 ip4:192.0.2", 0, 0 },
	{ "v=spf1 ip4:2001:db8::1", 0, 0 },
	{ "v=spf1 ip6:192.0.2.1", 0, 0 },
	{ "v=spf1 ip6:2001:db8::/129", 0, 0 },
	{ "v=spf1 a/33", 0, 0 },
	{ "v=spf1 mx//129", 0, 0 },
	{ "v=spf1 a:example.123", 0, 0 },   /* all-digit top label */
	{ "v=spf1 a:localhost", 0, 0 },     /* no "." toplabel */
	{ "v=spf1 a:example.com/", 0, 0 },
	{ "v=spf1 a:exa%mple.com", 0, 0 },
	{ "v=spf1 a:%{x}.example.com", 0, 0 },
	{ "v=spf1 a:%{d0}.example.com", 0, 0 },
	{ "v=spf1 a:%{d", 0, 0 },
	{ "v=spf1 a:%{c}.example.com", 0, 0 }, /* c only in exp */
	{ "v=spf1 redirect=a.example redirect=b.example", 0, 0 },
	{ "v=spf1 exp=a.example exp=b.example", 0, 0 },
	{ "v=spf1 redirect=", 0, 0 },
	{ "v=spf1 foo=%", 0, 0 },
};

START_TEST(test_parse)
{
	struct spf_record r;
	char err[128];
	const char *s = records[_i].rec;
	int rc = spf_record_parse(s, strlen(s), &r, err, sizeof(err));
	ck_assert_msg((rc == 0) == (records[_i].ok == 1), "%s: rc %d (%s)", s, rc,
	    rc != 0 ? err : "");
	if (rc == 0) {
		ck_assert_uint_eq(r.n, records[_i].nterms);
		spf_record_clear(&r);
	} else {
		ck_assert_uint_eq(r.n, 0);
		ck_assert_ptr_null(r.terms);
	}
}
END_TEST

START_TEST(test_parse_values)
{
	struct spf_record r;
	char err[128];
	const char *s = "v=spf1 -a:example.org/24//64 ~mx ip4:192.0.2.0/24 ?ip6:2001:db8::/32 "
	                "exp=x.example.org redirect=r.example.org";
	ck_assert_int_eq(spf_record_parse(s, strlen(s), &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_int_eq(r.terms[0].mech, SPF_M_A);
	ck_assert_int_eq(r.terms[0].qual, SPF_FAIL);
	ck_assert_str_eq(r.terms[0].domain, "example.org");
	ck_assert_uint_eq(r.terms[0].cidr4, 24);
	ck_assert_uint_eq(r.terms[0].cidr6, 64);
	ck_assert_int_eq(r.terms[1].mech, SPF_M_MX);
	ck_assert_int_eq(r.terms[1].qual, SPF_SOFTFAIL);
	ck_assert_ptr_null(r.terms[1].domain);
	ck_assert_uint_eq(r.terms[1].cidr4, 32);
	ck_assert_uint_eq(r.terms[1].cidr6, 128);
	ck_assert_int_eq(r.terms[2].qual, SPF_PASS);
	ck_assert_uint_eq(r.terms[2].cidr4, 24);
	ck_assert_int_eq(r.terms[3].qual, SPF_NEUTRAL);
	ck_assert_uint_eq(r.terms[3].cidr6, 32);
	ck_assert_str_eq(r.exp, "x.example.org");
	ck_assert_str_eq(r.redirect, "r.example.org");
	spf_record_clear(&r);
	/* A NUL inside the record is refused. */
	static const char nul[] = "v=spf1 a\0 -all";
	ck_assert_int_eq(spf_record_parse(nul, sizeof(nul) - 1, &r, err, sizeof(err)), -1);
	ck_assert(spf_is_record("v=spf1", 6));
	ck_assert(!spf_is_record("v=spf1x", 7));
	ck_assert(!spf_is_record("v=spf", 5));
}
END_TEST

/* --- macros (RFC 7208 7.4) --------------------------------------------------- */

static const struct {
	const char *in, *want;
	int v6;
} macros[] = {
	{ "%{s}", "strong-bad@email.example.com", 0 },
	{ "%{o}", "email.example.com", 0 },
	{ "%{d}", "email.example.com", 0 },
	{ "%{d4}", "email.example.com", 0 },
	{ "%{d3}", "email.example.com", 0 },
	{ "%{d2}", "example.com", 0 },
	{ "%{d1}", "com", 0 },
	{ "%{dr}", "com.example.email", 0 },
	{ "%{d2r}", "example.email", 0 },
	{ "%{l}", "strong-bad", 0 },
	{ "%{l-}", "strong.bad", 0 },
	{ "%{lr}", "strong-bad", 0 },
	{ "%{lr-}", "bad.strong", 0 },
	{ "%{l1r-}", "strong", 0 },
	{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com", 0 },
	{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com", 0 },
	{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com",
	    0 },
	{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com", 0 },
	{ "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net", 0 },
	{ "%{ir}.%{v}._spf.%{d2}",
	    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com",
	    1 },
	{ "%{S}", "strong-bad%40email.example.com", 0 },
	{ "%{h}.%{p}", "mx.example.org.unknown", 0 },
	{ "a%%b%_c%-d", "a%b c%20d", 0 },
	{ "%{l+-}", "strong.bad", 0 },
};

static const struct spf_macro_vars *
vars(int v6)
{
	static struct netaddr ip4, ip6;
	static struct spf_macro_vars v;
	netaddr_parse("192.0.2.3", &ip4);
	netaddr_parse("2001:db8::cb01", &ip6);
	v = (struct spf_macro_vars){ .sender = "strong-bad@email.example.com",
		.local = "strong-bad", .sender_dom = "email.example.com",
		.domain = "email.example.com", .ip = v6 ? &ip6 : &ip4, .helo = "mx.example.org",
		.receiver = "mx.example.net", .now = 1234567890 };
	return &v;
}

START_TEST(test_macro)
{
	char out[512], err[128];
	int n = spf_macro_expand(macros[_i].in, vars(macros[_i].v6), false, out, sizeof(out), err,
	    sizeof(err));
	ck_assert_msg(n >= 0, "%s: %s", macros[_i].in, err);
	ck_assert_str_eq(out, macros[_i].want);
	ck_assert_int_eq(n, (int)strlen(macros[_i].want));
}
END_TEST

START_TEST(test_macro_exp)
{
	char out[512], err[128];
	ck_assert_int_ge(spf_macro_expand("%{c} is not one of %{d}'s servers (%{r}, %{t})",
			     vars(0), true, out, sizeof(out), err, sizeof(err)),
	    0);
	ck_assert_str_eq(out,
	    "192.0.2.3 is not one of email.example.com's servers (mx.example.net, 1234567890)");
	/* c, r, t and spaces are for explanations only. */
	ck_assert_int_eq(spf_macro_expand("%{c}.x.org", vars(0), false, out, sizeof(out), err,
			     sizeof(err)),
	    -1);
	ck_assert_int_eq(spf_macro_expand("a b.x.org", vars(0), false, out, sizeof(out), err,
			     sizeof(err)),
	    -1);
	/* Too small an output buffer. */
	ck_assert_int_eq(spf_macro_expand("%{s}", vars(0), false, out, 10, err, sizeof(err)), -1);
}
END_TEST

/* RFC 7208 7.3: over 253 octets, labels go from the left. */
START_TEST(test_macro_truncate)
{
	char spec[400], out[1024], err[128];
	size_t n = 0;
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, "label%03d.", i);
	snprintf(spec + n, sizeof(spec) - n, "%%{d}");
	int len = spf_macro_expand(spec, vars(0), false, out, sizeof(out), err, sizeof(err));
	ck_assert_int_ge(len, 0);
	ck_assert_int_le(len, 253);
	ck_assert_uint_eq(strlen(out), (size_t)len);
	ck_assert_ptr_nonnull(strstr(out, ".label029.email.example.com"));
	ck_assert(strncmp(out, "label", 5) == 0);
}
END_TEST

/* --- check_host() against a zone ---------------------------------------------- */

static const char zone_json[] =
    "{\"ttl\": 300, \"names\": {"
    "\"pass.test\": {\"TXT\": [\"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all\","
    "  \"unrelated text\"]},"
    "\"soft.test\": {\"TXT\": [\"v=spf1 ~all\"]},"
    "\"neutral.test\": {\"TXT\": [\"v=spf1 ?all\"]},"
    "\"default.test\": {\"TXT\": [\"v=spf1 ip4:10.9.9.9\"]},"
    "\"nospf.test\": {\"A\": [\"192.0.2.1\"], \"TXT\": [\"hello\"]},"
    "\"a.test\": {\"A\": [\"198.51.100.7\"], \"TXT\": [\"v=spf1 a a:net.test/24 -all\"]},"
    "\"net.test\": {\"A\": [\"203.0.113.1\"]},"
    "\"mx.test\": {\"MX\": [[10, \"mx1.mx.test\"], [20, \"mx2.mx.test\"]],"
    "  \"TXT\": [\"v=spf1 mx -all\"]},"
    "\"mx1.mx.test\": {\"A\": [\"198.51.100.10\"]},"
    "\"mx2.mx.test\": {\"A\": [\"198.51.100.20\"]},"
    "\"inc.test\": {\"TXT\": [\"v=spf1 include:pass.test -all\"]},"
    "\"incnone.test\": {\"TXT\": [\"v=spf1 include:nospf.test -all\"]},"
    "\"redir.test\": {\"TXT\": [\"v=spf1 redirect=pass.test\"]},"
    "\"redirnone.test\": {\"TXT\": [\"v=spf1 redirect=nospf.test\"]},"
    "\"exists.test\": {\"TXT\": [\"v=spf1 exists:%{ir}.list.test -all\"]},"
    "\"5.2.0.192.list.test\": {\"A\": [\"127.0.0.2\"]},"
    "\"ptr.test\": {\"TXT\": [\"v=spf1 ptr -all\"]},"
    "\"9.2.0.192.in-addr.arpa\": {\"PTR\": [\"host.ptr.test\"]},"
    "\"8.2.0.192.in-addr.arpa\": {\"PTR\": [\"liar.ptr.test\"]},"
    "\"host.ptr.test\": {\"A\": [\"192.0.2.9\"]},"
    "\"liar.ptr.test\": {\"A\": [\"192.0.2.200\"]},"
    "\"temp.test\": {\"TXT\": [\"v=spf1 a:broken.test -all\"]},"
    "\"bad.test\": {\"TXT\": [\"v=spf1 ip4:300.1.1.1 -all\"]},"
    "\"two.test\": {\"TXT\": [\"v=spf1 -all\", \"v=spf1 +all\"]},"
    "\"many.test\": {\"TXT\": [\"v=spf1 a:h1.test a:h2.test a:h3.test a:h4.test a:h5.test"
    "  a:h6.test a:h7.test a:h8.test a:h9.test a:h10.test a:h11.test +all\"]},"
    "\"ten.test\": {\"TXT\": [\"v=spf1 a:h1.test a:h2.test a:h3.test a:h4.test a:h5.test"
    "  a:h6.test a:h7.test a:h8.test a:h9.test a:h10.test +all\"]},"
    "\"h1.test\": {\"A\": [\"10.0.0.1\"]}, \"h2.test\": {\"A\": [\"10.0.0.2\"]},"
    "\"h3.test\": {\"A\": [\"10.0.0.3\"]}, \"h4.test\": {\"A\": [\"10.0.0.4\"]},"
    "\"h5.test\": {\"A\": [\"10.0.0.5\"]}, \"h6.test\": {\"A\": [\"10.0.0.6\"]},"
    "\"h7.test\": {\"A\": [\"10.0.0.7\"]}, \"h8.test\": {\"A\": [\"10.0.0.8\"]},"
    "\"h9.test\": {\"A\": [\"10.0.0.9\"]}, \"h10.test\": {\"A\": [\"10.0.0.10\"]},"
    "\"h11.test\": {\"A\": [\"10.0.0.11\"]},"
    "\"void.test\": {\"TXT\": [\"v=spf1 a:nx1.test a:nx2.test a:nx3.test +all\"]},"
    "\"void2.test\": {\"TXT\": [\"v=spf1 a:nx1.test a:nx2.test +all\"]},"
    "\"loop.test\": {\"TXT\": [\"v=spf1 include:loop.test -all\"]},"
    "\"exp.test\": {\"TXT\": [\"v=spf1 -all exp=why.exp.test\"]},"
    "\"why.exp.test\": {\"TXT\": [\"%{i} is not one of %{d}'s designated mail servers.\"]},"
    "\"slowspf.test\": {\"TXT\": [\"v=spf1 a:slow.test -all\"]},"
    "\"pmacro.test\": {\"TXT\": [\"v=spf1 -all exp=why.pmacro.test\"]},"
    "\"why.pmacro.test\": {\"TXT\": [\"connect from %{p}\"]},"
    "\"pexists.test\": {\"TXT\": [\"v=spf1 exists:%{p}.ok.test -all\"]},"
    "\"host.ptr.test.ok.test\": {\"A\": [\"127.0.0.2\"]},"
    "\"slowptr.test\": {\"TXT\": [\"v=spf1 ptr -all\"]},"
    "\"7.2.0.192.in-addr.arpa\": {\"PTR\": [\"a.slowptr.test\", \"b.slowptr.test\","
    "  \"c.slowptr.test\"]}"
    "}, \"drop\": [\"slow.test\", \"a.slowptr.test\", \"b.slowptr.test\","
    " \"c.slowptr.test\"], \"servfail\": [\"broken.test\", \"tempspf.test\"]}";

static struct dns *resolver;
static char fwd[64];

static void
setup(void)
{
	char err[256];
	dnsserver_start(zone_json);
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", server_port);
	static struct cfg_dns_server one;
	static struct cfg_dns c;
	one = (struct cfg_dns_server){ .text = fwd, .fwd = fwd, .line = 1 };
	c = (struct cfg_dns){ .servers = &one, .nservers = 1, .max_cache_size = 1000,
		.negative_ttl = -1, .timeout_ms = 1500 };
	resolver = dns_new(&c, err, sizeof(err));
	ck_assert_msg(resolver != NULL, "%s", err);
}

static void
teardown(void)
{
	dns_free(resolver);
	resolver = NULL;
	dnsserver_stop();
}

struct outcome {
	int calls;
	enum spf_result result;
	char mechanism[128];
	char explanation[256];
	char problem[256];
	char domain[256];
	struct event_base *base;
};

static void
spf_done(const struct spf_outcome *o, void *arg)
{
	struct outcome *out = arg;
	out->calls++;
	out->result = o->result;
	snprintf(out->mechanism, sizeof(out->mechanism), "%s", o->mechanism ? o->mechanism : "");
	snprintf(out->explanation, sizeof(out->explanation), "%s",
	    o->explanation ? o->explanation : "");
	snprintf(out->problem, sizeof(out->problem), "%s", o->problem ? o->problem : "");
	snprintf(out->domain, sizeof(out->domain), "%s", o->domain);
	event_base_loopbreak(out->base);
}

static struct outcome
check(const char *ip, const char *sender, const char *helo)
{
	struct outcome out;
	memset(&out, 0, sizeof(out));
	struct spf_request req = { .sender = sender, .helo = helo, .receiver = "mx.example.net" };
	ck_assert_int_eq(netaddr_parse(ip, &req.ip), 0);
	out.base = event_base_new();
	spf_check_start(resolver, out.base, &req, spf_done, &out);
	struct timeval limit = { 10, 0 };
	event_base_loopexit(out.base, &limit);
	event_base_dispatch(out.base);
	event_base_free(out.base);
	ck_assert_int_eq(out.calls, 1);
	return out;
}

static const struct {
	const char *ip, *sender, *helo;
	enum spf_result want;
	const char *mechanism; /* NULL: not checked */
} cases[] = {
	{ "192.0.2.5", "user@pass.test", "h.example", SPF_PASS, "+ip4:192.0.2.0/24" },
	{ "2001:db8::5", "user@pass.test", "h.example", SPF_PASS, "+ip6:2001:db8::/32" },
	{ "198.51.100.1", "user@pass.test", "h.example", SPF_FAIL, "-all" },
	{ "198.51.100.1", "user@soft.test", "h.example", SPF_SOFTFAIL, "~all" },
	{ "198.51.100.1", "user@neutral.test", "h.example", SPF_NEUTRAL, "?all" },
	{ "198.51.100.1", "user@default.test", "h.example", SPF_NEUTRAL, "default" },
	{ "198.51.100.1", "user@nospf.test", "h.example", SPF_NONE, NULL },
	{ "198.51.100.1", "user@nowhere.test", "h.example", SPF_NONE, NULL },
	{ "198.51.100.1", "user@localhost", "h.example", SPF_NONE, NULL },
	/* a, a:domain/cidr */
	{ "198.51.100.7", "user@a.test", "h.example", SPF_PASS, "+a" },
	{ "203.0.113.200", "user@a.test", "h.example", SPF_PASS, "+a:net.test" },
	{ "198.51.100.8", "user@a.test", "h.example", SPF_FAIL, "-all" },
	/* mx: the second exchange matches */
	{ "198.51.100.20", "user@mx.test", "h.example", SPF_PASS, "+mx" },
	{ "198.51.100.30", "user@mx.test", "h.example", SPF_FAIL, "-all" },
	/* include: pass matches; the included fail does not */
	{ "192.0.2.77", "user@inc.test", "h.example", SPF_PASS, "+include:pass.test" },
	{ "198.51.100.1", "user@inc.test", "h.example", SPF_FAIL, "-all" },
	{ "198.51.100.1", "user@incnone.test", "h.example", SPF_PERMERROR, NULL },
	/* redirect */
	{ "192.0.2.77", "user@redir.test", "h.example", SPF_PASS, NULL },
	{ "198.51.100.1", "user@redir.test", "h.example", SPF_FAIL, NULL },
	{ "198.51.100.1", "user@redirnone.test", "h.example", SPF_PERMERROR, NULL },
	/* exists with a macro */
	{ "192.0.2.5", "user@exists.test", "h.example", SPF_PASS, NULL },
	{ "192.0.2.6", "user@exists.test", "h.example", SPF_FAIL, NULL },
	/* ptr: validated name within the domain; a PTR whose A does not
	 * come back to the client does not count */
	{ "192.0.2.9", "user@ptr.test", "h.example", SPF_PASS, "+ptr" },
	{ "192.0.2.8", "user@ptr.test", "h.example", SPF_FAIL, NULL },
	{ "192.0.2.7", "user@ptr.test", "h.example", SPF_FAIL, NULL },
	/* errors */
	{ "192.0.2.5", "user@temp.test", "h.example", SPF_TEMPERROR, NULL },
	{ "192.0.2.5", "user@tempspf.test", "h.example", SPF_TEMPERROR, NULL },
	{ "192.0.2.5", "user@bad.test", "h.example", SPF_PERMERROR, NULL },
	{ "192.0.2.5", "user@two.test", "h.example", SPF_PERMERROR, NULL },
	{ "192.0.2.5", "user@many.test", "h.example", SPF_PERMERROR, NULL },
	{ "192.0.2.5", "user@ten.test", "h.example", SPF_PASS, "+all" },
	{ "192.0.2.5", "user@void.test", "h.example", SPF_PERMERROR, NULL },
	{ "192.0.2.5", "user@void2.test", "h.example", SPF_PASS, "+all" },
	{ "192.0.2.5", "user@loop.test", "h.example", SPF_PERMERROR, NULL },
	/* the null sender is checked as postmaster@<HELO> */
	{ "192.0.2.5", "", "pass.test", SPF_PASS, NULL },
	{ "198.51.100.1", "", "pass.test", SPF_FAIL, NULL },
	{ "198.51.100.1", "", "", SPF_NONE, NULL },
	/* %{p}: the validated PTR name, else "unknown" */
	{ "192.0.2.9", "user@pexists.test", "h.example", SPF_PASS, NULL },
	{ "192.0.2.8", "user@pexists.test", "h.example", SPF_FAIL, NULL },
	/* an IPv4-mapped IPv6 client is checked as IPv4 */
	{ "::ffff:192.0.2.5", "user@pass.test", "h.example", SPF_PASS, "+ip4:192.0.2.0/24" },
	/* a sender without a local part */
	{ "192.0.2.5", "@pass.test", "h.example", SPF_PASS, NULL },
};

START_TEST(test_check)
{
	struct outcome o = check(cases[_i].ip, cases[_i].sender, cases[_i].helo);
	ck_assert_msg(o.result == cases[_i].want, "%s from %s: %s, want %s (%s; %s)",
	    cases[_i].sender, cases[_i].ip, spf_result_name(o.result),
	    spf_result_name(cases[_i].want), o.mechanism, o.problem);
	if (cases[_i].mechanism != NULL)
		ck_assert_str_eq(o.mechanism, cases[_i].mechanism);
	if (o.result == SPF_PERMERROR || o.result == SPF_TEMPERROR)
		ck_assert_msg(o.problem[0] != '\0', "no problem text");
}
END_TEST

START_TEST(test_explanation)
{
	struct outcome o = check("192.0.2.99", "user@exp.test", "h.example");
	ck_assert_int_eq(o.result, SPF_FAIL);
	ck_assert_str_eq(o.explanation,
	    "192.0.2.99 is not one of exp.test's designated mail servers.");
	o = check("198.51.100.1", "user@pass.test", "h.example");
	ck_assert_str_eq(o.explanation, "");
	/* %{p} in an explanation: validated, or "unknown" */
	o = check("192.0.2.9", "user@pmacro.test", "h.example");
	ck_assert_int_eq(o.result, SPF_FAIL);
	ck_assert_str_eq(o.explanation, "connect from host.ptr.test");
	o = check("192.0.2.8", "user@pmacro.test", "h.example");
	ck_assert_str_eq(o.explanation, "connect from unknown");
	ck_assert_str_eq(o.domain, "pmacro.test");
}
END_TEST

/* A DNS timeout in a mechanism is temperror, within the timeout. */
START_TEST(test_timeout)
{
	struct outcome o = check("192.0.2.5", "user@slowspf.test", "h.example");
	ck_assert_int_eq(o.result, SPF_TEMPERROR);
}
END_TEST

/* The whole check has a time limit: three ptr names whose lookups time
 * out one after another (each skipped, RFC 7208 5.5) would take 4.5 s. */
START_TEST(test_check_deadline)
{
	struct outcome out;
	memset(&out, 0, sizeof(out));
	struct spf_request req = { .sender = "user@slowptr.test", .helo = "h.example",
		.timeout_ms = 2000 };
	ck_assert_int_eq(netaddr_parse("192.0.2.7", &req.ip), 0);
	out.base = event_base_new();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	spf_check_start(resolver, out.base, &req, spf_done, &out);
	struct timeval limit = { 10, 0 };
	event_base_loopexit(out.base, &limit);
	event_base_dispatch(out.base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	event_base_free(out.base);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_int_eq(out.calls, 1);
	ck_assert_int_eq(out.result, SPF_TEMPERROR);
	ck_assert_str_eq(out.problem, "SPF evaluation took too long");
	ck_assert_msg(took >= 1.9 && took < 3.5, "took %.2f s", took);
}
END_TEST

static void
count_calls(const struct spf_outcome *o, void *arg)
{
	(void)o;
	(*(int *)arg)++;
}

/* A cancelled check never calls back (ASan: and leaks nothing). Its own
 * resolver: after the timeouts of the other tests, the shared one may
 * (rightly) fail fast, and "a" must still be waiting when cancelled. */
START_TEST(test_cancel)
{
	char err[256];
	static struct cfg_dns_server one;
	static struct cfg_dns cd;
	one = (struct cfg_dns_server){ .text = fwd, .fwd = fwd, .line = 1 };
	cd = (struct cfg_dns){ .servers = &one, .nservers = 1, .negative_ttl = -1,
		.timeout_ms = 5000 };
	struct dns *own = dns_new(&cd, err, sizeof(err));
	ck_assert_msg(own != NULL, "%s", err);
	struct event_base *base = event_base_new();
	int called = 0;
	struct spf_request req = { .sender = "user@slowspf.test", .helo = "h.example" };
	ck_assert_int_eq(netaddr_parse("192.0.2.5", &req.ip), 0);
	struct spf_check *a = spf_check_start(own, base, &req, count_calls, &called);
	req.sender = "user@pass.test";
	struct spf_check *b = spf_check_start(own, base, &req, count_calls, &called);
	req.sender = "user@localhost"; /* answered without a lookup */
	struct spf_check *c = spf_check_start(own, base, &req, count_calls, &called);
	struct timeval t = { 0, 300000 };
	event_base_loopexit(base, &t);
	event_base_dispatch(base); /* a is inside the slow lookup now */
	ck_assert_int_eq(called, 2);
	spf_check_cancel(a);
	(void)b;
	(void)c;
	struct timeval t2 = { 2, 0 };
	event_base_loopexit(base, &t2);
	event_base_dispatch(base);
	ck_assert_int_eq(called, 2);
	req.sender = "user@pass.test";
	struct spf_check *d = spf_check_start(own, base, &req, count_calls, &called);
	spf_check_cancel(d);
	req.sender = "user@localhost";
	d = spf_check_start(own, base, &req, count_calls, &called);
	spf_check_cancel(d);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(called, 2);
	event_base_free(base);
	dns_free(own);
}
END_TEST

static Suite *
spf_suite(void)
{
	Suite *s = suite_create("spf");
	TCase *tc = tcase_create("record");
	tcase_add_loop_test(tc, test_parse, 0, NELEM(records));
	tcase_add_test(tc, test_parse_values);
	tcase_add_loop_test(tc, test_macro, 0, NELEM(macros));
	tcase_add_test(tc, test_macro_exp);
	tcase_add_test(tc, test_macro_truncate);
	suite_add_tcase(s, tc);

	tc = tcase_create("check_host");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_check, 0, NELEM(cases));
	tcase_add_test(tc, test_explanation);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_check_deadline);
	tcase_add_test(tc, test_cancel);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	evthread_use_pthreads();
	SRunner *sr = srunner_create(spf_suite());
	/* One server and resolver for the whole case (unchecked fixture):
	 * no fork, so the cache and the server persist across the checks. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * test_dns.c - unit tests of the resolver (src/dns/dns.c) against
 * tests/integration/dnsserver.py, started per test on a free loopback
 * port with a zone written here. Run from the project root.
 */
#include "../../src/config/config.h"
#include "../../src/core/xmalloc.h"
#include "../../src/dns/dns.h"
#include "dnsserver_fixture.h"

#include <check.h>
#include <event2/event.h>
#include <event2/thread.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char zone_json[] =
    "{\"ttl\": 300, \"names\": {"
    "\"a.test\": {\"A\": [\"192.0.2.1\", \"192.0.2.2\"], \"AAAA\": [\"2001:db8::1\"],"
    "  \"TXT\": [[\"v=spf1 \", \"ip4:192.0.2.0/24 \", \"-all\"], \"second\"]},"
    "\"mail.test\": {\"MX\": [[20, \"b.mx.test\"], [10, \"a.mx.test\"], [30, \"c.mx.test\"],"
    "  [10, \"d.mx.test\"]]},"
    "\"www.test\": {\"CNAME\": \"a.test\"},"
    "\"short.test\": {\"A\": [\"192.0.2.9\"], \"TTL\": 1},"
    "\"1.2.0.192.in-addr.arpa\": {\"PTR\": [\"a.test\"]},"
    "\"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa\":"
    "  {\"PTR\": [\"v6.test\"]},"
    "\"odd.test\": {\"PTR\": [\"we ird.test\"]},"
    "\"sp ace.test\": {\"A\": [\"192.0.2.32\"]},"
    "\"back\\\\slash.test\": {\"A\": [\"192.0.2.92\"]},"
    "\"n0.test\": {\"A\": [\"10.0.0.0\"]}, \"n1.test\": {\"A\": [\"10.0.0.1\"]},"
    "\"n2.test\": {\"A\": [\"10.0.0.2\"]}, \"n3.test\": {\"A\": [\"10.0.0.3\"]},"
    "\"n4.test\": {\"A\": [\"10.0.0.4\"]}, \"n5.test\": {\"A\": [\"10.0.0.5\"]},"
    "\"n6.test\": {\"A\": [\"10.0.0.6\"]}, \"n7.test\": {\"A\": [\"10.0.0.7\"]}"
    "}, \"drop\": [\"slow.test\"], \"servfail\": [\"broken.test\"],"
    " \"refused\": [\"refused.test\"]}";

#define BIG_TXT 3000

/* Starts dnsserver.py with zone_json (dnsserver_fixture.h), plus
 * big.test, whose TXT record is too large for UDP. */
static void
setup(void)
{
	char *big = xmalloc(BIG_TXT + 1);
	for (size_t i = 0; i < BIG_TXT; i++)
		big[i] = (char)('a' + i % 26);
	big[BIG_TXT] = '\0';
	const char *names = strstr(zone_json, "\"names\": {");
	ck_assert_ptr_nonnull(names);
	size_t head = (size_t)(names - zone_json) + strlen("\"names\": {");
	char *zone = xasprintf("%.*s\"big.test\": {\"TXT\": [\"%s\"]}, %s", (int)head, zone_json,
	    big, zone_json + head);
	dnsserver_start(zone);
	free(zone);
	free(big);
}

static void
teardown(void)
{
	dnsserver_stop();
}

static struct cfg_dns cfgd;
static struct cfg_dns_server one_server;
static char fwd[64];

/* A resolver that asks only the test server, with the given timeout. */
static struct dns *
test_dns(unsigned timeout_ms)
{
	char err[256];
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", server_port);
	one_server = (struct cfg_dns_server){ .text = fwd, .fwd = fwd, .line = 1 };
	cfgd = (struct cfg_dns){ .servers = &one_server, .nservers = 1, .autodiscover = false,
		.max_cache_size = 1000, .negative_ttl = -1, .timeout_ms = timeout_ms };
	struct dns *d = dns_new(&cfgd, err, sizeof(err));
	ck_assert_msg(d != NULL, "dns_new: %s", err);
	return d;
}

/* What a callback saw, copied out of the result. */
struct got {
	bool called;
	int calls;
	pthread_t thread;
	enum dns_status status;
	size_t n;
	char text[8][256];
	size_t len[8];
	unsigned pref[8];
	struct netaddr addr[8];
	char why[64];
	struct event_base *stop; /* loop to break when called */
};

static void
got_cb(const struct dns_result *r, void *arg)
{
	struct got *g = arg;
	g->called = true;
	g->calls++;
	g->thread = pthread_self();
	g->status = r->status;
	g->n = r->n;
	snprintf(g->why, sizeof(g->why), "%s", r->why != NULL ? r->why : "");
	for (size_t i = 0; i < r->n && i < 8; i++) {
		g->addr[i] = r->rr[i].addr;
		g->pref[i] = r->rr[i].pref;
		g->len[i] = r->rr[i].len;
		if (r->rr[i].text != NULL)
			snprintf(g->text[i], sizeof(g->text[i]), "%.*s", (int)r->rr[i].len,
			    r->rr[i].text);
	}
	if (g->stop != NULL)
		event_base_loopbreak(g->stop);
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one lookup to completion on a fresh base (at most 10 s). */
static void
lookup(struct dns *d, enum dns_type t, const char *name, struct got *g)
{
	struct event_base *base = event_base_new();
	memset(g, 0, sizeof(*g));
	g->stop = base;
	dns_lookup(d, base, t, name, got_cb, g);
	struct timeval limit = { 10, 0 };
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	event_base_free(base);
	ck_assert_msg(g->called, "no answer for %s", name);
	ck_assert_msg(pthread_equal(g->thread, pthread_self()), "callback on another thread");
}

static char *
fmt_addr(const struct netaddr *a)
{
	static char buf[64];
	netaddr_format(a, buf, sizeof(buf));
	return buf;
}

START_TEST(test_a_aaaa)
{
	struct dns *d = test_dns(3000);
	struct got g;
	lookup(d, DNS_A, "a.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_uint_eq(g.n, 2);
	char both[64];
	snprintf(both, sizeof(both), "%s", fmt_addr(&g.addr[0]));
	strcat(both, " ");
	strcat(both, fmt_addr(&g.addr[1]));
	ck_assert_msg(strcmp(both, "192.0.2.1 192.0.2.2") == 0 ||
	        strcmp(both, "192.0.2.2 192.0.2.1") == 0,
	    "%s", both);
	lookup(d, DNS_AAAA, "a.test.", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_str_eq(fmt_addr(&g.addr[0]), "2001:db8::1");
	/* Through a CNAME: the records of the target. */
	lookup(d, DNS_AAAA, "www.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_str_eq(fmt_addr(&g.addr[0]), "2001:db8::1");
	dns_free(d);
}
END_TEST

START_TEST(test_mx_sorted)
{
	struct dns *d = test_dns(3000);
	struct got g;
	lookup(d, DNS_MX, "mail.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_uint_eq(g.n, 4);
	ck_assert_uint_eq(g.pref[0], 10);
	ck_assert_uint_eq(g.pref[1], 10);
	ck_assert_uint_eq(g.pref[2], 20);
	ck_assert_uint_eq(g.pref[3], 30);
	ck_assert_str_eq(g.text[2], "b.mx.test");
	ck_assert_str_eq(g.text[3], "c.mx.test");
	ck_assert_msg((strcmp(g.text[0], "a.mx.test") == 0 && strcmp(g.text[1], "d.mx.test") == 0) ||
	        (strcmp(g.text[0], "d.mx.test") == 0 && strcmp(g.text[1], "a.mx.test") == 0),
	    "%s %s", g.text[0], g.text[1]);
	ck_assert_uint_eq(g.len[2], strlen("b.mx.test"));
	dns_free(d);
}
END_TEST

START_TEST(test_ptr)
{
	struct dns *d = test_dns(3000);
	struct got g;
	struct event_base *base = event_base_new();
	struct netaddr a;

	ck_assert_int_eq(netaddr_parse("192.0.2.1", &a), 0);
	memset(&g, 0, sizeof(g));
	g.stop = base;
	dns_lookup_ptr(d, base, &a, got_cb, &g);
	event_base_dispatch(base);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_str_eq(g.text[0], "a.test");

	ck_assert_int_eq(netaddr_parse("2001:db8::1", &a), 0);
	memset(&g, 0, sizeof(g));
	g.stop = base;
	dns_lookup_ptr(d, base, &a, got_cb, &g);
	event_base_dispatch(base);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_str_eq(g.text[0], "v6.test");

	ck_assert_int_eq(netaddr_parse("192.0.2.77", &a), 0);
	memset(&g, 0, sizeof(g));
	g.stop = base;
	dns_lookup_ptr(d, base, &a, got_cb, &g);
	event_base_dispatch(base);
	ck_assert_int_eq(g.status, DNS_NXDOMAIN);
	event_base_free(base);

	/* An odd octet inside a label comes back escaped. */
	lookup(d, DNS_PTR, "odd.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_str_eq(g.text[0], "we\\032ird.test");
	dns_free(d);
}
END_TEST

START_TEST(test_txt)
{
	struct dns *d = test_dns(3000);
	struct got g;
	lookup(d, DNS_TXT, "a.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_uint_eq(g.n, 2);
	const char *spf = "v=spf1 ip4:192.0.2.0/24 -all";
	int i = strcmp(g.text[0], "second") == 0 ? 1 : 0;
	ck_assert_str_eq(g.text[i], spf);
	ck_assert_uint_eq(g.len[i], strlen(spf));
	ck_assert_str_eq(g.text[1 - i], "second");
	dns_free(d);
}
END_TEST

/* An answer too large for UDP comes truncated; libunbound asks again
 * over TCP. The 255-octet strings come back as one text. */
START_TEST(test_tcp_fallback)
{
	struct dns *d = test_dns(3000);
	struct got g;
	lookup(d, DNS_TXT, "big.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.len[0], BIG_TXT);
	ck_assert(strncmp(g.text[0], "abcdefghijklmnopqrstuvwxyzabc", 29) == 0);
	/* Once over UDP (truncated), once over TCP. */
	ck_assert_int_ge(queries("big.test", "TXT"), 2);
	dns_free(d);
}
END_TEST

/* NXDOMAIN and no data are the permanent answers, told apart. */
START_TEST(test_negative)
{
	struct dns *d = test_dns(3000);
	struct got g;
	lookup(d, DNS_A, "nothing.test", &g);
	ck_assert_int_eq(g.status, DNS_NXDOMAIN);
	ck_assert(dns_permanent(g.status));
	lookup(d, DNS_MX, "a.test", &g);
	ck_assert_int_eq(g.status, DNS_NODATA);
	ck_assert(dns_permanent(g.status));
	lookup(d, DNS_A, "mx.test", &g);
	ck_assert_int_eq(g.status, DNS_NXDOMAIN);
	/* An empty non-terminal exists: no data, not NXDOMAIN. */
	lookup(d, DNS_A, "0.192.in-addr.arpa", &g);
	ck_assert_int_eq(g.status, DNS_NODATA);
	dns_free(d);
}
END_TEST

/* SERVFAIL and REFUSED are temporary, never "does not exist". */
START_TEST(test_servfail)
{
	struct dns *d = test_dns(5000);
	struct got g;
	lookup(d, DNS_A, "broken.test", &g);
	ck_assert_int_eq(g.status, DNS_TEMPFAIL);
	ck_assert(!dns_permanent(g.status));
	ck_assert_int_ge(queries("broken.test", "A"), 1);
	lookup(d, DNS_MX, "refused.test", &g);
	ck_assert_int_eq(g.status, DNS_TEMPFAIL);
	dns_free(d);
}
END_TEST

/* A server that never answers: DNS_TEMPFAIL "timeout" within the
 * configured timeout. */
START_TEST(test_timeout)
{
	struct dns *d = test_dns(1000);
	struct got g;
	double t0 = now();
	lookup(d, DNS_A, "slow.test", &g);
	double took = now() - t0;
	ck_assert_int_eq(g.status, DNS_TEMPFAIL);
	ck_assert_str_eq(g.why, "timeout");
	ck_assert_msg(took >= 0.9 && took < 2.5, "took %.2f s", took);
	ck_assert_int_ge(queries("slow.test", "A"), 1);
	dns_free(d);
}
END_TEST

/* Invalid names never reach the DNS. */
START_TEST(test_invalid)
{
	static const char *const bad[] = { "", ".", "a..test", ".a.test", "a\ttest",
		"a\ntest", "a\x7ftest", "a\xc3\xa9.test",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test" };
	struct dns *d = test_dns(3000);
	struct got g;
	for (size_t i = 0; i < NELEM(bad); i++) {
		lookup(d, DNS_A, bad[i], &g);
		ck_assert_int_eq(g.status, DNS_INVALID);
		ck_assert(dns_permanent(g.status));
	}
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	for (size_t i = 60; i < sizeof(longname); i += 61)
		longname[i] = '.';
	longname[254] = '\0';
	lookup(d, DNS_A, longname, &g);
	ck_assert_int_eq(g.status, DNS_INVALID);
	longname[253] = '\0';
	lookup(d, DNS_A, longname, &g);
	ck_assert_int_eq(g.status, DNS_NXDOMAIN);
	dns_free(d);
	FILE *f = fopen(logpath, "r");
	char line[512];
	int n = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		n++;
	if (f != NULL)
		fclose(f);
	ck_assert_int_eq(n, 1); /* only the 253-octet name was asked */
}
END_TEST

/* Octets other than letters and digits are sent as they are: a space, a
 * backslash (never an escape), "%" (SPF macros can produce them). */
START_TEST(test_odd_octets)
{
	struct dns *d = test_dns(3000);
	struct got g;
	lookup(d, DNS_A, "sp ace.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_str_eq(fmt_addr(&g.addr[0]), "192.0.2.32");
	lookup(d, DNS_A, "back\\slash.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_str_eq(fmt_addr(&g.addr[0]), "192.0.2.92");
	lookup(d, DNS_A, "back\\046slash.test", &g);
	ck_assert_int_eq(g.status, DNS_NXDOMAIN);
	lookup(d, DNS_A, "50%.x:y/z.test", &g);
	ck_assert_int_eq(g.status, DNS_NXDOMAIN);
	ck_assert_int_eq(queries("50%.x:y/z.test", "A"), 1);
	dns_free(d);
}
END_TEST

/* The second lookup of a name is answered from the cache; a record
 * whose TTL ran out is asked again. */
START_TEST(test_cache)
{
	struct dns *d = test_dns(3000);
	struct got g;
	lookup(d, DNS_A, "a.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_int_eq(queries("a.test", "A"), 1);
	lookup(d, DNS_A, "a.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_int_eq(queries("a.test", "A"), 1);
	/* Negative answers are cached too (RFC 2308, the SOA's minimum). */
	lookup(d, DNS_A, "nothing.test", &g);
	lookup(d, DNS_A, "nothing.test", &g);
	ck_assert_int_eq(g.status, DNS_NXDOMAIN);
	ck_assert_int_eq(queries("nothing.test", "A"), 1);
	/* TTL 1: gone from the cache two seconds later. */
	lookup(d, DNS_A, "short.test", &g);
	ck_assert_int_eq(queries("short.test", "A"), 1);
	sleep(2);
	lookup(d, DNS_A, "short.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	ck_assert_int_eq(queries("short.test", "A"), 2);
	dns_free(d);
}
END_TEST

/* --- two I/O threads at once ---------------------------------------------- */

#define PER_THREAD 200

struct iothread {
	struct dns *d;
	struct event_base *base;
	pthread_t self;
	int done;
	int wrong_thread;
	int wrong_answer;
	struct got g[PER_THREAD];
	char names[PER_THREAD][32];
};

static void
io_cb(const struct dns_result *r, void *arg)
{
	struct got *g = arg;
	struct iothread *t = (struct iothread *)g->stop; /* back pointer */
	size_t i = (size_t)(g - t->g);
	if (!pthread_equal(pthread_self(), t->self))
		t->wrong_thread++;
	char want[32];
	snprintf(want, sizeof(want), "10.0.0.%zu", i % 8);
	if (i % 10 == 9) {
		if (r->status != DNS_NXDOMAIN)
			t->wrong_answer++;
	} else if (r->status != DNS_FOUND || r->n != 1 ||
	    strcmp(fmt_addr(&r->rr[0].addr), want) != 0) {
		t->wrong_answer++;
	}
	if (++t->done == PER_THREAD)
		event_base_loopbreak(t->base);
}

static void *
io_main(void *arg)
{
	struct iothread *t = arg;
	t->self = pthread_self();
	t->base = event_base_new();
	for (size_t i = 0; i < PER_THREAD; i++) {
		t->g[i].stop = (struct event_base *)(void *)t;
		if (i % 10 == 9)
			snprintf(t->names[i], sizeof(t->names[i]), "missing%zu.test", i);
		else
			snprintf(t->names[i], sizeof(t->names[i]), "n%zu.test", i % 8);
		dns_lookup(t->d, t->base, DNS_A, t->names[i], io_cb, &t->g[i]);
	}
	struct timeval limit = { 20, 0 };
	event_base_loopexit(t->base, &limit);
	event_base_dispatch(t->base);
	event_base_free(t->base);
	return NULL;
}

START_TEST(test_threads)
{
	struct dns *d = test_dns(5000);
	static struct iothread t[2];
	memset(t, 0, sizeof(t));
	for (int i = 0; i < 2; i++) {
		t[i].d = d;
		ck_assert_int_eq(pthread_create(&t[i].self, NULL, io_main, &t[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i].self, NULL);
		ck_assert_int_eq(t[i].done, PER_THREAD);
		ck_assert_int_eq(t[i].wrong_thread, 0);
		ck_assert_int_eq(t[i].wrong_answer, 0);
	}
	dns_free(d);
}
END_TEST

/* --- cancellation ----------------------------------------------------------- */

static void
must_not_run(const struct dns_result *r, void *arg)
{
	(void)r;
	int *called = arg;
	(*called)++;
}

/* A cancelled lookup never calls back: neither its answer nor its
 * timeout; the requester's memory may go at once. */
START_TEST(test_cancel)
{
	struct dns *d = test_dns(1000);
	struct event_base *base = event_base_new();
	int *called = xcalloc(1, sizeof(int));
	struct dns_query *slow = dns_lookup(d, base, DNS_A, "slow.test", must_not_run, called);
	struct dns_query *fast = dns_lookup(d, base, DNS_A, "a.test", must_not_run, called);
	struct dns_query *bad = dns_lookup(d, base, DNS_A, "a..test", must_not_run, called);
	dns_cancel(fast);
	dns_cancel(bad);
	dns_cancel(slow);
	struct got g;
	memset(&g, 0, sizeof(g));
	dns_lookup(d, base, DNS_A, "n1.test", got_cb, &g);
	/* Past the timeout of the slow lookup. */
	struct timeval limit = { 1, 500000 };
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	ck_assert_int_eq(*called, 0);
	ck_assert(g.called);
	ck_assert_int_eq(g.calls, 1);
	free(called);
	/* A lookup cancelled after its answer reached libunbound but before
	 * the loop ran: the answer is dropped. */
	called = xcalloc(1, sizeof(int));
	struct dns_query *q = dns_lookup(d, base, DNS_A, "n2.test", must_not_run, called);
	usleep(300000);
	dns_cancel(q);
	struct timeval shortwait = { 0, 300000 };
	event_base_loopexit(base, &shortwait);
	event_base_dispatch(base);
	ck_assert_int_eq(*called, 0);
	free(called);
	event_base_free(base);
	dns_free(d); /* frees the slow lookup libunbound still holds */
}
END_TEST

/* Lookups still waiting for the server at dns_free are freed (ASan). */
START_TEST(test_free_with_pending)
{
	struct dns *d = test_dns(5000);
	struct event_base *base = event_base_new();
	int called = 0;
	struct dns_query *q[20];
	for (int i = 0; i < 20; i++)
		q[i] = dns_lookup(d, base, DNS_A, "slow.test", must_not_run, &called);
	usleep(100000);
	for (int i = 0; i < 20; i++)
		dns_cancel(q[i]);
	dns_free(d);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
	ck_assert_int_eq(called, 0);
}
END_TEST

/* No server at all (a closed port): a temporary failure, not NXDOMAIN. */
START_TEST(test_no_server)
{
	char err[256];
	struct cfg_dns_server s = { .text = "127.0.0.1@9", .fwd = "127.0.0.1@9", .line = 1 };
	struct cfg_dns c = { .servers = &s, .nservers = 1, .timeout_ms = 2000,
		.negative_ttl = -1 };
	struct dns *d = dns_new(&c, err, sizeof(err));
	ck_assert_msg(d != NULL, "%s", err);
	struct got g;
	lookup(d, DNS_A, "a.test", &g);
	ck_assert_int_eq(g.status, DNS_TEMPFAIL);
	dns_free(d);
}
END_TEST

/* autodiscover reads the nameserver lines of a resolv.conf. */
START_TEST(test_autodiscover)
{
	char err[256], path[300];
	snprintf(path, sizeof(path), "%s/resolv.conf", tmpdir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# test\nsearch example.org\nnameserver fe80::1%%eth0\noptions ndots:1\n");
	fclose(f);
	/* libunbound cannot take a port from resolv.conf, so the test server
	 * is reached through the configured server; the point here is that a
	 * resolv.conf is read and combined, not replaced. */
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", server_port);
	struct cfg_dns_server s = { .text = fwd, .fwd = fwd, .line = 1 };
	struct cfg_dns c = { .servers = &s, .nservers = 1, .autodiscover = true,
		.resolv_conf = path, .timeout_ms = 3000, .negative_ttl = -1 };
	struct dns *d = dns_new(&c, err, sizeof(err));
	ck_assert_msg(d != NULL, "%s", err);
	struct got g;
	lookup(d, DNS_A, "n3.test", &g);
	ck_assert_int_eq(g.status, DNS_FOUND);
	dns_free(d);
	unlink(path);
}
END_TEST

/* --- pure helpers ------------------------------------------------------------ */

static const struct {
	const char *addr, *suffix, *want;
} reverses[] = {
	{ "192.0.2.1", "in-addr.arpa", "1.2.0.192.in-addr.arpa" },
	{ "127.0.0.2", "zen.spamhaus.org", "2.0.0.127.zen.spamhaus.org" },
	{ "127.0.0.2", "bl.test.", "2.0.0.127.bl.test" },
	{ "10.20.30.40", "", "40.30.20.10" },
	/* RFC 5782 2.4 */
	{ "2001:db8:1:2:3:4:567:89ab", "ugly.example.com",
	    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com" },
	{ "::1", "ip6.arpa",
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa" },
};

START_TEST(test_reverse_name)
{
	char buf[DNS_NAME_MAX + 1];
	struct netaddr a;
	ck_assert_int_eq(netaddr_parse(reverses[_i].addr, &a), 0);
	int n = dns_reverse_name(&a, reverses[_i].suffix, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(reverses[_i].want));
	ck_assert_str_eq(buf, reverses[_i].want);
}
END_TEST

START_TEST(test_reverse_name_limits)
{
	char buf[DNS_NAME_MAX + 1], small[10];
	struct netaddr a;
	ck_assert_int_eq(netaddr_parse("192.0.2.1", &a), 0);
	ck_assert_int_eq(dns_reverse_name(&a, "in-addr.arpa", small, sizeof(small)), -1);
	char zone[300];
	memset(zone, 'a', sizeof(zone));
	zone[250] = '\0';
	ck_assert_int_eq(dns_reverse_name(&a, zone, buf, sizeof(buf)), -1);
	a.family = AF_UNIX;
	ck_assert_int_eq(dns_reverse_name(&a, "x", buf, sizeof(buf)), -1);
}
END_TEST

static const struct {
	const char *wire;
	size_t len;
	long end;
	const char *text;
} names[] = {
	{ "\3www\7example\3com\0", 17, 17, "www.example.com" },
	{ "\0", 1, 1, "" },
	{ "\3a.b\1\\\0", 7, 7, "a\\046b.\\092" },
	{ "\2\x01\xff\0", 4, 4, "\\001\\255" },
	{ "\3www", 4, -1, NULL },          /* truncated */
	{ "\3www\7exa", 8, -1, NULL },     /* truncated label */
	{ "\xc0\x0c", 2, -1, NULL },       /* compression pointer */
	{ "\x40", 1, -1, NULL },           /* label type 01 */
	{ "", 0, -1, NULL },               /* empty */
};

START_TEST(test_name_decode)
{
	char out[1024];
	long end = dns_name_decode((const uint8_t *)names[_i].wire, names[_i].len, 0, out,
	    sizeof(out));
	ck_assert_int_eq(end, names[_i].end);
	if (names[_i].text != NULL)
		ck_assert_str_eq(out, names[_i].text);
}
END_TEST

START_TEST(test_name_decode_long)
{
	/* 5 labels of 63 octets: 320 octets of wire name is over 255. */
	uint8_t wire[400];
	size_t n = 0;
	for (int i = 0; i < 5; i++) {
		wire[n++] = 63;
		memset(wire + n, 'x', 63);
		n += 63;
	}
	wire[n++] = 0;
	char out[1024];
	ck_assert_int_eq(dns_name_decode(wire, n, 0, out, sizeof(out)), -1);
	/* 3 labels fit, but not into a small buffer. */
	wire[3 * 64] = 0;
	ck_assert_int_eq(dns_name_decode(wire, 3 * 64 + 1, 0, out, sizeof(out)), 3 * 64 + 1);
	ck_assert_uint_eq(strlen(out), 3 * 63 + 2);
	ck_assert_int_eq(dns_name_decode(wire, 3 * 64 + 1, 0, out, 100), -1);
}
END_TEST

static Suite *
dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("helpers");
	tcase_add_loop_test(tc, test_reverse_name, 0, NELEM(reverses));
	tcase_add_test(tc, test_reverse_name_limits);
	tcase_add_loop_test(tc, test_name_decode, 0, NELEM(names));
	tcase_add_test(tc, test_name_decode_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolver");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_a_aaaa);
	tcase_add_test(tc, test_mx_sorted);
	tcase_add_test(tc, test_ptr);
	tcase_add_test(tc, test_txt);
	tcase_add_test(tc, test_tcp_fallback);
	tcase_add_test(tc, test_negative);
	tcase_add_test(tc, test_servfail);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_invalid);
	tcase_add_test(tc, test_odd_octets);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_free_with_pending);
	tcase_add_test(tc, test_no_server);
	tcase_add_test(tc, test_autodiscover);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	evthread_use_pthreads();
	SRunner *sr = srunner_create(dns_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* test_netaddr.c - unit tests for src/core/netaddr.c (James network lists). */
#include "../../src/core/netaddr.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A resolver that never leaves the process: fixed answers for test names. */
static int
fake_resolver(const char *host, int family, struct netaddr *out, size_t max, size_t *n,
    char *err, size_t errlen)
{
	static const struct {
		const char *host;
		const char *addrs[2];
	} table[] = {
		{ "localhost", { "127.0.0.1", "::1" } },
		{ "mail.test", { "192.0.2.10", NULL } },
		{ "v6only.test", { "2001:db8::25", NULL } },
	};
	*n = 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(table[i].host, host) != 0)
			continue;
		for (size_t k = 0; k < 2 && table[i].addrs[k] != NULL && *n < max; k++) {
			struct netaddr a;
			ck_assert_int_eq(netaddr_parse(table[i].addrs[k], &a), 0);
			if (family == AF_UNSPEC || family == a.family)
				out[(*n)++] = a;
		}
	}
	if (*n == 0) {
		snprintf(err, errlen, "Name or service not known");
		return -1;
	}
	return 0;
}

static void
setup(void)
{
	netaddr_set_resolver(fake_resolver);
}

static void
teardown(void)
{
	netaddr_set_resolver(NULL);
}

/* Formats the list as "net/prefix net/prefix ...". */
static void
list_text(const struct netlist *l, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		char a[INET6_ADDRSTRLEN];
		netaddr_format(&l->v[i].net, a, sizeof(a));
		o += (size_t)snprintf(buf + o, len - o, "%s%s/%u", i ? " " : "", a, l->v[i].prefix);
	}
}

/* Every accepted form and what it becomes. */
static const struct {
	const char *spec;
	const char *want;
} accepted[] = {
	{ "127.0.0.1", "127.0.0.1/32" },
	{ "127.0.0.0/8", "127.0.0.0/8" },
	{ "10.1.2.3/8", "10.0.0.0/8" },
	{ "192.168.0.0/255.255.0.0", "192.168.0.0/16" },
	{ "127.0.0.0/255.0.0.0", "127.0.0.0/8" },
	{ "10.0.0.0/0.0.0.0", "0.0.0.0/0" },
	{ "127.*", "127.0.0.0/8" },
	{ "10.1.*", "10.1.0.0/16" },
	{ "10.1.*.*", "10.1.0.0/16" },
	{ "10.1.2.*", "10.1.2.0/24" },
	{ "*", "0.0.0.0/0" },
	{ "::1", "::1/128" },
	{ "2001:db8::/32", "2001:db8::/32" },
	{ "2001:db8:1:2::/32", "2001:db8::/32" },
	{ "2001:db8::%48", "2001:db8::/48" },
	{ "[::1]", "::1/128" },
	{ "[::1]/128", "::1/128" },
	{ "[2001:db8::]/48", "2001:db8::/48" },
	{ "[2001:db8::]%64", "2001:db8::/64" },
	{ "::ffff:10.0.0.1", "10.0.0.1/32" },
	{ "::ffff:10.0.0.0/104", "10.0.0.0/8" },
	{ "::ffff:0:0/96", "0.0.0.0/0" },
	{ "::/0", "::/0" },
	{ "localhost", "127.0.0.1/32 ::1/128" },
	{ "mail.test", "192.0.2.10/32" },
	{ "localhost/8", "127.0.0.0/8" },
	{ "mail.test/255.255.255.0", "192.0.2.0/24" },
	{ "127.0.0.1, 10.0.0.0/8  192.168.*\t::1\n", "127.0.0.1/32 10.0.0.0/8 192.168.0.0/16 ::1/128" },
	{ "127.0.0.1,,10.0.0.1", "127.0.0.1/32 10.0.0.1/32" },
	{ "", "" },
	{ " , \t", "" },
};

START_TEST(test_accepted)
{
	struct netlist l = { 0 };
	char err[256], got[1024];
	int rc = netlist_parse(&l, accepted[_i].spec, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: %s", accepted[_i].spec, err);
	list_text(&l, got, sizeof(got));
	ck_assert_str_eq(got, accepted[_i].want);
	netlist_clear(&l);
}
END_TEST

/* Bad tokens and the exact reason given. */
static const struct {
	const char *spec;
	const char *err;
} rejected[] = {
	{ "10.0.0.0/33", "\"10.0.0.0/33\" has a prefix longer than 32 bits" },
	{ "2001:db8::/129", "\"2001:db8::/129\" has a prefix longer than 128 bits" },
	{ "10.0.0.0/", "\"10.0.0.0/\" has a bad prefix (use a number of bits or a netmask such as 255.255.0.0)" },
	{ "10.0.0.0/abc", "\"10.0.0.0/abc\" has a bad prefix (use a number of bits or a netmask such as 255.255.0.0)" },
	{ "::1/ffff::", "\"::1/ffff::\" has a bad prefix (use a number of bits)" },
	{ "10.0.0.0/255.0.255.0", "\"10.0.0.0/255.0.255.0\" has a netmask that is not contiguous" },
	{ "300.1.2.3", "\"300.1.2.3\" is not an IPv4 address" },
	{ "10.1", "\"10.1\" is not an IPv4 address" },
	{ "1.2.3.4.5", "\"1.2.3.4.5\" is not an IPv4 address" },
	{ "2001:db8::zz", "\"2001:db8::zz\" is not an IPv6 address" },
	{ "[1.2.3.4]", "\"[1.2.3.4]\" is not an IPv6 address" },
	{ "[::1", "\"[::1\" is not an IP address, network or host name" },
	{ "[::1]x", "\"[::1]x\" is not an IP address, network or host name" },
	{ "10.*.1.*", "\"10.*.1.*\" is not a valid wildcard (only trailing octets may be *, as in 10.* or 10.1.*.*)" },
	{ "10.1*", "\"10.1*\" is not a valid wildcard (only trailing octets may be *, as in 10.* or 10.1.*.*)" },
	{ "256.*", "\"256.*\" is not a valid wildcard (only trailing octets may be *, as in 10.* or 10.1.*.*)" },
	{ "1.2.3.4.*", "\"1.2.3.4.*\" is not a valid wildcard (only trailing octets may be *, as in 10.* or 10.1.*.*)" },
	{ "127.*/8", "\"127.*/8\" is not a valid wildcard (a wildcard takes no prefix)" },
	{ "no-such.test", "\"no-such.test\": host name does not resolve (Name or service not known)" },
	{ "v6only.test/24", "\"v6only.test/24\": host name does not resolve (Name or service not known)" },
	{ "bad!host", "\"bad!host\" is not an IP address, network or host name" },
	{ "/8", "\"/8\" is not an IP address, network or host name" },
	{ "127.0.0.1, 10.0.0.0/40", "\"10.0.0.0/40\" has a prefix longer than 32 bits" },
	{ "h\001x", "\"h\\x01x\" is not an IP address, network or host name" },
};

START_TEST(test_rejected)
{
	struct netlist l = { 0 };
	char err[256];
	ck_assert_int_eq(netlist_parse(&l, rejected[_i].spec, err, sizeof(err)), -1);
	ck_assert_str_eq(err, rejected[_i].err);
	ck_assert_uint_eq(l.n, 0);
	netlist_clear(&l);
}
END_TEST

START_TEST(test_too_long)
{
	char spec[400], err[256];
	memset(spec, 'a', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	struct netlist l = { 0 };
	ck_assert_int_eq(netlist_parse(&l, spec, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "is too long"));
	netlist_clear(&l);
}
END_TEST

/* An error keeps what an earlier call appended. */
START_TEST(test_error_keeps_list)
{
	struct netlist l = { 0 };
	char err[256];
	ck_assert_int_eq(netlist_parse(&l, "10.0.0.0/8", err, sizeof(err)), 0);
	ck_assert_int_eq(netlist_parse(&l, "192.168.0.0/16 bogus!", err, sizeof(err)), -1);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(netlist_parse(&l, "192.168.0.0/16", err, sizeof(err)), 0);
	ck_assert_uint_eq(l.n, 2);
	netlist_clear(&l);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_null(l.v);
}
END_TEST

/* Which addresses a list matches. */
static const struct {
	const char *spec;
	const char *addr;
	bool match;
} matches[] = {
	{ "127.0.0.0/8", "127.1.2.3", true },
	{ "127.0.0.0/8", "128.0.0.1", false },
	{ "127.0.0.0/8", "::ffff:127.0.0.1", true },
	{ "127.0.0.0/8", "::1", false },
	{ "10.1.*", "10.1.255.255", true },
	{ "10.1.*", "10.2.0.0", false },
	{ "192.168.1.0/255.255.255.128", "192.168.1.127", true },
	{ "192.168.1.0/255.255.255.128", "192.168.1.128", false },
	{ "172.16.0.0/12", "172.31.255.255", true },
	{ "172.16.0.0/12", "172.32.0.0", false },
	{ "::1", "::1", true },
	{ "::1", "127.0.0.1", false },
	{ "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::1", false },
	{ "::ffff:0:0/96", "8.8.8.8", true },
	{ "::ffff:192.0.2.0/120", "192.0.2.77", true },
	{ "*", "203.0.113.9", true },
	{ "*", "2001:db8::1", false },
	{ "::/0", "2001:db8::1", true },
	{ "localhost", "::1", true },
	{ "localhost", "127.0.0.2", false },
	{ "", "127.0.0.1", false },
};

START_TEST(test_match)
{
	struct netlist l = { 0 };
	struct netaddr a;
	char err[256];
	ck_assert_int_eq(netlist_parse(&l, matches[_i].spec, err, sizeof(err)), 0);
	ck_assert_int_eq(netaddr_parse(matches[_i].addr, &a), 0);
	ck_assert_msg(netlist_match(&l, &a) == matches[_i].match, "%s in %s", matches[_i].addr,
	    matches[_i].spec);
	netlist_clear(&l);
}
END_TEST

START_TEST(test_parse_format)
{
	static const struct {
		const char *in, *out;
		int family;
	} t[] = {
		{ "192.0.2.1", "192.0.2.1", AF_INET },
		{ "2001:DB8::1", "2001:db8::1", AF_INET6 },
		{ "::ffff:192.0.2.1", "192.0.2.1", AF_INET },
		{ "::", "::", AF_INET6 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct netaddr a;
		char buf[INET6_ADDRSTRLEN];
		ck_assert_int_eq(netaddr_parse(t[i].in, &a), 0);
		ck_assert_int_eq(a.family, t[i].family);
		netaddr_format(&a, buf, sizeof(buf));
		ck_assert_str_eq(buf, t[i].out);
	}
	static const char *const bad[] = { "", "1.2.3", "[::1]", "::1/128", "localhost", "1.2.3.4 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netaddr a;
		ck_assert_int_eq(netaddr_parse(bad[i], &a), -1);
	}
}
END_TEST

START_TEST(test_sockaddr)
{
	struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:198.51.100.7", &sin6.sin6_addr), 1);
	struct netaddr a;
	char buf[INET6_ADDRSTRLEN];
	ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
	netaddr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "198.51.100.7");

	struct sockaddr_storage ss;
	socklen_t len;
	netaddr_to_sockaddr(&a, 2525, &ss, &len);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	ck_assert_int_eq(((struct sockaddr_in *)&ss)->sin_port, htons(2525));
	struct netaddr back;
	ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)&ss, &back), 0);
	ck_assert_mem_eq(back.addr, a.addr, 4);

	ck_assert_int_eq(netaddr_parse("2001:db8::1", &a), 0);
	netaddr_to_sockaddr(&a, 25, &ss, &len);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(ss.ss_family, AF_INET6);

	struct sockaddr sa = { .sa_family = AF_UNIX };
	ck_assert_int_eq(netaddr_from_sockaddr(&sa, &a), -1);
}
END_TEST

/* The real resolver: "localhost" always has 127.0.0.1 in /etc/hosts. */
START_TEST(test_real_resolver)
{
	netaddr_set_resolver(NULL);
	struct netlist l = { 0 };
	struct netaddr a;
	char err[256];
	ck_assert_msg(netlist_parse(&l, "localhost/8", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(netaddr_parse("127.0.0.1", &a), 0);
	ck_assert(netlist_match(&l, &a));
	netlist_clear(&l);
}
END_TEST

static Suite *
netaddr_suite(void)
{
	Suite *s = suite_create("netaddr");
	TCase *tc = tcase_create("netlist");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_accepted, 0, sizeof(accepted) / sizeof(accepted[0]));
	tcase_add_loop_test(tc, test_rejected, 0, sizeof(rejected) / sizeof(rejected[0]));
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_error_keeps_list);
	tcase_add_loop_test(tc, test_match, 0, sizeof(matches) / sizeof(matches[0]));
	tcase_add_test(tc, test_parse_format);
	tcase_add_test(tc, test_sockaddr);
	tcase_add_test(tc, test_real_resolver);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(netaddr_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

/* test_config.c - unit tests for src/config (XML layer and the loaders). */
#include "../../src/config/cfg_xml.h"
#include "../../src/config/cfg_main.h"
#include "../../src/config/config.h"
#include "../../src/core/log.h"
#include "../../src/core/netaddr.h"
#include "../../src/core/xmalloc.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- fixture: a fresh configuration directory per test ------------------------ */

static char tmpdir[64];

static int
fake_resolver(const char *host, int family, struct netaddr *out, size_t max, size_t *n,
    char *err, size_t errlen)
{
	const char *addr = strcmp(host, "localhost") == 0 ? "127.0.0.1" :
	    strcmp(host, "mail.test") == 0 ? "192.0.2.10" : NULL;
	*n = 0;
	if (addr == NULL || max == 0 || (family != AF_UNSPEC && family != AF_INET)) {
		snprintf(err, errlen, "Name or service not known");
		return -1;
	}
	ck_assert_int_eq(netaddr_parse(addr, &out[0]), 0);
	*n = 1;
	return 0;
}

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mailetd-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	netaddr_set_resolver(fake_resolver);
}

static void
teardown(void)
{
	DIR *d = opendir(tmpdir);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char *p = xasprintf("%s/%s", tmpdir, e->d_name);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	netaddr_set_resolver(NULL);
}

static void
put(const char *name, const char *content)
{
	char *p = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
	free(p);
}

static void
drop(const char *name)
{
	char *p = xasprintf("%s/%s", tmpdir, name);
	unlink(p);
	free(p);
}

/* Reads a whole file (test data) into a new string. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	size_t cap = 4096, n = 0;
	char *b = xmalloc(cap);
	size_t r;
	while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n + 1 == cap)
			b = xreallocarray(b, cap *= 2, 1);
	}
	fclose(f);
	b[n] = '\0';
	return b;
}

/*
 * All diagnostics as "E text\n" / "W text\n" lines, with the temporary
 * directory written as "@" so that expected texts can be constants.
 */
static char *
diag_text(const struct cfg_diag *d)
{
	size_t dl = strlen(tmpdir);
	char *out = xstrdup("");
	for (size_t i = 0; i < d->n; i++) {
		const char *t = d->v[i].text;
		char *line = xstrdup(d->v[i].kind == CFG_DIAG_ERROR ? "E " : "W ");
		for (;;) {
			const char *hit = strstr(t, tmpdir);
			char *next = hit == NULL ? xasprintf("%s%s", line, t) :
			    xasprintf("%s%.*s@", line, (int)(hit - t), t);
			free(line);
			line = next;
			if (hit == NULL)
				break;
			t = hit + dl;
		}
		char *next = xasprintf("%s%s\n", out, line);
		free(out);
		free(line);
		out = next;
	}
	return out;
}

/* Loads tmpdir; checks that the diagnostics are exactly want. */
static struct config *
load_expect(const char *want)
{
	struct cfg_diag d;
	cfg_diag_init(&d);
	struct config *cfg = config_load(tmpdir, NULL, &d);
	char *got = diag_text(&d);
	ck_assert_str_eq(got, want);
	if (d.errors > 0)
		ck_assert_ptr_null(cfg);
	else
		ck_assert_ptr_nonnull(cfg);
	free(got);
	cfg_diag_clear(&d);
	return cfg;
}

/* --- value parsers ------------------------------------------------------------- */

static const struct {
	const char *in;
	enum cfg_perr rc;
	uint64_t bytes;
} sizes[] = {
	{ "10", CFG_POK, 10240 },
	{ "10K", CFG_POK, 10240 },
	{ "10k", CFG_POK, 10240 },
	{ "10M", CFG_POK, 10485760 },
	{ "10m", CFG_POK, 10485760 },
	{ "1G", CFG_POK, 1073741824 },
	{ "5B", CFG_POK, 5 },
	{ "5b", CFG_POK, 5 },
	{ "0", CFG_POK, 0 },
	{ "0M", CFG_POK, 0 },
	{ "UNLIMITED", CFG_POK, 0 },
	{ "unlimited", CFG_POK, 0 },
	{ "UNKNOWN", CFG_POK, 0 },
	{ "8589934591G", CFG_POK, 8589934591ULL << 30 },
	{ "-1", CFG_PNEGATIVE, 0 },
	{ "-10M", CFG_PNEGATIVE, 0 },
	{ "12Q", CFG_PBAD, 0 },
	{ "", CFG_PBAD, 0 },
	{ "M", CFG_PBAD, 0 },
	{ "1.5M", CFG_PBAD, 0 },
	{ "10 M", CFG_PBAD, 0 },
	{ "+5", CFG_PBAD, 0 },
	{ "0x10", CFG_PBAD, 0 },
	{ "--1", CFG_PBAD, 0 },
	{ "-", CFG_PBAD, 0 },
	{ "10MB", CFG_PBAD, 0 },
	{ "8589934592G", CFG_PRANGE, 0 },
	{ "99999999999999999999", CFG_PRANGE, 0 },
	{ "9223372036854775807B", CFG_POK, 9223372036854775807ULL },
	{ "9223372036854775808B", CFG_PRANGE, 0 },
	{ "9007199254740992", CFG_PRANGE, 0 },
};

START_TEST(test_size)
{
	uint64_t v = 12345;
	enum cfg_perr rc = cfg_parse_size(sizes[_i].in, &v);
	ck_assert_msg(rc == sizes[_i].rc, "%s: rc %d", sizes[_i].in, rc);
	if (rc == CFG_POK)
		ck_assert_uint_eq(v, sizes[_i].bytes);
}
END_TEST

static const struct {
	const char *in;
	int want; /* 1 true, 0 false, -1 not a boolean */
} bools[] = {
	{ "true", 1 }, { "TRUE", 1 }, { "True", 1 }, { "yes", 1 }, { "YES", 1 }, { "on", 1 },
	{ "On", 1 }, { "y", 1 }, { "Y", 1 }, { "t", 1 }, { "T", 1 },
	{ "false", 0 }, { "FALSE", 0 }, { "no", 0 }, { "No", 0 }, { "off", 0 }, { "OFF", 0 },
	{ "n", 0 }, { "N", 0 }, { "f", 0 }, { "F", 0 },
	{ "", -1 }, { "1", -1 }, { "0", -1 }, { "maybe", -1 }, { "truee", -1 }, { " true", -1 },
	{ "enabled", -1 },
};

START_TEST(test_bool)
{
	bool v = false;
	enum cfg_perr rc = cfg_parse_bool(bools[_i].in, &v);
	if (bools[_i].want < 0)
		ck_assert_msg(rc == CFG_PBAD, "%s accepted", bools[_i].in);
	else {
		ck_assert_msg(rc == CFG_POK, "%s rejected", bools[_i].in);
		ck_assert_int_eq(v, bools[_i].want);
	}
}
END_TEST

static const struct {
	const char *in;
	enum cfg_perr rc;
	long long v;
} ints[] = {
	{ "0", CFG_POK, 0 },
	{ "8192", CFG_POK, 8192 },
	{ "-1", CFG_POK, -1 },
	{ "007", CFG_POK, 7 },
	{ "", CFG_PBAD, 0 },
	{ "-", CFG_PBAD, 0 },
	{ "+1", CFG_PBAD, 0 },
	{ "1 ", CFG_PBAD, 0 },
	{ "12x", CFG_PBAD, 0 },
	{ "99999999999999999999", CFG_PRANGE, 0 },
};

START_TEST(test_int)
{
	long long v = 42;
	enum cfg_perr rc = cfg_parse_int(ints[_i].in, &v);
	ck_assert_msg(rc == ints[_i].rc, "%s: rc %d", ints[_i].in, rc);
	if (rc == CFG_POK)
		ck_assert_int_eq(v, ints[_i].v);
}
END_TEST

static const char *const sys_names[] = { "james.test.port", "empty" };
static const char *const sys_values[] = { "2525", "" };
static const struct config_opts sys_opts = {
	.sys_names = sys_names,
	.sys_values = sys_values,
	.nsys = 2,
};

static const struct {
	const char *in;
	const char *out; /* or the error text when err is set */
	bool err;
} interps[] = {
	{ "plain", "plain", false },
	{ "", "", false },
	{ "${env:MAILETD_TEST_HOST}", "mx.example.com", false },
	{ "${env:MAILETD_TEST_HOST}:${sys:james.test.port}", "mx.example.com:2525", false },
	{ "a${sys:empty}b", "ab", false },
	{ "cost: $5", "cost: $5", false },
	{ "$${env:X}", "${env:X}", false },
	{ "${env:MAILETD_TEST_DOLLAR}", "${env:MAILETD_TEST_HOST}", false },
	{ "${env:MAILETD_TEST_UNDEFINED}", "undefined variable ${env:MAILETD_TEST_UNDEFINED}", true },
	{ "${sys:nope}", "undefined variable ${sys:nope}", true },
	{ "${env:}", "undefined variable ${env:}", true },
	{ "${foo}", "unsupported variable ${foo} (use ${env:NAME} or ${sys:name})", true },
	{ "${file:/etc/passwd}", "bad variable name \"file:/etc/passwd\"", true },
	{ "x${env:MAILETD_TEST_HOST", "unterminated variable in \"x${env:MAILETD_TEST_HOST\"", true },
};

START_TEST(test_interpolate)
{
	setenv("MAILETD_TEST_HOST", "mx.example.com", 1);
	setenv("MAILETD_TEST_DOLLAR", "${env:MAILETD_TEST_HOST}", 1);
	unsetenv("MAILETD_TEST_UNDEFINED");
	char *out = NULL, err[256] = "";
	int rc = cfg_interpolate(interps[_i].in, &sys_opts, &out, err, sizeof(err));
	if (interps[_i].err) {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, interps[_i].out);
	} else {
		ck_assert_msg(rc == 0, "%s: %s", interps[_i].in, err);
		ck_assert_str_eq(out, interps[_i].out);
		free(out);
	}
}
END_TEST

START_TEST(test_domain_syntax)
{
	static const char *const good[] = { "localhost", "example.com", "a-b.example",
		"xn--bcher-kva.example", "1.2.3.4", "a.b.c.d.e.f", "x" };
	static const char *const bad[] = { "", ".", "a..b", "-a.com", "a-.com", "a_b.com",
		"a.com.", ".a.com", "a b", "[1.2.3.4]", "user@example.com" };
	for (size_t i = 0; i < NELEM(good); i++)
		ck_assert_msg(cfg_domain_syntax(good[i]), "%s", good[i]);
	for (size_t i = 0; i < NELEM(bad); i++)
		ck_assert_msg(!cfg_domain_syntax(bad[i]), "%s", bad[i]);
	char label[80];
	memset(label, 'a', 64);
	label[64] = '\0';
	ck_assert(!cfg_domain_syntax(label));
	label[63] = '\0';
	ck_assert(cfg_domain_syntax(label));
}
END_TEST

/* --- broken files: the exact diagnostics -------------------------------------- */

static const struct {
	const char *file;
	const char *content;
	const char *want;
} broken[] = {
	{ "smtpserver.xml",
	    "<smtpservers>\n<smtpserver>\n<maxmessagesize>12Q</maxmessagesize>\n"
	    "</smtpserver>\n</smtpservers>\n",
	    "E @/smtpserver.xml:3: <maxmessagesize>: \"12Q\" is not a size (use a number with B, K, "
	    "M or G, or 0/UNLIMITED for no limit)\n" },
	{ "smtpserver.xml",
	    "<smtpservers>\n<smtpserver>\n</smtpservers>\n",
	    "E @/smtpserver.xml:3: not well-formed XML: Opening and ending tag mismatch: "
	    "smtpserver line 2 and smtpservers\n" },
	{ "smtpserver.xml", "",
	    "E @/smtpserver.xml:1: not well-formed XML: Document is empty\n" },
	{ "smtpserver.xml", "<smtpservers>\n  <smtpserver a=\"1\" a=\"2\"/>\n</smtpservers>\n",
	    "E @/smtpserver.xml:2: not well-formed XML: Attribute a redefined\n" },
	{ "smtpserver.xml", "<smtpservers><bind>&nope;</bind></smtpservers>",
	    "E @/smtpserver.xml:1: not well-formed XML: Entity 'nope' not defined\n" },
	{ "smtpserver.xml",
	    "<!DOCTYPE smtpservers [<!ENTITY big \"0.0.0.0:25\">]>\n"
	    "<smtpservers><smtpserver><bind>&big;</bind></smtpserver></smtpservers>\n",
	    "E @/smtpserver.xml: the DOCTYPE declares entities, which mailetd does not support\n" },
	/* Many errors in one file: every one is reported, in order. */
	{ "smtpserver.xml",
	    "<smtpservers>\n"
	    "  <smtpserver enabled=\"sometimes\">\n"
	    "    <bind>1.2.3.4, [::1]:2525, ::1:25, nohost.test:25, 10.1:25, 1.2.3.4:70000,</bind>\n"
	    "    <maxmessagesize>-1</maxmessagesize>\n"
	    "    <maxLineLength>500</maxLineLength>\n"
	    "    <connectiontimeout>0</connectiontimeout>\n"
	    "    <connectionLimit>-1</connectionLimit>\n"
	    "    <connectionLimitPerIP>many</connectionLimitPerIP>\n"
	    "    <connectionBacklog>99999999999999999999</connectionBacklog>\n"
	    "    <heloEhloEnforcement>maybe</heloEhloEnforcement>\n"
	    "    <helloName autodetect=\"false\">  </helloName>\n"
	    "    <authorizedAddresses>127.0.0.1 10.0.0.0/33</authorizedAddresses>\n"
	    "    <verifyIdentity>sometimes</verifyIdentity>\n"
	    "    <tls socketTLS=\"true\" startTLS=\"yes\"/>\n"
	    "    <smtpGreeting>${env:MAILETD_TEST_UNDEFINED}</smtpGreeting>\n"
	    "    <ioWorkerCount>0</ioWorkerCount>\n"
	    "    <auth><required>sure</required></auth>\n"
	    "    <proxyRequired>perhaps</proxyRequired>\n"
	    "  </smtpserver>\n"
	    "</smtpservers>\n",
	    "E @/smtpserver.xml:2: <smtpserver>: enabled=\"sometimes\" is not a boolean (use true or false)\n"
	    "E @/smtpserver.xml:3: <bind>: \"1.2.3.4\" has no port (write address:port, e.g. 0.0.0.0:25)\n"
	    "E @/smtpserver.xml:3: <bind>: \"::1:25\": write IPv6 addresses in brackets, e.g. [::1]:25\n"
	    "E @/smtpserver.xml:3: <bind>: \"nohost.test:25\": host name does not resolve (Name or service not known)\n"
	    "E @/smtpserver.xml:3: <bind>: \"10.1:25\" is not an IP address or host name\n"
	    "E @/smtpserver.xml:3: <bind>: \"1.2.3.4:70000\" has a bad port (use 0 to 65535)\n"
	    "E @/smtpserver.xml:3: <bind>: empty entry in the list\n"
	    "E @/smtpserver.xml:4: <maxmessagesize>: \"-1\" is negative (use 0 or UNLIMITED for no limit)\n"
	    "E @/smtpserver.xml:5: <maxLineLength>: 500 is out of range (1000 to 1048576)\n"
	    "E @/smtpserver.xml:6: <connectiontimeout>: 0 is out of range (1 to 604800 seconds)\n"
	    "E @/smtpserver.xml:7: <connectionLimit>: -1 is out of range (0 or more)\n"
	    "E @/smtpserver.xml:8: <connectionLimitPerIP>: \"many\" is not a number\n"
	    "E @/smtpserver.xml:9: <connectionBacklog>: \"99999999999999999999\" is too large\n"
	    "E @/smtpserver.xml:10: <heloEhloEnforcement>: \"maybe\" is not a boolean (use true or false)\n"
	    "E @/smtpserver.xml:11: <helloName>: empty name with autodetect=\"false\" (write the name, or remove autodetect)\n"
	    "E @/smtpserver.xml:12: <authorizedAddresses>: \"10.0.0.0/33\" has a prefix longer than 32 bits\n"
	    "E @/smtpserver.xml:13: <verifyIdentity>: \"sometimes\" is not valid (use strict, true, relaxed, disabled or false)\n"
	    "E @/smtpserver.xml:14: <tls>: socketTLS and startTLS cannot both be true\n"
	    "E @/smtpserver.xml:15: <smtpGreeting>: undefined variable ${env:MAILETD_TEST_UNDEFINED}\n"
	    "E @/smtpserver.xml:16: <ioWorkerCount>: 0 is out of range (1 to 1024)\n"
	    "E @/smtpserver.xml:17: <required>: \"sure\" is not a boolean (use true or false)\n"
	    "E @/smtpserver.xml:18: <proxyRequired>: \"perhaps\" is not a boolean (use true or false)\n" },
	{ "smtpserver.xml",
	    "<smtpservers><smtpserver>\n"
	    "<helloName autodetect=\"no\">mail example</helloName>\n"
	    "<smtpGreeting>two\nlines</smtpGreeting>\n"
	    "<bind>${foo}</bind>\n"
	    "<tls socketTLS=\"x\"/>\n"
	    "</smtpserver></smtpservers>",
	    "E @/smtpserver.xml:2: <helloName>: \"mail example\" is not a host name\n"
	    "E @/smtpserver.xml:3: <smtpGreeting>: \"two\\nlines\" contains a line break or control character\n"
	    "E @/smtpserver.xml:5: <bind>: unsupported variable ${foo} (use ${env:NAME} or ${sys:name})\n"
	    "E @/smtpserver.xml:6: <tls>: socketTLS=\"x\" is not a boolean (use true or false)\n" },
	/* Two enabled servers on one address; a disabled one may share it. */
	{ "smtpserver.xml",
	    "<smtpservers>\n"
	    "<smtpserver><bind>127.0.0.1:2525, [::1]:2525</bind></smtpserver>\n"
	    "<smtpserver><bind>0.0.0.0:2525</bind></smtpserver>\n"
	    "<smtpserver><bind>[::1]:2525</bind></smtpserver>\n"
	    "<smtpserver enabled=\"false\"><bind>127.0.0.1:2525</bind></smtpserver>\n"
	    "<smtpserver><bind>127.0.0.1:0, 127.0.0.1:0</bind></smtpserver>\n"
	    "</smtpservers>\n",
	    "E @/smtpserver.xml:3: <bind>: 0.0.0.0:2525 conflicts with 127.0.0.1:2525 at @/smtpserver.xml:2\n"
	    "E @/smtpserver.xml:4: <bind>: [::1]:2525 conflicts with [::1]:2525 at @/smtpserver.xml:2\n" },
	/* A disabled server reports its errors but none of its warnings. */
	{ "smtpserver.xml",
	    "<smtpservers>\n<smtpserver enabled=\"false\">\n<tls socketTLS=\"true\"/>\n"
	    "<bogus/>\n<maxmessagesize>lots</maxmessagesize>\n</smtpserver>\n</smtpservers>\n",
	    "E @/smtpserver.xml:5: <maxmessagesize>: \"lots\" is not a size (use a number with B, K, "
	    "M or G, or 0/UNLIMITED for no limit)\n" },
	{ "domainlist.xml",
	    "<domainlist>\n<domainnames>\n<domainname>Ex_ample.com</domainname>\n"
	    "<domainname></domainname>\n<domainname>-bad.org</domainname>\n<other/>\n</domainnames>\n"
	    "<defaultDomain></defaultDomain>\n<autodetect>maybe</autodetect>\n"
	    "<autodetectIP>perhaps</autodetectIP>\n</domainlist>\n",
	    "E @/domainlist.xml:3: <domainname>: \"ex_ample.com\" is not a domain name\n"
	    "E @/domainlist.xml:5: <domainname>: \"-bad.org\" is not a domain name\n"
	    "W @/domainlist.xml:6: <other>: unknown element, ignored\n"
	    "E @/domainlist.xml:8: <defaultDomain>: empty value (remove the element for \"localhost\")\n"
	    "E @/domainlist.xml:9: <autodetect>: \"maybe\" is not a boolean (use true or false)\n"
	    "E @/domainlist.xml:10: <autodetectIP>: \"perhaps\" is not a boolean (use true or false)\n" },
	{ "mailetd.xml",
	    "<mailetd>\n<log><level>loud</level><syslog>kernel</syslog></log>\n"
	    "<spool><fsync>sometimes</fsync><commitThreads>65</commitThreads></spool>\n"
	    "<shutdownGracePeriod>3601</shutdownGracePeriod>\n<maxErrors>0</maxErrors>\n"
	    "<dataDirectory>bad\tdir</dataDirectory>\n</mailetd>\n",
	    "E @/mailetd.xml:2: <level>: \"loud\" is not valid (use error, warn, info or debug)\n"
	    "E @/mailetd.xml:2: <syslog>: \"kernel\" is not valid (use mail, daemon, user, auth, "
	    "authpriv, local0, local1, local2, local3, local4, local5, local6 or local7)\n"
	    "E @/mailetd.xml:3: <fsync>: \"sometimes\" is not a boolean (use true or false)\n"
	    "E @/mailetd.xml:3: <commitThreads>: 65 is out of range (1 to 64)\n"
	    "E @/mailetd.xml:4: <shutdownGracePeriod>: 3601 is out of range (0 to 3600 seconds)\n"
	    "E @/mailetd.xml:5: <maxErrors>: 0 is out of range (1 to 1000)\n"
	    "E @/mailetd.xml:6: <dataDirectory>: \"bad\\tdir\" contains a line break or control character\n" },
	{ "mailetd.xml", "<mailetd><spool><fsync>no</fsync></spool></mailetd",
	    "E @/mailetd.xml:1: not well-formed XML: expected '>'\n" },
};

START_TEST(test_broken)
{
	setenv("MAILETD_TEST_HOST", "mx.example.com", 1);
	unsetenv("MAILETD_TEST_UNDEFINED");
	put(broken[_i].file, broken[_i].content);
	ck_assert_ptr_null(load_expect(broken[_i].want));
}
END_TEST

/* Errors of several files come out of one load, file by file. */
START_TEST(test_errors_across_files)
{
	put("smtpserver.xml", "<smtpservers><smtpserver>\n<maxmessagesize>1X</maxmessagesize>\n"
	    "</smtpserver></smtpservers>");
	put("domainlist.xml", "<domainlist><defaultDomain>a b</defaultDomain></domainlist>");
	put("mailetd.xml", "<mailetd><maxErrors>x</maxErrors></mailetd>");
	ck_assert_ptr_null(load_expect(
	    "E @/smtpserver.xml:2: <maxmessagesize>: \"1X\" is not a size (use a number with B, K, "
	    "M or G, or 0/UNLIMITED for no limit)\n"
	    "E @/domainlist.xml:1: <defaultDomain>: \"a b\" is not a domain name\n"
	    "E @/mailetd.xml:1: <maxErrors>: \"x\" is not a number\n"));
}
END_TEST

/*
 * Key material for TLS blocks in tmpdir: a self-signed EC key and
 * certificate (private.key, certs.pem, and private.csr as James's samples
 * call it) and a PKCS#12 "keystore" protected by secret.
 */
static void
put_tls_material(const char *secret)
{
	char *cmd = xasprintf("cd '%s' && openssl req -x509 -newkey ec -pkeyopt "
			      "ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=localhost "
			      "-keyout private.key -out certs.pem 2>/dev/null && cp certs.pem private.csr "
			      "&& openssl pkcs12 -export -inkey private.key -in certs.pem "
			      "-passout 'pass:%s' -out keystore 2>/dev/null",
	    tmpdir, secret);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	free(cmd);
}

/* --- warnings: accepted, but named ---------------------------------------------- */

static const struct {
	const char *content;
	const char *want;
} warned[] = {
	/* TLS off: like James, the children are not read at all. */
	{ "<smtpservers>\n<smtpserver>\n<tls socketTLS=\"false\" startTLS=\"false\">\n"
	  "<keystore>file://conf/keystore</keystore><provider>x</provider><algorithm>SunX509</algorithm>\n"
	  "<secret>${env:MAILETD_TEST_UNDEFINED}</secret><bogus/>\n</tls>\n</smtpserver>\n</smtpservers>\n",
	    "" },
	{ "<smtpservers>\n<smtpserver>\n<tls socketTLS=\"false\" startTLS=\"true\">\n"
	  "<privateKey>private.key</privateKey><certificates>certs.pem</certificates>\n"
	  "<provider>x</provider><algorithm>SunX509</algorithm><bogus/><clientAuth/>\n"
	  "</tls>\n</smtpserver>\n</smtpservers>\n",
	    "W @/smtpserver.xml:5: <bogus>: unknown element, ignored\n" },
	{ "<smtpservers>\n<smtpserver>\n<tls socketTLS=\"false\" startTLS=\"true\">\n"
	  "<privateKey>private.key</privateKey><certificates>certs.pem</certificates>\n"
	  "<enableOCSPCRLChecks>true</enableOCSPCRLChecks>\n"
	  "</tls>\n</smtpserver>\n</smtpservers>\n",
	    "W @/smtpserver.xml:5: <enableOCSPCRLChecks>: no effect without <clientAuth> (it "
	    "concerns client certificates)\n" },
	{ "<smtpservers><smtpserver>\n<auth>\n<required>true</required>\n<announce>always</announce>\n"
	  "<requireSSL>true</requireSSL>\n<plainAuthEnabled>true</plainAuthEnabled>\n</auth>\n"
	  "<authRequired>true</authRequired>\n</smtpserver>\n"
	  "<smtpserver><bind>0.0.0.0:26</bind><authRequired>announce</authRequired></smtpserver>\n"
	  "<smtpserver><bind>0.0.0.0:27</bind><auth><required>true</required></auth></smtpserver>\n"
	  "</smtpservers>",
	    "" },
	{ "<smtpservers><smtpserver>\n<auth><saslMechanisms>PLAIN</saslMechanisms>"
	  "<oidc><jwksURL>${env:MAILETD_TEST_UNDEFINED}</jwksURL></oidc></auth>\n</smtpserver></smtpservers>",
	    "W @/smtpserver.xml:2: <saslMechanisms>: \"PLAIN\" is not yet supported; ignored\n"
	    "W @/smtpserver.xml:2: <oidc>: this SASL mechanism is not yet supported; ignored\n" },
	{ "<smtpservers><smtpserver>\n<verifyIdentity>Relaxed</verifyIdentity>\n</smtpserver>\n"
	  "<smtpserver><bind>0.0.0.0:26</bind>\n<verifyIdentity>DISABLED</verifyIdentity></smtpserver>\n"
	  "<smtpserver><bind>0.0.0.0:27</bind>\n<verifyIdentity>false</verifyIdentity></smtpserver>\n"
	  "</smtpservers>",
	    "" },
	{ "<smtpservers><smtpserver>\n"
	  "<handlerchain coreHandlersPackage=\"org.apache.james.examples.MyCmdHandlerLoader\" enableJmx=\"true\">\n"
	  "<handler class=\"org.apache.james.smtpserver.fastfail.ValidRcptHandler\"/>\n"
	  "<handler class=\"org.apache.james.smtpserver.CoreCmdHandlerLoader\"/>\n"
	  "<handler class=\"org.apache.james.crowdsec.CrowdsecEhloHook\"><getDetail>false</getDetail></handler>\n"
	  "<handler class=\"org.apache.james.smtpserver.fastfail.ValidRcptHandler\"/>\n"
	  "<handler/>\n"
	  "<filter class=\"x\"/>\n"
	  "</handlerchain>\n</smtpserver></smtpservers>",
	    "W @/smtpserver.xml:5: <handler>: org.apache.james.crowdsec.CrowdsecEhloHook: "
	    "not supported yet; it does not run\n"
	    "E @/smtpserver.xml:7: <handler>: the class attribute is missing\n"
	    "W @/smtpserver.xml:8: <filter>: unknown element, ignored\n"
	    "W @/smtpserver.xml:2: <handlerchain>: coreHandlersPackage "
	    "org.apache.james.examples.MyCmdHandlerLoader: custom Java code; mailetd cannot run it; "
	    "the default core set org.apache.james.smtpserver.CoreCmdHandlerLoader is used\n" },
	{ "<smtpservers><smtpserver>\n"
	  "<handlerchain coreHandlersPackage=\"org.apache.james.smtpserver.NoAuthCmdHandlerLoader\">\n"
	  "<handler class=\"org.apache.james.smtpserver.CoreCmdHandlerLoader\"/>\n"
	  "</handlerchain>\n</smtpserver></smtpservers>",
	    "" },
	{ "<smtpservers><smtpserver>\n<proxyRequired>true</proxyRequired>\n<proxyFirst>false</proxyFirst>\n"
	  "</smtpserver>\n<smtpserver><bind>0.0.0.0:26</bind><proxyRequired>false</proxyRequired></smtpserver>\n"
	  "</smtpservers>",
	    "" },
	{ "<smtpservers><smtpserver>\n<disabledFeatures>PIPELINING</disabledFeatures>\n"
	  "<disabledFeatures>8BITMIME</disabledFeatures>\n</smtpserver></smtpservers>",
	    "W @/smtpserver.xml:2: <disabledFeatures>: not yet supported; ignored\n" },
	{ "<smtpservers>\n<smtpserver>\n<connectionTimeout>5</connectionTimeout>\n"
	  "<jmxName>one</jmxName>\n<jmxName>two</jmxName>\n"
	  "<helloName>mx.example.com</helloName>\n"
	  "<bossWorkerCount>x</bossWorkerCount><maxExecutorCount>x</maxExecutorCount><useEpoll>x</useEpoll>"
	  "<gracefulShutdown>x</gracefulShutdown><highWriteBufferWaterMark>x</highWriteBufferWaterMark>"
	  "<lowWriteBufferWaterMark>x</lowWriteBufferWaterMark>\n"
	  "</smtpserver>\n<lmtpserver/>\n</smtpservers>",
	    "W @/smtpserver.xml:3: <connectionTimeout>: unknown element, ignored\n"
	    "W @/smtpserver.xml:5: <jmxName>: given more than once; only the first is used\n"
	    "W @/smtpserver.xml:6: <helloName>: the name is ignored because autodetect is true by "
	    "default; write autodetect=\"false\" to use it\n"
	    "W @/smtpserver.xml:9: <lmtpserver>: unknown element, ignored\n" },
	{ "<smtpservers><smtpserver><helloName autodetect=\"true\">ignored</helloName>"
	  "<tls socketTLS=\"false\" startTLS=\"false\"/></smtpserver></smtpservers>",
	    "" },
	/* The DNS-based handlers read their own parameters. */
	{ "<smtpservers><smtpserver>\n<handlerchain>\n"
	  "<handler class=\"DNSRBLHandler\"><getDetail>true</getDetail></handler>\n"
	  "<handler class=\"DNSRBLHandler\"><rblservers><blacklist>bad..zone</blacklist>\n"
	  "<greylist>x</greylist></rblservers></handler>\n"
	  "<handler class=\"ValidRcptMX\"><invalidMXNetworks>10.0.0.0/33</invalidMXNetworks></handler>\n"
	  "<handler class=\"SPFHandler\"><blockSoftFail>maybe</blockSoftFail></handler>\n"
	  "<handler class=\"org.apache.james.smtpserver.fastfail.ResolvableEhloHeloHandler\">"
	  "<checkAuthNetworks>true</checkAuthNetworks></handler>\n"
	  "</handlerchain>\n</smtpserver></smtpservers>",
	    "E @/smtpserver.xml:3: <handler>: DNSRBLHandler needs <rblservers> with a <whitelist> "
	    "or <blacklist>\n"
	    "W @/smtpserver.xml:5: <greylist>: unknown element, ignored\n"
	    "E @/smtpserver.xml:4: <blacklist>: \"bad..zone\" is not a DNS zone name\n"
	    "E @/smtpserver.xml:6: <invalidMXNetworks>: \"10.0.0.0/33\" has a prefix longer than 32 "
	    "bits\n"
	    "E @/smtpserver.xml:7: <blockSoftFail>: \"maybe\" is not a boolean (use true or false)\n" },
};

START_TEST(test_warned)
{
	unsetenv("MAILETD_TEST_UNDEFINED");
	if (strstr(warned[_i].content, "<privateKey>") != NULL)
		put_tls_material("");
	put("smtpserver.xml", warned[_i].content);
	config_free(load_expect(warned[_i].want));
}
END_TEST

/* Implicit TLS needs readable key material; errors name the element's line. */
START_TEST(test_socket_tls_disables)
{
	put("smtpserver.xml",
	    "<smtpservers>\n"
	    "<smtpserver><jmxName>plain</jmxName><bind>127.0.0.1:2525</bind></smtpserver>\n"
	    "<smtpserver>\n<jmxName>smtps</jmxName><bind>127.0.0.1:2465</bind>\n"
	    "<tls socketTLS=\"TRUE\" startTLS=\"false\">\n<keystore>x</keystore></tls>\n"
	    "</smtpserver>\n</smtpservers>\n");
	load_expect("E @/smtpserver.xml:6: <keystore>: cannot read @/x: No such file or directory\n");
	put_tls_material("pw");
	put("smtpserver.xml",
	    "<smtpservers>\n"
	    "<smtpserver>\n<jmxName>smtps</jmxName><bind>127.0.0.1:2465</bind>\n"
	    "<tls socketTLS=\"TRUE\" startTLS=\"false\">\n<keystore>keystore</keystore>\n"
	    "<keystoreType>PKCS12</keystoreType><secret>pw</secret></tls>\n"
	    "</smtpserver>\n</smtpservers>\n");
	struct config *cfg = load_expect("");
	ck_assert(cfg->servers[0].enabled);
	ck_assert(cfg->servers[0].tls.socket_tls);
	ck_assert_ptr_nonnull(cfg->servers[0].tls.ctx);
	config_free(cfg);
}
END_TEST

START_TEST(test_unsupported_files)
{
	static const char *const names[] = { "mailrepositorystore.xml",
		"mailetcontainer.xml" };
	for (size_t i = 0; i < NELEM(names); i++)
		put(names[i], "not even XML");
	put("logback.xml", "<configuration/>");
	struct config *cfg = load_expect(
	    "W @/mailetcontainer.xml: file not yet supported by mailetd; ignored\n"
	    "W @/mailrepositorystore.xml: file not yet supported by mailetd; ignored\n");
	ck_assert_uint_eq(cfg->nfiles, 0);
	config_free(cfg);
}
END_TEST

/* --- values and defaults ---------------------------------------------------------- */

START_TEST(test_empty_dir)
{
	struct config *cfg = load_expect("");
	ck_assert_uint_eq(cfg->nservers, 0);
	ck_assert_uint_eq(cfg->nfiles, 0);
	ck_assert_str_eq(cfg->confdir, tmpdir);
	ck_assert_uint_eq(cfg->domains.n, 1);
	ck_assert_str_eq(cfg->domains.names[0], "localhost");
	ck_assert_str_eq(cfg->domains.default_domain, "localhost");
	ck_assert_str_eq(cfg->main.data_dir, "/tmp/var");
	ck_assert(cfg->main.fsync);
	ck_assert_uint_eq(cfg->main.commit_threads, 4);
	ck_assert_uint_eq(cfg->main.shutdown_grace, 30);
	ck_assert_int_eq(cfg->main.log_level, LOG_LVL_INFO);
	ck_assert_int_eq(cfg->main.syslog_facility, -1);
	ck_assert_uint_eq(cfg->main.max_errors, 20);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	ck_assert_uint_eq(cfg->io_workers, cpus > 0 ? (unsigned)cpus : 1);
	ck_assert(config_is_local_domain(cfg, "LOCALHOST", 9));
	ck_assert(!config_is_local_domain(cfg, "localhost.", 10));
	ck_assert(!config_is_local_domain(cfg, "", 0));
	ck_assert(!config_is_local_domain(NULL, "localhost", 9));
	config_free(cfg);
	config_free(NULL);
}
END_TEST

START_TEST(test_smtp_defaults)
{
	put("smtpserver.xml", "<smtpservers>\n  <smtpserver/>\n</smtpservers>\n");
	struct config *cfg = load_expect("");
	ck_assert_uint_eq(cfg->nservers, 1);
	ck_assert_uint_eq(cfg->nfiles, 1);
	const struct cfg_server *s = &cfg->servers[0];
	ck_assert_ptr_eq(s->file, cfg->files[0]);
	ck_assert_int_eq(s->line, 2);
	ck_assert_int_eq(s->proto, CFG_PROTO_SMTP);
	ck_assert_str_eq(s->name, "smtpserver1");
	ck_assert(s->enabled);
	ck_assert_uint_eq(s->nbinds, 1);
	ck_assert_str_eq(s->binds[0].text, "0.0.0.0:25");
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&s->binds[0].ss;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_int_eq(ntohs(sin->sin_port), 25);
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	ck_assert_uint_eq(s->binds[0].sslen, sizeof(struct sockaddr_in));
	ck_assert_int_eq(s->backlog, 200);
	char host[300];
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	ck_assert_str_eq(s->hello_name, host[0] != '\0' ? host : "localhost");
	ck_assert_ptr_null(s->greeting);
	ck_assert_uint_eq(s->idle_timeout, 300);
	ck_assert_uint_eq(s->conn_limit, 0);
	ck_assert_uint_eq(s->conn_limit_per_ip, 0);
	ck_assert_uint_eq(s->authorized.n, 0);
	ck_assert_uint_eq(s->max_message_size, 0);
	ck_assert_uint_eq(s->max_line_length, 8192);
	ck_assert(s->helo_enforcement);
	ck_assert(s->brackets_enforcement);
	ck_assert(!s->auth_required);
	ck_assert(s->auth_enabled);
	ck_assert_int_eq(s->auth_announce, CFG_ANNOUNCE_NEVER);
	ck_assert(s->auth_require_ssl);
	ck_assert_uint_eq(s->auth_mechs, CFG_MECH_LOGIN | CFG_MECH_PLAIN);
	ck_assert_uint_eq(s->io_workers, 0);
	config_free(cfg);
}
END_TEST

/* lmtpserver.xml: James's LMTP defaults and fixed behaviour (james.md 1a.4). */
START_TEST(test_lmtp_defaults)
{
	put("lmtpserver.xml", "<lmtpservers>\n  <lmtpserver/>\n</lmtpservers>\n");
	struct config *cfg = load_expect("");
	ck_assert_uint_eq(cfg->nservers, 1);
	const struct cfg_server *s = &cfg->servers[0];
	ck_assert_int_eq(s->proto, CFG_PROTO_LMTP);
	ck_assert_int_eq(s->line, 2);
	ck_assert_str_eq(s->name, "lmtpserver1");
	ck_assert_str_eq(s->binds[0].text, "0.0.0.0:24");
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&s->binds[0].ss;
	ck_assert_int_eq(ntohs(sin->sin_port), 24);
	ck_assert_ptr_null(s->greeting);
	ck_assert_uint_eq(s->max_message_size, 0);
	ck_assert(!s->helo_enforcement);
	ck_assert(!s->brackets_enforcement);
	ck_assert(!s->auth_enabled);
	ck_assert(!s->auth_required);
	ck_assert_uint_eq(s->auth_mechs, 0);
	ck_assert_uint_eq(s->authorized.n, 0);
	config_free(cfg);
}
END_TEST

/* LMTP values, a UNIX socket bind, and SMTP elements that mean nothing here. */
START_TEST(test_lmtp_values)
{
	put("smtpserver.xml", "<smtpservers><smtpserver><bind>127.0.0.1:2525</bind>"
			      "</smtpserver></smtpservers>\n");
	put("lmtpserver.xml",
	    "<lmtpservers>\n"
	    "<lmtpserver enabled=\"true\">\n"
	    "<jmxName>lmtp</jmxName><bind>127.0.0.1:2424, unix:/run/mailetd/lmtp, /tmp/l2</bind>\n"
	    "<maxmessagesize>10</maxmessagesize><lmtpGreeting>hi there</lmtpGreeting>\n"
	    "<authorizedAddresses>0.0.0.0/0</authorizedAddresses>\n"
	    "<auth><announce>always</announce></auth>\n"
	    "<handlerchain coreHandlersPackage=\"org.apache.james.lmtpserver."
	    "MailetContainerCmdHandlerLoader\">\n"
	    "<handler class=\"org.apache.james.lmtpserver.CoreCmdHandlerLoader\"/>\n"
	    "<handler class=\"org.apache.james.smtpserver.dsn.DSNEhloHook\"/>\n"
	    "</handlerchain>\n"
	    "<tls startTLS=\"true\"><keystore>none</keystore></tls>\n"
	    "<gracefulShutdown>false</gracefulShutdown>\n"
	    "</lmtpserver>\n"
	    "<smtpserver/>\n"
	    "</lmtpservers>\n");
	struct config *cfg = load_expect(
	    "W @/lmtpserver.xml:5: <authorizedAddresses>: has no effect on an LMTP server (LMTP "
	    "never relays and has no AUTH); ignored\n"
	    "W @/lmtpserver.xml:6: <auth>: has no effect on an LMTP server (LMTP never relays and "
	    "has no AUTH); ignored\n"
	    "W @/lmtpserver.xml:7: <handlerchain>: the mailet container is not supported yet "
	    "(MailetContainerCmdHandlerLoader, MailetContainerHandler); this LMTP server delivers "
	    "directly into the mailboxes\n"
	    "W @/lmtpserver.xml:11: <tls>: TLS is not yet supported on LMTP servers; ignored\n"
	    "W @/lmtpserver.xml:14: <smtpserver>: unknown element, ignored\n");
	ck_assert_uint_eq(cfg->nservers, 2);
	ck_assert_int_eq(cfg->servers[0].proto, CFG_PROTO_SMTP);
	const struct cfg_server *s = &cfg->servers[1];
	ck_assert_int_eq(s->proto, CFG_PROTO_LMTP);
	ck_assert_str_eq(s->name, "lmtp");
	ck_assert_str_eq(s->greeting, "hi there");
	ck_assert_uint_eq(s->max_message_size, 10240);
	ck_assert_uint_eq(s->authorized.n, 0);
	ck_assert(!s->auth_enabled);
	ck_assert_int_eq(s->auth_announce, CFG_ANNOUNCE_NEVER);
	ck_assert(!s->tls.start_tls && s->tls.ctx == NULL);
	ck_assert_uint_eq(s->nbinds, 3);
	ck_assert_int_eq(s->binds[0].ss.ss_family, AF_INET);
	const char *paths[] = { "/run/mailetd/lmtp", "/tmp/l2" };
	for (size_t i = 0; i < 2; i++) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)&s->binds[i + 1].ss;
		ck_assert_int_eq(sun->sun_family, AF_UNIX);
		ck_assert_str_eq(sun->sun_path, paths[i]);
		ck_assert_uint_eq(s->binds[i + 1].sslen,
		    offsetof(struct sockaddr_un, sun_path) + strlen(paths[i]) + 1);
	}
	ck_assert_str_eq(s->binds[1].text, "unix:/run/mailetd/lmtp");
	config_free(cfg);

	/* Errors: relative and over-long socket paths, a socket shared with SMTP. */
	put("lmtpserver.xml",
	    "<lmtpservers><lmtpserver>\n"
	    "<bind>unix:run/lmtp</bind>\n"
	    "<bind>/tmp/l2</bind>\n"
	    "</lmtpserver><lmtpserver>\n"
	    "<bind>/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</bind>\n"
	    "</lmtpserver><lmtpserver>\n"
	    "<bind>unix:/tmp/s, 127.0.0.1:2525</bind>\n"
	    "</lmtpserver></lmtpservers>\n");
	put("smtpserver.xml", "<smtpservers><smtpserver><bind>127.0.0.1:2526,/tmp/s</bind>"
			      "</smtpserver></smtpservers>\n");
	load_expect("E @/lmtpserver.xml:2: <bind>: \"unix:run/lmtp\": a UNIX socket needs an "
		    "absolute path, e.g. unix:/run/mailetd/lmtp\n"
		    "W @/lmtpserver.xml:3: <bind>: given more than once; only the first is used\n"
		    "E @/lmtpserver.xml:5: <bind>: \"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": socket path too long (at "
		    "most 107 octets)\n"
		    /* Both servers without a usable bind fall back to James's default. */
		    "E @/lmtpserver.xml:4: <bind>: 0.0.0.0:24 conflicts with 0.0.0.0:24 at "
		    "@/lmtpserver.xml:1\n"
		    "E @/lmtpserver.xml:7: <bind>: unix:/tmp/s conflicts with /tmp/s at "
		    "@/smtpserver.xml:1\n");
}
END_TEST

/* <auth> and the deprecated <authRequired>, mapped as James (james.md 1a.3). */
START_TEST(test_smtp_auth)
{
	put("smtpserver.xml",
	    "<smtpservers>\n"
	    "<smtpserver><bind>127.0.0.1:2601</bind><auth><announce>ALWAYS</announce>"
	    "<requireSSL>false</requireSSL></auth><authRequired>true</authRequired></smtpserver>\n"
	    "<smtpserver><bind>127.0.0.1:2602</bind><authRequired>true</authRequired></smtpserver>\n"
	    "<smtpserver><bind>127.0.0.1:2603</bind><authRequired>announce</authRequired></smtpserver>\n"
	    "<smtpserver><bind>127.0.0.1:2604</bind><authRequired>false</authRequired>"
	    "<auth><plainAuthEnabled>false</plainAuthEnabled></auth></smtpserver>\n"
	    "<smtpserver><bind>127.0.0.1:2605</bind><auth><announce>forunauthorizedaddresses"
	    "</announce><saslMechanisms>org.apache.james.protocols.api.handler.LoginSaslMechanismFactory"
	    "</saslMechanisms></auth>"
	    "<handlerchain coreHandlersPackage=\"org.apache.james.smtpserver.NoAuthCmdHandlerLoader\"/>"
	    "</smtpserver>\n"
	    "</smtpservers>\n");
	struct config *cfg = load_expect("");
	ck_assert_uint_eq(cfg->nservers, 5);
	const struct cfg_server *s = cfg->servers;
	ck_assert_int_eq(s[0].auth_announce, CFG_ANNOUNCE_ALWAYS);
	ck_assert(!s[0].auth_require_ssl);
	ck_assert_int_eq(s[1].auth_announce, CFG_ANNOUNCE_UNAUTHORIZED);
	ck_assert_int_eq(s[2].auth_announce, CFG_ANNOUNCE_ALWAYS);
	ck_assert_int_eq(s[3].auth_announce, CFG_ANNOUNCE_NEVER);
	ck_assert_uint_eq(s[3].auth_mechs, 0);
	ck_assert_int_eq(s[4].auth_announce, CFG_ANNOUNCE_UNAUTHORIZED);
	ck_assert_uint_eq(s[4].auth_mechs, CFG_MECH_LOGIN);
	ck_assert(!s[4].auth_enabled);
	ck_assert(s[0].auth_enabled);
	config_free(cfg);

	put("smtpserver.xml", "<smtpservers><smtpserver>\n<auth><announce>sometimes</announce>"
			      "<saslMechanisms>PlainSaslMechanismFactory, </saslMechanisms></auth>\n"
			      "</smtpserver></smtpservers>\n");
	struct cfg_diag d;
	cfg_diag_init(&d);
	cfg = config_load(tmpdir, NULL, &d);
	char *got = diag_text(&d);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(got, "E @/smtpserver.xml:2: <announce>: \"sometimes\"") != NULL, "%s", got);
	ck_assert_msg(strstr(got, "E @/smtpserver.xml:2: <saslMechanisms>: blank entry") != NULL,
	    "%s", got);
	free(got);
	cfg_diag_clear(&d);
}
END_TEST

START_TEST(test_smtp_values)
{
	setenv("MAILETD_TEST_PORT", "2526", 1);
	put("smtpserver.xml",
	    "<?xml version=\"1.0\"?>\n"
	    "<anyname>\n"
	    "  <smtpserver enabled=\"yes\">\n"
	    "    <jmxName> mx-in </jmxName>\n"
	    "    <bind> 127.0.0.1:2525 , [::1]:${env:MAILETD_TEST_PORT},[::ffff:127.0.0.2]:25,"
	    "mail.test:587 </bind>\n"
	    "    <connectionBacklog>50</connectionBacklog>\n"
	    "    <helloName autodetect=\"False\">\n  mx.example.com\n  </helloName>\n"
	    "    <smtpGreeting><![CDATA[mx.example.com ESMTP & more]]></smtpGreeting>\n"
	    "    <connectiontimeout>60</connectiontimeout>\n"
	    "    <connectionLimit>100</connectionLimit>\n"
	    "    <connectionLimitPerIP>10</connectionLimitPerIP>\n"
	    "    <authorizedAddresses>127.0.0.0/8, 10.*  2001:db8::/32</authorizedAddresses>\n"
	    "    <maxmessagesize>10M</maxmessagesize>\n"
	    "    <maxLineLength>1000</maxLineLength>\n"
	    "    <heloEhloEnforcement>off</heloEhloEnforcement>\n"
	    "    <addressBracketsEnforcement>n</addressBracketsEnforcement>\n"
	    "    <ioWorkerCount>3</ioWorkerCount>\n"
	    "    <auth><required>yes</required></auth>\n"
	    "    <!-- a comment <bind>x</bind> -->\n"
	    "  </smtpserver>\n"
	    "  <smtpserver enabled=\"false\"><ioWorkerCount>9</ioWorkerCount></smtpserver>\n"
	    "</anyname>\n");
	struct config *cfg = load_expect("");
	ck_assert_uint_eq(cfg->nservers, 2);
	ck_assert_uint_eq(cfg->io_workers, 3);
	const struct cfg_server *s = &cfg->servers[0];
	ck_assert_str_eq(s->name, "mx-in");
	ck_assert_uint_eq(s->nbinds, 4);
	ck_assert_str_eq(s->binds[0].text, "127.0.0.1:2525");
	ck_assert_int_eq(s->binds[0].line, 5);
	ck_assert_str_eq(s->binds[1].text, "[::1]:2526");
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&s->binds[1].ss;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_int_eq(ntohs(sin6->sin6_port), 2526);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_uint_eq(s->binds[1].sslen, sizeof(struct sockaddr_in6));
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&s->binds[2].ss;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(0x7f000002));
	sin = (const struct sockaddr_in *)&s->binds[3].ss;
	ck_assert_str_eq(s->binds[3].text, "mail.test:587");
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(0xc000020a));
	ck_assert_int_eq(ntohs(sin->sin_port), 587);
	ck_assert_int_eq(s->backlog, 50);
	ck_assert_str_eq(s->hello_name, "mx.example.com");
	ck_assert_str_eq(s->greeting, "mx.example.com ESMTP & more");
	ck_assert_uint_eq(s->idle_timeout, 60);
	ck_assert_uint_eq(s->conn_limit, 100);
	ck_assert_uint_eq(s->conn_limit_per_ip, 10);
	ck_assert_uint_eq(s->authorized.n, 3);
	struct netaddr a;
	ck_assert_int_eq(netaddr_parse("10.9.8.7", &a), 0);
	ck_assert(netlist_match(&s->authorized, &a));
	ck_assert_int_eq(netaddr_parse("11.0.0.1", &a), 0);
	ck_assert(!netlist_match(&s->authorized, &a));
	ck_assert_uint_eq(s->max_message_size, 10485760);
	ck_assert_uint_eq(s->max_line_length, 1000);
	ck_assert(!s->helo_enforcement);
	ck_assert(!s->brackets_enforcement);
	ck_assert(s->auth_required);
	ck_assert_uint_eq(s->io_workers, 3);
	ck_assert(!cfg->servers[1].enabled);
	ck_assert_str_eq(cfg->servers[1].name, "smtpserver2");
	config_free(cfg);
}
END_TEST

START_TEST(test_sys_interpolation)
{
	put("smtpserver.xml", "<smtpservers><smtpserver>"
	    "<bind>127.0.0.1:${sys:james.test.port}</bind>"
	    "<tls startTLS=\"${sys:tls}\"/></smtpserver></smtpservers>");
	static const char *const names[] = { "james.test.port", "tls" };
	static const char *const values[] = { "2600", "off" };
	struct config_opts opts = { .sys_names = names, .sys_values = values, .nsys = 2 };
	struct cfg_diag d;
	cfg_diag_init(&d);
	struct config *cfg = config_load(tmpdir, &opts, &d);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_str_eq(cfg->servers[0].binds[0].text, "127.0.0.1:2600");
	config_free(cfg);
	/* Without the -D values the same file does not load. */
	cfg = config_load(tmpdir, NULL, &d);
	ck_assert_ptr_null(cfg);
	char *got = diag_text(&d);
	ck_assert_str_eq(got,
	    "E @/smtpserver.xml:1: <bind>: undefined variable ${sys:james.test.port}\n"
	    "E @/smtpserver.xml:1: <tls>: undefined variable ${sys:tls}\n");
	free(got);
	cfg_diag_clear(&d);
}
END_TEST

/* James's protocols-smtp test files have a lone <smtpserver> as the root. */
START_TEST(test_root_server)
{
	put("smtpserver.xml", "<smtpserver enabled=\"true\">\n<bind>0.0.0.0:0</bind>\n"
	    "<maxmessagesize>1K</maxmessagesize></smtpserver>");
	struct config *cfg = load_expect("");
	ck_assert_uint_eq(cfg->nservers, 1);
	ck_assert_uint_eq(cfg->servers[0].max_message_size, 1024);
	ck_assert_int_eq(cfg->servers[0].line, 1);
	config_free(cfg);
	put("smtpserver.xml", "<smtpservers/>");
	cfg = load_expect("");
	ck_assert_uint_eq(cfg->nservers, 0);
	ck_assert_uint_eq(cfg->nfiles, 1);
	config_free(cfg);
}
END_TEST

START_TEST(test_domains)
{
	put("domainlist.xml",
	    "<domainlist class=\"org.apache.james.domainlist.xml.XMLDomainList\">\n"
	    "<domainnames>\n<domainname>Example.COM</domainname>\n<domainname> </domainname>\n"
	    "<domainname>example.com</domainname>\n<domainname>mailetd.test</domainname>\n"
	    "</domainnames>\n<defaultDomain>Mail.Example.org</defaultDomain>\n"
	    "<autodetect>false</autodetect>\n<autodetectIP>false</autodetectIP>\n"
	    "<read><cache><enable>true</enable><expiracy>10s</expiracy></cache></read>\n"
	    "</domainlist>\n");
	struct config *cfg = load_expect("");
	ck_assert_uint_eq(cfg->domains.n, 3);
	ck_assert_str_eq(cfg->domains.names[0], "example.com");
	ck_assert_str_eq(cfg->domains.names[1], "mailetd.test");
	ck_assert_str_eq(cfg->domains.names[2], "mail.example.org");
	ck_assert_str_eq(cfg->domains.default_domain, "mail.example.org");
	ck_assert(config_is_local_domain(cfg, "EXAMPLE.com", 11));
	ck_assert(config_is_local_domain(cfg, "example.com.evil", 11));
	ck_assert(!config_is_local_domain(cfg, "example.co", 10));
	ck_assert(!config_is_local_domain(cfg, "localhost", 9));
	config_free(cfg);
}
END_TEST

START_TEST(test_domains_autodetect)
{
	put("domainlist.xml", "<domainlist>\n<autodetect>true</autodetect>\n"
	    "<autodetectIP>true</autodetectIP>\n</domainlist>\n");
	struct config *cfg = load_expect(
	    "W @/domainlist.xml:3: <autodetectIP>: not yet supported; ignored\n");
	char host[300];
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	for (char *p = host; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	ck_assert_str_eq(cfg->domains.names[0], "localhost");
	if (strcmp(host, "localhost") == 0 || !cfg_domain_syntax(host)) {
		ck_assert_uint_eq(cfg->domains.n, 1);
	} else {
		ck_assert_uint_eq(cfg->domains.n, 2);
		ck_assert_str_eq(cfg->domains.names[1], host);
		ck_assert(config_is_local_domain(cfg, host, strlen(host)));
	}
	config_free(cfg);
}
END_TEST

START_TEST(test_main_values)
{
	put("mailetd.xml", "<mailetd>\n<dataDirectory>spool/data</dataDirectory>\n"
	    "<spool><fsync>false</fsync><commitThreads>64</commitThreads></spool>\n"
	    "<shutdownGracePeriod>0</shutdownGracePeriod>\n"
	    "<log><level>DEBUG</level><syslog>local3</syslog></log>\n<maxErrors>1000</maxErrors>\n"
	    "<extra/>\n</mailetd>\n");
	struct config *cfg = load_expect(
	    "W @/mailetd.xml:3: <fsync>: false: mail acknowledged with 250 can be lost on a crash "
	    "or power cut\n"
	    "W @/mailetd.xml:7: <extra>: unknown element, ignored\n");
	ck_assert_str_eq(cfg->main.data_dir, "/tmp/spool/data");
	ck_assert(!cfg->main.fsync);
	ck_assert_uint_eq(cfg->main.commit_threads, 64);
	ck_assert_uint_eq(cfg->main.shutdown_grace, 0);
	ck_assert_int_eq(cfg->main.log_level, LOG_LVL_DEBUG);
	ck_assert_int_eq(cfg->main.syslog_facility, LOG_LOCAL3);
	ck_assert_uint_eq(cfg->main.max_errors, 1000);
	config_free(cfg);

	put("mailetd.xml", "<mailetd><dataDirectory>/srv/mail</dataDirectory></mailetd>");
	cfg = load_expect("");
	ck_assert_str_eq(cfg->main.data_dir, "/srv/mail");
	config_free(cfg);

	struct config_opts opts = { .data_dir = "/override" };
	struct cfg_diag d;
	cfg_diag_init(&d);
	cfg = config_load(tmpdir, &opts, &d);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->main.data_dir, "/override");
	config_free(cfg);
	cfg_diag_clear(&d);
}
END_TEST

/* The data directory default is <parent of confdir>/var for any spelling. */
START_TEST(test_data_dir_parent)
{
	static const struct {
		const char *confdir, *want;
	} t[] = {
		{ "conf", "var" },
		{ "conf/", "var" },
		{ "./conf", "var" },
		{ "/etc/mailetd", "/etc/var" },
		{ "/etc/mailetd//", "/etc/var" },
		{ "/conf", "/var" },
		{ "a/b/conf", "a/b/var" },
		{ ".", "./../var" },
		{ "..", "../../var" },
	};
	for (size_t i = 0; i < NELEM(t); i++) {
		struct cfg_diag d;
		cfg_diag_init(&d);
		/* config_load refuses a missing directory, so ask the mailetd.xml
		 * loader directly: a missing mailetd.xml gives the defaults. */
		struct cfg_main m;
		cfg_main_load("/nonexistent/mailetd.xml", t[i].confdir, NULL, &d, &m);
		ck_assert_uint_eq(d.errors, 0);
		ck_assert_msg(strcmp(m.data_dir, t[i].want) == 0, "%s: %s", t[i].confdir,
		    m.data_dir);
		cfg_main_clear(&m);
		cfg_diag_clear(&d);
	}
}
END_TEST

/* --- shipped files ----------------------------------------------------------------- */

static const char *
sample_conf(void)
{
	const char *c = getenv("MAILETD_CONF");
	return c != NULL ? c : "conf";
}

START_TEST(test_sample_conf)
{
	struct cfg_diag d;
	cfg_diag_init(&d);
	struct config *cfg = config_load(sample_conf(), NULL, &d);
	char *got = diag_text(&d);
	/* The shipped configuration loads without a warning. */
	ck_assert_msg(d.errors == 0, "diagnostics:\n%s", got);
	ck_assert_msg(d.n == 0, "diagnostics:\n%s", got);
	free(got);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nservers, 4);
	const struct cfg_server *s = &cfg->servers[0];
	ck_assert(s->enabled);
	ck_assert_uint_eq(s->nbinds, 1);
	ck_assert_str_eq(s->binds[0].text, "127.0.0.1:2525");
	ck_assert_uint_eq(s->idle_timeout, 300);
	ck_assert_uint_eq(s->max_message_size, 10485760);
	ck_assert(s->helo_enforcement);
	ck_assert(s->brackets_enforcement);
	struct netaddr a;
	ck_assert_int_eq(netaddr_parse("127.0.0.1", &a), 0);
	ck_assert(netlist_match(&s->authorized, &a));
	/* 2465 implicit TLS, 2587 STARTTLS, keys from "make tls-cert". */
	ck_assert(cfg->servers[1].enabled);
	ck_assert(cfg->servers[1].tls.socket_tls);
	ck_assert_ptr_nonnull(cfg->servers[1].tls.ctx);
	ck_assert_str_eq(cfg->servers[1].binds[0].text, "127.0.0.1:2465");
	ck_assert(cfg->servers[2].enabled);
	ck_assert(cfg->servers[2].tls.start_tls);
	ck_assert_ptr_nonnull(cfg->servers[2].tls.ctx);
	ck_assert_str_eq(cfg->servers[2].binds[0].text, "127.0.0.1:2587");
	/* lmtpserver.xml: LMTP on 2424. */
	ck_assert_int_eq(cfg->servers[3].proto, CFG_PROTO_LMTP);
	ck_assert(cfg->servers[3].enabled);
	ck_assert_str_eq(cfg->servers[3].binds[0].text, "127.0.0.1:2424");
	ck_assert(config_is_local_domain(cfg, "localhost", 9));
	ck_assert(config_is_local_domain(cfg, "mailetd.test", 12));
	ck_assert(cfg->main.fsync);
	ck_assert_int_eq(cfg->main.log_level, LOG_LVL_INFO);
	ck_assert(!cfg->users.virtual_hosting);
	ck_assert_uint_eq(cfg->users.failure_delay_ms, 1000);
	config_free(cfg);
	cfg_diag_clear(&d);
}
END_TEST

/* The sample's file://conf/ paths follow the configuration directory. */
START_TEST(test_sample_conf_enabled)
{
	char *path = xasprintf("%s/smtpserver.xml", sample_conf());
	char *text = slurp(path);
	free(path);
	put("smtpserver.xml", text);
	free(text);
	struct cfg_diag d;
	cfg_diag_init(&d);
	struct config *cfg = config_load(tmpdir, NULL, &d);
	char *got = diag_text(&d);
	ck_assert_msg(cfg == NULL && strstr(got, "E @/smtpserver.xml:") != NULL &&
		strstr(got, "<certificates>: cannot read @/certs.pem") != NULL,
	    "diagnostics:\n%s", got);
	free(got);
	cfg_diag_clear(&d);

	put_tls_material("");
	cfg_diag_init(&d);
	cfg = config_load(tmpdir, NULL, &d);
	got = diag_text(&d);
	ck_assert_msg(cfg != NULL && d.errors == 0, "diagnostics:\n%s", got);
	free(got);
	ck_assert_uint_eq(cfg->nservers, 3);
	ck_assert_ptr_nonnull(cfg->servers[1].tls.ctx);
	ck_assert_ptr_nonnull(cfg->servers[2].tls.ctx);
	config_free(cfg);
	cfg_diag_clear(&d);
}
END_TEST

START_TEST(test_users_repository)
{
	struct config *cfg = load_expect("");
	ck_assert(!cfg->users.virtual_hosting);
	ck_assert_str_eq(cfg->users.algorithm, "PBKDF2-SHA512");
	ck_assert_uint_eq(cfg->users.iterations, 0);
	ck_assert_uint_eq(cfg->users.nadmins, 0);
	ck_assert_uint_eq(cfg->users.failure_delay_ms, 0);
	ck_assert_ptr_nonnull(cfg->users_db);
	config_free(cfg);

	put("usersrepository.xml",
	    "<usersrepository name=\"LocalUsers\" class=\"x.Y\">\n"
	    "<enableVirtualHosting>true</enableVirtualHosting>\n"
	    "<algorithm>PBKDF2-SHA512-300000-512/plain</algorithm>\n"
	    "<hashingMode>salted</hashingMode>\n"
	    "<administratorId>root@example.com</administratorId>\n"
	    "<administratorIds><administratorId>a@b.c</administratorId></administratorIds>\n"
	    "<verifyFailureDelay>500ms</verifyFailureDelay>\n"
	    "<enableForwarding>true</enableForwarding>\n"
	    "</usersrepository>\n");
	cfg = load_expect("");
	ck_assert(cfg->users.virtual_hosting);
	ck_assert_uint_eq(cfg->users.iterations, 300000);
	ck_assert_uint_eq(cfg->users.nadmins, 2);
	ck_assert_str_eq(cfg->users.admins[1], "a@b.c");
	ck_assert_uint_eq(cfg->users.failure_delay_ms, 500);
	config_free(cfg);

	put("usersrepository.xml",
	    "<usersrepository ldapHost=\"ldap://x\">\n"
	    "<algorithm>SHA-512</algorithm>\n"
	    "<verifyFailureDelay>2</verifyFailureDelay>\n"
	    "</usersrepository>\n");
	cfg = load_expect(
	    "W @/usersrepository.xml:1: <usersrepository>: ldapHost: LDAP users repositories are "
	    "not supported; users come from the file store in the data directory\n"
	    "W @/usersrepository.xml:2: <algorithm>: new passwords are hashed with PBKDF2-SHA512; "
	    "\"SHA-512\" hashes are only verified\n");
	ck_assert_uint_eq(cfg->users.failure_delay_ms, 2000);
	config_free(cfg);

	put("usersrepository.xml",
	    "<usersrepository>\n"
	    "<algorithm>ROT13</algorithm>\n"
	    "<hashingMode>sloppy</hashingMode>\n"
	    "<verifyFailureDelay>2 fortnights</verifyFailureDelay>\n"
	    "<enableVirtualHosting>perhaps</enableVirtualHosting>\n"
	    "</usersrepository>\n");
	load_expect(
	    "E @/usersrepository.xml:2: <algorithm>: \"ROT13\" is not a password algorithm (use "
	    "PBKDF2-SHA512, PBKDF2-SHA512-<iterations>, PBKDF2 or a digest such as SHA-512, "
	    "optionally with /plain or /salted)\n"
	    "E @/usersrepository.xml:3: <hashingMode>: \"sloppy\" is not valid (use plain, salted, "
	    "legacy or legacy_salted)\n"
	    "E @/usersrepository.xml:4: <verifyFailureDelay>: \"2 fortnights\" is not a duration "
	    "(use a number of seconds, or a number with ms, s, m, h or d)\n"
	    "E @/usersrepository.xml:5: <enableVirtualHosting>: \"perhaps\" is not a boolean (use "
	    "true or false)\n");
	put("usersrepository.xml",
	    "<usersrepository>\n"
	    "<verifyFailureDelay>61s</verifyFailureDelay>\n"
	    "</usersrepository>\n");
	load_expect("E @/usersrepository.xml:2: <verifyFailureDelay>: \"61s\" is out of range (0 "
		    "to 60 seconds)\n");
	drop("usersrepository.xml");
}
END_TEST

/* dnsservice.xml: defaults, James's elements, the port syntax, errors. */
START_TEST(test_dns_service)
{
	struct config *cfg = load_expect("");
	ck_assert(cfg->dns.autodiscover);
	ck_assert(!cfg->dns.authoritative);
	ck_assert_uint_eq(cfg->dns.nservers, 0);
	ck_assert_uint_eq(cfg->dns.max_cache_size, 50000);
	ck_assert_int_eq(cfg->dns.negative_ttl, -1);
	ck_assert(!cfg->dns.single_ip_per_mx);
	ck_assert_uint_eq(cfg->dns.timeout_ms, 10000);
	ck_assert_str_eq(cfg->dns.resolv_conf, "/etc/resolv.conf");
	config_free(cfg);

	put("dnsservice.xml",
	    "<dnsservice>\n"
	    "<servers>\n"
	    "  <server>192.0.2.53</server>\n"
	    "  <server>127.0.0.1:5353</server>\n"
	    "  <server>::1</server>\n"
	    "  <server>[2001:db8::53]:5300</server>\n"
	    "  <server>192.0.2.54@54</server>\n"
	    "  <server></server>\n"
	    "</servers>\n"
	    "<autodiscover>false</autodiscover>\n"
	    "<authoritative>false</authoritative>\n"
	    "<maxcachesize>1000</maxcachesize>\n"
	    "<negativeCacheTTL>60</negativeCacheTTL>\n"
	    "<singleIPperMX>true</singleIPperMX>\n"
	    "<timeout>1500ms</timeout>\n"
	    "<verbose>true</verbose>\n"
	    "<setAsDNSJavaDefault>false</setAsDNSJavaDefault>\n"
	    "</dnsservice>\n");
	cfg = load_expect("");
	ck_assert(!cfg->dns.autodiscover);
	ck_assert_uint_eq(cfg->dns.nservers, 5);
	static const char *const fwd[] = { "192.0.2.53@53", "127.0.0.1@5353", "::1@53",
		"2001:db8::53@5300", "192.0.2.54@54" };
	for (size_t i = 0; i < 5; i++)
		ck_assert_str_eq(cfg->dns.servers[i].fwd, fwd[i]);
	ck_assert_str_eq(cfg->dns.servers[3].text, "[2001:db8::53]:5300");
	ck_assert_int_eq(cfg->dns.servers[1].line, 4);
	ck_assert_uint_eq(cfg->dns.max_cache_size, 1000);
	ck_assert_int_eq(cfg->dns.negative_ttl, 60);
	ck_assert(cfg->dns.single_ip_per_mx);
	ck_assert_uint_eq(cfg->dns.timeout_ms, 1500);
	config_free(cfg);

	put("dnsservice.xml",
	    "<dnsservice>\n"
	    "<authoritative>true</authoritative>\n"
	    "<searchpaths><searchpath>example.com</searchpath></searchpaths>\n"
	    "<timeout>5</timeout>\n"
	    "</dnsservice>\n");
	cfg = load_expect(
	    "W @/dnsservice.xml:2: <authoritative>: has no effect in mailetd (answers of the "
	    "configured servers are used as they come)\n"
	    "W @/dnsservice.xml:3: <searchpath>: search paths are not used (mail domains are "
	    "fully qualified); ignored\n");
	ck_assert(cfg->dns.authoritative);
	ck_assert_uint_eq(cfg->dns.timeout_ms, 5000);
	config_free(cfg);

	put("dnsservice.xml",
	    "<dnsservice>\n"
	    "<servers>\n"
	    "  <server>dns.example.com</server>\n"
	    "  <server>127.0.0.1:0</server>\n"
	    "  <server>[::1</server>\n"
	    "  <server>10.1</server>\n"
	    "  <server>1.2.3.4:99999</server>\n"
	    "</servers>\n"
	    "<autodiscover>perhaps</autodiscover>\n"
	    "<maxcachesize>-5</maxcachesize>\n"
	    "<timeout>10ms</timeout>\n"
	    "<timeout2>1</timeout2>\n"
	    "</dnsservice>\n");
	cfg = load_expect(
	    "E @/dnsservice.xml:3: <server>: \"dns.example.com\" is not an IP address (use an "
	    "IPv4 or IPv6 address, optionally with a port: 192.0.2.53:5353, "
	    "[2001:db8::53]:5353)\n"
	    "E @/dnsservice.xml:4: <server>: \"127.0.0.1:0\" has a bad port (use 1 to 65535)\n"
	    "E @/dnsservice.xml:5: <server>: \"[::1\" is not an IP address (write [IPv6]:port)\n"
	    "E @/dnsservice.xml:6: <server>: \"10.1\" is not an IP address (use an IPv4 or IPv6 "
	    "address, optionally with a port: 192.0.2.53:5353, [2001:db8::53]:5353)\n"
	    "E @/dnsservice.xml:7: <server>: \"1.2.3.4:99999\" has a bad port (use 1 to 65535)\n"
	    "E @/dnsservice.xml:9: <autodiscover>: \"perhaps\" is not a boolean (use true or "
	    "false)\n"
	    "E @/dnsservice.xml:10: <maxcachesize>: -5 is out of range (0 to 10000000)\n"
	    "E @/dnsservice.xml:11: <timeout>: \"10ms\" is out of range (100ms to 300s)\n"
	    "W @/dnsservice.xml:12: <timeout2>: unknown element, ignored\n");
	ck_assert_ptr_null(cfg);

	put("dnsservice.xml",
	    "<dnsservice>\n"
	    "<timeout>soon</timeout>\n"
	    "</dnsservice>\n");
	cfg = load_expect("E @/dnsservice.xml:2: <timeout>: \"soon\" is not a duration (use a "
			  "number of seconds, or a number with ms or s)\n");
	ck_assert_ptr_null(cfg);
}
END_TEST

static const char *
james_conf(void)
{
	const char *c = getenv("JAMES_CONF");
	return c != NULL ? c : "../shared/james-conf";
}

/* Copies src as name into tmpdir and loads it: errors fail the test. */
static void
load_james_file(const char *src, const char *name)
{
	char *text = slurp(src);
	drop("smtpserver.xml");
	drop("domainlist.xml");
	drop("usersrepository.xml");
	drop("lmtpserver.xml");
	drop("dnsservice.xml");
	drop("recipientrewritetable.xml");
	if (strcmp(name, "smtpserver.xml") == 0) {
		/* The key files the sample names, protected by its own <secret>. */
		static char made[64];
		char secret[64] = "";
		const char *p = strstr(text, "<secret>"), *q;
		if (p != NULL && (q = strstr(p, "</secret>")) != NULL && q - p - 8 < 64)
			snprintf(secret, sizeof(secret), "%.*s", (int)(q - p - 8), p + 8);
		char *ks = xasprintf("%s/keystore", tmpdir);
		if (access(ks, F_OK) != 0 || strcmp(made, secret) != 0) {
			put_tls_material(secret);
			snprintf(made, sizeof(made), "%s", secret);
		}
		free(ks);
	}
	put(name, text);
	free(text);
	struct cfg_diag d;
	cfg_diag_init(&d);
	struct config *cfg = config_load(tmpdir, NULL, &d);
	char *got = diag_text(&d);
	ck_assert_msg(cfg != NULL && d.errors == 0, "%s:\n%s", src, got);
	free(got);
	config_free(cfg);
	cfg_diag_clear(&d);
}

/* Every smtpserver*.xml, domainlist.xml, usersrepository.xml, dnsservice.xml and
 * recipientrewritetable.xml of James's corpus loads without error. */
START_TEST(test_james_corpus)
{
	const char *root = james_conf();
	DIR *top = opendir(root);
	ck_assert_msg(top != NULL, "James corpus not found at %s (set JAMES_CONF)", root);
	size_t smtp = 0, domains = 0, users = 0, lmtp = 0, dns = 0, rrt = 0;
	struct dirent *e;
	while ((e = readdir(top)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *dir = xasprintf("%s/%s", root, e->d_name);
		DIR *sub = opendir(dir);
		if (sub == NULL) {
			free(dir);
			continue;
		}
		struct dirent *f;
		while ((f = readdir(sub)) != NULL) {
			const char *n = f->d_name;
			size_t len = strlen(n);
			if (len < 4 || strcmp(n + len - 4, ".xml") != 0)
				continue;
			char *src = xasprintf("%s/%s", dir, n);
			if (strncmp(n, "smtpserver", 10) == 0) {
				load_james_file(src, "smtpserver.xml");
				smtp++;
			} else if (strcmp(n, "domainlist.xml") == 0) {
				load_james_file(src, "domainlist.xml");
				domains++;
			} else if (strcmp(n, "usersrepository.xml") == 0) {
				load_james_file(src, "usersrepository.xml");
				users++;
			} else if (strncmp(n, "lmtp", 4) == 0) {
				load_james_file(src, "lmtpserver.xml");
				lmtp++;
			} else if (strcmp(n, "dnsservice.xml") == 0) {
				load_james_file(src, "dnsservice.xml");
				dns++;
			} else if (strcmp(n, "recipientrewritetable.xml") == 0) {
				load_james_file(src, "recipientrewritetable.xml");
				rrt++;
			}
			free(src);
		}
		closedir(sub);
		free(dir);
	}
	closedir(top);
	ck_assert_msg(smtp >= 20 && domains >= 5 && users >= 5 && lmtp >= 10 && dns >= 5 &&
	        rrt >= 5,
	    "only %zu smtpserver, %zu domainlist, %zu usersrepository, %zu lmtpserver, %zu "
	    "dnsservice and %zu recipientrewritetable files",
	    smtp, domains, users, lmtp, dns, rrt);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");

	TCase *tc = tcase_create("values");
	tcase_add_loop_test(tc, test_size, 0, NELEM(sizes));
	tcase_add_loop_test(tc, test_bool, 0, NELEM(bools));
	tcase_add_loop_test(tc, test_int, 0, NELEM(ints));
	tcase_add_loop_test(tc, test_interpolate, 0, NELEM(interps));
	tcase_add_test(tc, test_domain_syntax);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_broken, 0, NELEM(broken));
	tcase_add_test(tc, test_errors_across_files);
	tcase_add_loop_test(tc, test_warned, 0, NELEM(warned));
	tcase_add_test(tc, test_socket_tls_disables);
	tcase_add_test(tc, test_unsupported_files);
	tcase_add_test(tc, test_empty_dir);
	tcase_add_test(tc, test_smtp_defaults);
	tcase_add_test(tc, test_smtp_auth);
	tcase_add_test(tc, test_lmtp_defaults);
	tcase_add_test(tc, test_lmtp_values);
	tcase_add_test(tc, test_smtp_values);
	tcase_add_test(tc, test_sys_interpolation);
	tcase_add_test(tc, test_root_server);
	tcase_add_test(tc, test_domains);
	tcase_add_test(tc, test_domains_autodetect);
	tcase_add_test(tc, test_users_repository);
	tcase_add_test(tc, test_dns_service);
	tcase_add_test(tc, test_main_values);
	tcase_add_test(tc, test_data_dir_parent);
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sample_conf);
	tcase_add_test(tc, test_sample_conf_enabled);
	/* The corpus sits beside the project (../shared/james-conf) in this
	 * workplace; a checkout without it says so instead of failing. */
	DIR *corpus = opendir(james_conf());
	if (corpus != NULL) {
		closedir(corpus);
		tcase_add_test(tc, test_james_corpus);
	} else {
		fprintf(stderr, "test_config: SKIPPED the James corpus test: %s not found "
				"(set JAMES_CONF)\n",
		    james_conf());
	}
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

/*
 * test_spamd.c - the spamd client (reply parser, the exchange on an event
 * loop against a small spamd in a thread) and SpamAssassinHandler's
 * decisions.
 */
#include "../../handlers/chain.h"
#include "../../handlers/fastfail/fastfail.h"
#include "../../handlers/fastfail/spamd.h"
#include "../../src/config/cfg_chain.h"
#include "../../src/config/config.h"
#include "chain_fixture.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/* the parser                                                             */

static const struct {
	const char *reply;
	int rc;
	bool spam;
	const char *score, *threshold;
} replies[] = {
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1005.2 / 5.0\r\n\r\n", 0, true, "1005.2", "5.0" },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.3 / 5.0\r\n\r\n", 0, false, "-0.3", "5.0" },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: Yes ; 7 / 5\r\n\r\n", 0, true, "7", "5" },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: No ; 0.0 / 5.0\r\n\r\n", 0, false, "0.0", "5.0" },
	{ "SPAMD/1.1 0 EX_OK\r\nContent-length: 4\r\nSpam: True ; 6.0 / 5.0\r\n\r\nBODY", 0,
	    true, "6.0", "5.0" },
	{ "SPAMD/1.1 0 EX_OK\r\nX-Other: whatever\r\nSpam: False ; 1.0 / 5.0\r\n\r\n", 0, false,
	    "1.0", "5.0" },
	/* errors */
	{ "", -1, false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\n", -1, false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\n\r\n", -1, false, NULL, NULL },                   /* no Spam */
	{ "SPAMD/1.0 76 Bad header line: x\r\n", -1, false, NULL, NULL },        /* error code */
	{ "SPAMD/1.1 76 EX_PROTOCOL\r\nSpam: True ; 9.0 / 5.0\r\n\r\n", -1, false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\nSpam: True ; 9.0 / 5.0\n\n", -1, false, NULL, NULL }, /* bare LF */
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 9.0 / 5.0\r\n\r\n", -1, false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0x / 5.0\r\n\r\n", -1, false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9. / 5.0\r\n\r\n", -1, false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0 \r\n\r\n", -1, false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1234567890123456.0 / 5.0\r\n\r\n", -1, false, NULL,
	    NULL },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\nSpam: False ; 0 / 5\r\n\r\n", -1, false,
	    NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n\r\ntrailing", -1, false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\nContent-length: 9\r\nSpam: True ; 9.0 / 5.0\r\n\r\nshort", -1,
	    false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n", -1, false, NULL, NULL },
	{ "SPAMD/x 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n\r\n", -1, false, NULL, NULL },
	{ "HTTP/1.1 200 OK\r\nSpam: True ; 9.0 / 5.0\r\n\r\n", -1, false, NULL, NULL },
	{ "SPAMD/1.1 0 EX_OK\r\nBad Header: x\r\nSpam: True ; 9.0 / 5.0\r\n\r\n", -1, false, NULL,
	    NULL },
};

START_TEST(reply_table)
{
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct spamd_result r;
		const char *why = NULL;
		int rc = spamd_reply_parse(replies[i].reply, strlen(replies[i].reply), &r, &why);
		ck_assert_msg(rc == replies[i].rc, "reply %zu: rc %d (%s)", i, rc, why ? why : "");
		if (rc != 0) {
			ck_assert_ptr_nonnull(why);
			continue;
		}
		ck_assert_int_eq(r.spam, replies[i].spam);
		ck_assert_str_eq(r.score_text, replies[i].score);
		ck_assert_str_eq(r.threshold_text, replies[i].threshold);
	}
}
END_TEST

START_TEST(reply_with_nul_is_refused)
{
	static const char r1[] = "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\nX: a\0b\r\n\r\n";
	struct spamd_result r;
	const char *why;
	ck_assert_int_eq(spamd_reply_parse(r1, sizeof(r1) - 1, &r, &why), -1);
	/* Every proper prefix of a good reply is refused (the reply ends at EOF). */
	const char *good = replies[0].reply;
	for (size_t n = 0; n < strlen(good); n++)
		ck_assert_int_eq(spamd_reply_parse(good, n, &r, &why), -1);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* the exchange                                                           */

struct fake_spamd {
	int lfd;
	int port;
	const char *reply;    /* NULL: read the request, then never answer */
	char request[4096];
	size_t reqlen;
};

static void *
fake_spamd_run(void *arg)
{
	struct fake_spamd *f = arg;
	int c = accept(f->lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	/* Read the request head and the Content-length octets. */
	size_t want = (size_t)-1;
	while (f->reqlen < sizeof(f->request) - 1 && f->reqlen < want) {
		ssize_t n = read(c, f->request + f->reqlen, sizeof(f->request) - 1 - f->reqlen);
		if (n <= 0)
			break;
		f->reqlen += (size_t)n;
		f->request[f->reqlen] = '\0';
		char *hend = strstr(f->request, "\r\n\r\n");
		char *cl = strstr(f->request, "Content-length: ");
		if (hend != NULL && cl != NULL)
			want = (size_t)(hend + 4 - f->request) + strtoul(cl + 16, NULL, 10);
	}
	if (f->reply != NULL) {
		ssize_t w = write(c, f->reply, strlen(f->reply));
		(void)w;
		close(c);
	} else {
		sleep(2); /* longer than the client's time limit */
		close(c);
	}
	return NULL;
}

static void
fake_spamd_listen(struct fake_spamd *f)
{
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(f->lfd, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(f->lfd, 1), 0);
	socklen_t len = sizeof(sin);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&sin, &len), 0);
	f->port = ntohs(sin.sin_port);
}

struct outcome {
	bool called;
	int err;
	struct spamd_result r;
	struct event_base *base;
};

static void
outcome_done(void *arg, int err, const char *why, const struct spamd_result *r)
{
	struct outcome *o = arg;
	o->called = true;
	o->err = err;
	if (err == 0)
		o->r = *r;
	else
		ck_assert_ptr_nonnull(why);
	event_base_loopbreak(o->base);
}

/* A message file of the given text (unlinked, open for reading). */
static int
message_fd(const char *text)
{
	char path[] = "/tmp/mailetd-test-spamd-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static struct outcome
exchange(struct fake_spamd *f, int port, const char *msg, unsigned timeout_ms)
{
	struct outcome o = { .base = event_base_new() };
	ck_assert_ptr_nonnull(o.base);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	pthread_t t;
	if (f != NULL)
		ck_assert_int_eq(pthread_create(&t, NULL, fake_spamd_run, f), 0);
	ck_assert_int_eq(spamd_check(o.base, (struct sockaddr *)&sin, sizeof(sin), message_fd(msg),
	                     strlen(msg), timeout_ms, outcome_done, &o),
	    0);
	ck_assert(!o.called); /* never from within spamd_check */
	event_base_dispatch(o.base);
	ck_assert(o.called);
	if (f != NULL) {
		pthread_join(t, NULL);
		close(f->lfd);
	}
	event_base_free(o.base);
	return o;
}

static const char msg[] = "Subject: test\r\n\r\nhello\r\n";

START_TEST(exchange_sends_check_and_reads_verdict)
{
	struct fake_spamd f = { .reply = "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n" };
	fake_spamd_listen(&f);
	struct outcome o = exchange(&f, f.port, msg, 5000);
	ck_assert_int_eq(o.err, 0);
	ck_assert(o.r.spam);
	ck_assert_str_eq(o.r.score_text, "1000.0");
	char want[256];
	snprintf(want, sizeof(want), "CHECK SPAMC/1.5\r\nContent-length: %zu\r\n\r\n%s",
	    strlen(msg), msg);
	ck_assert_str_eq(f.request, want);
}
END_TEST

START_TEST(exchange_bad_reply_is_eproto)
{
	struct fake_spamd f = { .reply = "SPAMD/1.1 0 EX_OK\r\nSpam: sure\r\n\r\n" };
	fake_spamd_listen(&f);
	struct outcome o = exchange(&f, f.port, msg, 5000);
	ck_assert_int_eq(o.err, EPROTO);
}
END_TEST

START_TEST(exchange_refused_and_timeout)
{
	/* A port nobody listens on: the listener is closed before the call. */
	struct fake_spamd f = { 0 };
	fake_spamd_listen(&f);
	close(f.lfd);
	struct outcome o = exchange(NULL, f.port, msg, 5000);
	ck_assert_int_eq(o.err, ECONNREFUSED);

	struct fake_spamd g = { .reply = NULL };
	fake_spamd_listen(&g);
	o = exchange(&g, g.port, msg, 300);
	ck_assert_int_eq(o.err, ETIMEDOUT);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* the handler                                                            */


static const char *
attr(const struct hook_session *s, const char *name)
{
	for (size_t i = 0; i < s->nattrs; i++)
		if (strcmp(s->attr_names[i], name) == 0)
			return s->attr_values[i];
	return NULL;
}

START_TEST(decisions)
{
	size_t errors;
	struct chain *c = chain_from("<handlerchain><handler "
	                             "class=\"org.apache.james.spamassassin.SpamAssassinHandler\">"
	                             "<spamdHost>127.0.0.1</spamdHost><spamdPort>7830</spamdPort>"
	                             "<spamdRejectionHits>10.0</spamdRejectionHits>"
	                             "</handler></handlerchain>",
	    &errors);
	ck_assert_uint_eq(errors, 0);
	ck_assert_str_eq(c->v[0].def->name, "SpamAssassinHandler");
	struct hook_session hs = { .id = "test" };
	chain_session_begin(c, &hs);
	hs.state = &hs.slots[0];
	const void *conf = c->v[0].conf;

	/* Ham: attributes, no rejection. */
	struct spamd_result r = { .spam = false, .score = 1.5, .score_text = "1.5",
		.threshold_text = "5.0" };
	struct hook_result res = spamassassin_decide(&hs, conf, &r);
	ck_assert_int_eq(res.verdict, HOOK_DECLINED);
	ck_assert_str_eq(attr(&hs, "org.apache.james.spamassassin.flag"), "NO");
	ck_assert_str_eq(attr(&hs, "org.apache.james.spamassassin.status"),
	    "No, hits=1.5 required=5.0");

	/* Spam below the rejection hits: flagged, accepted. */
	hs.nattrs = 0;
	r = (struct spamd_result){ .spam = true, .score = 9.9, .score_text = "9.9",
		.threshold_text = "5.0" };
	res = spamassassin_decide(&hs, conf, &r);
	ck_assert_int_eq(res.verdict, HOOK_DECLINED);
	ck_assert_str_eq(attr(&hs, "org.apache.james.spamassassin.flag"), "YES");
	ck_assert_str_eq(attr(&hs, "org.apache.james.spamassassin.status"),
	    "Yes, hits=9.9 required=5.0");

	/* At the rejection hits (James: spamdRejectionHits <= hits): 554 5.7.0. */
	hs.nattrs = 0;
	r = (struct spamd_result){ .spam = true, .score = 10.0, .score_text = "10.0",
		.threshold_text = "5.0" };
	res = spamassassin_decide(&hs, conf, &r);
	ck_assert_int_eq(res.verdict, HOOK_DENY);
	ck_assert_int_eq(res.code, 554);
	ck_assert_str_eq(res.ecode, "5.7.0");
	ck_assert_str_eq(res.text, "This message reach the spam hits treshold. Please contact the "
	                           "Postmaster if the email is not SPAM. Message rejected");
	chain_session_end(c, &hs);
	chain_free(c);

	/* Without spamdRejectionHits (0.0) nothing is rejected; old class name. */
	c = chain_from("<handlerchain><handler "
	               "class=\"org.apache.james.smtpserver.fastfail.SpamAssassinHandler\"/>"
	               "</handlerchain>",
	    &errors);
	ck_assert_uint_eq(errors, 0);
	struct hook_session h2 = { .id = "test" };
	chain_session_begin(c, &h2);
	h2.state = &h2.slots[0];
	r = (struct spamd_result){ .spam = true, .score = 1000, .score_text = "1000.0",
		.threshold_text = "5.0" };
	res = spamassassin_decide(&h2, c->v[0].conf, &r);
	ck_assert_int_eq(res.verdict, HOOK_DECLINED);
	ck_assert_str_eq(attr(&h2, "org.apache.james.spamassassin.flag"), "YES");
	chain_session_end(c, &h2);
	chain_free(c);
}
END_TEST

START_TEST(configuration_errors)
{
	const char *bad[] = {
		"<handlerchain><handler class=\"SpamAssassinHandler\"><spamdRejectionHits>lots"
		"</spamdRejectionHits></handler></handlerchain>",
		"<handlerchain><handler class=\"SpamAssassinHandler\"><spamdPort>0</spamdPort>"
		"</handler></handlerchain>",
		"<handlerchain><handler class=\"SpamAssassinHandler\"><spamdTimeout>soon"
		"</spamdTimeout></handler></handlerchain>",
		"<handlerchain><handler class=\"SpamAssassinHandler\"><spamdHost>no such host."
		"</spamdHost></handler></handlerchain>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t errors;
		struct chain *c = chain_from(bad[i], &errors);
		ck_assert_msg(errors > 0, "config %zu accepted", i);
		chain_free(c);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("spamd");
	TCase *tc = tcase_create("spamd");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, reply_table);
	tcase_add_test(tc, reply_with_nul_is_refused);
	tcase_add_test(tc, exchange_sends_check_and_reads_verdict);
	tcase_add_test(tc, exchange_bad_reply_is_eproto);
	tcase_add_test(tc, exchange_refused_and_timeout);
	tcase_add_test(tc, decisions);
	tcase_add_test(tc, configuration_errors);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* test_reply.c - unit tests of the reply formatter. */
#include "../../src/protocol/reply.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

static char *
drain(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	return s;
}

START_TEST(single_line_with_and_without_ecode)
{
	struct evbuffer *b = evbuffer_new();
	reply_add(b, 250, "2.1.0", "Sender <%s> OK", "a@b");
	reply_add(b, 354, NULL, "Go ahead");
	char *s = drain(b);
	ck_assert_str_eq(s, "250 2.1.0 Sender <a@b> OK\r\n354 Go ahead\r\n");
	free(s);
	evbuffer_free(b);
}
END_TEST

START_TEST(multi_line_uses_dashes_but_last)
{
	struct evbuffer *b = evbuffer_new();
	const char *lines[] = { "host Hello", "PIPELINING", "SIZE 10" };
	reply_add_lines(b, 250, NULL, lines, 3);
	char *s = drain(b);
	ck_assert_str_eq(s, "250-host Hello\r\n250-PIPELINING\r\n250 SIZE 10\r\n");
	free(s);
	evbuffer_free(b);
}
END_TEST

START_TEST(client_text_cannot_split_a_reply)
{
	struct evbuffer *b = evbuffer_new();
	reply_add(b, 250, "2.1.5", "Recipient <%s> OK", "x\r\n250 forged");
	char *s = drain(b);
	ck_assert_str_eq(s, "250 2.1.5 Recipient <x??250 forged> OK\r\n");
	free(s);
	evbuffer_free(b);
}
END_TEST

START_TEST(long_text_is_truncated_to_512)
{
	struct evbuffer *b = evbuffer_new();
	char big[2000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	reply_add(b, 500, "5.5.2", "%s", big);
	char *s = drain(b);
	ck_assert_uint_le(strlen(s), 512);
	ck_assert(strcmp(s + strlen(s) - 2, "\r\n") == 0);
	ck_assert_int_eq(reply_is_error(500), 1);
	ck_assert_int_eq(reply_is_error(250), 0);
	free(s);
	evbuffer_free(b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, single_line_with_and_without_ecode);
	tcase_add_test(tc, multi_line_uses_dashes_but_last);
	tcase_add_test(tc, client_text_cannot_split_a_reply);
	tcase_add_test(tc, long_text_is_truncated_to_512);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

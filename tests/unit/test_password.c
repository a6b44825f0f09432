/* test_password.c - unit tests of password hashing and verification. */
#include "../../src/auth/password.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/*
 * Known answers for PBKDF2-HMAC-SHA512, 64-byte keys; computed with
 * `openssl kdf -keylen 64 -kdfopt digest:SHA512 ... PBKDF2` (the first two
 * are the widely published "password"/"salt" vectors).
 */
static const struct {
	const char *hash;
	const char *pw;
} pbkdf2_vectors[] = {
	{ "{PBKDF2-SHA512}1$c2FsdA==$hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lLALUcKKFoFAbrZmb/"
	  "pQ8CPBQI119aLHaVeY/c7YKV/zg==",
	    "password" },
	{ "{PBKDF2-SHA512}2$c2FsdA==$4dnBaqaBcIpF9cfE4hXOtm4BGi6fAEBxPxiu/bhm1Tz3bKsoaKObn3hA7c5P71q"
	  "CvmczXHemBo4EESdU8nzPTg==",
	    "password" },
	{ "{PBKDF2-SHA512}1000$AAECAwQFBgcICQoLDA0ODw==$x05AgND7tB/uWGjA/2D9dayuJjghWYfl/"
	  "1T46uIRM5ta0a9uOHvBLdOnC7blqQEIFBxfCONToumEQ5pDM8Qtbg==",
	    "password" },
};

START_TEST(pbkdf2_known_answers)
{
	for (size_t i = 0; i < sizeof(pbkdf2_vectors) / sizeof(pbkdf2_vectors[0]); i++) {
		const char *h = pbkdf2_vectors[i].hash, *pw = pbkdf2_vectors[i].pw;
		ck_assert_int_eq(password_verify(h, NULL, pw, strlen(pw)), PASSWORD_OK);
		ck_assert_int_eq(password_verify(h, NULL, "passwore", 8), PASSWORD_MISMATCH);
		ck_assert_int_eq(password_verify(h, NULL, "", 0), PASSWORD_MISMATCH);
		ck_assert(password_hash_valid(h));
	}
}
END_TEST

START_TEST(new_hash_round_trip)
{
	char *h = password_hash("s3cret\0x", 8, 1000);
	ck_assert_ptr_nonnull(h);
	ck_assert(strncmp(h, "{PBKDF2-SHA512}1000$", 20) == 0);
	ck_assert(password_hash_valid(h));
	ck_assert_int_eq(password_verify(h, NULL, "s3cret\0x", 8), PASSWORD_OK);
	ck_assert_int_eq(password_verify(h, NULL, "s3cret", 6), PASSWORD_MISMATCH);
	/* A fresh salt every time. */
	char *h2 = password_hash("s3cret\0x", 8, 1000);
	ck_assert_str_ne(h, h2);
	password_free(h);
	password_free(h2);
	/* The count is clamped to the minimum. */
	h = password_hash("a", 1, 1);
	ck_assert(strncmp(h, "{PBKDF2-SHA512}1000$", 20) == 0);
	password_free(h);
}
END_TEST

/* Made with `openssl passwd -6`, `openssl passwd -5` and crypt(3) bcrypt. */
START_TEST(crypt_hashes)
{
	static const struct {
		const char *hash, *pw;
	} v[] = {
		{ "{SHA512-CRYPT}$6$saltsaltsalt$PMWE8DTlam1JU37Piyk43bHcMxTJq6sgu5DKB0/tGPjanN35jcY68Qkp"
		  "DfPFUGPWX5uCxIQkSPzMmqEiVNgts.",
		    "secret" },
		{ "$6$Xy12Zw34$YYbW3NuzjTZA.4xvZc/jZAivaVjdpr7ne3DpGZYqKGnbVPJTNidhdg8pvJZLvlTBK11pupIgF3"
		  "wSE20wXiS7Y1",
		    "correct horse" },
		{ "{SHA256-CRYPT}$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.", "secret" },
		{ "{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a", "secret" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert(password_hash_valid(v[i].hash));
		ck_assert_int_eq(password_verify(v[i].hash, NULL, v[i].pw, strlen(v[i].pw)),
		    PASSWORD_OK);
		ck_assert_int_eq(password_verify(v[i].hash, NULL, "Secret", 6), PASSWORD_MISMATCH);
	}
	/* A password with a NUL never matches a crypt hash. */
	ck_assert_int_eq(password_verify(v[0].hash, NULL, "secret\0", 7), PASSWORD_MISMATCH);
}
END_TEST

/* James's stored algorithms (james.md 1g.2): the salt is the user name. */
START_TEST(james_hashes)
{
	static const struct {
		const char *hash, *user, *pw;
	} v[] = {
		{ "{JAMES:PBKDF2-SHA512}xw2MotJNPFnB2TqUd9lUC9+LtnjYa6LohBKU24reLwclIDu4FXCcXPxcobnvc1VX"
		  "YNYYCTsLUhWs3yxgHSuVwQ==",
		    "bob@example.com", "secret" },
		/* Java's MIME encoder breaks the line at 76 characters. */
		{ "{JAMES:PBKDF2-SHA512-1000-512/plain}xw2MotJNPFnB2TqUd9lUC9+LtnjYa6LohBKU24reLwclIDu4F"
		  "XCcXPxcobnvc1VXYNYYCTsLUhWs3yxg\r\nHSuVwQ==",
		    "bob@example.com", "secret" },
		{ "{JAMES:PBKDF2}DckxWfjxDGYvT6tad3Rktlyr0kKeLi8a/tqc8yaWZcOyf9TldTkhzTySMj3KHdjfl9z37sxXc"
		  "cKlUFc44cw53A==",
		    "bob", "secret" },
		{ "{JAMES:SHA-512/salted}kTtGl4u15hnHGEPhI92JlUHma5qTnoJyagd988sZX+7xdy5I++Mgpzg+Yts6EkQE"
		  "8hMrNU3B095LeAvwB4f77A==",
		    "bob", "secret" },
		{ "{JAMES:SHA-512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5"
		  "bDufKRpayrW/isg==",
		    "anyone", "secret" },
		/* ISO-8859-1 input: "pässword" as UTF-8 is hashed as Latin-1. */
		{ "{JAMES:SHA-512/salted}fZOYXfbQwdPxN1dgb0D4gjmVbWNkZJMEHYtZ7cw7VTAfweRARSqg8qU1wyhDQ2x1"
		  "2ttjtCiR+67M8ExaPvJKtg==",
		    "bob", "p\xc3\xa4ssword" },
		{ "{JAMES:SHA-256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", "x", "secret" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_msg(password_hash_valid(v[i].hash), "%zu", i);
		ck_assert_int_eq(password_verify(v[i].hash, v[i].user, v[i].pw, strlen(v[i].pw)),
		    PASSWORD_OK);
		ck_assert_int_eq(password_verify(v[i].hash, v[i].user, "wrong", 5), PASSWORD_MISMATCH);
	}
	/* The user name is the salt: another user's name does not match. */
	ck_assert_int_eq(password_verify(v[0].hash, "alice@example.com", "secret", 6),
	    PASSWORD_MISMATCH);
}
END_TEST

START_TEST(malformed_hashes_rejected)
{
	static const char *const bad[] = {
		"",
		"secret",
		"{PLAIN}secret",
		"{PBKDF2-SHA512}",
		"{PBKDF2-SHA512}abc$c2FsdA==$hn9wzxreAs/zdSWZo6U9xK80x6Zp",
		"{PBKDF2-SHA512}0$c2FsdA==$hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lLA",
		"{PBKDF2-SHA512}1$c2FsdA==",
		"{PBKDF2-SHA512}1$c2F*dA==$hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lLA",
		"{PBKDF2-SHA512}1$c2FsdA==$aGVsbG8=",
		"{PBKDF2-SHA512}99999999999$c2FsdA==$hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lLA",
		"{SHA512-CRYPT}$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.",
		"{SHA512-CRYPT}",
		"{SHA512-CRYPT}$6$",
		"{MD5-CRYPT}$1$abc$def",
		"{JAMES:SHA-512/legacy}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2c",
		"{JAMES:WHIRLPOOL}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2c",
		"{JAMES:PBKDF2-x}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2c",
		"{JAMES:PBKDF2-1000-7}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2c",
		"{JAMES:SHA-512}",
		"{JAMES:SHA-512",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!password_hash_valid(bad[i]), "valid: %s", bad[i]);
		ck_assert_msg(password_verify(bad[i], "bob", "secret", 6) == PASSWORD_BADHASH,
		    "verified: %s", bad[i]);
	}
	ck_assert_int_eq(password_verify(NULL, "bob", "x", 1), PASSWORD_BADHASH);
	/* A password longer than the limit never verifies. */
	char *h = password_hash("x", 1, 1000);
	char big[PASSWORD_MAX_LEN + 2];
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(password_verify(h, NULL, big, sizeof(big)), PASSWORD_MISMATCH);
	password_free(h);
	password_free(NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("password");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pbkdf2_known_answers);
	tcase_add_test(tc, new_hash_round_trip);
	tcase_add_test(tc, crypt_hashes);
	tcase_add_test(tc, james_hashes);
	tcase_add_test(tc, malformed_hashes_rejected);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

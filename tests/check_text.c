/*
 * check_text.c: the text helpers (sched/text.c). UTF-8 is checked against
 * RFC 3629's edge cases (overlong forms, surrogates, the last code point,
 * truncated and stray bytes); repair turns exactly the bad bytes into
 * U+FFFD; terminal escaping leaves printable text alone, escapes every
 * control a terminal could act on, and cuts at a character boundary.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

/* A test string with its length: the cases hold NUL bytes. */
#define S(x)	{ x, sizeof(x) - 1 }

struct bytes {
	const char	*b_s;
	size_t		 b_len;
};

START_TEST(utf8_accepts)
{
	static const struct bytes ok[] = {
		S(""), S("plain ascii"), S("caf\xc3\xa9"), S("\xc2\x80"),
		S("\xdf\xbf"), S("\xe0\xa0\x80"), S("\xe2\x82\xac"),
		S("\xed\x9f\xbf"),		/* U+D7FF, before the surrogates */
		S("\xee\x80\x80"),		/* U+E000, after them */
		S("\xef\xbf\xbf"), S("\xf0\x90\x80\x80"),
		S("\xf4\x8f\xbf\xbf"),		/* U+10FFFF, the last */
		S("a\0b"),			/* NUL is the caller's business */
		S("\xe6\x97\xa5\xe6\x9c\xac"),
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(text_utf8(ok[i].b_s, ok[i].b_len), "case %zu "
		    "refused", i);
}
END_TEST

START_TEST(utf8_refuses)
{
	static const struct bytes bad[] = {
		S("\x80"), S("\xbf"), S("a\xffz"), S("\xfe"),
		S("\xc0\x80"),			/* overlong NUL */
		S("\xc1\xbf"),			/* overlong 0x7f */
		S("\xe0\x80\x80"), S("\xe0\x9f\xbf"),	/* overlong 3-byte */
		S("\xf0\x80\x80\x80"), S("\xf0\x8f\xbf\xbf"),
		S("\xed\xa0\x80"),		/* U+D800 */
		S("\xed\xbf\xbf"),		/* U+DFFF */
		S("\xf4\x90\x80\x80"),		/* U+110000 */
		S("\xf5\x80\x80\x80"), S("\xf8\x88\x80\x80\x80"),
		S("\xc3"), S("\xe2\x82"), S("\xf0\x90\x80"),	/* cut short */
		S("\xc3\x28"), S("\xe2\x28\xa1"), S("caf\xe9"),	/* latin-1 */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!text_utf8(bad[i].b_s, bad[i].b_len), "case %zu "
		    "accepted", i);
}
END_TEST

START_TEST(utf8_fix)
{
	static const struct {
		struct bytes	in;
		const char	*out;
	} cases[] = {
		{ S("ok"), "ok" },
		{ S("caf\xc3\xa9"), "caf\xc3\xa9" },
		{ S("caf\xe9"), "caf\xef\xbf\xbd" },
		{ S("\xff\xfe"), "\xef\xbf\xbd\xef\xbf\xbd" },
		{ S("a\xe2\x82z"), "a\xef\xbf\xbd\xef\xbf\xbdz" },
		{ S("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ S("\xf0\x9f\x98\x80!"), "\xf0\x9f\x98\x80!" },
	};
	char out[64];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = text_utf8_fix(cases[i].in.b_s, cases[i].in.b_len, out);
		ck_assert_msg(n <= 3 * cases[i].in.b_len, "case %zu: %zu "
		    "bytes", i, n);
		ck_assert_msg(n == strlen(cases[i].out) &&
		    memcmp(out, cases[i].out, n) == 0, "case %zu: %.*s", i,
		    (int)n, out);
		ck_assert(text_utf8(out, n));
	}
}
END_TEST

START_TEST(shown_escapes)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ "caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5" },
		{ "a\nb\tc\rd", "a\\nb\\tc\\rd" },
		{ "\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07" },
		{ "\x1b[2J", "\\x1b[2J" },
		{ "del\x7f", "del\\x7f" },
		{ "csi\xc2\x9b" "31m", "csi\\u009b31m" },	/* C1 CSI */
		{ "\xe2\x80\xae" "txt", "\\u202etxt" },		/* RLO */
		{ "\xe2\x81\xa6x", "\\u2066x" },
		{ "line\xe2\x80\xa8sep", "line\\u2028sep" },
		{ "bad\xff", "bad\\xff" },
		{ "latin\xe9!", "latin\\xe9!" },
		{ "back\\slash 'quote' \"dq\"", "back\\slash 'quote' \"dq\"" },
	};
	char buf[128], *dup;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_str_eq(text_shown(cases[i].in, buf, sizeof(buf)),
		    cases[i].out);
		ck_assert_ptr_nonnull(dup = text_escape(cases[i].in));
		ck_assert_str_eq(dup, cases[i].out);
		free(dup);
	}
}
END_TEST

/* Whatever goes in, what comes out is UTF-8 with no control byte. */
START_TEST(shown_is_safe)
{
	char in[257], buf[1200];
	const char *p;
	int c;

	for (c = 1; c < 256; c++)
		in[c - 1] = (char)c;
	in[255] = '\0';
	text_shown(in, buf, sizeof(buf));
	ck_assert(text_utf8(buf, strlen(buf)));
	for (p = buf; *p; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f,
		    "control byte 0x%02x shown", (unsigned char)*p);
	ck_assert_ptr_null(strstr(buf, "\xc2\x9b"));
}
END_TEST

/* A long value is cut at a character, never inside one or an escape. */
START_TEST(shown_cuts)
{
	char buf[12];

	ck_assert_str_eq(text_shown("abcdefghijklmnop", buf, sizeof(buf)),
	    "abcdefgh...");
	ck_assert_str_eq(text_shown("abcdefghijk", buf, sizeof(buf)),
	    "abcdefghijk");
	/* 2-byte characters: 4 of them fit before the ellipsis. */
	ck_assert_str_eq(text_shown("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9", buf, sizeof(buf)), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "...");
	ck_assert_str_eq(text_shown("ab\x1b\x1b\x1b", buf, sizeof(buf)),
	    "ab\\x1b...");
	ck_assert(text_utf8(buf, strlen(buf)));
	ck_assert_str_eq(text_shown("abc", buf, 1), "");
	ck_assert_str_eq(text_shown("abcdef", buf, 4), "abc");
}
END_TEST

static Suite *
text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc;

	tc = tcase_create("utf8");
	tcase_add_test(tc, utf8_accepts);
	tcase_add_test(tc, utf8_refuses);
	tcase_add_test(tc, utf8_fix);
	suite_add_tcase(s, tc);

	tc = tcase_create("terminal");
	tcase_add_test(tc, shown_escapes);
	tcase_add_test(tc, shown_is_safe);
	tcase_add_test(tc, shown_cuts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(text_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * check_vmx.c: unit tests of sched/vmx.c, the .vmx checker: what parses
 * and what does not (with the line named), each finding and its line, and
 * the fix: minimal, in place, in the file's line-ending style, idempotent.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define CLEAN	"msg.autoAnswer = \"TRUE\"\n" \
		"signal.powerOffOnTERM = \"TRUE\"\n" \
		"signal.suspendOnHUP = \"TRUE\"\n"

/* Parse and check s with the default signals (TERM, HUP). */
static void
load(struct vmx *vx, const char *s)
{
	ck_assert_int_eq(vmx_parse(vx, s, strlen(s)), 0);
	ck_assert_int_eq(vmx_check(vx, SIGTERM, SIGHUP), 0);
}

static void
load_sig(struct vmx *vx, const char *s, int stop, int suspend)
{
	ck_assert_int_eq(vmx_parse(vx, s, strlen(s)), 0);
	ck_assert_int_eq(vmx_check(vx, stop, suspend), 0);
}

/* The i-th finding must be of kind k on line n. */
static void
expect(const struct vmx *vx, size_t i, enum vmx_kind k, size_t n)
{
	ck_assert_uint_gt(vx->vx_nfind, i);
	ck_assert_int_eq(vx->vx_find[i].vf_kind, k);
	ck_assert_uint_eq(vx->vx_find[i].vf_line, n);
}

/* Count findings of kind k. */
static size_t
count(const struct vmx *vx, enum vmx_kind k)
{
	size_t i, n = 0;

	for (i = 0; i < vx->vx_nfind; i++)
		if (vx->vx_find[i].vf_kind == k)
			n++;
	return n;
}

/*
 * Fix s (signals stop, suspend) and check the result: fixing it again
 * changes nothing and it has no fixable finding. Returns the fixed text.
 */
static char *
fix_sig(const char *s, int stop, int suspend)
{
	struct vmx vx, again;
	char *out, *out2;
	size_t len, len2, i;

	load_sig(&vx, s, stop, suspend);
	ck_assert_int_eq(vmx_fix(&vx, &out, &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	vmx_free(&vx);

	load_sig(&again, out, stop, suspend);
	for (i = 0; i < again.vx_nfind; i++)
		ck_assert_msg(!again.vx_find[i].vf_fixable,
		    "fixable finding left on line %zu of:\n%s",
		    again.vx_find[i].vf_line, out);
	ck_assert_int_eq(vmx_fix(&again, &out2, &len2), 0);
	ck_assert_uint_eq(len2, len);
	ck_assert_msg(memcmp(out, out2, len) == 0, "not idempotent:\n%s\n"
	    "---\n%s", out, out2);
	free(out2);
	vmx_free(&again);
	return out;
}

static char *
fix(const char *s)
{
	return fix_sig(s, SIGTERM, SIGHUP);
}

static void
expect_fix(const char *in, const char *want)
{
	char *out = fix(in);

	ck_assert_str_eq(out, want);
	free(out);
}

/* One bad line: its number and reason. */
static void
expect_bad(const char *s, size_t line, const char *why)
{
	struct vmx vx;

	load(&vx, s);
	ck_assert_uint_eq(vx.vx_nbad, 1);
	ck_assert_uint_eq(vx.vx_nfind, 1);
	expect(&vx, 0, VMX_BADLINE, line);
	ck_assert_ptr_nonnull(vx.vx_find[0].vf_why);
	ck_assert_msg(strstr(vx.vx_find[0].vf_why, why) != NULL,
	    "\"%s\" does not say \"%s\"", vx.vx_find[0].vf_why, why);
	vmx_free(&vx);
}

START_TEST(clean_file)
{
	struct vmx vx;

	load(&vx, ".encoding = \"UTF-8\"\n" CLEAN "displayName = \"x\"\n");
	ck_assert_uint_eq(vx.vx_nbad, 0);
	ck_assert_uint_eq(vx.vx_nfind, 0);
	vmx_free(&vx);
	expect_fix(CLEAN, CLEAN);
}
END_TEST

START_TEST(parse_variants)
{
	struct vmx vx;

	/* Blanks, tabs, comments, bare words, empty values, odd keys. */
	load(&vx,
	    "\n"
	    "   \t \n"
	    "# a comment = \"with quotes\n"
	    "   # an indented comment\n"
	    "msg.autoAnswer=\"TRUE\"\n"
	    "\tsignal.powerOffOnTERM\t=\tTRUE\t\n"
	    "signal.suspendOnHUP   =    \"true\"   # trailing comment\n"
	    "scsi0:0.fileName = \"disk # not a comment.vmdk\"\n"
	    "guestinfo.empty = \"\"\n"
	    ".encoding = \"UTF-8\"#comment right after\n"
	    "annotation = \"a|22quoted|22 word|0Aand \xc3\xa9\"\n"
	    "bare = a#b\n"
	    "last = \"no newline at the end\"");
	ck_assert_uint_eq(vx.vx_nbad, 0);
	ck_assert_uint_eq(vx.vx_nlines, 13);
	ck_assert_uint_eq(vx.vx_nfind, 0);
	vmx_free(&vx);
}
END_TEST

START_TEST(parse_bom_and_crlf)
{
	struct vmx vx;

	load(&vx, "\xef\xbb\xbf" "msg.autoAnswer = \"TRUE\"\r\n"
	    "signal.powerOffOnTERM = \"TRUE\"\r\n"
	    "\r\n"
	    "# comment\r\n"
	    "signal.suspendOnHUP = TRUE\r\n");
	ck_assert_uint_eq(vx.vx_nbad, 0);
	ck_assert_uint_eq(vx.vx_nlines, 5);
	ck_assert_uint_eq(vx.vx_nfind, 0);
	vmx_free(&vx);
}
END_TEST

START_TEST(parse_empty)
{
	struct vmx vx;

	load(&vx, "");
	ck_assert_uint_eq(vx.vx_nlines, 0);
	ck_assert_uint_eq(count(&vx, VMX_MISSING), 3);
	vmx_free(&vx);
	expect_fix("", CLEAN);
	expect_fix("\n", "\n" CLEAN);
}
END_TEST

START_TEST(bad_lines)
{
	expect_bad(CLEAN "a \"b\"\n", 4, "expected '='");
	expect_bad("a = \"unclosed\n" CLEAN, 1, "unterminated");
	expect_bad(CLEAN "a =\n", 4, "no value");
	expect_bad(CLEAN "a =   # just a comment\n", 4, "no value");
	expect_bad("a = \"x\" y\n" CLEAN, 1, "after the value");
	expect_bad("a = x y\n" CLEAN, 1, "after the value");
	expect_bad("a = x\"y\"\n" CLEAN, 1, "after the value");
	expect_bad("= \"x\"\n" CLEAN, 1, "key = \"value\"");
	expect_bad("\"a\" = \"x\"\n" CLEAN, 1, "key = \"value\"");
	expect_bad("a b = \"x\"\n" CLEAN, 1, "expected '='");
	expect_bad("key\n" CLEAN, 1, "expected '='");
	/* A '\r' that does not end the line is not a blank. */
	expect_bad("a = \"x\"\r \n" CLEAN, 1, "after the value");
	expect_bad("\ra = \"x\"\n" CLEAN, 1, "key = \"value\"");
	/* A quote cannot close across lines, CRLF or not. */
	expect_bad(CLEAN "a = \"x\r\n", 4, "unterminated");
}
END_TEST

START_TEST(bad_nul)
{
	static const char s[] = "msg.autoAnswer = \"TRUE\"\na = \"x\0y\"\n";
	struct vmx vx;

	ck_assert_int_eq(vmx_parse(&vx, s, sizeof(s) - 1), 0);
	ck_assert_int_eq(vmx_check(&vx, SIGTERM, SIGHUP), 0);
	ck_assert_uint_eq(vx.vx_nbad, 1);
	expect(&vx, 0, VMX_BADLINE, 2);
	ck_assert_ptr_nonnull(strstr(vx.vx_find[0].vf_why, "NUL"));
	vmx_free(&vx);
}
END_TEST

START_TEST(bad_lines_all_named)
{
	struct vmx vx;
	char *out;
	size_t len;

	load(&vx, "ok = \"1\"\nbad one\nok2 = 2\n\"bad\" two\nmsg.autoAnswer "
	    "= \"no\"\n");
	/* Only the unparseable lines: nothing else is judged. */
	ck_assert_uint_eq(vx.vx_nbad, 2);
	ck_assert_uint_eq(vx.vx_nfind, 2);
	expect(&vx, 0, VMX_BADLINE, 2);
	expect(&vx, 1, VMX_BADLINE, 4);
	ck_assert_int_eq(vmx_fix(&vx, &out, &len), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(out);
	vmx_free(&vx);
}
END_TEST

START_TEST(fix_needs_check)
{
	struct vmx vx;
	char *out;
	size_t len;

	ck_assert_int_eq(vmx_parse(&vx, CLEAN, strlen(CLEAN)), 0);
	ck_assert_int_eq(vmx_fix(&vx, &out, &len), -1);
	ck_assert_int_eq(errno, EINVAL);
	vmx_free(&vx);
}
END_TEST

START_TEST(autoanswer)
{
	struct vmx vx;
	char buf[256];

	load(&vx, "signal.powerOffOnTERM = \"TRUE\"\n"
	    "signal.suspendOnHUP = \"TRUE\"\n");
	ck_assert_uint_eq(vx.vx_nfind, 1);
	expect(&vx, 0, VMX_MISSING, 0);
	ck_assert(vx.vx_find[0].vf_fixable);
	vmx_describe(&vx, &vx.vx_find[0], 0, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "msg.autoAnswer is missing"));
	vmx_describe(&vx, &vx.vx_find[0], 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "added msg.autoAnswer = \"TRUE\"");
	vmx_free(&vx);

	load(&vx, "a = 1\nb = 2\nMSG.AUTOANSWER = \"FALSE\"\n"
	    "signal.powerOffOnTERM = \"TRUE\"\nsignal.suspendOnHUP = \"TRUE\"\n");
	ck_assert_uint_eq(vx.vx_nfind, 1);
	expect(&vx, 0, VMX_NOTTRUE, 3);
	vmx_describe(&vx, &vx.vx_find[0], 0, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "MSG.AUTOANSWER is \"FALSE\""));
	vmx_describe(&vx, &vx.vx_find[0], 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "set MSG.AUTOANSWER = \"TRUE\" (was \"FALSE\")");
	vmx_free(&vx);

	/* TRUE in any case is TRUE; "yes" and "1" are not. */
	load(&vx, "msg.autoAnswer = \"tRuE\"\nsignal.powerOffOnTERM = true\n"
	    "signal.suspendOnHUP = \"TRUE\"\n");
	ck_assert_uint_eq(vx.vx_nfind, 0);
	vmx_free(&vx);
	load(&vx, "msg.autoAnswer = \"yes\"\nsignal.powerOffOnTERM = 1\n"
	    "signal.suspendOnHUP = \" TRUE\"\n");
	ck_assert_uint_eq(vx.vx_nfind, 3);
	expect(&vx, 0, VMX_NOTTRUE, 1);
	expect(&vx, 1, VMX_NOTTRUE, 2);
	expect(&vx, 2, VMX_NOTTRUE, 3);
	vmx_free(&vx);
}
END_TEST

START_TEST(signals_follow_the_vm)
{
	struct vmx vx;
	const char *s = "msg.autoAnswer = \"TRUE\"\n";

	load_sig(&vx, s, SIGTERM, SIGHUP);
	ck_assert_uint_eq(vx.vx_nfind, 2);
	ck_assert_int_eq(count(&vx, VMX_MISSING), 2);
	vmx_free(&vx);

	/* Stopped with INT: powerOffOnTERM is not needed. */
	load_sig(&vx, s, SIGINT, SIGHUP);
	ck_assert_uint_eq(vx.vx_nfind, 1);
	expect(&vx, 0, VMX_MISSING, 0);
	ck_assert_int_eq(vx.vx_find[0].vf_req, 2);
	vmx_free(&vx);

	/* Suspended with USR1: suspendOnHUP is not needed. */
	load_sig(&vx, s, SIGTERM, SIGUSR1);
	ck_assert_uint_eq(vx.vx_nfind, 1);
	ck_assert_int_eq(vx.vx_find[0].vf_req, 1);
	vmx_free(&vx);

	load_sig(&vx, s, SIGINT, SIGUSR1);
	ck_assert_uint_eq(vx.vx_nfind, 0);
	vmx_free(&vx);

	/* Not needed, so a wrong value is none of our business... */
	load_sig(&vx, "msg.autoAnswer = \"TRUE\"\nsignal.suspendOnHUP = "
	    "\"FALSE\"\n", SIGTERM, SIGUSR1);
	ck_assert_uint_eq(vx.vx_nfind, 1);
	expect(&vx, 0, VMX_MISSING, 0);
	vmx_free(&vx);
	/* ... but needed, it is. */
	load_sig(&vx, "msg.autoAnswer = \"TRUE\"\nsignal.suspendOnHUP = "
	    "\"FALSE\"\n", SIGINT, SIGHUP);
	ck_assert_uint_eq(vx.vx_nfind, 1);
	expect(&vx, 0, VMX_NOTTRUE, 2);
	vmx_free(&vx);
}
END_TEST

START_TEST(duplicates)
{
	struct vmx vx;
	char buf[256];

	load(&vx, CLEAN
	    "RemoteDisplay.vnc.port = \"5901\"\n"	/* 4 */
	    "displayName = \"a\"\n"			/* 5 */
	    "remotedisplay.VNC.port = \"5901\"\n"	/* 6 */
	    "displayName = \"b\"\n");			/* 7 */
	ck_assert_uint_eq(vx.vx_nfind, 2);
	expect(&vx, 0, VMX_DUPLICATE, 6);
	ck_assert_uint_eq(vx.vx_find[0].vf_first, 4);
	ck_assert(vx.vx_find[0].vf_fixable);
	vmx_describe(&vx, &vx.vx_find[0], 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "remotedisplay.VNC.port is defined again "
	    "(first on line 4), with the same value");
	vmx_describe(&vx, &vx.vx_find[0], 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "removed remotedisplay.VNC.port = \"5901\", "
	    "defined before on line 4");
	expect(&vx, 1, VMX_DUPLICATE, 7);
	ck_assert_uint_eq(vx.vx_find[1].vf_first, 5);
	ck_assert(!vx.vx_find[1].vf_fixable);
	vmx_describe(&vx, &vx.vx_find[1], 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "displayName is defined again (first on line 5)"
	    " with another value (\"b\" here, \"a\" there): keep one by hand");
	vmx_free(&vx);

	/* Three definitions, one disagrees: none is removed. */
	load(&vx, CLEAN "p = 1\np = 1\np = 2\n");
	ck_assert_uint_eq(vx.vx_nfind, 2);
	expect(&vx, 0, VMX_DUPLICATE, 5);
	expect(&vx, 1, VMX_DUPLICATE, 6);
	ck_assert(!vx.vx_find[0].vf_fixable && !vx.vx_find[1].vf_fixable);
	ck_assert_uint_eq(vx.vx_find[1].vf_first, 4);
	vmx_free(&vx);

	/* Quoted or bare, the same value is the same. */
	load(&vx, CLEAN "p = \"1\"\np = 1\n");
	ck_assert_uint_eq(vx.vx_nfind, 1);
	ck_assert(vx.vx_find[0].vf_fixable);
	vmx_free(&vx);

	/* Values are compared byte for byte. */
	load(&vx, CLEAN "p = \"True\"\np = \"TRUE\"\n");
	ck_assert_uint_eq(vx.vx_nfind, 1);
	ck_assert(!vx.vx_find[0].vf_fixable);
	vmx_free(&vx);
}
END_TEST

START_TEST(duplicate_required)
{
	struct vmx vx;

	/* A required key twice: fixable whatever the values. */
	load(&vx, "msg.autoAnswer = \"FALSE\"\nsignal.powerOffOnTERM = "
	    "\"TRUE\"\nsignal.suspendOnHUP = \"TRUE\"\nmsg.autoanswer = "
	    "\"TRUE\"\n");
	ck_assert_uint_eq(vx.vx_nfind, 2);
	expect(&vx, 0, VMX_NOTTRUE, 1);
	expect(&vx, 1, VMX_DUPLICATE, 4);
	ck_assert(vx.vx_find[1].vf_fixable);
	vmx_free(&vx);
	expect_fix("msg.autoAnswer = \"FALSE\"\nsignal.powerOffOnTERM = "
	    "\"TRUE\"\nsignal.suspendOnHUP = \"TRUE\"\nmsg.autoanswer = "
	    "\"TRUE\"\n", CLEAN);
}
END_TEST

START_TEST(fix_in_place)
{
	/* Only the value changes: spacing, key spelling, comment stay. */
	expect_fix(".encoding = \"UTF-8\"\n"
	    "  MSG.autoanswer\t=  \"FALSE\"   # set by hand\n"
	    "signal.powerOffOnTERM = no\n"
	    "signal.suspendOnHUP = \"\"#x\n"
	    "displayName = \"x\"\n",
	    ".encoding = \"UTF-8\"\n"
	    "  MSG.autoanswer\t=  \"TRUE\"   # set by hand\n"
	    "signal.powerOffOnTERM = \"TRUE\"\n"
	    "signal.suspendOnHUP = \"TRUE\"#x\n"
	    "displayName = \"x\"\n");
}
END_TEST

START_TEST(fix_appends)
{
	/* Missing keys go at the end, after a newline if one is missing. */
	expect_fix("a = \"1\"\n# end\n",
	    "a = \"1\"\n# end\n" CLEAN);
	expect_fix("a = \"1\"\n# no newline",
	    "a = \"1\"\n# no newline\n" CLEAN);
	expect_fix("msg.autoAnswer = \"TRUE\"",
	    "msg.autoAnswer = \"TRUE\"\nsignal.powerOffOnTERM = \"TRUE\"\n"
	    "signal.suspendOnHUP = \"TRUE\"\n");
	/* Nothing to add: a missing final newline stays missing. */
	expect_fix(CLEAN "a = 1", CLEAN "a = 1");
}
END_TEST

START_TEST(fix_crlf)
{
	expect_fix("a = \"1\"\r\nmsg.autoAnswer = \"FALSE\"\r\n",
	    "a = \"1\"\r\nmsg.autoAnswer = \"TRUE\"\r\n"
	    "signal.powerOffOnTERM = \"TRUE\"\r\n"
	    "signal.suspendOnHUP = \"TRUE\"\r\n");
	expect_fix("a = \"1\"\r\nb = 2",
	    "a = \"1\"\r\nb = 2\r\nmsg.autoAnswer = \"TRUE\"\r\n"
	    "signal.powerOffOnTERM = \"TRUE\"\r\n"
	    "signal.suspendOnHUP = \"TRUE\"\r\n");
	/* A BOM stays where it is. */
	expect_fix("\xef\xbb\xbf" "msg.autoAnswer = \"no\"\r\n",
	    "\xef\xbb\xbf" "msg.autoAnswer = \"TRUE\"\r\n"
	    "signal.powerOffOnTERM = \"TRUE\"\r\n"
	    "signal.suspendOnHUP = \"TRUE\"\r\n");
}
END_TEST

START_TEST(fix_duplicates)
{
	/* Same value: later lines go, whatever their line ending. */
	expect_fix(CLEAN "p = \"1\"\nq = 2\nP = 1\nr = 3\np = \"1\"",
	    CLEAN "p = \"1\"\nq = 2\nr = 3\n");
	/* Different values: left alone, and still reported. */
	expect_fix(CLEAN "p = \"1\"\nq = 2\np = \"2\"\n",
	    CLEAN "p = \"1\"\nq = 2\np = \"2\"\n");
	expect_fix(CLEAN "p = 1\np = 1\np = 2\n",
	    CLEAN "p = 1\np = 1\np = 2\n");
}
END_TEST

START_TEST(fix_signals)
{
	char *out;

	/* Stop INT, suspend USR1: only msg.autoAnswer is added. */
	out = fix_sig("a = 1\n", SIGINT, SIGUSR1);
	ck_assert_str_eq(out, "a = 1\nmsg.autoAnswer = \"TRUE\"\n");
	free(out);
	out = fix_sig("a = 1\n", SIGINT, SIGHUP);
	ck_assert_str_eq(out, "a = 1\nmsg.autoAnswer = \"TRUE\"\n"
	    "signal.suspendOnHUP = \"TRUE\"\n");
	free(out);
}
END_TEST

START_TEST(describe_unprintable)
{
	struct vmx vx;
	char buf[256];

	load(&vx, "msg.autoAnswer = \"a\tb\x1b[31m"
	    "0123456789012345678901234567890123456789xyz\"\n"
	    "signal.powerOffOnTERM = TRUE\nsignal.suspendOnHUP = TRUE\n");
	ck_assert_uint_eq(vx.vx_nfind, 1);
	vmx_describe(&vx, &vx.vx_find[0], 0, buf, sizeof(buf));
	ck_assert_ptr_null(strchr(buf, '\x1b'));
	ck_assert_ptr_null(strchr(buf, '\t'));
	ck_assert_ptr_nonnull(strstr(buf, "a?b?[31m"));
	ck_assert_ptr_nonnull(strstr(buf, "...\""));
	/* A short buffer is cut, never overrun. */
	vmx_describe(&vx, &vx.vx_find[0], 0, buf, 8);
	ck_assert_uint_eq(strlen(buf), 7);
	vmx_free(&vx);
}
END_TEST

START_TEST(line_numbers_count_every_line)
{
	struct vmx vx;

	/* Blank, comment and CRLF lines count; line 7 is the duplicate. */
	load(&vx, "\r\n# c\r\n" CLEAN "\n\nx = 1\r\nx = \"1\"\r\n");
	ck_assert_uint_eq(vx.vx_nfind, 1);
	expect(&vx, 0, VMX_DUPLICATE, 9);
	ck_assert_uint_eq(vx.vx_find[0].vf_first, 8);
	vmx_free(&vx);
	expect_bad("\n\n\n\n\n\n\nx\n", 8, "expected '='");
}
END_TEST

static Suite *
vmx_suite(void)
{
	Suite *s = suite_create("vmx");
	TCase *tc = tcase_create("vmx");

	tcase_add_test(tc, clean_file);
	tcase_add_test(tc, parse_variants);
	tcase_add_test(tc, parse_bom_and_crlf);
	tcase_add_test(tc, parse_empty);
	tcase_add_test(tc, bad_lines);
	tcase_add_test(tc, bad_nul);
	tcase_add_test(tc, bad_lines_all_named);
	tcase_add_test(tc, fix_needs_check);
	tcase_add_test(tc, autoanswer);
	tcase_add_test(tc, signals_follow_the_vm);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, duplicate_required);
	tcase_add_test(tc, fix_in_place);
	tcase_add_test(tc, fix_appends);
	tcase_add_test(tc, fix_crlf);
	tcase_add_test(tc, fix_duplicates);
	tcase_add_test(tc, fix_signals);
	tcase_add_test(tc, describe_unprintable);
	tcase_add_test(tc, line_numbers_count_every_line);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(vmx_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * check_value.c: the values an operator types and reads (sched/value.c)
 * and the defaults of a definition (sched/vmdef.c). Every parser is fed
 * what it must accept, with the value it must produce, and what it must
 * refuse, with the promise that a refused value leaves the output alone.
 * Pure functions: no files, no clock but the one each test passes in.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched.h"

/* An output value no parser would produce: a refused parse keeps it. */
#define UNTOUCHED	(-424242)

START_TEST(duration_accepts)
{
	static const struct {
		const char	*in;
		int64_t		 ms;
	} ok[] = {
		{ "0", 0 }, { "1", 1000 }, { "1.5", 1500 }, { ".5", 500 },
		{ "0.25", 250 }, { "500ms", 500 }, { "0ms", 0 },
		{ "30s", 30000 }, { "1.5s", 1500 }, { "5m", 300000 },
		{ "2h", 7200000 }, { "1.5h", 5400000 }, { "1d", 86400000 },
		{ "300", 300000 }, { "366d", 366LL * 86400000 },
		/* compound, as value_fmt_duration prints them */
		{ "1m30s", 90000 }, { "2h15m", 8100000 },
		{ "1h0m0.5s", 3600500 }, { "3m12s", 192000 },
		{ "1d0h", 86400000 }, { "1d1h1m1s1ms", 90061001 },
		{ "1m500ms", 60500 }, { "1.5h30m", 7200000 },
	};
	const char *why;
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = UNTOUCHED;
		why = NULL;
		ck_assert_msg(value_duration(ok[i].in, &ms, &why) == 0,
		    "%s refused: %s", ok[i].in, why);
		ck_assert_msg(ms == ok[i].ms, "%s: %lld, want %lld", ok[i].in,
		    (long long)ms, (long long)ok[i].ms);
	}
}
END_TEST

START_TEST(duration_refuses)
{
	static const char *bad[] = {
		"", "abc", "-1", "-1s", "+5", "5x", "5 s", " 5", "5 ", "5S",
		"5M", "ms", "s", ".", "1.5.2", "1..5", "0x10", "1e3", "1e3s",
		"inf", "nan", "367d", "10000h", "5ms5", "5mss", "1,5",
		"99999999999999999999999",
		/* compound: units largest first, each once, all present */
		"30s1m", "1m1m", "1m30", "1m 30s", "1m-30s", "1ms1s",
		"1h.", "2h15", "366d1h", "1mm", "1s1s",
	};
	const char *why;
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = UNTOUCHED;
		why = NULL;
		ck_assert_msg(value_duration(bad[i], &ms, &why) == -1,
		    "'%s' accepted as %lld ms", bad[i], (long long)ms);
		ck_assert_msg(ms == UNTOUCHED, "'%s' wrote %lld", bad[i],
		    (long long)ms);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(why[0] != '\0', "'%s': empty reason", bad[i]);
	}
}
END_TEST

START_TEST(signal_accepts)
{
	static const struct {
		const char	*in;
		int		 sig;
	} ok[] = {
		{ "TERM", SIGTERM }, { "SIGTERM", SIGTERM },
		{ "term", SIGTERM }, { "sigterm", SIGTERM },
		{ "HUP", SIGHUP }, { "SIGHUP", SIGHUP }, { "KILL", SIGKILL },
		{ "INT", SIGINT }, { "USR1", SIGUSR1 }, { "SIGUSR2", SIGUSR2 },
		{ "TSTP", SIGTSTP }, { "CONT", SIGCONT }, { "WINCH", SIGWINCH },
		{ "1", 1 }, { "9", 9 }, { "15", 15 }, { "34", 34 },
		{ "64", 64 },
	};
	const char *why;
	size_t i;
	int sig;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		sig = UNTOUCHED;
		why = NULL;
		ck_assert_msg(value_signal(ok[i].in, &sig, &why) == 0,
		    "%s refused: %s", ok[i].in, why);
		ck_assert_msg(sig == ok[i].sig, "%s: %d, want %d", ok[i].in,
		    sig, ok[i].sig);
	}
}
END_TEST

START_TEST(signal_refuses)
{
	static const char *bad[] = {
		"", "0", "65", "99", "-15", "+15", "15x", " 15", "15 ", "FOO",
		"SIG", "SIGSIGTERM", "TERM ", "SIG TERM", "RTMIN", "0x0f",
		"1.5", "99999999999999999999",
	};
	const char *why;
	size_t i;
	int sig;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sig = UNTOUCHED;
		why = NULL;
		ck_assert_msg(value_signal(bad[i], &sig, &why) == -1,
		    "'%s' accepted as %d", bad[i], sig);
		ck_assert_msg(sig == UNTOUCHED, "'%s' wrote %d", bad[i], sig);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(signame)
{
	char buf[16];

	ck_assert_str_eq(value_signame(SIGTERM, buf, sizeof(buf)), "TERM");
	ck_assert_str_eq(value_signame(SIGHUP, buf, sizeof(buf)), "HUP");
	ck_assert_str_eq(value_signame(SIGKILL, buf, sizeof(buf)), "KILL");
	ck_assert_str_eq(value_signame(40, buf, sizeof(buf)), "40");
	ck_assert_str_eq(value_signame(0, buf, sizeof(buf)), "0");
}
END_TEST

/* Every name a signal parses from prints back as the same signal. */
START_TEST(signal_round_trip)
{
	char buf[16];
	const char *why, *name;
	int sig, back;

	for (sig = 1; sig < 65; sig++) {
		name = value_signame(sig, buf, sizeof(buf));
		ck_assert_msg(value_signal(name, &back, &why) == 0, "%d: %s",
		    sig, name);
		ck_assert_int_eq(back, sig);
	}
}
END_TEST

START_TEST(name_accepts)
{
	char n64[65];
	const char *why = NULL;
	static const char *ok[] = {
		"a", "A", "0", "web", "Web_01.prod-x", "a-", "a.", "a_b",
		"9lives", "_x", "x..y", "win-11.vmwarevm",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(value_name(ok[i], &why) == 0, "'%s' refused: %s",
		    ok[i], why);
	memset(n64, 'x', 64);
	n64[64] = '\0';
	ck_assert_msg(value_name(n64, &why) == 0, "64 chars refused: %s",
	    why);
}
END_TEST

START_TEST(name_refuses)
{
	char n65[66];
	const char *why;
	static const char *bad[] = {
		"", "-a", ".a", "-", ".", "..", "a b", " a", "a ", "a/b",
		"../a", "a\nb", "a\tb", "a:b", "a'b", "a\"b", "a$b", "a*",
		"caf\xc3\xa9", "\xff", "a\x01", "a=b", "a,b",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(value_name(bad[i], &why) == -1, "'%s' accepted",
		    bad[i]);
		ck_assert_ptr_nonnull(why);
	}
	memset(n65, 'x', 65);
	n65[65] = '\0';
	why = NULL;
	ck_assert_int_eq(value_name(n65, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "64"));
}
END_TEST

static int
has_code(const unsigned char set[32], int code)
{
	return (set[code / 8] >> (code % 8)) & 1;
}

START_TEST(codes_accept)
{
	unsigned char set[32];
	const char *why = NULL;
	int code;

	memset(set, 0xaa, sizeof(set));
	ck_assert_int_eq(value_codes("0", set, &why), 0);
	for (code = 0; code < 256; code++)
		ck_assert_int_eq(has_code(set, code), code == 0);

	ck_assert_int_eq(value_codes("0,143,255,1", set, &why), 0);
	for (code = 0; code < 256; code++)
		ck_assert_int_eq(has_code(set, code), code == 0 ||
		    code == 1 || code == 143 || code == 255);

	ck_assert_int_eq(value_codes("3,3,3", set, &why), 0);
	for (code = 0; code < 256; code++)
		ck_assert_int_eq(has_code(set, code), code == 3);
}
END_TEST

START_TEST(codes_refuse)
{
	static const char *bad[] = {
		"", ",", "0,", ",0", "1,,2", "256", "-1", "a", "0,a", "1 ,2",
		"1, 2", " 1", "0x1", "1.0", "00000000001", "1;2",
	};
	unsigned char set[32], before[32];
	const char *why;
	size_t i;

	memset(before, 0x5a, sizeof(before));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(set, before, sizeof(set));
		why = NULL;
		ck_assert_msg(value_codes(bad[i], set, &why) == -1,
		    "'%s' accepted", bad[i]);
		ck_assert_msg(memcmp(set, before, sizeof(set)) == 0,
		    "'%s' changed the set", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(hostport)
{
	static const char *ok[] = {
		"localhost:22", "10.0.0.1:80", "h:1", "h:65535", "[::1]:80",
		"[fe80::1%eth0]:5900", "esx-01.lan:443", "[2001:db8::2]:8080",
	};
	static const char *bad[] = {
		"", "host", ":80", "host:", "host:0", "host:65536",
		"host:-1", "host:abc", "host: 80", "host:80 ", "::1:80",
		"[::1]", "[::1]80", "[]:80", "[::1:80", "host:80:90", "[::1]:",
		"[::1]:0", "[::1]:x",
	};
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		why = NULL;
		ck_assert_msg(value_hostport(ok[i], &why) == 0,
		    "'%s' refused: %s", ok[i], why);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(value_hostport(bad[i], &why) == -1,
		    "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(env)
{
	static const char *ok[] = {
		"K=V", "K=", "K=a=b", "PATH=/bin:/usr/bin", "K=with space",
		"K=line\nbreak", "K=caf\xc3\xa9", "_X1=\"q\"",
	};
	static const char *bad[] = { "", "=", "=V", "K", "KV " };
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		why = NULL;
		ck_assert_msg(value_env(ok[i], &why) == 0, "'%s' refused: %s",
		    ok[i], why);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(value_env(bad[i], &why) == -1, "'%s' accepted",
		    bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(restart_policy)
{
	static const char *bad[] = {
		"", "Always", "ALWAYS", "on_failure", "onfailure", "no",
		"always ", "sometimes",
	};
	enum restart_policy rp;
	const char *why;
	size_t i;

	ck_assert_int_eq(value_restart("always", &rp, &why), 0);
	ck_assert_int_eq(rp, RESTART_ALWAYS);
	ck_assert_int_eq(value_restart("on-failure", &rp, &why), 0);
	ck_assert_int_eq(rp, RESTART_ON_FAILURE);
	ck_assert_int_eq(value_restart("never", &rp, &why), 0);
	ck_assert_int_eq(rp, RESTART_NEVER);
	ck_assert_str_eq(value_restart_name(RESTART_ALWAYS), "always");
	ck_assert_str_eq(value_restart_name(RESTART_ON_FAILURE),
	    "on-failure");
	ck_assert_str_eq(value_restart_name(RESTART_NEVER), "never");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rp = RESTART_NEVER;
		why = NULL;
		ck_assert_msg(value_restart(bad[i], &rp, &why) == -1,
		    "'%s' accepted", bad[i]);
		ck_assert_int_eq(rp, RESTART_NEVER);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(gate_names)
{
	ck_assert_str_eq(value_gate_name(GATE_PATH), "path");
	ck_assert_str_eq(value_gate_name(GATE_CMD), "cmd");
	ck_assert_str_eq(value_gate_name(GATE_TCP), "tcp");
}
END_TEST

START_TEST(int_and_double)
{
	const char *why;
	long n;
	double d;

	ck_assert_int_eq(value_int("42", 0, 100, &n, &why), 0);
	ck_assert_int_eq(n, 42);
	ck_assert_int_eq(value_int("-5", -10, 10, &n, &why), 0);
	ck_assert_int_eq(n, -5);
	n = UNTOUCHED;
	ck_assert_int_eq(value_int("101", 0, 100, &n, &why), -1);
	ck_assert_str_eq(why, "out of range");
	ck_assert_int_eq(value_int("-1", 0, 100, &n, &why), -1);
	ck_assert_int_eq(value_int("", 0, 100, &n, &why), -1);
	ck_assert_int_eq(value_int(" 1", 0, 100, &n, &why), -1);
	ck_assert_int_eq(value_int("1 ", 0, 100, &n, &why), -1);
	ck_assert_int_eq(value_int("1.5", 0, 100, &n, &why), -1);
	ck_assert_int_eq(value_int("abc", 0, 100, &n, &why), -1);
	ck_assert_int_eq(value_int("99999999999999999999", 0, 100, &n, &why),
	    -1);
	ck_assert_int_eq(n, UNTOUCHED);

	ck_assert_int_eq(value_double("1.5", 1, 100, &d, &why), 0);
	ck_assert_double_eq(d, 1.5);
	ck_assert_int_eq(value_double("2", 1, 100, &d, &why), 0);
	ck_assert_double_eq(d, 2.0);
	d = -1;
	ck_assert_int_eq(value_double("0.5", 1, 100, &d, &why), -1);
	ck_assert_int_eq(value_double("101", 1, 100, &d, &why), -1);
	ck_assert_int_eq(value_double("", 1, 100, &d, &why), -1);
	ck_assert_int_eq(value_double("nan", 1, 100, &d, &why), -1);
	ck_assert_int_eq(value_double("inf", 1, 100, &d, &why), -1);
	ck_assert_int_eq(value_double("2x", 1, 100, &d, &why), -1);
	ck_assert_int_eq(value_double(" 2", 1, 100, &d, &why), -1);
	ck_assert_double_eq(d, -1);
}
END_TEST

START_TEST(fmt_duration)
{
	static const struct {
		int64_t		 ms;
		const char	*out;
	} cases[] = {
		{ 0, "0s" }, { 1, "1ms" }, { 450, "450ms" }, { 999, "999ms" },
		{ 1000, "1s" }, { 1050, "1s" }, { 1500, "1.5s" },
		{ 1999, "1.9s" },
		{ 30000, "30s" }, { 59999, "59.9s" }, { 60000, "1m0s" },
		{ 192000, "3m12s" }, { 192999, "3m12s" },
		{ 3599999, "59m59s" }, { 3600000, "1h0m" },
		{ 7500000, "2h5m" }, { 86400000, "1d0h" },
		{ 90061000, "1d1h" }, { 366LL * 86400000, "366d0h" },
		{ -5, "0s" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 'Z', sizeof(buf));
		ck_assert_ptr_eq(value_fmt_duration(cases[i].ms, buf,
		    sizeof(buf)), buf);
		ck_assert_msg(strcmp(buf, cases[i].out) == 0,
		    "%lld ms: '%s', want '%s'", (long long)cases[i].ms, buf,
		    cases[i].out);
	}
}
END_TEST

/*
 * What value_fmt_duration prints, value_duration reads back, to the
 * precision printed: over every millisecond of the first three minutes,
 * then ever coarser steps up to a year (the longest an option takes).
 */
START_TEST(fmt_duration_parses_back)
{
	char buf[32], again[32];
	const char *why;
	int64_t ms, back, step = 1, n = 0;

	for (ms = 0; ms <= 366LL * 86400000; ms += step, n++) {
		if (ms >= 180000)
			step = step * 21 / 20 + 7;
		value_fmt_duration(ms, buf, sizeof(buf));
		ck_assert_msg(value_duration(buf, &back, &why) == 0,
		    "%lld ms printed as %s, refused: %s", (long long)ms, buf,
		    why);
		ck_assert_msg(back <= ms, "%lld ms printed as %s, read as %lld",
		    (long long)ms, buf, (long long)back);
		value_fmt_duration(back, again, sizeof(again));
		ck_assert_msg(strcmp(buf, again) == 0, "%lld ms printed as %s, "
		    "read as %lld, printed again as %s", (long long)ms, buf,
		    (long long)back, again);
	}
	ck_assert_int_gt(n, 180000);
	/* and the very end of the range */
	value_fmt_duration(366LL * 86400000, buf, sizeof(buf));
	ck_assert_int_eq(value_duration(buf, &back, &why), 0);
	ck_assert_int_eq(back, 366LL * 86400000);
}
END_TEST

START_TEST(fmt_duration_small_buffer)
{
	char buf[4];

	memset(buf, 'Z', sizeof(buf));
	value_fmt_duration(192000, buf, sizeof(buf));
	ck_assert_int_eq(buf[3], '\0');
	ck_assert_str_eq(buf, "3m1");
}
END_TEST

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

START_TEST(fmt_time)
{
	char buf[32];

	set_tz("UTC0");
	ck_assert_str_eq(value_fmt_time(0, buf, sizeof(buf)),
	    "1970-01-01 00:00:00");
	ck_assert_str_eq(value_fmt_time(1795782610123LL, buf, sizeof(buf)),
	    "2026-11-27 12:30:10");
	/* Local time: one hour east of UTC. */
	set_tz("CET-1");
	ck_assert_str_eq(value_fmt_time(0, buf, sizeof(buf)),
	    "1970-01-01 01:00:00");
}
END_TEST

/* Unix ms of a UTC date and time. */
static int64_t
utc_ms(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000;
}

START_TEST(since_durations)
{
	const int64_t now = 1795782610123LL;
	const char *why = NULL;
	int64_t ms;

	ck_assert_int_eq(value_since("2h", now, &ms, &why), 0);
	ck_assert_int_eq(ms, now - 7200000);
	ck_assert_int_eq(value_since("500ms", now, &ms, &why), 0);
	ck_assert_int_eq(ms, now - 500);
	ck_assert_int_eq(value_since("30", now, &ms, &why), 0);
	ck_assert_int_eq(ms, now - 30000);
	ck_assert_int_eq(value_since("1d", now, &ms, &why), 0);
	ck_assert_int_eq(ms, now - 86400000);
	ck_assert_int_eq(value_since("0s", now, &ms, &why), 0);
	ck_assert_int_eq(ms, now);
}
END_TEST

START_TEST(since_dates)
{
	static const struct {
		const char	*in;
		int		 d, h, mi, s;	/* 2026-11-<d>, local */
	} ok[] = {
		{ "2026-11-27", 27, 0, 0, 0 },
		{ "2026-11-27T10:00", 27, 10, 0, 0 },
		{ "2026-11-27 10:00", 27, 10, 0, 0 },
		{ "2026-11-27T10:56:50", 27, 10, 56, 50 },
		{ "2026-11-27 10:56:50", 27, 10, 56, 50 },
		{ "2026-11-01", 1, 0, 0, 0 },
	};
	const int64_t now = 1795782610123LL;
	const char *why;
	int64_t ms;
	size_t i;

	/* Local time is UTC+1: a local date is an hour earlier in UTC. */
	set_tz("CET-1");
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = UNTOUCHED;
		why = NULL;
		ck_assert_msg(value_since(ok[i].in, now, &ms, &why) == 0,
		    "%s refused: %s", ok[i].in, why);
		ck_assert_msg(ms == utc_ms(2026, 11, ok[i].d, ok[i].h,
		    ok[i].mi, ok[i].s) - 3600000, "%s: %lld", ok[i].in,
		    (long long)ms);
	}
	set_tz("UTC0");
	ck_assert_int_eq(value_since("2026-11-27", now, &ms, &why), 0);
	ck_assert_int_eq(ms, utc_ms(2026, 11, 27, 0, 0, 0));
}
END_TEST

START_TEST(since_refuses)
{
	static const char *bad[] = {
		"", "yesterday", "-2h", "2026-13-01", "2026-11-32",
		"2026-02-30", "2026-04-31", "2026-11-27T25:00",
		"2026-11-27T10:61", "2026-11-27x", "2026-11-27T",
		"2026/11/27", "27.11.2026", "2h ago",
	};
	const int64_t now = 1795782610123LL;
	const char *why;
	int64_t ms;
	size_t i;

	set_tz("UTC0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = UNTOUCHED;
		why = NULL;
		ck_assert_msg(value_since(bad[i], now, &ms, &why) == -1,
		    "'%s' accepted as %lld", bad[i], (long long)ms);
		ck_assert_int_eq(ms, UNTOUCHED);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

/* vm_def_init holds DESIGN.md's defaults. */
START_TEST(def_defaults)
{
	struct vm_def vd;
	int code;

	vm_def_init(&vd);
	ck_assert_str_eq(vd.vd_name, "");
	ck_assert_int_eq(vd.vd_argv.sv_n, 0);
	ck_assert_int_eq(vd.vd_order, 100);
	ck_assert_int_eq(vd.vd_restart, RESTART_ON_FAILURE);
	for (code = 0; code < 256; code++)
		ck_assert_int_eq(vm_def_success(&vd, code), code == 0);
	ck_assert_int_eq(vm_def_success(&vd, -1), 0);
	ck_assert_int_eq(vm_def_success(&vd, 256), 0);
	ck_assert_int_eq(vd.vd_wait_timeout_ms, 300000);
	ck_assert_int_eq(vd.vd_up_delay_ms, 0);
	ck_assert_int_eq(vd.vd_stop_signal, SIGTERM);
	ck_assert_int_eq(vd.vd_suspend_signal, SIGHUP);
	ck_assert_int_eq(vd.vd_stop_timeout_ms, 60000);
	ck_assert_int_eq(vd.vd_backoff_initial_ms, 1000);
	ck_assert_double_eq(vd.vd_backoff_factor, 2.0);
	ck_assert_int_eq(vd.vd_backoff_max_ms, 300000);
	ck_assert_int_eq(vd.vd_backoff_reset_ms, 600000);
	ck_assert_int_eq(vd.vd_max_failures, 10);
	ck_assert_int_eq(vd.vd_enabled, 1);
	ck_assert_ptr_null(vd.vd_cwd);
	ck_assert_ptr_null(vd.vd_user);
	ck_assert_ptr_null(vd.vd_ready_tcp);
	vm_def_free(&vd);
}
END_TEST

START_TEST(def_lists)
{
	struct vm_def vd;

	vm_def_init(&vd);
	ck_assert_int_eq(strv_push(&vd.vd_env, "A=1"), 0);
	ck_assert_int_eq(strv_push(&vd.vd_env, "AB=2"), 0);
	ck_assert_int_eq(strv_push(&vd.vd_env, "B="), 0);
	ck_assert_ptr_null(vd.vd_env.sv_v[3]);
	ck_assert_int_eq(strv_find_key(&vd.vd_env, "A=9"), 0);
	ck_assert_int_eq(strv_find_key(&vd.vd_env, "AB=9"), 1);
	ck_assert_int_eq(strv_find_key(&vd.vd_env, "B"), 2);
	ck_assert_int_eq(strv_find_key(&vd.vd_env, "ABC=1"), -1);
	ck_assert_int_eq(strv_find_key(&vd.vd_env, "=1"), -1);

	ck_assert_int_eq(vm_def_add_gate(&vd, GATE_PATH, "/a"), 0);
	ck_assert_int_eq(vm_def_add_gate(&vd, GATE_TCP, "h:1"), 0);
	ck_assert_int_eq(vm_def_add_gate(&vd, GATE_PATH, "/b"), 0);
	ck_assert_int_eq(vm_def_add_gate(&vd, GATE_CMD, "true"), 0);
	vm_def_clear_gates(&vd, GATE_PATH);
	ck_assert_int_eq(vd.vd_ngates, 2);
	ck_assert_int_eq(vd.vd_gates[0].g_kind, GATE_TCP);
	ck_assert_str_eq(vd.vd_gates[0].g_arg, "h:1");
	ck_assert_int_eq(vd.vd_gates[1].g_kind, GATE_CMD);
	ck_assert_str_eq(vd.vd_gates[1].g_arg, "true");

	vm_def_free(&vd);
	ck_assert_int_eq(vd.vd_env.sv_n, 0);
	ck_assert_int_eq(vd.vd_ngates, 0);
	ck_assert_int_eq(vd.vd_order, 100);
}
END_TEST

static Suite *
value_suite(void)
{
	Suite *s = suite_create("value");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, duration_accepts);
	tcase_add_test(tc, duration_refuses);
	tcase_add_test(tc, signal_accepts);
	tcase_add_test(tc, signal_refuses);
	tcase_add_test(tc, signame);
	tcase_add_test(tc, signal_round_trip);
	tcase_add_test(tc, name_accepts);
	tcase_add_test(tc, name_refuses);
	tcase_add_test(tc, codes_accept);
	tcase_add_test(tc, codes_refuse);
	tcase_add_test(tc, hostport);
	tcase_add_test(tc, env);
	tcase_add_test(tc, restart_policy);
	tcase_add_test(tc, gate_names);
	tcase_add_test(tc, int_and_double);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, fmt_duration);
	tcase_add_test(tc, fmt_duration_parses_back);
	tcase_add_test(tc, fmt_duration_small_buffer);
	tcase_add_test(tc, fmt_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("since");
	tcase_add_test(tc, since_durations);
	tcase_add_test(tc, since_dates);
	tcase_add_test(tc, since_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("vmdef");
	tcase_add_test(tc, def_defaults);
	tcase_add_test(tc, def_lists);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(value_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

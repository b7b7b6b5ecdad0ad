/*
 * value.c: the values an operator types and reads. Every parser checks the
 * whole string, returns 0 or -1, and on -1 points *why at a short reason
 * ("not a duration") that the command prints after the option and value.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sched.h"

#define DURATION_MAX_MS	(366LL * 24 * 3600 * 1000)	/* a year */

static const struct {
	const char	*s_name;
	int		 s_num;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "SYS", SIGSYS },
};

int
value_name(const char *s, const char **why)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > VM_NAME_MAX) {
		*why = "must be 1 to 64 characters";
		return -1;
	}
	if (s[0] == '-' || s[0] == '.') {
		*why = "must not start with '-' or '.'";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!isascii((unsigned char)s[i]) ||
		    (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))) {
			*why = "may hold only A-Z a-z 0-9 . _ -";
			return -1;
		}
	}
	return 0;
}

/*
 * A duration: a plain number of seconds ("1.5"), or one or more numbers
 * each with a unit, largest unit first and each unit once ("500ms",
 * "1m30s", "2h15m", "1h0m0.5s", "1d0h"): everything value_fmt_duration
 * prints reads back.
 */
int
value_duration(const char *s, int64_t *ms, const char **why)
{
	static const struct {
		const char	*u_name;
		double		 u_ms;
	} units[] = {	/* largest first; tried from the end, "ms" before "m" */
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	const char *p = s;
	char *end;
	double v, total = 0;
	size_t i, n, len;
	int last = -1;	/* the unit of the previous term */

	*why = "not a duration (e.g. 1.5, 500ms, 30s, 1m30s, 2h15m)";
	do {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		n = strspn(p, "0123456789.");
		errno = 0;
		v = strtod(p, &end);
		/* only plain decimals: no "0x10", no "1e3", no "1.5.2" */
		if (errno != 0 || end != p + n || !isfinite(v))
			return -1;
		p = end;
		if (*p == '\0') {
			if (last != -1)
				return -1;	/* "5m30": 30 what? */
			total = v * 1000;
			break;
		}
		for (i = sizeof(units) / sizeof(units[0]); i-- > 0; ) {
			len = strlen(units[i].u_name);
			if (strncmp(p, units[i].u_name, len) == 0)
				break;
		}
		if (i == (size_t)-1 || (int)i <= last)
			return -1;	/* no unit, or out of order: "5m1h" */
		last = (int)i;
		total += v * units[i].u_ms;
		p += len;
	} while (*p != '\0');
	if (total > (double)DURATION_MAX_MS) {
		*why = "longer than a year";
		return -1;
	}
	*ms = (int64_t)llround(total);
	return 0;
}

int
value_signal(const char *s, int *sig, const char **why)
{
	const char *name = s;
	long n;
	size_t i;

	if (isdigit((unsigned char)s[0])) {
		if (value_int(s, 1, NSIG - 1, &n, why) == -1) {
			*why = "not a signal number";
			return -1;
		}
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (strcasecmp(name, signals[i].s_name) == 0) {
			*sig = signals[i].s_num;
			return 0;
		}
	}
	*why = "unknown signal";
	return -1;
}

const char *
value_signame(int sig, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].s_num == sig)
			return signals[i].s_name;
	snprintf(buf, len, "%d", sig);
	return buf;
}

int
value_int(const char *s, long min, long max, long *out, const char **why)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || isspace((unsigned char)s[0]) || *end != '\0' ||
	    errno != 0) {
		*why = "not a whole number";
		return -1;
	}
	if (v < min || v > max) {
		*why = "out of range";
		return -1;
	}
	*out = v;
	return 0;
}

int
value_double(const char *s, double min, double max, double *out,
    const char **why)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (s[0] == '\0' || isspace((unsigned char)s[0]) || *end != '\0' ||
	    errno != 0 || !isfinite(v)) {
		*why = "not a number";
		return -1;
	}
	if (v < min || v > max) {
		*why = "out of range";
		return -1;
	}
	*out = v;
	return 0;
}

int
value_codes(const char *s, unsigned char set[32], const char **why)
{
	unsigned char bits[32] = { 0 };
	const char *p = s, *comma;
	char num[8];
	long code;
	size_t len;

	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(num))
			goto bad;
		memcpy(num, p, len);
		num[len] = '\0';
		if (value_int(num, 0, 255, &code, why) == -1)
			goto bad;
		bits[code / 8] |= (unsigned char)(1u << (code % 8));
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	memcpy(set, bits, sizeof(bits));
	return 0;
bad:
	*why = "not a list of exit codes 0-255 (e.g. 0,143)";
	return -1;
}

int
value_hostport(const char *s, const char **why)
{
	const char *colon;
	long port;

	*why = "not HOST:PORT";
	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (colon == NULL || colon == s + 1 || colon[1] != ':')
			return -1;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || colon == s || memchr(s, ':', (size_t)(colon - s)))
			return -1;
	}
	if (value_int(colon + 1, 1, 65535, &port, why) == -1) {
		*why = "port is not 1-65535";
		return -1;
	}
	return 0;
}

int
value_env(const char *s, const char **why)
{
	const char *eq = strchr(s, '=');

	if (eq == NULL || eq == s) {
		*why = "not NAME=VALUE";
		return -1;
	}
	return 0;
}

static const char *policies[] = {
	[RESTART_ALWAYS] = "always",
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_NEVER] = "never",
};

int
value_restart(const char *s, enum restart_policy *rp, const char **why)
{
	size_t i;

	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		if (strcmp(s, policies[i]) == 0) {
			*rp = (enum restart_policy)i;
			return 0;
		}
	}
	*why = "not always, on-failure or never";
	return -1;
}

const char *
value_restart_name(enum restart_policy rp)
{
	return policies[rp];
}

const char *
value_gate_name(enum gate_kind kind)
{
	static const char *names[] = {
		[GATE_PATH] = "path", [GATE_CMD] = "cmd", [GATE_TCP] = "tcp",
	};

	return names[kind];
}

char *
value_fmt_duration(int64_t ms, char *buf, size_t len)
{
	static const struct {
		char	 u_c;
		int64_t	 u_ms;
	} units[] = {
		{ 'd', 86400000 }, { 'h', 3600000 }, { 'm', 60000 },
		{ 's', 1000 },
	};
	size_t i;
	int64_t hi, lo;

	if (ms <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	if (ms < 1000) {
		snprintf(buf, len, "%lldms", (long long)ms);
		return buf;
	}
	if (ms < 60000) {
		if (ms % 1000 < 100)	/* "1s", not "1.0s" */
			snprintf(buf, len, "%llds", (long long)(ms / 1000));
		else
			snprintf(buf, len, "%lld.%llds", (long long)(ms / 1000),
			    (long long)(ms % 1000 / 100));	/* 59.9s, not 60.0s */
		return buf;
	}
	/* The two largest units, "3m12s", "2h5m", "1d0h". */
	for (i = 0; i < 3; i++)
		if (ms >= units[i].u_ms)
			break;
	hi = ms / units[i].u_ms;
	lo = (ms % units[i].u_ms) / units[i + 1].u_ms;
	snprintf(buf, len, "%lld%c%lld%c", (long long)hi, units[i].u_c,
	    (long long)lo, units[i + 1].u_c);
	return buf;
}

char *
value_fmt_time(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)ms);
	return buf;
}

int
value_since(const char *s, int64_t now, int64_t *ms, const char **why)
{
	static const char *formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
		"%Y-%m-%d %H:%M", "%Y-%m-%d",
	};
	struct tm tm, typed;
	const char *end;
	int64_t ago;
	size_t i;
	time_t t;

	if (value_duration(s, &ago, why) == 0) {
		*ms = now - ago;
		return 0;
	}
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (end == NULL || *end != '\0')
			continue;
		tm.tm_isdst = -1;
		typed = tm;
		if ((t = mktime(&tm)) == (time_t)-1)
			break;
		/* mktime turns February 30 into March 2: refuse it. */
		if (tm.tm_mday != typed.tm_mday || tm.tm_mon != typed.tm_mon)
			break;
		*ms = (int64_t)t * 1000;
		return 0;
	}
	*why = "not a duration ago (2h) or a local date and time "
	    "(2026-11-27, 2026-11-27T10:00)";
	return -1;
}

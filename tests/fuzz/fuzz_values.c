/*
 * fuzz_values.c: libFuzzer target for the values an operator types
 * (sched/value.c, the --events filter of sched/hookpolicy.c) and the text
 * helpers every one of them passes through (sched/text.c). The first byte
 * picks the parser, the rest up to a NUL is the value, as argv would hold
 * it. Each parser keeps its contract: a refused value has a reason and
 * leaves the output alone; an accepted one is in range and, where a
 * formatter exists, reads back the same. The text helpers always give
 * valid UTF-8 with no control byte a terminal would act on. Any breach
 * aborts.
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define YEAR_MS		(366LL * 24 * 3600 * 1000)
#define UNTOUCHED	(-424242)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
refused(int rc, const char *why)
{
	if (rc != -1 || why == NULL || why[0] == '\0')
		abort();
}

static void
duration(const char *s)
{
	const char *why = NULL;
	int64_t ms = UNTOUCHED, back;
	char buf[32];

	if (value_duration(s, &ms, &why) == -1) {
		refused(-1, why);
		if (ms != UNTOUCHED)
			abort();
		return;
	}
	if (ms < 0 || ms > YEAR_MS)
		abort();
	/* Whole seconds and plain milliseconds print back exactly. */
	if (ms % 1000 == 0 || ms < 1000) {
		value_fmt_duration(ms, buf, sizeof(buf));
		if (ms < 60000 && (value_duration(buf, &back, &why) == -1 ||
		    back != ms))
			abort();
	}
}

static void
signal_(const char *s)
{
	const char *why = NULL, *name;
	char buf[16];
	int sig = UNTOUCHED, back;

	if (value_signal(s, &sig, &why) == -1) {
		refused(-1, why);
		if (sig != UNTOUCHED)
			abort();
		return;
	}
	if (sig < 1 || sig >= NSIG)
		abort();
	name = value_signame(sig, buf, sizeof(buf));
	if (value_signal(name, &back, &why) == -1 || back != sig)
		abort();
}

static void
number(const char *s)
{
	const char *why = NULL;
	char buf[32];
	long v = UNTOUCHED, back;
	double d = UNTOUCHED;

	if (value_int(s, -1000000, 1000000, &v, &why) == 0) {
		if (v < -1000000 || v > 1000000)
			abort();
		snprintf(buf, sizeof(buf), "%ld", v);
		if (value_int(buf, -1000000, 1000000, &back, &why) == -1 ||
		    back != v)
			abort();
	} else if (v != UNTOUCHED || why == NULL)
		abort();
	if (value_double(s, 1.0, 100.0, &d, &why) == 0) {
		if (!isfinite(d) || d < 1.0 || d > 100.0)
			abort();
	} else if (d != UNTOUCHED || why == NULL)
		abort();
}

static void
lists(const char *s)
{
	unsigned char set[32], none[32] = { 0 };
	enum restart_policy rp;
	const char *why = NULL;
	char buf[1024], again[1024], whybuf[256];
	int i;

	if (value_codes(s, set, &why) == 0) {
		for (i = 0; i < 32 && set[i] == 0; i++)
			;
		if (i == 32)
			abort();	/* an accepted list names a code */
	} else
		refused(-1, why);
	(void)none;
	if (value_restart(s, &rp, &why) == 0) {
		if (strcmp(value_restart_name(rp), s) != 0)
			abort();
	} else
		refused(-1, why);
	whybuf[0] = '\0';
	if (hook_filter_parse(s, buf, sizeof(buf), whybuf,
	    sizeof(whybuf)) == 0) {
		/* What it keeps parses to itself. */
		if (hook_filter_parse(buf, again, sizeof(again), whybuf,
		    sizeof(whybuf)) == -1 || strcmp(buf, again) != 0)
			abort();
		for (i = 0; hook_event_names[i] != NULL; i++)
			(void)hook_filter_match(buf, hook_event_names[i]);
	} else if (whybuf[0] == '\0')
		abort();
}

static void
words(const char *s)
{
	const char *why = NULL, *eq;
	size_t i, len = strlen(s);

	if (value_name(s, &why) == 0) {
		if (len == 0 || len > VM_NAME_MAX || s[0] == '-' || s[0] == '.')
			abort();
		for (i = 0; i < len; i++)
			if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
			    "TUVWXYZ0123456789._-", s[i]) == NULL)
				abort();
	} else
		refused(-1, why);
	if (value_env(s, &why) == 0) {
		if ((eq = strchr(s, '=')) == NULL || eq == s)
			abort();
	} else
		refused(-1, why);
	if (value_hostport(s, &why) == 0) {
		if (strrchr(s, ':') == NULL)
			abort();
	} else
		refused(-1, why);
}

/* Whether s is UTF-8 with no byte a terminal acts on (C0, DEL). */
static int
safe(const char *s)
{
	const char *p;

	if (!text_utf8(s, strlen(s)))
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return strstr(s, "\xc2\x9b") == NULL && strstr(s, "\xe2\x80\xae") ==
	    NULL;
}

static void
text(const uint8_t *data, size_t size, const char *s)
{
	char *fixed, small[24], *esc;
	size_t n;

	if ((fixed = malloc(size * 3 + 1)) == NULL)
		abort();
	n = text_utf8_fix((const char *)data, size, fixed);
	if (n > size * 3 || !text_utf8(fixed, n))
		abort();
	if (text_utf8((const char *)data, size) && (n != size ||
	    memcmp(fixed, data, size) != 0))
		abort();
	free(fixed);
	if ((esc = text_escape(s)) == NULL || !safe(esc))
		abort();
	text_shown(s, small, sizeof(small));
	if (strlen(small) >= sizeof(small) || !safe(small))
		abort();
	/* What fits is the whole escape; what does not, a prefix of it. */
	if (strlen(esc) < sizeof(small) ? strcmp(small, esc) != 0 :
	    strncmp(small, esc, strlen(small) - 3) != 0)
		abort();
	free(esc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t len;

	if (size == 0)
		return 0;
	len = strnlen((const char *)data + 1, size - 1);
	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data + 1, len);
	s[len] = '\0';
	switch (data[0] % 6) {
	case 0:
		duration(s);
		break;
	case 1:
		signal_(s);
		break;
	case 2:
		number(s);
		break;
	case 3:
		lists(s);
		break;
	case 4:
		words(s);
		break;
	case 5:
		text(data + 1, size - 1, s);
		break;
	}
	free(s);
	return 0;
}

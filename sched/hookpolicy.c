/*
 * hookpolicy.c: the webhook's decisions, as pure functions over plain
 * values (no I/O, no clock, no libcurl): which events an --events filter
 * lets through, whether a delivery attempt is done, retried (and when) or
 * given up, and the one-line summary Slack-style receivers show. The
 * sender (hook.c) and the outbox (db/event.c) act on what these say;
 * tests/check_hook.c checks them with made-up times and statuses.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

/*
 * Every event vmsched emits, for --events to check names against. A new
 * event type is added here as well as where it is emitted.
 */
const char *const hook_event_names[] = {
	"scheduler.started", "scheduler.stopping", "scheduler.gap",
	"vm.started", "vm.up", "vm.exited", "vm.restart_scheduled",
	"vm.failed", "vm.blocked", "vm.stopped", "vm.suspended",
	"vm.defined", "vm.changed", "vm.removed",
	"webhook.test",
	NULL,
};

/*
 * The audit events: an operator's own changes made with the CLI. Without
 * a filter they are history only; a filter that names them (or "vm.*")
 * sends them too.
 */
static const char *const audit_events[] = {
	"vm.defined", "vm.changed", "vm.removed", NULL,
};

static int
in_list(const char *const *list, const char *s, size_t len)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == len && strncmp(*list, s, len) == 0)
			return 1;
	return 0;
}

/* Whether the pattern p[0..len) ("*", "vm.*" or a name) matches event. */
static int
pattern_match(const char *p, size_t len, const char *event)
{
	if (len == 1 && p[0] == '*')
		return 1;
	if (len >= 2 && p[len - 1] == '*' && p[len - 2] == '.')
		return strncmp(event, p, len - 1) == 0;
	return strlen(event) == len && strncmp(event, p, len) == 0;
}

int
hook_filter_match(const char *filter, const char *event)
{
	const char *p, *end;

	if (filter == NULL)
		return !in_list(audit_events, event, strlen(event));
	for (p = filter; *p != '\0'; p = *end ? end + 1 : end) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		if (pattern_match(p, (size_t)(end - p), event))
			return 1;
	}
	return 0;
}

/* One item of a list: check it, why says what is wrong with it. */
static int
filter_item(const char *p, size_t len, const char **why)
{
	const char *const *ev;
	size_t i;

	if (len == 0) {
		*why = "an empty name";
		return -1;
	}
	if (len == 1 && p[0] == '*')
		return 0;
	for (i = 0; i < len; i++) {
		if (p[i] == '*' && i == len - 1 && i >= 1 && p[i - 1] == '.')
			break;
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' &&
		    p[i] <= '9') || p[i] == '_' || p[i] == '.')) {
			*why = "names are lowercase letters, digits, '_' and "
			    "'.'; a prefix ends in '.*'";
			return -1;
		}
	}
	for (ev = hook_event_names; *ev != NULL; ev++)
		if (pattern_match(p, len, *ev))
			return 0;
	*why = "matches no event vmsched sends";
	return -1;
}

int
hook_filter_parse(const char *list, char *buf, size_t len, char *why,
    size_t whylen)
{
	const char *p, *end, *s, *e, *reason;
	size_t n = 0;

	buf[0] = '\0';
	for (p = list; ; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		for (s = p; s < end && (*s == ' ' || *s == '\t'); s++)
			;
		for (e = end; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (filter_item(s, (size_t)(e - s), &reason) == -1) {
			snprintf(why, whylen, "'%.*s': %s", (int)(e - s), s,
			    reason);
			return -1;
		}
		if (n + (size_t)(e - s) + 2 > len) {
			snprintf(why, whylen, "the list is too long");
			return -1;
		}
		n += (size_t)snprintf(buf + n, len - n, "%s%.*s",
		    n > 0 ? "," : "", (int)(e - s), s);
		if (*end == '\0')
			break;
	}
	return 0;
}

/* Whether an HTTP status (0: no answer) is worth another try. */
static int
retryable(long status)
{
	if (status == 0 || status == 408 || status == 429)
		return 1;
	if (status >= 500 && status <= 599)
		return 1;
	/* 3xx (redirects are not followed) and the rest of 4xx won't change
	 * by themselves; anything stranger is given the benefit of doubt. */
	return !(status >= 300 && status <= 499);
}

enum hook_verdict
hook_retry(const struct hook_policy *hp, long status, int64_t retry_after_ms,
    int attempts, int64_t event_time, int64_t now, int64_t *next_at)
{
	int64_t delay, deadline;
	int i;

	*next_at = 0;
	if (status >= 200 && status <= 299)
		return HOOK_DELIVERED;
	if (!retryable(status))
		return HOOK_FAILED;
	deadline = event_time + hp->hp_give_up_ms;
	if (now >= deadline)
		return HOOK_FAILED;
	delay = hp->hp_initial_ms;
	for (i = 1; i < attempts && delay < hp->hp_max_ms; i++)
		delay *= 2;
	if (delay > hp->hp_max_ms)
		delay = hp->hp_max_ms;
	/* The receiver said when: believe it, even past our own cap. */
	if (retry_after_ms > 0)
		delay = retry_after_ms;
	*next_at = now + delay;
	/* One last try at the deadline rather than none after it. */
	if (*next_at > deadline)
		*next_at = deadline;
	return HOOK_RETRY;
}

void
hook_event_clear(struct hook_event *ev)
{
	free(ev->he_event);
	free(ev->he_vm);
	free(ev->he_signal);
	free(ev->he_reason);
	free(ev->he_detail);
	free(ev->he_rule);
	free(ev->he_why);
	memset(ev, 0, sizeof(*ev));
	ev->he_pid = -1;
	ev->he_exit_code = -1;
	ev->he_restarts = -1;
	ev->he_failures = -1;
	ev->he_delay_ms = -1;
}

/* Append printf-style text to buf, which holds *n bytes already. */
static void
add(char *buf, size_t len, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
add(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*n >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n = *n + (size_t)w < len ? *n + (size_t)w : len - 1;
}

void
hook_summary(const struct hook_event *ev, const char *host, char *buf,
    size_t len)
{
	char d[32];
	size_t n = 0;

	buf[0] = '\0';
	add(buf, len, &n, "%s: %s", host, ev->he_event);
	if (ev->he_vm != NULL)
		add(buf, len, &n, " %s", ev->he_vm);
	if (ev->he_pid > 0)
		add(buf, len, &n, " pid %ld", ev->he_pid);
	if (ev->he_reason != NULL)
		add(buf, len, &n, " %s", ev->he_reason);
	if (ev->he_signal != NULL)
		add(buf, len, &n, " by SIG%s", ev->he_signal);
	else if (ev->he_exit_code >= 0)
		add(buf, len, &n, " with code %d", ev->he_exit_code);
	if (ev->he_detail != NULL)
		add(buf, len, &n, " (%s)", ev->he_detail);
	if (ev->he_why != NULL)
		add(buf, len, &n, ": %s", ev->he_why);
	if (ev->he_delay_ms >= 0)
		add(buf, len, &n, ", restart in %s",
		    value_fmt_duration(ev->he_delay_ms, d, sizeof(d)));
	if (ev->he_failures > 0)
		add(buf, len, &n, ", %d failure%s in a row", ev->he_failures,
		    ev->he_failures == 1 ? "" : "s");
	if (ev->he_restarts > 0)
		add(buf, len, &n, ", %d restart%s", ev->he_restarts,
		    ev->he_restarts == 1 ? "" : "s");
}

void
hook_url_redact(const char *url, char *buf, size_t len)
{
	const char *auth, *at, *colon, *end;

	snprintf(buf, len, "%s", url);
	if ((auth = strstr(url, "://")) == NULL)
		return;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (at = end; at > auth && at[-1] != '@'; at--)
		;
	if (at == auth)
		return;
	if ((colon = memchr(auth, ':', (size_t)(at - 1 - auth))) == NULL)
		return;
	snprintf(buf, len, "%.*s:***%s", (int)(colon - url), url, at - 1);
}

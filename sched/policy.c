/*
 * policy.c: the decisions of the supervisor, as pure functions. What to do
 * after a run ends (restart or not, after what delay, whether the crash-loop
 * breaker trips, and the rule that decided it, in words for `vmsched log`),
 * and the fleet-wide restart rate limit. Times are plain milliseconds passed
 * in, so tests drive them with a fake clock.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sched.h"

/* Bounded jitter: a delay varies by at most this fraction either way. */
#define JITTER	0.1

int64_t
policy_backoff(const struct vm_def *vd, int n, double jitter)
{
	double d;

	if (n < 1)
		n = 1;
	d = (double)vd->vd_backoff_initial_ms *
	    pow(vd->vd_backoff_factor, n - 1);
	if (d > (double)vd->vd_backoff_max_ms)
		d = (double)vd->vd_backoff_max_ms;
	if (jitter < -1)
		jitter = -1;
	if (jitter > 1)
		jitter = 1;
	d *= 1.0 + JITTER * jitter;
	return (int64_t)llround(d);
}

/* "exit 3", "signal KILL", or the reason when neither applies. */
static void
describe(const struct run_end *re, char *buf, size_t len)
{
	char sig[16];

	if (re->re_status != NULL)
		snprintf(buf, len, "%s", re->re_status);
	else if (re->re_signal > 0)
		snprintf(buf, len, "signal %s",
		    value_signame(re->re_signal, sig, sizeof(sig)));
	else if (re->re_code >= 0)
		snprintf(buf, len, "exit %d", re->re_code);
	else
		snprintf(buf, len, "%s", run_reason_name(re->re_reason));
}

void
policy_decide(const struct vm_def *vd, int failures, const struct run_end *re,
    double jitter, struct decision *d)
{
	char what[64];
	int success, n;

	memset(d, 0, sizeof(*d));
	d->d_delay_ms = -1;
	describe(re, what, sizeof(what));

	if (re->re_requested) {
		/* stop, suspend, restart or shutdown: the operator's will. */
		d->d_failures = failures;
		snprintf(d->d_rule, sizeof(d->d_rule), "%s requested: not "
		    "restarted", run_reason_name(re->re_reason));
		return;
	}
	/* Suspended by someone else (virsh managedsave by hand): kept as
	 * it is, as a suspend asked of vmsched would be. */
	if (re->re_reason == RUN_SUSPENDED) {
		d->d_failures = failures;
		snprintf(d->d_rule, sizeof(d->d_rule), "%s: suspended "
		    "outside vmsched, not restarted until start", what);
		return;
	}
	/* A clean end with no exit code (a status said "shut off"): as
	 * exit 0. */
	success = re->re_reason == RUN_EXITED && re->re_signal == 0 &&
	    (re->re_code < 0 ? re->re_status != NULL :
	    vm_def_success(vd, re->re_code));
	/* A run that stayed up long enough clears the failure count. */
	if (re->re_up_ms >= vd->vd_backoff_reset_ms && re->re_up_ms > 0)
		failures = 0;
	n = success ? 0 : failures + 1;
	d->d_failures = n;

	switch (vd->vd_restart) {
	case RESTART_NEVER:
		snprintf(d->d_rule, sizeof(d->d_rule), "never: %s, runs once "
		    "per boot", what);
		return;
	case RESTART_ON_FAILURE:
		if (success) {
			snprintf(d->d_rule, sizeof(d->d_rule), "on-failure: "
			    "%s is success, not restarted", what);
			return;
		}
		snprintf(d->d_rule, sizeof(d->d_rule), "on-failure: %s is a "
		    "failure", what);
		break;
	case RESTART_ALWAYS:
		snprintf(d->d_rule, sizeof(d->d_rule), "always: %s", what);
		break;
	}
	if (!success && vd->vd_max_failures > 0 && n >= vd->vd_max_failures) {
		d->d_breaker = 1;
		snprintf(d->d_rule + strlen(d->d_rule),
		    sizeof(d->d_rule) - strlen(d->d_rule), "; %d failures in "
		    "a row: gave up until start or reset", n);
		return;
	}
	d->d_restart = 1;
	if (!success)
		d->d_delay_ms = policy_backoff(vd, n, jitter);
	else
		/* A clean exit restarts at once, but never more often than
		 * once per backoff-initial: the minimum respawn gap. */
		d->d_delay_ms = re->re_ran_ms >= vd->vd_backoff_initial_ms ? 0 :
		    vd->vd_backoff_initial_ms - re->re_ran_ms;
}

void
ratelimit_init(struct ratelimit *rl, double per_sec, double burst,
    int64_t now)
{
	rl->rl_rate = per_sec;
	rl->rl_burst = burst;
	rl->rl_tokens = burst;
	rl->rl_last = now;
}

int64_t
ratelimit_take(struct ratelimit *rl, int64_t now)
{
	if (rl->rl_rate <= 0)
		return 0;	/* unlimited */
	if (now > rl->rl_last) {
		rl->rl_tokens += (double)(now - rl->rl_last) * rl->rl_rate /
		    1000.0;
		if (rl->rl_tokens > rl->rl_burst)
			rl->rl_tokens = rl->rl_burst;
		rl->rl_last = now;
	}
	if (rl->rl_tokens >= 1.0) {
		rl->rl_tokens -= 1.0;
		return 0;
	}
	return (int64_t)ceil((1.0 - rl->rl_tokens) * 1000.0 / rl->rl_rate);
}

const char *
run_reason_name(enum run_reason r)
{
	static const char *names[] = {
		[RUN_EXITED] = "exited",
		[RUN_CRASHED] = "crashed",
		[RUN_STOPPED] = "stopped",
		[RUN_SUSPENDED] = "suspended",
		[RUN_KILLED] = "killed-after-timeout",
		[RUN_EXEC_FAILED] = "exec-failed",
		[RUN_GATE_TIMEOUT] = "gate-timeout",
		[RUN_ADOPTED] = "adopted-unknown",
	};

	return names[r];
}

/*
 * fsm.c: one VM's state machine, as a table. fsm_step looks up the handler
 * for (state, event) in table[][] and runs it; whatever happened, it then
 * reconciles: if what the operator wants (f_want) and what is (f_state,
 * f_live) disagree and nothing is under way, it schedules what closes the
 * gap. Handlers and reconcile only change the struct fsm and append to the
 * struct fsm_out: actions for the daemon to carry out (spawn, signal, check
 * a gate) and records for it to write (the state, the run row, the events).
 * Time is fx_now, a plain number; every timer is a named deadline in
 * f_timer[]. No system calls, no SQL: tests drive it with a fake clock.
 *
 * A start is owed (f_kick) after a boot, a start or restart request, or a
 * backoff; it goes through the same attempt every time: load the
 * definition, wait for the --after VMs, the boot wave, a fleet restart
 * token, a start slot and the gates, then spawn. Only a VM wanted up is
 * ever spawned; a request that meets a transition (stop while restarting,
 * start while stopping) is kept in f_want and f_kick and acted on once the
 * transition is over, because reconcile runs after every event.
 */
#include <stdio.h>
#include <string.h>

#include "sched.h"

#define CHECK_MS	250	/* between checks of a shut gate, ready port */
#define PROBE_MAX_MS	10000	/* a check that runs longer counts as shut */
#define RETRY_MS	1000	/* after the definition could not be read */

typedef void handler(struct fsm *, const struct fsm_event *,
    const struct fsm_facts *, struct fsm_out *);

static void
arm(struct fsm *f, enum fsm_timer t, int64_t at)
{
	f->f_timer[t] = at > 0 ? at : 1;
}

static void
disarm(struct fsm *f, enum fsm_timer t)
{
	f->f_timer[t] = 0;
}

static void
act(struct fsm_out *out, enum fsm_act a)
{
	if (out->o_nact < FSM_MAX_ACTS)
		out->o_act[out->o_nact++] = a;
}

/* The state a VM that has no process and owes nothing rests in. */
static enum vm_state
idle_state(const struct fsm *f)
{
	return f->f_enabled ? VM_STOPPED : VM_DISABLED;
}

static int
state_only(const struct fsm_record *r)
{
	return r->r_run == FSM_RUN_NONE && r->r_events[0] == NULL &&
	    !r->r_consumed;
}

/* A new record of f as it is now, moving to st. */
static struct fsm_record *
record(struct fsm *f, struct fsm_out *out, enum vm_state st)
{
	struct fsm_record *r;

	/* A record that only said "now in state X" is superseded. */
	if (out->o_nrec > 0 && (state_only(&out->o_rec[out->o_nrec - 1]) ||
	    out->o_nrec == FSM_MAX_RECS))
		r = &out->o_rec[out->o_nrec - 1];
	else
		r = &out->o_rec[out->o_nrec++];
	memset(r, 0, sizeof(*r));
	r->r_state = st;
	r->r_code = -1;
	r->r_delay_ms = -1;
	r->r_d.d_delay_ms = -1;
	r->r_failures = f->f_failures;
	r->r_restarts = f->f_restarts;
	f->f_state = st;
	return r;
}

static void
add_event(struct fsm_record *r, const char *event)
{
	size_t i;

	for (i = 0; i < 3 && r->r_events[i] != NULL; i++)
		;
	if (i < 3)
		r->r_events[i] = event;
}

/*
 * Move f to st waiting for why (NULL: nothing), with an event or none.
 * Nothing is recorded when neither the state nor the why changes.
 */
static void
set_state(struct fsm *f, struct fsm_out *out, enum vm_state st,
    const char *why, const char *event)
{
	struct fsm_record *r;
	char buf[sizeof(f->f_why)];

	snprintf(buf, sizeof(buf), "%s", why ? why : "");
	if (st == f->f_state && strcmp(buf, f->f_why) == 0 && event == NULL)
		return;
	memcpy(f->f_why, buf, sizeof(buf));
	r = record(f, out, st);
	r->r_why = f->f_why[0] ? f->f_why : NULL;
	if (event != NULL)
		add_event(r, event);
}

static void
kick(struct fsm *f, int is_restart)
{
	f->f_kick = 1;
	f->f_is_restart = is_restart;
}

/* Forget the attempt under way: the next one loads and checks again. */
static void
reset_attempt(struct fsm *f, struct fsm_out *out)
{
	f->f_loaded = 0;
	f->f_token = 0;
	f->f_gate = 0;
	if (f->f_probe) {
		act(out, A_PROBE_KILL);
		f->f_probe = 0;
	}
	disarm(f, T_CHECK);
	disarm(f, T_WAIT);
	disarm(f, T_PROBE);
}

static void
ask_stop(struct fsm *f, const struct fsm_facts *fx, struct fsm_out *out)
{
	f->f_ask = ASK_STOP;
	act(out, A_STOP);
	if (fx->fx_def->vd_stop_timeout_ms > 0)
		arm(f, T_KILL, fx->fx_now + fx->fx_def->vd_stop_timeout_ms);
	reset_attempt(f, out);
	disarm(f, T_UP);
	set_state(f, out, VM_STOPPING, NULL, NULL);
}

/* No kill timer: killing a VM half way through writing out its memory
 * would lose the guest. */
static void
ask_suspend(struct fsm *f, const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)fx;
	f->f_ask = ASK_SUSPEND;
	act(out, A_SUSPEND);
	reset_attempt(f, out);
	disarm(f, T_UP);
	set_state(f, out, VM_SUSPENDING, NULL, NULL);
}

static void
up(struct fsm *f, const struct fsm_facts *fx, struct fsm_out *out)
{
	f->f_up_since = fx->fx_now;
	disarm(f, T_WAIT);
	disarm(f, T_CHECK);
	set_state(f, out, VM_UP, NULL, "vm.up");
}

/*
 * What follows a run (or a start that never ran) as d decided: failed,
 * backoff before the next start, or rest.
 */
static void
follow(struct fsm *f, const struct fsm_facts *fx, struct fsm_record *r,
    const struct decision *d)
{
	f->f_kick = 0;
	if (d->d_breaker) {
		r->r_state = VM_FAILED;
		add_event(r, "vm.failed");
	} else if (d->d_restart && f->f_want == WANT_UP && !f->f_shutdown) {
		r->r_state = VM_BACKOFF;
		r->r_delay_ms = d->d_delay_ms;
		arm(f, T_RESTART, fx->fx_now + d->d_delay_ms);
		f->f_is_restart = 1;
		add_event(r, "vm.restart_scheduled");
	} else
		r->r_state = idle_state(f);
	f->f_state = r->r_state;
}

/* A start that never ran: exec-failed or gate-timeout, with detail. */
static void
never_ran(struct fsm *f, const struct fsm_facts *fx, struct fsm_out *out,
    enum run_reason reason, const char *detail)
{
	struct run_end re;
	struct fsm_record *r;
	struct decision d;

	if (f->f_is_restart)
		f->f_restarts++;
	memset(&re, 0, sizeof(re));
	re.re_reason = reason;
	re.re_code = -1;
	policy_decide(fx->fx_def, f->f_failures, &re, fx->fx_jitter, &d);
	f->f_failures = d.d_failures;
	reset_attempt(f, out);
	f->f_why[0] = '\0';
	r = record(f, out, f->f_state);
	r->r_run = FSM_RUN_ONESHOT;
	r->r_took_ms = reason == RUN_GATE_TIMEOUT && f->f_wait_since > 0 ?
	    fx->fx_now - f->f_wait_since : 0;
	r->r_reason = reason;
	r->r_detail = detail;
	r->r_d = d;
	r->r_failures = d.d_failures;
	r->r_consumed = 1;
	add_event(r, reason == RUN_GATE_TIMEOUT ? "vm.blocked" : "vm.exited");
	follow(f, fx, r, &d);
}

/* How a run that ended by itself ended, from what its driver knows. */
static enum run_reason
unasked_reason(int sig, int unknown, enum vstatus status)
{
	switch (status) {
	case VS_STOPPED:
		return RUN_EXITED;
	case VS_CRASHED:
		return RUN_CRASHED;
	case VS_SUSPENDED:
		return RUN_SUSPENDED;
	default:
		break;
	}
	if (unknown)
		return RUN_ADOPTED;
	return sig > 0 ? RUN_CRASHED : RUN_EXITED;
}

/*
 * The process ended: code and sig as wait() said, or unknown (a process
 * that was not our child), or what a status command said (status, with
 * its words in detail). Asked for, it rests (suspended, or stopped);
 * otherwise its policy decides.
 */
static void
exited(struct fsm *f, const struct fsm_facts *fx, struct fsm_out *out,
    const struct fsm_event *ev, const char *detail)
{
	struct run_end re;
	struct fsm_record *r;
	struct decision d;
	enum fsm_ask ask = f->f_ask;
	int code = ev->fe_code, sig = ev->fe_signal;

	memset(&re, 0, sizeof(re));
	re.re_code = code;
	re.re_signal = sig;
	re.re_ran_ms = fx->fx_now - f->f_started;
	re.re_up_ms = f->f_up_since ? fx->fx_now - f->f_up_since : 0;
	re.re_status = ev->fe_status != VS_UNKNOWN ? detail : NULL;
	if (ask != ASK_NONE) {
		re.re_requested = 1;
		re.re_reason = f->f_killed ? RUN_KILLED : ask == ASK_SUSPEND ?
		    RUN_SUSPENDED : RUN_STOPPED;
	} else
		re.re_reason = unasked_reason(sig, ev->fe_unknown,
		    ev->fe_status);
	policy_decide(fx->fx_def, f->f_failures, &re, fx->fx_jitter, &d);
	f->f_failures = d.d_failures;

	f->f_live = 0;
	f->f_ask = ASK_NONE;
	f->f_killed = 0;
	f->f_up_since = 0;
	disarm(f, T_KILL);
	disarm(f, T_UP);
	disarm(f, T_LIVE);
	reset_attempt(f, out);
	f->f_why[0] = '\0';
	r = record(f, out, f->f_state);
	r->r_run = FSM_RUN_CLOSE;
	r->r_code = code;
	r->r_signal = sig;
	r->r_reason = re.re_reason;
	r->r_detail = detail;
	r->r_d = d;
	r->r_failures = d.d_failures;
	add_event(r, "vm.exited");
	if (ask == ASK_SUSPEND) {
		r->r_state = VM_SUSPENDED;
		add_event(r, "vm.suspended");
	} else if (ask == ASK_STOP) {
		r->r_state = idle_state(f);
		/* A restart goes on: it is not stopped. */
		if (!f->f_kick || f->f_want != WANT_UP || f->f_shutdown)
			add_event(r, "vm.stopped");
	} else {
		follow(f, fx, r, &d);
		return;
	}
	f->f_state = r->r_state;
}

/* Handlers, by event. */

static void
on_request(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	f->f_want = ev->fe_want;
	f->f_enabled = ev->fe_enabled;
	if (ev->fe_reset) {
		f->f_failures = 0;
		if (f->f_state == VM_FAILED && f->f_want == WANT_UP)
			kick(f, 0);
	}
	if (ev->fe_start && f->f_want == WANT_UP) {
		/* start gives a failed VM a fresh count; restart does not. */
		if (!ev->fe_restart)
			f->f_failures = 0;
		kick(f, 0);
		/* Asked for now: the backoff's wait is over. */
		disarm(f, T_RESTART);
		if (ev->fe_restart && f->f_live && f->f_ask == ASK_NONE &&
		    f->f_state != VM_STARTING)
			ask_stop(f, fx, out);
		/* Starting (a detached driver's start takes a while): the
		 * restart follows once it has started. */
		else if (ev->fe_restart && f->f_state == VM_STARTING)
			f->f_restart_asked = 1;
	}
}

static void
on_boot(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)fx;
	f->f_boot = 1;
	if (f->f_live || f->f_want != WANT_UP || f->f_state == VM_FAILED)
		return;
	if (f->f_state == VM_BACKOFF) {
		/* Closed on adoption and backing off: its timer starts it.
		 * Backing off when the last daemon died: its policy wanted
		 * it again, enabled or not; the timer died with the daemon. */
		if (f->f_timer[T_RESTART] == 0)
			kick(f, 1);
		return;
	}
	if (!f->f_enabled)
		return;
	if (ev->fe_ok) {
		set_state(f, out, idle_state(f), "ran once this boot", NULL);
		return;
	}
	kick(f, 0);
}

static void
on_adopt(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	const struct vm_def *vd = fx->fx_def;
	struct fsm_record *r;
	struct fsm_event gone;
	int64_t now = fx->fx_now, up_at;

	f->f_live = 1;
	f->f_started = now - (ev->fe_ran_ms > 0 ? ev->fe_ran_ms : 0);
	f->f_ask = ev->fe_was == VM_STOPPING ? ASK_STOP :
	    ev->fe_was == VM_SUSPENDING ? ASK_SUSPEND : ASK_NONE;
	/* Being stopped, yet wanted up: the last daemon was shutting down
	 * (or restarting it). The stop goes on; this boot starts it after. */
	if (f->f_ask == ASK_STOP && f->f_want == WANT_UP)
		kick(f, 0);
	if (!ev->fe_ok) {
		if (ev->fe_unrecorded) {
			/* Started by a daemon that died before it said so,
			 * ended before anyone looked: its run is written
			 * now, opened and closed. */
			r = record(f, out, VM_RUNNING);
			r->r_run = FSM_RUN_OPEN;
			add_event(r, "vm.started");
		}
		memset(&gone, 0, sizeof(gone));
		gone.fe_code = -1;
		gone.fe_unknown = 1;
		exited(f, fx, out, &gone, "ended while no daemon watched");
		return;
	}
	up_at = f->f_started + vd->vd_up_delay_ms;
	/* Whatever it was waiting for before, it runs now. */
	disarm(f, T_RESTART);
	reset_attempt(f, out);
	if (fx->fx_poll_ms > 0)
		arm(f, T_LIVE, now + fx->fx_poll_ms);
	switch (ev->fe_was) {
	case VM_UP:
		f->f_up_since = up_at < now ? up_at : now;
		f->f_state = VM_UP;
		break;
	case VM_STOPPING:
		if (vd->vd_stop_timeout_ms > 0)
			arm(f, T_KILL, now + vd->vd_stop_timeout_ms);
		f->f_state = VM_STOPPING;
		break;
	case VM_SUSPENDING:
		f->f_state = VM_SUSPENDING;
		break;
	default:
		arm(f, T_UP, up_at > now ? up_at : now);
		if (vd->vd_ready_tcp != NULL)
			arm(f, T_WAIT, f->f_started + vd->vd_wait_timeout_ms);
		set_state(f, out, VM_RUNNING, NULL, NULL);
		break;
	}
	if (ev->fe_unrecorded) {
		/* Started by a daemon that died before it said so. */
		r = record(f, out, f->f_state);
		r->r_run = FSM_RUN_OPEN;
		add_event(r, "vm.started");
	}
}

static void
on_loaded(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	char why[sizeof(f->f_why)];

	if (ev->fe_ok) {
		f->f_loaded = 1;
		if (f->f_boot && !f->f_settled && f->f_timer[T_SETTLE] == 0)
			arm(f, T_SETTLE, fx->fx_now +
			    fx->fx_def->vd_wait_timeout_ms);
		return;
	}
	snprintf(why, sizeof(why), "cannot read its definition: %s",
	    ev->fe_why ? ev->fe_why : "unknown error");
	/* The start stays owed (and recorded as owed): it waits for
	 * T_RESTART, not for another request. */
	reset_attempt(f, out);
	arm(f, T_RESTART, fx->fx_now + RETRY_MS);
	set_state(f, out, VM_BACKOFF, why, NULL);
}

static void
on_started(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	const struct vm_def *vd = fx->fx_def;
	struct fsm_record *r;

	(void)ev;
	f->f_live = 1;
	f->f_started = fx->fx_now;
	f->f_up_since = 0;
	f->f_ask = ASK_NONE;
	f->f_killed = 0;
	if (f->f_is_restart)
		f->f_restarts++;
	f->f_why[0] = '\0';
	r = record(f, out, VM_RUNNING);
	r->r_run = FSM_RUN_OPEN;
	r->r_detail = ev->fe_why;
	r->r_consumed = 1;
	add_event(r, "vm.started");
	if (vd->vd_up_delay_ms == 0 && vd->vd_ready_tcp == NULL) {
		f->f_up_since = fx->fx_now;
		r->r_state = f->f_state = VM_UP;
		add_event(r, "vm.up");
	} else {
		arm(f, T_UP, fx->fx_now + vd->vd_up_delay_ms);
		if (vd->vd_ready_tcp != NULL)
			arm(f, T_WAIT, fx->fx_now + vd->vd_wait_timeout_ms);
	}
	if (fx->fx_poll_ms > 0)
		arm(f, T_LIVE, fx->fx_now + fx->fx_poll_ms);
	/* A restart asked while its driver was starting it: what started
	 * is not what was asked for. */
	if (f->f_restart_asked) {
		f->f_restart_asked = 0;
		if (f->f_want == WANT_UP && !f->f_shutdown) {
			kick(f, 0);
			ask_stop(f, fx, out);
		}
	}
}

static void
on_start_failed(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	f->f_restart_asked = 0;
	never_ran(f, fx, out, RUN_EXEC_FAILED, ev->fe_why);
}

static void
on_exited(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	exited(f, fx, out, ev, ev->fe_why);
}

static void
on_gate(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	int64_t next;

	(void)out;
	if (!f->f_probe)
		return;		/* an answer nobody waits for */
	f->f_probe = 0;
	disarm(f, T_PROBE);
	if (ev->fe_ok) {
		f->f_gate++;
		return;
	}
	next = fx->fx_now + CHECK_MS;
	if (f->f_timer[T_WAIT] != 0 && f->f_timer[T_WAIT] < next)
		next = f->f_timer[T_WAIT];
	arm(f, T_CHECK, next);
}

static void
on_ready(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	if (!f->f_probe)
		return;
	f->f_probe = 0;
	disarm(f, T_PROBE);
	if (ev->fe_ok)
		up(f, fx, out);
	else
		arm(f, T_CHECK, fx->fx_now + CHECK_MS);
}

static void
check_ready(struct fsm *f, const struct fsm_facts *fx, struct fsm_out *out)
{
	if (f->f_probe)
		return;
	f->f_probe = 1;
	arm(f, T_PROBE, fx->fx_now + PROBE_MAX_MS);
	act(out, A_READY);
}

static void
on_shutdown(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)ev;
	(void)fx;
	f->f_shutdown = 1;
	disarm(f, T_RESTART);
	disarm(f, T_SETTLE);
	if (f->f_live)
		return;
	reset_attempt(f, out);
	switch (f->f_state) {
	case VM_WAITING:
	case VM_BACKOFF:
	case VM_BLOCKED:
		set_state(f, out, idle_state(f), NULL, NULL);
		break;
	default:
		break;
	}
}

static void
on_removed(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)ev;
	(void)fx;
	(void)out;
	f->f_removed = 1;
	f->f_want = WANT_DOWN;
	f->f_kick = 0;
}

/* Timers. */

static void
on_restart_due(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)ev;
	(void)fx;
	(void)out;
	/* In backoff: start again. Waiting (the rate limit): reconcile
	 * asks for the token again. */
	if (f->f_state == VM_BACKOFF)
		f->f_kick = 1;
}

static void
on_kill_due(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)ev;
	(void)fx;
	f->f_killed = 1;
	act(out, A_KILL);
}

static void
on_up_due(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)ev;
	if (fx->fx_def->vd_ready_tcp != NULL)
		check_ready(f, fx, out);
	else
		up(f, fx, out);
}

static void
on_check_due(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)ev;
	/* Waiting: reconcile checks the gate again, now T_CHECK is off. */
	if (f->f_state == VM_RUNNING && f->f_timer[T_UP] == 0)
		check_ready(f, fx, out);
}

static void
on_wait_due(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	const struct vm_def *vd = fx->fx_def;
	const struct gate *g;
	char why[sizeof(f->f_why)], ms[32];

	(void)ev;
	f->f_settled = 1;
	value_fmt_duration(vd->vd_wait_timeout_ms, ms, sizeof(ms));
	if (f->f_state == VM_RUNNING) {
		/* Not ready in time: later waves go on without it. */
		snprintf(why, sizeof(why), "ready-tcp %s: no answer after %s",
		    vd->vd_ready_tcp ? vd->vd_ready_tcp : "-", ms);
		set_state(f, out, VM_RUNNING, why, NULL);
		return;
	}
	if (f->f_gate >= vd->vd_ngates)
		return;
	g = &vd->vd_gates[f->f_gate];
	snprintf(out->o_detail, sizeof(out->o_detail), "wait-%s %s",
	    value_gate_name(g->g_kind), g->g_arg);
	never_ran(f, fx, out, RUN_GATE_TIMEOUT, out->o_detail);
}

static void
on_probe_due(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)ev;
	if (!f->f_probe)
		return;
	/* A check that hangs counts as shut. */
	act(out, A_PROBE_KILL);
	f->f_probe = 0;
	arm(f, T_CHECK, fx->fx_now + CHECK_MS);
}

static void
on_settle_due(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)ev;
	(void)fx;
	(void)out;
	f->f_settled = 1;
}

static void
on_live_due(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	(void)ev;
	act(out, A_POLL);
	if (fx->fx_poll_ms > 0)
		arm(f, T_LIVE, fx->fx_now + fx->fx_poll_ms);
}

/*
 * The table: what each event does in each state. An empty cell ignores
 * the event (a timer armed for a state the VM has left, an answer nobody
 * waits for); reconcile runs either way.
 */
#define COMMON \
	[EV_REQUEST] = on_request, [EV_BOOT] = on_boot, \
	[EV_ADOPT] = on_adopt, [EV_SHUTDOWN] = on_shutdown, \
	[EV_REMOVED] = on_removed, [EV_TIMER + T_SETTLE] = on_settle_due
#define LIVE \
	[EV_EXITED] = on_exited, [EV_TIMER + T_LIVE] = on_live_due

static handler *const table[VM_NSTATES][EV_NEVENTS] = {
	[VM_DISABLED] = { COMMON },
	[VM_STOPPED] = { COMMON },
	[VM_WAITING] = { COMMON,
		[EV_LOADED] = on_loaded,
		[EV_GATE] = on_gate,
		[EV_TIMER + T_CHECK] = on_check_due,
		[EV_TIMER + T_RESTART] = on_restart_due,
		[EV_TIMER + T_WAIT] = on_wait_due,
		[EV_TIMER + T_PROBE] = on_probe_due,
	},
	[VM_STARTING] = { COMMON, LIVE,
		[EV_STARTED] = on_started,
		[EV_START_FAILED] = on_start_failed,
	},
	[VM_RUNNING] = { COMMON, LIVE,
		[EV_READY] = on_ready,
		[EV_TIMER + T_UP] = on_up_due,
		[EV_TIMER + T_CHECK] = on_check_due,
		[EV_TIMER + T_WAIT] = on_wait_due,
		[EV_TIMER + T_PROBE] = on_probe_due,
	},
	[VM_UP] = { COMMON, LIVE },
	[VM_BACKOFF] = { COMMON,
		[EV_TIMER + T_RESTART] = on_restart_due,
	},
	[VM_FAILED] = { COMMON },
	[VM_BLOCKED] = { COMMON,
		[EV_LOADED] = on_loaded,
	},
	[VM_STOPPING] = { COMMON, LIVE,
		[EV_TIMER + T_KILL] = on_kill_due,
	},
	[VM_SUSPENDING] = { COMMON, LIVE },
	[VM_SUSPENDED] = { COMMON },
};

/* Wanted down or suspended, with no process: drop any start under way. */
static void
give_up(struct fsm *f, struct fsm_out *out)
{
	struct fsm_record *r;

	f->f_kick = 0;
	disarm(f, T_RESTART);
	reset_attempt(f, out);
	switch (f->f_state) {
	case VM_WAITING:
	case VM_BACKOFF:
	case VM_BLOCKED:
	case VM_FAILED:
		f->f_why[0] = '\0';
		r = record(f, out, idle_state(f));
		r->r_consumed = 1;
		add_event(r, "vm.stopped");
		break;
	case VM_STOPPED:
	case VM_DISABLED:
		set_state(f, out, idle_state(f), f->f_why, NULL);
		break;
	default:
		break;
	}
}

/*
 * Start f, as far as the facts let it: load, dependencies, the boot wave,
 * a fleet restart token, a start slot, the gates in order, then spawn.
 * Each step that cannot go on yet says why and returns; the event that
 * lets it go on calls reconcile again.
 */
static void
attempt(struct fsm *f, const struct fsm_facts *fx, struct fsm_out *out)
{
	const struct vm_def *vd = fx->fx_def;
	const struct gate *g;
	char why[sizeof(f->f_why)];
	int64_t wait;

	if (!f->f_loaded) {
		if (f->f_state != VM_WAITING && f->f_state != VM_BLOCKED)
			set_state(f, out, VM_WAITING, NULL, NULL);
		act(out, A_LOAD);
		return;
	}
	if (fx->fx_deps < 0) {
		if (f->f_probe) {
			act(out, A_PROBE_KILL);
			f->f_probe = 0;
		}
		set_state(f, out, VM_BLOCKED, fx->fx_deps_why,
		    f->f_state != VM_BLOCKED ? "vm.blocked" : NULL);
		return;
	}
	if (fx->fx_deps == 0) {
		set_state(f, out, VM_WAITING, fx->fx_deps_why, NULL);
		return;
	}
	if (!fx->fx_turn) {
		set_state(f, out, VM_WAITING, fx->fx_turn_why, NULL);
		return;
	}
	if (f->f_is_restart && !f->f_token && fx->fx_rate != NULL) {
		if ((wait = ratelimit_take(fx->fx_rate, fx->fx_now)) > 0) {
			arm(f, T_RESTART, fx->fx_now + wait);
			set_state(f, out, VM_WAITING,
			    "fleet restart rate limit", NULL);
			return;
		}
		f->f_token = 1;
	}
	if (!fx->fx_slot) {
		set_state(f, out, VM_WAITING, "max-parallel-starts", NULL);
		return;
	}
	if (f->f_gate < vd->vd_ngates) {
		g = &vd->vd_gates[f->f_gate];
		if (f->f_timer[T_WAIT] == 0) {
			arm(f, T_WAIT, fx->fx_now + vd->vd_wait_timeout_ms);
			f->f_wait_since = fx->fx_now;
		}
		snprintf(why, sizeof(why), "wait-%s %s",
		    value_gate_name(g->g_kind), g->g_arg);
		set_state(f, out, VM_WAITING, why, NULL);
		if (!f->f_probe && f->f_timer[T_CHECK] == 0) {
			f->f_probe = 1;
			arm(f, T_PROBE, fx->fx_now + PROBE_MAX_MS);
			act(out, A_GATE);
		}
		return;
	}
	f->f_kick = 0;
	reset_attempt(f, out);
	disarm(f, T_RESTART);
	set_state(f, out, VM_STARTING, NULL, NULL);
	act(out, A_SPAWN);
}

/* Compare what is wanted with what is; schedule what closes the gap. */
static void
reconcile(struct fsm *f, const struct fsm_facts *fx, struct fsm_out *out)
{
	/* Only a VM wanted up is owed a start. (At shutdown an owed start
	 * is kept, and recorded, for the next daemon: none is made now.) */
	if (f->f_want != WANT_UP)
		f->f_kick = 0;
	if (f->f_state == VM_STARTING)
		return;		/* the driver answers first */
	if (f->f_live) {
		/* Suspending, but now wanted down: a stop cannot wait for a
		 * VM that may never finish (or never heard the signal). */
		if (f->f_ask == ASK_SUSPEND && f->f_want == WANT_DOWN &&
		    !f->f_shutdown) {
			ask_stop(f, fx, out);
			return;
		}
		if (f->f_ask != ASK_NONE)
			return;	/* ending: what follows, follows the exit */
		if (f->f_shutdown) {
			if (fx->fx_turn)
				ask_stop(f, fx, out);
		} else if (f->f_want == WANT_DOWN)
			ask_stop(f, fx, out);
		else if (f->f_want == WANT_SUSPENDED)
			ask_suspend(f, fx, out);
		else
			f->f_kick = 0;	/* wanted up, and it runs */
		return;
	}
	if (f->f_shutdown)
		return;
	if (f->f_want != WANT_UP)
		give_up(f, out);
	else if (f->f_kick && !(f->f_state == VM_BACKOFF &&
	    f->f_timer[T_RESTART] != 0))
		attempt(f, fx, out);
	else if (f->f_state == VM_STOPPED || f->f_state == VM_DISABLED)
		set_state(f, out, idle_state(f), f->f_why, NULL);
}

int
fsm_step(struct fsm *f, const struct fsm_event *ev,
    const struct fsm_facts *fx, struct fsm_out *out)
{
	enum vm_state was = f->f_state;
	int live = f->f_live;
	handler *h = NULL;

	memset(out, 0, sizeof(*out));
	/* A timer that fired is off until a handler arms it again. */
	if (ev->fe_ev >= EV_TIMER && ev->fe_ev < EV_NEVENTS)
		disarm(f, (enum fsm_timer)(ev->fe_ev - EV_TIMER));
	if ((unsigned)ev->fe_ev < EV_NEVENTS && (unsigned)f->f_state <
	    VM_NSTATES)
		h = table[f->f_state][ev->fe_ev];
	if (h != NULL)
		h(f, ev, fx, out);
	reconcile(f, fx, out);
	return f->f_state != was || f->f_live != live;
}

void
fsm_init(struct fsm *f, enum vm_state st, enum vm_want w, int enabled,
    int failures, int restarts)
{
	memset(f, 0, sizeof(*f));
	f->f_want = w;
	f->f_enabled = enabled;
	f->f_failures = failures;
	f->f_restarts = restarts;
	/* Only a daemon's own events say a process exists. */
	switch (st) {
	case VM_STARTING:
	case VM_RUNNING:
	case VM_UP:
	case VM_STOPPING:
	case VM_SUSPENDING:
	case VM_WAITING:
	case VM_BLOCKED:
		st = enabled ? VM_STOPPED : VM_DISABLED;
		break;
	default:
		break;
	}
	f->f_state = st;
}

int
fsm_dep(const struct fsm *f)
{
	if (f->f_removed)
		return -1;
	switch (f->f_state) {
	case VM_UP:
		return 1;
	case VM_FAILED:
	case VM_BLOCKED:
		return -1;
	case VM_WAITING:
	case VM_STARTING:
	case VM_RUNNING:
	case VM_BACKOFF:
		return f->f_want == WANT_UP ? 0 : -1;
	default:
		return f->f_kick && f->f_want == WANT_UP ? 0 : -1;
	}
}

int
fsm_settled(const struct fsm *f)
{
	if (!f->f_boot || f->f_settled)
		return 1;
	switch (f->f_state) {
	case VM_UP:
	case VM_FAILED:
	case VM_BLOCKED:
	case VM_SUSPENDED:
		return 1;
	case VM_STOPPED:
	case VM_DISABLED:
		return !f->f_kick;
	default:
		return 0;
	}
}

int
fsm_starting(const struct fsm *f)
{
	return (f->f_state == VM_STARTING || f->f_state == VM_RUNNING) &&
	    !f->f_settled;
}

int
fsm_owed(const struct fsm *f)
{
	if (f->f_want != WANT_UP)
		return 0;
	return f->f_kick || f->f_state == VM_BACKOFF ||
	    (f->f_state == VM_STARTING && !f->f_live);
}

int
fsm_agrees(enum vm_state st, enum vm_want w)
{
	switch (w) {
	case WANT_UP:
		return st == VM_UP || st == VM_BACKOFF || st == VM_FAILED ||
		    st == VM_BLOCKED || st == VM_WAITING || st == VM_STOPPED ||
		    st == VM_DISABLED;
	case WANT_DOWN:
		return st == VM_STOPPED || st == VM_DISABLED ||
		    st == VM_SUSPENDED;
	case WANT_SUSPENDED:
		return st == VM_SUSPENDED || st == VM_STOPPED ||
		    st == VM_DISABLED;
	}
	return 0;
}

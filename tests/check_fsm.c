/*
 * check_fsm.c: the per-VM state machine (sched/fsm.c) with a fake clock
 * and a fake driver. A small fleet lives in this file: fake processes that
 * exit on cue (or ignore their stop signal), gates that open and shut, a
 * store that keeps what the records said, and a daemon that can die and
 * start again from that store. The named tests replay the cases issue 9
 * found on the old daemon; the model-based test feeds thousands of random
 * sequences (requests, exits, timers, gates, store errors, daemon
 * restarts) and checks the invariants after every step. FSM_SEED=N
 * replays one seed; the seed of a failure is printed.
 *
 * Issue 12: some VMs of the fleet are detached. Their driver answers a
 * start later (a start command that runs, then succeeds or fails); their
 * end comes with what a status said (stopped, crashed, suspended, or
 * nothing known); a daemon that dies while one starts leaves it running
 * unrecorded, and the next daemon takes it over (the status says it runs)
 * instead of starting a second copy.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define NVM	4
#define NOPROC	0

/* A fake process. */
struct fproc {
	int	fp_alive;
	int	fp_deaf;	/* ignores its stop and suspend signals */
	int	fp_ending;	/* asked, and will exit when the clock says */
	int64_t	fp_exit_at;	/* when it exits on its own (0: never) */
	int	fp_exit_code;
	int	fp_exit_sig;
	int	fp_reported;	/* its exit was fed */
};

/* One VM of the fake fleet. */
struct fvm {
	struct fsm	 v_f;
	struct vm_def	 v_def;
	struct fproc	 v_proc;
	int		 v_after;	/* index of its --after VM, or -1 */
	int		 v_gate_open;
	int		 v_run_open;	/* a run row is open */
	int		 v_spawns;
	int		 v_probe;	/* a ready check waits for its answer */
	int		 v_asked_end;	/* its last run ended because asked */
	int		 v_outside;	/* ... or ends now by someone else's hand */
	/* a detached VM */
	int		 v_detached;
	int		 v_start_pending; /* its start command runs */
	int64_t		 v_start_at;	/* ... and answers then */
	int		 v_start_fails;	/* ... that it failed */
	/* the store: what the last records said */
	enum vm_state	 v_st_state;
	int		 v_st_owed;
	int		 v_st_failures;
	int		 v_st_restarts;
	char		 v_log[4096];	/* what happened, for a failure */
};

struct fleet {
	struct fvm	 fl_vm[NVM];
	int		 fl_n;
	int64_t		 fl_now;
	int		 fl_db_broken;	/* the store refuses reads */
	int		 fl_daemon;	/* a daemon runs */
	int		 fl_shutdown;
	unsigned	 fl_seed;
	struct ratelimit fl_rate;
	int		 fl_violations;
	char		 fl_why[8192];
};

static unsigned
rnd(struct fleet *fl, unsigned n)
{
	fl->fl_seed = fl->fl_seed * 1103515245u + 12345u;
	return n ? (fl->fl_seed >> 8) % n : 0;
}

static void
violation(struct fleet *fl, int i, const char *what)
{
	char all[512];
	size_t len = 0;
	int j;

	if (fl->fl_violations > 0) {
		fl->fl_violations++;
		return;
	}
	for (j = 0; j < fl->fl_n; j++)
		len += (size_t)snprintf(all + len, sizeof(all) - len,
		    " [vm%d %s kick %d after %d gate %zu open %d probe %d why '%s']",
		    j, vm_state_name(fl->fl_vm[j].v_f.f_state),
		    fl->fl_vm[j].v_f.f_kick, fl->fl_vm[j].v_after,
		    fl->fl_vm[j].v_f.f_gate, fl->fl_vm[j].v_gate_open,
		    fl->fl_vm[j].v_f.f_probe, fl->fl_vm[j].v_f.f_why);
	fprintf(stderr, "fleet:%s\n", all);
	for (j = 0; j < fl->fl_n; j++)
		fprintf(stderr, "vm%d:%s\n", j, strlen(fl->fl_vm[j].v_log) >
		    400 ? fl->fl_vm[j].v_log + strlen(fl->fl_vm[j].v_log) -
		    400 : fl->fl_vm[j].v_log);
	if (fl->fl_violations++ == 0)
		snprintf(fl->fl_why, sizeof(fl->fl_why), "vm%d: %s (state %s, "
		    "want %s; timers %lld %lld %lld; proc alive %d deaf %d "
		    "ending %d exit at %lld; now %lld) log (latest last):%s",
		    i, what,
		    vm_state_name(fl->fl_vm[i].v_f.f_state),
		    vm_want_name(fl->fl_vm[i].v_f.f_want),
		    (long long)fl->fl_vm[i].v_f.f_timer[T_RESTART],
		    (long long)fl->fl_vm[i].v_f.f_timer[T_KILL],
		    (long long)fl->fl_vm[i].v_f.f_timer[T_UP],
		    fl->fl_vm[i].v_proc.fp_alive, fl->fl_vm[i].v_proc.fp_deaf,
		    fl->fl_vm[i].v_proc.fp_ending,
		    (long long)fl->fl_vm[i].v_proc.fp_exit_at,
		    (long long)fl->fl_now,
		    strlen(fl->fl_vm[i].v_log) > 600 ? fl->fl_vm[i].v_log +
		    strlen(fl->fl_vm[i].v_log) - 600 : fl->fl_vm[i].v_log);
}

static void
note(struct fvm *v, const char *what)
{
	size_t len = strlen(v->v_log);

	if (len + strlen(what) + 2 < sizeof(v->v_log))
		snprintf(v->v_log + len, sizeof(v->v_log) - len, " %s", what);
}

static void
facts(struct fleet *fl, int i, struct fsm_facts *fx)
{
	struct fvm *v = &fl->fl_vm[i];

	memset(fx, 0, sizeof(*fx));
	fx->fx_now = fl->fl_now;
	fx->fx_def = &v->v_def;
	fx->fx_turn = 1;
	fx->fx_slot = 1;
	fx->fx_deps = v->v_after < 0 ? 1 : fsm_dep(&fl->fl_vm[v->v_after].v_f);
	fx->fx_deps_why = fx->fx_deps == 1 ? NULL : "after the other";
	fx->fx_rate = &fl->fl_rate;
	fx->fx_jitter = 0;
	if (fl->fl_shutdown) {
		/* The last VM stops first: stop those with no live VM after. */
		int j;
		fx->fx_turn = 1;
		for (j = i + 1; j < fl->fl_n; j++)
			if (fl->fl_vm[j].v_f.f_live)
				fx->fx_turn = 0;
	}
}

static void	 feed(struct fleet *, int, struct fsm_event *);

/* What the records say goes to the store; runs open and close in turn. */
static void
store(struct fleet *fl, int i, const struct fsm_out *out)
{
	struct fvm *v = &fl->fl_vm[i];
	size_t k;

	for (k = 0; k < out->o_nrec; k++) {
		const struct fsm_record *r = &out->o_rec[k];
		switch (r->r_run) {
		case FSM_RUN_OPEN:
			if (v->v_run_open)
				violation(fl, i, "a run opened twice");
			v->v_run_open = 1;
			v->v_asked_end = 0;
			break;
		case FSM_RUN_CLOSE:
			if (!v->v_run_open)
				violation(fl, i, "a run closed that was not "
				    "open");
			v->v_run_open = 0;
			/* Asked by the operator: not the daemon's own
			 * shutdown, which the next boot undoes. */
			v->v_asked_end = !fl->fl_shutdown && !v->v_outside &&
			    (r->r_reason == RUN_STOPPED ||
			    r->r_reason == RUN_KILLED ||
			    r->r_reason == RUN_SUSPENDED);
			break;
		case FSM_RUN_ONESHOT:
			if (v->v_run_open)
				violation(fl, i, "a start that never ran while "
				    "a run is open");
			v->v_asked_end = 0;
			break;
		case FSM_RUN_NONE:
			break;
		}
		v->v_st_state = r->r_state;
		v->v_st_failures = r->r_failures;
		v->v_st_restarts = r->r_restarts;
		note(v, vm_state_name(r->r_state));
	}
	v->v_st_owed = fsm_owed(&v->v_f);
}

/* A fake process starts for v (a spawn, or a detached start's end). */
static void
proc_start(struct fleet *fl, struct fvm *v)
{
	memset(&v->v_proc, 0, sizeof(v->v_proc));
	v->v_proc.fp_alive = 1;
	v->v_proc.fp_deaf = rnd(fl, 6) == 0;
	if (rnd(fl, 3) == 0) {
		v->v_proc.fp_exit_at = fl->fl_now + 1 + rnd(fl, 3000);
		v->v_proc.fp_exit_code = rnd(fl, 3);
		v->v_proc.fp_exit_sig = rnd(fl, 4) == 0 ? SIGSEGV : 0;
	}
	v->v_spawns++;
}

/* The fake driver and checks. */
static void
act(struct fleet *fl, int i, enum fsm_act a, struct fsm_event *ev,
    int *answer)
{
	struct fvm *v = &fl->fl_vm[i];

	static const char *names[] = { "LOAD", "GATE", "READY", "PKILL",
	    "SPAWN", "STOP", "SUSPEND", "KILL", "POLL" };

	memset(ev, 0, sizeof(*ev));
	*answer = 0;
	if (a != A_LOAD && a != A_SPAWN)
		note(v, names[a]);
	switch (a) {
	case A_LOAD:
		ev->fe_ev = EV_LOADED;
		ev->fe_ok = !fl->fl_db_broken;
		ev->fe_why = "database is locked";
		*answer = 1;
		break;
	case A_GATE:
		ev->fe_ev = EV_GATE;
		ev->fe_ok = v->v_gate_open;
		*answer = 1;
		break;
	case A_READY:
		v->v_probe = 1;		/* answered later */
		break;
	case A_PROBE_KILL:
		v->v_probe = 0;
		break;
	case A_SPAWN:
		note(v, "spawn");
		if (v->v_detached) {
			/* The start command runs; its answer comes later. A
			 * VM that already runs is taken over (its status). */
			if (v->v_start_pending)
				violation(fl, i, "a second start while one is "
				    "under way");
			if (v->v_f.f_want != WANT_UP)
				violation(fl, i, "spawned while not wanted up");
			if (!fl->fl_daemon || fl->fl_shutdown)
				violation(fl, i, "spawned during shutdown");
			v->v_start_pending = 1;
			v->v_start_at = fl->fl_now + 1 + rnd(fl, 800);
			v->v_start_fails = !v->v_proc.fp_alive &&
			    rnd(fl, 5) == 0;
			break;
		}
		if (v->v_proc.fp_alive)
			violation(fl, i, "spawned while its process lives");
		if (v->v_f.f_want != WANT_UP)
			violation(fl, i, "spawned while not wanted up");
		if (!fl->fl_daemon || fl->fl_shutdown)
			violation(fl, i, "spawned during shutdown");
		proc_start(fl, v);
		ev->fe_ev = EV_STARTED;
		*answer = 1;
		break;
	case A_STOP:
	case A_SUSPEND:
		if (!v->v_proc.fp_alive)
			break;
		/* Deaf to stop; a suspend ends when the memory is out. */
		if (!v->v_proc.fp_deaf || a == A_SUSPEND) {
			v->v_proc.fp_ending = 1;
			v->v_proc.fp_exit_at = fl->fl_now + 1 + rnd(fl, 1500);
			v->v_proc.fp_exit_code = 0;
			v->v_proc.fp_exit_sig = 0;
		}
		break;
	case A_KILL:
		if (v->v_proc.fp_alive) {
			v->v_proc.fp_exit_at = fl->fl_now + 1;
			v->v_proc.fp_exit_sig = SIGKILL;
		}
		break;
	case A_POLL:
		break;
	}
}

static void
feed(struct fleet *fl, int i, struct fsm_event *first)
{
	struct fvm *v = &fl->fl_vm[i];
	struct fsm_event ev = *first, next;
	struct fsm_facts fx;
	struct fsm_out out;
	size_t k;
	int answer, more, depth = 0;

	do {
		facts(fl, i, &fx);
		fsm_step(&v->v_f, &ev, &fx, &out);
		store(fl, i, &out);
		more = 0;
		for (k = 0; k < out.o_nact; k++) {
			act(fl, i, out.o_act[k], &next, &answer);
			if (answer && !more) {
				ev = next;
				more = 1;
			}
		}
	} while (more && ++depth < 64);
	if (depth >= 64)
		violation(fl, i, "did not settle");
}

/* Poke every VM until none moves (boot_settle's job). */
static void
settle(struct fleet *fl)
{
	struct fsm_event ev;
	int i, round, moved;

	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_POKE;
	for (round = 0; round < 16; round++) {
		moved = 0;
		for (i = 0; i < fl->fl_n; i++) {
			enum vm_state was = fl->fl_vm[i].v_f.f_state;
			int live = fl->fl_vm[i].v_f.f_live;
			feed(fl, i, &ev);
			moved |= was != fl->fl_vm[i].v_f.f_state ||
			    live != fl->fl_vm[i].v_f.f_live;
		}
		if (!moved)
			return;
	}
}

static void
fleet_init(struct fleet *fl, int n, unsigned seed)
{
	int i;

	memset(fl, 0, sizeof(*fl));
	fl->fl_n = n;
	fl->fl_seed = seed;
	fl->fl_now = 1000;
	fl->fl_daemon = 1;
	ratelimit_init(&fl->fl_rate, 0, 1, fl->fl_now);
	for (i = 0; i < n; i++) {
		struct fvm *v = &fl->fl_vm[i];
		vm_def_init(&v->v_def);
		snprintf(v->v_def.vd_name, sizeof(v->v_def.vd_name), "vm%d", i);
		strv_push(&v->v_def.vd_argv, "true");
		v->v_def.vd_backoff_initial_ms = 100;
		v->v_def.vd_stop_timeout_ms = 2000;
		v->v_def.vd_max_failures = 5;
		v->v_def.vd_wait_timeout_ms = 5000;
		v->v_after = -1;
		v->v_gate_open = 1;
		fsm_init(&v->v_f, VM_STOPPED, WANT_UP, 1, 0, 0);
	}
}

static void
fleet_free(struct fleet *fl)
{
	int i;

	for (i = 0; i < fl->fl_n; i++)
		vm_def_free(&fl->fl_vm[i].v_def);
}

static void
boot(struct fleet *fl)
{
	struct fsm_event ev;
	int i;

	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_BOOT;
	for (i = 0; i < fl->fl_n; i++)
		feed(fl, i, &ev);
	settle(fl);
}

/* The operator asks, as the CLI writes it. */
static void
request(struct fleet *fl, int i, const char *what)
{
	struct fsm_event ev;
	struct fvm *v = &fl->fl_vm[i];

	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_REQUEST;
	ev.fe_want = v->v_f.f_want;
	ev.fe_enabled = v->v_f.f_enabled;
	if (strcmp(what, "start") == 0 || strcmp(what, "restart") == 0) {
		ev.fe_want = WANT_UP;
		ev.fe_start = 1;
		ev.fe_restart = what[0] == 'r';
	} else if (strcmp(what, "stop") == 0)
		ev.fe_want = WANT_DOWN;
	else if (strcmp(what, "suspend") == 0)
		ev.fe_want = WANT_SUSPENDED;
	else if (strcmp(what, "reset") == 0)
		ev.fe_reset = 1;
	else if (strcmp(what, "disable") == 0)
		ev.fe_enabled = 0;
	else if (strcmp(what, "enable") == 0)
		ev.fe_enabled = 1;
	note(v, what);
	feed(fl, i, &ev);
	settle(fl);
}

/* Processes that end now are reported, as the reaper would. */
static void
reap(struct fleet *fl)
{
	struct fsm_event ev;
	int i;

	for (i = 0; i < fl->fl_n; i++) {
		struct fvm *v = &fl->fl_vm[i];
		if (!v->v_proc.fp_alive || v->v_proc.fp_exit_at == 0 ||
		    v->v_proc.fp_exit_at > fl->fl_now)
			continue;
		v->v_proc.fp_alive = 0;
		if (!fl->fl_daemon)
			continue;	/* nobody watches: found at adoption */
		memset(&ev, 0, sizeof(ev));
		ev.fe_ev = EV_EXITED;
		ev.fe_code = v->v_proc.fp_exit_sig ? -1 :
		    v->v_proc.fp_exit_code;
		ev.fe_signal = v->v_proc.fp_exit_sig;
		if (v->v_detached) {
			/* Not our child: what its status says, if anything. */
			ev.fe_code = -1;
			ev.fe_signal = 0;
			ev.fe_why = "status said something";
			if (v->v_f.f_ask == ASK_SUSPEND)
				ev.fe_status = VS_SUSPENDED;
			else
				ev.fe_status = (enum vstatus)rnd(fl, 5);
			ev.fe_unknown = ev.fe_status == VS_UNKNOWN ||
			    ev.fe_status == VS_RUNNING;
			if (ev.fe_status == VS_RUNNING)
				ev.fe_status = VS_UNKNOWN;
		}
		if (!v->v_f.f_live)
			violation(fl, i, "a process ended that it did not know");
		note(v, "exit");
		/* A suspend nobody asked of vmsched (a status said
		 * "saved"): the policy keeps it, wanted up but resting. */
		v->v_outside = v->v_detached && v->v_f.f_ask == ASK_NONE;
		feed(fl, i, &ev);
		v->v_outside = 0;
	}
	settle(fl);
}

/* The earliest deadline of anything: a timer or a process's exit. */
static int64_t
next_time(struct fleet *fl)
{
	int64_t next = 0, at;
	int i, t;

	for (i = 0; i < fl->fl_n; i++) {
		struct fvm *v = &fl->fl_vm[i];
		for (t = 0; fl->fl_daemon && t < T_NTIMERS; t++)
			if ((at = v->v_f.f_timer[t]) > 0 && (next == 0 ||
			    at < next))
				next = at;
		if (v->v_proc.fp_alive && (at = v->v_proc.fp_exit_at) > 0 &&
		    (next == 0 || at < next))
			next = at;
		if (fl->fl_daemon && v->v_start_pending &&
		    (at = v->v_start_at) > 0 && (next == 0 || at < next))
			next = at;
	}
	return next;
}

/* Detached starts whose command has answered: started, or failed. */
static void
answer_starts(struct fleet *fl)
{
	struct fsm_event ev;
	int i;

	for (i = 0; fl->fl_daemon && i < fl->fl_n; i++) {
		struct fvm *v = &fl->fl_vm[i];
		if (!v->v_start_pending || v->v_start_at > fl->fl_now)
			continue;
		v->v_start_pending = 0;
		memset(&ev, 0, sizeof(ev));
		if (v->v_start_fails) {
			ev.fe_ev = EV_START_FAILED;
			ev.fe_why = "start command exited 1: no such VM";
			note(v, "start-failed");
		} else {
			if (!v->v_proc.fp_alive)
				proc_start(fl, v);
			else
				note(v, "taken-over");
			ev.fe_ev = EV_STARTED;
			note(v, "started");
		}
		feed(fl, i, &ev);
	}
	settle(fl);
}

/* Move the clock to the next deadline and fire what is due. */
static int
advance(struct fleet *fl)
{
	struct fsm_event ev;
	int64_t next = next_time(fl);
	int i, t;

	if (next == 0)
		return 0;
	if (next > fl->fl_now)
		fl->fl_now = next;
	reap(fl);
	answer_starts(fl);
	for (i = 0; fl->fl_daemon && i < fl->fl_n; i++)
		for (t = 0; t < T_NTIMERS; t++)
			if (fl->fl_vm[i].v_f.f_timer[t] > 0 &&
			    fl->fl_vm[i].v_f.f_timer[t] <= fl->fl_now) {
				memset(&ev, 0, sizeof(ev));
				ev.fe_ev = (enum fsm_ev)(EV_TIMER + t);
				feed(fl, i, &ev);
			}
	settle(fl);
	return 1;
}

/* The daemon dies (SIGKILL): its memory goes, the processes stay. */
static void
crash(struct fleet *fl)
{
	int i;

	fl->fl_daemon = 0;
	fl->fl_shutdown = 0;
	/* A detached start under way goes on without the daemon. */
	for (i = 0; i < fl->fl_n; i++) {
		struct fvm *v = &fl->fl_vm[i];
		if (!v->v_start_pending)
			continue;
		v->v_start_pending = 0;
		if (!v->v_start_fails && !v->v_proc.fp_alive)
			proc_start(fl, v);
	}
}

/* SIGTERM: nothing starts, the VMs stop, last first. */
static void
stop_daemon(struct fleet *fl)
{
	struct fsm_event ev;
	int i;

	fl->fl_shutdown = 1;
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_SHUTDOWN;
	for (i = 0; i < fl->fl_n; i++)
		feed(fl, i, &ev);
	settle(fl);
}

/* A new daemon starts from the store: adopt, then boot. */
static void
restart_daemon(struct fleet *fl)
{
	struct fsm_event ev;
	int i;

	fl->fl_daemon = 1;
	for (i = 0; i < fl->fl_n; i++) {
		struct fvm *v = &fl->fl_vm[i];
		enum vm_want w = v->v_f.f_want;	/* desired, as stored */
		int enabled = v->v_f.f_enabled;

		note(v, "daemon-restart");
		v->v_probe = 0;
		fsm_init(&v->v_f, v->v_st_state, w, enabled, v->v_st_failures,
		    v->v_st_restarts);
		v->v_f.f_kick = v->v_st_owed && w == WANT_UP;
		if (!v->v_run_open && v->v_detached &&
		    v->v_st_state == VM_STARTING && v->v_proc.fp_alive) {
			/* Its status says it runs: taken over (drv_takeover). */
			memset(&ev, 0, sizeof(ev));
			ev.fe_ev = EV_ADOPT;
			ev.fe_was = VM_UP;
			ev.fe_ok = 1;
			ev.fe_unrecorded = 1;
			note(v, "takeover");
			feed(fl, i, &ev);
			continue;
		}
		if (!v->v_run_open)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.fe_ev = EV_ADOPT;
		ev.fe_was = v->v_st_state;
		ev.fe_ok = v->v_proc.fp_alive;
		feed(fl, i, &ev);
	}
	boot(fl);
}

/* Deliver a ready check's answer that was waited for. */
static void
answer_ready(struct fleet *fl, int i, int ok)
{
	struct fsm_event ev;

	if (!fl->fl_vm[i].v_probe)
		return;
	fl->fl_vm[i].v_probe = 0;
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_READY;
	ev.fe_ok = ok;
	feed(fl, i, &ev);
	settle(fl);
}

/* The invariants that hold after every step. */
static void
check_always(struct fleet *fl)
{
	int i;

	if (!fl->fl_daemon)
		return;
	for (i = 0; i < fl->fl_n; i++) {
		struct fvm *v = &fl->fl_vm[i];
		if (v->v_f.f_live != v->v_run_open)
			violation(fl, i, "a process without an open run, or "
			    "the reverse");
		/* (A detached start's answer, or the status a start asks
		 * first, is about to say it runs.) */
		if (v->v_proc.fp_alive && !v->v_f.f_live &&
		    !(v->v_detached && v->v_f.f_state == VM_STARTING))
			violation(fl, i, "a live process nobody watches");
		if (v->v_start_pending && v->v_f.f_state != VM_STARTING)
			violation(fl, i, "a start under way the machine forgot");
		if (v->v_f.f_want != WANT_UP && v->v_f.f_kick)
			violation(fl, i, "a start owed while not wanted up");
	}
}

/*
 * Let everything play out with well-behaved processes and no more
 * requests; then every VM must agree with what is wanted.
 */
static void
check_settled(struct fleet *fl)
{
	int i, steps;

	fl->fl_db_broken = 0;
	for (i = 0; i < fl->fl_n; i++) {
		fl->fl_vm[i].v_gate_open = 1;
		fl->fl_vm[i].v_def.vd_ready_tcp = NULL;
	}
	for (steps = 0; steps < 2000; steps++) {
		for (i = 0; i < fl->fl_n; i++)
			answer_ready(fl, i, 1);
		/* Processes that start now stay up. */
		for (i = 0; i < fl->fl_n; i++)
			if (fl->fl_vm[i].v_proc.fp_alive &&
			    !fl->fl_vm[i].v_proc.fp_ending &&
			    fl->fl_vm[i].v_proc.fp_exit_sig != SIGKILL)
				fl->fl_vm[i].v_proc.fp_exit_at = 0;
		if (!advance(fl))
			break;
		check_always(fl);
	}
	for (i = 0; i < fl->fl_n; i++) {
		struct fvm *v = &fl->fl_vm[i];
		if (!fsm_agrees(v->v_f.f_state, v->v_f.f_want))
			violation(fl, i, "does not agree with what is wanted");
		if (v->v_f.f_state == VM_STOPPING ||
		    v->v_f.f_state == VM_SUSPENDING)
			violation(fl, i, "left stopping or suspending");
		if (v->v_f.f_kick && v->v_f.f_state != VM_BLOCKED)
			violation(fl, i, "a start still owed");
		if (v->v_f.f_want == WANT_UP && v->v_f.f_state == VM_UP &&
		    !v->v_proc.fp_alive)
			violation(fl, i, "up without a process");
		/* Wanted up and in boot, its last run ended because someone
		 * asked (stop, suspend, a shutdown): a start was lost. */
		if (v->v_f.f_want == WANT_UP && v->v_f.f_enabled &&
		    v->v_asked_end && (v->v_f.f_state == VM_STOPPED ||
		    v->v_f.f_state == VM_SUSPENDED))
			violation(fl, i, "ended on request, wanted up, not "
			    "started again");
	}
}

/* --- named cases (issue 9) ---------------------------------------- */

static struct fleet fl;

/* Processes of the named cases run until told otherwise. */
static void
calm(struct fleet *f)
{
	int i;

	for (i = 0; i < f->fl_n; i++) {
		f->fl_vm[i].v_proc.fp_exit_at = 0;
		f->fl_vm[i].v_proc.fp_deaf = 0;
	}
}

START_TEST(case1_stop_while_restarting_stays_stopped)
{
	fleet_init(&fl, 1, 1);
	boot(&fl);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_UP);
	calm(&fl);
	request(&fl, 0, "restart");
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPING);
	request(&fl, 0, "stop");
	while (advance(&fl))
		;
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPED);
	ck_assert_int_eq(fl.fl_vm[0].v_spawns, 1);
	ck_assert_int_eq(fl.fl_violations, 0);
	fleet_free(&fl);
}
END_TEST

START_TEST(case2_start_while_stopping_starts)
{
	fleet_init(&fl, 1, 2);
	boot(&fl);
	calm(&fl);
	fl.fl_vm[0].v_proc.fp_deaf = 1;	/* takes its time */
	request(&fl, 0, "stop");
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPING);
	request(&fl, 0, "start");
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPING);
	fl.fl_vm[0].v_proc.fp_exit_at = fl.fl_now + 500;
	advance(&fl);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_UP);
	ck_assert_int_eq(fl.fl_vm[0].v_spawns, 2);
	ck_assert_int_eq(fl.fl_violations, 0);
	fleet_free(&fl);
}
END_TEST

START_TEST(case3_stop_in_flight_survives_a_daemon_crash)
{
	const char *how[] = { "stop", "suspend" };
	enum vm_state end[] = { VM_STOPPED, VM_SUSPENDED };
	int k;

	for (k = 0; k < 2; k++) {
		fleet_init(&fl, 1, 3);
		fl.fl_vm[0].v_def.vd_restart = RESTART_ALWAYS;
		boot(&fl);
		calm(&fl);
		fl.fl_vm[0].v_proc.fp_deaf = 1;	/* still running at the crash */
		request(&fl, 0, how[k]);
		crash(&fl);
		fl.fl_vm[0].v_proc.fp_exit_at = fl.fl_now + 10;
		advance(&fl);
		ck_assert(!fl.fl_vm[0].v_proc.fp_alive);
		restart_daemon(&fl);
		while (advance(&fl))
			;
		ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, end[k]);
		ck_assert_int_eq(fl.fl_vm[0].v_spawns, 1);
		ck_assert_int_eq(fl.fl_violations, 0);
		fleet_free(&fl);
	}
}
END_TEST

START_TEST(shutdown_cut_short_by_a_crash_brings_it_back)
{
	/* Chaos finding: the next daemon finished the dead one's shutdown
	 * stop and left the VM stopped, though wanted up. */
	fleet_init(&fl, 1, 6);
	boot(&fl);
	calm(&fl);
	fl.fl_vm[0].v_proc.fp_deaf = 1;
	stop_daemon(&fl);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPING);
	crash(&fl);
	restart_daemon(&fl);
	while (advance(&fl))
		;
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_UP);
	ck_assert_int_eq(fl.fl_vm[0].v_spawns, 2);
	ck_assert_int_eq(fl.fl_violations, 0);
	fleet_free(&fl);
}
END_TEST

START_TEST(case4_restart_after_a_crash_waits_for_its_dependency)
{
	fleet_init(&fl, 2, 4);
	fl.fl_vm[0].v_def.vd_up_delay_ms = 1500;
	fl.fl_vm[1].v_after = 0;
	boot(&fl);
	calm(&fl);
	while (fl.fl_vm[1].v_f.f_state != VM_UP && advance(&fl))
		;
	ck_assert_int_eq(fl.fl_vm[1].v_f.f_state, VM_UP);
	crash(&fl);
	fl.fl_vm[0].v_proc.fp_alive = 0;
	fl.fl_vm[1].v_proc.fp_alive = 0;
	restart_daemon(&fl);
	/* Both closed as adopted-unknown and backing off; the dependent's
	 * backoff ends first, but it waits for vm0 to be up. */
	while (advance(&fl)) {
		if (fl.fl_vm[1].v_proc.fp_alive)
			ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_UP);
		if (fl.fl_vm[1].v_f.f_state == VM_UP)
			break;
	}
	ck_assert_int_eq(fl.fl_vm[1].v_f.f_state, VM_UP);
	ck_assert_int_eq(fl.fl_violations, 0);
	fleet_free(&fl);
}
END_TEST

START_TEST(case7_removed_while_waiting_never_starts)
{
	struct fsm_event ev;

	fleet_init(&fl, 1, 7);
	fl.fl_vm[0].v_gate_open = 0;
	vm_def_add_gate(&fl.fl_vm[0].v_def, GATE_PATH, "/nonexistent");
	boot(&fl);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_WAITING);
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_REMOVED;
	feed(&fl, 0, &ev);
	fl.fl_vm[0].v_gate_open = 1;
	while (advance(&fl))
		;
	ck_assert_int_eq(fl.fl_vm[0].v_spawns, 0);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPED);
	fleet_free(&fl);
}
END_TEST

START_TEST(case9_load_failure_backs_off_and_retries)
{
	fleet_init(&fl, 1, 9);
	fl.fl_db_broken = 1;
	boot(&fl);
	/* No spin: a retry timer, not another load in the same pass. */
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_BACKOFF);
	ck_assert(fl.fl_vm[0].v_f.f_timer[T_RESTART] > fl.fl_now);
	fl.fl_db_broken = 0;
	advance(&fl);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_UP);
	fleet_free(&fl);
}
END_TEST

START_TEST(case9_late_ready_answer_leaves_the_backoff)
{
	fleet_init(&fl, 1, 19);
	fl.fl_vm[0].v_def.vd_ready_tcp = (char *)(uintptr_t)"127.0.0.1:1";
	boot(&fl);
	calm(&fl);
	advance(&fl);		/* up-delay 0: the ready check runs */
	ck_assert(fl.fl_vm[0].v_probe);
	fl.fl_vm[0].v_proc.fp_exit_at = fl.fl_now;
	fl.fl_vm[0].v_proc.fp_exit_code = 1;
	reap(&fl);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_BACKOFF);
	fl.fl_vm[0].v_probe = 1;	/* its answer arrives after all */
	answer_ready(&fl, 0, 1);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_BACKOFF);
	ck_assert(fl.fl_vm[0].v_f.f_timer[T_RESTART] != 0);
	fl.fl_vm[0].v_def.vd_ready_tcp = NULL;
	fleet_free(&fl);
}
END_TEST

START_TEST(case9_adopted_stop_kills_at_its_timeout_not_at_a_poll)
{
	struct fsm_event ev;
	struct fsm_facts fx;
	struct fsm_out out;
	struct fsm f;
	struct vm_def vd;
	size_t k;
	int killed_at = -1, t;

	vm_def_init(&vd);
	vd.vd_stop_timeout_ms = 5000;
	fsm_init(&f, VM_STOPPED, WANT_DOWN, 1, 0, 0);
	memset(&fx, 0, sizeof(fx));
	fx.fx_def = &vd;
	fx.fx_turn = fx.fx_slot = fx.fx_deps = 1;
	fx.fx_poll_ms = 1000;	/* no pidfd: polled */
	fx.fx_now = 100;
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_ADOPT;
	ev.fe_was = VM_STOPPING;
	ev.fe_ok = 1;
	fsm_step(&f, &ev, &fx, &out);
	ck_assert_int_eq(f.f_state, VM_STOPPING);
	for (t = 1; t <= 6; t++) {
		fx.fx_now = 100 + t * 1000;
		memset(&ev, 0, sizeof(ev));
		ev.fe_ev = EV_TIMER + T_LIVE;
		fsm_step(&f, &ev, &fx, &out);
		for (k = 0; k < out.o_nact; k++)
			ck_assert_int_ne(out.o_act[k], A_KILL);
		if (f.f_timer[T_KILL] != 0 && f.f_timer[T_KILL] <= fx.fx_now) {
			ev.fe_ev = EV_TIMER + T_KILL;
			fsm_step(&f, &ev, &fx, &out);
			for (k = 0; k < out.o_nact; k++)
				if (out.o_act[k] == A_KILL)
					killed_at = t;
		}
	}
	ck_assert_int_eq(killed_at, 5);
	vm_def_free(&vd);
}
END_TEST

/* --- issue 12: detached VMs --------------------------------------- */

/* One detached VM, booted: its start command runs. */
static void
detached_boot(struct fleet *f, unsigned seed)
{
	fleet_init(f, 1, seed);
	f->fl_vm[0].v_detached = 1;
	boot(f);
	ck_assert_int_eq(f->fl_vm[0].v_f.f_state, VM_STARTING);
	ck_assert(f->fl_vm[0].v_start_pending);
}

/* Run the clock until vm0's start command has answered: it started. */
static void
until_started(struct fleet *f)
{
	f->fl_vm[0].v_start_fails = 0;
	while (f->fl_vm[0].v_start_pending && advance(f))
		;
}

START_TEST(detached_start_is_answered_later)
{
	detached_boot(&fl, 21);
	until_started(&fl);
	calm(&fl);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_UP);
	ck_assert_int_eq(fl.fl_vm[0].v_spawns, 1);
	ck_assert_int_eq(fl.fl_violations, 0);
	fleet_free(&fl);
}
END_TEST

START_TEST(detached_restart_while_starting_restarts_once_started)
{
	detached_boot(&fl, 22);
	request(&fl, 0, "restart");
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STARTING);
	until_started(&fl);
	calm(&fl);
	/* What started is not what the restart asked for: it stops ... */
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPING);
	fl.fl_vm[0].v_proc.fp_exit_at = fl.fl_now + 10;
	advance(&fl);
	/* ... and starts again. */
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STARTING);
	until_started(&fl);
	calm(&fl);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_UP);
	ck_assert_int_eq(fl.fl_vm[0].v_spawns, 2);
	ck_assert_int_eq(fl.fl_violations, 0);
	fleet_free(&fl);
}
END_TEST

START_TEST(detached_stop_while_starting_stops_once_started)
{
	detached_boot(&fl, 23);
	request(&fl, 0, "stop");
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STARTING);
	until_started(&fl);
	calm(&fl);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPING);
	while (advance(&fl))
		;
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPED);
	ck_assert_int_eq(fl.fl_vm[0].v_spawns, 1);
	ck_assert_int_eq(fl.fl_violations, 0);
	fleet_free(&fl);
}
END_TEST

START_TEST(detached_start_under_way_survives_a_daemon_crash)
{
	detached_boot(&fl, 24);
	fl.fl_vm[0].v_start_fails = 0;
	crash(&fl);
	ck_assert(fl.fl_vm[0].v_proc.fp_alive);	/* it started anyway */
	calm(&fl);
	fl.fl_vm[0].v_f.f_want = WANT_DOWN;	/* `stop` meanwhile */
	restart_daemon(&fl);
	while (advance(&fl))
		;
	/* Taken over and stopped: never a second copy. */
	ck_assert(!fl.fl_vm[0].v_proc.fp_alive);
	ck_assert_int_eq(fl.fl_vm[0].v_f.f_state, VM_STOPPED);
	ck_assert_int_eq(fl.fl_vm[0].v_spawns, 1);
	ck_assert_int_eq(fl.fl_violations, 0);
	fleet_free(&fl);
}
END_TEST

/* One detached VM's state machine, fed by hand. */
static enum vm_state
ended_by_status(enum restart_policy rp, enum vstatus st, int asked,
    struct fsm_record *last)
{
	struct fsm_event ev;
	struct fsm_facts fx;
	struct fsm_out out;
	struct fsm f;
	struct vm_def vd;

	vm_def_init(&vd);
	vd.vd_restart = rp;
	fsm_init(&f, VM_STOPPED, WANT_UP, 1, 0, 0);
	memset(&fx, 0, sizeof(fx));
	fx.fx_def = &vd;
	fx.fx_turn = fx.fx_slot = fx.fx_deps = 1;
	fx.fx_now = 1000;
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_BOOT;
	fsm_step(&f, &ev, &fx, &out);		/* waiting: load */
	ev.fe_ev = EV_LOADED;
	ev.fe_ok = 1;
	fsm_step(&f, &ev, &fx, &out);		/* starting: spawn */
	ck_assert_int_eq(f.f_state, VM_STARTING);
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_STARTED;
	ev.fe_why = "already running: taken over";
	fsm_step(&f, &ev, &fx, &out);
	ck_assert_int_eq(out.o_rec[0].r_run, FSM_RUN_OPEN);
	ck_assert_str_eq(out.o_rec[0].r_detail, "already running: taken over");
	fx.fx_now = 5000;
	if (asked) {
		memset(&ev, 0, sizeof(ev));
		ev.fe_ev = EV_REQUEST;
		ev.fe_want = WANT_SUSPENDED;
		ev.fe_enabled = 1;
		fsm_step(&f, &ev, &fx, &out);
		ck_assert_int_eq(f.f_state, VM_SUSPENDING);
	}
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_EXITED;
	ev.fe_code = -1;
	ev.fe_status = st;
	ev.fe_unknown = st == VS_UNKNOWN;
	ev.fe_why = "status said \"shut off (x)\"";
	fsm_step(&f, &ev, &fx, &out);
	ck_assert_int_ge(out.o_nrec, 1);
	*last = out.o_rec[0];
	ck_assert_int_eq(last->r_run, FSM_RUN_CLOSE);
	ck_assert_ptr_nonnull(strstr(last->r_detail, "shut off (x)"));
	vm_def_free(&vd);
	return f.f_state;
}

START_TEST(detached_end_takes_the_reason_the_status_gave)
{
	struct fsm_record r;

	/* crashed: a failure, backed off */
	ck_assert_int_eq(ended_by_status(RESTART_ON_FAILURE, VS_CRASHED, 0,
	    &r), VM_BACKOFF);
	ck_assert_int_eq(r.r_reason, RUN_CRASHED);
	ck_assert_int_eq(r.r_failures, 1);
	ck_assert_ptr_nonnull(strstr(r.r_d.d_rule, "shut off (x)\" is a "
	    "failure"));
	/* stopped (its guest shut it down): success for on-failure ... */
	ck_assert_int_eq(ended_by_status(RESTART_ON_FAILURE, VS_STOPPED, 0,
	    &r), VM_STOPPED);
	ck_assert_int_eq(r.r_reason, RUN_EXITED);
	ck_assert_int_eq(r.r_failures, 0);
	/* ... restarted by always */
	ck_assert_int_eq(ended_by_status(RESTART_ALWAYS, VS_STOPPED, 0, &r),
	    VM_BACKOFF);
	/* saved by someone else: kept as it is, never restarted */
	ck_assert_int_eq(ended_by_status(RESTART_ALWAYS, VS_SUSPENDED, 0,
	    &r), VM_STOPPED);
	ck_assert_int_eq(r.r_reason, RUN_SUSPENDED);
	ck_assert_ptr_nonnull(strstr(r.r_d.d_rule, "suspended outside "
	    "vmsched"));
	/* saved because vmsched asked: suspended */
	ck_assert_int_eq(ended_by_status(RESTART_ALWAYS, VS_SUSPENDED, 1,
	    &r), VM_SUSPENDED);
	ck_assert_int_eq(r.r_reason, RUN_SUSPENDED);
	/* nothing known (its pid ended, no status): a failure */
	ck_assert_int_eq(ended_by_status(RESTART_ON_FAILURE, VS_UNKNOWN, 0,
	    &r), VM_BACKOFF);
	ck_assert_int_eq(r.r_reason, RUN_ADOPTED);
}
END_TEST

START_TEST(agreement_table)
{
	ck_assert(fsm_agrees(VM_UP, WANT_UP));
	ck_assert(fsm_agrees(VM_BACKOFF, WANT_UP));
	ck_assert(!fsm_agrees(VM_UP, WANT_DOWN));
	ck_assert(fsm_agrees(VM_SUSPENDED, WANT_DOWN));
	ck_assert(fsm_agrees(VM_STOPPED, WANT_SUSPENDED));
	ck_assert(!fsm_agrees(VM_RUNNING, WANT_SUSPENDED));
	ck_assert(!fsm_agrees(VM_STOPPING, WANT_DOWN));
}
END_TEST

/* --- the model ----------------------------------------------------- */

static const char *const requests[] = {
	"start", "stop", "suspend", "restart", "reset", "disable", "enable",
};

/* One random sequence from seed; 0 if every invariant held. */
static int
sequence(unsigned seed, char *why, size_t len)
{
	int step, i, n, rc;

	fleet_init(&fl, 1 + (int)(seed % NVM), seed);
	for (i = 1; i < fl.fl_n; i++)
		if (rnd(&fl, 2))
			fl.fl_vm[i].v_after = (int)rnd(&fl, (unsigned)i);
	for (i = 0; i < fl.fl_n; i++) {
		if (rnd(&fl, 4) == 0) {
			vm_def_add_gate(&fl.fl_vm[i].v_def, GATE_PATH, "/g");
			fl.fl_vm[i].v_gate_open = rnd(&fl, 2);
		}
		if (rnd(&fl, 5) == 0)
			fl.fl_vm[i].v_def.vd_ready_tcp =
			    (char *)(uintptr_t)"127.0.0.1:1";
		if (rnd(&fl, 3) == 0)
			fl.fl_vm[i].v_def.vd_restart = RESTART_ALWAYS;
		fl.fl_vm[i].v_def.vd_up_delay_ms = rnd(&fl, 2) ? 0 : 300;
		fl.fl_vm[i].v_detached = rnd(&fl, 3) == 0;
	}
	boot(&fl);
	n = 50 + (int)rnd(&fl, 150);
	for (step = 0; step < n && fl.fl_violations == 0; step++) {
		i = (int)rnd(&fl, (unsigned)fl.fl_n);
		switch (rnd(&fl, 12)) {
		case 0: case 1: case 2:
			if (fl.fl_daemon)
				request(&fl, i, requests[rnd(&fl, 7)]);
			break;
		case 3:	/* it ends by itself */
			if (fl.fl_vm[i].v_proc.fp_alive) {
				fl.fl_vm[i].v_proc.fp_exit_at = fl.fl_now;
				fl.fl_vm[i].v_proc.fp_exit_code = rnd(&fl, 2);
				fl.fl_vm[i].v_proc.fp_exit_sig = rnd(&fl, 2) ?
				    SIGSEGV : 0;
				reap(&fl);
			}
			break;
		case 4:
			fl.fl_vm[i].v_gate_open = !fl.fl_vm[i].v_gate_open;
			break;
		case 5:
			fl.fl_db_broken = rnd(&fl, 3) == 0;
			break;
		case 6:
			if (fl.fl_daemon && !fl.fl_shutdown && rnd(&fl, 4) == 0)
				stop_daemon(&fl);	/* then killed, below */
			else if (fl.fl_daemon && rnd(&fl, 3) == 0)
				crash(&fl);
			else if (!fl.fl_daemon)
				restart_daemon(&fl);
			break;
		case 7:
			if (fl.fl_daemon)
				answer_ready(&fl, i, (int)rnd(&fl, 2));
			break;
		default:
			advance(&fl);
			break;
		}
		/* A shutdown is cut short by a SIGKILL a few steps on. */
		if (fl.fl_shutdown && rnd(&fl, 3) == 0)
			crash(&fl);
		if (!fl.fl_daemon && rnd(&fl, 2))
			restart_daemon(&fl);
		check_always(&fl);
	}
	/* A shutdown under way ends, and a new daemon boots. */
	if (fl.fl_daemon && fl.fl_shutdown) {
		while (advance(&fl))
			;
		crash(&fl);
	}
	if (!fl.fl_daemon)
		restart_daemon(&fl);
	if (fl.fl_violations == 0)
		check_settled(&fl);
	rc = fl.fl_violations;
	if (rc)
		snprintf(why, len, "%s", fl.fl_why);
	for (i = 0; i < fl.fl_n; i++)
		fl.fl_vm[i].v_def.vd_ready_tcp = NULL;
	fleet_free(&fl);
	return rc;
}

START_TEST(model_random_sequences)
{
	const char *env = getenv("FSM_SEED");
	char why[8192];
	unsigned base, k, count;

	if (env != NULL) {
		base = (unsigned)strtoul(env, NULL, 10);
		count = 1;
	} else {
		base = 20261201;
		count = 20000;
	}
	for (k = 0; k < count; k++)
		if (sequence(base + k, why, sizeof(why)) != 0)
			ck_abort_msg("FSM_SEED=%u: %s", base + k, why);
}
END_TEST

/* The model's checks can fail: a spawn of an up VM is caught. */
START_TEST(model_catches_a_second_spawn)
{
	struct fsm_event ev;
	int answer;

	fleet_init(&fl, 1, 5);
	boot(&fl);
	act(&fl, 0, A_SPAWN, &ev, &answer);
	ck_assert_int_gt(fl.fl_violations, 0);
	fleet_free(&fl);
}
END_TEST

static Suite *
fsm_suite(void)
{
	Suite *s = suite_create("fsm");
	TCase *tc = tcase_create("cases");
	TCase *tm = tcase_create("model");

	tcase_add_test(tc, case1_stop_while_restarting_stays_stopped);
	tcase_add_test(tc, case2_start_while_stopping_starts);
	tcase_add_test(tc, case3_stop_in_flight_survives_a_daemon_crash);
	tcase_add_test(tc, case4_restart_after_a_crash_waits_for_its_dependency);
	tcase_add_test(tc, shutdown_cut_short_by_a_crash_brings_it_back);
	tcase_add_test(tc, case7_removed_while_waiting_never_starts);
	tcase_add_test(tc, case9_load_failure_backs_off_and_retries);
	tcase_add_test(tc, case9_late_ready_answer_leaves_the_backoff);
	tcase_add_test(tc, case9_adopted_stop_kills_at_its_timeout_not_at_a_poll);
	tcase_add_test(tc, agreement_table);
	tcase_add_test(tc, detached_start_is_answered_later);
	tcase_add_test(tc, detached_restart_while_starting_restarts_once_started);
	tcase_add_test(tc, detached_stop_while_starting_stops_once_started);
	tcase_add_test(tc, detached_start_under_way_survives_a_daemon_crash);
	tcase_add_test(tc, detached_end_takes_the_reason_the_status_gave);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tm, 120);
	tcase_add_test(tm, model_random_sequences);
	tcase_add_test(tm, model_catches_a_second_spawn);
	suite_add_tcase(s, tm);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fsm_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

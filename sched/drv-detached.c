/*
 * drv-detached.c: the detached driver (issue 12). `vmrun start X.vmx
 * nogui`, `virsh start`, `VBoxManage startvm --type headless` and a
 * daemonized QEMU return once the VM runs; the VM lives on in a process
 * that is not the daemon's child. This driver starts such a VM with its
 * start command (vd_argv) and knows it through a pid file (the VM's pid,
 * watched like an adopted process: a pidfd, its start time checked), a
 * status command run every --status-interval whose answer its status map
 * turns into running, stopped, suspended or crashed (status.c), or both.
 * It stops, kills, suspends and resumes the VM with commands, or with
 * signals to the pid when it has no command for it.
 *
 * Every command is a job (job.c): it runs as the VM's user, never blocks
 * the loop, and its answer comes later, which this file turns into the
 * state machine's events. A start goes: the status first, when there is
 * one (a VM that already runs is taken over, never started twice; one
 * that is suspended is resumed), then the start or resume command (a
 * non-zero exit is a failed start, with the last line it wrote), then the
 * pid file (read by `vmsched probe pidfile` as the VM's user, tried for a
 * few seconds; its pid must run as the user who controls the file's path,
 * or anyone's when only root does), then EV_STARTED. A VM found gone (its
 * pid ended, or the status says so) ends its run with the reason the
 * status gave: "shut off (crashed)" is a crash, "saved" a suspend. After
 * --stop-timeout: the kill command, or SIGTERM to the pid and SIGKILL
 * KILL_GRACE_MS later. A run it watches by status alone has no pid; one
 * that was being started when the last daemon died is found by its status
 * (or pid file) at start-up and taken over (drv_takeover).
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched.h"

#define POLL_MS		1000	/* a pid without a pidfd is looked at */
#define PID_TRY_MS	250	/* between reads of a pid file not there yet */
#define PID_TRIES	20	/* ... this many */
#define KILL_GRACE_MS	5000	/* SIGTERM, then SIGKILL after this */
#define GONE_TRY_MS	250	/* its pid ended, the status still says it
				   runs: the hypervisor has not seen it yet */
#define GONE_TRIES	20	/* ... asked again this often, then unknown */

/* What a job runs for. */
enum det_kind {
	DK_PRECHECK = 1,	/* the status before a start */
	DK_START,
	DK_RESUME,
	DK_PIDFILE,
	DK_STOP,
	DK_SUSPEND,
	DK_KILL,
	DK_POLL,		/* the status, to see whether it lives */
	DK_TAKEOVER,		/* start-up: the status, whether it runs */
};

static const char *const kind_names[] = {
	[DK_PRECHECK] = "status command", [DK_START] = "start command",
	[DK_RESUME] = "resume command", [DK_PIDFILE] = "pid file reader",
	[DK_STOP] = "stop command", [DK_SUSPEND] = "suspend command",
	[DK_KILL] = "kill command", [DK_POLL] = "status command",
	[DK_TAKEOVER] = "status command",
};

static int
has(const struct vm *v, enum vm_cmd c)
{
	return v->v_def.vd_cmd[c].sv_n > 0;
}

static char *const *
argv_of(const struct vm *v, enum vm_cmd c)
{
	return v->v_def.vd_cmd[c].sv_v;
}

static int
live_pid(const struct vm *v)
{
	return v->v_proc.p_pid > 0;
}

/* The answers, fed to the state machine. */

static void
feed_started(struct sched *s, struct vm *v)
{
	struct fsm_event ev;

	v->v_run_wall = now_ms();
	snprintf(v->v_boot_id, sizeof(v->v_boot_id), "%s", s->s_boot_id);
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_STARTED;
	ev.fe_why = v->v_det.d_detail[0] ? v->v_det.d_detail : NULL;
	if (live_pid(v))
		log_debug("%s: started, pid %ld", v->v_name,
		    (long)v->v_proc.p_pid);
	else
		log_debug("%s: started", v->v_name);
	vm_feed(s, v, &ev);
}

static void
feed_failed(struct sched *s, struct vm *v, const char *why)
{
	struct fsm_event ev;

	log_warnx("%s: cannot start: %s", v->v_name, why);
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_START_FAILED;
	ev.fe_why = why;
	vm_feed(s, v, &ev);
}

/* It is gone: st says how (VS_UNKNOWN: nobody knows), d_why in words. */
static void
feed_gone(struct sched *s, struct vm *v, enum vstatus st)
{
	struct fsm_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_EXITED;
	ev.fe_code = -1;
	ev.fe_status = st;
	ev.fe_unknown = st == VS_UNKNOWN;
	ev.fe_why = v->v_det.d_why;
	vm_feed(s, v, &ev);
}

/* What the status job j says; its words into what. */
static enum vstatus
status_of(const struct vm *v, const struct cmdjob *j, char *what, size_t len)
{
	char line[256];
	enum vstatus st;

	st = status_decide(&v->v_def.vd_status_map, job_code(j),
	    j->j_buf ? j->j_buf : "", j->j_len, line, sizeof(line));
	if (j->j_timed_out)
		snprintf(what, len, "timed out");
	else if (line[0] == '\0' && st == VS_UNKNOWN)
		exec_status_text(j->j_status, what, len);
	else
		snprintf(what, len, "%s", line);
	return st;
}

/* The steps of a start. */

static int
run(struct sched *s, struct vm *v, enum job_slot slot, enum det_kind kind,
    char *const *argv, int capture, char *why, size_t len)
{
	log_debug("%s: running its %s", v->v_name, kind_names[kind]);
	return job_run(s, v, slot, kind, argv, capture, why, len);
}

/* The start command, or the resume command for a VM suspended (paused). */
static int
start_cmd(struct sched *s, struct vm *v, int resume, char *why, size_t len)
{
	int rc;

	v->v_det.d_resume = resume;
	if (resume && has(v, CMD_RESUME)) {
		snprintf(v->v_det.d_detail, sizeof(v->v_det.d_detail),
		    "resumed (resume command)");
		rc = run(s, v, JS_CTL, DK_RESUME, argv_of(v, CMD_RESUME), 0,
		    why, len);
	} else {
		if (resume)
			snprintf(v->v_det.d_detail, sizeof(v->v_det.d_detail),
			    "resumed (start command, after a suspend)");
		rc = run(s, v, JS_CTL, DK_START, v->v_def.vd_argv.sv_v, 0, why,
		    len);
	}
	return rc;
}

static void
read_pid_file(struct sched *s, struct vm *v)
{
	char *argv[5], why[512];

	argv[0] = (char *)(uintptr_t)"vmsched";
	argv[1] = (char *)(uintptr_t)"probe";
	argv[2] = (char *)(uintptr_t)"pidfile";
	argv[3] = v->v_def.vd_pid_file;
	argv[4] = NULL;
	v->v_det.d_pid_tries++;
	if (run(s, v, JS_CTL, DK_PIDFILE, argv, 1, why, sizeof(why)) == -1) {
		if (v->v_det.d_takeover)
			v->v_det.d_takeover = 0;
		else
			feed_failed(s, v, why);
	}
}

/* Started (the command said so, or it already ran): its pid, if any. */
static void
launched(struct sched *s, struct vm *v)
{
	if (v->v_def.vd_pid_file != NULL) {
		v->v_det.d_pid_tries = 0;
		read_pid_file(s, v);
	} else
		feed_started(s, v);
}

/*
 * Whether the process pid may be taken for v: it runs, and as the user
 * who controls the pid file's path, unless only root (the daemon) does.
 * 0 with its start time, or -1 with why.
 */
static int
pid_ok(const struct vm *v, pid_t pid, int64_t *start, char *why, size_t len)
{
	const char *path = v->v_def.vd_pid_file;
	struct passwd *pw;
	char real[PATH_MAX], tw[512];
	uid_t self = geteuid(), who, vmuid = self, uid;

	if (v->v_def.vd_user != NULL && (pw = getpwnam(v->v_def.vd_user)) !=
	    NULL)
		vmuid = pw->pw_uid;
	if (trust_path(path, self, real, sizeof(real), &who, tw,
	    sizeof(tw)) == -1) {
		snprintf(why, len, "pid file %s", tw);
		return -1;
	}
	if (who != self && who != vmuid) {
		snprintf(why, len, "pid file %s: its path is controlled by "
		    "uid %ld, who is not the VM's user", path, (long)who);
		return -1;
	}
	if (proc_start_time(pid, start) == -1 || proc_uid(pid, &uid) == -1) {
		snprintf(why, len, "pid file %s: pid %ld: no such process",
		    path, (long)pid);
		return -1;
	}
	if (who != self && uid != vmuid) {
		snprintf(why, len, "pid file %s: pid %ld runs as uid %ld, not "
		    "as the VM's user", path, (long)pid, (long)uid);
		return -1;
	}
	return 0;
}

/* The pid the helper read, taken and watched; 0, or -1 with why. */
static int
take_pid(struct vm *v, const struct cmdjob *j, char *why, size_t len)
{
	char buf[32];
	char *end;
	long pid;
	int64_t start;

	if (job_code(j) != 0 || j->j_len == 0 || j->j_len >= sizeof(buf)) {
		snprintf(why, len, "pid file %s: %s", v->v_def.vd_pid_file,
		    job_code(j) == 0 ? "not a pid" : "cannot be read (the "
		    "VM's log says why)");
		return -1;
	}
	memcpy(buf, j->j_buf, j->j_len);
	buf[j->j_len] = '\0';
	pid = strtol(buf, &end, 10);
	if (end == buf || (*end != '\0' && *end != '\n') || pid < 2 ||
	    pid > INT_MAX) {
		snprintf(why, len, "pid file %s: not a pid",
		    v->v_def.vd_pid_file);
		return -1;
	}
	if (pid_ok(v, (pid_t)pid, &start, why, len) == -1)
		return -1;
	if (exec_watch((pid_t)pid, start, &v->v_proc) == -1) {
		snprintf(why, len, "pid file %s: pid %ld ended",
		    v->v_def.vd_pid_file, pid);
		return -1;
	}
	return 0;
}

/* It runs, started by a daemon that died before it said so: adopt it. */
static void
feed_takeover(struct sched *s, struct vm *v)
{
	v->v_det.d_takeover = 0;
	/* Nothing else took it meanwhile (a start that found it running). */
	if (v->v_fsm.f_live || v->v_fsm.f_state == VM_STARTING)
		return;
	if (live_pid(v))
		log_info("%s: runs (pid %ld), started by the last daemon, "
		    "which died before it said so: taken over", v->v_name,
		    (long)v->v_proc.p_pid);
	else
		log_info("%s: runs, started by the last daemon, which died "
		    "before it said so: taken over", v->v_name);
	vm_take_over(s, v, live_pid(v) ? proc_started_ms(v->v_proc.p_start) :
	    0);
}

/* The status, now, to see whether it lives (or, d_gone, why it ended). */
static void
poll_now(struct sched *s, struct vm *v)
{
	char why[512];

	if (!has(v, CMD_STATUS))
		return;
	if (run(s, v, JS_STATUS, DK_POLL, argv_of(v, CMD_STATUS), 1, why,
	    sizeof(why)) == -1)
		log_warnx("%s: status command: %s", v->v_name, why);
}

/* Its pid ended: the status says why, or nobody can. */
static int
ended(struct sched *s, struct vm *v, struct fsm_event *ev)
{
	if (v->v_det.d_gone)
		return 0;	/* its status is being asked why */
	snprintf(v->v_det.d_why, sizeof(v->v_det.d_why), "pid %ld ended",
	    (long)v->v_proc.p_pid);
	if (v->v_proc.p_fd >= 0) {
		close(v->v_proc.p_fd);
		v->v_proc.p_fd = -1;
	}
	if (has(v, CMD_STATUS)) {
		v->v_det.d_gone = 1;
		v->v_det.d_gone_asks = 0;
		poll_now(s, v);
		if (job_busy(v, JS_STATUS))
			return 0;
	}
	exec_ended(ev, v->v_det.d_why);
	return 1;
}

/* A status poll's answer. */
static void
polled(struct sched *s, struct vm *v, const struct cmdjob *j)
{
	char what[256], how[64];
	enum vstatus st;

	if (!v->v_fsm.f_live)
		return;		/* ended meanwhile: nobody waits for it */
	st = status_of(v, j, what, sizeof(what));
	if (v->v_det.d_gone) {
		/* Its pid ended: the status says how, if it can. A
		 * hypervisor learns of its process's death a moment after
		 * us (libvirtd from its monitor's end of file): one that
		 * still says running is asked again for a while. */
		if (st == VS_RUNNING && v->v_det.d_gone_asks < GONE_TRIES) {
			v->v_det.d_gone_asks++;
			v->v_det.d_gone_at = mono_ms() + GONE_TRY_MS;
			return;
		}
		if (st == VS_RUNNING)
			snprintf(v->v_det.d_why, sizeof(v->v_det.d_why),
			    "pid %ld ended; the status still said \"%s\"",
			    (long)v->v_proc.p_pid, what);
		else if (st == VS_UNKNOWN)
			snprintf(v->v_det.d_why, sizeof(v->v_det.d_why),
			    "pid %ld ended (its status command: %s)",
			    (long)v->v_proc.p_pid, what);
		else
			snprintf(v->v_det.d_why, sizeof(v->v_det.d_why),
			    "status said \"%s\"", what);
		feed_gone(s, v, st == VS_RUNNING ? VS_UNKNOWN : st);
		return;
	}
	switch (st) {
	case VS_RUNNING:
		v->v_det.d_unknown = 0;
		return;
	case VS_UNKNOWN:
		/* Said once, until it answers as the map expects again. */
		if (v->v_det.d_unknown++ == 0) {
			exec_status_text(j->j_status, how, sizeof(how));
			log_warnx("%s: its status command said \"%s\" (%s), "
			    "which no rule of its status map takes: nothing "
			    "concluded, asked again at each poll", v->v_name,
			    what, j->j_timed_out ? "timed out" : how);
		}
		return;
	default:
		snprintf(v->v_det.d_why, sizeof(v->v_det.d_why),
		    "status said \"%s\"", what);
		feed_gone(s, v, st);
		return;
	}
}

/* The status before a start: taken over, resumed, or started. */
static void
prechecked(struct sched *s, struct vm *v, const struct cmdjob *j)
{
	char what[256], why[512];
	enum vstatus st;

	st = status_of(v, j, what, sizeof(what));
	if (st == VS_RUNNING) {
		log_info("%s: already running (its status said \"%s\"): "
		    "taken over, not started again", v->v_name, what);
		snprintf(v->v_det.d_detail, sizeof(v->v_det.d_detail),
		    "already running (status said \"%s\"): taken over", what);
		launched(s, v);
		return;
	}
	if (start_cmd(s, v, st == VS_SUSPENDED, why, sizeof(why)) == -1)
		feed_failed(s, v, why);
}

static void
det_done(struct sched *s, struct vm *v, int slot, const struct cmdjob *j)
{
	char why[768];

	(void)slot;
	switch (j->j_kind) {
	case DK_PRECHECK:
		prechecked(s, v, j);
		return;
	case DK_START:
	case DK_RESUME:
		if (job_code(j) == 0)
			launched(s, v);
		else
			feed_failed(s, v, job_outcome(j,
			    kind_names[j->j_kind], why, sizeof(why)));
		return;
	case DK_TAKEOVER:
		/* A start found it first (its own status check). */
		if (!v->v_det.d_takeover)
			return;
		if (status_of(v, j, why, sizeof(why)) != VS_RUNNING) {
			v->v_det.d_takeover = 0;
			return;
		}
		if (v->v_def.vd_pid_file != NULL)
			read_pid_file(s, v);
		else
			feed_takeover(s, v);
		return;
	case DK_PIDFILE:
		if (v->v_det.d_takeover) {
			if (take_pid(v, j, why, sizeof(why)) == 0)
				feed_takeover(s, v);
			else
				v->v_det.d_takeover = 0;
			return;
		}
		if (take_pid(v, j, why, sizeof(why)) == 0) {
			feed_started(s, v);
			return;
		}
		/* Written a moment after the start command returns? */
		if (v->v_det.d_pid_tries < PID_TRIES) {
			v->v_det.d_pid_at = mono_ms() + PID_TRY_MS;
			return;
		}
		feed_failed(s, v, why);
		return;
	case DK_POLL:
		polled(s, v, j);
		return;
	case DK_STOP:
	case DK_SUSPEND:
	case DK_KILL:
		if (job_code(j) != 0)
			log_warnx("%s: %s", v->v_name, job_outcome(j,
			    kind_names[j->j_kind], why, sizeof(why)));
		if (!v->v_fsm.f_live)
			return;
		if (j->j_kind == DK_KILL && job_code(j) != 0 && live_pid(v)) {
			log_warnx("%s: SIGKILL to pid %ld", v->v_name,
			    (long)v->v_proc.p_pid);
			exec_signal(&v->v_proc, SIGKILL);
		}
		/* Done: see now whether it is gone, not at the next poll. */
		if (!job_busy(v, JS_STATUS))
			poll_now(s, v);
		return;
	}
}

/* The driver's operations. */

static int
det_start(struct sched *s, struct vm *v, const struct launch *l, char *why,
    size_t len)
{
	(void)l;
	memset(&v->v_det, 0, sizeof(v->v_det));
	if (has(v, CMD_STATUS)) {
		if (run(s, v, JS_CTL, DK_PRECHECK, argv_of(v, CMD_STATUS), 1,
		    why, len) == 0)
			return 1;
		log_warnx("%s: status command: %s (starting it)", v->v_name,
		    why);
	}
	return start_cmd(s, v, 0, why, len) == 0 ? 1 : -1;
}

/* Ask with command c, else signal sig to the pid; for A_STOP, A_SUSPEND. */
static int
ask(struct sched *s, struct vm *v, enum vm_cmd c, enum det_kind kind, int sig)
{
	char why[512];

	if (has(v, c)) {
		if (run(s, v, JS_CTL, kind, argv_of(v, c), 0, why,
		    sizeof(why)) == -1)
			log_warnx("%s: %s: %s", v->v_name, kind_names[kind], why);
		return 0;
	}
	if (live_pid(v))
		return exec_signal(&v->v_proc, sig);
	log_warnx("%s: no %s and no pid to signal", v->v_name,
	    kind_names[kind]);
	return 0;
}

static int
det_stop(struct sched *s, struct vm *v)
{
	return ask(s, v, CMD_STOP, DK_STOP, v->v_def.vd_stop_signal);
}

static int
det_suspend(struct sched *s, struct vm *v)
{
	return ask(s, v, CMD_SUSPEND, DK_SUSPEND, v->v_def.vd_suspend_signal);
}

static int
det_kill(struct sched *s, struct vm *v)
{
	char why[512];

	if (has(v, CMD_KILL) && run(s, v, JS_CTL, DK_KILL, argv_of(v, CMD_KILL),
	    0, why, sizeof(why)) == 0)
		return 0;
	if (has(v, CMD_KILL))
		log_warnx("%s: kill command: %s", v->v_name, why);
	if (!live_pid(v)) {
		if (!has(v, CMD_KILL))
			log_warnx("%s: no kill command and no pid: it cannot "
			    "be ended", v->v_name);
		return 0;
	}
	/* The hypervisor's own end (QEMU flushes its disks on SIGTERM),
	 * then the kernel's. */
	v->v_det.d_kill_at = mono_ms() + KILL_GRACE_MS;
	return exec_signal(&v->v_proc, has(v, CMD_KILL) ? SIGKILL : SIGTERM);
}

static int
det_adopt(struct sched *s, struct vm *v, pid_t pid, int64_t start)
{
	memset(&v->v_det, 0, sizeof(v->v_det));
	if (pid > 0)
		return exec_watch(pid, start, &v->v_proc);
	memset(&v->v_proc, 0, sizeof(v->v_proc));
	v->v_proc.p_fd = -1;
	if (!has(v, CMD_STATUS))
		return -1;
	/* Taken as alive; the status, asked now, says otherwise if not. */
	poll_now(s, v);
	return 0;
}

static int64_t
det_poll_ms(const struct vm *v)
{
	if (has(v, CMD_STATUS))
		return v->v_def.vd_status_interval_ms > 0 ?
		    v->v_def.vd_status_interval_ms : 5000;
	return live_pid(v) && v->v_proc.p_fd < 0 ? POLL_MS : 0;
}

static int
det_poll(struct sched *s, struct vm *v, struct fsm_event *ev, char *why,
    size_t len)
{
	(void)why;
	(void)len;
	if (live_pid(v) && !proc_alive(v->v_proc.p_pid, v->v_proc.p_start))
		return ended(s, v, ev) ? 0 : 1;
	if (!job_busy(v, JS_STATUS))
		poll_now(s, v);
	return 1;
}

static int
det_gone(struct sched *s, struct vm *v, struct fsm_event *ev, char *why,
    size_t len)
{
	(void)why;
	(void)len;
	return ended(s, v, ev);
}

static void
det_reaped(const struct proc *p, int status, int *code, int *sig)
{
	(void)p;
	(void)status;
	*code = -1;
	*sig = 0;
}

static void
det_release(struct sched *s, struct vm *v)
{
	/* A status still asked is not wanted; a stop command that still
	 * runs may finish (it is logged). */
	job_cancel(s, v, JS_STATUS);
	if (v->v_proc.p_fd >= 0)
		close(v->v_proc.p_fd);
	memset(&v->v_proc, 0, sizeof(v->v_proc));
	v->v_proc.p_fd = -1;
	v->v_det.d_kill_at = 0;
	v->v_det.d_gone = 0;
	v->v_det.d_gone_asks = 0;
	v->v_det.d_gone_at = 0;
	v->v_det.d_unknown = 0;
}

static void
det_takeover(struct sched *s, struct vm *v)
{
	char why[512];

	memset(&v->v_det, 0, sizeof(v->v_det));
	v->v_det.d_takeover = 1;
	if (has(v, CMD_STATUS)) {
		if (run(s, v, JS_STATUS, DK_TAKEOVER, argv_of(v, CMD_STATUS), 1,
		    why, sizeof(why)) == -1) {
			log_warnx("%s: status command: %s", v->v_name, why);
			v->v_det.d_takeover = 0;
		}
	} else if (v->v_def.vd_pid_file != NULL)
		read_pid_file(s, v);
}

static int64_t
det_next(const struct vm *v)
{
	int64_t next = job_next(v), at[3];
	int i;

	at[0] = v->v_det.d_pid_at;
	at[1] = v->v_det.d_kill_at;
	at[2] = v->v_det.d_gone_at;
	for (i = 0; i < 3; i++)
		if (at[i] > 0 && (next == 0 || at[i] < next))
			next = at[i];
	return next;
}

static void
det_tick(struct sched *s, struct vm *v)
{
	job_tick(s, v);
	if (v->v_det.d_pid_at > 0 && v->v_det.d_pid_at <= s->s_now) {
		v->v_det.d_pid_at = 0;
		if (v->v_fsm.f_state == VM_STARTING)
			read_pid_file(s, v);
	}
	if (v->v_det.d_gone_at > 0 && v->v_det.d_gone_at <= s->s_now) {
		v->v_det.d_gone_at = 0;
		if (v->v_fsm.f_live && v->v_det.d_gone &&
		    !job_busy(v, JS_STATUS)) {
			poll_now(s, v);
			/* Not asked after all: nobody can say. */
			if (!job_busy(v, JS_STATUS))
				feed_gone(s, v, VS_UNKNOWN);
		}
	}
	if (v->v_det.d_kill_at > 0 && v->v_det.d_kill_at <= s->s_now) {
		v->v_det.d_kill_at = 0;
		if (v->v_fsm.f_live && live_pid(v) &&
		    proc_alive(v->v_proc.p_pid, v->v_proc.p_start)) {
			log_warnx("%s: pid %ld still there %d s after "
			    "SIGTERM: SIGKILL", v->v_name,
			    (long)v->v_proc.p_pid, KILL_GRACE_MS / 1000);
			exec_signal(&v->v_proc, SIGKILL);
		}
	}
}

const struct driver driver_detached = {
	.drv_name = "detached",
	.drv_start = det_start,
	.drv_stop = det_stop,
	.drv_suspend = det_suspend,
	.drv_kill = det_kill,
	.drv_adopt = det_adopt,
	.drv_poll_ms = det_poll_ms,
	.drv_poll = det_poll,
	.drv_gone = det_gone,
	.drv_reaped = det_reaped,
	.drv_release = det_release,
	.drv_done = det_done,
	.drv_takeover = det_takeover,
	.drv_next = det_next,
	.drv_tick = det_tick,
};

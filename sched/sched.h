/*
 * sched.h: the scheduler. Its restart policy, the driver interface and the
 * exec driver, the daemon, gate probes, what the OS says about processes,
 * the launchd, .vmx and logging modules, and the webhook sender. The model
 * it works on (definitions, values, run ends, events) is in model.h.
 */
#ifndef VMSCHED_SCHED_H
#define VMSCHED_SCHED_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <sys/types.h>

#include "model.h"

/* policy.c: what follows the end of a run. */
/* What the supervisor does next, and why. */
struct decision {
	int	 d_restart;		/* start it again */
	int64_t	 d_delay_ms;		/* after this long; -1: no restart */
	int	 d_failures;		/* consecutive failures now */
	int	 d_breaker;		/* crash-loop breaker tripped: failed */
	char	 d_rule[160];		/* the rule that fired, for log */
};

/* Token bucket for the fleet-wide restart rate. */
struct ratelimit {
	double	 rl_rate;		/* tokens per second; <= 0: unlimited */
	double	 rl_burst;		/* bucket size */
	double	 rl_tokens;		/* tokens now */
	int64_t	 rl_last;		/* when rl_tokens was computed (ms) */
};

/*
 * The backoff before the n-th consecutive failure's restart:
 * min(max, initial * factor^(n-1)), then varied by jitter (-1..1) times 10%.
 */
int64_t	 policy_backoff(const struct vm_def *vd, int n, double jitter);
/*
 * Decide what follows a run of vd that ended as re, given the consecutive
 * failures before it; jitter in -1..1 (random in the daemon, fixed in
 * tests). Fills *d.
 */
void	 policy_decide(const struct vm_def *vd, int failures,
	    const struct run_end *re, double jitter, struct decision *d);
void	 ratelimit_init(struct ratelimit *rl, double per_sec, double burst,
	    int64_t now_ms);
/* Take a token at now_ms: 0 if granted, else how many ms until one is. */
int64_t	 ratelimit_take(struct ratelimit *rl, int64_t now_ms);

/*
 * fsm.c: one VM's state machine, pure. The daemon turns what happens (a
 * request, an exit, a timer, a probe's answer) into an fsm_event and hands
 * it, with the facts of the moment, to fsm_step; a table of handlers by
 * state and event moves the VM, and then a reconcile step compares what
 * the operator wants with what is and schedules what closes the gap. The
 * daemon carries out the actions and writes the records; it never sets a
 * state itself.
 */
enum fsm_timer {
	T_RESTART,	/* backoff (rate limit, retry) over: start again */
	T_KILL,		/* stop timeout over: SIGKILL */
	T_UP,		/* --up-delay over: up, or check readiness */
	T_CHECK,	/* check the shut gate or the ready port again */
	T_WAIT,		/* gates or readiness past --wait-timeout */
	T_PROBE,	/* the check that runs is past its time: kill it */
	T_SETTLE,	/* boot: past --wait-timeout, later waves go on */
	T_LIVE,		/* look whether a process we cannot wait for lives */
	T_NTIMERS
};

enum fsm_ev {
	EV_REQUEST,	/* the operator: fe_want, fe_enabled, fe_start, ... */
	EV_BOOT,	/* the daemon's boot; fe_ok: a never VM ran this boot */
	EV_ADOPT,	/* start-up: its open run, recorded as fe_was; alive
			   (fe_ok) for fe_ran_ms, or gone */
	EV_LOADED,	/* its definition for a start: fe_ok, or fe_why */
	EV_STARTED,	/* its process started */
	EV_START_FAILED,/* ... or could not: fe_why */
	EV_EXITED,	/* its process ended: fe_code, fe_signal, or status
			   unknown (fe_unknown: not our child) */
	EV_GATE,	/* the gate checked is open (fe_ok) or shut */
	EV_READY,	/* --ready-tcp answered (fe_ok) or not */
	EV_SHUTDOWN,	/* the daemon stops: nothing starts, waves stop */
	EV_REMOVED,	/* its definition is gone */
	EV_POKE,	/* something around it changed: look again */
	EV_TIMER,	/* the first of T_NTIMERS events: EV_TIMER + timer */
	EV_NEVENTS = EV_TIMER + T_NTIMERS
};

struct fsm_event {
	enum fsm_ev	 fe_ev;
	enum vm_want	 fe_want;	/* EV_REQUEST */
	int		 fe_enabled;	/* EV_REQUEST */
	int		 fe_start;	/* EV_REQUEST: start (or restart) now */
	int		 fe_restart;	/* EV_REQUEST: end the process first */
	int		 fe_reset;	/* EV_REQUEST: clear the failures */
	int		 fe_unrecorded;	/* EV_ADOPT: it has no run row yet */
	int		 fe_ok;
	int		 fe_code;	/* EV_EXITED: exit code, or -1 */
	int		 fe_signal;	/* EV_EXITED: signal, or 0 */
	int		 fe_unknown;	/* EV_EXITED: how it ended is unknown */
	enum vm_state	 fe_was;	/* EV_ADOPT */
	int64_t		 fe_ran_ms;	/* EV_ADOPT */
	const char	*fe_why;	/* EV_LOADED, EV_START_FAILED; issue
					   12: EV_STARTED, EV_EXITED: the
					   run's detail ("resumed", "status:
					   shut off (crashed)"), or NULL */
	enum vstatus	 fe_status;	/* EV_EXITED (issue 12): what a
					   status command said; VS_UNKNOWN:
					   as fe_code, fe_signal, fe_unknown
					   say */
};

/* Why a VM's process is ending. */
enum fsm_ask {
	ASK_NONE,
	ASK_STOP,	/* stop, restart or shutdown */
	ASK_SUSPEND,
};

/* One VM as the state machine keeps it. fsm_init sets it up. */
struct fsm {
	enum vm_state	 f_state;
	enum vm_want	 f_want;	/* what the operator asked */
	int		 f_enabled;	/* in boot */
	int		 f_kick;	/* a start is owed */
	int		 f_is_restart;	/* ... and counts as a restart */
	int		 f_live;	/* a process exists */
	enum fsm_ask	 f_ask;		/* why it is ending */
	int		 f_killed;	/* SIGKILL sent */
	int		 f_shutdown;	/* the daemon is stopping */
	int		 f_removed;	/* the definition is gone */
	int		 f_boot;	/* started by this boot's plan */
	int		 f_settled;	/* boot: past its wait timeout */
	int		 f_loaded;	/* definition loaded for this attempt */
	int		 f_token;	/* fleet restart token taken for it */
	size_t		 f_gate;	/* next gate to check */
	int		 f_probe;	/* a gate or ready check runs */
	int		 f_restart_asked; /* a restart came while starting */
	int		 f_failures;	/* consecutive */
	int		 f_restarts;	/* total */
	int64_t		 f_started;	/* run start (monotonic ms) */
	int64_t		 f_up_since;	/* monotonic ms; 0: not up */
	int64_t		 f_wait_since;	/* gates checked since (monotonic) */
	int64_t		 f_timer[T_NTIMERS];	/* deadlines; 0: disarmed */
	char		 f_why[200];	/* what it waits for */
};

/* What the state machine may know beyond the VM itself. */
struct fsm_facts {
	int64_t			 fx_now;	/* monotonic ms */
	const struct vm_def	*fx_def;	/* as loaded for its start */
	int			 fx_turn;	/* the boot plan lets it start
						   (at shutdown: stop) now */
	const char		*fx_turn_why;	/* ... or why not */
	int			 fx_slot;	/* max-parallel-starts has room */
	int			 fx_deps;	/* --after VMs: 1 up, 0 not yet,
						   -1 one will not come up */
	const char		*fx_deps_why;	/* unless 1, which and why */
	struct ratelimit	*fx_rate;	/* fleet restarts; NULL: none */
	double			 fx_jitter;	/* -1..1 for the backoff */
	int64_t			 fx_poll_ms;	/* its process must be polled
						   this often; 0: no need */
};

enum fsm_act {
	A_LOAD,		/* load the definition: answer EV_LOADED */
	A_GATE,		/* check gate f_gate: answer EV_GATE */
	A_READY,	/* check --ready-tcp: answer EV_READY */
	A_PROBE_KILL,	/* end the running check and forget its answer */
	A_SPAWN,	/* start the process: EV_STARTED or EV_START_FAILED */
	A_STOP,		/* ask the process to stop */
	A_SUSPEND,	/* ... to suspend */
	A_KILL,		/* end it now */
	A_POLL,		/* look whether it lives: EV_EXITED if not */
};

/* What happens to the run row with a record. */
enum fsm_run {
	FSM_RUN_NONE,
	FSM_RUN_OPEN,		/* a process started */
	FSM_RUN_CLOSE,		/* it ended */
	FSM_RUN_ONESHOT,	/* a start that never ran */
};

/* One state change to write, with its run row and events. */
struct fsm_record {
	enum vm_state	 r_state;
	const char	*r_why;		/* f_why, or NULL */
	enum fsm_run	 r_run;
	int		 r_code;	/* CLOSE: exit code, -1 */
	int		 r_signal;	/* CLOSE: signal, 0 */
	enum run_reason	 r_reason;	/* CLOSE, ONESHOT */
	const char	*r_detail;	/* ... errno text, the gate; or NULL */
	struct decision	 r_d;		/* ... what followed, and why */
	int		 r_failures;	/* consecutive, now */
	int		 r_restarts;	/* total, now */
	int64_t		 r_delay_ms;	/* restart after this long; -1 */
	int64_t		 r_took_ms;	/* ONESHOT: the attempt began this
					   long ago */
	int		 r_consumed;	/* the owed start is done or dropped */
	const char	*r_events[4];	/* NULL-terminated */
};

#define FSM_MAX_ACTS	6
#define FSM_MAX_RECS	3
struct fsm_out {
	enum fsm_act		 o_act[FSM_MAX_ACTS];
	size_t			 o_nact;
	struct fsm_record	 o_rec[FSM_MAX_RECS];
	size_t			 o_nrec;
	char			 o_detail[300];	/* r_detail's text */
};

/* A VM loaded in state st, wanted w: no process, nothing owed. */
void	 fsm_init(struct fsm *f, enum vm_state st, enum vm_want w,
	    int enabled, int failures, int restarts);
/*
 * Feed ev to f, with fx the facts of now: the handler for (state, event)
 * moves it, then reconcile schedules what closes the gap between what is
 * wanted and what is. *out (cleared first) gets the actions to carry out,
 * in order, and the records to write. Returns 1 if the state or whether a
 * process exists changed (other VMs' facts may follow), else 0.
 */
int	 fsm_step(struct fsm *f, const struct fsm_event *ev,
	    const struct fsm_facts *fx, struct fsm_out *out);
/*
 * What f means to a VM that starts --after it: 1 up, 0 it will be (it is
 * starting, or owed a start), -1 it will not without the operator.
 */
int	 fsm_dep(const struct fsm *f);
/* Whether f no longer holds back the later waves of the boot. */
int	 fsm_settled(const struct fsm *f);
/* Whether f holds a start slot (started, not up, not settled). */
int	 fsm_starting(const struct fsm *f);
/*
 * Whether state st agrees with want w, as the README's table defines it
 * (what a settled daemon must show).
 */
int	 fsm_agrees(enum vm_state st, enum vm_want w);
/*
 * Whether f owes a start that the store must keep for the next daemon:
 * one not made yet, a restart its backoff waits for, or one under way
 * that no process answers for yet (a detached driver's start command
 * still runs).
 */
int	 fsm_owed(const struct fsm *f);

/*
 * Drivers: how a VM's process is started, watched, stopped, suspended and
 * adopted. The state machine above does not know which driver runs a VM;
 * the daemon asks the VM's driver. The exec driver (drv-exec.c) keeps the
 * VM as a foreground child; a detached driver (vmrun, VBoxManage, virsh)
 * starts it with a command and watches a pid file or a status command.
 */
/* A VM's process as its driver watches it. */
struct proc {
	pid_t	 p_pid;		/* 0: none */
	int64_t	 p_start;	/* its start time (proc_start_time); 0: unknown */
	int	 p_child;	/* ours: its end comes from waitpid */
	int	 p_fd;		/* a pidfd readable at its end, or -1 */
};

struct logfd;
/* What a start needs: the definition and where it runs from. */
struct launch {
	const struct vm_def	*l_def;		/* user, cwd, env, command */
	char *const		*l_argv;	/* NULL: l_def's command */
	const char		*l_log;		/* absolute; stdout and stderr
						   are appended here */
	const char *const	*l_env;		/* more "K=V", NULL-terminated;
						   or NULL */
	int			 l_exec_fd;	/* exec this file instead of
						   argv[0] (fexecve), or -1 */
	const sigset_t		*l_reset;	/* signals the caller catches
						   or ignores, reset in the
						   child; NULL: every one */
	int			 l_null_fd;	/* /dev/null, for stdin, open
						   above 2; anything else:
						   the child opens it */
	/* issue 12: a helper whose output the daemon reads */
	int			 l_capture;	/* 0; LAUNCH_STDOUT or
						   LAUNCH_STDERR: that stream
						   goes to l_pipe, not the log */
	int			 l_pipe;	/* ... this pipe's write end */
	struct logfd		*l_log_back;	/* not NULL: gets the log as
						   the child opened it */
};
/* A descriptor of a VM's log, as a helper's child opened it (issue 12). */
struct logfd {
	int	 lf_fd;		/* read and write; -1: none */
	off_t	 lf_at;		/* the file's size before the helper ran */
};
#define LAUNCH_STDOUT	1
#define LAUNCH_STDERR	2

struct sched;
struct vm;
struct cmdjob;
/*
 * A driver's operations on a VM (issue 12 gave them the VM and the
 * daemon, so that a driver can run helper commands whose answers come
 * later, as events it feeds with vm_feed).
 */
struct driver {
	const char	*drv_name;
	/*
	 * A_SPAWN: start v's process. 0 with v->v_proc filled (started
	 * now); 1 when the driver answers later with EV_STARTED or
	 * EV_START_FAILED; -1 with why.
	 */
	int		(*drv_start)(struct sched *s, struct vm *v,
			    const struct launch *l, char *why, size_t len);
	/* A_STOP, A_SUSPEND, A_KILL: 0, or -1 with errno (logged). */
	int		(*drv_stop)(struct sched *s, struct vm *v);
	int		(*drv_suspend)(struct sched *s, struct vm *v);
	int		(*drv_kill)(struct sched *s, struct vm *v);
	/*
	 * At start-up: take over v's open run, recorded with pid and start
	 * (pid 0: none was known): 0 with v->v_proc watched, -1 if it is
	 * gone.
	 */
	int		(*drv_adopt)(struct sched *s, struct vm *v, pid_t pid,
			    int64_t start);
	/* How often v must be looked at with A_POLL; 0 if its end is an
	 * event (waitpid, its pidfd). */
	int64_t		(*drv_poll_ms)(const struct vm *v);
	/* A_POLL: 0 with *ev (why its buffer) when it is gone now; 1 if
	 * it lives, or the answer comes later. */
	int		(*drv_poll)(struct sched *s, struct vm *v,
			    struct fsm_event *ev, char *why, size_t len);
	/* v's pidfd says its process ended: 1 with *ev to feed now, 0 when
	 * the driver answers later. */
	int		(*drv_gone)(struct sched *s, struct vm *v,
			    struct fsm_event *ev, char *why, size_t len);
	/* p ended with this wait status: its exit code (-1) and signal. */
	void		(*drv_reaped)(const struct proc *p, int status,
			    int *code, int *sig);
	/* Let go of what v's process holds once it ended. */
	void		(*drv_release)(struct sched *s, struct vm *v);
	/* A helper job of v's ended (job.c calls it): act on its answer. */
	void		(*drv_done)(struct sched *s, struct vm *v, int slot,
			    const struct cmdjob *j);
	/*
	 * At start-up, for a VM recorded starting without a run (the last
	 * daemon died while its driver was starting it): look whether it
	 * runs, and if so feed EV_ADOPT (unrecorded). NULL: the driver has
	 * nothing to look with (exec: proc_scan finds its VMs).
	 */
	void		(*drv_takeover)(struct sched *s, struct vm *v);
	/* The driver's own next deadline for v (monotonic ms; 0: none),
	 * and what is due then. */
	int64_t		(*drv_next)(const struct vm *v);
	void		(*drv_tick)(struct sched *s, struct vm *v);
};
extern const struct driver driver_exec;
extern const struct driver driver_detached;
/* The driver that runs VMs of kind d. */
const struct driver	*driver_for(enum vm_driver d);
/*
 * Start l as the exec driver does (also for a VM's helper processes):
 * 0 with *p our child, or -1 with why ("exec-failed" text: "No such file
 * or directory", "log file P: not a regular file", "user U: ...").
 */
int	 exec_launch(const struct launch *l, struct proc *p, char *why,
	    size_t len);
/* Signal p's process group, checking first that a process that is not
 * our child is still the one adopted. 0, or -1 with errno. */
int	 exec_signal(const struct proc *p, int sig);
/*
 * Watch pid, which is not our child, if it still is the process that
 * started at start: 0 with *p filled (a pidfd where there is one), or -1
 * if it is gone.
 */
int	 exec_watch(pid_t pid, int64_t start, struct proc *p);
/* *ev: an EV_EXITED of a process that was not our child (how it ended is
 * unknown), with why for its run (or NULL). */
void	 exec_ended(struct fsm_event *ev, const char *why);
/* A wait status in words: "exited 1", "killed by signal KILL". */
void	 exec_status_text(int status, char *buf, size_t len);

/*
 * job.c (issue 12): helper commands a driver runs for a VM (a detached
 * VM's start, status, stop, kill, suspend and resume commands, reading its
 * pid file), none of which may block the loop. A job runs through
 * exec_launch, as the VM's user with its environment, directory and log
 * file, in a slot of the VM (one job per slot); a status command's stdout
 * comes through a pipe the daemon reads as it comes (up to JOB_OUT_MAX),
 * any other command writes to the VM's log, whose end the daemon reads
 * back once it ended (its last line goes to the run row); it is killed at
 * its deadline and handed to the driver's drv_done once reaped. A command
 * whose argv[0] is "vmsched" runs this daemon's own binary.
 */
enum job_slot {
	JS_CTL,		/* start, resume, stop, suspend, kill, pid file */
	JS_STATUS,	/* the status command, polled */
	JS_N
};
#define JOB_OUT_MAX	65536	/* of a status command's output */
#define JOB_TAIL_MAX	4096	/* of what a command wrote to the log */
struct cmdjob {
	pid_t		 j_pid;		/* 0: no job */
	int		 j_kind;	/* the driver's: what it runs for */
	int		 j_fd;		/* its stdout, read end; -1 */
	int		 j_log;		/* the VM's log, as it opened it; -1 */
	off_t		 j_log_at;	/* ... its size when the job began */
	int		 j_stdout;	/* j_fd is its stdout */
	char		*j_buf;		/* what it said (stdout: the first
					   JOB_OUT_MAX; else what it wrote to
					   the log, the last JOB_TAIL_MAX) */
	size_t		 j_len;
	int64_t		 j_deadline;	/* monotonic: killed then; 0 */
	int		 j_timed_out;	/* it was killed at its deadline */
	int		 j_status;	/* its wait status, once reaped */
	int64_t		 j_started;	/* monotonic */
};
/*
 * Run argv for v in slot (a job still there is killed and disowned
 * first), for kind; its stdout captured when capture_stdout (its stderr
 * goes to the log), else all its output to the log, read back at its
 * end; killed after v's --cmd-timeout. 0, or -1 with why (it could not
 * start: the exec-failed text).
 */
int	 job_run(struct sched *s, struct vm *v, enum job_slot slot, int kind,
	    char *const *argv, int capture_stdout, char *why, size_t len);
/* Kill and disown the job in slot, if any: its answer is not wanted. */
void	 job_cancel(struct sched *s, struct vm *v, enum job_slot slot);
/* Whether v has a job (in slot; JS_N: in any). */
int	 job_busy(const struct vm *v, enum job_slot slot);
/* fd, a job's output, is readable: read what is there. 1 if it was one. */
int	 job_readable(struct sched *s, int fd);
/* pid ended with status: 1 if it was a job (handed to drv_done). */
int	 job_reaped(struct sched *s, pid_t pid, int status);
/* Kill v's jobs that are past their deadline. */
void	 job_tick(struct sched *s, struct vm *v);
/* The earliest deadline of v's jobs; 0: none. */
int64_t	 job_next(const struct vm *v);
/* Add the output descriptors of v's jobs to fds (room for max); the
 * number added. */
size_t	 job_fds(const struct vm *v, int *fds, size_t max);
/* The exit code of an ended job, -1 if it was killed or timed out. */
int	 job_code(const struct cmdjob *j);
/* How it ended, for the run row: "exited 1: <the last line it wrote>",
 * "timed out after 2m", into buf; returns buf. */
char	*job_outcome(const struct cmdjob *j, const char *what, char *buf,
	    size_t len);

/* drv-detached.c: what the detached driver keeps of a VM. */
struct det {
	int	 d_resume;	/* the start under way resumes it */
	int	 d_pid_tries;	/* pid file reads for this start */
	int64_t	 d_pid_at;	/* read it again then (monotonic); 0 */
	int64_t	 d_kill_at;	/* SIGKILL its pid then; 0 */
	int	 d_gone;	/* its pid ended: the status says why */
	int	 d_gone_asks;	/* ... asked again while it said running */
	int64_t	 d_gone_at;	/* ... next then (monotonic); 0 */
	int	 d_unknown;	/* status answers no rule took, in a row */
	int	 d_takeover;	/* start-up: looking whether it runs */
	char	 d_detail[320];	/* how it started, for its run */
	char	 d_why[320];	/* what ended it, for its run */
};

/* trust.c */
/*
 * Who controls path (absolute), for the daemon running as self: walk it,
 * following links by hand, into real (no links left); *who is self when
 * only self or root can change what it opens, else the one user who can.
 * -1 with why when two users can, a directory on it is writable by a
 * group or anyone (not sticky), or the last component exists and is not
 * a regular file with one link.
 */
int	 trust_path(const char *path, uid_t self, char *real, size_t reallen,
	    uid_t *who, char *why, size_t len);

/* daemon.c: the daemon. */
struct sched_opts {
	const char	*so_dbpath;
	double		 so_restart_rate;	/* fleet restarts per second */
	double		 so_restart_burst;	/* ... allowed in a burst */
	int		 so_max_parallel;	/* VMs between start and up */
	const char	*so_self;		/* this binary, for probes */
	/* issue 13 */
	const char	*so_metrics_path;	/* --metrics-textfile, or NULL */
};
#define SCHED_ERR	(-1)	/* the daemon's machinery failed */
#define SCHED_BUSY	(-2)	/* another daemon holds the database */
#define SCHED_UNSAFE	(-3)	/* others could read or change the database */
/*
 * Run the daemon on opts->so_dbpath until SIGTERM or SIGINT has stopped
 * every VM: 0, SCHED_BUSY, SCHED_UNSAFE or SCHED_ERR (after logging why).
 */
int	 sched_daemon(const struct sched_opts *opts);
/*
 * The pid of the daemon that holds the database at dbpath, or 0 if none
 * does. It only tests the lock (F_GETLK): it never takes it, so asking
 * cannot make a starting daemon think another one runs.
 */
long	 sched_lock_holder(const char *dbpath);
/* Whether a daemon holds it: sched_lock_holder() != 0. */
int	 sched_lock_held(const char *dbpath);

/*
 * The daemon's own state, shared by daemon.c (the loop), boot.c (waves,
 * dependencies, shutdown order), gate.c (checks run for a VM) and
 * journal.c (what is written to the store). Nothing else uses it.
 */
struct db;
struct hook;
struct journal;

/* One supervised VM. */
struct vm {
	int64_t			 v_id;
	char			 v_name[VM_NAME_MAX + 1];
	struct fsm		 v_fsm;
	struct vm_def		 v_def;		/* as loaded for its start */
	const struct driver	*v_drv;
	struct proc		 v_proc;	/* its process, while f_live */
	int64_t			 v_run_id;	/* its open run, once written */
	int			 v_run_ref;	/* ... or the journal entry
						   that opens it; -1 */
	int64_t			 v_run_wall;	/* the run's start, Unix ms */
	int64_t			 v_request;	/* last CLI request acted on */
	int			 v_order;	/* boot order */
	int			 v_wave;	/* boot wave; 0: not planned */
	enum restart_policy	 v_restart;	/* as last loaded */
	char			 v_boot_id[64];	/* boot of its last start */
	pid_t			 v_probe;	/* its check that runs, or 0 */
	enum fsm_act		 v_probe_kind;	/* A_GATE or A_READY */
	struct vm		**v_deps;	/* its --after VMs; NULL: gone */
	size_t			 v_ndeps;
	int			 v_jent;	/* 1 + its journal entry that
						   only sets state; 0: none */
	int			 v_seen;	/* in the last reload */
	enum vm_state		 v_was;		/* start-up: as recorded */
	/* issue 12 */
	struct cmdjob		 v_job[JS_N];	/* its driver's helpers */
	struct det		 v_det;		/* the detached driver's */
};

/* The daemon. */
struct sched {
	struct db		*s_db;
	const struct sched_opts	*s_opts;
	char			 s_dbpath[PATH_MAX];	/* absolute */
	char			 s_dbid[40];	/* the database's id */
	char			 s_boot_id[64];
	struct vm		**s_vms;	/* by wave, then order, name */
	size_t			 s_nvms;
	struct vm		**s_byname;	/* the same, by name */
	struct vm		**s_byid;	/* the same, by id */
	size_t			 s_nindex;	/* VMs in s_byname, s_byid */
	struct ratelimit	 s_rate;	/* fleet-wide restarts */
	int64_t			 s_now;		/* monotonic ms, this pass */
	int64_t			 s_reload_at;	/* next safety reload */
	int			 s_shutdown;	/* SIGTERM seen */
	int			 s_booting;	/* boot waves still run */
	int			 s_wave;	/* boot: lowest wave unsettled */
	int			 s_down_wave;	/* shutdown: wave being stopped */
	int			 s_starting;	/* VMs holding a start slot */
	int			 s_lockfd;
	int			 s_ledger_fd;	/* DB.spawns (ledger.c) */
	int			 s_ledger_dirty; /* it holds lines (0: empty) */
	int			 s_ledger_failed; /* its last write failed */
	int			 s_self_fd;	/* our binary, for probes */
	int			 s_null_fd;	/* /dev/null, for VMs' stdin */
	sigset_t		 s_sigs;	/* signals we catch or ignore */
	struct hook		*s_hook;	/* webhook sender, or NULL */
	struct journal		*s_jrn;
	int			 s_fault_spawn;	/* VMSCHED_TEST_FAULT: SIGKILL
						   itself after a spawn */
	pid_t			*s_disowned;	/* killed checks, to be reaped */
	size_t			 s_ndisowned;
	size_t			 s_disowned_cap;
};

/* daemon.c */
/*
 * Feed ev to v (computing its facts), carry out the actions, queue the
 * records, and feed the answers of actions that answer at once. Returns
 * 1 if v's state or whether it has a process changed.
 */
int	 vm_feed(struct sched *s, struct vm *v, const struct fsm_event *ev);
/*
 * v runs, started (Unix ms; 0: not known) by a daemon that died before it
 * recorded it: feed EV_ADOPT, its run to be opened (issue 12 shares it
 * with the detached driver's takeover).
 */
void	 vm_take_over(struct sched *s, struct vm *v, int64_t started);
/*
 * v's process pid (start time start, started Unix ms, in host boot boot)
 * ran, started by a daemon that died before it recorded it, and has ended:
 * feed EV_ADOPT of a process gone, its run to be opened and closed
 * (ledger.c).
 */
void	 vm_ended_unwatched(struct sched *s, struct vm *v, pid_t pid,
	    int64_t start, int64_t started, const char *boot);
/* The VM called name, or with that id; NULL if there is none. */
struct vm	*vm_by_name(struct sched *s, const char *name);
struct vm	*vm_by_id(struct sched *s, int64_t id);
/* Sort s_vms by wave, order and name (after boot_plan changed them). */
void	 vm_sort(struct sched *s);
/*
 * What every process started for v shares, into *l: its definition (user,
 * cwd, environment), its log file (the path into logfile), env added to
 * its environment, the signals to reset, /dev/null. 0, or -1 if the log's
 * path is too long.
 */
int	 vm_launch_init(struct sched *s, const struct vm *v, struct launch *l,
	    char *logfile, size_t len, const char *const *env);
/* v's log file, absolute, into buf; 0 or -1. */
int	 vm_log_file(struct sched *s, const struct vm *v, char *buf,
	    size_t len);

/* ledger.c: the spawns the store has not taken yet (DB.spawns). */
/* Open (or create) it, noting whether the last daemon left anything. */
int	 ledger_open(struct sched *s);
/* After adoption: record each process it names that ended unrecorded. */
void	 ledger_replay(struct sched *s);
/* v was spawned: append its pid, start time, run start and name. */
void	 ledger_spawned(struct sched *s, const struct vm *v);
/* Everything spawned is in the store: empty it. */
void	 ledger_clear(struct sched *s);

/* boot.c */
/* Give every VM its boot wave, and sort s_vms by it. */
void	 boot_plan(struct sched *s);
/* Resolve every VM's --after names (after loads and removals). */
void	 boot_resolve(struct sched *s);
/* Feed EV_BOOT to every VM, lowest wave first. */
void	 boot_start(struct sched *s);
/* SIGTERM: feed EV_SHUTDOWN to every VM, the last wave's turn first. */
void	 boot_shutdown(struct sched *s);
/* v's turn, start slot and dependencies, into fx (why in buf). */
void	 boot_facts(struct sched *s, const struct vm *v,
	    struct fsm_facts *fx, char *buf, size_t len);
/*
 * Poke every VM that may move because others did (waiting, blocked, owed
 * a start, or live during shutdown) until nothing changes any more.
 */
void	 boot_settle(struct sched *s);

/* gate.c */
/* A helper killed, to be reaped without a word (issue 12: also jobs). */
void	 sched_disown(struct sched *s, pid_t pid);
/*
 * Carry out A_GATE, A_READY or A_PROBE_KILL for v: 1 with *ev (why its
 * buffer) when the answer is known now (a path gate, a check that could
 * not start), 0 when a helper will answer, or nothing will.
 */
int	 gate_act(struct sched *s, struct vm *v, enum fsm_act a,
	    struct fsm_event *ev, char *why, size_t len);
/* A check process ended with status: 1 if it was one, else 0. */
int	 gate_reaped(struct sched *s, pid_t pid, int status);

/* journal.c: state changes on their way to the store, written once a
 * pass in one transaction, kept in memory while the store refuses. */
struct journal	*jrn_new(void);
void	 jrn_free(struct journal *j);
/* Queue r, a record of v's state machine (kick says whether a start is
 * still owed after it). */
void	 jrn_record(struct sched *s, struct vm *v, const struct fsm_record *r);
/* Queue v's state as it is, if nothing of v's is queued yet (to say a
 * request was seen, or that the owed start is gone). */
void	 jrn_touch(struct sched *s, struct vm *v);
/* Queue an event of the daemon's own (scheduler.*). */
void	 jrn_event(struct sched *s, const char *event);
/* Write what is queued: 0 if the queue is empty now, else -1 (logged
 * once until it works again; retried at jrn_retry_at). */
int	 jrn_flush(struct sched *s);
/* When to try again after a failed flush (monotonic ms), 0: no need. */
int64_t	 jrn_retry_at(const struct journal *j);
/* A VM is about to be freed: entries keep their copies, not pointers. */
void	 jrn_forget(struct journal *j, const struct vm *v);

/* probe.c: whether a start gate is open; 0, or -1 with why. Blocking:
 * the daemon runs them in a child (`vmsched probe`), never in its loop. */
int	 probe_path(const char *path, char *why, size_t len);
int	 probe_tcp(const char *hostport, int timeout_ms, char *why,
	    size_t len);
/* Issue 12: the pid a pid file holds (a regular file, read without
 * following a last link or blocking); 0 with *pid, or -1 with why. */
int	 probe_pidfile(const char *path, long *pid, char *why, size_t len);

/* proc.c: processes and the boot. */
/*
 * Every process that leads its own session and carries
 * VMSCHED_DB_ID=dbid in its environment: cb(pid, start time, uid, its
 * VMSCHED_VM, arg) (the VMs a daemon of this database started). cb
 * returns nonzero to stop. 0, or -1 (errno ENOSYS where it cannot look).
 */
int	 proc_scan(const char *dbid, int (*cb)(pid_t, int64_t, uid_t,
	    const char *, void *), void *arg);
/* A start time (proc_start_time) as Unix ms; 0 if unknown. */
int64_t	 proc_started_ms(int64_t start);
/* A process's start time (clock ticks since boot on Linux); 0 or -1. */
int	 proc_start_time(pid_t pid, int64_t *start);
/* Whether pid is alive (not a zombie) and is still the process that
 * started at start. */
int	 proc_alive(pid_t pid, int64_t start);
/* Issue 12: the user a process runs as (its effective uid); 0 or -1. */
int	 proc_uid(pid_t pid, uid_t *uid);
/* This boot's id ($VMSCHED_BOOT_ID overrides, for tests); 0 or -1. */
int	 proc_boot_id(char *buf, size_t len);

/* launchd.c: launchd property lists (libplist lives only there). */
/*
 * Map a launchd job, a property list of len bytes (XML or binary), to a VM
 * definition: vd (vm_def_init'ed by the caller) is filled, and every key
 * not mapped exactly adds a sentence to warnings saying what was done and
 * what the operator could do instead. Returns 0; or -1 with the reason in
 * err (errno EINVAL: not a dictionary, no Label, no program, a value of
 * the wrong type; ENOMEM). vd may be partly filled on -1: free it.
 */
int	 launchd_to_def(const void *buf, size_t len, struct vm_def *vd,
	    struct strv *warnings, char *err, size_t errlen);
/*
 * A VM name from a launchd Label (DESIGN.md's rule): each run of bytes a
 * name cannot hold becomes one '-', a leading '-' or '.' is dropped, and
 * it is cut at VM_NAME_MAX. 0 if name is label itself, 1 if it had to
 * change, -1 if nothing usable is left.
 */
int	 launchd_name(const char *label, char *name, size_t len);
/* The LaunchDaemon that runs vmsched at boot. */
struct launchd_daemon {
	const char		*ld_label;
	const char *const	*ld_argv;	/* NULL-terminated */
	const char		*ld_user;	/* UserName, or NULL: root */
	const char		*ld_log;	/* StandardErrorPath */
	int64_t			 ld_exit_timeout; /* s; 0: never SIGKILL */
};
/*
 * The LaunchDaemon plist for ld as XML: RunAtLoad and KeepAlive true,
 * ExitTimeOut, AbandonProcessGroup. *xml is NUL-terminated and malloc'ed;
 * the caller frees it. 0, or -1 with errno ENOMEM, or EINVAL when a value
 * is not text an XML document may hold (not UTF-8, a control character):
 * the plist written is always well-formed.
 */
int	 launchd_export(const struct launchd_daemon *ld, char **xml);

/*
 * plistbound.c (issue 10): what a plist may hold, judged on its bytes
 * before libplist parses it. No launchd job comes near these.
 */
#define LAUNCHD_SIZE_MAX	(4 * 1024 * 1024)	/* bytes of the file, and
							 * of its strings and data */
#define LAUNCHD_DEPTH_MAX	32	/* arrays and dictionaries nested */
#define LAUNCHD_VALUES_MAX	65536	/* keys and values in all */
/*
 * Whether the property list buf[0..len) stays within those limits once
 * libplist builds it (every use of a shared binary object counted, as
 * libplist copies it), holds no NUL byte in a key or string, no broken
 * UTF-16, and no XML string that would take libplist quadratic time to
 * unescape. Linear time, no allocation, no recursion. 0, or -1 with the
 * reason, naming the limit, in why.
 */
int	 launchd_bounds(const void *buf, size_t len, char *why,
	    size_t whylen);

/* shortcut.c (issue 12): the hypervisor shortcuts of add, pure. */
enum shortcut_kind {
	SC_NONE,
	SC_VMWARE,	/* --vmware X.vmx: vmware-vmx -x, exec */
	SC_VMRUN,	/* --vmware X.vmx --vmrun */
	SC_LIBVIRT,	/* --libvirt DOMAIN [--connect URI] */
	SC_VIRTUALBOX,	/* --virtualbox NAME */
	SC_QEMU,	/* --qemu -- qemu-system-* ... */
};
/* What a shortcut expands from; strings are the caller's. */
struct shortcut {
	enum shortcut_kind	 sc_kind;
	const char		*sc_target;	/* the .vmx (absolute), the
						   domain, the VirtualBox VM */
	const char		*sc_tool;	/* vmware-vmx, vmrun, virsh,
						   VBoxManage, qemu-system-*:
						   absolute, or (recognize)
						   as the job named it */
	const char		*sc_connect;	/* libvirt's URI */
	const char		*sc_vmrun_type;	/* fusion, ws; NULL: this
						   platform's */
	const char		*sc_pid_dir;	/* libvirt: where the system
						   instance keeps pid files */
	const char		*sc_run_dir;	/* qemu: its pid file and QMP
						   socket go here */
};
/* "--vmware", ...; the tool's name ("vmrun"); where the platform keeps
 * it (absolute paths, NULL-ended; for qemu, directories). Static. */
const char	*shortcut_name(enum shortcut_kind k);
const char	*shortcut_tool(enum shortcut_kind k);
const char *const *shortcut_places(enum shortcut_kind k);
/* vmrun's -T on this platform: "fusion" on macOS, else "ws". */
const char	*shortcut_vmrun_type(void);
/* Whether argv0 is a qemu-system-* (or qemu-kvm) program. */
int	 shortcut_qemu_program(const char *argv0);
/*
 * Fill vd (its name set; for SC_QEMU, vd_argv the operator's qemu
 * command line) with what sc expands to: driver, start command, status
 * command and map, pid file, stop, kill, suspend and resume commands,
 * signals. 0, or -1 with why (errno ENOMEM when why says so).
 */
int	 shortcut_expand(const struct shortcut *sc, struct vm_def *vd,
	    char *why, size_t len);
/*
 * Whether argv is a hypervisor tool's own start (vmware-vmx -x X.vmx,
 * vmrun start X.vmx, VBoxManage startvm N, VBoxHeadless --startvm N,
 * virsh start D): 1 with *sc filled (pointing into argv; sc_tool NULL
 * for VBoxHeadless, whose VBoxManage the caller finds), else 0.
 */
int	 shortcut_recognize(const struct strv *argv, struct shortcut *sc);

/* log.c: messages for operators, on stderr or syslog. */
void	 log_init(const char *progname, int use_syslog);
void	 log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* vmx.c: the settings of a VMware .vmx file an unattended VM needs. */
#define VMX_NREQUIRED	3	/* msg.autoAnswer, signal.powerOffOnTERM/...HUP */
enum vmx_kind {
	VMX_BADLINE,	/* the line does not parse (vf_why) */
	VMX_NOTTRUE,	/* a required key is set to something else */
	VMX_DUPLICATE,	/* a key defined again (vf_first: where first) */
	VMX_MISSING,	/* a required key is absent (vf_line 0) */
};
struct vmx_finding {
	enum vmx_kind	 vf_kind;
	size_t		 vf_line;	/* 1-based; 0: not on a line */
	size_t		 vf_first;	/* VMX_DUPLICATE: the first definition */
	int		 vf_req;	/* the required key concerned, or -1 */
	int		 vf_fixable;	/* vmx_fix repairs it */
	const char	*vf_why;	/* VMX_BADLINE: what is wrong (static) */
};
struct vmx_line;
/* A parsed file; points into the caller's buffer, which must outlive it. */
struct vmx {
	const char		*vx_buf;	/* the file's bytes */
	size_t			 vx_len;
	struct vmx_line		*vx_lines;	/* one per line (opaque) */
	size_t			 vx_nlines;
	size_t			 vx_nbad;	/* lines that do not parse */
	struct vmx_finding	*vx_find;	/* vmx_check's, by line */
	size_t			 vx_nfind;
	int			 vx_checked;	/* vmx_check has run */
	int			 vx_active[VMX_NREQUIRED];	/* keys needed */
};
/*
 * Split buf[0..len) into lines and parse each (the format and the fix
 * rules are described at the top of vmx.c). Lines that do not parse are
 * counted in vx_nbad, not failures. 0, or -1 with errno ENOMEM. Release
 * with vmx_free even after a failure.
 */
int	 vmx_parse(struct vmx *vx, const char *buf, size_t len);
/*
 * Fill vx_find with what is wrong, ordered by line (missing keys last):
 * every unparseable line (and then nothing else), msg.autoAnswer missing or
 * not TRUE, signal.powerOffOnTERM the same when stop_sig is SIGTERM,
 * signal.suspendOnHUP when suspend_sig is SIGHUP, and each later definition
 * of a key (case-insensitive). 0, or -1 with errno ENOMEM.
 */
int	 vmx_check(struct vmx *vx, int stop_sig, int suspend_sig);
/*
 * The file's text with every fixable finding of vmx_check repaired and
 * nothing else changed; *out is malloc'ed (NUL-terminated, *outlen bytes),
 * the caller frees it. Idempotent. -1 with errno EINVAL before vmx_check or
 * when a line does not parse, ENOMEM.
 */
int	 vmx_fix(const struct vmx *vx, char **out, size_t *outlen);
/*
 * One finding in words for the operator, without file or line: what is
 * wrong, or with fixed set what vmx_fix did about it. Returns buf.
 */
char	*vmx_describe(const struct vmx *vx, const struct vmx_finding *f,
	    int fixed, char *buf, size_t len);
/* Release what vmx_parse and vmx_check allocated. */
void	 vmx_free(struct vmx *vx);

/* ---- issue 13: metrics.c, the Prometheus text ---- */
struct db;
struct db_metrics;
/* Every state a VM can be in, as vmsched_vm_state labels; NULL-ended. */
extern const char *const metrics_states[];
/*
 * The exposition text of m to fp: HELP and TYPE lines, every family even
 * without VMs, a one-hot vmsched_vm_state over metrics_states. Pure: it
 * only writes fp.
 */
void	 metrics_format(const struct db_metrics *m, int daemon_up, FILE *fp);
/*
 * Read the figures from db in one snapshot and metrics_format them to fp:
 * the one source of `vmsched metrics` and of the daemon's file. 0, or -1
 * with db->db_err set.
 */
int	 metrics_print(struct db *db, int daemon_up, FILE *fp);
/*
 * metrics_print into path atomically: a new file beside it (mode 0644,
 * for node_exporter), fsync'ed and renamed over it. 0, or -1 with why;
 * nothing is left behind on failure.
 */
int	 metrics_write(struct db *db, const char *path, int daemon_up,
	    char *why, size_t len);
#define METRICS_MIN_MS		1000	/* rewrite at most this often */
#define METRICS_REFRESH_MS	60000	/* ... and at least this often */
/*
 * When the file is due, written last at last (monotonic ms; 0: never):
 * now if never written, METRICS_MIN_MS after last if the database has
 * changed, else METRICS_REFRESH_MS after it.
 */
int64_t	 metrics_due(int64_t last, int64_t now, int changed);
/* The daemon's metrics file. */
struct metrics_file {
	const char	*mf_path;	/* NULL: none asked for */
	int64_t		 mf_stamp;	/* db_change_stamp when last written */
	int64_t		 mf_last;	/* written last, monotonic ms; 0: never */
	int		 mf_changed;	/* a change waits for the rate limit */
	int		 mf_failing;	/* the last write failed (warned) */
};
void	 metrics_file_init(struct metrics_file *mf, const char *path);
/* After each turn of the daemon's loop: write the file if it is due. */
void	 metrics_tick(struct metrics_file *mf, struct db *db);
/* The loop's poll timeout_ms (-1: none), shortened to when mf is due. */
int	 metrics_timeout(const struct metrics_file *mf, int timeout_ms);
/* The daemon is stopping: write the file once more, daemon_up 0. */
void	 metrics_done(struct metrics_file *mf, struct db *db);
/* ---- end of issue 13 ---- */

/* hook.c: the webhook sender (libcurl and libcrypto live only here). */
struct hook;
struct db;
/*
 * Start the sender: a thread with its own connection to the database at
 * dbpath, delivering pending events in order. NULL with the reason in err
 * if the database cannot be opened or the thread not started.
 */
struct hook	*hook_start(const char *dbpath, char *err, size_t errlen);
/* New events were committed: look now. Cheap; never blocks on I/O. */
void	 hook_wake(struct hook *h);
/*
 * Stop the sender, abandoning (not counting) a request in flight, and free
 * it. Returns within a few seconds even if the receiver hangs; NULL is
 * ignored.
 */
void	 hook_stop(struct hook *h);
/* The result of one request. */
struct hook_try {
	long	 ht_status;		/* HTTP status; 0: no answer */
	int	 ht_timeout;		/* no answer in time */
	int64_t	 ht_retry_after_ms;	/* Retry-After; 0: none */
	char	 ht_error[256];		/* why it failed, for the operator */
};
/*
 * vmsched webhook test: record a webhook.test event (uid: who asks) and
 * send it now, once, to the configured webhook, waiting for the answer;
 * the event ends delivered or failed. 0 with *ht filled whatever the
 * receiver said; a db status (db->db_err says why; DB_NOTFOUND: no webhook
 * is set) if it could not be tried.
 */
int	 hook_test(struct db *db, long uid, struct hook_try *ht);
/* Whether url is an absolute http:// or https:// URL with a host. */
int	 hook_url_check(const char *url, const char **why);
/* HMAC-SHA256 of msg with key, as 64 lowercase hex digits and a NUL. */
int	 hook_sign(const void *key, size_t keylen, const void *msg,
	    size_t len, char hex[65]);
/* ---- issue 13: Standard Webhooks 1.0 signatures ---- */
#define HOOK_STD_PREFIX		"whsec_"
#define HOOK_STD_SIG_LEN	48	/* "v1," 44 base64 digits, NUL */
/*
 * The Standard Webhooks key of secret into key (room for strlen(secret)
 * bytes), *keylen its length: the bytes a "whsec_" secret's base64 stands
 * for; any other secret's own bytes. -1 for "whsec_" and no padded
 * base64 of at least one byte after it.
 */
int	 hook_std_key(const char *secret, unsigned char *key, size_t *keylen);
/*
 * The webhook-signature header's value for message id sent at ts (Unix
 * seconds) with body: "v1," and the base64 HMAC-SHA256, keyed with
 * hook_std_key, of "id.ts.body". Into sig (HOOK_STD_SIG_LEN); 0 or -1.
 */
int	 hook_std_sign(const char *secret, const char *id, int64_t ts,
	    const char *body, size_t len, char *sig, size_t siglen);
/* ---- end of issue 13 ---- */

#endif
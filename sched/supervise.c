/*
 * supervise.c: the daemon. One loop sleeps in poll() until the nearest
 * deadline, a signal (through the self-pipe) or an adopted process's exit;
 * it then reaps children, acts on requests from the CLI, and fires due
 * deadlines. Each VM is a small state machine (DESIGN.md, "The daemon");
 * what follows an exit is decided by policy_decide() and written, with the
 * run row and the events, in one transaction by db_sup_change(). The loop
 * itself only forks, signals and records.
 *
 * Boot follows the plan's waves (plan_waves): a wave's VMs start once every
 * VM of the earlier waves has settled (up, failed, blocked, or past its
 * wait timeout), each after the VMs it depends on are up, at most
 * max-parallel-starts at a time between start and up. Before every start
 * the VM's gates are checked; a check that could block (TCP, a command)
 * runs in a child, `vmsched probe` or /bin/sh, whose exit the reaper reads.
 * Shutdown stops the waves in reverse, one wave at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "sched.h"
#include "../db/db.h"

#define RELOAD_MS	60000	/* safety re-read of requests */
#define ADOPT_POLL_MS	1000	/* liveness check without a pidfd */
#define GATE_POLL_MS	250	/* between checks of a shut gate */
#define PROBE_MAX_MS	10000	/* a probe still running is killed */
#define MAX_GROUPS	256

enum vstate {
	VS_DISABLED, VS_STOPPED, VS_WAITING, VS_STARTING, VS_RUNNING, VS_UP,
	VS_BACKOFF, VS_FAILED, VS_BLOCKED, VS_STOPPING, VS_SUSPENDING,
	VS_SUSPENDED,
};

static const char *vstates[] = {
	[VS_DISABLED] = "disabled", [VS_STOPPED] = "stopped",
	[VS_WAITING] = "waiting", [VS_STARTING] = "starting",
	[VS_RUNNING] = "running", [VS_UP] = "up", [VS_BACKOFF] = "backoff",
	[VS_FAILED] = "failed", [VS_BLOCKED] = "blocked",
	[VS_STOPPING] = "stopping", [VS_SUSPENDING] = "suspending",
	[VS_SUSPENDED] = "suspended",
};

/* Why the daemon asked a VM's process to end. */
enum ask {
	ASK_NONE,
	ASK_STOP,	/* vmsched stop */
	ASK_SUSPEND,	/* vmsched suspend */
	ASK_RESTART,	/* vmsched restart: start again once it is gone */
	ASK_SHUTDOWN,	/* the daemon is stopping */
};

enum want { WANT_UP, WANT_DOWN, WANT_SUSPENDED };

/* One supervised VM. */
struct vm {
	int64_t		 v_id;
	char		 v_name[VM_NAME_MAX + 1];
	int		 v_order;
	int		 v_enabled;
	enum want	 v_want;		/* desired state */
	enum vstate	 v_state;
	struct vm_def	 v_def;			/* as of its last start */
	pid_t		 v_pid;			/* 0: no process */
	int64_t		 v_pid_start;
	int		 v_adopted;		/* not our child */
	int		 v_pidfd;		/* adopted: readable at exit */
	int64_t		 v_run_id;		/* the open run */
	int64_t		 v_started_wall;	/* run start, Unix ms */
	int64_t		 v_started;		/* run start, monotonic */
	int64_t		 v_up_since;		/* monotonic, 0: not up */
	int		 v_failures;		/* consecutive */
	int		 v_restarts;		/* total */
	int64_t		 v_deadline;		/* monotonic, 0: none */
	enum ask	 v_ask;			/* why it is ending */
	int		 v_killed;		/* SIGKILL sent */
	int64_t		 v_request;		/* last CLI request acted on */
	char		 v_boot_id[64];		/* boot of its last start */
	int		 v_gone;		/* definition removed */
	int		 v_wave;		/* boot wave; 0: not planned */
	int		 v_boot;		/* still to be started this boot */
	int		 v_settled;		/* past its wait timeout: the
						   next wave need not wait */
	int		 v_begin_restart;	/* the start under way restarts */
	size_t		 v_gate;		/* next gate to check */
	int64_t		 v_wait_since;		/* gates checked since (mono) */
	int64_t		 v_wait_since_wall;
	pid_t		 v_probe;		/* gate or ready check running */
};

/* The daemon. */
struct sched {
	struct db		 s_db;
	const struct sched_opts	*s_opts;
	const struct driver	*s_drv;
	struct vm		*s_vms;
	size_t			 s_nvms;
	char			 s_boot_id[64];
	struct ratelimit	 s_rate;	/* fleet-wide restarts */
	int64_t			 s_reload_at;	/* next safety reload */
	int			 s_shutdown;	/* SIGTERM seen */
	int			 s_lockfd;
	struct hook		*s_hook;	/* webhook sender, or NULL */
	int			 s_booting;	/* VMs are left to boot */
};

/* The only globals: the signal plumbing. */
static int	sigpipe_w = -1;

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	(void)!write(sigpipe_w, &c, 1);
	errno = saved;
}

static int
setup_signals(int fds[2])
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct sigaction sa;
	size_t i;

	if (pipe(fds) == -1)
		return -1;
	for (i = 0; i < 2; i++)
		if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) == -1 ||
		    fcntl(fds[i], F_SETFL, O_NONBLOCK) == -1)
			return -1;
	sigpipe_w = fds[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int
is_live(const struct vm *v)
{
	return v->v_pid > 0;
}

static double
jitter(void)
{
	return 2.0 * ((double)random() / (double)RAND_MAX) - 1.0;
}

/* The change record for v as it is now; callers fill in the rest. */
static void
change_init(struct vm *v, struct db_change *c, enum vstate state)
{
	memset(c, 0, sizeof(*c));
	c->c_vm_id = v->v_id;
	c->c_vm = v->v_name;
	c->c_state = vstates[state];
	c->c_at = now_ms();
	c->c_pid = v->v_pid > 0 ? (long)v->v_pid : -1;
	c->c_pid_start = v->v_pid_start;
	c->c_run_id = v->v_run_id;
	c->c_failures = v->v_failures;
	c->c_restarts = v->v_restarts;
	c->c_handled = -1;
	c->c_code = -1;
	c->c_delay_ms = -1;
}

/* Write c; the daemon carries on whatever the store says. */
static void
record(struct sched *s, struct vm *v, struct db_change *c, enum vstate state)
{
	v->v_state = state;
	if (db_sup_change(&s->s_db, c) != DB_OK)
		log_warnx("%s: recording %s: %s", v->v_name, c->c_state,
		    s->s_db.db_err);
	else if (c->c_events[0] != NULL && s->s_hook != NULL)
		hook_wake(s->s_hook);
}

/* Move v to state with no run change, optionally with one event. */
static void
set_state(struct sched *s, struct vm *v, enum vstate state, const char *why,
    const char *event)
{
	struct db_change c;

	change_init(v, &c, state);
	c.c_why = why;
	c.c_events[0] = event;
	c.c_handled = v->v_request;
	record(s, v, &c, state);
}

/* The log file of a VM: its own, or <db dir>/logs/<name>.log. 0 or -1. */
static int
log_path(struct sched *s, const struct vm *v, char *buf, size_t len)
{
	return vm_def_log_path(&v->v_def, s->s_opts->so_dbpath, buf, len);
}

/*
 * The environment of a VM: the daemon's, less what the VM sets, plus the
 * VM's; with a run-as user, its HOME, USER and LOGNAME. NULL on ENOMEM.
 */
static char **
make_env(const struct vm_def *vd, const struct passwd *pw, char ***owned)
{
	extern char **environ;
	char **env, **mine;
	size_t n = 0, k = 0, i;

	for (i = 0; environ[i] != NULL; i++)
		n++;
	env = calloc(n + vd->vd_env.sv_n + 4, sizeof(*env));
	mine = calloc(4, sizeof(*mine));
	if (env == NULL || mine == NULL) {
		free(env);
		free(mine);
		return NULL;
	}
	for (i = 0; environ[i] != NULL; i++) {
		if (strv_find_key(&vd->vd_env, environ[i]) >= 0)
			continue;
		if (pw != NULL && (strncmp(environ[i], "HOME=", 5) == 0 ||
		    strncmp(environ[i], "USER=", 5) == 0 ||
		    strncmp(environ[i], "LOGNAME=", 8) == 0))
			continue;
		env[k++] = environ[i];
	}
	if (pw != NULL) {
		size_t m = 0;
		const char *keys[] = { "HOME", "USER", "LOGNAME" };
		const char *vals[] = { pw->pw_dir, pw->pw_name, pw->pw_name };
		for (i = 0; i < 3; i++) {
			size_t len = strlen(keys[i]) + strlen(vals[i]) + 2;
			if ((mine[m] = malloc(len)) == NULL)
				break;
			snprintf(mine[m], len, "%s=%s", keys[i], vals[i]);
			env[k++] = mine[m++];
		}
	}
	for (i = 0; i < vd->vd_env.sv_n; i++)
		env[k++] = vd->vd_env.sv_v[i];
	*owned = mine;
	return env;
}

static void
free_env(char **env, char **owned)
{
	size_t i;

	for (i = 0; owned != NULL && owned[i] != NULL; i++)
		free(owned[i]);
	free(owned);
	free(env);
}

/*
 * Resolve the run-as user into sp. -1 with why if it cannot be: unknown,
 * or another user while the daemon is not root.
 */
static int
resolve_user(const struct vm_def *vd, struct spawn *sp, gid_t *groups,
    struct passwd **pwp, char *why, size_t len)
{
	struct passwd *pw;
	int n = MAX_GROUPS;

	*pwp = NULL;
	if (vd->vd_user == NULL)
		return 0;
	errno = 0;
	if ((pw = getpwnam(vd->vd_user)) == NULL) {
		snprintf(why, len, "user %s: %s", vd->vd_user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	*pwp = pw;
	if (pw->pw_uid == geteuid())
		return 0;
	if (geteuid() != 0) {
		snprintf(why, len, "user %s: running as another user needs "
		    "the daemon to run as root", vd->vd_user);
		return -1;
	}
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
		n = 1, groups[0] = pw->pw_gid;
	sp->sp_setuser = 1;
	sp->sp_uid = pw->pw_uid;
	sp->sp_gid = pw->pw_gid;
	sp->sp_groups = groups;
	sp->sp_ngroups = n;
	return 0;
}

static void	 vm_exited(struct sched *, struct vm *, int, int, int,
		    const char *);

/*
 * Run a probe for v: `vmsched probe tcp HOST:PORT` or /bin/sh -c CMD,
 * its output going to the VM's log. 0, or -1 if it could not start.
 */
static int
probe_start(struct sched *s, struct vm *v, enum gate_kind kind,
    const char *arg)
{
	extern char **environ;
	char *argv[5], logfile[PATH_MAX], why[256];
	struct spawn sp;
	pid_t pid;

	if (kind == GATE_CMD) {
		argv[0] = (char *)(uintptr_t)"/bin/sh";
		argv[1] = (char *)(uintptr_t)"-c";
		argv[2] = (char *)(uintptr_t)arg;
		argv[3] = NULL;
	} else {
		argv[0] = (char *)(uintptr_t)s->s_opts->so_self;
		argv[1] = (char *)(uintptr_t)"probe";
		argv[2] = (char *)(uintptr_t)"tcp";
		argv[3] = (char *)(uintptr_t)arg;
		argv[4] = NULL;
	}
	memset(&sp, 0, sizeof(sp));
	sp.sp_argv = argv;
	sp.sp_envp = environ;
	sp.sp_log = log_path(s, v, logfile, sizeof(logfile)) == 0 ? logfile :
	    "/dev/null";
	if (driver_exec.drv_start(&sp, &pid, why, sizeof(why)) == -1) {
		log_warnx("%s: gate check: %s", v->v_name, why);
		return -1;
	}
	v->v_probe = pid;
	v->v_deadline = mono_ms() + PROBE_MAX_MS;
	return 0;
}

static void	 vm_spawn(struct sched *, struct vm *);
static void	 gate_step(struct sched *, struct vm *);

/*
 * Start v: load its definition (changes take effect now), then check its
 * gates, then spawn. is_restart counts toward restarts and the fleet-wide
 * restart rate; a start the rate limit defers stays in backoff.
 */
static void
vm_start(struct sched *s, struct vm *v, int is_restart)
{
	int64_t wait, now = mono_ms();

	if (is_restart && (wait = ratelimit_take(&s->s_rate, now)) > 0) {
		v->v_deadline = now + wait;
		if (v->v_state != VS_BACKOFF)
			set_state(s, v, VS_BACKOFF, "fleet restart rate limit",
			    NULL);
		return;
	}
	vm_def_free(&v->v_def);
	if (db_vm_get(&s->s_db, v->v_name, &v->v_def) != DB_OK) {
		log_warnx("%s: cannot load its definition: %s", v->v_name,
		    s->s_db.db_err);
		v->v_deadline = 0;
		return;
	}
	v->v_boot = 0;
	v->v_begin_restart = is_restart;
	v->v_gate = 0;
	v->v_wait_since = now;
	v->v_wait_since_wall = now_ms();
	v->v_deadline = 0;
	gate_step(s, v);
}

/*
 * Check v's gates from v->v_gate on; spawn once all are open. A shut gate
 * is checked again after GATE_POLL_MS, until the wait timeout, which
 * records a gate-timeout run and retries under backoff.
 */
static void
gate_step(struct sched *s, struct vm *v)
{
	const struct gate *g;
	char why[512], what[600];
	int64_t now = mono_ms(), end;

	while (v->v_gate < v->v_def.vd_ngates) {
		g = &v->v_def.vd_gates[v->v_gate];
		snprintf(what, sizeof(what), "wait-%s %s",
		    value_gate_name(g->g_kind), g->g_arg);
		end = v->v_wait_since + v->v_def.vd_wait_timeout_ms;
		if (now >= end) {
			v->v_settled = 1;
			log_warnx("%s: %s: still shut after %lldms", v->v_name,
			    what, (long long)v->v_def.vd_wait_timeout_ms);
			v->v_started = v->v_wait_since;
			v->v_started_wall = v->v_wait_since_wall;
			vm_exited(s, v, -1, 0, RUN_GATE_TIMEOUT, what);
			return;
		}
		if (g->g_kind == GATE_PATH) {
			if (probe_path(g->g_arg, why, sizeof(why)) == 0) {
				v->v_gate++;
				continue;
			}
			v->v_deadline = now + GATE_POLL_MS < end ?
			    now + GATE_POLL_MS : end;
		} else if (probe_start(s, v, g->g_kind, g->g_arg) == -1)
			v->v_deadline = now + GATE_POLL_MS;
		if (v->v_state != VS_WAITING)
			set_state(s, v, VS_WAITING, what, NULL);
		return;
	}
	vm_spawn(s, v);
}

/* v is up: running long enough and, with --ready-tcp, answering. */
static void
vm_up(struct sched *s, struct vm *v)
{
	struct db_change c;

	v->v_up_since = mono_ms();
	v->v_deadline = 0;
	change_init(v, &c, VS_UP);
	c.c_events[0] = "vm.up";
	record(s, v, &c, VS_UP);
}

/* Spawn v's process; its gates are open. */
static void
vm_spawn(struct sched *s, struct vm *v)
{
	struct db_change c;
	struct spawn sp;
	struct passwd *pw;
	gid_t groups[MAX_GROUPS];
	char why[512], logfile[PATH_MAX], **env = NULL, **owned = NULL;
	int64_t now = mono_ms();
	int is_restart = v->v_begin_restart;
	pid_t pid;

	memset(&sp, 0, sizeof(sp));
	sp.sp_argv = v->v_def.vd_argv.sv_v;
	sp.sp_cwd = v->v_def.vd_cwd;
	v->v_deadline = 0;
	v->v_ask = ASK_NONE;
	v->v_killed = 0;
	v->v_started = now;
	v->v_started_wall = now_ms();
	v->v_up_since = 0;
	if (is_restart)
		v->v_restarts++;
	snprintf(v->v_boot_id, sizeof(v->v_boot_id), "%s", s->s_boot_id);
	if (log_path(s, v, logfile, sizeof(logfile)) == -1) {
		vm_exited(s, v, -1, 0, RUN_EXEC_FAILED, "log file path too long");
		return;
	}
	sp.sp_log = logfile;

	if (resolve_user(&v->v_def, &sp, groups, &pw, why, sizeof(why)) == -1 ||
	    (env = make_env(&v->v_def, pw, &owned)) == NULL ||
	    (sp.sp_envp = env, s->s_drv->drv_start(&sp, &pid, why,
	    sizeof(why))) == -1) {
		if (env == NULL && pw != NULL)
			snprintf(why, sizeof(why), "%s", strerror(ENOMEM));
		free_env(env, owned);
		log_warnx("%s: cannot start: %s", v->v_name, why);
		vm_exited(s, v, -1, 0, RUN_EXEC_FAILED, why);
		return;
	}
	free_env(env, owned);
	v->v_pid = pid;
	v->v_adopted = 0;
	v->v_pidfd = -1;
	if (proc_start_time(pid, &v->v_pid_start) == -1)
		v->v_pid_start = 0;
	change_init(v, &c, VS_RUNNING);
	c.c_run = CHANGE_RUN_OPEN;
	c.c_started_at = v->v_started_wall;
	c.c_boot_id = s->s_boot_id;
	c.c_handled = v->v_request;
	c.c_events[0] = "vm.started";
	if (v->v_def.vd_up_delay_ms == 0 && v->v_def.vd_ready_tcp == NULL) {
		v->v_up_since = now;
		c.c_state = vstates[VS_UP];
		c.c_events[1] = "vm.up";
	} else
		v->v_deadline = now + v->v_def.vd_up_delay_ms;
	record(s, v, &c, v->v_up_since ? VS_UP : VS_RUNNING);
	v->v_run_id = c.c_run_id;
	log_debug("%s: started pid %ld", v->v_name, (long)pid);
}

/*
 * v's process ended (or never started: reason RUN_EXEC_FAILED, or it was
 * adopted and its status is unknown: RUN_ADOPTED), detail saying more or
 * NULL. Record the run's end and what follows, in one transaction, then
 * act on it.
 */
static void
vm_exited(struct sched *s, struct vm *v, int code, int sig, int reason,
    const char *detail)
{
	struct db_change c;
	struct run_end re;
	struct decision d;
	enum vstate next;
	int64_t now = mono_ms();
	enum ask ask = v->v_ask;
	int ev = 0, ran = reason != RUN_EXEC_FAILED &&
	    reason != RUN_GATE_TIMEOUT;

	memset(&re, 0, sizeof(re));
	re.re_code = code;
	re.re_signal = sig;
	re.re_ran_ms = ran ? now - v->v_started : 0;
	re.re_up_ms = v->v_up_since ? now - v->v_up_since : 0;
	if (ask != ASK_NONE && ran) {
		re.re_requested = 1;
		reason = v->v_killed ? RUN_KILLED : ask == ASK_SUSPEND ?
		    RUN_SUSPENDED : RUN_STOPPED;
	} else if (reason == RUN_EXITED && sig > 0)
		reason = RUN_CRASHED;
	re.re_reason = (enum run_reason)reason;
	policy_decide(&v->v_def, v->v_failures, &re, jitter(), &d);

	change_init(v, &c, VS_STOPPED);
	c.c_pid = -1;
	c.c_run = ran ? CHANGE_RUN_CLOSE : CHANGE_RUN_ONESHOT;
	c.c_started_at = v->v_started_wall;
	c.c_boot_id = s->s_boot_id;
	c.c_code = code;
	c.c_signal = sig;
	c.c_reason = run_reason_name(re.re_reason);
	c.c_detail = detail;
	c.c_rule = d.d_rule;
	c.c_failures = d.d_failures;
	c.c_breaker = d.d_breaker;
	c.c_handled = v->v_request;
	if (reason == RUN_GATE_TIMEOUT)
		c.c_events[ev++] = "vm.blocked";
	else
		c.c_events[ev++] = "vm.exited";

	if (ask == ASK_SUSPEND) {
		next = VS_SUSPENDED;
		c.c_events[ev++] = "vm.suspended";
	} else if (ask == ASK_RESTART) {
		next = VS_STARTING;
	} else if (ask != ASK_NONE) {
		next = VS_STOPPED;
		c.c_events[ev++] = "vm.stopped";
	} else if (d.d_breaker) {
		next = VS_FAILED;
		c.c_events[ev++] = "vm.failed";
		log_warnx("%s: %s", v->v_name, d.d_rule);
	} else if (d.d_restart) {
		next = VS_BACKOFF;
		c.c_delay_ms = d.d_delay_ms;
		c.c_next_start_at = now_ms() + d.d_delay_ms;
		c.c_events[ev++] = "vm.restart_scheduled";
	} else
		next = VS_STOPPED;
	c.c_state = vstates[next];
	v->v_pid = 0;
	v->v_pid_start = 0;
	if (v->v_pidfd >= 0)
		close(v->v_pidfd);
	v->v_pidfd = -1;
	v->v_adopted = 0;
	v->v_up_since = 0;
	v->v_failures = d.d_failures;
	v->v_ask = ASK_NONE;
	v->v_deadline = 0;
	record(s, v, &c, next);
	v->v_run_id = 0;

	if (s->s_shutdown)
		return;
	/* Even a zero delay goes through the deadline pass, never a start
	 * from inside reap(): a VM that exits at once would keep the loop
	 * reaping and starting it, deaf to signals and to other exits. */
	if (next == VS_STARTING || next == VS_BACKOFF)
		v->v_deadline = now + (next == VS_BACKOFF ? d.d_delay_ms : 0);
}

/* Ask v's process to end: stop (then SIGKILL after the timeout) or suspend. */
static void
vm_ask(struct sched *s, struct vm *v, enum ask ask)
{
	int sig = ask == ASK_SUSPEND ? v->v_def.vd_suspend_signal :
	    v->v_def.vd_stop_signal;
	enum vstate next = ask == ASK_SUSPEND ? VS_SUSPENDING : VS_STOPPING;

	v->v_ask = ask;
	if (s->s_drv->drv_signal(v->v_pid, sig) == -1 && errno != ESRCH)
		log_warn("%s: signal %d to pid %ld", v->v_name, sig,
		    (long)v->v_pid);
	/* A suspending VM is given all the time it needs: killing it half
	 * way through writing its memory out would lose the guest. */
	v->v_deadline = ask != ASK_SUSPEND && v->v_def.vd_stop_timeout_ms > 0 ?
	    mono_ms() + v->v_def.vd_stop_timeout_ms : 0;
	set_state(s, v, next, NULL, NULL);
}

static struct vm *
vm_find_pid(struct sched *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->s_nvms; i++)
		if (s->s_vms[i].v_pid == pid && !s->s_vms[i].v_adopted)
			return &s->s_vms[i];
	return NULL;
}

static struct vm *
vm_find_probe(struct sched *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->s_nvms; i++)
		if (s->s_vms[i].v_probe == pid)
			return &s->s_vms[i];
	return NULL;
}

/* A gate or readiness probe of v ended; open says how. */
static void
probe_done(struct sched *s, struct vm *v, int open)
{
	int64_t now = mono_ms();

	v->v_probe = 0;
	v->v_deadline = 0;
	if (v->v_state == VS_WAITING) {
		if (open)
			v->v_gate++;
		else
			v->v_deadline = now + GATE_POLL_MS;
		if (open)
			gate_step(s, v);
		return;
	}
	if (v->v_state == VS_RUNNING && is_live(v)) {
		if (open) {
			vm_up(s, v);
			return;
		}
		if (!v->v_settled && now - v->v_started >=
		    v->v_def.vd_wait_timeout_ms) {
			/* Not ready in time: later waves go on without it. */
			v->v_settled = 1;
			log_warnx("%s: --ready-tcp %s: no answer after %lldms",
			    v->v_name, v->v_def.vd_ready_tcp,
			    (long long)v->v_def.vd_wait_timeout_ms);
		}
		v->v_deadline = now + GATE_POLL_MS;
	}
}

static void
reap(struct sched *s)
{
	struct vm *v;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((v = vm_find_probe(s, pid)) != NULL) {
			probe_done(s, v, WIFEXITED(status) &&
			    WEXITSTATUS(status) == 0);
			continue;
		}
		if ((v = vm_find_pid(s, pid)) == NULL) {
			log_warnx("reaped pid %ld, which is no VM of ours",
			    (long)pid);
			continue;
		}
		if (WIFSIGNALED(status))
			vm_exited(s, v, -1, WTERMSIG(status), RUN_EXITED,
			    NULL);
		else
			vm_exited(s, v, WEXITSTATUS(status), 0, RUN_EXITED,
			    NULL);
	}
}

/* Watch a process that is not our child: a pidfd where there is one. */
static int
open_pidfd(pid_t pid)
{
#if defined(__linux__) && defined(SYS_pidfd_open)
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
#else
	(void)pid;
	return -1;
#endif
}

static enum want
want_of(const char *desired)
{
	if (strcmp(desired, "down") == 0)
		return WANT_DOWN;
	if (strcmp(desired, "suspended") == 0)
		return WANT_SUSPENDED;
	return WANT_UP;
}

static enum vstate
vstate_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(vstates) / sizeof(vstates[0]); i++)
		if (strcmp(vstates[i], name) == 0)
			return (enum vstate)i;
	return VS_STOPPED;
}

/*
 * Act on a request from the CLI: its desired state and pending action
 * (start, restart, reset). Every request is acknowledged by writing the
 * request number back, so the CLI knows the daemon has seen it.
 */
static void
vm_request(struct sched *s, struct vm *v, const struct db_sup_row *r)
{
	const char *p = r->sr_pending ? r->sr_pending : "";
	int start = strcmp(p, "start") == 0, reset = strcmp(p, "reset") == 0,
	    restart = strcmp(p, "restart") == 0;

	v->v_request = r->sr_request;
	v->v_want = want_of(r->sr_desired);
	if (start || reset)
		v->v_failures = 0;
	if (is_live(v)) {
		if (restart)
			vm_ask(s, v, ASK_RESTART);
		else if (v->v_want == WANT_DOWN && v->v_ask == ASK_NONE)
			vm_ask(s, v, ASK_STOP);
		else if (v->v_want == WANT_SUSPENDED && v->v_ask == ASK_NONE)
			vm_ask(s, v, ASK_SUSPEND);
		else
			set_state(s, v, v->v_state, NULL, NULL);
	} else if (v->v_want == WANT_UP && (start || restart ||
	    (reset && v->v_state == VS_FAILED)))
		vm_start(s, v, 0);
	else if (v->v_want != WANT_UP && (v->v_state == VS_BACKOFF ||
	    v->v_state == VS_WAITING || v->v_state == VS_BLOCKED)) {
		/* Not running yet: give up the start. */
		v->v_deadline = 0;
		v->v_boot = 0;
		if (v->v_probe > 0)
			driver_exec.drv_signal(v->v_probe, SIGKILL);
		set_state(s, v, VS_STOPPED, NULL, "vm.stopped");
	} else
		set_state(s, v, v->v_state, NULL, NULL);
}

struct load {
	struct sched	*l_s;
	int		 l_boot;	/* first load: adopt and boot */
	unsigned char	*l_seen;	/* per VM: still defined */
};

static struct vm *
vm_find_id(struct sched *s, int64_t id)
{
	size_t i;

	for (i = 0; i < s->s_nvms; i++)
		if (s->s_vms[i].v_id == id)
			return &s->s_vms[i];
	return NULL;
}

/* At boot: take over v's recorded process if it still runs, else close
 * its run as ended while nobody watched. */
static void
vm_adopt(struct sched *s, struct vm *v, const struct db_sup_row *r)
{
	if (r->sr_run_id == 0)
		return;
	v->v_run_id = r->sr_run_id;
	v->v_started_wall = r->sr_run_started;
	v->v_started = mono_ms() - (now_ms() - r->sr_run_started);
	if (db_vm_get(&s->s_db, v->v_name, &v->v_def) != DB_OK)
		log_warnx("%s: %s", v->v_name, s->s_db.db_err);
	if (r->sr_pid > 0 && proc_alive((pid_t)r->sr_pid, r->sr_pid_start)) {
		v->v_pid = (pid_t)r->sr_pid;
		v->v_pid_start = r->sr_pid_start;
		v->v_adopted = 1;
		v->v_pidfd = open_pidfd(v->v_pid);
		v->v_up_since = v->v_state == VS_UP ? v->v_started : 0;
		if (v->v_state == VS_STOPPING || v->v_state == VS_SUSPENDING)
			v->v_ask = v->v_state == VS_STOPPING ? ASK_STOP :
			    ASK_SUSPEND;
		if (v->v_pidfd < 0)
			v->v_deadline = mono_ms() + ADOPT_POLL_MS;
		else if (v->v_state == VS_RUNNING)
			v->v_deadline = mono_ms();	/* up check */
		log_info("%s: adopted pid %ld", v->v_name, (long)v->v_pid);
		return;
	}
	v->v_pid = r->sr_pid > 0 ? (pid_t)r->sr_pid : 0;
	v->v_adopted = 1;
	v->v_pidfd = -1;
	vm_exited(s, v, -1, 0, RUN_ADOPTED, "ended while no daemon watched");
}

static int
load_row(const struct db_sup_row *r, void *arg)
{
	struct load *l = arg;
	struct sched *s = l->l_s;
	struct vm *v, *nv;

	if ((v = vm_find_id(s, r->sr_id)) == NULL) {
		nv = realloc(s->s_vms, (s->s_nvms + 1) * sizeof(*nv));
		if (nv == NULL) {
			log_warn("%s", r->sr_name);
			return 0;
		}
		s->s_vms = nv;
		v = &s->s_vms[s->s_nvms++];
		memset(v, 0, sizeof(*v));
		vm_def_init(&v->v_def);
		v->v_id = r->sr_id;
		v->v_pidfd = -1;
		snprintf(v->v_name, sizeof(v->v_name), "%s", r->sr_name);
		v->v_state = vstate_of(r->sr_state);
		v->v_failures = r->sr_failures;
		v->v_restarts = r->sr_restarts;
		/* What the last daemon acted on: a request made since (even
		 * while this daemon was starting) is still to be acted on. */
		v->v_request = r->sr_handled;
		v->v_want = want_of(r->sr_desired);
		if (r->sr_boot_id != NULL)
			snprintf(v->v_boot_id, sizeof(v->v_boot_id), "%s",
			    r->sr_boot_id);
		if (l->l_boot)
			vm_adopt(s, v, r);
		else if (!is_live(v))
			v->v_state = r->sr_enabled ? VS_STOPPED : VS_DISABLED;
	}
	v->v_enabled = r->sr_enabled;
	v->v_order = r->sr_order;
	v->v_gone = 0;
	if (!l->l_boot && r->sr_request != v->v_request && !s->s_shutdown)
		vm_request(s, v, r);
	else if (!is_live(v) && v->v_state == VS_DISABLED && r->sr_enabled)
		v->v_state = VS_STOPPED;
	return 0;
}

/* Re-read definitions and requests; forget removed VMs once they are gone. */
static void
reload(struct sched *s, int boot)
{
	struct load l = { s, boot, NULL };
	size_t i, j;

	for (i = 0; i < s->s_nvms; i++)
		s->s_vms[i].v_gone = 1;
	if (db_sup_load(&s->s_db, NULL, load_row, &l) != DB_OK) {
		log_warnx("reading requests: %s", s->s_db.db_err);
		for (i = 0; i < s->s_nvms; i++)
			s->s_vms[i].v_gone = 0;
	}
	for (i = j = 0; i < s->s_nvms; i++) {
		if (s->s_vms[i].v_gone && !is_live(&s->s_vms[i])) {
			vm_def_free(&s->s_vms[i].v_def);
			continue;
		}
		s->s_vms[j++] = s->s_vms[i];
	}
	s->s_nvms = j;
	s->s_reload_at = mono_ms() + RELOAD_MS;
}

/* Give every VM its wave of the boot plan (0 if the plan cannot be made). */
static void
plan_load(struct sched *s)
{
	struct db_graph g;
	struct vm *v;
	int *wave = NULL;
	size_t i;

	if (db_graph_load(&s->s_db, &g) != DB_OK) {
		log_warnx("boot plan: %s", s->s_db.db_err);
		return;
	}
	if ((wave = calloc(g.g_n + 1, sizeof(*wave))) == NULL ||
	    plan_waves(g.g_n, g.g_order, g.g_edges, g.g_nedges, wave) == -1)
		log_warn("boot plan (a dependency cycle?): starting "
		    "without order");
	else
		for (i = 0; i < g.g_n; i++)
			if ((v = vm_find_id(s, g.g_ids[i])) != NULL)
				v->v_wave = wave[i];
	free(wave);
	db_graph_free(&g);
}

/*
 * At boot: mark every enabled VM that should run; boot_step starts them
 * wave by wave. A `restart never` VM that ran in this boot stays down.
 */
static void
boot(struct sched *s)
{
	struct vm *v;
	size_t i;

	plan_load(s);
	for (i = 0; i < s->s_nvms; i++) {
		v = &s->s_vms[i];
		if (is_live(v) || !v->v_enabled || v->v_want != WANT_UP ||
		    v->v_state == VS_FAILED)
			continue;
		vm_def_free(&v->v_def);
		if (db_vm_get(&s->s_db, v->v_name, &v->v_def) != DB_OK) {
			log_warnx("%s: %s", v->v_name, s->s_db.db_err);
			continue;
		}
		if (v->v_def.vd_restart == RESTART_NEVER &&
		    strcmp(v->v_boot_id, s->s_boot_id) == 0) {
			set_state(s, v, VS_STOPPED, "ran once this boot", NULL);
			continue;
		}
		v->v_boot = 1;
		s->s_booting = 1;
	}
}

/* Whether v no longer holds back later waves. */
static int
settled(const struct vm *v)
{
	/* Blocked, it waits for the operator: later waves go on. */
	if (v->v_boot)
		return v->v_state == VS_BLOCKED;
	switch (v->v_state) {
	case VS_UP:
	case VS_FAILED:
	case VS_BLOCKED:
	case VS_STOPPED:
	case VS_DISABLED:
	case VS_SUSPENDED:
		return 1;
	default:
		return v->v_settled;
	}
}

/* A VM by name, or NULL. */
static struct vm *
vm_find_name(struct sched *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->s_nvms; i++)
		if (strcmp(s->s_vms[i].v_name, name) == 0)
			return &s->s_vms[i];
	return NULL;
}

/*
 * Whether v's --after VMs are up: 1 yes, 0 not yet (why says which), -1
 * never without the operator (one failed, is blocked or will not start).
 */
static int
deps_up(struct sched *s, const struct vm *v, char *why, size_t len)
{
	const struct vm *d;
	size_t i;

	for (i = 0; i < v->v_def.vd_after.sv_n; i++) {
		d = vm_find_name(s, v->v_def.vd_after.sv_v[i]);
		if (d != NULL && d->v_state == VS_UP)
			continue;
		if (d == NULL || d->v_state == VS_FAILED ||
		    d->v_state == VS_BLOCKED || (!d->v_boot && !is_live(d) &&
		    d->v_state != VS_BACKOFF && d->v_state != VS_WAITING)) {
			snprintf(why, len, "after %s, which is %s",
			    v->v_def.vd_after.sv_v[i], d == NULL ? "gone" :
			    vstates[d->v_state]);
			return -1;
		}
		snprintf(why, len, "after %s", v->v_def.vd_after.sv_v[i]);
		return 0;
	}
	return 1;
}

/*
 * Start what the boot plan allows now: the VMs of the earliest wave that
 * has not settled (and any earlier ones left), once their dependencies
 * are up, at most max-parallel-starts between start and up. Returns how
 * many it started or blocked: either may let the next wave go.
 */
static int
boot_pass(struct sched *s)
{
	struct vm *v;
	char why[128];
	size_t i;
	int wave = INT_MAX, starting = 0, left = 0, started = 0, deps;

	if (!s->s_booting || s->s_shutdown)
		return 0;
	for (i = 0; i < s->s_nvms; i++) {
		v = &s->s_vms[i];
		if (!settled(v) && v->v_wave < wave)
			wave = v->v_wave;
		if (is_live(v) && v->v_up_since == 0 && !v->v_settled)
			starting++;
		left += v->v_boot;
	}
	if (left == 0) {
		s->s_booting = 0;
		return 0;
	}
	for (i = 0; i < s->s_nvms; i++) {
		v = &s->s_vms[i];
		if (!v->v_boot || v->v_wave > wave)
			continue;
		if ((deps = deps_up(s, v, why, sizeof(why))) == -1) {
			if (v->v_state != VS_BLOCKED) {
				set_state(s, v, VS_BLOCKED, why, "vm.blocked");
				started++;	/* it settled: look again */
			}
			continue;
		}
		if (deps == 0 || starting >= s->s_opts->so_max_parallel) {
			if (deps != 0)
				snprintf(why, sizeof(why), "max-parallel-starts");
			if (v->v_state != VS_WAITING)
				set_state(s, v, VS_WAITING, why, NULL);
			continue;
		}
		vm_start(s, v, 0);
		starting += is_live(v) && v->v_up_since == 0;
		started++;
	}
	return started;
}

static void
boot_step(struct sched *s)
{
	while (boot_pass(s) > 0)
		;
}

/* A deadline of v came: start, SIGKILL, up, or check an adopted pid. */
static void
vm_due(struct sched *s, struct vm *v)
{
	v->v_deadline = 0;
	switch (v->v_state) {
	case VS_BACKOFF:
	case VS_STARTING:
		vm_start(s, v, 1);
		break;
	case VS_STOPPING:
		if (is_live(v)) {
			log_warnx("%s: still running after its stop timeout: "
			    "SIGKILL", v->v_name);
			v->v_killed = 1;
			s->s_drv->drv_signal(v->v_pid, SIGKILL);
		}
		break;
	case VS_WAITING:
	case VS_RUNNING:
		if (v->v_probe > 0) {
			/* A probe that hangs counts as shut. */
			driver_exec.drv_signal(v->v_probe, SIGKILL);
			break;
		}
		if (v->v_state == VS_WAITING)
			gate_step(s, v);
		else if (is_live(v) && v->v_def.vd_ready_tcp == NULL)
			vm_up(s, v);
		else if (is_live(v) && probe_start(s, v, GATE_TCP,
		    v->v_def.vd_ready_tcp) == -1)
			v->v_deadline = mono_ms() + GATE_POLL_MS;
		break;
	default:
		break;
	}
	/* Adopted without a pidfd: look again later. */
	if (is_live(v) && v->v_adopted && v->v_pidfd < 0) {
		if (!proc_alive(v->v_pid, v->v_pid_start))
			vm_exited(s, v, -1, 0, RUN_ADOPTED, NULL);
		else if (v->v_deadline == 0)
			v->v_deadline = mono_ms() + ADOPT_POLL_MS;
	}
}

/* SIGTERM: nothing more starts; shutdown_step stops the VMs. */
static void
shutdown_begin(struct sched *s)
{
	struct vm *v;
	size_t i;

	s->s_shutdown = 1;
	log_info("stopping %zu VMs, last wave first", s->s_nvms);
	if (db_daemon_stopping(&s->s_db) != DB_OK)
		log_warnx("%s", s->s_db.db_err);
	else if (s->s_hook != NULL)
		hook_wake(s->s_hook);
	for (i = 0; i < s->s_nvms; i++) {
		v = &s->s_vms[i];
		v->v_boot = 0;
		if (v->v_probe > 0)
			driver_exec.drv_signal(v->v_probe, SIGKILL);
		if (is_live(v) && v->v_ask == ASK_RESTART)
			v->v_ask = ASK_SHUTDOWN;
		else if (!is_live(v) && (v->v_state == VS_BACKOFF ||
		    v->v_state == VS_WAITING || v->v_state == VS_BLOCKED)) {
			v->v_deadline = 0;
			set_state(s, v, VS_STOPPED, NULL, NULL);
		}
	}
}

/* A VM outside the plan (added since boot) stops with the last wave. */
static int
down_wave(const struct vm *v)
{
	return v->v_wave > 0 ? v->v_wave : INT_MAX;
}

/*
 * Stop the latest wave that still has processes, every VM of it at once,
 * each with its stop signal and timeout; the next wave once it is gone.
 */
static void
shutdown_step(struct sched *s)
{
	struct vm *v;
	size_t i;
	int wave = 0;

	for (i = 0; i < s->s_nvms; i++)
		if (is_live(&s->s_vms[i]) && down_wave(&s->s_vms[i]) > wave)
			wave = down_wave(&s->s_vms[i]);
	for (i = 0; i < s->s_nvms; i++) {
		v = &s->s_vms[i];
		if (is_live(v) && down_wave(v) == wave && v->v_ask == ASK_NONE)
			vm_ask(s, v, ASK_SHUTDOWN);
	}
}

static int
any_live(struct sched *s)
{
	size_t i;

	for (i = 0; i < s->s_nvms; i++)
		if (is_live(&s->s_vms[i]))
			return 1;
	return 0;
}

/* The nearest deadline as a poll() timeout, at most until the reload. */
static int
poll_timeout(struct sched *s)
{
	int64_t now = mono_ms(), next = s->s_reload_at;
	size_t i;

	for (i = 0; i < s->s_nvms; i++)
		if (s->s_vms[i].v_deadline > 0 && s->s_vms[i].v_deadline < next)
			next = s->s_vms[i].v_deadline;
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static int
take_lock(struct sched *s, const char *dbpath)
{
	struct db_daemon d;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s.lock", dbpath);
	if ((s->s_lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) ==
	    -1) {
		log_warn("%s", path);
		return SCHED_ERR;
	}
	if (flock(s->s_lockfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK) {
		log_warn("lock %s", path);
		return SCHED_ERR;
	}
	if (db_daemon_get(&s->s_db, &d) == DB_OK)
		log_warnx("daemon: already running as pid %ld on %s",
		    d.dd_pid, dbpath);
	else
		log_warnx("daemon: another daemon holds %s", path);
	return SCHED_BUSY;
}

int
sched_lock_held(const char *dbpath)
{
	char path[PATH_MAX];
	int fd, held;

	snprintf(path, sizeof(path), "%s.lock", dbpath);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	held = flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

int
sched_daemon(const struct sched_opts *opts)
{
	struct sched s;
	struct pollfd *pfd = NULL, *npfd;
	struct vm *v;
	unsigned char sigs[64];
	char why[256], logdir[PATH_MAX];
	int fds[2] = { -1, -1 }, rc = SCHED_ERR, reload_now, n, i;
	int64_t pid_start = 0;
	size_t k, npfd_max = 0;
	ssize_t got;
	struct metrics_file mf;		/* --metrics-textfile (issue 13) */

	memset(&s, 0, sizeof(s));
	s.s_opts = opts;
	s.s_drv = &driver_exec;
	s.s_lockfd = -1;
	srandom((unsigned)(now_ms() ^ getpid()));
	if (db_open(&s.s_db, opts->so_dbpath, -1) != DB_OK) {
		log_warnx("%s", s.s_db.db_err);
		return SCHED_ERR;
	}
	if ((rc = take_lock(&s, opts->so_dbpath)) != 0)
		goto done;
	rc = SCHED_ERR;
	if (proc_boot_id(s.s_boot_id, sizeof(s.s_boot_id)) == -1)
		snprintf(s.s_boot_id, sizeof(s.s_boot_id), "unknown");
	if (vm_log_dir(opts->so_dbpath, logdir, sizeof(logdir)) == -1 ||
	    (mkdir(logdir, 0700) == -1 && errno != EEXIST)) {
		log_warn("%s", logdir);
		goto done;
	}
	if (setup_signals(fds) == -1) {
		log_warn("signals");
		goto done;
	}
	ratelimit_init(&s.s_rate, opts->so_restart_rate, opts->so_restart_burst,
	    mono_ms());
	proc_start_time(getpid(), &pid_start);
	if (db_daemon_started(&s.s_db, (long)getpid(), pid_start,
	    s.s_boot_id) != DB_OK) {
		log_warnx("%s", s.s_db.db_err);
		goto done;
	}
	/* The webhook sender runs for the daemon's life, webhook or not, so
	 * `vmsched webhook set` takes effect without a restart. */
	if ((s.s_hook = hook_start(opts->so_dbpath, why, sizeof(why))) == NULL)
		log_warnx("webhook sender: %s (events stay in the outbox)",
		    why);
	log_info("daemon started, pid %ld, boot %s", (long)getpid(),
	    s.s_boot_id);
	metrics_file_init(&mf, opts->so_metrics_path);
	reload(&s, 1);
	boot(&s);
	/* Requests the CLI made before or while we loaded. */
	reload(&s, 0);

	for (;;) {
		if (s.s_shutdown && !any_live(&s))
			break;
		if (s.s_shutdown)
			shutdown_step(&s);
		else
			boot_step(&s);
		if (npfd_max < s.s_nvms + 1) {
			npfd = realloc(pfd, (s.s_nvms + 1) * sizeof(*pfd));
			if (npfd == NULL)
				fatal("poll set");
			pfd = npfd;
			npfd_max = s.s_nvms + 1;
		}
		pfd[0].fd = fds[0];
		pfd[0].events = POLLIN;
		for (k = 0, n = 1; k < s.s_nvms; k++) {
			if (s.s_vms[k].v_pidfd < 0)
				continue;
			pfd[n].fd = s.s_vms[k].v_pidfd;
			pfd[n].events = POLLIN;
			n++;
		}
		if (poll(pfd, (nfds_t)n, metrics_timeout(&mf,
		    poll_timeout(&s))) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		reload_now = 0;
		while ((got = read(fds[0], sigs, sizeof(sigs))) > 0) {
			for (i = 0; i < got; i++) {
				switch (sigs[i]) {
				case SIGTERM:
				case SIGINT:
					if (!s.s_shutdown)
						shutdown_begin(&s);
					break;
				case SIGHUP:
				case SIGUSR1:
					reload_now = 1;
					break;
				}
			}
		}
		reap(&s);
		for (i = 1; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			for (k = 0; k < s.s_nvms; k++) {
				v = &s.s_vms[k];
				if (v->v_pidfd == pfd[i].fd) {
					vm_exited(&s, v, -1, 0, RUN_ADOPTED,
					    NULL);
					break;
				}
			}
		}
		if (reload_now || mono_ms() >= s.s_reload_at) {
			reload(&s, 0);
			/* the CLI may have changed the webhook or queued one */
			if (s.s_hook != NULL)
				hook_wake(s.s_hook);
		}
		for (k = 0; k < s.s_nvms; k++) {
			v = &s.s_vms[k];
			if (v->v_deadline > 0 && v->v_deadline <= mono_ms())
				vm_due(&s, v);
		}
		metrics_tick(&mf, &s.s_db);
	}
	metrics_done(&mf, &s.s_db);
	log_info("all VMs stopped; daemon exits");
	db_daemon_stopped(&s.s_db);
	rc = 0;
done:
	if (s.s_hook != NULL)
		hook_stop(s.s_hook);
	for (k = 0; k < s.s_nvms; k++)
		vm_def_free(&s.s_vms[k].v_def);
	free(s.s_vms);
	free(pfd);
	if (s.s_lockfd >= 0)
		close(s.s_lockfd);
	db_close(&s.s_db);
	return rc;
}

/*
 * daemon.c: the daemon's loop. It sleeps in poll() until the nearest timer
 * of any VM, a signal (through the self-pipe), or the end of a process it
 * cannot wait for (a pidfd); then it turns what happened into state
 * machine events (fsm.c): children reaped, requests the CLI wrote (read
 * when SIGUSR1 wakes it, and once a minute anyway), timers due, SIGTERM.
 * vm_feed hands each event with its facts to the VM's state machine and
 * carries out the actions that come back through the VM's driver (spawn,
 * signal, adopt) or gate.c (checks); the records go to the journal, which
 * writes each pass in one transaction. The loop sets no state itself.
 *
 * Start-up: one daemon per database, by a POSIX lock on DB.lock that the
 * CLI only tests (F_GETLK), so asking whether a daemon runs never makes a
 * starting one give up. Then every VM is loaded from the store as the last
 * daemon left it; a run still open is adopted if its process lives (pid
 * and start time), else closed as adopted-unknown; a daemon that died in
 * this boot may have left VMs it had no time to record, which are found by
 * the VMSCHED_DB_ID and VMSCHED_VM their environment carries. Only then
 * does the boot plan (boot.c) start what is wanted, wave by wave.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sched.h"
#include "db.h"

#define RELOAD_MS	60000	/* safety re-read of requests */
#define LOCK_TRY_MS	2000	/* a daemon that is going away may hold it */
#define BUSY_MS		100	/* the loop waits this long for the store */
#define FINAL_FLUSH_MS	5000	/* at exit, retry writing this long */

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

/*
 * The self-pipe and the handlers; *changed gets every signal that is not
 * at its default now (ours, and what we were started ignoring), which a
 * child resets before it execs.
 */
static int
setup_signals(int fds[2], sigset_t *changed)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct sigaction sa, old;
	size_t i;
	int sig;

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
	sigemptyset(changed);
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_DFL)
			sigaddset(changed, sig);
	return 0;
}

/* The lock. */

static int
lock_path(const char *dbpath, char *buf, size_t len)
{
	return snprintf(buf, len, "%s.lock", dbpath) >= (int)len ? -1 : 0;
}

long
sched_lock_holder(const char *dbpath)
{
	struct flock fl;
	char path[PATH_MAX];
	int fd;

	if (lock_path(dbpath, path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == -1)
		fl.l_type = F_UNLCK;
	close(fd);
	return fl.l_type == F_UNLCK ? 0 : (long)fl.l_pid;
}

int
sched_lock_held(const char *dbpath)
{
	return sched_lock_holder(dbpath) != 0;
}

/*
 * One daemon per database: a write lock on DB.lock, held for the daemon's
 * life (a POSIX lock: nothing else in this process opens that file, since
 * closing any descriptor of it would drop the lock). A daemon on its way
 * out may still hold it for a moment: try for a while before naming the
 * live holder.
 */
static int
take_lock(struct sched *s)
{
	struct flock fl;
	struct timespec ts = { 0, 20 * 1000000L };
	char path[PATH_MAX];
	int64_t until = mono_ms() + LOCK_TRY_MS;
	long holder;

	if (lock_path(s->s_dbpath, path, sizeof(path)) == -1) {
		log_warnx("%s: path too long", s->s_dbpath);
		return SCHED_ERR;
	}
	if ((s->s_lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		log_warn("%s", path);
		return SCHED_ERR;
	}
	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(s->s_lockfd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES) {
			log_warn("lock %s", path);
			return SCHED_ERR;
		}
		if (mono_ms() >= until)
			break;
		nanosleep(&ts, NULL);
	}
	if ((holder = sched_lock_holder(s->s_dbpath)) > 0)
		log_warnx("daemon: already running as pid %ld on %s", holder,
		    s->s_dbpath);
	else
		log_warnx("daemon: another daemon holds %s", path);
	return SCHED_BUSY;
}

/* VMs. */

static int
cmp_name(const void *a, const void *b)
{
	const struct vm *x = *(struct vm *const *)a;
	const struct vm *y = *(struct vm *const *)b;

	return strcmp(x->v_name, y->v_name);
}

static int
cmp_id(const void *a, const void *b)
{
	const struct vm *x = *(struct vm *const *)a;
	const struct vm *y = *(struct vm *const *)b;

	return x->v_id < y->v_id ? -1 : x->v_id > y->v_id;
}

/* By wave (VMs outside the plan last), then order and name: dependencies
 * come before the VMs that start after them. */
static int
cmp_wave(const void *a, const void *b)
{
	const struct vm *x = *(struct vm *const *)a;
	const struct vm *y = *(struct vm *const *)b;
	int wx = x->v_wave > 0 ? x->v_wave : INT_MAX;
	int wy = y->v_wave > 0 ? y->v_wave : INT_MAX;

	if (wx != wy)
		return wx < wy ? -1 : 1;
	if (x->v_order != y->v_order)
		return x->v_order < y->v_order ? -1 : 1;
	return strcmp(x->v_name, y->v_name);
}

void
vm_sort(struct sched *s)
{
	if (s->s_nvms > 0)
		qsort(s->s_vms, s->s_nvms, sizeof(*s->s_vms), cmp_wave);
}

/* Rebuild the lookup arrays after VMs came or went. */
static int
index_vms(struct sched *s)
{
	struct vm **byname, **byid;
	size_t n = s->s_nvms ? s->s_nvms : 1;

	if ((byname = realloc(s->s_byname, n * sizeof(*byname))) == NULL)
		return -1;
	s->s_byname = byname;
	if ((byid = realloc(s->s_byid, n * sizeof(*byid))) == NULL)
		return -1;
	s->s_byid = byid;
	if (s->s_nvms > 0) {
		memcpy(byname, s->s_vms, s->s_nvms * sizeof(*byname));
		memcpy(byid, s->s_vms, s->s_nvms * sizeof(*byid));
		qsort(byname, s->s_nvms, sizeof(*byname), cmp_name);
		qsort(byid, s->s_nvms, sizeof(*byid), cmp_id);
	}
	s->s_nindex = s->s_nvms;
	vm_sort(s);
	return 0;
}

struct vm *
vm_by_name(struct sched *s, const char *name)
{
	struct vm key, *kp = &key, **found;

	if (s->s_nindex == 0)
		return NULL;
	snprintf(key.v_name, sizeof(key.v_name), "%s", name);
	found = bsearch(&kp, s->s_byname, s->s_nindex, sizeof(*s->s_byname),
	    cmp_name);
	return found ? *found : NULL;
}

struct vm *
vm_by_id(struct sched *s, int64_t id)
{
	struct vm key, *kp = &key, **found;

	if (s->s_nindex == 0)
		return NULL;
	key.v_id = id;
	found = bsearch(&kp, s->s_byid, s->s_nindex, sizeof(*s->s_byid),
	    cmp_id);
	return found ? *found : NULL;
}

static struct vm *
vm_new(struct sched *s, const struct db_sup_row *r)
{
	struct vm *v, **nv;
	enum vm_state st = VM_STOPPED;
	enum vm_want w = WANT_UP;
	int k;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	if ((nv = realloc(s->s_vms, (s->s_nvms + 1) * sizeof(*nv))) == NULL) {
		free(v);
		return NULL;
	}
	s->s_vms = nv;
	s->s_vms[s->s_nvms++] = v;
	v->v_id = r->sr_id;
	snprintf(v->v_name, sizeof(v->v_name), "%s", r->sr_name);
	vm_def_init(&v->v_def);
	snprintf(v->v_def.vd_name, sizeof(v->v_def.vd_name), "%s", r->sr_name);
	v->v_drv = &driver_exec;
	v->v_proc.p_fd = -1;
	for (k = 0; k < JS_N; k++)
		v->v_job[k].j_fd = v->v_job[k].j_log = -1;
	v->v_run_ref = -1;
	v->v_order = r->sr_order;
	v->v_restart = r->sr_restart;
	/* What the last daemon acted on: a request made since (even while
	 * this daemon was starting) is still to be acted on. */
	v->v_request = r->sr_handled;
	if (r->sr_boot_id != NULL)
		snprintf(v->v_boot_id, sizeof(v->v_boot_id), "%s",
		    r->sr_boot_id);
	if (vm_state_parse(r->sr_state, &st) == -1)
		st = VM_STOPPED;
	if (vm_want_parse(r->sr_desired, &w) == -1)
		w = WANT_UP;
	v->v_was = st;
	fsm_init(&v->v_fsm, st, w, r->sr_enabled, r->sr_failures,
	    r->sr_restarts);
	return v;
}

static void
vm_free(struct sched *s, struct vm *v)
{
	int k;

	jrn_forget(s->s_jrn, v);
	v->v_drv->drv_release(s, v);
	for (k = 0; k < JS_N; k++)
		job_cancel(s, v, k);
	vm_def_free(&v->v_def);
	free(v);
}

int
vm_log_file(struct sched *s, const struct vm *v, char *buf, size_t len)
{
	char rel[PATH_MAX], dir[PATH_MAX];
	const char *slash;

	if (vm_def_log_path(&v->v_def, s->s_dbpath, rel, sizeof(rel)) == -1)
		return -1;
	if (rel[0] == '/')
		return snprintf(buf, len, "%s", rel) >= (int)len ? -1 : 0;
	/* Relative: to the database's directory. */
	slash = strrchr(s->s_dbpath, '/');
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - s->s_dbpath),
	    s->s_dbpath);
	return snprintf(buf, len, "%s/%s", dir, rel) >= (int)len ? -1 : 0;
}

static double
jitter(void)
{
	return 2.0 * ((double)random() / (double)RAND_MAX) - 1.0;
}

/* Load v's definition for a start (changes take effect now). */
static int
load_def(struct sched *s, struct vm *v)
{
	vm_def_free(&v->v_def);
	vm_def_init(&v->v_def);
	if (db_vm_get(s->s_db, v->v_name, &v->v_def) != DB_OK) {
		vm_def_free(&v->v_def);
		vm_def_init(&v->v_def);
		snprintf(v->v_def.vd_name, sizeof(v->v_def.vd_name), "%s",
		    v->v_name);
		return -1;
	}
	v->v_restart = v->v_def.vd_restart;
	/* Its driver, as defined now: a process that runs keeps the one
	 * that started it. */
	if (!v->v_fsm.f_live)
		v->v_drv = driver_for(v->v_def.vd_driver);
	return 0;
}

int
vm_launch_init(struct sched *s, const struct vm *v, struct launch *l,
    char *logfile, size_t len, const char *const *env)
{
	if (vm_log_file(s, v, logfile, len) == -1)
		return -1;
	memset(l, 0, sizeof(*l));
	l->l_def = &v->v_def;
	l->l_log = logfile;
	l->l_env = env;
	l->l_exec_fd = -1;
	l->l_reset = &s->s_sigs;
	l->l_null_fd = s->s_null_fd;
	return 0;
}

/*
 * Start v's process through its driver: 1 with the event that says how it
 * went, or 0 when the driver answers later (a detached VM's start).
 */
static int
spawn(struct sched *s, struct vm *v, struct fsm_event *ev, char *why,
    size_t len)
{
	int rc;

	struct launch l;
	char logfile[PATH_MAX], vmenv[16 + VM_NAME_MAX], dbenv[64];
	const char *extra[3] = { vmenv, dbenv, NULL };

	memset(ev, 0, sizeof(*ev));
	ev->fe_ev = EV_START_FAILED;
	ev->fe_why = why;
	/* Only a VM wanted up is started; anything else is a bug here. */
	if (v->v_fsm.f_want != WANT_UP || s->s_shutdown) {
		log_warnx("%s: refusing to start a VM not wanted up",
		    v->v_name);
		snprintf(why, len, "not wanted up");
		return 1;
	}
	snprintf(vmenv, sizeof(vmenv), "VMSCHED_VM=%s", v->v_name);
	snprintf(dbenv, sizeof(dbenv), "VMSCHED_DB_ID=%s", s->s_dbid);
	if (vm_launch_init(s, v, &l, logfile, sizeof(logfile), extra) == -1) {
		snprintf(why, len, "log file path too long");
		return 1;
	}
	v->v_run_wall = now_ms();
	if ((rc = v->v_drv->drv_start(s, v, &l, why, len)) == -1) {
		log_warnx("%s: cannot start: %s", v->v_name, why);
		return 1;
	}
	if (rc == 1)
		return 0;	/* its driver answers */
	snprintf(v->v_boot_id, sizeof(v->v_boot_id), "%s", s->s_boot_id);
	ledger_spawned(s, v);
	/* Fault injection for the tests: die between a spawn and the
	 * commit that records it. */
	if (s->s_fault_spawn)
		kill(getpid(), SIGKILL);
	ev->fe_ev = EV_STARTED;
	ev->fe_why = NULL;
	log_debug("%s: started pid %ld", v->v_name, (long)v->v_proc.p_pid);
	return 1;
}

/* Carry out one action; 1 with *ev when an answer is to be fed now. */
static int
act(struct sched *s, struct vm *v, enum fsm_act a, struct fsm_event *ev,
    char *why, size_t len)
{
	memset(ev, 0, sizeof(*ev));
	switch (a) {
	case A_LOAD:
		ev->fe_ev = EV_LOADED;
		if (load_def(s, v) == 0)
			ev->fe_ok = 1;
		else {
			snprintf(why, len, "%.*s", (int)len - 1,
			    s->s_db->db_err);
			ev->fe_why = why;
			log_warnx("%s: cannot read its definition: %s",
			    v->v_name, why);
		}
		return 1;
	case A_SPAWN:
		return spawn(s, v, ev, why, len);
	case A_STOP:
	case A_SUSPEND:
	case A_KILL:
		if (a == A_KILL)
			log_warnx("%s: still running after its stop timeout: "
			    "%s", v->v_name, v->v_drv == &driver_exec ?
			    "SIGKILL" : "its kill command, or SIGTERM and "
			    "SIGKILL");
		if ((a == A_STOP ? v->v_drv->drv_stop(s, v) :
		    a == A_SUSPEND ? v->v_drv->drv_suspend(s, v) :
		    v->v_drv->drv_kill(s, v)) == -1 && errno != ESRCH)
			log_warn("%s: signalling pid %ld", v->v_name,
			    (long)v->v_proc.p_pid);
		return 0;
	case A_POLL:
		return v->v_drv->drv_poll(s, v, ev, why, len) == 0;
	case A_GATE:
	case A_READY:
	case A_PROBE_KILL:
		return gate_act(s, v, a, ev, why, len);
	}
	return 0;
}

int
vm_feed(struct sched *s, struct vm *v, const struct fsm_event *first)
{
	struct fsm *f = &v->v_fsm;
	struct fsm_event ev = *first, next;
	struct fsm_facts fx;
	struct fsm_out out;
	char factwhy[256], why[2][512];
	size_t i;
	int was_starting, was_live, was_kick, more, depth = 0, n = 0;
	int changed = 0;

	do {
		was_starting = fsm_starting(f);
		was_live = f->f_live;
		was_kick = f->f_kick;
		boot_facts(s, v, &fx, factwhy, sizeof(factwhy));
		fx.fx_jitter = jitter();
		changed |= fsm_step(f, &ev, &fx, &out);
		s->s_starting += fsm_starting(f) - was_starting;
		for (i = 0; i < out.o_nrec; i++)
			jrn_record(s, v, &out.o_rec[i]);
		/* The owed start is gone (or a request was seen): say so. */
		if ((was_kick && !f->f_kick) || ev.fe_ev == EV_REQUEST)
			jrn_touch(s, v);
		/* Ended (its records have its pid): let go of it. */
		if (!f->f_live && (was_live || v->v_proc.p_pid != 0))
			v->v_drv->drv_release(s, v);
		more = 0;
		for (i = 0; i < out.o_nact; i++) {
			if (act(s, v, out.o_act[i], &next, why[n],
			    sizeof(why[n])) && !more) {
				ev = next;
				more = 1;
				n = !n;
			}
		}
	} while (more && ++depth < 64);
	if (depth == 64)
		log_warnx("%s: its state machine did not settle", v->v_name);
	return changed;
}

/* Loading and reloading. */

static int
first_row(const struct db_sup_row *r, void *arg)
{
	struct sched *s = arg;
	struct vm *v;

	if ((v = vm_new(s, r)) == NULL) {
		log_warn("%s", r->sr_name);
		return 0;
	}
	/* What adoption needs; and a start the last daemon still owed. */
	if (r->sr_run_id != 0) {
		v->v_proc.p_pid = r->sr_pid > 0 ? (pid_t)r->sr_pid : 0;
		v->v_proc.p_start = r->sr_pid_start;
		v->v_run_id = r->sr_run_id;
		v->v_run_wall = r->sr_run_started;
	}
	v->v_fsm.f_kick = r->sr_owed && v->v_fsm.f_want == WANT_UP;
	return 0;
}

/* At start-up: take over v's recorded process if it still runs, else
 * close its run as ended while nobody watched. */
static void
adopt(struct sched *s, struct vm *v)
{
	struct fsm_event ev;
	pid_t pid = v->v_proc.p_pid;
	int64_t start = v->v_proc.p_start;

	if (v->v_run_id == 0)
		return;
	if (load_def(s, v) == -1)
		log_warnx("%s: %s (adopting with defaults)", v->v_name,
		    s->s_db->db_err);
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_ADOPT;
	ev.fe_was = v->v_was;
	ev.fe_ran_ms = now_ms() - v->v_run_wall;
	ev.fe_ok = v->v_drv->drv_adopt(s, v, pid, start) == 0;
	if (!ev.fe_ok) {
		memset(&v->v_proc, 0, sizeof(v->v_proc));
		v->v_proc.p_pid = pid;
		v->v_proc.p_fd = -1;
	} else if (pid > 0)
		log_info("%s: adopted pid %ld", v->v_name, (long)pid);
	else
		log_info("%s: taken over (its status is asked)", v->v_name);
	vm_feed(s, v, &ev);
}

/*
 * A process a VM of ours left behind, found by its environment after a
 * daemon died before it could record it: adopt it (one per VM) and open
 * its run, instead of starting a second copy.
 */
static int
orphan(pid_t pid, int64_t start, uid_t uid, const char *name, void *arg)
{
	struct sched *s = arg;
	struct passwd *pw;
	struct vm *v;
	uid_t want = geteuid();

	if ((v = vm_by_name(s, name)) == NULL)
		return 0;
	if (v->v_fsm.f_live) {
		if (v->v_proc.p_pid != pid)
			log_warnx("%s: pid %ld carries its name too; it is "
			    "not the one watched (pid %ld): left alone",
			    name, (long)pid, (long)v->v_proc.p_pid);
		return 0;
	}
	if (load_def(s, v) == -1)
		return 0;
	if (v->v_def.vd_user != NULL && (pw = getpwnam(v->v_def.vd_user)) !=
	    NULL)
		want = pw->pw_uid;
	/* Anyone can put a name in their environment: only a process of
	 * the VM's own user is taken for it. */
	if (uid != want) {
		log_warnx("%s: pid %ld claims to be it but runs as uid %ld: "
		    "left alone", name, (long)pid, (long)uid);
		return 0;
	}
	if (v->v_drv->drv_adopt(s, v, pid, start) == -1)
		return 0;
	log_info("%s: adopted pid %ld, which the last daemon started but "
	    "had not recorded", name, (long)pid);
	vm_take_over(s, v, proc_started_ms(start));
	return 0;
}

void
vm_take_over(struct sched *s, struct vm *v, int64_t started)
{
	struct fsm_event ev;

	v->v_run_id = 0;
	v->v_run_ref = -1;
	v->v_run_wall = started > 0 ? started : now_ms();
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_ADOPT;
	ev.fe_ok = 1;
	ev.fe_unrecorded = 1;
	ev.fe_was = v->v_def.vd_up_delay_ms == 0 &&
	    v->v_def.vd_ready_tcp == NULL ? VM_UP : VM_RUNNING;
	ev.fe_ran_ms = now_ms() - v->v_run_wall;
	vm_feed(s, v, &ev);
}

void
vm_ended_unwatched(struct sched *s, struct vm *v, pid_t pid, int64_t start,
    int64_t started, const char *boot)
{
	struct fsm_event ev;

	if (load_def(s, v) == -1)
		log_warnx("%s: %s (with defaults)", v->v_name, s->s_db->db_err);
	memset(&v->v_proc, 0, sizeof(v->v_proc));
	v->v_proc.p_pid = pid;
	v->v_proc.p_start = start;
	v->v_proc.p_fd = -1;
	v->v_run_id = 0;
	v->v_run_ref = -1;
	v->v_run_wall = started;
	/* It ran in that boot (`restart never`: once per boot). */
	snprintf(v->v_boot_id, sizeof(v->v_boot_id), "%s", boot);
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_ADOPT;
	ev.fe_was = VM_RUNNING;
	ev.fe_unrecorded = 1;
	ev.fe_ran_ms = now_ms() - started;
	vm_feed(s, v, &ev);
}

/*
 * A VM the last daemon was starting when it died (recorded starting, no
 * run): its driver looks whether it runs and takes it over if it does, so
 * a stop asked meanwhile still stops it and no second copy starts.
 */
static void
takeover(struct sched *s, struct vm *v)
{
	if (v->v_run_id != 0 || v->v_was != VM_STARTING || v->v_fsm.f_live)
		return;
	if (load_def(s, v) == -1 || v->v_drv->drv_takeover == NULL)
		return;
	v->v_drv->drv_takeover(s, v);
}

static void
orphans_adopt(struct sched *s)
{
	if (proc_scan(s->s_dbid, orphan, s) == -1)
		log_warn("looking for VMs the last daemon left unrecorded");
}

/* A request, a change of enabled, or a new VM, as the CLI wrote them. */
static int
reload_row(const struct db_sup_row *r, void *arg)
{
	struct sched *s = arg;
	struct fsm_event ev;
	struct vm *v;
	enum vm_want w;
	const char *p = r->sr_pending ? r->sr_pending : "";

	/* A VM added since: what is stored, and its requests below. */
	if ((v = vm_by_id(s, r->sr_id)) == NULL &&
	    (v = vm_new(s, r)) == NULL) {
		log_warn("%s", r->sr_name);
		return 0;
	}
	v->v_seen = 1;
	v->v_order = r->sr_order;
	v->v_restart = r->sr_restart;
	if (vm_want_parse(r->sr_desired, &w) == -1)
		w = WANT_UP;
	if (r->sr_request == v->v_request && w == v->v_fsm.f_want &&
	    r->sr_enabled == v->v_fsm.f_enabled)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_REQUEST;
	ev.fe_want = w;
	ev.fe_enabled = r->sr_enabled;
	if (r->sr_request != v->v_request && !s->s_shutdown) {
		ev.fe_start = strcmp(p, "start") == 0 ||
		    strcmp(p, "restart") == 0;
		ev.fe_restart = strcmp(p, "restart") == 0;
		ev.fe_reset = strcmp(p, "reset") == 0;
	}
	v->v_request = r->sr_request;
	vm_feed(s, v, &ev);
	return 0;
}

/* Re-read requests and definitions; forget removed VMs once at rest. */
static void
reload(struct sched *s)
{
	struct fsm_event ev;
	struct vm *v;
	size_t i, j, n0 = s->s_nvms;
	int changed = 0;

	for (i = 0; i < s->s_nvms; i++)
		s->s_vms[i]->v_seen = 0;
	if (db_sup_load(s->s_db, NULL, reload_row, s) != DB_OK) {
		log_warnx("reading requests: %s", s->s_db->db_err);
		for (i = 0; i < s->s_nvms; i++)
			s->s_vms[i]->v_seen = 1;
	}
	changed = s->s_nvms != n0;
	memset(&ev, 0, sizeof(ev));
	for (i = 0; i < n0; i++) {
		v = s->s_vms[i];
		if (v->v_seen == 0 && !v->v_fsm.f_removed) {
			ev.fe_ev = EV_REMOVED;
			vm_feed(s, v, &ev);
		}
	}
	for (i = j = 0; i < s->s_nvms; i++) {
		v = s->s_vms[i];
		if (v->v_fsm.f_removed && !v->v_fsm.f_live &&
		    v->v_probe == 0 && v->v_fsm.f_state != VM_STARTING &&
		    !job_busy(v, JS_N)) {
			vm_free(s, v);
			changed = 1;
			continue;
		}
		s->s_vms[j++] = v;
	}
	s->s_nvms = j;
	if (changed && index_vms(s) == -1)
		fatal("indexing VMs");
	s->s_reload_at = mono_ms() + RELOAD_MS;
}

/* Timers, processes, signals. */

static void
fire_timers(struct sched *s)
{
	struct fsm_event ev;
	struct vm *v;
	size_t i;
	int64_t at;
	int t;

	memset(&ev, 0, sizeof(ev));
	for (i = 0; i < s->s_nvms; i++) {
		v = s->s_vms[i];
		/* Its driver's own deadlines (helpers' timeouts, ...). */
		if ((at = v->v_drv->drv_next(v)) > 0 && at <= s->s_now)
			v->v_drv->drv_tick(s, v);
		for (t = 0; t < T_NTIMERS; t++) {
			if (v->v_fsm.f_timer[t] == 0 ||
			    v->v_fsm.f_timer[t] > s->s_now)
				continue;
			ev.fe_ev = (enum fsm_ev)(EV_TIMER + t);
			vm_feed(s, v, &ev);
		}
	}
}

/* The nearest deadline as a poll() timeout, at most until the reload. */
static int
poll_timeout(struct sched *s)
{
	int64_t now = mono_ms(), next = s->s_reload_at, at;
	size_t i;
	int t;

	for (i = 0; i < s->s_nvms; i++) {
		for (t = 0; t < T_NTIMERS; t++)
			if ((at = s->s_vms[i]->v_fsm.f_timer[t]) > 0 &&
			    at < next)
				next = at;
		if ((at = s->s_vms[i]->v_drv->drv_next(s->s_vms[i])) > 0 &&
		    at < next)
			next = at;
	}
	if ((at = jrn_retry_at(s->s_jrn)) > 0 && at < next)
		next = at;
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static struct vm *
vm_by_pid(struct sched *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->s_nvms; i++)
		if (s->s_vms[i]->v_proc.p_pid == pid &&
		    s->s_vms[i]->v_proc.p_child && s->s_vms[i]->v_fsm.f_live)
			return s->s_vms[i];
	return NULL;
}

static void
reap(struct sched *s)
{
	struct fsm_event ev;
	struct vm *v;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (gate_reaped(s, pid, status) || job_reaped(s, pid, status))
			continue;
		if ((v = vm_by_pid(s, pid)) == NULL) {
			log_warnx("reaped pid %ld, which is no VM of ours",
			    (long)pid);
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		ev.fe_ev = EV_EXITED;
		v->v_drv->drv_reaped(&v->v_proc, status, &ev.fe_code,
		    &ev.fe_signal);
		vm_feed(s, v, &ev);
	}
}

/* A process we watch through a pidfd ended. */
static void
pidfd_ended(struct sched *s, int fd)
{
	struct fsm_event ev;
	struct vm *v;
	char why[512];
	size_t i;

	for (i = 0; i < s->s_nvms; i++) {
		v = s->s_vms[i];
		if (v->v_proc.p_fd != fd || !v->v_fsm.f_live)
			continue;
		if (v->v_drv->drv_gone(s, v, &ev, why, sizeof(why)))
			vm_feed(s, v, &ev);
		return;
	}
}

static int
any_live(struct sched *s)
{
	size_t i;

	for (i = 0; i < s->s_nvms; i++)
		if (s->s_vms[i]->v_fsm.f_live || s->s_vms[i]->v_probe > 0 ||
		    s->s_vms[i]->v_fsm.f_state == VM_STARTING ||
		    job_busy(s->s_vms[i], JS_N))
			return 1;
	return s->s_ndisowned > 0;
}

/* SIGTERM: nothing more starts; boot_settle stops the waves in turn. */
static void
shutdown_begin(struct sched *s)
{
	log_info("stopping %zu VMs, last wave first", s->s_nvms);
	jrn_event(s, "scheduler.stopping");
	boot_shutdown(s);
}

/* The absolute path of the database, so VMs' default log files are. */
static int
absolute_db(const char *path, char *buf, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;

	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
		base = path;
	} else {
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
		base = slash + 1;
	}
	if (realpath(dir, real) == NULL)
		return -1;
	return snprintf(buf, len, "%s%s%s", real, strcmp(real, "/") ? "/" :
	    "", base) >= (int)len ? -1 : 0;
}

/*
 * The directories beside the database: logs/, where VMs' logs go by
 * default, and (issue 12) run/, where --qemu VMs keep their pid file and
 * QMP socket. Made 0700, kept private.
 */
static int
private_dir(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("%s", dir);
		return -1;
	}
	if (lstat(dir, &sb) == -1) {
		log_warn("%s", dir);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid()) {
		log_warnx("%s: not a directory of this user's", dir);
		return -1;
	}
	if ((sb.st_mode & 077) != 0 && chmod(dir, 0700) == -1) {
		log_warn("%s: chmod 0700", dir);
		return -1;
	}
	return 0;
}

static int
log_dir(struct sched *s)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(s->s_dbpath, '/');

	if (vm_log_dir(s->s_dbpath, dir, sizeof(dir)) == -1) {
		log_warnx("%s: log directory path too long", s->s_dbpath);
		return -1;
	}
	if (private_dir(dir) == -1)
		return -1;
	if (snprintf(dir, sizeof(dir), "%.*s/run", (int)(slash -
	    s->s_dbpath), s->s_dbpath) >= (int)sizeof(dir)) {
		log_warnx("%s: run directory path too long", s->s_dbpath);
		return -1;
	}
	return private_dir(dir);
}

static int
start_up(struct sched *s, const struct sched_opts *opts, int fds[2])
{
	struct db_daemon last;
	int64_t pid_start = 0;
	size_t i;
	int rc, crashed = 0;
	char why[256];

	if (absolute_db(opts->so_dbpath, s->s_dbpath, sizeof(s->s_dbpath)) ==
	    -1) {
		log_warn("%s", opts->so_dbpath);
		return SCHED_ERR;
	}
	if ((s->s_db = calloc(1, sizeof(*s->s_db))) == NULL ||
	    (s->s_jrn = jrn_new()) == NULL) {
		log_warn("daemon");
		return SCHED_ERR;
	}
	if ((rc = db_open(s->s_db, s->s_dbpath, -1)) != DB_OK) {
		log_warnx("%s", s->s_db->db_err);
		return rc == DB_UNSAFE ? SCHED_UNSAFE : SCHED_ERR;
	}
	if ((rc = take_lock(s)) != 0)
		return rc;
	/* Without it supervision goes on; a crash may leave a hole. */
	if (ledger_open(s) == -1)
		log_warnx("spawns are recorded only when the store takes them");
	/* The loop never waits long for the store: the journal keeps what
	 * it cannot write yet. */
	sqlite3_busy_timeout(s->s_db->db_h, BUSY_MS);
	/* The schema's CHECKs (state IN (...) and the like) cost SQLite a
	 * temporary table at every row, half of a boot's writing; every
	 * value the daemon writes comes from the code's own tables
	 * (vm_state_name, run_reason_name, json_object), never from input. */
	if (db_exec(s->s_db, "PRAGMA ignore_check_constraints = ON", "") !=
	    DB_OK)
		log_warnx("%s", s->s_db->db_err);
	if (proc_boot_id(s->s_boot_id, sizeof(s->s_boot_id)) == -1)
		snprintf(s->s_boot_id, sizeof(s->s_boot_id), "unknown");
	if (db_instance_id(s->s_db, s->s_dbid, sizeof(s->s_dbid)) != DB_OK) {
		log_warnx("database id: %s", s->s_db->db_err);
		snprintf(s->s_dbid, sizeof(s->s_dbid), "unknown");
	}
	if (log_dir(s) == -1)
		return SCHED_ERR;
	if ((s->s_null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("/dev/null (each VM opens it itself)");
	/* The probe helpers exec this, as the VM's user, by descriptor. */
	if (opts->so_self != NULL && (s->s_self_fd = open(opts->so_self,
	    O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("%s (TCP checks will run it by path)", opts->so_self);
	if (setup_signals(fds, &s->s_sigs) == -1) {
		log_warn("signals");
		return SCHED_ERR;
	}
	ratelimit_init(&s->s_rate, opts->so_restart_rate,
	    opts->so_restart_burst, mono_ms());
	/* Did the last daemon die in this boot, leaving VMs behind? */
	if (db_daemon_get(s->s_db, &last) == DB_OK && !last.dd_stopped &&
	    strcmp(last.dd_boot_id, s->s_boot_id) == 0)
		crashed = 1;
	/* Before anything is started: a daemon killed from here on leaves
	 * a record that it did not stop, so the next one looks for VMs it
	 * had no time to record. */
	proc_start_time(getpid(), &pid_start);
	if (db_daemon_started(s->s_db, (long)getpid(), pid_start,
	    s->s_boot_id) != DB_OK)
		log_warnx("recording the daemon's start: %s", s->s_db->db_err);
	if (db_sup_load(s->s_db, NULL, first_row, s) != DB_OK) {
		log_warnx("loading VMs: %s", s->s_db->db_err);
		return SCHED_ERR;
	}
	if (index_vms(s) == -1) {
		log_warn("indexing VMs");
		return SCHED_ERR;
	}
	s->s_now = mono_ms();
	for (i = 0; i < s->s_nvms; i++) {
		adopt(s, s->s_vms[i]);
		takeover(s, s->s_vms[i]);
	}
	if (crashed)
		orphans_adopt(s);
	ledger_replay(s);
	boot_plan(s);
	boot_start(s);
	/* The first VMs are on their way; now the webhook sender, which
	 * runs for the daemon's life, webhook or not, so `vmsched webhook
	 * set` takes effect without a restart. */
	if ((s->s_hook = hook_start(s->s_dbpath, why, sizeof(why))) == NULL)
		log_warnx("webhook sender: %s (events stay in the outbox)",
		    why);
	log_info("daemon started, pid %ld, boot %s", (long)getpid(),
	    s->s_boot_id);
	/* Requests the CLI made before or while we loaded. */
	reload(s);
	return 0;
}

int
sched_daemon(const struct sched_opts *opts)
{
	struct sched s;
	struct metrics_file mf;		/* --metrics-textfile */
	struct pollfd *pfd = NULL, *npfd;
	unsigned char sigs[64];
	int fds[2] = { -1, -1 }, rc, reload_now, n, i, jfd[JS_N];
	int64_t until;
	size_t k, j, nj, npfd_max = 0;
	ssize_t got;

	memset(&s, 0, sizeof(s));
	s.s_opts = opts;
	s.s_lockfd = -1;
	s.s_ledger_fd = -1;
	s.s_self_fd = -1;
	s.s_null_fd = -1;
	s.s_fault_spawn = getenv("VMSCHED_TEST_FAULT") != NULL &&
	    strcmp(getenv("VMSCHED_TEST_FAULT"), "kill-after-spawn") == 0;
	srandom((unsigned)(now_ms() ^ getpid()));
	metrics_file_init(&mf, opts->so_metrics_path);
	if ((rc = start_up(&s, opts, fds)) != 0)
		goto done;
	for (;;) {
		s.s_now = mono_ms();
		boot_settle(&s);
		if (jrn_flush(&s) == 0)
			ledger_clear(&s);
		metrics_tick(&mf, s.s_db);
		if (s.s_shutdown && !any_live(&s))
			break;
		/* A pidfd and the helpers' pipes of each VM (issue 12). */
		if (npfd_max < s.s_nvms * (1 + JS_N) + 1) {
			npfd = realloc(pfd, (s.s_nvms * (1 + JS_N) + 1) *
			    sizeof(*pfd));
			if (npfd == NULL)
				fatal("poll set");
			pfd = npfd;
			npfd_max = s.s_nvms * (1 + JS_N) + 1;
		}
		pfd[0].fd = fds[0];
		pfd[0].events = POLLIN;
		for (k = 0, n = 1; k < s.s_nvms; k++) {
			nj = job_fds(s.s_vms[k], jfd, JS_N);
			for (j = 0; j < nj; j++) {
				pfd[n].fd = jfd[j];
				pfd[n].events = POLLIN;
				n++;
			}
			if (s.s_vms[k]->v_proc.p_fd < 0 ||
			    !s.s_vms[k]->v_fsm.f_live)
				continue;
			pfd[n].fd = s.s_vms[k]->v_proc.p_fd;
			pfd[n].events = POLLIN;
			n++;
		}
		if (poll(pfd, (nfds_t)n, metrics_timeout(&mf,
		    poll_timeout(&s))) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		s.s_now = mono_ms();
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
		/* Helpers' output first: a helper that ended is reaped
		 * with all it said. */
		for (i = 1; i < n; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR) &&
			    job_readable(&s, pfd[i].fd))
				pfd[i].revents = 0;
		reap(&s);
		for (i = 1; i < n; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				pidfd_ended(&s, pfd[i].fd);
		if (reload_now || s.s_now >= s.s_reload_at) {
			reload(&s);
			/* the CLI may have changed the webhook or queued one */
			if (s.s_hook != NULL)
				hook_wake(s.s_hook);
		}
		fire_timers(&s);
	}
	/* Everything recorded before we go, as far as the store lets us. */
	until = mono_ms() + FINAL_FLUSH_MS;
	while (jrn_flush(&s) == -1 && mono_ms() < until)
		poll(NULL, 0, 50);
	if (jrn_flush(&s) == 0)
		ledger_clear(&s);
	metrics_done(&mf, s.s_db);
	log_info("all VMs stopped; daemon exits");
	db_daemon_stopped(s.s_db);
	rc = 0;
done:
	if (s.s_hook != NULL)
		hook_stop(s.s_hook);
	for (k = 0; k < s.s_nvms; k++)
		vm_free(&s, s.s_vms[k]);
	free(s.s_vms);
	free(s.s_byname);
	free(s.s_byid);
	free(s.s_disowned);
	free(pfd);
	jrn_free(s.s_jrn);
	if (s.s_ledger_fd >= 0)
		close(s.s_ledger_fd);
	if (s.s_lockfd >= 0)
		close(s.s_lockfd);
	if (s.s_self_fd >= 0)
		close(s.s_self_fd);
	if (s.s_null_fd >= 0)
		close(s.s_null_fd);
	if (s.s_db != NULL)
		db_close(s.s_db);
	free(s.s_db);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}

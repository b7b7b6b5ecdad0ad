/*
 * gate.c: the checks the daemon runs for a VM. A --wait-path gate is a
 * stat, answered at once; a --wait-cmd gate (/bin/sh -c CMD), a
 * --wait-tcp gate and the --ready-tcp check (`vmsched probe tcp
 * HOST:PORT`) could block, so they run as helper processes whose exit the
 * reaper hands back here: exit 0 is open (ready), anything else shut.
 * Helpers run as the VM runs, through exec_launch: its user, groups,
 * environment and working directory, their output in its log file. The
 * TCP probe is this binary, exec'd from a descriptor opened at start-up,
 * so a VM's user need not be able to reach the path it was started from.
 *
 * A helper belongs to the check the state machine asked for. When the
 * check is no longer wanted (it ran too long, the VM stops or its run
 * ended) it is killed and disowned: its exit is reaped, never reported.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "sched.h"

/* A helper killed, waiting to be reaped: nobody wants its answer. */
void
sched_disown(struct sched *s, pid_t pid)
{
	pid_t *np;
	size_t cap;

	if (s->s_ndisowned == s->s_disowned_cap) {
		cap = s->s_disowned_cap ? s->s_disowned_cap * 2 : 8;
		if ((np = realloc(s->s_disowned, cap * sizeof(*np))) == NULL) {
			log_warn("disowning pid %ld", (long)pid);
			return;
		}
		s->s_disowned = np;
		s->s_disowned_cap = cap;
	}
	s->s_disowned[s->s_ndisowned++] = pid;
}

/* Start a helper for v: argv, or this binary's probe when self is set. */
static int
helper(struct sched *s, struct vm *v, char *const *argv, int self,
    char *why, size_t len)
{
	struct launch l;
	struct proc p;
	char logfile[PATH_MAX];

	if (vm_launch_init(s, v, &l, logfile, sizeof(logfile), NULL) == -1) {
		snprintf(why, len, "log file path too long");
		return -1;
	}
	l.l_argv = argv;
	l.l_exec_fd = self ? s->s_self_fd : -1;
	if (exec_launch(&l, &p, why, len) == -1)
		return -1;
	v->v_probe = p.p_pid;
	return 0;
}

int
gate_act(struct sched *s, struct vm *v, enum fsm_act a, struct fsm_event *ev,
    char *why, size_t len)
{
	const struct gate *g;
	char *argv[5];
	int rc;

	memset(ev, 0, sizeof(*ev));
	if (a == A_PROBE_KILL) {
		if (v->v_probe > 0) {
			if (kill(-v->v_probe, SIGKILL) == -1)
				kill(v->v_probe, SIGKILL);
			sched_disown(s, v->v_probe);
			v->v_probe = 0;
		}
		return 0;
	}
	if (v->v_probe > 0)
		return 0;	/* one check at a time */
	ev->fe_ev = a == A_READY ? EV_READY : EV_GATE;
	if (a == A_GATE) {
		if (v->v_fsm.f_gate >= v->v_def.vd_ngates)
			return 0;
		g = &v->v_def.vd_gates[v->v_fsm.f_gate];
		if (g->g_kind == GATE_PATH) {
			ev->fe_ok = probe_path(g->g_arg, why, len) == 0;
			return 1;
		}
	} else
		g = NULL;
	if (g != NULL && g->g_kind == GATE_CMD) {
		argv[0] = (char *)(uintptr_t)"/bin/sh";
		argv[1] = (char *)(uintptr_t)"-c";
		argv[2] = g->g_arg;
		argv[3] = NULL;
		rc = helper(s, v, argv, 0, why, len);
	} else {
		argv[0] = (char *)(uintptr_t)s->s_opts->so_self;
		argv[1] = (char *)(uintptr_t)"probe";
		argv[2] = (char *)(uintptr_t)"tcp";
		argv[3] = g != NULL ? g->g_arg : v->v_def.vd_ready_tcp;
		argv[4] = NULL;
		rc = helper(s, v, argv, s->s_self_fd >= 0, why, len);
	}
	if (rc == 0) {
		v->v_probe_kind = a;
		return 0;
	}
	/* It could not even start: shut, and tried again later. */
	log_warnx("%s: %s check: %s", v->v_name, a == A_READY ? "ready" :
	    "gate", why);
	ev->fe_ok = 0;
	return 1;
}

int
gate_reaped(struct sched *s, pid_t pid, int status)
{
	struct fsm_event ev;
	struct vm *v;
	size_t i;

	for (i = 0; i < s->s_ndisowned; i++)
		if (s->s_disowned[i] == pid) {
			s->s_disowned[i] = s->s_disowned[--s->s_ndisowned];
			return 1;
		}
	for (i = 0; i < s->s_nvms; i++) {
		v = s->s_vms[i];
		if (v->v_probe != pid)
			continue;
		v->v_probe = 0;
		memset(&ev, 0, sizeof(ev));
		ev.fe_ev = v->v_probe_kind == A_READY ? EV_READY : EV_GATE;
		ev.fe_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		vm_feed(s, v, &ev);
		return 1;
	}
	return 0;
}

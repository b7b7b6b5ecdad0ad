/*
 * job.c: the helper commands a driver runs for a VM (issue 12). A
 * detached VM is started, watched, stopped, killed, suspended and resumed
 * by commands (vmrun, virsh, VBoxManage, `vmsched qmp`), any of which can
 * hang; none may block the daemon's loop. A job is one such command,
 * started through exec_launch as the VM's user, with its groups,
 * environment, working directory and log file, in one of the VM's slots:
 * the status command in its own, everything else in the other, so a
 * status poll never waits for a stop that takes a minute.
 *
 * A status command's stdout comes through a pipe the daemon reads as it
 * comes and keeps (the first JOB_OUT_MAX bytes) for the status map; its
 * stderr goes to the log. Any other command writes everything to the log,
 * and the child hands the daemon the descriptor it opened the log with
 * (SCM_RIGHTS), so once the command has ended the daemon reads back what
 * it appended (the last JOB_TAIL_MAX bytes, for its last line in the run
 * row) with the rights of whoever controls the log's path, never through
 * the path. No pipe is left to a start command: a hypervisor it leaves
 * running may keep its stderr for ever, and writing to a pipe nobody reads
 * any more would kill it. A job past its deadline is killed (its process
 * group), and its end reported as a timeout. A job that is no longer
 * wanted is killed and disowned: reaped without a word. Once reaped, the
 * output still in the pipe is read, and the job goes to its driver's
 * drv_done with the slot already free.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched.h"

static void
job_clear(struct cmdjob *j)
{
	if (j->j_fd >= 0)
		close(j->j_fd);
	if (j->j_log >= 0)
		close(j->j_log);
	free(j->j_buf);
	memset(j, 0, sizeof(*j));
	j->j_fd = -1;
	j->j_log = -1;
}

int
job_busy(const struct vm *v, enum job_slot slot)
{
	int i;

	if (slot != JS_N)
		return v->v_job[slot].j_pid != 0;
	for (i = 0; i < JS_N; i++)
		if (v->v_job[i].j_pid != 0)
			return 1;
	return 0;
}

static void
kill_group(pid_t pid)
{
	if (kill(-pid, SIGKILL) == -1)
		kill(pid, SIGKILL);
}

void
job_cancel(struct sched *s, struct vm *v, enum job_slot slot)
{
	struct cmdjob *j = &v->v_job[slot];

	if (j->j_pid == 0)
		return;
	kill_group(j->j_pid);
	sched_disown(s, j->j_pid);
	job_clear(j);
}

int
job_run(struct sched *s, struct vm *v, enum job_slot slot, int kind,
    char *const *argv, int capture_stdout, char *why, size_t len)
{
	struct cmdjob *j = &v->v_job[slot];
	struct launch l;
	struct logfd lf = { -1, 0 };
	struct proc p;
	char logfile[PATH_MAX], vmenv[16 + VM_NAME_MAX];
	char *const *use = argv;
	const char *extra[2] = { vmenv, NULL };
	char **copy = NULL;
	size_t n;
	int fds[2] = { -1, -1 }, rc = -1;

	job_cancel(s, v, slot);
	snprintf(vmenv, sizeof(vmenv), "VMSCHED_VM=%s", v->v_name);
	if (vm_launch_init(s, v, &l, logfile, sizeof(logfile), extra) == -1) {
		snprintf(why, len, "log file path too long");
		return -1;
	}
	if (capture_stdout) {
		if (pipe(fds) == -1) {
			snprintf(why, len, "pipe: %s", strerror(errno));
			return -1;
		}
		fcntl(fds[0], F_SETFD, FD_CLOEXEC);
		fcntl(fds[1], F_SETFD, FD_CLOEXEC);
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
	}
	l.l_capture = capture_stdout ? LAUNCH_STDOUT : 0;
	l.l_pipe = fds[1];
	l.l_log_back = capture_stdout ? NULL : &lf;
	/* "vmsched ...": this daemon's own binary (`vmsched qmp`). */
	if (argv[0] != NULL && strcmp(argv[0], "vmsched") == 0 &&
	    s->s_opts->so_self != NULL) {
		for (n = 0; argv[n] != NULL; n++)
			;
		if ((copy = calloc(n + 1, sizeof(*copy))) == NULL) {
			snprintf(why, len, "%s", strerror(ENOMEM));
			goto done;
		}
		memcpy(copy, argv, n * sizeof(*copy));
		copy[0] = (char *)(uintptr_t)s->s_opts->so_self;
		use = copy;
		l.l_exec_fd = s->s_self_fd;
	}
	l.l_argv = use;
	if (exec_launch(&l, &p, why, len) == -1)
		goto done;
	j->j_pid = p.p_pid;
	j->j_kind = kind;
	j->j_fd = fds[0];
	fds[0] = -1;
	j->j_stdout = capture_stdout;
	if (!capture_stdout) {
		j->j_log = lf.lf_fd;
		j->j_log_at = lf.lf_at;
	}
	j->j_started = mono_ms();
	j->j_deadline = j->j_started + (v->v_def.vd_cmd_timeout_ms > 0 ?
	    v->v_def.vd_cmd_timeout_ms : 120000);
	rc = 0;
done:
	free(copy);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}

/* Keep buf[0..n) of what j's stdout said, up to JOB_OUT_MAX. */
static void
keep(struct cmdjob *j, const char *buf, size_t n)
{
	char *nb;

	if (j->j_buf == NULL) {
		if ((nb = malloc(JOB_OUT_MAX)) == NULL)
			return;
		j->j_buf = nb;
	}
	if (n > JOB_OUT_MAX - j->j_len)
		n = JOB_OUT_MAX - j->j_len;
	memcpy(j->j_buf + j->j_len, buf, n);
	j->j_len += n;
}

/* What j appended to the log (its last JOB_TAIL_MAX bytes), read back
 * through the descriptor it opened the log with. */
static void
tail(struct cmdjob *j)
{
	off_t end, from;
	ssize_t n;

	if (j->j_log < 0 || (end = lseek(j->j_log, 0, SEEK_END)) == -1 ||
	    end <= j->j_log_at)
		return;
	from = end - j->j_log_at > JOB_TAIL_MAX ? end - JOB_TAIL_MAX :
	    j->j_log_at;
	if ((j->j_buf = malloc(JOB_TAIL_MAX)) == NULL)
		return;
	if ((n = pread(j->j_log, j->j_buf, (size_t)(end - from), from)) > 0)
		j->j_len = (size_t)n;
}

/* Read what j's pipe holds now; close it at its end. */
static void
drain(struct cmdjob *j)
{
	char buf[8192];
	ssize_t n;

	while (j->j_fd >= 0) {
		if ((n = read(j->j_fd, buf, sizeof(buf))) > 0) {
			keep(j, buf, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		close(j->j_fd);
		j->j_fd = -1;
	}
}

int
job_readable(struct sched *s, int fd)
{
	size_t i;
	int k;

	for (i = 0; i < s->s_nvms; i++)
		for (k = 0; k < JS_N; k++)
			if (s->s_vms[i]->v_job[k].j_pid != 0 &&
			    s->s_vms[i]->v_job[k].j_fd == fd) {
				drain(&s->s_vms[i]->v_job[k]);
				return 1;
			}
	return 0;
}

int
job_reaped(struct sched *s, pid_t pid, int status)
{
	struct cmdjob done;
	struct vm *v;
	size_t i;
	int k;

	for (i = 0; i < s->s_nvms; i++) {
		v = s->s_vms[i];
		for (k = 0; k < JS_N; k++) {
			if (v->v_job[k].j_pid != pid)
				continue;
			/* What it wrote before it ended is in the pipe. A
			 * process it left behind may hold the pipe open: do
			 * not wait for the end of the stream. */
			drain(&v->v_job[k]);
			tail(&v->v_job[k]);
			done = v->v_job[k];
			done.j_status = status;
			memset(&v->v_job[k], 0, sizeof(v->v_job[k]));
			v->v_job[k].j_fd = v->v_job[k].j_log = -1;
			if (v->v_drv->drv_done != NULL)
				v->v_drv->drv_done(s, v, k, &done);
			job_clear(&done);
			return 1;
		}
	}
	return 0;
}

void
job_tick(struct sched *s, struct vm *v)
{
	struct cmdjob *j;
	int k;

	for (k = 0; k < JS_N; k++) {
		j = &v->v_job[k];
		if (j->j_pid == 0 || j->j_deadline == 0 ||
		    j->j_deadline > s->s_now)
			continue;
		log_warnx("%s: a helper (pid %ld) ran past its --cmd-timeout: "
		    "killed", v->v_name, (long)j->j_pid);
		kill_group(j->j_pid);
		j->j_timed_out = 1;
		j->j_deadline = 0;
	}
}

int64_t
job_next(const struct vm *v)
{
	int64_t next = 0;
	int k;

	for (k = 0; k < JS_N; k++)
		if (v->v_job[k].j_pid != 0 && v->v_job[k].j_deadline > 0 &&
		    (next == 0 || v->v_job[k].j_deadline < next))
			next = v->v_job[k].j_deadline;
	return next;
}

size_t
job_fds(const struct vm *v, int *fds, size_t max)
{
	size_t n = 0;
	int k;

	for (k = 0; k < JS_N && n < max; k++)
		if (v->v_job[k].j_pid != 0 && v->v_job[k].j_fd >= 0)
			fds[n++] = v->v_job[k].j_fd;
	return n;
}

int
job_code(const struct cmdjob *j)
{
	if (j->j_timed_out || !WIFEXITED(j->j_status))
		return -1;
	return WEXITSTATUS(j->j_status);
}

/* The last line of what j's stderr said that is not blank, into buf. */
static const char *
last_line(const struct cmdjob *j, char *buf, size_t len)
{
	const char *p, *end, *start;
	size_t n;

	if (j->j_buf == NULL || j->j_len == 0 || j->j_stdout)
		return NULL;
	end = j->j_buf + j->j_len;
	while (end > j->j_buf && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == j->j_buf)
		return NULL;
	for (p = end; p > j->j_buf && p[-1] != '\n'; p--)
		;
	for (start = p; start < end && (*start == ' ' || *start == '\t');
	    start++)
		;
	n = (size_t)(end - start);
	if (n >= len)
		n = len - 1;
	memcpy(buf, start, n);
	buf[n] = '\0';
	/* What goes to the store is text: stray bytes and controls out. */
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			buf[p - buf] = ' ';
	if (!text_utf8(buf, strlen(buf))) {
		char *fixed = malloc(strlen(buf) * 3 + 1);
		if (fixed != NULL) {
			n = text_utf8_fix(buf, strlen(buf), fixed);
			fixed[n] = '\0';
			snprintf(buf, len, "%s", fixed);
			free(fixed);
		}
	}
	return buf;
}

char *
job_outcome(const struct cmdjob *j, const char *what, char *buf, size_t len)
{
	char how[64], line[512], ms[32];
	const char *l;

	if (j->j_timed_out) {
		value_fmt_duration(mono_ms() - j->j_started, ms, sizeof(ms));
		snprintf(how, sizeof(how), "timed out after %s", ms);
	} else
		exec_status_text(j->j_status, how, sizeof(how));
	if ((l = last_line(j, line, sizeof(line))) != NULL)
		snprintf(buf, len, "%s %s: %s", what, how, l);
	else
		snprintf(buf, len, "%s %s", what, how);
	return buf;
}

/*
 * drv-exec.c: the exec driver. The VM is a long-running foreground process
 * (vmware-vmx -x, qemu, VBoxHeadless, any daemon) that the supervisor forks
 * and keeps as its child. The child gets a new session, default signal
 * handling, stdout and stderr appended to the VM's log file, its working
 * directory, user and environment, then execs. Whatever fails before the
 * exec is sent back through a close-on-exec pipe, so the parent learns
 * "exec: No such file or directory" instead of a mysterious exit 127.
 * Everything the child needs is prepared by the parent: after fork it only
 * makes async-signal-safe calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "sched.h"

extern char **environ;

/* What the child reports when it cannot exec. */
struct failure {
	int	f_stage;	/* enum stage */
	int	f_errno;
};

enum stage { ST_LOG, ST_STDIN, ST_CWD, ST_GROUPS, ST_GID, ST_UID, ST_EXEC };

static const char *stages[] = {
	[ST_LOG] = "log file", [ST_STDIN] = "/dev/null", [ST_CWD] = "chdir",
	[ST_GROUPS] = "setgroups", [ST_GID] = "setgid", [ST_UID] = "setuid",
	[ST_EXEC] = "exec",
};

/* Mark every descriptor from 3 up close-on-exec. */
static void
cloexec_from(int lowfd)
{
	long max, fd;

#if defined(__linux__) && defined(SYS_close_range)
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 4 /*CLOEXEC*/) == 0)
		return;
#endif
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

static void __attribute__((noreturn))
child(const struct spawn *sp, int report)
{
	struct failure f = { 0, 0 };
	sigset_t none;
	int fd, sig;

	setsid();
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	cloexec_from(3);

	f.f_stage = ST_LOG;
	if ((fd = open(sp->sp_log, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY,
	    0640)) == -1)
		goto fail;
	if (sp->sp_setuser && fchown(fd, sp->sp_uid, sp->sp_gid) == -1)
		goto fail;
	if (dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		goto fail;
	if (fd > 2)
		close(fd);
	f.f_stage = ST_STDIN;
	if ((fd = open("/dev/null", O_RDONLY)) == -1 || dup2(fd, 0) == -1)
		goto fail;
	if (fd > 2)
		close(fd);
	if (sp->sp_setuser) {
		f.f_stage = ST_GROUPS;
		if (setgroups((size_t)sp->sp_ngroups, sp->sp_groups) == -1)
			goto fail;
		f.f_stage = ST_GID;
		if (setgid(sp->sp_gid) == -1)
			goto fail;
		f.f_stage = ST_UID;
		if (setuid(sp->sp_uid) == -1)
			goto fail;
	}
	f.f_stage = ST_CWD;
	if (sp->sp_cwd != NULL && chdir(sp->sp_cwd) == -1)
		goto fail;
	f.f_stage = ST_EXEC;
	environ = sp->sp_envp;
	execvp(sp->sp_argv[0], sp->sp_argv);
fail:
	f.f_errno = errno;
	while (write(report, &f, sizeof(f)) == -1 && errno == EINTR)
		;
	_exit(127);
}

static int
exec_start(const struct spawn *sp, pid_t *pidp, char *why, size_t len)
{
	struct failure f;
	ssize_t n;
	pid_t pid;
	int fds[2], status;

	if (pipe(fds) == -1) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return -1;
	}
	if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(why, len, "fcntl: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		child(sp, fds[1]);
	close(fds[1]);
	/* EOF: the exec happened and closed the pipe. */
	while ((n = read(fds[0], &f, sizeof(f))) == -1 && errno == EINTR)
		;
	close(fds[0]);
	*pidp = pid;
	if (n == 0)
		return 0;
	/* The child is exiting 127; collect it here so the reaper never
	 * sees a run that did not happen. */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(f))
		snprintf(why, len, "child failed before exec");
	else if (f.f_stage == ST_EXEC)
		snprintf(why, len, "%s", strerror(f.f_errno));
	else if (f.f_stage == ST_LOG)
		snprintf(why, len, "%s %s: %s", stages[f.f_stage], sp->sp_log,
		    strerror(f.f_errno));
	else if (f.f_stage == ST_CWD)
		snprintf(why, len, "%s %s: %s", stages[f.f_stage], sp->sp_cwd,
		    strerror(f.f_errno));
	else
		snprintf(why, len, "%s: %s", stages[f.f_stage],
		    strerror(f.f_errno));
	return -1;
}

static int
exec_signal(pid_t pid, int sig)
{
	/* The VM leads its own session: signal its whole process group, so
	 * a wrapper shell does not leave the hypervisor behind. */
	if (kill(-pid, sig) == 0)
		return 0;
	return kill(pid, sig);
}

const struct driver driver_exec = {
	"exec", exec_start, exec_signal,
};

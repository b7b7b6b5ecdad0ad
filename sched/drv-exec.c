/*
 * drv-exec.c: the exec driver. The VM is a long-running foreground process
 * (vmware-vmx -x, qemu, VBoxHeadless, any daemon) that the supervisor forks
 * and keeps as its child. The child gets a new session, default signal
 * handling, stdout and stderr appended to the VM's log file, its working
 * directory, user and environment, then execs. Whatever fails before the
 * exec is sent back through a close-on-exec pipe, so the parent learns
 * "exec: No such file or directory" instead of a mysterious exit 127.
 * Everything the child needs is prepared by the parent, the PATH lookup
 * included: after vfork it only makes system calls, then execve.
 *
 * vfork, not fork: fork copies the daemon's page tables (and, with the
 * webhook thread, flushes TLBs across CPUs) only for exec to throw the copy
 * away; on a 2-core host that was most of a restart's cost (11 ms against
 * 3 ms). The child shares our memory until it execs, so it writes nothing
 * but its own stack and the report pipe; every signal is blocked around the
 * vfork so no handler of ours runs in it; and it changes credentials with
 * raw system calls, since glibc's setuid() would try to reach the threads
 * of the process it thinks it is part of.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
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

/* Credentials, without glibc's all-threads broadcast (see above). */
static int
raw_setgroups(const struct spawn *sp)
{
#if defined(__linux__)
	return (int)syscall(SYS_setgroups, (size_t)sp->sp_ngroups,
	    sp->sp_groups);
#else
	return setgroups(sp->sp_ngroups, sp->sp_groups);
#endif
}

static int
raw_setgid(gid_t gid)
{
#if defined(__linux__)
	return (int)syscall(SYS_setgid, gid);
#else
	return setgid(gid);
#endif
}

static int
raw_setuid(uid_t uid)
{
#if defined(__linux__)
	return (int)syscall(SYS_setuid, uid);
#else
	return setuid(uid);
#endif
}

/*
 * The program to exec: argv0 itself if it has a slash, else the first
 * executable match along PATH (as execvp would find it) into buf. 0, or
 * -1 with errno ENOENT (or EACCES if only unexecutable matches exist).
 */
static int
find_program(const char *argv0, char *const *envp, char *buf, size_t len)
{
	const char *path = "/usr/local/bin:/usr/bin:/bin", *p, *end;
	size_t i, dlen;
	int denied = 0;

	if (strchr(argv0, '/') != NULL) {
		snprintf(buf, len, "%s", argv0);
		return 0;
	}
	for (i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			path = envp[i] + 5;
	for (p = path; ; p = end + 1) {
		end = strchr(p, ':');
		dlen = end ? (size_t)(end - p) : strlen(p);
		if (snprintf(buf, len, "%.*s%s%s", (int)dlen, p,
		    dlen ? "/" : "", argv0) < (int)len) {
			if (access(buf, X_OK) == 0)
				return 0;
			if (errno == EACCES)
				denied = 1;
		}
		if (end == NULL)
			break;
	}
	errno = denied ? EACCES : ENOENT;
	return -1;
}

static void __attribute__((noreturn))
child(const struct spawn *sp, const char *prog, int report)
{
	struct failure f = { 0, 0 };
	struct sigaction dfl;
	sigset_t none;
	int fd, sig;

	/* Our handlers must not run here: defaults first, then a VM starts
	 * with no signal blocked. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
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
		if (raw_setgroups(sp) == -1)
			goto fail;
		f.f_stage = ST_GID;
		if (raw_setgid(sp->sp_gid) == -1)
			goto fail;
		f.f_stage = ST_UID;
		if (raw_setuid(sp->sp_uid) == -1)
			goto fail;
	}
	f.f_stage = ST_CWD;
	if (sp->sp_cwd != NULL && chdir(sp->sp_cwd) == -1)
		goto fail;
	f.f_stage = ST_EXEC;
	execve(prog, sp->sp_argv, sp->sp_envp);
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
	sigset_t all, old;
	char prog[PATH_MAX];
	ssize_t n;
	pid_t pid;
	int fds[2], status;

	if (find_program(sp->sp_argv[0], sp->sp_envp, prog, sizeof(prog)) ==
	    -1) {
		snprintf(why, len, "%s", strerror(errno));
		return -1;
	}
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
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
#if defined(__linux__)
	pid = vfork();
#else
	pid = fork();
#endif
	if (pid == 0)
		child(sp, prog, fds[1]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
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

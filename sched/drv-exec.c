/*
 * drv-exec.c: the exec driver. The VM is a long-running foreground process
 * (vmware-vmx -x, qemu, VBoxHeadless, any daemon) that the daemon forks and
 * keeps as its child: its end comes from waitpid, and stop, suspend and
 * kill are signals to its process group. A process a dead daemon started
 * is adopted by pid and start time and watched through a pidfd (or polled
 * where there is none). exec_launch, which the driver starts VMs with, also
 * runs the helper processes of a VM's checks (gate commands, TCP probes)
 * and the detached driver's commands (issue 12: job.c) with the same user,
 * groups, environment, directory and log file; for those a stream can go
 * to a pipe instead of the log, and the child can hand the daemon the
 * descriptor it opened the log with (SCM_RIGHTS, with the file's size),
 * so the daemon reads back what a command wrote without opening the path.
 *
 * The child gets a new session, default signal handling, stdout and stderr
 * appended to the VM's log file, its user, working directory and
 * environment, then execs. Whatever fails before the exec is sent back
 * through a close-on-exec pipe, so the parent learns "exec: No such file
 * or directory" instead of a mysterious exit 127. Everything the child
 * needs is prepared by the parent, the PATH lookup and the user's groups
 * included: after vfork it only makes system calls, then execve.
 *
 * The log file is opened with the rights of whoever controls its path
 * (trust.c): the daemon for a path only root can change, else that user,
 * so a symlink, hard link, FIFO or device planted there cannot make root
 * write or chown anything; the open never blocks (O_NONBLOCK, then the
 * file must be a regular one) and follows no last symlink.
 *
 * vfork, not fork: fork copies the daemon's page tables (and, with the
 * webhook thread, flushes TLBs across CPUs) only for exec to throw the copy
 * away; on a 2-core host that was most of a restart's cost. The child
 * shares our memory until it execs, so it writes nothing but its own stack
 * and the report pipe; every signal is blocked around the vfork so no
 * handler of ours runs in it; and it changes credentials with raw system
 * calls, since glibc's setuid() would try to reach the threads of the
 * process it thinks it is part of.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "sched.h"

#define POLL_MS		1000	/* liveness of a process without a pidfd */

/* What the child reports when it cannot exec. */
struct failure {
	int	f_stage;	/* enum stage */
	int	f_errno;
};

enum stage {
	ST_LOG, ST_LOG_TYPE, ST_LOG_LINKS, ST_STDIN, ST_CWD, ST_GROUPS,
	ST_GID, ST_UID, ST_EXEC,
};

static const char *stages[] = {
	[ST_LOG] = "log file", [ST_LOG_TYPE] = "log file",
	[ST_LOG_LINKS] = "log file", [ST_STDIN] = "/dev/null",
	[ST_CWD] = "chdir", [ST_GROUPS] = "setgroups", [ST_GID] = "setgid",
	[ST_UID] = "setuid", [ST_EXEC] = "exec",
};

/* Credentials, as the parent worked them out. */
struct cred {
	uid_t	 c_uid;
	gid_t	 c_gid;
	gid_t	*c_groups;
	int	 c_ngroups;
};

/* Everything the child needs, ready before the vfork. */
struct child {
	const char	*ch_prog;	/* the file to exec */
	char *const	*ch_argv;
	char *const	*ch_envp;
	int		 ch_exec_fd;	/* exec this descriptor, or -1 */
	const char	*ch_cwd;
	const char	*ch_log;	/* resolved: no symlinks */
	int		 ch_drop;	/* become ch_user */
	struct cred	 ch_user;	/* the VM's user */
	int		 ch_log_as;	/* 0 daemon, 1 the VM's user,
					   2 ch_other */
	struct cred	 ch_other;	/* who controls the log's path */
	struct cred	 ch_self;	/* the daemon, to come back to */
	int		 ch_report;	/* write end of the report pipe */
	const sigset_t	*ch_reset;	/* signals to reset; NULL: all */
	int		 ch_null;	/* /dev/null open for reading (above 2),
					   or the child opens it */
	int		 ch_capture;	/* 1 or 2: that fd to ch_pipe; 0 */
	int		 ch_pipe;
	int		 ch_logsock;	/* send the log's descriptor here; -1 */
	int		 ch_log_rw;	/* open the log for reading too */
};

/* Mark every descriptor from lowfd up close-on-exec. */
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
raw_setgroups(const struct cred *c)
{
#if defined(__linux__)
	return (int)syscall(SYS_setgroups, (size_t)c->c_ngroups, c->c_groups);
#else
	return setgroups(c->c_ngroups, c->c_groups);
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

/* Effective ids only: the saved root lets the child come back. */
static int
raw_seteids(uid_t uid, gid_t gid)
{
#if defined(__linux__)
	if (syscall(SYS_setresgid, (gid_t)-1, gid, (gid_t)-1) == -1)
		return -1;
	return (int)syscall(SYS_setresuid, (uid_t)-1, uid, (uid_t)-1);
#else
	if (setegid(gid) == -1)
		return -1;
	return seteuid(uid);
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

/* Become c for good. */
static int
drop(const struct cred *c, struct failure *f)
{
	f->f_stage = ST_GROUPS;
	if (raw_setgroups(c) == -1)
		return -1;
	f->f_stage = ST_GID;
	if (raw_setgid(c->c_gid) == -1)
		return -1;
	f->f_stage = ST_UID;
	return raw_setuid(c->c_uid);
}

/* Open the log without following a last symlink or blocking; it must be
 * a regular file with one link. Then it is stdout and stderr. */
static int
open_log(const struct child *ch, struct failure *f)
{
	struct stat sb;
	int fd, fl;

	f->f_stage = ST_LOG;
	if ((fd = open(ch->ch_log, (ch->ch_log_rw ? O_RDWR : O_WRONLY) |
	    O_APPEND | O_CREAT | O_NOCTTY |
	    O_NOFOLLOW | O_NONBLOCK, 0600)) == -1)
		return -1;
	if (fstat(fd, &sb) == -1)
		return -1;
	if (!S_ISREG(sb.st_mode)) {
		f->f_stage = ST_LOG_TYPE;
		errno = EINVAL;
		return -1;
	}
	if (sb.st_nlink > 1) {
		f->f_stage = ST_LOG_LINKS;
		errno = EMLINK;
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		return -1;
	if (dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		return -1;
	if (fd > 2)
		close(fd);
	return 0;
}

/* Room for one descriptor in a message's control data. */
union fdmsg {
	struct cmsghdr	h;
	char		buf[CMSG_SPACE(sizeof(int))];
};

/* msg carrying len bytes at data and control room in u. */
static void
fdmsg_init(struct msghdr *msg, struct iovec *iov, void *data, size_t len,
    union fdmsg *u)
{
	memset(msg, 0, sizeof(*msg));
	memset(u, 0, sizeof(*u));
	iov->iov_base = data;
	iov->iov_len = len;
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = u->buf;
	msg->msg_controllen = sizeof(u->buf);
}

/* Send descriptor fd and the size of its file over the socket sock
 * (SCM_RIGHTS); best effort. */
static void
send_fd(int sock, int fd)
{
	off_t at = lseek(fd, 0, SEEK_END);
	union fdmsg u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;

	fdmsg_init(&msg, &iov, &at, sizeof(at), &u);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	(void)sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* The descriptor sent over sock, close-on-exec, or -1; the size its file
 * had then into *at. */
static int
recv_fd(int sock, off_t *at)
{
	union fdmsg u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	int fd = -1;

	*at = 0;
	fdmsg_init(&msg, &iov, at, sizeof(*at), &u);
	if (recvmsg(sock, &msg, MSG_DONTWAIT) != (ssize_t)sizeof(*at))
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

static void __attribute__((noreturn))
child(const struct child *ch)
{
	struct failure f = { 0, 0 };
	struct sigaction dfl;
	sigset_t none;
	int fd, sig;

	/* Our handlers must not run here: defaults first (for the signals
	 * the daemon catches or ignores, or every one when it did not say),
	 * then a VM starts with no signal blocked. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (ch->ch_reset == NULL || sigismember(ch->ch_reset, sig) == 1)
			sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	cloexec_from(3);

	if (ch->ch_log_as == 1) {
		/* The VM's user controls the log's path: open it as them. */
		if (ch->ch_drop && drop(&ch->ch_user, &f) == -1)
			goto fail;
		if (open_log(ch, &f) == -1)
			goto fail;
	} else {
		if (ch->ch_log_as == 2) {
			f.f_stage = ST_GROUPS;
			if (raw_setgroups(&ch->ch_other) == -1)
				goto fail;
			f.f_stage = ST_LOG;
			if (raw_seteids(ch->ch_other.c_uid,
			    ch->ch_other.c_gid) == -1)
				goto fail;
		}
		if (open_log(ch, &f) == -1)
			goto fail;
		if (ch->ch_log_as == 2 && (raw_seteids(ch->ch_self.c_uid,
		    ch->ch_self.c_gid) == -1 || raw_setgroups(&ch->ch_self) ==
		    -1))
			goto fail;
		if (ch->ch_drop && drop(&ch->ch_user, &f) == -1)
			goto fail;
	}
	/* A helper whose output the daemon reads: the log goes to the
	 * daemon (opened as it had to be), the stream to the pipe. */
	if (ch->ch_logsock >= 0)
		send_fd(ch->ch_logsock, 1);
	f.f_stage = ST_LOG;
	if (ch->ch_capture && dup2(ch->ch_pipe, ch->ch_capture) == -1)
		goto fail;
	f.f_stage = ST_STDIN;
	if (ch->ch_null > 2) {
		if (dup2(ch->ch_null, 0) == -1)
			goto fail;
	} else {
		if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(fd, 0) == -1)
			goto fail;
		if (fd > 2)
			close(fd);
	}
	f.f_stage = ST_CWD;
	if (ch->ch_cwd != NULL && chdir(ch->ch_cwd) == -1)
		goto fail;
	f.f_stage = ST_EXEC;
	if (ch->ch_exec_fd >= 0)
		fexecve(ch->ch_exec_fd, ch->ch_argv, ch->ch_envp);
	else
		execve(ch->ch_prog, ch->ch_argv, ch->ch_envp);
fail:
	f.f_errno = errno;
	while (write(ch->ch_report, &f, sizeof(f)) == -1 && errno == EINTR)
		;
	_exit(127);
}

/*
 * The credentials of pw into c, its groups in a malloc'ed list (however
 * many there are). 0, or -1 with why.
 */
static int
cred_of(const struct passwd *pw, struct cred *c, char *why, size_t len)
{
	gid_t *g = NULL, *ng;
	int n = 64, tries;

	c->c_uid = pw->pw_uid;
	c->c_gid = pw->pw_gid;
	for (tries = 0; tries < 8; tries++) {
		if ((ng = realloc(g, (size_t)n * sizeof(*g))) == NULL) {
			free(g);
			snprintf(why, len, "user %s: %s", pw->pw_name,
			    strerror(ENOMEM));
			return -1;
		}
		g = ng;
		if (getgrouplist(pw->pw_name, pw->pw_gid, g, &n) != -1) {
			c->c_groups = g;
			c->c_ngroups = n;
			return 0;
		}
		n = n * 2 > 65536 ? 65536 : n * 2;
	}
	free(g);
	snprintf(why, len, "user %s: cannot list its groups", pw->pw_name);
	return -1;
}

/* The daemon's own credentials into c (groups malloc'ed). 0, or -1. */
static int
self_cred(struct cred *c, char *why, size_t len)
{
	int n;

	c->c_uid = geteuid();
	c->c_gid = getegid();
	if ((n = getgroups(0, NULL)) < 0 ||
	    (c->c_groups = calloc((size_t)n + 1, sizeof(gid_t))) == NULL ||
	    (c->c_ngroups = getgroups(n, c->c_groups)) < 0) {
		snprintf(why, len, "getgroups: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The environment of a VM: the daemon's, less what the VM sets, plus the
 * VM's; with a run-as user, its HOME, USER and LOGNAME; then extra. NULL on
 * ENOMEM. The array and *owned (the strings made here) are the caller's.
 */
static char **
make_env(const struct vm_def *vd, const struct passwd *pw,
    const char *const *extra, char ***owned)
{
	extern char **environ;
	char **env, **mine;
	size_t n = 0, nx = 0, k = 0, m = 0, i;

	for (i = 0; environ[i] != NULL; i++)
		n++;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		nx++;
	env = calloc(n + vd->vd_env.sv_n + nx + 4, sizeof(*env));
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
		const char *keys[] = { "HOME", "USER", "LOGNAME" };
		const char *vals[] = { pw->pw_dir, pw->pw_name, pw->pw_name };
		for (i = 0; i < 3; i++) {
			size_t len = strlen(keys[i]) + strlen(vals[i]) + 2;
			if ((mine[m] = malloc(len)) == NULL) {
				for (i = 0; i < m; i++)
					free(mine[i]);
				free(mine);
				free(env);
				return NULL;
			}
			snprintf(mine[m], len, "%s=%s", keys[i], vals[i]);
			env[k++] = mine[m++];
		}
	}
	for (i = 0; i < vd->vd_env.sv_n; i++)
		env[k++] = vd->vd_env.sv_v[i];
	for (i = 0; i < nx; i++)
		env[k++] = (char *)(uintptr_t)extra[i];
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
 * Work out who the child becomes and with whose rights it opens the log:
 * fills ch (ch_user's and ch_other's group lists malloc'ed) and *pwp with
 * the VM's user (NULL: the daemon's). 0, or -1 with why.
 */
static int
plan_creds(const struct launch *l, struct child *ch, struct passwd *pwbuf,
    struct passwd **pwp, char *real, size_t reallen, char *why, size_t len)
{
	const struct vm_def *vd = l->l_def;
	struct passwd *pw;
	char tw[512];
	uid_t self = geteuid(), who;

	*pwp = NULL;
	if (vd->vd_user != NULL) {
		errno = 0;
		if ((pw = getpwnam(vd->vd_user)) == NULL) {
			snprintf(why, len, "user %s: %s", vd->vd_user,
			    errno ? strerror(errno) : "no such user");
			return -1;
		}
		*pwbuf = *pw;
		*pwp = pwbuf;
		if (pw->pw_uid != self) {
			if (self != 0) {
				snprintf(why, len, "user %s: running as "
				    "another user needs the daemon to run as "
				    "root", vd->vd_user);
				return -1;
			}
			if (cred_of(pw, &ch->ch_user, why, len) == -1)
				return -1;
			ch->ch_drop = 1;
		}
	}
	if (trust_path(l->l_log, self, real, reallen, &who, tw,
	    sizeof(tw)) == -1) {
		snprintf(why, len, "log file %s", tw);
		return -1;
	}
	ch->ch_log = real;
	if (who == self)
		ch->ch_log_as = 0;
	else if (ch->ch_drop && who == ch->ch_user.c_uid)
		ch->ch_log_as = 1;
	else if (self != 0) {
		snprintf(why, len, "log file %s: its path is controlled by uid "
		    "%ld, and only a daemon running as root can act as them",
		    l->l_log, (long)who);
		return -1;
	} else {
		errno = 0;
		if ((pw = getpwuid(who)) == NULL) {
			snprintf(why, len, "log file %s: its directory belongs "
			    "to uid %ld, which is no user", l->l_log,
			    (long)who);
			return -1;
		}
		if (cred_of(pw, &ch->ch_other, why, len) == -1 ||
		    self_cred(&ch->ch_self, why, len) == -1)
			return -1;
		ch->ch_log_as = 2;
	}
	return 0;
}

/* "log file P (-> R): why", for the operator. */
static void
log_failure(const struct launch *l, const struct child *ch,
    const struct failure *f, char *why, size_t len)
{
	const char *what = f->f_stage == ST_LOG_TYPE ? "not a regular file" :
	    f->f_stage == ST_LOG_LINKS ? "has more than one hard link" :
	    strerror(f->f_errno);

	if (strcmp(l->l_log, ch->ch_log) == 0)
		snprintf(why, len, "log file %s: %s", l->l_log, what);
	else
		snprintf(why, len, "log file %s (-> %s): %s", l->l_log,
		    ch->ch_log, what);
}

/* A pipe closed on exec, both ends. 0, or -1 with errno. */
static int
report_pipe(int fds[2])
{
#if defined(__linux__) && defined(SYS_pipe2)
	return (int)syscall(SYS_pipe2, fds, O_CLOEXEC);
#else
	if (pipe(fds) == -1)
		return -1;
	if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) == -1) {
		close(fds[0]);
		close(fds[1]);
		fds[0] = fds[1] = -1;
		return -1;
	}
	return 0;
#endif
}

/*
 * vfork and run ch in the child, every signal blocked around it. A
 * function of its own, so nothing of the caller's frame is live across
 * the vfork.
 */
static pid_t __attribute__((noinline))
fork_child(const struct child *ch)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
#if defined(__linux__)
	pid = vfork();
#else
	pid = fork();
#endif
	if (pid == 0)
		child(ch);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pid;
}

int
exec_launch(const struct launch *l, struct proc *p, char *why, size_t len)
{
	struct child ch;
	struct failure f;
	struct passwd pwbuf, *pw;
	char prog[PATH_MAX], real[PATH_MAX], **env = NULL, **owned = NULL;
	char *const *argv = l->l_argv ? l->l_argv : l->l_def->vd_argv.sv_v;
	ssize_t n;
	pid_t pid;
	int fds[2] = { -1, -1 }, sock[2] = { -1, -1 }, status, rc = -1;

	memset(&ch, 0, sizeof(ch));
	memset(p, 0, sizeof(*p));
	p->p_fd = -1;
	ch.ch_logsock = -1;
	if (l->l_log_back != NULL)
		l->l_log_back->lf_fd = -1;
	if (argv == NULL || argv[0] == NULL) {
		snprintf(why, len, "no command");
		return -1;
	}
	if (plan_creds(l, &ch, &pwbuf, &pw, real, sizeof(real), why,
	    len) == -1)
		goto done;
	if ((env = make_env(l->l_def, pw, l->l_env, &owned)) == NULL) {
		snprintf(why, len, "environment: %s", strerror(ENOMEM));
		goto done;
	}
	if (l->l_exec_fd < 0 && find_program(argv[0], env, prog,
	    sizeof(prog)) == -1) {
		snprintf(why, len, "%s", strerror(errno));
		goto done;
	}
	if (report_pipe(fds) == -1) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		goto done;
	}
	ch.ch_prog = prog;
	ch.ch_argv = argv;
	ch.ch_envp = env;
	ch.ch_exec_fd = l->l_exec_fd;
	ch.ch_cwd = l->l_def->vd_cwd;
	ch.ch_report = fds[1];
	ch.ch_reset = l->l_reset;
	ch.ch_null = l->l_null_fd;
	ch.ch_capture = l->l_capture;
	ch.ch_pipe = l->l_pipe;
	ch.ch_log_rw = l->l_log_back != NULL;
	if (l->l_log_back != NULL) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sock) == -1) {
			snprintf(why, len, "socketpair: %s", strerror(errno));
			goto done;
		}
		fcntl(sock[0], F_SETFD, FD_CLOEXEC);
		fcntl(sock[1], F_SETFD, FD_CLOEXEC);
		ch.ch_logsock = sock[1];
	}

	if ((pid = fork_child(&ch)) == -1) {
		snprintf(why, len, "fork: %s", strerror(errno));
		goto done;
	}
	close(fds[1]);
	fds[1] = -1;
	/* EOF: the exec happened and closed the pipe. */
	while ((n = read(fds[0], &f, sizeof(f))) == -1 && errno == EINTR)
		;
	if (n == 0) {
		p->p_pid = pid;
		p->p_child = 1;
		if (proc_start_time(pid, &p->p_start) == -1)
			p->p_start = 0;
		/* Sent before the exec, so it is there now. */
		if (l->l_log_back != NULL)
			l->l_log_back->lf_fd = recv_fd(sock[0],
			    &l->l_log_back->lf_at);
		rc = 0;
		goto done;
	}
	/* The child is exiting 127; collect it here so the reaper never
	 * sees a run that did not happen. */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(f))
		snprintf(why, len, "child failed before exec");
	else if (f.f_stage == ST_EXEC)
		snprintf(why, len, "%s", strerror(f.f_errno));
	else if (f.f_stage <= ST_LOG_LINKS)
		log_failure(l, &ch, &f, why, len);
	else if (f.f_stage == ST_CWD)
		snprintf(why, len, "%s %s: %s", stages[f.f_stage], ch.ch_cwd,
		    strerror(f.f_errno));
	else
		snprintf(why, len, "%s: %s", stages[f.f_stage],
		    strerror(f.f_errno));
done:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (sock[0] >= 0)
		close(sock[0]);
	if (sock[1] >= 0)
		close(sock[1]);
	free_env(env, owned);
	free(ch.ch_user.c_groups);
	free(ch.ch_other.c_groups);
	free(ch.ch_self.c_groups);
	return rc;
}

/* A pidfd for a process that is not our child; -1 where there is none. */
static int
pidfd_open_(pid_t pid)
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

int
exec_signal(const struct proc *p, int sig)
{
	if (p->p_pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	/* Not our child: its pid may be someone else's by now. A child's
	 * pid is ours until we reap it. */
	if (!p->p_child) {
#if defined(__linux__) && defined(SYS_pidfd_send_signal)
		if (p->p_fd >= 0 && syscall(SYS_pidfd_send_signal, p->p_fd, 0,
		    NULL, 0) == -1 && errno != ENOSYS)
			return -1;
#endif
		if (!proc_alive(p->p_pid, p->p_start)) {
			errno = ESRCH;
			return -1;
		}
	}
	/* The VM leads its own session: signal its whole process group, so
	 * a wrapper shell does not leave the hypervisor behind. */
	if (kill(-p->p_pid, sig) == 0)
		return 0;
	return kill(p->p_pid, sig);
}

static int
exec_start(struct sched *s, struct vm *v, const struct launch *l, char *why,
    size_t len)
{
	(void)s;
	return exec_launch(l, &v->v_proc, why, len);
}

static int
exec_stop(struct sched *s, struct vm *v)
{
	(void)s;
	return exec_signal(&v->v_proc, v->v_def.vd_stop_signal);
}

static int
exec_suspend(struct sched *s, struct vm *v)
{
	(void)s;
	return exec_signal(&v->v_proc, v->v_def.vd_suspend_signal);
}

static int
exec_kill(struct sched *s, struct vm *v)
{
	(void)s;
	return exec_signal(&v->v_proc, SIGKILL);
}

int
exec_watch(pid_t pid, int64_t start, struct proc *p)
{
	memset(p, 0, sizeof(*p));
	p->p_fd = -1;
	if (pid <= 0 || !proc_alive(pid, start))
		return -1;
	p->p_pid = pid;
	p->p_start = start;
	/* A pidfd opened after the check could name a newer process with
	 * the same pid: check once more with the pidfd held. */
	if ((p->p_fd = pidfd_open_(pid)) >= 0 && !proc_alive(pid, start)) {
		close(p->p_fd);
		p->p_fd = -1;
		return -1;
	}
	return 0;
}

static int
exec_adopt(struct sched *s, struct vm *v, pid_t pid, int64_t start)
{
	(void)s;
	return exec_watch(pid, start, &v->v_proc);
}

static int64_t
exec_poll_ms(const struct vm *v)
{
	const struct proc *p = &v->v_proc;

	return p->p_pid == 0 || p->p_child || p->p_fd >= 0 ? 0 : POLL_MS;
}

void
exec_ended(struct fsm_event *ev, const char *why)
{
	memset(ev, 0, sizeof(*ev));
	ev->fe_ev = EV_EXITED;
	ev->fe_code = -1;
	ev->fe_unknown = 1;
	ev->fe_why = why;
}

static int
exec_poll(struct sched *s, struct vm *v, struct fsm_event *ev, char *why,
    size_t len)
{
	(void)s;
	(void)why;
	(void)len;
	if (proc_alive(v->v_proc.p_pid, v->v_proc.p_start))
		return 1;
	exec_ended(ev, NULL);
	return 0;
}

static int
exec_gone(struct sched *s, struct vm *v, struct fsm_event *ev, char *why,
    size_t len)
{
	(void)s;
	(void)v;
	(void)why;
	(void)len;
	exec_ended(ev, NULL);
	return 1;
}

static void
exec_reaped(const struct proc *p, int status, int *code, int *sig)
{
	(void)p;
	*code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

void
exec_status_text(int status, char *buf, size_t len)
{
	char sig[16];

	if (WIFEXITED(status))
		snprintf(buf, len, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %s",
		    value_signame(WTERMSIG(status), sig, sizeof(sig)));
	else
		snprintf(buf, len, "ended (status %d)", status);
}

static void
exec_release(struct sched *s, struct vm *v)
{
	(void)s;
	if (v->v_proc.p_fd >= 0)
		close(v->v_proc.p_fd);
	memset(&v->v_proc, 0, sizeof(v->v_proc));
	v->v_proc.p_fd = -1;
}

static int64_t
exec_next(const struct vm *v)
{
	(void)v;
	return 0;
}

static void
exec_tick(struct sched *s, struct vm *v)
{
	(void)s;
	(void)v;
}

const struct driver driver_exec = {
	.drv_name = "exec",
	.drv_start = exec_start,
	.drv_stop = exec_stop,
	.drv_suspend = exec_suspend,
	.drv_kill = exec_kill,
	.drv_adopt = exec_adopt,
	.drv_poll_ms = exec_poll_ms,
	.drv_poll = exec_poll,
	.drv_gone = exec_gone,
	.drv_reaped = exec_reaped,
	.drv_release = exec_release,
	.drv_done = NULL,
	.drv_takeover = NULL,
	.drv_next = exec_next,
	.drv_tick = exec_tick,
};

const struct driver *
driver_for(enum vm_driver d)
{
	return d == DRV_DETACHED ? &driver_detached : &driver_exec;
}

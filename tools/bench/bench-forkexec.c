/*
 * bench-forkexec.c: the baseline make bench holds the daemon's boot
 * against: a bare loop that forks and execs N copies of a command, waiting
 * for none of them, timed until every copy has exec'd. A small static
 * program, so the loop costs what fork and exec cost and nothing more.
 *
 * usage: bench-forkexec [-v] N CMD ARG...
 *
 * With -v the loop uses vfork, as vmsched's exec driver does: each copy
 * has exec'd before the next is made, so this is what the daemon's
 * spawns cost by themselves. Without, fork: the copies exec in parallel
 * with the loop (on a machine with more than one core), a lower floor.
 *
 * Prints the milliseconds from the first fork until the last exec, then
 * kills every copy (they share one process group) and reaps them all.
 * Exits 1 if any copy failed to start.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One copy, in a frame of its own so nothing of main's lives across a
 * vfork. */
static pid_t __attribute__((noinline))
spawn(int use_vfork, char **cmd, pid_t pgid)
{
	pid_t pid = use_vfork ? vfork() : fork();

	if (pid == 0) {
		setpgid(0, pgid);
		execv(cmd[0], cmd);
		_exit(127);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	double t0, t1;
	long n, i, bad = 0;
	int use_vfork = 0;
	pid_t pid, pgid = 0;
	int fds[2], status;
	char c, *end;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		use_vfork = 1;
		argv++;
		argc--;
	}
	if (argc < 3 || (n = strtol(argv[1], &end, 10)) < 1 || *end != '\0') {
		fprintf(stderr, "usage: bench-forkexec [-v] N CMD ARG...\n");
		return 64;
	}
	/* Every copy holds the write end until its exec closes it: EOF on
	 * the read end says all of them have exec'd (or died). */
	if (pipe(fds) == -1 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) == -1) {
		perror("bench-forkexec: pipe");
		return 1;
	}
	t0 = mono_ms();
	for (i = 0; i < n; i++) {
		if ((pid = spawn(use_vfork, argv + 2, pgid)) == -1) {
			perror("bench-forkexec: fork");
			break;
		}
		/* One process group for all, to kill them at once. */
		setpgid(pid, pgid);
		if (pgid == 0)
			pgid = pid;
	}
	close(fds[1]);
	while (read(fds[0], &c, 1) == -1 && errno == EINTR)
		;
	t1 = mono_ms();
	if (pgid != 0 && kill(-pgid, SIGKILL) == -1)
		perror("bench-forkexec: kill");
	while ((pid = wait(&status)) > 0 || (pid == -1 && errno == EINTR))
		if (pid > 0 && !(WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL))
			bad++;
	if (i < n || bad > 0) {
		fprintf(stderr, "bench-forkexec: %ld of %ld copies did not "
		    "start\n", n - i + bad, n);
		return 1;
	}
	printf("%.1f\n", t1 - t0);
	return fflush(stdout) == EOF ? 1 : 0;
}

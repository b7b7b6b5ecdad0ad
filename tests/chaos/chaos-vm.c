/*
 * chaos-vm.c: the VM the chaos campaign (tests/chaos/) supervises. A tiny
 * static program, so a thousand of them cost little, that keeps its own
 * books: vmsched never writes them, so they are the truth its database is
 * checked against.
 *
 *   chaos-vm DIR NAME SEED BEHAVIOUR
 *
 * At start it takes a POSIX write lock on DIR/locks/NAME. The kernel drops
 * the lock when the process ends, however it ends (SIGKILL included) and
 * before its parent can reap it, so failing to get the lock proves that
 * another process of the same VM is alive at this very moment. Then it
 * appends one line to DIR/book (one O_APPEND write, so lines from many
 * processes never interleave):
 *
 *   S pid starttime name mono_ns wall_ms ppid dup count action
 *
 * starttime is field 22 of /proc/self/stat (what vmsched stores as the
 * run's pid_start; pid and starttime name a process even across pid
 * reuse), dup is the pid of the live process holding the lock (0: none),
 * count is this VM's start number (kept in the lock file), action what it
 * chose to do. When it ends on its own, or on a signal it handles, it
 * first appends
 *
 *   E pid starttime name mono_ns wall_ms how
 *
 * how being exit:N, raise:SIG (dies by SIG) or on:SIG (ends because it was
 * sent SIG: the stop or suspend signal; it then dies by that signal, as an
 * unprepared program would). A process killed with SIGKILL leaves no E
 * line; its lock still tells.
 *
 * BEHAVIOUR, chosen by the harness and changed with `vmsched set`:
 *   run              run until signalled
 *   exit:N:MS        exit N after MS milliseconds
 *   raise:SIG:MS     die by signal SIG after MS milliseconds
 *   deaf:MS          run; ignore the stop/suspend signal for MS
 *                    milliseconds, then end by it
 *   mix:MS:R:E0:E1:S:D   at each start pick one of run, exit 0, exit 1-3,
 *                    raise SEGV/ABRT/KILL, deaf, with weights R E0 E1 S D;
 *                    times uniform in [0, MS]. The pick depends only on
 *                    SEED, NAME and count, so a seed replays the choices.
 * A stop or suspend signal (TERM, HUP, INT) ends any of them within
 * 0-100 ms unless deaf.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum act { A_RUN, A_EXIT, A_RAISE, A_DEAF };

static const char *dir, *name;
static long long starttime;

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
self_starttime(void)
{
	char buf[1024], *p;
	ssize_t n;
	int fd, field;

	if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	return p == NULL ? -1 : strtoll(p + 1, NULL, 10);
}

static void
book(const char *line)
{
	char path[4096];
	size_t len = strlen(line);
	int fd;

	snprintf(path, sizeof(path), "%s/book", dir);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		_exit(120);
	if (write(fd, line, len) != (ssize_t)len)
		_exit(121);
	close(fd);
}

static void
book_end(const char *how)
{
	char line[512];

	snprintf(line, sizeof(line), "E %ld %lld %s %lld %lld %s\n",
	    (long)getpid(), starttime, name, (long long)mono_ns(),
	    (long long)wall_ms(), how);
	book(line);
}

/* splitmix64: a small, good, seedable generator. */
static uint64_t
mix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
die_by(int sig)
{
	sigset_t set;

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

int
main(int argc, char **argv)
{
	char path[4096], line[512], how[32], desc[64];
	struct flock fl;
	sigset_t set;
	siginfo_t si;
	struct timespec ts;
	uint64_t rng;
	const char *p;
	enum act act = A_RUN;
	long count = 0;
	long long dup = 0;
	int64_t now, end_at = -1, sig_at = -1;
	int lockfd, code = 0, sig = 0, endsig = 0, arg = 0, ms = 0;
	ssize_t n;

	/* Signals first: a stop that comes this early is still booked. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (argc != 5) {
		fprintf(stderr, "usage: chaos-vm DIR NAME SEED BEHAVIOUR\n");
		return 64;
	}
	dir = argv[1];
	name = argv[2];
	starttime = self_starttime();

	snprintf(path, sizeof(path), "%s/locks/%s", dir, name);
	if ((lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return 122;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(lockfd, F_SETLK, &fl) == -1) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		dup = fcntl(lockfd, F_GETLK, &fl) == 0 &&
		    fl.l_type != F_UNLCK ? fl.l_pid : -1;
	}
	if ((n = pread(lockfd, line, sizeof(line) - 1, 0)) > 0) {
		line[n] = '\0';
		count = atol(line);
	}
	count++;
	if (dup == 0) {
		n = snprintf(line, sizeof(line), "%ld\n", count);
		if (pwrite(lockfd, line, (size_t)n, 0) != n)
			return 123;
	}

	rng = strtoull(argv[3], NULL, 10) * 0x100000001b3ULL;
	for (p = name; *p; p++)
		rng = (rng ^ (unsigned char)*p) * 0x100000001b3ULL;
	rng ^= (uint64_t)count * 0x9e3779b97f4a7c15ULL;
	mix64(&rng);

	p = argv[4];
	if (strcmp(p, "run") == 0)
		act = A_RUN;
	else if (sscanf(p, "exit:%d:%d", &arg, &ms) == 2)
		act = A_EXIT, code = arg;
	else if (sscanf(p, "raise:%d:%d", &arg, &ms) == 2)
		act = A_RAISE, sig = arg;
	else if (sscanf(p, "deaf:%d", &ms) == 1)
		act = A_DEAF;
	else if (strncmp(p, "mix:", 4) == 0) {
		int span, w[5] = { 0 }, total = 0, i, r;
		static const int sigs[] = { SIGSEGV, SIGABRT, SIGKILL };

		if (sscanf(p, "mix:%d:%d:%d:%d:%d:%d", &span, &w[0], &w[1],
		    &w[2], &w[3], &w[4]) != 6 || span < 0)
			return 64;
		for (i = 0; i < 5; i++)
			total += w[i] > 0 ? w[i] : 0;
		if (total == 0)
			return 64;
		r = (int)(mix64(&rng) % (uint64_t)total);
		for (i = 0; i < 5 && r >= (w[i] > 0 ? w[i] : 0); i++)
			r -= w[i] > 0 ? w[i] : 0;
		ms = (int)(mix64(&rng) % (uint64_t)(span + 1));
		switch (i) {
		case 0: act = A_RUN; break;
		case 1: act = A_EXIT; code = 0; break;
		case 2: act = A_EXIT; code = 1 + (int)(mix64(&rng) % 3); break;
		case 3: act = A_RAISE; sig = sigs[mix64(&rng) % 3]; break;
		default: act = A_DEAF; break;
		}
	} else
		return 64;

	switch (act) {
	case A_RUN: snprintf(desc, sizeof(desc), "run"); break;
	case A_EXIT: snprintf(desc, sizeof(desc), "exit:%d:%d", code, ms);
		break;
	case A_RAISE: snprintf(desc, sizeof(desc), "raise:%d:%d", sig, ms);
		break;
	case A_DEAF: snprintf(desc, sizeof(desc), "deaf:%d", ms); break;
	}
	snprintf(line, sizeof(line), "S %ld %lld %s %lld %lld %ld %lld %ld %s\n",
	    (long)getpid(), starttime, name, (long long)mono_ns(),
	    (long long)wall_ms(), (long)getppid(), dup, count, desc);
	book(line);

	if (act == A_EXIT || act == A_RAISE)
		end_at = mono_ns() + (int64_t)ms * 1000000;
	for (;;) {
		now = mono_ns();
		if (end_at >= 0 && now >= end_at) {
			if (act == A_EXIT) {
				snprintf(how, sizeof(how), "exit:%d", code);
				book_end(how);
				_exit(code);
			}
			snprintf(how, sizeof(how), "raise:%d", sig);
			book_end(how);
			die_by(sig);
		}
		if (sig_at >= 0 && now >= sig_at) {
			snprintf(how, sizeof(how), "on:%d", endsig);
			book_end(how);
			die_by(endsig);
		}
		if (end_at < 0 && sig_at < 0) {
			if (sigwaitinfo(&set, &si) == -1)
				continue;
		} else {
			int64_t next = end_at < 0 ? sig_at : sig_at < 0 ?
			    end_at : end_at < sig_at ? end_at : sig_at;

			next -= now;
			ts.tv_sec = next / 1000000000;
			ts.tv_nsec = next % 1000000000;
			if (sigtimedwait(&set, &si, &ts) == -1)
				continue;
		}
		if (sig_at >= 0)
			continue;	/* already ending */
		endsig = si.si_signo;
		/* deaf: MS more; otherwise 0-100 ms to shut down. */
		sig_at = mono_ns() + (act == A_DEAF ? (int64_t)ms * 1000000 :
		    (int64_t)(mix64(&rng) % 101) * 1000000);
	}
}

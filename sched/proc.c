/*
 * proc.c: what the operating system says about processes and the boot.
 * A process's start time tells a live VM from an unrelated process that
 * got its pid after a reboot or a wrap; the boot id tells this boot from
 * the last one (once-per-boot VMs, adoption). proc_scan finds the VMs a
 * daemon started but died before recording, by the VMSCHED_DB_ID their
 * environment carries (as systemd finds a unit's processes by its
 * INVOCATION_ID): /proc on Linux, sysctl KERN_PROCARGS2 on macOS.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include "sched.h"

#if defined(__linux__)
/*
 * From /proc/PID/stat: its state letter, session and start time (clock
 * ticks since boot). The command name may hold spaces and parentheses:
 * fields are counted from the last ')'; state is field 3, session 6,
 * starttime 22. 0, or -1.
 */
static int
read_stat(pid_t pid, char *state, long *sid, int64_t *start)
{
	char path[64], buf[1024], *p;
	unsigned long long t;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return -1;
	*state = p[2];
	for (field = 2; field < 6 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%ld", sid) != 1)
		return -1;
	for (; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &t) != 1)
		return -1;
	*start = (int64_t)t;
	return 0;
}
#endif

#if defined(__APPLE__)
/* What the kernel says of pid; 0, or -1 with errno ESRCH. */
static int
kinfo(pid_t pid, struct kinfo_proc *kp)
{
	int mib[4] = { CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid };
	size_t len = sizeof(*kp);

	if (sysctl(mib, 4, kp, &len, NULL, 0) == -1 || len == 0) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}
#endif

int
proc_start_time(pid_t pid, int64_t *start)
{
#if defined(__linux__)
	char state;
	long sid;

	return read_stat(pid, &state, &sid, start);
#elif defined(__APPLE__)
	struct kinfo_proc kp;

	if (kinfo(pid, &kp) == -1)
		return -1;
	*start = (int64_t)kp.kp_proc.p_starttime.tv_sec * 1000000 +
	    kp.kp_proc.p_starttime.tv_usec;
	return 0;
#else
	(void)pid;
	(void)start;
	errno = ENOSYS;
	return -1;
#endif
}

int
proc_alive(pid_t pid, int64_t start)
{
	int64_t now;
#if defined(__linux__)
	char state;
	long sid;
#endif

	if (pid <= 0 || (kill(pid, 0) == -1 && errno == ESRCH))
		return 0;
#if defined(__linux__)
	/* A zombie has ended: it only waits for its new parent to reap it. */
	if (read_stat(pid, &state, &sid, &now) == -1 || state == 'Z')
		return 0;
#else
	if (proc_start_time(pid, &now) == -1)
		return 0;
#endif
	return now == start;
}

int
proc_uid(pid_t pid, uid_t *uid)
{
#if defined(__linux__)
	struct stat sb;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	if (stat(path, &sb) == -1)
		return -1;
	*uid = sb.st_uid;
	return 0;
#elif defined(__APPLE__)
	struct kinfo_proc kp;

	if (kinfo(pid, &kp) == -1)
		return -1;
	*uid = kp.kp_eproc.e_ucred.cr_uid;
	return 0;
#else
	(void)pid;
	(void)uid;
	errno = ENOSYS;
	return -1;
#endif
}

int
proc_boot_id(char *buf, size_t len)
{
	const char *env = getenv("VMSCHED_BOOT_ID");
#if defined(__linux__)
	ssize_t n;
	int fd;
#endif

	if (env != NULL && env[0] != '\0') {
		snprintf(buf, len, "%s", env);
		return 0;
	}
#if defined(__linux__)
	if ((fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
#elif defined(__APPLE__)
	{
		struct timeval tv;
		size_t tlen = sizeof(tv);
		int mib[2] = { CTL_KERN, KERN_BOOTTIME };

		if (sysctl(mib, 2, &tv, &tlen, NULL, 0) == -1)
			return -1;
		snprintf(buf, len, "boottime-%lld", (long long)tv.tv_sec);
		return 0;
	}
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* The value of key ("VMSCHED_VM=") in a NUL-separated environment. */
static const char *
env_value(const char *env, size_t len, const char *key)
{
	size_t klen = strlen(key), i = 0, n;

	while (i < len) {
		n = strnlen(env + i, len - i);
		if (n > klen && memcmp(env + i, key, klen) == 0 && i + n < len)
			return env + i + klen;
		i += n + 1;
	}
	return NULL;
}

/* Whether env has VMSCHED_DB_ID=dbid; its VMSCHED_VM into name. */
static int
env_match(const char *env, size_t len, const char *dbid, char *name,
    size_t nlen)
{
	const char *id, *vm;

	if ((id = env_value(env, len, "VMSCHED_DB_ID=")) == NULL ||
	    strcmp(id, dbid) != 0 ||
	    (vm = env_value(env, len, "VMSCHED_VM=")) == NULL)
		return 0;
	snprintf(name, nlen, "%s", vm);
	return 1;
}


int
proc_scan(const char *dbid, int (*cb)(pid_t, int64_t, uid_t, const char *,
    void *), void *arg)
{
#if defined(__linux__)
	char path[64], name[128], *env;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	size_t cap = 1 << 16, len;
	ssize_t n;
	int64_t start;
	long sid;
	pid_t pid;
	char state;
	int fd, stop = 0;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	if ((env = malloc(cap)) == NULL) {
		closedir(d);
		return -1;
	}
	while (!stop && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (pid == getpid() || read_stat(pid, &state, &sid, &start) ==
		    -1 || sid != (long)pid || state == 'Z')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		len = 0;
		while (len < cap && (n = read(fd, env + len, cap - len)) > 0)
			len += (size_t)n;
		if (fstat(fd, &sb) == -1)
			sb.st_uid = (uid_t)-1;
		close(fd);
		if (!env_match(env, len, dbid, name, sizeof(name)))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
		if (stat(path, &sb) == -1)
			continue;
		stop = cb(pid, start, sb.st_uid, name, arg);
	}
	free(env);
	closedir(d);
	return 0;
#elif defined(__APPLE__)
	int mib[3] = { CTL_KERN, KERN_PROC, KERN_PROC_ALL }, amib[3];
	struct kinfo_proc *kp = NULL;
	char *args = NULL, name[128], *p, *end;
	size_t len = 0, i, alen;
	int argmax, argc, stop = 0;
	int64_t start;

	alen = sizeof(argmax);
	if (sysctl((int[]){ CTL_KERN, KERN_ARGMAX }, 2, &argmax, &alen, NULL,
	    0) == -1 || sysctl(mib, 3, NULL, &len, NULL, 0) == -1 ||
	    (kp = malloc(len)) == NULL || (args = malloc((size_t)argmax)) ==
	    NULL || sysctl(mib, 3, kp, &len, NULL, 0) == -1) {
		free(kp);
		free(args);
		return -1;
	}
	for (i = 0; !stop && i < len / sizeof(*kp); i++) {
		pid_t pid = kp[i].kp_proc.p_pid;
		if (pid <= 0 || pid == getpid() ||
		    kp[i].kp_eproc.e_pgid != pid)
			continue;
		amib[0] = CTL_KERN;
		amib[1] = KERN_PROCARGS2;
		amib[2] = (int)pid;
		alen = (size_t)argmax;
		if (sysctl(amib, 3, args, &alen, NULL, 0) == -1 ||
		    alen < sizeof(int))
			continue;
		/* argc, the executable's path, argv, then the environment. */
		memcpy(&argc, args, sizeof(argc));
		p = args + sizeof(argc);
		end = args + alen;
		p += strnlen(p, (size_t)(end - p));
		while (p < end && *p == '\0')
			p++;
		for (; argc > 0 && p < end; argc--)
			p += strnlen(p, (size_t)(end - p)) + 1;
		if (p >= end || !env_match(p, (size_t)(end - p), dbid, name,
		    sizeof(name)))
			continue;
		start = (int64_t)kp[i].kp_proc.p_starttime.tv_sec * 1000000 +
		    kp[i].kp_proc.p_starttime.tv_usec;
		stop = cb(pid, start, kp[i].kp_eproc.e_ucred.cr_uid, name, arg);
	}
	free(kp);
	free(args);
	return 0;
#else
	(void)dbid;
	(void)cb;
	(void)arg;
	errno = ENOSYS;
	return -1;
#endif
}

int64_t
proc_started_ms(int64_t start)
{
#if defined(__linux__)
	char buf[4096], *p;
	long long btime;
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd;

	if (hz <= 0 || (fd = open("/proc/stat", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nbtime ")) == NULL ||
	    sscanf(p + 7, "%lld", &btime) != 1)
		return 0;
	return (int64_t)btime * 1000 + start * 1000 / hz;
#elif defined(__APPLE__)
	return start / 1000;	/* microseconds since the epoch */
#else
	(void)start;
	return 0;
#endif
}

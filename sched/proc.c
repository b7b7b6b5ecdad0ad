/*
 * proc.c: what the operating system says about processes and the boot.
 * A process's start time tells a live VM from an unrelated process that
 * got its pid after a reboot or a wrap; the boot id tells this boot from
 * the last one (once-per-boot VMs, adoption).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include "sched.h"

int
proc_start_time(pid_t pid, int64_t *start)
{
#if defined(__linux__)
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
	/* The command name may hold spaces and parentheses: skip past the
	 * last ')'; then state is field 3 and starttime field 22. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &t) != 1)
		return -1;
	*start = (int64_t)t;
	return 0;
#elif defined(__APPLE__)
	int mib[4] = { CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid };
	struct kinfo_proc kp;
	size_t len = sizeof(kp);

	if (sysctl(mib, 4, &kp, &len, NULL, 0) == -1 || len == 0) {
		errno = ESRCH;
		return -1;
	}
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

	if (pid <= 0 || (kill(pid, 0) == -1 && errno == ESRCH))
		return 0;
	if (proc_start_time(pid, &now) == -1)
		return 0;
	return now == start;
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

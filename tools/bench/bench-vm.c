/*
 * bench-vm.c: the "VM" make bench supervises: a tiny static program, so
 * the figures measure vmsched and not the dynamic loader of a sleeper.
 *
 *   bench-vm sleep           waits for a signal, forever (a VM that runs)
 *   bench-vm crash FILE [N]  appends its pid and a newline to FILE, then
 *                            exits N (default 1): a VM that fails at once,
 *                            leaving a line per start to count against the
 *                            runs the daemon recorded
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char line[32];
	int fd, n;

	if (argc >= 2 && strcmp(argv[1], "sleep") == 0) {
		for (;;)
			pause();
	}
	if (argc >= 3 && strcmp(argv[1], "crash") == 0) {
		n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
		/* One O_APPEND write per start: lines never interleave. */
		if ((fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0600)) == -1 || write(fd, line, (size_t)n) != n)
			return 2;
		close(fd);
		return argc >= 4 ? atoi(argv[3]) : 1;
	}
	fprintf(stderr, "usage: bench-vm sleep | crash FILE [CODE]\n");
	return 64;
}

/*
 * probe.c: is a start gate open? A path exists, or a TCP port accepts a
 * connection within a timeout. The daemon never runs these in its own
 * loop (a connect or a name lookup can block): it runs `vmsched probe` as
 * a child and reads its exit status; operators run the same command to
 * see what the daemon would see. probe_pidfile reads a detached VM's pid
 * file (issue 12): the daemon runs `vmsched probe pidfile` as the VM's
 * user, since the file may sit where that user decides what it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched.h"

int
probe_path(const char *path, char *why, size_t len)
{
	struct stat sb;

	if (stat(path, &sb) == 0)
		return 0;
	snprintf(why, len, "%s: %s", path, strerror(errno));
	return -1;
}

/* Split "host:port" or "[v6]:port" into host and port. */
static int
split(const char *hostport, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon, *start = hostport, *end;

	if (hostport[0] == '[') {
		if ((end = strchr(hostport, ']')) == NULL || end[1] != ':')
			return -1;
		start = hostport + 1;
		colon = end + 1;
	} else {
		if ((colon = strrchr(hostport, ':')) == NULL)
			return -1;
		end = colon;
	}
	if ((size_t)(end - start) >= hlen || strlen(colon + 1) >= plen)
		return -1;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

/* One non-blocking connect to ai, waiting at most ms. 0 or -1 (errno). */
static int
connect_one(const struct addrinfo *ai, int ms)
{
	struct pollfd pfd;
	socklen_t elen = sizeof(int);
	int fd, err = 0, rc = -1;

	if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) ==
	    -1)
		return -1;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		goto done;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		rc = 0;
		goto done;
	}
	if (errno != EINPROGRESS)
		goto done;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, ms) != 1) {
		errno = ETIMEDOUT;
		goto done;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		goto done;
	if (err != 0) {
		errno = err;
		goto done;
	}
	rc = 0;
done:
	err = errno;
	close(fd);
	errno = err;
	return rc;
}

int
probe_tcp(const char *hostport, int timeout_ms, char *why, size_t len)
{
	struct addrinfo hints, *res, *ai;
	char host[256], port[16];
	int gai, rc = -1;

	if (split(hostport, host, sizeof(host), port, sizeof(port)) == -1) {
		snprintf(why, len, "%s: not HOST:PORT", hostport);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(why, len, "%s: %s", hostport, gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && rc == -1; ai = ai->ai_next)
		rc = connect_one(ai, timeout_ms);
	if (rc == -1)
		snprintf(why, len, "%s: %s", hostport, strerror(errno));
	freeaddrinfo(res);
	return rc;
}

int
probe_pidfile(const char *path, long *pid, char *why, size_t len)
{
	struct stat sb;
	char buf[64], *end;
	ssize_t n;
	int fd;

	/* No link followed, no FIFO waited on, no device opened for long. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(why, len, "%s: %s", path, S_ISREG(sb.st_mode) ?
		    strerror(errno) : "not a regular file");
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	*pid = strtol(buf, &end, 10);
	while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')
		end++;
	if (end == buf || *end != '\0' || *pid < 2 || *pid > INT_MAX) {
		snprintf(why, len, "%s: does not hold a pid", path);
		return -1;
	}
	return 0;
}

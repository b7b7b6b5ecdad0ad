/*
 * cmd-qmp.c: vmsched qmp SOCKET COMMAND sends one command to a QEMU
 * monitor (QMP, the JSON protocol of `-qmp unix:SOCKET,server=on,
 * wait=off`) and prints its answer: for query-status the run state
 * ("running", "paused", "shutdown"...), else nothing. It is what a VM
 * added with --qemu is stopped (system_powerdown, an ACPI shutdown the
 * guest can act on), paused (stop), resumed (cont) and asked about
 * (query-status) with, as the daemon runs it: as the VM's user, for a
 * socket in a directory that user may control. Exit 0 on the monitor's
 * "return", 1 on its "error" (its description on stderr), 69 when the
 * socket does not answer (no QEMU there), 75 when the monitor is too slow.
 *
 * The protocol: QEMU greets with {"QMP": {...}}; the client sends
 * {"execute": "qmp_capabilities"} to leave negotiation, then its command;
 * each answer is one line, {"return": ...} or {"error": {"desc": ...}},
 * with asynchronous {"event": ...} lines in between, skipped. The JSON is
 * read by SQLite (db_json_get); what is sent is a command name checked to
 * be a QMP name, so nothing needs escaping.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

#define QMP_WAIT_MS	5000	/* for each line of the monitor's */
#define QMP_LINE_MAX	65536

/* The socket's next line into buf (NUL-terminated, no newline): 0, or
 * the exit code after saying why. */
static int
read_line(int fd, const char *sock, char *buf, size_t len, size_t *have)
{
	struct pollfd pfd;
	char *nl;
	ssize_t n;

	for (;;) {
		if ((nl = memchr(buf, '\n', *have)) != NULL) {
			*nl = '\0';
			return 0;
		}
		if (*have >= len - 1)
			return cli_err(EX_PROTOCOL, "qmp: %s: a line longer "
			    "than %zu bytes", sock, len);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, QMP_WAIT_MS) == 0)
			return cli_err(EX_TEMPFAIL, "qmp: %s: no answer in "
			    "%d s", sock, QMP_WAIT_MS / 1000);
		if ((n = read(fd, buf + *have, len - 1 - *have)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return cli_err(EX_UNAVAILABLE, "qmp: %s: %s", sock,
			    strerror(errno));
		}
		if (n == 0)
			return cli_err(EX_UNAVAILABLE, "qmp: %s: the monitor "
			    "closed the connection", sock);
		*have += (size_t)n;
	}
}

/* Drop the first line (and its NUL) of buf. */
static void
consume(char *buf, size_t *have)
{
	size_t n = strlen(buf) + 1;

	memmove(buf, buf + n, *have - n);
	*have -= n;
}

/*
 * Send {"execute": cmd} and wait for its answer: 0 with the value at path
 * of a "return" in *out (malloc'ed, NULL if there is none), or the exit
 * code after printing why.
 */
static int
execute(int fd, const char *sock, const char *cmd, const char *path,
    char **out, char *buf, size_t len, size_t *have)
{
	char msg[128], why[128], *v = NULL;
	size_t n;
	int rc;

	*out = NULL;
	n = (size_t)snprintf(msg, sizeof(msg), "{\"execute\": \"%s\"}\n", cmd);
	if (write(fd, msg, n) != (ssize_t)n)
		return cli_err(EX_UNAVAILABLE, "qmp: %s: %s", sock,
		    strerror(errno));
	for (;;) {
		if ((rc = read_line(fd, sock, buf, len, have)) != 0)
			return rc;
		if (db_json_get(buf, "$.error.desc", &v, why, sizeof(why)) ==
		    -1) {
			consume(buf, have);
			return cli_err(EX_PROTOCOL, "qmp: %s: %s", sock, why);
		}
		if (v != NULL) {
			rc = cli_err(1, "qmp: %s: %s: %s", sock, cmd, v);
			free(v);
			consume(buf, have);
			return rc;
		}
		if (db_json_get(buf, "$.return", &v, why, sizeof(why)) == 0 &&
		    v != NULL) {
			free(v);
			rc = db_json_get(buf, path, out, why, sizeof(why));
			consume(buf, have);
			return rc == 0 ? 0 : cli_err(EX_SOFTWARE, "qmp: %s",
			    why);
		}
		consume(buf, have);	/* an event */
	}
}

/* A QMP command name: letters, digits, '-' and '_'. */
static int
qmp_name(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) > 64)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

static int
qmp(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct sockaddr_un sun;
	const char *sock, *cmd;
	char *buf = NULL, *status = NULL, *greeting = NULL, why[128];
	size_t have = 0;
	int rc, first, fd = -1;

	(void)cli;
	if ((rc = cli_getopt(self, NULL, argc, argv, NULL, NULL, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0)
		return rc;
	sock = argv[first];
	cmd = argv[first + 1];
	if (!qmp_name(cmd))
		return cli_err(EX_USAGE, "qmp: %s: not a QMP command name",
		    cmd);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path))
		return cli_err(EX_USAGE, "qmp: %s: longer than a socket path "
		    "may be (%zu bytes)", sock, sizeof(sun.sun_path) - 1);
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return cli_err(EX_OSERR, "qmp: socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		rc = cli_err(EX_UNAVAILABLE, "qmp: %s: %s", sock,
		    strerror(errno));
		goto done;
	}
	if ((buf = malloc(QMP_LINE_MAX)) == NULL) {
		rc = cli_err(EX_OSERR, "qmp: %s", strerror(errno));
		goto done;
	}
	if ((rc = read_line(fd, sock, buf, QMP_LINE_MAX, &have)) != 0)
		goto done;
	if (db_json_get(buf, "$.QMP", &greeting, why, sizeof(why)) == -1 ||
	    greeting == NULL) {
		rc = cli_err(EX_PROTOCOL, "qmp: %s: not a QMP monitor", sock);
		goto done;
	}
	consume(buf, &have);
	if ((rc = execute(fd, sock, "qmp_capabilities", "$.return", &status,
	    buf, QMP_LINE_MAX, &have)) != 0)
		goto done;
	free(status);
	status = NULL;
	if ((rc = execute(fd, sock, cmd, "$.return.status", &status, buf,
	    QMP_LINE_MAX, &have)) != 0)
		goto done;
	if (strcmp(cmd, "query-status") == 0 && status != NULL)
		printf("%s\n", status);
	rc = 0;
done:
	free(greeting);
	free(status);
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

const struct cmd cmd_qmp = {
	"qmp", "SOCKET COMMAND",
	"send one command to a QEMU monitor (system_powerdown, stop, cont, "
	"query-status)",
	2, 2, qmp, .cmd_operand = CV_FILE,
};

/*
 * status.c: what a detached VM's status command says (issue 12). A
 * hypervisor's tool answers "is it running?" in its own words: `vmrun
 * list` prints the paths of the VMs that run, `virsh domstate --reason`
 * says "shut off (crashed)", `VBoxManage showvminfo --machinereadable`
 * has a VMState= line. A definition's status map turns those words (or
 * the tool's exit code) into one of four states, first rule first; what
 * matches no rule concludes nothing, so a tool that answers strangely
 * never makes the daemon think a VM died. Pure functions: the daemon runs
 * the command and hands its exit code and output here.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

static const char *const driver_names[] = {
	[DRV_EXEC] = "exec", [DRV_DETACHED] = "detached",
};

static const char *const cmd_names[CMD_N] = {
	[CMD_STATUS] = "status", [CMD_STOP] = "stop", [CMD_KILL] = "kill",
	[CMD_SUSPEND] = "suspend", [CMD_RESUME] = "resume",
};

static const char *const status_names[] = {
	[VS_UNKNOWN] = "unknown", [VS_RUNNING] = "running",
	[VS_STOPPED] = "stopped", [VS_SUSPENDED] = "suspended",
	[VS_CRASHED] = "crashed",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

const char *
vm_driver_name(enum vm_driver d)
{
	return (unsigned)d < NELEM(driver_names) ? driver_names[d] : "exec";
}

const char *
vm_cmd_name(enum vm_cmd c)
{
	return (unsigned)c < CMD_N ? cmd_names[c] : "?";
}

const char *
vstatus_name(enum vstatus st)
{
	return (unsigned)st < NELEM(status_names) ? status_names[st] :
	    "unknown";
}

int
vm_driver_parse(const char *name, enum vm_driver *d)
{
	size_t i;

	for (i = 0; i < NELEM(driver_names); i++)
		if (strcmp(driver_names[i], name) == 0) {
			*d = (enum vm_driver)i;
			return 0;
		}
	return -1;
}

int
vstatus_parse(const char *name, enum vstatus *st)
{
	size_t i;

	/* "unknown" is what no rule says, not a rule's state. */
	for (i = VS_RUNNING; i < NELEM(status_names); i++)
		if (strcmp(status_names[i], name) == 0) {
			*st = (enum vstatus)i;
			return 0;
		}
	return -1;
}

/* "exit:N" with N 0-255: N, else -1. */
static int
exit_rule(const char *pat)
{
	const char *p;
	long n;
	char *end;

	if (strncmp(pat, "exit:", 5) != 0)
		return -1;
	p = pat + 5;
	if (*p < '0' || *p > '9')
		return -1;
	n = strtol(p, &end, 10);
	return *end == '\0' && n <= 255 ? (int)n : -1;
}

/* Split rule at its first '=' into the state and the pattern. */
static int
split_rule(const char *rule, enum vstatus *st, const char **pat)
{
	char name[16];
	const char *eq = strchr(rule, '=');

	if (eq == NULL || (size_t)(eq - rule) >= sizeof(name))
		return -1;
	memcpy(name, rule, (size_t)(eq - rule));
	name[eq - rule] = '\0';
	if (vstatus_parse(name, st) == -1)
		return -1;
	*pat = eq + 1;
	return 0;
}

int
status_rule_check(const char *rule, const char **why)
{
	enum vstatus st;
	const char *pat;

	if (strchr(rule, '=') == NULL) {
		*why = "not STATE=PATTERN";
		return -1;
	}
	if (split_rule(rule, &st, &pat) == -1) {
		*why = "the state must be running, stopped, suspended or "
		    "crashed";
		return -1;
	}
	if (pat[0] == '\0') {
		*why = "empty pattern (exit:N for an exit code)";
		return -1;
	}
	if (strncmp(pat, "exit:", 5) == 0 && exit_rule(pat) == -1) {
		*why = "exit:N takes an exit code from 0 to 255";
		return -1;
	}
	return 0;
}

/* Whether a line of out[0..len) matches pat; the line into what. */
static int
match_line(const char *pat, const char *out, size_t len, char *what,
    size_t whatlen)
{
	char line[STATUS_LINE_MAX];
	const char *p = out, *end = out + len, *nl;
	size_t n;

	do {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		/* A CR before the newline is not part of what it says. */
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			if (memchr(line, '\0', n) == NULL &&
			    fnmatch(pat, line, 0) == 0) {
				snprintf(what, whatlen, "%s", line);
				return 1;
			}
		}
		p = nl ? nl + 1 : end;
	} while (p < end);
	return 0;
}

enum vstatus
status_decide(const struct strv *map, int code, const char *out, size_t len,
    char *what, size_t whatlen)
{
	enum vstatus st;
	const char *pat;
	size_t i;
	int n;

	if (whatlen > 0)
		what[0] = '\0';
	if (map->sv_n == 0) {
		snprintf(what, whatlen, "exit %d", code);
		return code == 0 ? VS_RUNNING : code > 0 ? VS_STOPPED :
		    VS_UNKNOWN;
	}
	for (i = 0; i < map->sv_n; i++) {
		if (split_rule(map->sv_v[i], &st, &pat) == -1)
			continue;
		if ((n = exit_rule(pat)) >= 0) {
			if (n == code) {
				snprintf(what, whatlen, "exit %d", code);
				return st;
			}
			continue;
		}
		if (code == 0 && match_line(pat, len ? out : "", len, what,
		    whatlen))
			return st;
	}
	return VS_UNKNOWN;
}

const char *
vm_liveness(enum vm_driver d, const char *pid_file, int has_status,
    int64_t interval_ms, char *buf, size_t len)
{
	char every[32];

	if (d != DRV_DETACHED)
		return NULL;
	value_fmt_duration(interval_ms, every, sizeof(every));
	if (pid_file != NULL && has_status)
		snprintf(buf, len, "pid file %s, status every %s", pid_file,
		    every);
	else if (pid_file != NULL)
		snprintf(buf, len, "pid file %s", pid_file);
	else if (has_status)
		snprintf(buf, len, "status every %s", every);
	else
		snprintf(buf, len, "none (no pid file, no status command)");
	return buf;
}

int
vm_def_check(const struct vm_def *vd, const char **why)
{
	if (vd->vd_driver != DRV_DETACHED)
		return 0;
	if (vd->vd_pid_file == NULL && vd->vd_cmd[CMD_STATUS].sv_n == 0) {
		*why = "a detached VM needs --pid-file or --status-cmd: "
		    "nothing else says whether it runs";
		return -1;
	}
	if (vd->vd_status_map.sv_n > 0 && vd->vd_cmd[CMD_STATUS].sv_n == 0) {
		*why = "--status-map needs a --status-cmd to read";
		return -1;
	}
	return 0;
}

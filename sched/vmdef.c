/*
 * vmdef.c: a VM definition's memory, and the names of a VM's states and
 * wants. Defaults come from DESIGN.md; every string a struct vm_def points
 * to is its own, so freeing is one call.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

void
vm_def_init(struct vm_def *vd)
{
	memset(vd, 0, sizeof(*vd));
	vd->vd_order = 100;
	vd->vd_restart = RESTART_ON_FAILURE;
	vd->vd_wait_timeout_ms = 300 * 1000;
	vd->vd_up_delay_ms = 0;
	vd->vd_stop_signal = SIGTERM;
	vd->vd_suspend_signal = SIGHUP;
	vd->vd_stop_timeout_ms = 60 * 1000;
	vd->vd_backoff_initial_ms = 1000;
	vd->vd_backoff_factor = 2.0;
	vd->vd_backoff_max_ms = 300 * 1000;
	vd->vd_backoff_reset_ms = 600 * 1000;
	vd->vd_max_failures = 10;
	vd->vd_enabled = 1;
	vd->vd_success[0] = 1;		/* exit 0 */
	vd->vd_driver = DRV_EXEC;
	vd->vd_status_interval_ms = 5000;
	vd->vd_cmd_timeout_ms = 120 * 1000;
}

int
vm_log_dir(const char *dbpath, char *buf, size_t len)
{
	const char *slash = strrchr(dbpath, '/');
	int n;

	if (slash == NULL)
		n = snprintf(buf, len, "logs");
	else
		n = snprintf(buf, len, "%.*s/logs", (int)(slash - dbpath),
		    dbpath);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
vm_def_log_path(const struct vm_def *vd, const char *dbpath, char *buf,
    size_t len)
{
	char dir[PATH_MAX];
	int n;

	if (vd->vd_log_path != NULL)
		n = snprintf(buf, len, "%s", vd->vd_log_path);
	else if (vm_log_dir(dbpath, dir, sizeof(dir)) == -1)
		return -1;
	else
		n = snprintf(buf, len, "%s/%s.log", dir, vd->vd_name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
vm_def_success(const struct vm_def *vd, int code)
{
	if (code < 0 || code > 255)
		return 0;
	return (vd->vd_success[code / 8] >> (code % 8)) & 1;
}

void
vm_def_free(struct vm_def *vd)
{
	size_t i;

	strv_clear(&vd->vd_argv);
	strv_clear(&vd->vd_env);
	strv_clear(&vd->vd_after);
	for (i = 0; i < vd->vd_ngates; i++)
		free(vd->vd_gates[i].g_arg);
	free(vd->vd_gates);
	free(vd->vd_cwd);
	free(vd->vd_user);
	free(vd->vd_ready_tcp);
	free(vd->vd_log_path);
	for (i = 0; i < CMD_N; i++)
		strv_clear(&vd->vd_cmd[i]);
	strv_clear(&vd->vd_status_map);
	free(vd->vd_pid_file);
	vm_def_init(vd);
}

int
strv_push(struct strv *sv, const char *s)
{
	char **v, *copy;

	if ((copy = strdup(s)) == NULL)
		return -1;
	/* Room doubles when the n strings and the NULL fill a power of 2:
	 * a growing list (60,000 arguments of a plist) is linear. */
	v = sv->sv_v;
	if (((sv->sv_n + 1) & sv->sv_n) == 0 &&
	    (v = realloc(sv->sv_v, (sv->sv_n + 1) * 2 * sizeof(*v))) ==
	    NULL) {
		free(copy);
		return -1;
	}
	v[sv->sv_n++] = copy;
	v[sv->sv_n] = NULL;
	sv->sv_v = v;
	return 0;
}

void
strv_clear(struct strv *sv)
{
	size_t i;

	for (i = 0; i < sv->sv_n; i++)
		free(sv->sv_v[i]);
	free(sv->sv_v);
	sv->sv_v = NULL;
	sv->sv_n = 0;
}

int
strv_copy(struct strv *dst, const struct strv *src)
{
	struct strv n = { NULL, 0 };
	size_t i;

	for (i = 0; i < src->sv_n; i++)
		if (strv_push(&n, src->sv_v[i]) == -1) {
			strv_clear(&n);
			return -1;
		}
	strv_clear(dst);
	*dst = n;
	return 0;
}

ssize_t
strv_find_key(const struct strv *sv, const char *kv)
{
	size_t i, klen;

	klen = strcspn(kv, "=");
	for (i = 0; i < sv->sv_n; i++)
		if (strncmp(sv->sv_v[i], kv, klen) == 0 &&
		    sv->sv_v[i][klen] == '=')
			return (ssize_t)i;
	return -1;
}

int
vm_def_add_gate(struct vm_def *vd, enum gate_kind kind, const char *arg)
{
	struct gate *g;
	char *copy;

	if ((copy = strdup(arg)) == NULL)
		return -1;
	g = realloc(vd->vd_gates, (vd->vd_ngates + 1) * sizeof(*g));
	if (g == NULL) {
		free(copy);
		return -1;
	}
	g[vd->vd_ngates].g_kind = kind;
	g[vd->vd_ngates].g_arg = copy;
	vd->vd_gates = g;
	vd->vd_ngates++;
	return 0;
}

void
vm_def_clear_gates(struct vm_def *vd, enum gate_kind kind)
{
	size_t i, j;

	for (i = j = 0; i < vd->vd_ngates; i++) {
		if (vd->vd_gates[i].g_kind == kind)
			free(vd->vd_gates[i].g_arg);
		else
			vd->vd_gates[j++] = vd->vd_gates[i];
	}
	vd->vd_ngates = j;
}

static const char *const state_names[VM_NSTATES] = {
	[VM_DISABLED] = "disabled", [VM_STOPPED] = "stopped",
	[VM_WAITING] = "waiting", [VM_STARTING] = "starting",
	[VM_RUNNING] = "running", [VM_UP] = "up", [VM_BACKOFF] = "backoff",
	[VM_FAILED] = "failed", [VM_BLOCKED] = "blocked",
	[VM_STOPPING] = "stopping", [VM_SUSPENDING] = "suspending",
	[VM_SUSPENDED] = "suspended",
};

static const char *const want_names[] = {
	[WANT_UP] = "up", [WANT_DOWN] = "down", [WANT_SUSPENDED] = "suspended",
};

const char *
vm_state_name(enum vm_state st)
{
	return (unsigned)st < VM_NSTATES ? state_names[st] : "stopped";
}

const char *
vm_want_name(enum vm_want w)
{
	return (unsigned)w <= WANT_SUSPENDED ? want_names[w] : "up";
}

int
vm_state_parse(const char *name, enum vm_state *st)
{
	int i;

	for (i = 0; i < VM_NSTATES; i++)
		if (strcmp(state_names[i], name) == 0) {
			*st = (enum vm_state)i;
			return 0;
		}
	return -1;
}

int
vm_want_parse(const char *name, enum vm_want *w)
{
	int i;

	for (i = 0; i <= WANT_SUSPENDED; i++)
		if (strcmp(want_names[i], name) == 0) {
			*w = (enum vm_want)i;
			return 0;
		}
	return -1;
}

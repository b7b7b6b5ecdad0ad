/*
 * fuzz_plist.c: libFuzzer target for sched/launchd.c. The input is a plist
 * (XML or binary). A refused one must say why; an accepted one must be a
 * definition the store would take (a valid name, a command, absolute
 * paths, unique NAME=VALUE variables, sane durations, every string UTF-8),
 * with printable warnings; and the LaunchDaemon plist exported for its
 * command must import back to the same command, name and user, unless a
 * value holds a control character XML cannot, which export refuses. The
 * bounds of launchd_bounds hold for whatever is accepted. Any breach
 * aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define YEAR_MS	(366LL * 24 * 3600 * 1000)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
utf8(const char *s)
{
	if (!text_utf8(s, strlen(s)))
		abort();
}

/* Whether s has what XML 1.0 cannot hold: a control, U+FFFE, U+FFFF. */
static int
not_xml(const char *s)
{
	if (strstr(s, "\xef\xbf\xbe") != NULL ||
	    strstr(s, "\xef\xbf\xbf") != NULL)
		return 1;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void
check_def(const struct vm_def *vd, const struct strv *warn)
{
	const char *why, *p;
	size_t i;

	if (value_name(vd->vd_name, &why) == -1)
		abort();
	if (vd->vd_argv.sv_n == 0 || vd->vd_argv.sv_v[0][0] == '\0' ||
	    vd->vd_argv.sv_v[vd->vd_argv.sv_n] != NULL)
		abort();
	for (i = 0; i < vd->vd_env.sv_n; i++)
		if (value_env(vd->vd_env.sv_v[i], &why) == -1 ||
		    strv_find_key(&vd->vd_env, vd->vd_env.sv_v[i]) !=
		    (ssize_t)i)
			abort();
	for (i = 0; i < vd->vd_ngates; i++)
		if (vd->vd_gates[i].g_kind != GATE_PATH ||
		    vd->vd_gates[i].g_arg[0] != '/')
			abort();
	if ((vd->vd_cwd != NULL && vd->vd_cwd[0] != '/') ||
	    (vd->vd_log_path != NULL && vd->vd_log_path[0] != '/') ||
	    (vd->vd_user != NULL && vd->vd_user[0] == '\0'))
		abort();
	if (vd->vd_stop_timeout_ms < 0 || vd->vd_stop_timeout_ms > YEAR_MS ||
	    vd->vd_backoff_initial_ms < 0 ||
	    vd->vd_backoff_initial_ms > vd->vd_backoff_max_ms)
		abort();
	for (i = 0; i < vd->vd_argv.sv_n; i++)
		utf8(vd->vd_argv.sv_v[i]);
	for (i = 0; i < vd->vd_env.sv_n; i++)
		utf8(vd->vd_env.sv_v[i]);
	for (i = 0; i < vd->vd_ngates; i++)
		utf8(vd->vd_gates[i].g_arg);
	if (vd->vd_user != NULL)
		utf8(vd->vd_user);
	if (vd->vd_cwd != NULL)
		utf8(vd->vd_cwd);
	if (vd->vd_log_path != NULL)
		utf8(vd->vd_log_path);
	for (i = 0; i < warn->sv_n; i++) {
		if (warn->sv_v[i][0] == '\0' || !text_utf8(warn->sv_v[i],
		    strlen(warn->sv_v[i])))
			abort();
		for (p = warn->sv_v[i]; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	}
}

/* Export a daemon plist running vd's command; it must import back. */
static void
round_trip(const struct vm_def *vd)
{
	struct launchd_daemon ld;
	struct vm_def back;
	struct strv warn = { NULL, 0 };
	char *xml, err[512];
	size_t i;

	ld.ld_label = vd->vd_name;
	ld.ld_argv = (const char *const *)vd->vd_argv.sv_v;
	ld.ld_user = vd->vd_user;
	ld.ld_log = vd->vd_log_path ? vd->vd_log_path : "/var/log/x.log";
	ld.ld_exit_timeout = vd->vd_stop_timeout_ms / 1000;
	if (launchd_export(&ld, &xml) == -1) {
		/* Refused only for what no XML document may hold. */
		if (errno != EINVAL)
			abort();
		for (i = 0; i < vd->vd_argv.sv_n; i++)
			if (not_xml(vd->vd_argv.sv_v[i]))
				return;
		if ((vd->vd_user != NULL && not_xml(vd->vd_user)) ||
		    not_xml(ld.ld_log))
			return;
		abort();
	}
	vm_def_init(&back);
	if (launchd_to_def(xml, strlen(xml), &back, &warn, err,
	    sizeof(err)) == -1)
		abort();
	if (strcmp(back.vd_name, vd->vd_name) != 0 ||
	    back.vd_argv.sv_n != vd->vd_argv.sv_n ||
	    back.vd_restart != RESTART_ALWAYS || !back.vd_enabled ||
	    back.vd_stop_timeout_ms != ld.ld_exit_timeout * 1000 ||
	    strcmp(back.vd_log_path, ld.ld_log) != 0)
		abort();
	for (i = 0; i < vd->vd_argv.sv_n; i++)
		if (strcmp(back.vd_argv.sv_v[i], vd->vd_argv.sv_v[i]) != 0)
			abort();
	if ((vd->vd_user == NULL) != (back.vd_user == NULL) ||
	    (vd->vd_user != NULL && strcmp(vd->vd_user, back.vd_user) != 0))
		abort();
	free(xml);
	strv_clear(&warn);
	vm_def_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_def vd;
	struct strv warn = { NULL, 0 };
	char err[512];

	vm_def_init(&vd);
	err[0] = '\0';
	if (launchd_to_def(data, size, &vd, &warn, err, sizeof(err)) == -1) {
		if (errno != EINVAL || err[0] == '\0')
			abort();
	} else {
		check_def(&vd, &warn);
		round_trip(&vd);
	}
	strv_clear(&warn);
	vm_def_free(&vd);
	return 0;
}

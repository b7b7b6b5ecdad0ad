/*
 * cmd-show.c: vmsched show NAME prints the whole definition and state of
 * one VM; --json the object DESIGN.md describes. Issue 12: which driver
 * runs it and, for a detached VM, how it is known to live and each of its
 * commands, as a shortcut expanded them.
 */
#include <string.h>

#include "cli.h"

static void
line(const char *key, const char *value)
{
	cli_field(16, key, value);
}

static void
line_ms(const char *key, int64_t ms)
{
	char buf[32];

	line(key, value_fmt_duration(ms, buf, sizeof(buf)));
}

/* argv as shell words into buf. */
static const char *
words(const struct strv *argv, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < argv->sv_n; i++) {
		if (i > 0)
			strncat(buf, " ", len - strlen(buf) - 1);
		cli_quote(argv->sv_v[i], buf, len);
	}
	return buf;
}

/* Issue 12: which driver runs it, how it is known to live, its commands. */
static void
show_driver(const struct vm_def *vd)
{
	static const char *const keys[CMD_N] = {
		[CMD_STATUS] = "status-cmd", [CMD_STOP] = "stop-cmd",
		[CMD_KILL] = "kill-cmd", [CMD_SUSPEND] = "suspend-cmd",
		[CMD_RESUME] = "resume-cmd",
	};
	char buf[8192];
	size_t i;

	line("driver", vm_driver_name(vd->vd_driver));
	if (vd->vd_driver != DRV_DETACHED)
		return;
	line("liveness", vm_liveness(vd->vd_driver, vd->vd_pid_file,
	    vd->vd_cmd[CMD_STATUS].sv_n > 0, vd->vd_status_interval_ms, buf,
	    sizeof(buf)));
	line("pid-file", vd->vd_pid_file);
	for (i = 0; i < CMD_N; i++)
		line(keys[i], vd->vd_cmd[i].sv_n > 0 ? words(&vd->vd_cmd[i],
		    buf, sizeof(buf)) : NULL);
	for (i = 0; i < vd->vd_status_map.sv_n; i++) {
		buf[0] = '\0';
		cli_quote(vd->vd_status_map.sv_v[i], buf, sizeof(buf));
		line(i == 0 ? "status-map" : "", buf);
	}
	if (vd->vd_status_map.sv_n == 0 && vd->vd_cmd[CMD_STATUS].sv_n > 0)
		line("status-map", "exit 0: running; else stopped");
	line_ms("status-interval", vd->vd_status_interval_ms);
	line_ms("cmd-timeout", vd->vd_cmd_timeout_ms);
}

/* What show_row needs besides the row. */
struct show {
	const struct vm_def	*s_vd;
	const char		*s_dbpath;	/* for the default log file */
};

static int
show_row(const struct db_vm_row *r, void *arg)
{
	const struct show *s = arg;
	const struct vm_def *vd = s->s_vd;
	char buf[8192], tmp[64];
	size_t i;
	int code;

	line("name", r->vr_name);
	snprintf(buf, sizeof(buf), "%s%s%s%s", r->vr_state,
	    r->vr_why ? " (" : "", r->vr_why ? r->vr_why : "",
	    r->vr_why ? ")" : "");
	line("state", buf);
	line("since", value_fmt_time(r->vr_since, tmp, sizeof(tmp)));
	snprintf(tmp, sizeof(tmp), "%ld", r->vr_pid);
	line("pid", r->vr_pid > 0 ? tmp : NULL);
	snprintf(buf, sizeof(buf), "%d total, %d in a row failed",
	    r->vr_restarts, r->vr_failures);
	line("restarts", buf);
	line("command", words(&vd->vd_argv, buf, sizeof(buf)));
	line("cwd", vd->vd_cwd);
	line("user", vd->vd_user);
	for (i = 0; i < vd->vd_env.sv_n; i++) {
		buf[0] = '\0';
		cli_quote(vd->vd_env.sv_v[i], buf, sizeof(buf));
		line(i == 0 ? "env" : "", buf);
	}
	line("enabled", vd->vd_enabled ? "yes" : "no");
	snprintf(tmp, sizeof(tmp), "%d", vd->vd_order);
	line("order", tmp);
	for (i = 0, buf[0] = '\0'; i < vd->vd_after.sv_n; i++) {
		if (i > 0)
			strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, vd->vd_after.sv_v[i], sizeof(buf) - strlen(buf) -
		    1);
	}
	line("after", buf[0] ? buf : NULL);
	for (i = 0; i < vd->vd_ngates; i++) {
		snprintf(buf, sizeof(buf), "%s ",
		    value_gate_name(vd->vd_gates[i].g_kind));
		cli_quote(vd->vd_gates[i].g_arg, buf, sizeof(buf));
		line(i == 0 ? "wait" : "", buf);
	}
	line_ms("wait-timeout", vd->vd_wait_timeout_ms);
	line_ms("up-delay", vd->vd_up_delay_ms);
	line("ready-tcp", vd->vd_ready_tcp);
	line("restart", value_restart_name(vd->vd_restart));
	for (code = 0, buf[0] = '\0'; code < 256; code++)
		if (vm_def_success(vd, code))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			    "%s%d", buf[0] ? "," : "", code);
	line("success-codes", buf);
	line("stop-signal", value_signame(vd->vd_stop_signal, tmp,
	    sizeof(tmp)));
	line("suspend-signal", value_signame(vd->vd_suspend_signal, tmp,
	    sizeof(tmp)));
	if (vd->vd_stop_timeout_ms == 0)
		line("stop-timeout", "none (never SIGKILL)");
	else
		line_ms("stop-timeout", vd->vd_stop_timeout_ms);
	line_ms("backoff-initial", vd->vd_backoff_initial_ms);
	snprintf(tmp, sizeof(tmp), "%g", vd->vd_backoff_factor);
	line("backoff-factor", tmp);
	line_ms("backoff-max", vd->vd_backoff_max_ms);
	line_ms("backoff-reset", vd->vd_backoff_reset_ms);
	snprintf(tmp, sizeof(tmp), "%d", vd->vd_max_failures);
	line("max-failures", vd->vd_max_failures ? tmp : "none (never give up)");
	line("log-file", vm_def_log_path(vd, s->s_dbpath, buf, sizeof(buf)) ==
	    0 ? buf : NULL);
	show_driver(vd);
	return 0;
}

static int
show(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct vm_def vd;
	struct show s = { &vd, cli->c_dbpath };
	char *json;
	int rc, first;

	if ((rc = cli_getopt(self, NULL, argc, argv, cli_json_opt, cli,
	    &first, NULL)) != 0 ||
	    (rc = cli_nargs(self, argc - first)) != 0 ||
	    (rc = cli_open_read(cli)) != 0)
		return rc;
	if (cli->c_json) {
		rc = db_show_json(&cli->c_db, argv[first], &json);
		return rc == DB_OK ? cli_print_json(json) : cli_dberr(cli, rc);
	}
	vm_def_init(&vd);
	rc = db_vm_get(&cli->c_db, argv[first], &vd);
	if (rc == DB_OK)
		rc = db_list(&cli->c_db, argv[first], 0, show_row, &s);
	vm_def_free(&vd);
	return rc == DB_OK ? 0 : cli_dberr(cli, rc);
}

const struct cmd cmd_show = {
	"show", "NAME [--json]", "the whole definition and state of a VM",
	1, 1, show, .cmd_opts = cli_json_opts, .cmd_operand = CV_VM,
};

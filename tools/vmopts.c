/*
 * vmopts.c: the options add and set share. Each value is validated when it
 * is read, so a bad one stops the command before the database is touched;
 * the validated list is then applied to a definition, inside the store's
 * transaction for set. For set, the first use of a repeatable option
 * (--after, --env, each kind of --wait-*) replaces that list, and an empty
 * value clears it; optional values (--user, --cwd, --ready-tcp,
 * --log-file) are cleared by an empty value too.
 */
#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	O_ORDER = 256, O_AFTER, O_RESTART, O_CODES, O_WAIT_PATH, O_WAIT_CMD,
	O_WAIT_TCP, O_WAIT_TIMEOUT, O_UP_DELAY, O_READY_TCP, O_USER, O_CWD,
	O_ENV, O_STOP_SIGNAL, O_SUSPEND_SIGNAL, O_STOP_TIMEOUT,
	O_BACKOFF_INITIAL, O_BACKOFF_FACTOR, O_BACKOFF_MAX, O_BACKOFF_RESET,
	O_MAX_FAILURES, O_DISABLED, O_ENABLED, O_LOG_FILE,
	/* issue 12 */
	O_DRIVER, O_PID_FILE, O_STATUS_CMD, O_STATUS_INTERVAL, O_STATUS_MAP,
	O_STOP_CMD, O_KILL_CMD, O_SUSPEND_CMD, O_RESUME_CMD, O_CMD_TIMEOUT,
	O_END
};

/* What add and set take; cmd-add.c and cmd-set.c point their entry here. */
const struct cli_opt vmopts_opts[] = {
	{ "order", O_ORDER, CV_TEXT, "N", NULL, NULL, 0 },
	{ "after", O_AFTER, CV_VM, "NAME", NULL, NULL, 0 },
	{ "restart", O_RESTART, CV_WORDS, "POLICY", "always on-failure never",
	    NULL, 0 },
	{ "success-codes", O_CODES, CV_TEXT, "LIST", NULL, NULL, 0 },
	{ "wait-path", O_WAIT_PATH, CV_FILE, "PATH", NULL, NULL, 0 },
	{ "wait-cmd", O_WAIT_CMD, CV_TEXT, "CMD", NULL, NULL, 0 },
	{ "wait-tcp", O_WAIT_TCP, CV_TEXT, "HOST:PORT", NULL, NULL, 0 },
	{ "wait-timeout", O_WAIT_TIMEOUT, CV_TEXT, "DURATION", NULL, NULL, 0 },
	{ "up-delay", O_UP_DELAY, CV_TEXT, "DURATION", NULL, NULL, 0 },
	{ "ready-tcp", O_READY_TCP, CV_TEXT, "HOST:PORT", NULL, NULL, 0 },
	{ "user", O_USER, CV_USER, "USER", NULL, NULL, 0 },
	{ "cwd", O_CWD, CV_DIR, "DIR", NULL, NULL, 0 },
	{ "env", O_ENV, CV_TEXT, "K=V", NULL, NULL, 0 },
	{ "stop-signal", O_STOP_SIGNAL, CV_SIGNAL, "SIG", NULL, NULL, 0 },
	{ "suspend-signal", O_SUSPEND_SIGNAL, CV_SIGNAL, "SIG", NULL, NULL, 0 },
	{ "stop-timeout", O_STOP_TIMEOUT, CV_TEXT, "DURATION", NULL, NULL, 0 },
	{ "backoff-initial", O_BACKOFF_INITIAL, CV_TEXT, "DURATION", NULL,
	    NULL, 0 },
	{ "backoff-factor", O_BACKOFF_FACTOR, CV_TEXT, "F", NULL, NULL, 0 },
	{ "backoff-max", O_BACKOFF_MAX, CV_TEXT, "DURATION", NULL, NULL, 0 },
	{ "backoff-reset", O_BACKOFF_RESET, CV_TEXT, "DURATION", NULL, NULL,
	    0 },
	{ "max-failures", O_MAX_FAILURES, CV_TEXT, "N", NULL, NULL, 0 },
	{ "disabled", O_DISABLED, CV_NONE, NULL, NULL, NULL, 0 },
	{ "enabled", O_ENABLED, CV_NONE, NULL, NULL, NULL, 0 },
	{ "log-file", O_LOG_FILE, CV_FILE, "PATH", NULL, NULL, 0 },
	/* issue 12: the detached driver */
	{ "driver", O_DRIVER, CV_WORDS, "DRIVER", "exec detached", NULL, 0 },
	{ "pid-file", O_PID_FILE, CV_FILE, "PATH", NULL, NULL, 0 },
	{ "status-cmd", O_STATUS_CMD, CV_TEXT, "JSON", NULL, NULL, 0 },
	{ "status-interval", O_STATUS_INTERVAL, CV_TEXT, "DURATION", NULL,
	    NULL, 0 },
	{ "status-map", O_STATUS_MAP, CV_TEXT, "STATE=PATTERN", NULL, NULL,
	    0 },
	{ "stop-cmd", O_STOP_CMD, CV_TEXT, "JSON", NULL, NULL, 0 },
	{ "kill-cmd", O_KILL_CMD, CV_TEXT, "JSON", NULL, NULL, 0 },
	{ "suspend-cmd", O_SUSPEND_CMD, CV_TEXT, "JSON", NULL, NULL, 0 },
	{ "resume-cmd", O_RESUME_CMD, CV_TEXT, "JSON", NULL, NULL, 0 },
	{ "cmd-timeout", O_CMD_TIMEOUT, CV_TEXT, "DURATION", NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

/*
 * Issue 12: the detached driver's options, one row each: what its value
 * is and what it sets. vmopts_take and vmopts_apply read this table.
 */
enum vf_kind {
	VF_DRIVER,	/* exec or detached */
	VF_CMD,		/* a JSON array of strings; empty: none */
	VF_PATH,	/* an absolute path; empty: none */
	VF_INTERVAL,	/* a duration of 100ms or more */
	VF_RULE,	/* a status map rule; repeatable; empty: none */
};
static const struct vmfield {
	int		 vf_opt;
	enum vf_kind	 vf_kind;
	enum vm_cmd	 vf_cmd;	/* VF_CMD: which */
	size_t		 vf_off;	/* VF_PATH, VF_INTERVAL: the field */
} vmfields[] = {
	{ O_DRIVER, VF_DRIVER, 0, 0 },
	{ O_PID_FILE, VF_PATH, 0, offsetof(struct vm_def, vd_pid_file) },
	{ O_STATUS_CMD, VF_CMD, CMD_STATUS, 0 },
	{ O_STATUS_INTERVAL, VF_INTERVAL, 0,
	    offsetof(struct vm_def, vd_status_interval_ms) },
	{ O_STATUS_MAP, VF_RULE, 0, 0 },
	{ O_STOP_CMD, VF_CMD, CMD_STOP, 0 },
	{ O_KILL_CMD, VF_CMD, CMD_KILL, 0 },
	{ O_SUSPEND_CMD, VF_CMD, CMD_SUSPEND, 0 },
	{ O_RESUME_CMD, VF_CMD, CMD_RESUME, 0 },
	{ O_CMD_TIMEOUT, VF_INTERVAL, 0,
	    offsetof(struct vm_def, vd_cmd_timeout_ms) },
};
#define NFIELDS	(sizeof(vmfields) / sizeof(vmfields[0]))

static const struct vmfield *
field(int opt)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (vmfields[i].vf_opt == opt)
			return &vmfields[i];
	return NULL;
}

/* One validated option. */
struct vmopt {
	int		 o_opt;		/* O_* */
	const char	*o_arg;		/* as typed (argv outlives us) */
	int64_t		 o_ms;		/* parsed duration */
	long		 o_num;		/* parsed number or signal */
	double		 o_dbl;		/* parsed factor */
	unsigned char	 o_codes[32];	/* parsed exit codes, a bit each */
	enum restart_policy o_policy;
	struct strv	 o_argv;	/* parsed JSON command (issue 12) */
	enum vm_driver	 o_driver;
};

struct vmopts {
	struct vmopt	*vo_v;		/* in the order given */
	size_t		 vo_n;
	char		**vo_argv;	/* command after "--", or NULL */
	int		 vo_argc;
};

struct vmopts *
vmopts_new(void)
{
	return calloc(1, sizeof(struct vmopts));
}

void
vmopts_free(struct vmopts *vo)
{
	size_t i;

	if (vo == NULL)
		return;
	for (i = 0; i < vo->vo_n; i++)
		strv_clear(&vo->vo_v[i].o_argv);
	free(vo->vo_v);
	free(vo);
}

static const char *
optname(int opt)
{
	size_t i;

	for (i = 0; vmopts_opts[i].co_name != NULL; i++)
		if (vmopts_opts[i].co_val == opt)
			return vmopts_opts[i].co_name;
	return "?";
}

static int
bad(int opt, const char *arg, const char *why)
{
	return cli_err(EX_USAGE, "--%s %s: %s", optname(opt), arg, why);
}

/* Take one of the detached driver's options (issue 12): 0 or -1, why. */
static int
take_field(const struct vmfield *f, const char *arg, struct vmopt *o,
    const char **why)
{
	static char msg[256];

	switch (f->vf_kind) {
	case VF_DRIVER:
		if (vm_driver_parse(arg, &o->o_driver) == -1) {
			*why = "not exec or detached";
			return -1;
		}
		return 0;
	case VF_CMD:
		if (arg[0] == '\0')
			return 0;
		if (db_json_argv(arg, &o->o_argv, msg, sizeof(msg)) == -1) {
			*why = msg;
			return -1;
		}
		return 0;
	case VF_PATH:
		if (arg[0] != '\0' && arg[0] != '/') {
			*why = "must be an absolute path";
			return -1;
		}
		return 0;
	case VF_INTERVAL:
		if (value_duration(arg, &o->o_ms, why) == -1)
			return -1;
		if (o->o_ms < 100) {
			*why = "must be at least 100ms";
			return -1;
		}
		return 0;
	case VF_RULE:
		return arg[0] == '\0' ? 0 : status_rule_check(arg, why);
	}
	return 0;
}

int
vmopts_take(int opt, const char *arg, void *p)
{
	struct vmopts *vo = p;
	struct vmopt o, *v;
	const struct vmfield *f;
	const char *why = NULL;
	int sig, rc = 0;

	memset(&o, 0, sizeof(o));
	o.o_opt = opt;
	o.o_arg = arg;
	if ((f = field(opt)) != NULL) {
		if (take_field(f, arg, &o, &why) == -1)
			return bad(opt, arg, why);
		goto keep;
	}
	switch (opt) {
	case O_ORDER:
		rc = value_int(arg, -1000000, 1000000, &o.o_num, &why);
		break;
	case O_MAX_FAILURES:
		rc = value_int(arg, 0, 1000000, &o.o_num, &why);
		break;
	case O_AFTER:
		if (arg[0] != '\0')
			rc = value_name(arg, &why);
		break;
	case O_RESTART:
		rc = value_restart(arg, &o.o_policy, &why);
		break;
	case O_CODES:
		rc = value_codes(arg, o.o_codes, &why);
		break;
	case O_WAIT_PATH:
	case O_CWD:
	case O_LOG_FILE:
		if (arg[0] != '\0' && arg[0] != '/') {
			why = "must be an absolute path";
			rc = -1;
		}
		break;
	case O_WAIT_CMD:
		break;
	case O_WAIT_TCP:
	case O_READY_TCP:
		if (arg[0] != '\0')
			rc = value_hostport(arg, &why);
		break;
	case O_WAIT_TIMEOUT:
	case O_UP_DELAY:
	case O_STOP_TIMEOUT:
	case O_BACKOFF_INITIAL:
	case O_BACKOFF_MAX:
	case O_BACKOFF_RESET:
		rc = value_duration(arg, &o.o_ms, &why);
		break;
	case O_BACKOFF_FACTOR:
		rc = value_double(arg, 1.0, 100.0, &o.o_dbl, &why);
		if (rc == -1)
			why = "not a number from 1 to 100";
		break;
	case O_STOP_SIGNAL:
	case O_SUSPEND_SIGNAL:
		rc = value_signal(arg, &sig, &why);
		o.o_num = sig;
		break;
	case O_USER:
		errno = 0;
		if (arg[0] != '\0' && getpwnam(arg) == NULL) {
			why = errno ? strerror(errno) : "no such user";
			rc = -1;
		}
		break;
	case O_ENV:
		if (arg[0] != '\0')
			rc = value_env(arg, &why);
		break;
	case O_DISABLED:
	case O_ENABLED:
		break;
	default:
		return cli_err(EX_SOFTWARE, "option %d not handled", opt);
	}
	if (rc == -1)
		return bad(opt, arg, why);
keep:
	if ((v = realloc(vo->vo_v, (vo->vo_n + 1) * sizeof(*v))) == NULL) {
		strv_clear(&o.o_argv);
		return cli_err(EX_OSERR, "--%s: %s", optname(opt),
		    strerror(errno));
	}
	vo->vo_v = v;
	v[vo->vo_n++] = o;
	return 0;
}

int
vmopts_command(struct vmopts *vo, int argc, char **argv)
{
	if (argc == 0 || argv[0][0] == '\0')
		return cli_err(EX_USAGE, "empty command after --");
	vo->vo_argc = argc;
	vo->vo_argv = argv;
	return 0;
}

/* Replace *dst with a copy of s, or NULL when s is empty. */
static int
setstr(char **dst, const char *s)
{
	char *copy = NULL;

	if (s[0] != '\0' && (copy = strdup(s)) == NULL)
		return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

/* Apply one of the detached driver's options; 0, or -1 on ENOMEM. */
static int
apply_field(const struct vmfield *f, const struct vmopt *o, int first,
    struct vm_def *vd)
{
	char *base = (char *)vd;

	switch (f->vf_kind) {
	case VF_DRIVER:
		vd->vd_driver = o->o_driver;
		return 0;
	case VF_CMD:
		return strv_copy(&vd->vd_cmd[f->vf_cmd], &o->o_argv);
	case VF_PATH:
		return setstr((char **)(void *)(base + f->vf_off), o->o_arg);
	case VF_INTERVAL:
		*(int64_t *)(void *)(base + f->vf_off) = o->o_ms;
		return 0;
	case VF_RULE:
		if (first)
			strv_clear(&vd->vd_status_map);
		return o->o_arg[0] == '\0' ? 0 :
		    strv_push(&vd->vd_status_map, o->o_arg);
	}
	return 0;
}

int
vmopts_apply(struct vm_def *vd, void *p, char *err, size_t errlen)
{
	struct vmopts *vo = p;
	struct vmopt *o;
	const struct vmfield *f;
	const char *why;
	uint64_t seen = 0;	/* repeatable lists already replaced */
	uint64_t bit;
	ssize_t k;
	size_t i;
	int rc = 0;

	if (vo->vo_argv != NULL) {
		strv_clear(&vd->vd_argv);
		for (i = 0; i < (size_t)vo->vo_argc && rc == 0; i++)
			rc = strv_push(&vd->vd_argv, vo->vo_argv[i]);
	}
	for (i = 0; i < vo->vo_n && rc == 0; i++) {
		o = &vo->vo_v[i];
		/* The first use of a list option starts that list afresh. */
		bit = (uint64_t)1 << (o->o_opt - O_ORDER);
		if ((f = field(o->o_opt)) != NULL) {
			rc = apply_field(f, o, !(seen & bit), vd);
			seen |= bit;
			continue;
		}
		if (!(seen & bit)) {
			seen |= bit;
			switch (o->o_opt) {
			case O_AFTER:
				strv_clear(&vd->vd_after);
				break;
			case O_ENV:
				strv_clear(&vd->vd_env);
				break;
			case O_WAIT_PATH:
				vm_def_clear_gates(vd, GATE_PATH);
				break;
			case O_WAIT_CMD:
				vm_def_clear_gates(vd, GATE_CMD);
				break;
			case O_WAIT_TCP:
				vm_def_clear_gates(vd, GATE_TCP);
				break;
			}
		}
		switch (o->o_opt) {
		case O_ORDER:
			vd->vd_order = (int)o->o_num;
			break;
		case O_AFTER:
			if (o->o_arg[0] != '\0' &&
			    strv_find_key(&vd->vd_after, o->o_arg) == -1)
				rc = strv_push(&vd->vd_after, o->o_arg);
			break;
		case O_RESTART:
			vd->vd_restart = o->o_policy;
			break;
		case O_CODES:
			memcpy(vd->vd_success, o->o_codes,
			    sizeof(vd->vd_success));
			break;
		case O_WAIT_PATH:
		case O_WAIT_CMD:
		case O_WAIT_TCP:
			if (o->o_arg[0] != '\0')
				rc = vm_def_add_gate(vd,
				    o->o_opt == O_WAIT_PATH ? GATE_PATH :
				    o->o_opt == O_WAIT_CMD ? GATE_CMD : GATE_TCP,
				    o->o_arg);
			break;
		case O_WAIT_TIMEOUT:
			vd->vd_wait_timeout_ms = o->o_ms;
			break;
		case O_UP_DELAY:
			vd->vd_up_delay_ms = o->o_ms;
			break;
		case O_READY_TCP:
			rc = setstr(&vd->vd_ready_tcp, o->o_arg);
			break;
		case O_USER:
			rc = setstr(&vd->vd_user, o->o_arg);
			break;
		case O_CWD:
			rc = setstr(&vd->vd_cwd, o->o_arg);
			break;
		case O_LOG_FILE:
			rc = setstr(&vd->vd_log_path, o->o_arg);
			break;
		case O_ENV:
			if (o->o_arg[0] == '\0')
				break;
			/* A later K=V overrides an earlier K. */
			if ((k = strv_find_key(&vd->vd_env, o->o_arg)) >= 0) {
				free(vd->vd_env.sv_v[k]);
				vd->vd_env.sv_v[k] = strdup(o->o_arg);
				rc = vd->vd_env.sv_v[k] ? 0 : -1;
			} else
				rc = strv_push(&vd->vd_env, o->o_arg);
			break;
		case O_STOP_SIGNAL:
			vd->vd_stop_signal = (int)o->o_num;
			break;
		case O_SUSPEND_SIGNAL:
			vd->vd_suspend_signal = (int)o->o_num;
			break;
		case O_STOP_TIMEOUT:
			vd->vd_stop_timeout_ms = o->o_ms;
			break;
		case O_BACKOFF_INITIAL:
			vd->vd_backoff_initial_ms = o->o_ms;
			break;
		case O_BACKOFF_FACTOR:
			vd->vd_backoff_factor = o->o_dbl;
			break;
		case O_BACKOFF_MAX:
			vd->vd_backoff_max_ms = o->o_ms;
			break;
		case O_BACKOFF_RESET:
			vd->vd_backoff_reset_ms = o->o_ms;
			break;
		case O_MAX_FAILURES:
			vd->vd_max_failures = (int)o->o_num;
			break;
		case O_DISABLED:
			vd->vd_enabled = 0;
			break;
		case O_ENABLED:
			vd->vd_enabled = 1;
			break;
		}
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return DB_ERR;
	}
	if (vm_def_check(vd, &why) == -1) {
		snprintf(err, errlen, "%s", why);
		return DB_REFUSED;
	}
	if (vd->vd_backoff_initial_ms > vd->vd_backoff_max_ms) {
		snprintf(err, errlen, "--backoff-initial %lldms is more than "
		    "--backoff-max %lldms",
		    (long long)vd->vd_backoff_initial_ms,
		    (long long)vd->vd_backoff_max_ms);
		return DB_REFUSED;
	}
	return DB_OK;
}

const char *
vmopts_last(const struct vmopts *vo, const char *name)
{
	const char *last = NULL;
	size_t i;

	for (i = 0; i < vo->vo_n; i++)
		if (strcmp(optname(vo->vo_v[i].o_opt), name) == 0)
			last = vo->vo_v[i].o_arg;
	return last;
}

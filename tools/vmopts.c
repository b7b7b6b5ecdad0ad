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
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	O_ORDER = 256, O_AFTER, O_RESTART, O_CODES, O_WAIT_PATH, O_WAIT_CMD,
	O_WAIT_TCP, O_WAIT_TIMEOUT, O_UP_DELAY, O_READY_TCP, O_USER, O_CWD,
	O_ENV, O_STOP_SIGNAL, O_SUSPEND_SIGNAL, O_STOP_TIMEOUT,
	O_BACKOFF_INITIAL, O_BACKOFF_FACTOR, O_BACKOFF_MAX, O_BACKOFF_RESET,
	O_MAX_FAILURES, O_DISABLED, O_ENABLED, O_LOG_FILE, O_END
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
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

/* One validated option. */
struct vmopt {
	int		 o_opt;		/* O_* */
	const char	*o_arg;		/* as typed (argv outlives us) */
	int64_t		 o_ms;		/* parsed duration */
	long		 o_num;		/* parsed number or signal */
	double		 o_dbl;		/* parsed factor */
	unsigned char	 o_codes[32];	/* parsed exit codes, a bit each */
	enum restart_policy o_policy;
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
	if (vo == NULL)
		return;
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

int
vmopts_take(int opt, const char *arg, void *p)
{
	struct vmopts *vo = p;
	struct vmopt o, *v;
	const char *why = NULL;
	int sig, rc = 0;

	memset(&o, 0, sizeof(o));
	o.o_opt = opt;
	o.o_arg = arg;
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
	if ((v = realloc(vo->vo_v, (vo->vo_n + 1) * sizeof(*v))) == NULL)
		return cli_err(EX_OSERR, "--%s: %s", optname(opt),
		    strerror(errno));
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

int
vmopts_apply(struct vm_def *vd, void *p, char *err, size_t errlen)
{
	struct vmopts *vo = p;
	struct vmopt *o;
	unsigned seen = 0;	/* repeatable lists already replaced */
	unsigned bit;
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
		bit = 1u << (o->o_opt - O_ORDER);
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
	if (vd->vd_backoff_initial_ms > vd->vd_backoff_max_ms) {
		snprintf(err, errlen, "--backoff-initial %lldms is more than "
		    "--backoff-max %lldms",
		    (long long)vd->vd_backoff_initial_ms,
		    (long long)vd->vd_backoff_max_ms);
		return DB_REFUSED;
	}
	return DB_OK;
}

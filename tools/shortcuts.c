/*
 * shortcuts.c: the hypervisor shortcuts as `add` and `import-launchd`
 * take them (issue 12). The options are checked as they are read (a name
 * that would reach a hypervisor's command line as an option, "-x", is
 * refused), then the tool each one needs is looked up on the caller's
 * PATH or at the platform's usual places and stored by its absolute path,
 * the libvirt URI and the QEMU run directory are settled, and
 * sched/shortcut.c expands it all into a definition. --vmware also checks
 * the .vmx as vmx-check does, warning (never refusing) about what an
 * unattended VM needs.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void
shortcuts_init(struct shortcut_args *sa)
{
	memset(sa, 0, sizeof(*sa));
}

/* A name or URI that goes on a hypervisor's command line: not empty, not
 * an option, no control character. */
static int
word_ok(const char *opt, const char *arg)
{
	const char *p;

	if (arg[0] == '\0')
		return cli_err(EX_USAGE, "--%s: empty", opt);
	if (arg[0] == '-')
		return cli_err(EX_USAGE, "--%s %s: may not start with '-' (the "
		    "tool would take it for an option)", opt, arg);
	if (strlen(arg) > 1024)
		return cli_err(EX_USAGE, "--%s: longer than 1024 bytes", opt);
	for (p = arg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return cli_err(EX_USAGE, "--%s: holds a control "
			    "character", opt);
	return 0;
}

static int
set_kind(struct shortcut_args *sa, enum shortcut_kind k, const char *opt)
{
	if (sa->sa_kind != SC_NONE && sa->sa_kind != k)
		return cli_err(EX_USAGE, "--%s: only one of --vmware, --libvirt, "
		    "--virtualbox and --qemu at a time", opt);
	sa->sa_kind = k;
	return 0;
}

int
shortcuts_take(int opt, const char *arg, struct shortcut_args *sa)
{
	int rc;

	switch (opt) {
	case O_SC_VMWARE:
		if ((rc = word_ok("vmware", arg)) != 0 ||
		    (rc = set_kind(sa, SC_VMWARE, "vmware")) != 0)
			return rc;
		sa->sa_target = arg;
		return 0;
	case O_SC_LIBVIRT:
		if ((rc = word_ok("libvirt", arg)) != 0 ||
		    (rc = set_kind(sa, SC_LIBVIRT, "libvirt")) != 0)
			return rc;
		if (strchr(arg, '/') != NULL)
			return cli_err(EX_USAGE, "--libvirt %s: a domain name "
			    "has no '/'", arg);
		sa->sa_target = arg;
		return 0;
	case O_SC_VIRTUALBOX:
		if ((rc = word_ok("virtualbox", arg)) != 0 ||
		    (rc = set_kind(sa, SC_VIRTUALBOX, "virtualbox")) != 0)
			return rc;
		sa->sa_target = arg;
		return 0;
	case O_SC_QEMU:
		return set_kind(sa, SC_QEMU, "qemu");
	case O_SC_VMRUN:
		sa->sa_vmrun = 1;
		return 0;
	case O_SC_VMRUN_TYPE:
		if (strcmp(arg, "fusion") != 0 && strcmp(arg, "ws") != 0 &&
		    strcmp(arg, "player") != 0)
			return cli_err(EX_USAGE, "--vmrun-type %s: not fusion, ws "
			    "or player", arg);
		sa->sa_vmrun_type = arg;
		return 0;
	case O_SC_CONNECT:
		if ((rc = word_ok("connect", arg)) != 0)
			return rc;
		sa->sa_connect = arg;
		return 0;
	case O_SC_VMWARE_VMX:
	case O_SC_TOOL:
		if (arg[0] != '/')
			return cli_err(EX_USAGE, "--%s %s: must be an absolute "
			    "path", opt == O_SC_TOOL ? "tool" : "vmware-vmx",
			    arg);
		sa->sa_tool = arg;
		return 0;
	case O_SC_RUN_DIR:
		if (arg[0] != '/')
			return cli_err(EX_USAGE, "--run-dir %s: must be an "
			    "absolute path", arg);
		sa->sa_run_dir = arg;
		return 0;
	}
	return cli_err(EX_SOFTWARE, "option %d not handled", opt);
}

int
shortcuts_used(const struct shortcut_args *sa)
{
	return sa->sa_kind != SC_NONE || sa->sa_vmrun || sa->sa_connect ||
	    sa->sa_tool || sa->sa_run_dir || sa->sa_vmrun_type;
}

/* Whether path names a file we may execute. */
static int
runnable(const char *path)
{
	return access(path, X_OK) == 0;
}

/*
 * The tool called name: on the caller's PATH (its absolute directories),
 * then at places (absolute files; for dirs, directories holding name).
 * 0 with its path in buf, or -1.
 */
static int
find_tool(const char *name, const char *const *places, int dirs, char *buf,
    size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	size_t i, n;

	for (p = path; p != NULL && *p != '\0'; p = end ? end + 1 : NULL) {
		end = strchr(p, ':');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n > 0 && p[0] == '/' && snprintf(buf, len, "%.*s/%s",
		    (int)n, p, name) < (int)len && runnable(buf))
			return 0;
		if (end == NULL)
			break;
	}
	for (i = 0; places[i] != NULL; i++) {
		if (dirs)
			snprintf(buf, len, "%s/%s", places[i], name);
		else
			snprintf(buf, len, "%s", places[i]);
		if ((dirs || strcmp(strrchr(buf, '/') + 1, name) == 0) &&
		    runnable(buf))
			return 0;
	}
	return -1;
}

/* "PATH, /usr/bin/virsh, ...": where find_tool looked, for the error. */
static void
looked(const char *const *places, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "PATH");
	for (i = 0; places[i] != NULL; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), ", %s",
		    places[i]);
}

/* The tool sa's shortcut needs, into buf; 0, or the exit code. */
static int
resolve_tool(const struct shortcut_args *sa, enum shortcut_kind k,
    const char *name, char *buf, size_t len)
{
	char where[1024];

	/* Named by the operator (or a launchd job): taken as it is. */
	if (sa->sa_tool != NULL) {
		if (!runnable(sa->sa_tool))
			cli_err(0, "add: %s: %s (a warning: the VM cannot start "
			    "until it is there)", sa->sa_tool, errno ?
			    strerror(errno) : "cannot be run");
		snprintf(buf, len, "%s", sa->sa_tool);
		return 0;
	}
	if (find_tool(name, shortcut_places(k), k == SC_QEMU, buf, len) == 0)
		return 0;
	looked(shortcut_places(k), where, sizeof(where));
	return cli_err(EX_NOINPUT, "add: %s: %s not found (looked in %s); "
	    "give its path with --%s PATH", shortcut_name(k), name, where,
	    k == SC_VMWARE ? "vmware-vmx" : "tool");
}

/* path made absolute against the working directory, into buf. */
static int
absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return snprintf(buf, len, "%s", path) < (int)len ? 0 : -1;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	return snprintf(buf, len, "%s/%s", cwd, path) < (int)len ? 0 : -1;
}

/* run/ beside the database, for --qemu without --run-dir. */
static int
default_run_dir(struct cli *cli, char *buf, size_t len)
{
	char db[PATH_MAX], *slash;

	if (absolute(cli->c_dbpath, db, sizeof(db)) == -1 ||
	    (slash = strrchr(db, '/')) == NULL)
		return -1;
	*slash = '\0';
	return snprintf(buf, len, "%s/run", db[0] ? db : "") < (int)len ? 0 :
	    -1;
}

/* Whether the VM runs as someone else than whoever runs vmsched. */
static int
other_user(const char *user)
{
	struct passwd *pw;

	return user != NULL && user[0] != '\0' && ((pw = getpwnam(user)) ==
	    NULL || pw->pw_uid != geteuid());
}

int
shortcuts_expand(struct cli *cli, const struct shortcut_args *sa,
    const char *user, struct vm_def *vd)
{
	struct shortcut sc;
	enum shortcut_kind k = sa->sa_kind;
	char tool[PATH_MAX], target[PATH_MAX], run[PATH_MAX], why[512];
	const char *uri;

	if (k == SC_VMWARE && sa->sa_vmrun)
		k = SC_VMRUN;
	if ((sa->sa_vmrun || sa->sa_vmrun_type) && k != SC_VMRUN)
		return cli_err(EX_USAGE, "add: --vmrun%s goes with --vmware X.vmx",
		    sa->sa_vmrun_type ? "-type" : "");
	if (sa->sa_connect && k != SC_LIBVIRT)
		return cli_err(EX_USAGE, "add: --connect goes with --libvirt");
	if (sa->sa_run_dir && k != SC_QEMU)
		return cli_err(EX_USAGE, "add: --run-dir goes with --qemu");
	if (k == SC_NONE)
		return cli_err(EX_USAGE, "add: --tool goes with --vmware, "
		    "--libvirt, --virtualbox or --qemu");
	memset(&sc, 0, sizeof(sc));
	sc.sc_kind = k;
	sc.sc_vmrun_type = sa->sa_vmrun_type;
	if (k == SC_QEMU) {
		if (vd->vd_argv.sv_n == 0 ||
		    !shortcut_qemu_program(vd->vd_argv.sv_v[0]))
			return cli_err(EX_USAGE, "add: --qemu: the command after "
			    "-- must be a qemu-system-* command line");
		if (strchr(vd->vd_argv.sv_v[0], '/') != NULL) {
			if (absolute(vd->vd_argv.sv_v[0], tool,
			    sizeof(tool)) == -1 || !runnable(tool))
				return cli_err(EX_NOINPUT, "add: %s: %s",
				    vd->vd_argv.sv_v[0], strerror(errno));
		} else if (resolve_tool(sa, k, vd->vd_argv.sv_v[0], tool,
		    sizeof(tool)) != 0)
			return EX_NOINPUT;
		sc.sc_tool = tool;
		if (sa->sa_run_dir != NULL)
			sc.sc_run_dir = sa->sa_run_dir;
		else if (other_user(user))
			return cli_err(EX_USAGE, "add: --qemu with --user %s: "
			    "give --run-dir DIR, a directory %s can write (its "
			    "pid file and QMP socket go there)", user, user);
		else if (default_run_dir(cli, run, sizeof(run)) == -1)
			return cli_err(EX_USAGE, "add: --qemu: the database's "
			    "path is too long for a run directory beside it");
		else
			sc.sc_run_dir = run;
	} else {
		if (resolve_tool(sa, k, shortcut_tool(k), tool,
		    sizeof(tool)) != 0)
			return EX_NOINPUT;
		sc.sc_tool = tool;
		sc.sc_target = sa->sa_target;
	}
	if (k == SC_VMWARE || k == SC_VMRUN) {
		if (absolute(sa->sa_target, target, sizeof(target)) == -1)
			return cli_err(EX_USAGE, "add: --vmware %s: path too "
			    "long", sa->sa_target);
		sc.sc_target = target;
		/* What an unattended VM needs; vmrun sends no signals. */
		vmx_warnings("add", target, k == SC_VMWARE ? SIGTERM : 0,
		    k == SC_VMWARE ? SIGHUP : 0);
	}
	if (k == SC_LIBVIRT) {
		/* The URI is stored: the daemon's environment is not the
		 * caller's. */
		uri = sa->sa_connect;
		if (uri == NULL && (uri = getenv("LIBVIRT_DEFAULT_URI")) != NULL &&
		    word_ok("connect (LIBVIRT_DEFAULT_URI)", uri) != 0)
			return EX_USAGE;
		if (uri == NULL)
			uri = geteuid() == 0 ? "qemu:///system" :
			    "qemu:///session";
		sc.sc_connect = uri;
#if defined(__linux__)
		/* The system instance keeps a pid file per running domain. */
		if (strcmp(uri, "qemu:///system") == 0)
			sc.sc_pid_dir = "/run/libvirt/qemu";
#endif
	}
	if (shortcut_expand(&sc, vd, why, sizeof(why)) == -1)
		return cli_err(strcmp(why, "out of memory") == 0 ? EX_OSERR :
		    EX_USAGE, "add: %s", why);
	return 0;
}

/* The tool a recognized job names, as this host finds it, into buf. */
static const char *
import_tool(const char *file, const struct shortcut *sc, const char *argv0,
    char *buf, size_t len)
{
	const char *name = shortcut_tool(sc->sc_kind);
	char *slash;

	if (sc->sc_tool != NULL && sc->sc_tool[0] == '/')
		return sc->sc_tool;	/* what launchd ran */
	/* VBoxHeadless: its VBoxManage sits beside it. */
	if (sc->sc_tool == NULL && argv0[0] == '/' &&
	    snprintf(buf, len, "%s", argv0) < (int)len &&
	    (slash = strrchr(buf, '/')) != NULL &&
	    snprintf(slash + 1, len - (size_t)(slash + 1 - buf), "%s",
	    name) < (int)(len - (size_t)(slash + 1 - buf)))
		return buf;
	if (find_tool(name, shortcut_places(sc->sc_kind), 0, buf, len) == 0)
		return buf;
	cli_err(0, "%s: %s: not found on this host; the definition names it "
	    "as the job did", file, name);
	return name;
}

int
shortcuts_import(const char *file, struct vm_def *vd, char *line,
    size_t linelen)
{
	struct shortcut sc;
	struct strv argv = { NULL, 0 };
	char tool[PATH_MAX], why[512], cmdline[2048];
	const char *k;
	size_t i;
	int rc = 0;

	line[0] = '\0';
	if (!shortcut_recognize(&vd->vd_argv, &sc))
		return 0;
	/* sc points into vd_argv, which the expansion replaces. */
	if (strv_copy(&argv, &vd->vd_argv) == -1 ||
	    !shortcut_recognize(&argv, &sc))
		return cli_err(EX_OSERR, "%s: %s", file, strerror(ENOMEM));
	sc.sc_tool = import_tool(file, &sc, argv.sv_v[0], tool, sizeof(tool));
	if (sc.sc_kind == SC_LIBVIRT && sc.sc_connect == NULL)
		sc.sc_connect = "qemu:///system";	/* launchd runs as root */
#if defined(__linux__)
	if (sc.sc_kind == SC_LIBVIRT && strcmp(sc.sc_connect,
	    "qemu:///system") == 0)
		sc.sc_pid_dir = "/run/libvirt/qemu";
#endif
	cmdline[0] = '\0';
	for (i = 0; i < argv.sv_n; i++) {
		if (i > 0)
			strncat(cmdline, " ", sizeof(cmdline) - strlen(cmdline) -
			    1);
		cli_quote(argv.sv_v[i], cmdline, sizeof(cmdline));
	}
	if (shortcut_expand(&sc, vd, why, sizeof(why)) == -1) {
		rc = cli_err(EX_DATAERR, "%s: %s", file, why);
		goto done;
	}
	/* The shortcut's own words, for the message and --dry-run's line. */
	k = shortcut_name(sc.sc_kind);
	switch (sc.sc_kind) {
	case SC_VMRUN:
		snprintf(line, linelen, "--vmware ");
		cli_quote(sc.sc_target, line, linelen);
		snprintf(line + strlen(line), linelen - strlen(line),
		    " --vmrun");
		if (sc.sc_vmrun_type != NULL) {
			snprintf(line + strlen(line), linelen - strlen(line),
			    " --vmrun-type ");
			cli_quote(sc.sc_vmrun_type, line, linelen);
		}
		break;
	case SC_LIBVIRT:
		snprintf(line, linelen, "--libvirt ");
		cli_quote(sc.sc_target, line, linelen);
		snprintf(line + strlen(line), linelen - strlen(line),
		    " --connect ");
		cli_quote(sc.sc_connect, line, linelen);
		break;
	default:
		snprintf(line, linelen, "%s ", k);
		cli_quote(sc.sc_target, line, linelen);
		break;
	}
	snprintf(line + strlen(line), linelen - strlen(line), " --tool ");
	cli_quote(sc.sc_tool, line, linelen);
	cli_err(0, "%s: %s is %s: imported as %s (%s driver%s)", file,
	    cmdline, sc.sc_kind == SC_VMWARE ? "VMware's vmware-vmx" :
	    sc.sc_kind == SC_VMRUN ? "VMware's vmrun" :
	    sc.sc_kind == SC_LIBVIRT ? "libvirt's virsh" : "VirtualBox's",
	    line, vm_driver_name(vd->vd_driver), vd->vd_driver ==
	    DRV_DETACHED ? "; it returns at once, so vmsched watches the VM "
	    "with the tool's status" : "");
	rc = 1;
done:
	strv_clear(&argv);
	return rc;
}

/*
 * shortcut.c: the hypervisor shortcuts of `vmsched add` (issue 12), as
 * pure functions. Each expands, at add time, into a complete definition
 * made of the hypervisor's own commands, which `show` prints, so nothing
 * is magic afterwards:
 *
 *   --vmware X.vmx           exec: vmware-vmx -x X.vmx, stop TERM
 *                            (signal.powerOffOnTERM), suspend HUP
 *                            (signal.suspendOnHUP)
 *   --vmware X.vmx --vmrun   detached: vmrun -T fusion|ws start X.vmx
 *                            nogui; alive while `vmrun list` prints X.vmx;
 *                            stop soft, then hard; suspend soft
 *   --libvirt DOMAIN         detached: virsh -c URI start DOMAIN; virsh
 *                            domstate --reason, and the pid file the
 *                            system instance keeps; shutdown, then
 *                            destroy; managedsave
 *   --virtualbox NAME        detached: VBoxManage startvm NAME --type
 *                            headless; showvminfo --machinereadable's
 *                            VMState=; acpipowerbutton, then poweroff;
 *                            savestate
 *   --qemu -- qemu-system-*  detached: the command line with -daemonize,
 *                            -pidfile and a QMP socket; stop is QMP
 *                            system_powerdown, suspend QMP stop (a pause),
 *                            resume QMP cont, through `vmsched qmp`
 *
 * The tools' paths (found by the caller on PATH or at the platform's
 * usual places) come in the struct shortcut; so does the rest of what is
 * not pure (the libvirt URI, the run directory). shortcut_recognize goes
 * the other way, for import-launchd: it knows these tools' own command
 * lines in a launchd job.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

static const char *const names[] = {
	[SC_NONE] = "", [SC_VMWARE] = "--vmware", [SC_VMRUN] = "--vmrun",
	[SC_LIBVIRT] = "--libvirt", [SC_VIRTUALBOX] = "--virtualbox",
	[SC_QEMU] = "--qemu",
};

static const char *const tools[] = {
	[SC_NONE] = "", [SC_VMWARE] = "vmware-vmx", [SC_VMRUN] = "vmrun",
	[SC_LIBVIRT] = "virsh", [SC_VIRTUALBOX] = "VBoxManage",
	[SC_QEMU] = "qemu-system-x86_64",
};

/* Where each tool lives when it is not on PATH. */
#if defined(__APPLE__)
static const char *const places_vmware[] = {
	"/Applications/VMware Fusion.app/Contents/Library/vmware-vmx", NULL };
static const char *const places_vmrun[] = {
	"/Applications/VMware Fusion.app/Contents/Public/vmrun",
	"/Applications/VMware Fusion.app/Contents/Library/vmrun", NULL };
static const char *const places_virsh[] = {
	"/opt/homebrew/bin/virsh", "/usr/local/bin/virsh", NULL };
static const char *const places_vbox[] = {
	"/Applications/VirtualBox.app/Contents/MacOS/VBoxManage",
	"/usr/local/bin/VBoxManage", NULL };
static const char *const places_qemu[] = {
	"/opt/homebrew/bin", "/usr/local/bin", NULL };
#else
static const char *const places_vmware[] = {
	"/usr/lib/vmware/bin/vmware-vmx", "/usr/bin/vmware-vmx", NULL };
static const char *const places_vmrun[] = {
	"/usr/bin/vmrun", "/usr/lib/vmware/bin/vmrun", NULL };
static const char *const places_virsh[] = {
	"/usr/bin/virsh", "/usr/local/bin/virsh", NULL };
static const char *const places_vbox[] = {
	"/usr/bin/VBoxManage", "/usr/lib/virtualbox/VBoxManage", NULL };
static const char *const places_qemu[] = {
	"/usr/bin", "/usr/local/bin", NULL };
#endif
static const char *const places_none[] = { NULL };

const char *
shortcut_name(enum shortcut_kind k)
{
	return (unsigned)k <= SC_QEMU ? names[k] : "";
}

const char *
shortcut_tool(enum shortcut_kind k)
{
	return (unsigned)k <= SC_QEMU ? tools[k] : "";
}

const char *const *
shortcut_places(enum shortcut_kind k)
{
	switch (k) {
	case SC_VMWARE:
		return places_vmware;
	case SC_VMRUN:
		return places_vmrun;
	case SC_LIBVIRT:
		return places_virsh;
	case SC_VIRTUALBOX:
		return places_vbox;
	case SC_QEMU:
		return places_qemu;
	default:
		return places_none;
	}
}

const char *
shortcut_vmrun_type(void)
{
#if defined(__APPLE__)
	return "fusion";
#else
	return "ws";
#endif
}

/* A command of up to 8 words (NULL-terminated) into sv; 0 or -1. */
static int
cmd(struct strv *sv, const char *const *words)
{
	size_t i;

	strv_clear(sv);
	for (i = 0; words[i] != NULL; i++)
		if (strv_push(sv, words[i]) == -1)
			return -1;
	return 0;
}

/* The rules of a status map, NULL-terminated, into vd. */
static int
map(struct vm_def *vd, const char *const *rules)
{
	return cmd(&vd->vd_status_map, rules);
}

/* s with the characters fnmatch treats specially escaped, into buf. */
static int
glob_escape(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (n + 3 > len)
			return -1;
		if (*s == '*' || *s == '?' || *s == '[' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return 0;
}

static const char *
base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int
expand_vmware(const struct shortcut *sc, struct vm_def *vd)
{
	const char *start[] = { sc->sc_tool, "-x", sc->sc_target, NULL };

	vd->vd_driver = DRV_EXEC;
	vd->vd_stop_signal = 15;	/* SIGTERM: signal.powerOffOnTERM */
	vd->vd_suspend_signal = 1;	/* SIGHUP: signal.suspendOnHUP */
	return cmd(&vd->vd_argv, start);
}

static int
expand_vmrun(const struct shortcut *sc, struct vm_def *vd, char *why,
    size_t len)
{
	const char *t = sc->sc_vmrun_type ? sc->sc_vmrun_type :
	    shortcut_vmrun_type(), *x = sc->sc_target, *v = sc->sc_tool;
	const char *start[] = { v, "-T", t, "start", x, "nogui", NULL };
	const char *list[] = { v, "-T", t, "list", NULL };
	const char *stop[] = { v, "-T", t, "stop", x, "soft", NULL };
	const char *kill[] = { v, "-T", t, "stop", x, "hard", NULL };
	const char *suspend[] = { v, "-T", t, "suspend", x, "soft", NULL };
	char rule[PATH_MAX * 2 + 16], esc[PATH_MAX * 2];
	const char *rules[] = { rule, "stopped=Total running VMs:*", NULL };

	/* `vmrun list`: a count, then the absolute path of each VM that
	 * runs, one a line, which status_decide reads whole. */
	if (x[0] != '/' || strpbrk(x, "\r\n") != NULL ||
	    strlen(x) >= STATUS_LINE_MAX) {
		snprintf(why, len, "--vmrun: the .vmx must be an absolute path "
		    "on one line, shorter than %d bytes (as vmrun list names "
		    "it)", STATUS_LINE_MAX);
		return -1;
	}
	if (glob_escape(x, esc, sizeof(esc)) == -1) {
		snprintf(why, len, "%s: path too long", x);
		return -1;
	}
	snprintf(rule, sizeof(rule), "running=%s", esc);
	vd->vd_driver = DRV_DETACHED;
	return cmd(&vd->vd_argv, start) == -1 ||
	    cmd(&vd->vd_cmd[CMD_STATUS], list) == -1 ||
	    cmd(&vd->vd_cmd[CMD_STOP], stop) == -1 ||
	    cmd(&vd->vd_cmd[CMD_KILL], kill) == -1 ||
	    cmd(&vd->vd_cmd[CMD_SUSPEND], suspend) == -1 ||
	    map(vd, rules) == -1 ? -1 : 0;
}

static int
expand_libvirt(const struct shortcut *sc, struct vm_def *vd, char *why,
    size_t len)
{
	const char *v = sc->sc_tool, *c = sc->sc_connect, *d = sc->sc_target;
	const char *start[] = { v, "-c", c, "start", d, NULL };
	const char *state[] = { v, "-c", c, "domstate", "--reason", d, NULL };
	const char *stop[] = { v, "-c", c, "shutdown", d, NULL };
	const char *kill[] = { v, "-c", c, "destroy", d, NULL };
	const char *save[] = { v, "-c", c, "managedsave", d, NULL };
	/* virsh domstate --reason: "running (booted)", "shut off (saved)",
	 * "shut off (crashed)", "paused (user)"... A paused domain is still
	 * active: it is not vmsched's suspend (managedsave). */
	static const char *const rules[] = {
		"suspended=shut off (saved)",
		"crashed=shut off (crashed)",
		"crashed=shut off (failed)",
		"stopped=shut off*",
		"crashed=crashed*",
		"running=running*",
		"running=paused*",
		"running=blocked*",
		"running=idle*",
		"running=in shutdown*",
		"running=pmsuspended*",
		"stopped=dying*",
		NULL,
	};
	char pid[PATH_MAX];

	/* libvirt's own rule, and what keeps the pid file in its place. */
	if (strchr(d, '/') != NULL) {
		snprintf(why, len, "--libvirt: a domain name has no '/'");
		return -1;
	}
	vd->vd_driver = DRV_DETACHED;
	if (sc->sc_pid_dir != NULL) {
		if (snprintf(pid, sizeof(pid), "%s/%s.pid", sc->sc_pid_dir, d) >=
		    (int)sizeof(pid)) {
			snprintf(why, len, "%s: pid file path too long", d);
			return -1;
		}
		free(vd->vd_pid_file);
		if ((vd->vd_pid_file = strdup(pid)) == NULL)
			return -1;
	}
	return cmd(&vd->vd_argv, start) == -1 ||
	    cmd(&vd->vd_cmd[CMD_STATUS], state) == -1 ||
	    cmd(&vd->vd_cmd[CMD_STOP], stop) == -1 ||
	    cmd(&vd->vd_cmd[CMD_KILL], kill) == -1 ||
	    cmd(&vd->vd_cmd[CMD_SUSPEND], save) == -1 ||
	    map(vd, (const char *const *)rules) == -1 ? -1 : 0;
}

static int
expand_virtualbox(const struct shortcut *sc, struct vm_def *vd)
{
	const char *v = sc->sc_tool, *n = sc->sc_target;
	const char *start[] = { v, "startvm", n, "--type", "headless", NULL };
	const char *info[] = { v, "showvminfo", n, "--machinereadable", NULL };
	const char *stop[] = { v, "controlvm", n, "acpipowerbutton", NULL };
	const char *kill[] = { v, "controlvm", n, "poweroff", NULL };
	const char *save[] = { v, "controlvm", n, "savestate", NULL };
	/* VMState="running", "poweroff", "saved", "aborted", "paused"...;
	 * the states on the way (starting, saving, ...) are running. */
	static const char *const rules[] = {
		"suspended=VMState=\"saved\"",
		"crashed=VMState=\"aborted\"",
		"crashed=VMState=\"aborted-saved\"",
		"crashed=VMState=\"stuck\"",
		"stopped=VMState=\"poweroff\"",
		"running=VMState=\"*\"",
		NULL,
	};

	vd->vd_driver = DRV_DETACHED;
	return cmd(&vd->vd_argv, start) == -1 ||
	    cmd(&vd->vd_cmd[CMD_STATUS], info) == -1 ||
	    cmd(&vd->vd_cmd[CMD_STOP], stop) == -1 ||
	    cmd(&vd->vd_cmd[CMD_KILL], kill) == -1 ||
	    cmd(&vd->vd_cmd[CMD_SUSPEND], save) == -1 ||
	    map(vd, (const char *const *)rules) == -1 ? -1 : 0;
}

/* Whether word is QEMU's option opt ("-pidfile"), which QEMU takes with
 * one dash or two. */
static int
qemu_opt(const char *word, const char *opt)
{
	return strcmp(word, opt) == 0 || (word[0] == '-' &&
	    strcmp(word + 1, opt) == 0);
}

int
shortcut_qemu_program(const char *argv0)
{
	const char *b = base(argv0);

	return strncmp(b, "qemu-system-", 12) == 0 || strcmp(b, "qemu-kvm") ==
	    0;
}

static int
expand_qemu(const struct shortcut *sc, struct vm_def *vd, char *why,
    size_t len)
{
	char pid[PATH_MAX], sock[PATH_MAX], qmp[PATH_MAX + 32];
	const char *status[] = { "vmsched", "qmp", sock, "query-status",
	    NULL };
	const char *stop[] = { "vmsched", "qmp", sock, "system_powerdown",
	    NULL };
	const char *pause[] = { "vmsched", "qmp", sock, "stop", NULL };
	const char *cont[] = { "vmsched", "qmp", sock, "cont", NULL };
	/* query-status: QEMU's RunState. */
	static const char *const rules[] = {
		"suspended=paused",
		"suspended=suspended",
		"stopped=shutdown",
		"crashed=guest-panicked",
		"crashed=internal-error",
		"crashed=io-error",
		"running=*",
		NULL,
	};
	struct strv *argv = &vd->vd_argv;
	size_t i, at = 0;
	int daemonize = 0;
	char *tool;

	if (argv->sv_n == 0 || !shortcut_qemu_program(argv->sv_v[0])) {
		snprintf(why, len, "--qemu: the command after -- must be a "
		    "qemu-system-* command line");
		return -1;
	}
	if ((tool = strdup(sc->sc_tool ? sc->sc_tool : argv->sv_v[0])) ==
	    NULL)
		return -1;
	free(argv->sv_v[0]);
	argv->sv_v[0] = tool;
	if (snprintf(sock, sizeof(sock), "%s/%s.qmp", sc->sc_run_dir,
	    vd->vd_name) >= (int)sizeof(sock) || strlen(sock) >= 108) {
		snprintf(why, len, "--qemu: the QMP socket %s/%s.qmp would be "
		    "longer than a socket path may be (107 bytes): give a "
		    "shorter --run-dir", sc->sc_run_dir, vd->vd_name);
		return -1;
	}
	/* As QEMU reads it: -pidfile takes the next word, the last counts. */
	for (i = 1; i < argv->sv_n; i++) {
		if (qemu_opt(argv->sv_v[i], "-daemonize"))
			daemonize = 1;
		else if (qemu_opt(argv->sv_v[i], "-pidfile"))
			at = ++i;
	}
	if (at == argv->sv_n) {
		snprintf(why, len, "--qemu: -pidfile without a path");
		return -1;
	}
	if (at > 0) {
		if (snprintf(pid, sizeof(pid), "%s", argv->sv_v[at]) >=
		    (int)sizeof(pid)) {
			snprintf(why, len, "--qemu: -pidfile: path too long");
			return -1;
		}
	} else {
		snprintf(pid, sizeof(pid), "%s/%s.pid", sc->sc_run_dir,
		    vd->vd_name);
		if (strv_push(argv, "-pidfile") == -1 ||
		    strv_push(argv, pid) == -1)
			return -1;
	}
	if (pid[0] != '/') {
		snprintf(why, len, "--qemu: -pidfile %s: must be an absolute "
		    "path", pid);
		return -1;
	}
	if (!daemonize && strv_push(argv, "-daemonize") == -1)
		return -1;
	snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", sock);
	if (strv_push(argv, "-qmp") == -1 || strv_push(argv, qmp) == -1)
		return -1;
	free(vd->vd_pid_file);
	if ((vd->vd_pid_file = strdup(pid)) == NULL)
		return -1;
	vd->vd_driver = DRV_DETACHED;
	return cmd(&vd->vd_cmd[CMD_STATUS], status) == -1 ||
	    cmd(&vd->vd_cmd[CMD_STOP], stop) == -1 ||
	    cmd(&vd->vd_cmd[CMD_SUSPEND], pause) == -1 ||
	    cmd(&vd->vd_cmd[CMD_RESUME], cont) == -1 ||
	    map(vd, (const char *const *)rules) == -1 ? -1 : 0;
}

/* Whether word, if there is one, would pass for an option (or nothing). */
static int
option_like(const char *word)
{
	return word != NULL && (word[0] == '-' || word[0] == '\0');
}

int
shortcut_expand(const struct shortcut *sc, struct vm_def *vd, char *why,
    size_t len)
{
	int rc = -1;
	size_t i;

	snprintf(why, len, "out of memory");
	if (sc->sc_kind != SC_QEMU && (sc->sc_tool == NULL ||
	    sc->sc_target == NULL)) {
		snprintf(why, len, "%s: no tool or target",
		    shortcut_name(sc->sc_kind));
		return -1;
	}
	/* Each goes on the tool's command line, where a leading '-' would
	 * make it an option (an imported job is not checked as add's
	 * options are). */
	if (option_like(sc->sc_target) || option_like(sc->sc_connect) ||
	    option_like(sc->sc_vmrun_type)) {
		snprintf(why, len, "%s: a target, URI or type may not be "
		    "empty or start with '-' (the tool would take it for an "
		    "option)", shortcut_name(sc->sc_kind));
		return -1;
	}
	/* What another driver's shortcut left does not belong here. */
	for (i = 0; i < CMD_N; i++)
		strv_clear(&vd->vd_cmd[i]);
	strv_clear(&vd->vd_status_map);
	free(vd->vd_pid_file);
	vd->vd_pid_file = NULL;
	switch (sc->sc_kind) {
	case SC_VMWARE:
		rc = expand_vmware(sc, vd);
		break;
	case SC_VMRUN:
		rc = expand_vmrun(sc, vd, why, len);
		break;
	case SC_LIBVIRT:
		if (sc->sc_connect == NULL) {
			snprintf(why, len, "--libvirt: no connection URI");
			return -1;
		}
		rc = expand_libvirt(sc, vd, why, len);
		break;
	case SC_VIRTUALBOX:
		rc = expand_virtualbox(sc, vd);
		break;
	case SC_QEMU:
		if (sc->sc_run_dir == NULL) {
			snprintf(why, len, "--qemu: no run directory");
			return -1;
		}
		rc = expand_qemu(sc, vd, why, len);
		break;
	default:
		snprintf(why, len, "no such shortcut");
		return -1;
	}
	return rc;
}

/*
 * The connection of `virsh [-c URI | --connect URI | --connect=URI]`
 * before argv[until] into *uri (NULL: none): 0, or -1 if anything else
 * comes before it.
 */
static int
virsh_uri(const struct strv *argv, size_t until, const char **uri)
{
	size_t i;

	*uri = NULL;
	for (i = 1; i < until; i++) {
		if ((strcmp(argv->sv_v[i], "-c") == 0 ||
		    strcmp(argv->sv_v[i], "--connect") == 0) && i + 1 < until)
			*uri = argv->sv_v[++i];
		else if (strncmp(argv->sv_v[i], "--connect=", 10) == 0)
			*uri = argv->sv_v[i] + 10;
		else
			return -1;
	}
	return 0;
}

int
shortcut_recognize(const struct strv *argv, struct shortcut *sc)
{
	const char *b;
	size_t n = argv->sv_n, i;

	memset(sc, 0, sizeof(*sc));
	if (n == 0)
		return 0;
	b = base(argv->sv_v[0]);
	/* vmware-vmx -x X.vmx */
	if (strcmp(b, "vmware-vmx") == 0 && n == 3 &&
	    strcmp(argv->sv_v[1], "-x") == 0) {
		sc->sc_kind = SC_VMWARE;
		sc->sc_target = argv->sv_v[2];
		sc->sc_tool = argv->sv_v[0];
		return 1;
	}
	/* vmrun [-T fusion|ws|player] start X.vmx [gui|nogui] */
	if (strcmp(b, "vmrun") == 0) {
		i = 1;
		if (i + 1 < n && strcmp(argv->sv_v[i], "-T") == 0) {
			sc->sc_vmrun_type = argv->sv_v[i + 1];
			if (strcmp(sc->sc_vmrun_type, "fusion") != 0 &&
			    strcmp(sc->sc_vmrun_type, "ws") != 0 &&
			    strcmp(sc->sc_vmrun_type, "player") != 0) {
				memset(sc, 0, sizeof(*sc));
				return 0;
			}
			i += 2;
		}
		if (i + 1 < n && strcmp(argv->sv_v[i], "start") == 0 &&
		    (i + 2 == n || (i + 3 == n && (strcmp(argv->sv_v[i + 2],
		    "nogui") == 0 || strcmp(argv->sv_v[i + 2], "gui") ==
		    0)))) {
			sc->sc_kind = SC_VMRUN;
			sc->sc_target = argv->sv_v[i + 1];
			sc->sc_tool = argv->sv_v[0];
			return 1;
		}
		return 0;
	}
	/* VBoxManage startvm NAME [--type headless] */
	if (strcmp(b, "VBoxManage") == 0 || strcmp(b, "vboxmanage") == 0) {
		if (n >= 3 && strcmp(argv->sv_v[1], "startvm") == 0 &&
		    (n == 3 || (n == 5 && strcmp(argv->sv_v[3], "--type") ==
		    0))) {
			sc->sc_kind = SC_VIRTUALBOX;
			sc->sc_target = argv->sv_v[2];
			sc->sc_tool = argv->sv_v[0];
			return 1;
		}
		return 0;
	}
	/* VBoxHeadless --startvm NAME (or -s, -startvm): VBoxManage is
	 * beside it; the caller finds it. */
	if (strcmp(b, "VBoxHeadless") == 0) {
		if (n == 3 && (strcmp(argv->sv_v[1], "--startvm") == 0 ||
		    strcmp(argv->sv_v[1], "-startvm") == 0 ||
		    strcmp(argv->sv_v[1], "-s") == 0)) {
			sc->sc_kind = SC_VIRTUALBOX;
			sc->sc_target = argv->sv_v[2];
			return 1;
		}
		return 0;
	}
	/* virsh [-c URI] start DOMAIN */
	if (strcmp(b, "virsh") == 0) {
		if (n >= 3 && strcmp(argv->sv_v[n - 2], "start") == 0 &&
		    virsh_uri(argv, n - 2, &sc->sc_connect) == 0) {
			sc->sc_kind = SC_LIBVIRT;
			sc->sc_target = argv->sv_v[n - 1];
			sc->sc_tool = argv->sv_v[0];
			return 1;
		}
		memset(sc, 0, sizeof(*sc));
		return 0;
	}
	return 0;
}

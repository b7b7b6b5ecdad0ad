/*
 * check_drivers.c: the pure side of issue 12. What a status command's
 * answer means under a status map (the words of virsh, vmrun, VBoxManage
 * and QEMU's monitor), the rules a map may hold, what each hypervisor
 * shortcut expands to, which launchd command lines are a hypervisor's own
 * start, and how a detached VM's liveness is said.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

/* A map from a NULL-terminated list of rules. */
static void
mapof(struct strv *sv, const char *const *rules)
{
	size_t i;

	memset(sv, 0, sizeof(*sv));
	for (i = 0; rules[i] != NULL; i++)
		ck_assert_int_eq(strv_push(sv, rules[i]), 0);
}

static enum vstatus
says(const struct strv *map, int code, const char *out)
{
	char what[256];

	return status_decide(map, code, out, strlen(out), what, sizeof(what));
}

/* The expansion of sc into a fresh definition called name. */
static void
expand(const struct shortcut *sc, const char *name, struct vm_def *vd)
{
	char why[256];

	vm_def_init(vd);
	snprintf(vd->vd_name, sizeof(vd->vd_name), "%s", name);
	ck_assert_msg(shortcut_expand(sc, vd, why, sizeof(why)) == 0, "%s",
	    why);
}

/* argv joined with single blanks, for comparing. */
static const char *
joined(const struct strv *sv)
{
	static char buf[4096];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sv->sv_n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    i ? " " : "", sv->sv_v[i]);
	return buf;
}

START_TEST(status_empty_map_is_the_exit_code)
{
	struct strv none = { NULL, 0 };

	ck_assert_int_eq(says(&none, 0, "whatever"), VS_RUNNING);
	ck_assert_int_eq(says(&none, 3, ""), VS_STOPPED);
	ck_assert_int_eq(says(&none, -1, ""), VS_UNKNOWN);	/* timed out */
}
END_TEST

START_TEST(status_rules_first_match_wins)
{
	static const char *const rules[] = { "crashed=shut off (crashed)",
	    "stopped=shut off*", "running=running*", "crashed=exit:7", NULL };
	struct strv map;
	char what[64];

	mapof(&map, rules);
	ck_assert_int_eq(says(&map, 0, "shut off (crashed)\n"), VS_CRASHED);
	ck_assert_int_eq(says(&map, 0, "shut off (destroyed)\n"), VS_STOPPED);
	ck_assert_int_eq(says(&map, 0, "running (booted)\r\n"), VS_RUNNING);
	/* Output rules only for a command that exited 0. */
	ck_assert_int_eq(says(&map, 1, "running (booted)\n"), VS_UNKNOWN);
	ck_assert_int_eq(says(&map, 7, "error: no domain\n"), VS_CRASHED);
	/* Nothing matched: nothing concluded. */
	ck_assert_int_eq(says(&map, 0, "in a state never seen\n"),
	    VS_UNKNOWN);
	ck_assert_int_eq(status_decide(&map, 0, "x\nshut off (crashed)\n",
	    21, what, sizeof(what)), VS_CRASHED);
	ck_assert_str_eq(what, "shut off (crashed)");
	strv_clear(&map);
}
END_TEST

START_TEST(status_rule_check_refuses)
{
	const char *why;

	ck_assert_int_eq(status_rule_check("running=running*", &why), 0);
	ck_assert_int_eq(status_rule_check("crashed=exit:255", &why), 0);
	ck_assert_int_eq(status_rule_check("running", &why), -1);
	ck_assert_int_eq(status_rule_check("unknown=x", &why), -1);
	ck_assert_int_eq(status_rule_check("up=x", &why), -1);
	ck_assert_int_eq(status_rule_check("running=", &why), -1);
	ck_assert_int_eq(status_rule_check("stopped=exit:256", &why), -1);
	ck_assert_int_eq(status_rule_check("stopped=exit:x", &why), -1);
	/* A pattern may hold '=': only the first one splits. */
	ck_assert_int_eq(status_rule_check("running=VMState=\"running\"",
	    &why), 0);
}
END_TEST

START_TEST(shortcut_libvirt)
{
	struct shortcut sc = { SC_LIBVIRT, "web", "/usr/bin/virsh",
	    "qemu:///system", NULL, "/run/libvirt/qemu", NULL };
	struct vm_def vd;

	expand(&sc, "web", &vd);
	ck_assert_int_eq(vd.vd_driver, DRV_DETACHED);
	ck_assert_str_eq(joined(&vd.vd_argv),
	    "/usr/bin/virsh -c qemu:///system start web");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_STATUS]),
	    "/usr/bin/virsh -c qemu:///system domstate --reason web");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_STOP]),
	    "/usr/bin/virsh -c qemu:///system shutdown web");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_KILL]),
	    "/usr/bin/virsh -c qemu:///system destroy web");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_SUSPEND]),
	    "/usr/bin/virsh -c qemu:///system managedsave web");
	ck_assert_uint_eq(vd.vd_cmd[CMD_RESUME].sv_n, 0);
	ck_assert_str_eq(vd.vd_pid_file, "/run/libvirt/qemu/web.pid");
	/* What virsh domstate --reason says, as the issue lists it. */
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "running (booted)\n\n"),
	    VS_RUNNING);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "running (restored)\n"),
	    VS_RUNNING);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "shut off (saved)\n"),
	    VS_SUSPENDED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "shut off (crashed)\n"),
	    VS_CRASHED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0,
	    "shut off (destroyed)\n"), VS_STOPPED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0,
	    "shut off (shutdown)\n"), VS_STOPPED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "crashed (panicked)\n"),
	    VS_CRASHED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "paused (user)\n"),
	    VS_RUNNING);
	ck_assert_int_eq(says(&vd.vd_status_map, 1,
	    "error: failed to get domain 'web'\n"), VS_UNKNOWN);
	vm_def_free(&vd);
}
END_TEST

START_TEST(shortcut_vmrun)
{
	struct shortcut sc = { SC_VMRUN, "/vm/My [1].vmx", "/usr/bin/vmrun",
	    NULL, "ws", NULL, NULL };
	struct vm_def vd;

	expand(&sc, "x", &vd);
	ck_assert_int_eq(vd.vd_driver, DRV_DETACHED);
	ck_assert_str_eq(joined(&vd.vd_argv),
	    "/usr/bin/vmrun -T ws start /vm/My [1].vmx nogui");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_STATUS]),
	    "/usr/bin/vmrun -T ws list");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_STOP]),
	    "/usr/bin/vmrun -T ws stop /vm/My [1].vmx soft");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_KILL]),
	    "/usr/bin/vmrun -T ws stop /vm/My [1].vmx hard");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_SUSPEND]),
	    "/usr/bin/vmrun -T ws suspend /vm/My [1].vmx soft");
	ck_assert_ptr_null(vd.vd_pid_file);
	/* The exact path as a line; its glob characters are escaped. */
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "Total running VMs: 2\n"
	    "/vm/other.vmx\n/vm/My [1].vmx\n"), VS_RUNNING);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "Total running VMs: 1\n"
	    "/vm/My 1.vmx\n"), VS_STOPPED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "Total running VMs: 0\n"),
	    VS_STOPPED);
	ck_assert_int_eq(says(&vd.vd_status_map, 255, "Error: ...\n"),
	    VS_UNKNOWN);
	vm_def_free(&vd);
}
END_TEST

START_TEST(shortcut_vmware_is_exec)
{
	struct shortcut sc = { SC_VMWARE, "/vm/T.vmx",
	    "/usr/lib/vmware/bin/vmware-vmx", NULL, NULL, NULL, NULL };
	struct vm_def vd;

	expand(&sc, "t", &vd);
	ck_assert_int_eq(vd.vd_driver, DRV_EXEC);
	ck_assert_str_eq(joined(&vd.vd_argv),
	    "/usr/lib/vmware/bin/vmware-vmx -x /vm/T.vmx");
	ck_assert_int_eq(vd.vd_stop_signal, SIGTERM);
	ck_assert_int_eq(vd.vd_suspend_signal, SIGHUP);
	vm_def_free(&vd);
}
END_TEST

START_TEST(shortcut_virtualbox)
{
	struct shortcut sc = { SC_VIRTUALBOX, "My VM", "/usr/bin/VBoxManage",
	    NULL, NULL, NULL, NULL };
	struct vm_def vd;

	expand(&sc, "v", &vd);
	ck_assert_str_eq(joined(&vd.vd_argv),
	    "/usr/bin/VBoxManage startvm My VM --type headless");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_STATUS]),
	    "/usr/bin/VBoxManage showvminfo My VM --machinereadable");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_STOP]),
	    "/usr/bin/VBoxManage controlvm My VM acpipowerbutton");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_KILL]),
	    "/usr/bin/VBoxManage controlvm My VM poweroff");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_SUSPEND]),
	    "/usr/bin/VBoxManage controlvm My VM savestate");
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "name=\"My VM\"\n"
	    "VMState=\"running\"\nVMStateChangeTime=\"x\"\n"), VS_RUNNING);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "VMState=\"saved\"\n"),
	    VS_SUSPENDED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "VMState=\"aborted\"\n"),
	    VS_CRASHED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0,
	    "VMState=\"poweroff\"\n"), VS_STOPPED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0,
	    "VMState=\"starting\"\n"), VS_RUNNING);
	ck_assert_int_eq(says(&vd.vd_status_map, 1, "VBoxManage: error: "
	    "Could not find a registered machine named 'My VM'\n"),
	    VS_UNKNOWN);
	vm_def_free(&vd);
}
END_TEST

START_TEST(shortcut_qemu)
{
	struct shortcut sc = { SC_QEMU, NULL, "/usr/bin/qemu-system-x86_64",
	    NULL, NULL, NULL, "/var/lib/vmsched/run" };
	struct vm_def vd;
	char why[256];

	vm_def_init(&vd);
	snprintf(vd.vd_name, sizeof(vd.vd_name), "web");
	strv_push(&vd.vd_argv, "qemu-system-x86_64");
	strv_push(&vd.vd_argv, "-m");
	strv_push(&vd.vd_argv, "64");
	ck_assert_int_eq(shortcut_expand(&sc, &vd, why, sizeof(why)), 0);
	ck_assert_str_eq(joined(&vd.vd_argv), "/usr/bin/qemu-system-x86_64 "
	    "-m 64 -pidfile /var/lib/vmsched/run/web.pid -daemonize -qmp "
	    "unix:/var/lib/vmsched/run/web.qmp,server=on,wait=off");
	ck_assert_str_eq(vd.vd_pid_file, "/var/lib/vmsched/run/web.pid");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_STOP]),
	    "vmsched qmp /var/lib/vmsched/run/web.qmp system_powerdown");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_SUSPEND]),
	    "vmsched qmp /var/lib/vmsched/run/web.qmp stop");
	ck_assert_str_eq(joined(&vd.vd_cmd[CMD_RESUME]),
	    "vmsched qmp /var/lib/vmsched/run/web.qmp cont");
	ck_assert_uint_eq(vd.vd_cmd[CMD_KILL].sv_n, 0);	/* TERM, KILL */
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "paused\n"),
	    VS_SUSPENDED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "running\n"), VS_RUNNING);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "shutdown\n"),
	    VS_STOPPED);
	ck_assert_int_eq(says(&vd.vd_status_map, 0, "guest-panicked\n"),
	    VS_CRASHED);
	ck_assert_int_eq(says(&vd.vd_status_map, 69, ""), VS_UNKNOWN);
	vm_def_free(&vd);

	/* Its own -pidfile and -daemonize are kept. */
	vm_def_init(&vd);
	snprintf(vd.vd_name, sizeof(vd.vd_name), "db");
	strv_push(&vd.vd_argv, "/opt/qemu-system-aarch64");
	strv_push(&vd.vd_argv, "-daemonize");
	strv_push(&vd.vd_argv, "-pidfile");
	strv_push(&vd.vd_argv, "/srv/db.pid");
	sc.sc_tool = NULL;
	ck_assert_int_eq(shortcut_expand(&sc, &vd, why, sizeof(why)), 0);
	ck_assert_str_eq(joined(&vd.vd_argv), "/opt/qemu-system-aarch64 "
	    "-daemonize -pidfile /srv/db.pid -qmp "
	    "unix:/var/lib/vmsched/run/db.qmp,server=on,wait=off");
	ck_assert_str_eq(vd.vd_pid_file, "/srv/db.pid");
	vm_def_free(&vd);

	/* Not QEMU; a socket path too long for sun_path. */
	vm_def_init(&vd);
	strv_push(&vd.vd_argv, "/bin/sleep");
	ck_assert_int_eq(shortcut_expand(&sc, &vd, why, sizeof(why)), -1);
	vm_def_free(&vd);
	vm_def_init(&vd);
	snprintf(vd.vd_name, sizeof(vd.vd_name), "x");
	strv_push(&vd.vd_argv, "qemu-system-x86_64");
	sc.sc_run_dir = "/a/very/long/directory/name/that/goes/on/and/on/and/"
	    "on/until/a/unix/socket/path/no/longer/fits/in/sun_path";
	ck_assert_int_eq(shortcut_expand(&sc, &vd, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "--run-dir"));
	vm_def_free(&vd);
}
END_TEST

/* Whether sc, over a definition with the command words, is refused. */
static int
refused(const struct shortcut *sc, const char *const *words, char *why,
    size_t len)
{
	struct vm_def vd;
	int rc;

	vm_def_init(&vd);
	snprintf(vd.vd_name, sizeof(vd.vd_name), "vm");
	if (words != NULL)
		mapof(&vd.vd_argv, words);
	why[0] = '\0';
	rc = shortcut_expand(sc, &vd, why, len);
	vm_def_free(&vd);
	return rc == -1 && why[0] != '\0';
}

/* fuzz_driver: a launchd job's domain "../x" put libvirt's pid file
 * outside libvirt's directory. */
START_TEST(regress_libvirt_domain_has_no_slash)
{
	struct shortcut sc = { SC_LIBVIRT, "../../../tmp/web",
	    "/usr/bin/virsh", "qemu:///system", NULL, "/run/libvirt/qemu",
	    NULL };
	char why[256];

	ck_assert(refused(&sc, NULL, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "'/'"));
}
END_TEST

/* An imported job's domain, VM name or URI that starts with '-' went on
 * virsh's or VBoxManage's command line as an option. */
START_TEST(regress_imported_target_is_not_an_option)
{
	struct shortcut vb = { SC_VIRTUALBOX, "--help", "/usr/bin/VBoxManage",
	    NULL, NULL, NULL, NULL };
	struct shortcut lv = { SC_LIBVIRT, "web", "/usr/bin/virsh",
	    "-r", NULL, "/run/libvirt/qemu", NULL };
	char why[256];

	ck_assert(refused(&vb, NULL, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "'-'"));
	ck_assert(refused(&lv, NULL, why, sizeof(why)));
	lv.sc_connect = "qemu:///system";
	lv.sc_target = "-web";
	ck_assert(refused(&lv, NULL, why, sizeof(why)));
}
END_TEST

/* fuzz_driver: a launchd job's .vmx that vmrun list cannot print as a
 * line of its own made a map that never says running (or an exit rule). */
START_TEST(regress_vmrun_vmx_is_a_line_of_vmrun_list)
{
	static const char *const bad[] = { "", "T.vmx", "exit:1",
	    "/vm/a\nb.vmx", "/vm/T.vmx\r", NULL };
	struct shortcut sc = { SC_VMRUN, NULL, "/usr/bin/vmrun", NULL, "ws",
	    NULL, NULL };
	char why[256], path[STATUS_LINE_MAX + 1];
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		sc.sc_target = bad[i];
		ck_assert_msg(refused(&sc, NULL, why, sizeof(why)), "%s",
		    bad[i]);
	}
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	sc.sc_target = path;
	ck_assert(refused(&sc, NULL, why, sizeof(why)));
}
END_TEST

/* fuzz_driver: with two -pidfile the definition watched the first, QEMU
 * wrote the last; a last -pidfile without a path took ours as its. */
START_TEST(regress_qemu_pidfile_as_qemu_reads_it)
{
	static const char *const two[] = { "qemu-system-x86_64", "-pidfile",
	    "/a.pid", "--pidfile", "/b.pid", "--daemonize", NULL };
	static const char *const bare[] = { "qemu-system-x86_64", "-m",
	    "64", "-pidfile", NULL };
	struct shortcut sc = { SC_QEMU, NULL, NULL, NULL, NULL, NULL,
	    "/run/vmsched" };
	struct vm_def vd;
	char why[256];

	vm_def_init(&vd);
	snprintf(vd.vd_name, sizeof(vd.vd_name), "vm");
	mapof(&vd.vd_argv, two);
	ck_assert_int_eq(shortcut_expand(&sc, &vd, why, sizeof(why)), 0);
	ck_assert_str_eq(vd.vd_pid_file, "/b.pid");
	ck_assert_str_eq(joined(&vd.vd_argv), "qemu-system-x86_64 -pidfile "
	    "/a.pid --pidfile /b.pid --daemonize -qmp "
	    "unix:/run/vmsched/vm.qmp,server=on,wait=off");
	vm_def_free(&vd);
	ck_assert(refused(&sc, bare, why, sizeof(why)));
}
END_TEST

/* Whether argv (NULL-terminated) is recognized as kind k, target t. */
static void
recognized(const char *const *words, enum shortcut_kind k, const char *t)
{
	struct strv argv;
	struct shortcut sc;

	mapof(&argv, words);
	ck_assert_int_eq(shortcut_recognize(&argv, &sc), k != SC_NONE);
	ck_assert_int_eq(sc.sc_kind, k);
	if (t != NULL)
		ck_assert_str_eq(sc.sc_target, t);
	strv_clear(&argv);
}

START_TEST(shortcut_recognize_launchd_commands)
{
	static const char *const vmx[] = { "/Applications/VMware Fusion.app/"
	    "Contents/Library/vmware-vmx", "-x", "/vm/T.vmx", NULL };
	static const char *const vmrun[] = { "vmrun", "-T", "fusion",
	    "start", "/vm/T.vmx", "nogui", NULL };
	static const char *const vmrun2[] = { "/usr/bin/vmrun", "start",
	    "/vm/T.vmx", NULL };
	static const char *const vbox[] = { "VBoxManage", "startvm", "My VM",
	    "--type", "headless", NULL };
	static const char *const vboxh[] = { "/usr/bin/VBoxHeadless",
	    "--startvm", "My VM", NULL };
	static const char *const virsh[] = { "virsh", "-c", "qemu:///system",
	    "start", "web", NULL };
	static const char *const virsh2[] = { "/usr/bin/virsh",
	    "--connect=qemu:///system", "start", "web", NULL };
	static const char *const no1[] = { "vmrun", "stop", "/vm/T.vmx",
	    NULL };
	static const char *const no2[] = { "virsh", "--readonly", "start",
	    "web", NULL };
	static const char *const no3[] = { "vmware-vmx", "-x", "/vm/T.vmx",
	    "-s", "x=y", NULL };
	static const char *const no4[] = { "/bin/sleep", "100", NULL };

	recognized(vmx, SC_VMWARE, "/vm/T.vmx");
	recognized(vmrun, SC_VMRUN, "/vm/T.vmx");
	recognized(vmrun2, SC_VMRUN, "/vm/T.vmx");
	recognized(vbox, SC_VIRTUALBOX, "My VM");
	recognized(vboxh, SC_VIRTUALBOX, "My VM");
	recognized(virsh, SC_LIBVIRT, "web");
	recognized(virsh2, SC_LIBVIRT, "web");
	recognized(no1, SC_NONE, NULL);
	recognized(no2, SC_NONE, NULL);
	recognized(no3, SC_NONE, NULL);
	recognized(no4, SC_NONE, NULL);
}
END_TEST

START_TEST(liveness_and_checks)
{
	struct vm_def vd;
	const char *why;
	char buf[256];

	ck_assert_ptr_null(vm_liveness(DRV_EXEC, NULL, 0, 5000, buf,
	    sizeof(buf)));
	ck_assert_str_eq(vm_liveness(DRV_DETACHED, "/p.pid", 1, 5000, buf,
	    sizeof(buf)), "pid file /p.pid, status every 5s");
	ck_assert_str_eq(vm_liveness(DRV_DETACHED, NULL, 1, 500, buf,
	    sizeof(buf)), "status every 500ms");
	vm_def_init(&vd);
	ck_assert_int_eq(vm_def_check(&vd, &why), 0);
	vd.vd_driver = DRV_DETACHED;
	ck_assert_int_eq(vm_def_check(&vd, &why), -1);	/* nothing to watch */
	strv_push(&vd.vd_status_map, "running=x");
	vd.vd_pid_file = strdup("/p.pid");
	ck_assert_int_eq(vm_def_check(&vd, &why), -1);	/* map, no command */
	strv_push(&vd.vd_cmd[CMD_STATUS], "/bin/true");
	ck_assert_int_eq(vm_def_check(&vd, &why), 0);
	vm_def_free(&vd);
}
END_TEST

static Suite *
drivers_suite(void)
{
	Suite *s = suite_create("drivers");
	TCase *tc = tcase_create("status");
	TCase *ts = tcase_create("shortcuts");

	tcase_add_test(tc, status_empty_map_is_the_exit_code);
	tcase_add_test(tc, status_rules_first_match_wins);
	tcase_add_test(tc, status_rule_check_refuses);
	tcase_add_test(tc, liveness_and_checks);
	suite_add_tcase(s, tc);
	tcase_add_test(ts, shortcut_libvirt);
	tcase_add_test(ts, shortcut_vmrun);
	tcase_add_test(ts, shortcut_vmware_is_exec);
	tcase_add_test(ts, shortcut_virtualbox);
	tcase_add_test(ts, shortcut_qemu);
	tcase_add_test(ts, shortcut_recognize_launchd_commands);
	tcase_add_test(ts, regress_libvirt_domain_has_no_slash);
	tcase_add_test(ts, regress_imported_target_is_not_an_option);
	tcase_add_test(ts, regress_vmrun_vmx_is_a_line_of_vmrun_list);
	tcase_add_test(ts, regress_qemu_pidfile_as_qemu_reads_it);
	suite_add_tcase(s, ts);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(drivers_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

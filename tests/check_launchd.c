/*
 * check_launchd.c: launchd plists to definitions and back (sched/launchd.c).
 * Every key's mapping is checked from XML and, in the same test run a
 * second time, from a binary plist the test makes with libplist's
 * plist_to_bin, so both readers are covered. The two seed plists (a VM kept
 * alive, a VM run once with ExitTimeOut 0) come first; then each key, the
 * warnings for keys with no counterpart, the errors, and the exported
 * LaunchDaemon plist read back. Pure: no files, no database.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <plist/plist.h>

#include "sched.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" " \
	"\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n" \
	"<plist version=\"1.0\">\n"
#define TAIL "</plist>\n"
/* A job with a label and a program, to which a test adds keys. */
#define JOB(keys) HEAD "<dict><key>Label</key><string>vm1</string>" \
	"<key>ProgramArguments</key><array><string>/usr/bin/vm</string>" \
	"</array><key>RunAtLoad</key><true/>" keys "</dict>" TAIL

#define SEED_KEEPALIVE HEAD \
	"<dict>\n" \
	"	<key>Label</key>\n" \
	"	<string>com.example.vmware.Test</string>\n" \
	"	<key>ProgramArguments</key>\n" \
	"	<array>\n" \
	"		<string>/Applications/VMware Fusion.app/Contents/" \
	"Library/vmware-vmx</string>\n" \
	"		<string>-x</string>\n" \
	"		<string>/Users/me/VMs/Test.vmx</string>\n" \
	"	</array>\n" \
	"	<key>RunAtLoad</key>\n" \
	"	<true/>\n" \
	"	<key>KeepAlive</key>\n" \
	"	<true/>\n" \
	"</dict>\n" TAIL

#define SEED_ONCE HEAD \
	"<dict>\n" \
	"	<key>Label</key>\n" \
	"	<string>com.example.vmware.Test.once</string>\n" \
	"	<key>ProgramArguments</key>\n" \
	"	<array>\n" \
	"		<string>/Applications/VMware Fusion.app/Contents/" \
	"Library/vmware-vmx</string>\n" \
	"		<string>-x</string>\n" \
	"		<string>/Users/me/VMs/Test.vmx</string>\n" \
	"	</array>\n" \
	"	<key>RunAtLoad</key>\n" \
	"	<true/>\n" \
	"	<key>LaunchOnlyOnce</key>\n" \
	"	<true/>\n" \
	"	<key>ExitTimeOut</key>\n" \
	"	<integer>0</integer>\n" \
	"</dict>\n" TAIL

/* One mapping's outcome. */
struct result {
	struct vm_def	r_vd;
	struct strv	r_warn;
	char		r_err[512];
	int		r_rc;
};

/*
 * Map xml, as it is (binary 0) or turned into a binary plist first
 * (binary 1), into r. The caller frees r with done().
 */
static void
map(const char *xml, int binary, struct result *r)
{
	plist_t p = NULL;
	char *bin = NULL;
	uint32_t len = 0;

	memset(r, 0, sizeof(*r));
	vm_def_init(&r->r_vd);
	if (!binary) {
		r->r_rc = launchd_to_def(xml, strlen(xml), &r->r_vd,
		    &r->r_warn, r->r_err, sizeof(r->r_err));
		return;
	}
	plist_from_xml(xml, (uint32_t)strlen(xml), &p);
	ck_assert_msg(p != NULL, "test plist does not parse: %s", xml);
	plist_to_bin(p, &bin, &len);
	plist_free(p);
	ck_assert(bin != NULL && len > 8);
	ck_assert(memcmp(bin, "bplist00", 8) == 0);
	r->r_rc = launchd_to_def(bin, len, &r->r_vd, &r->r_warn, r->r_err,
	    sizeof(r->r_err));
	plist_to_bin_free(bin);
}

static void
done(struct result *r)
{
	vm_def_free(&r->r_vd);
	strv_clear(&r->r_warn);
}

/* The one warning that holds all of the words; fails if none or two. */
static const char *
warned(const struct result *r, const char *w1, const char *w2)
{
	const char *found = NULL;
	size_t i;

	for (i = 0; i < r->r_warn.sv_n; i++) {
		if (strstr(r->r_warn.sv_v[i], w1) == NULL ||
		    (w2 != NULL && strstr(r->r_warn.sv_v[i], w2) == NULL))
			continue;
		ck_assert_msg(found == NULL, "two warnings with '%s': %s / %s",
		    w1, found, r->r_warn.sv_v[i]);
		found = r->r_warn.sv_v[i];
	}
	ck_assert_msg(found != NULL, "no warning with '%s'%s%s (%zu "
	    "warnings%s%s)", w1, w2 ? " and " : "", w2 ? w2 : "",
	    r->r_warn.sv_n, r->r_warn.sv_n ? ", first: " : "",
	    r->r_warn.sv_n ? r->r_warn.sv_v[0] : "");
	return found;
}

/* Map a job that must be imported, with no more warnings than nwarn. */
static void
ok(const char *xml, int binary, struct result *r, size_t nwarn)
{
	map(xml, binary, r);
	ck_assert_msg(r->r_rc == 0, "refused: %s", r->r_err);
	ck_assert_msg(r->r_warn.sv_n == nwarn, "%zu warnings, want %zu; "
	    "first: %s", r->r_warn.sv_n, nwarn,
	    r->r_warn.sv_n ? r->r_warn.sv_v[0] : "-");
}

/* Map a job that must be refused, for a reason that says why. */
static void
refused(const char *xml, int binary, const char *why)
{
	struct result r;

	map(xml, binary, &r);
	ck_assert_msg(r.r_rc == -1, "accepted: %s", xml);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(r.r_err, why) != NULL, "reason '%s' lacks '%s'",
	    r.r_err, why);
	done(&r);
}

START_TEST(seed_keepalive)
{
	struct result r;

	ok(SEED_KEEPALIVE, _i, &r, 0);
	ck_assert_str_eq(r.r_vd.vd_name, "com.example.vmware.Test");
	ck_assert_uint_eq(r.r_vd.vd_argv.sv_n, 3);
	ck_assert_str_eq(r.r_vd.vd_argv.sv_v[0],
	    "/Applications/VMware Fusion.app/Contents/Library/vmware-vmx");
	ck_assert_str_eq(r.r_vd.vd_argv.sv_v[1], "-x");
	ck_assert_str_eq(r.r_vd.vd_argv.sv_v[2], "/Users/me/VMs/Test.vmx");
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ALWAYS);
	ck_assert_int_eq(r.r_vd.vd_enabled, 1);
	ck_assert_int_eq(r.r_vd.vd_stop_timeout_ms, 60000);
	ck_assert_ptr_null(r.r_vd.vd_user);
	ck_assert_ptr_null(r.r_vd.vd_log_path);
	ck_assert_uint_eq(r.r_vd.vd_ngates, 0);
	done(&r);
}
END_TEST

START_TEST(seed_once)
{
	struct result r;

	ok(SEED_ONCE, _i, &r, 0);
	ck_assert_str_eq(r.r_vd.vd_name, "com.example.vmware.Test.once");
	ck_assert_uint_eq(r.r_vd.vd_argv.sv_n, 3);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_NEVER);
	ck_assert_int_eq(r.r_vd.vd_enabled, 1);
	/* launchd's 0 is "never SIGKILL", and so is ours: not "at once". */
	ck_assert_int_eq(r.r_vd.vd_stop_timeout_ms, 0);
	done(&r);
}
END_TEST

START_TEST(name_rule)
{
	static const struct {
		const char	*label;
		const char	*name;
		int		 rc;
	} t[] = {
		{ "vm1", "vm1", 0 },
		{ "com.example.vm", "com.example.vm", 0 },
		{ "com.example.vm/1", "com.example.vm-1", 1 },
		{ "a b  c", "a-b-c", 1 },
		{ "a/:b", "a-b", 1 },
		{ ".hidden", "hidden", 1 },
		{ "--x", "x", 1 },
		{ "/.-y", "y", 1 },
		{ "_ok", "_ok", 0 },
		{ "caf\xc3\xa9.vm", "caf-.vm", 1 },
		{ "\xe6\x97\xa5\xe6\x9c\xac", NULL, -1 },
		{ "", NULL, -1 },
		{ "...", NULL, -1 },
	};
	char name[VM_NAME_MAX + 1], long_label[200];
	const char *why;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rc = launchd_name(t[i].label, name, sizeof(name));
		ck_assert_msg(rc == t[i].rc, "%s: %d, want %d", t[i].label, rc,
		    t[i].rc);
		if (rc == -1)
			continue;
		ck_assert_str_eq(name, t[i].name);
		ck_assert_msg(value_name(name, &why) == 0, "%s: %s", name, why);
	}
	memset(long_label, 'a', sizeof(long_label) - 1);
	long_label[sizeof(long_label) - 1] = '\0';
	ck_assert_int_eq(launchd_name(long_label, name, sizeof(name)), 1);
	ck_assert_uint_eq(strlen(name), VM_NAME_MAX);
	ck_assert_int_eq(value_name(name, &why), 0);
	/* Exactly 64 is a name already. */
	long_label[VM_NAME_MAX] = '\0';
	ck_assert_int_eq(launchd_name(long_label, name, sizeof(name)), 0);
}
END_TEST

START_TEST(label_reported)
{
	struct result r;

	ok(HEAD "<dict><key>Label</key><string>com.example.vm/1</string>"
	    "<key>Program</key><string>/bin/vm</string>"
	    "<key>KeepAlive</key><true/></dict>" TAIL, _i, &r, 1);
	ck_assert_str_eq(r.r_vd.vd_name, "com.example.vm-1");
	warned(&r, "'com.example.vm/1'", "imported as com.example.vm-1");
	done(&r);
}
END_TEST

START_TEST(program_keys)
{
	struct result r;

	/* Program alone is argv[0] and the whole command. */
	ok(HEAD "<dict><key>Label</key><string>p</string><key>Program</key>"
	    "<string>/bin/vm</string><key>KeepAlive</key><true/></dict>" TAIL,
	    _i, &r, 0);
	ck_assert_uint_eq(r.r_vd.vd_argv.sv_n, 1);
	ck_assert_str_eq(r.r_vd.vd_argv.sv_v[0], "/bin/vm");
	done(&r);

	/* Program with ProgramArguments: launchd's argv[0] is the array's. */
	ok(HEAD "<dict><key>Label</key><string>p</string><key>Program</key>"
	    "<string>/bin/vm</string><key>ProgramArguments</key><array>"
	    "<string>/bin/vm</string><string>-a</string><string>b c</string>"
	    "</array><key>KeepAlive</key><true/></dict>" TAIL, _i, &r, 0);
	ck_assert_uint_eq(r.r_vd.vd_argv.sv_n, 3);
	ck_assert_str_eq(r.r_vd.vd_argv.sv_v[0], "/bin/vm");
	ck_assert_str_eq(r.r_vd.vd_argv.sv_v[2], "b c");
	done(&r);

	ok(HEAD "<dict><key>Label</key><string>p</string><key>Program</key>"
	    "<string>/bin/vm</string><key>ProgramArguments</key><array>"
	    "<string>vm-nick</string><string>-a</string></array>"
	    "<key>KeepAlive</key><true/></dict>" TAIL, _i, &r, 1);
	ck_assert_uint_eq(r.r_vd.vd_argv.sv_n, 2);
	ck_assert_str_eq(r.r_vd.vd_argv.sv_v[0], "/bin/vm");
	ck_assert_str_eq(r.r_vd.vd_argv.sv_v[1], "-a");
	warned(&r, "'vm-nick'", "Program '/bin/vm'");
	done(&r);

	/* A bare name depends on PATH: said so. */
	ok(HEAD "<dict><key>Label</key><string>p</string>"
	    "<key>ProgramArguments</key><array><string>qemu-system-x86_64"
	    "</string></array><key>KeepAlive</key><true/></dict>" TAIL, _i,
	    &r, 1);
	warned(&r, "qemu-system-x86_64", "full path");
	done(&r);
}
END_TEST

START_TEST(keepalive_true)
{
	struct result r;

	ok(HEAD "<dict><key>Label</key><string>k</string><key>Program</key>"
	    "<string>/bin/vm</string><key>KeepAlive</key><true/></dict>" TAIL,
	    _i, &r, 0);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ALWAYS);
	/* KeepAlive true starts it at load without RunAtLoad. */
	ck_assert_int_eq(r.r_vd.vd_enabled, 1);
	done(&r);
}
END_TEST

START_TEST(keepalive_false_runs_once)
{
	struct result r;

	ok(JOB("<key>KeepAlive</key><false/>"), _i, &r, 1);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_NEVER);
	ck_assert_int_eq(r.r_vd.vd_enabled, 1);
	warned(&r, "no KeepAlive", "--restart on-failure");
	done(&r);

	ok(JOB(""), _i, &r, 1);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_NEVER);
	done(&r);
}
END_TEST

START_TEST(keepalive_successful_exit)
{
	struct result r;

	/* No RunAtLoad: SuccessfulExit implies it. */
	ok(HEAD "<dict><key>Label</key><string>k</string><key>Program</key>"
	    "<string>/bin/vm</string><key>KeepAlive</key><dict>"
	    "<key>SuccessfulExit</key><false/></dict></dict>" TAIL, _i, &r, 0);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ON_FAILURE);
	ck_assert_int_eq(r.r_vd.vd_enabled, 1);
	done(&r);

	ok(JOB("<key>KeepAlive</key><dict><key>SuccessfulExit</key><true/>"
	    "</dict>"), _i, &r, 1);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ALWAYS);
	warned(&r, "SuccessfulExit true", "--restart always");
	done(&r);
}
END_TEST

START_TEST(keepalive_crashed)
{
	struct result r;

	ok(JOB("<key>KeepAlive</key><dict><key>Crashed</key><true/></dict>"),
	    _i, &r, 1);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ON_FAILURE);
	ck_assert_int_eq(r.r_vd.vd_enabled, 1);
	warned(&r, "Crashed true", "on-failure");
	done(&r);

	/* Crashed alone does not start it at load. */
	ok(HEAD "<dict><key>Label</key><string>k</string><key>Program</key>"
	    "<string>/bin/vm</string><key>KeepAlive</key><dict>"
	    "<key>Crashed</key><true/></dict></dict>" TAIL, _i, &r, 2);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ON_FAILURE);
	ck_assert_int_eq(r.r_vd.vd_enabled, 0);
	warned(&r, "would not start it at load", "vmsched enable k");
	done(&r);

	/* Both: the strongest wins. */
	ok(JOB("<key>KeepAlive</key><dict><key>Crashed</key><true/>"
	    "<key>SuccessfulExit</key><false/></dict>"), _i, &r, 1);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ON_FAILURE);
	done(&r);
}
END_TEST

START_TEST(keepalive_pathstate)
{
	struct result r;

	ok(HEAD "<dict><key>Label</key><string>k</string><key>Program</key>"
	    "<string>/bin/vm</string><key>KeepAlive</key><dict>"
	    "<key>PathState</key><dict><key>/Volumes/VMs</key><true/></dict>"
	    "</dict></dict>" TAIL, _i, &r, 0);
	ck_assert_uint_eq(r.r_vd.vd_ngates, 1);
	ck_assert_int_eq(r.r_vd.vd_gates[0].g_kind, GATE_PATH);
	ck_assert_str_eq(r.r_vd.vd_gates[0].g_arg, "/Volumes/VMs");
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ALWAYS);
	ck_assert_int_eq(r.r_vd.vd_enabled, 1);
	done(&r);

	ok(JOB("<key>KeepAlive</key><dict><key>PathState</key><dict>"
	    "<key>/a</key><true/><key>/b</key><true/><key>/c</key><false/>"
	    "<key>rel</key><true/></dict></dict>"), _i, &r, 3);
	ck_assert_uint_eq(r.r_vd.vd_ngates, 2);
	warned(&r, "'/c' false", "not imported");
	warned(&r, "'rel'", "not a full path");
	warned(&r, "any of the 2 paths", NULL);
	done(&r);

	refused(JOB("<key>KeepAlive</key><dict><key>PathState</key><array/>"
	    "</dict>"), _i, "PathState: must be a dictionary");
	refused(JOB("<key>KeepAlive</key><dict><key>PathState</key><dict>"
	    "<key>/a</key><string>yes</string></dict></dict>"), _i,
	    "must be a boolean");
}
END_TEST

START_TEST(keepalive_other_conditions)
{
	struct result r;

	ok(JOB("<key>KeepAlive</key><dict><key>OtherJobEnabled</key><dict>"
	    "<key>com.x</key><true/></dict><key>NetworkState</key><true/>"
	    "<key>Bogus</key><true/></dict>"), _i, &r, 4);
	warned(&r, "OtherJobEnabled", "--after NAME");
	warned(&r, "NetworkState", "--wait-tcp");
	warned(&r, "KeepAlive Bogus", "unknown");
	warned(&r, "no KeepAlive", NULL);
	done(&r);
}
END_TEST

START_TEST(launch_only_once)
{
	struct result r;

	ok(JOB("<key>LaunchOnlyOnce</key><true/>"), _i, &r, 0);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_NEVER);
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>KeepAlive</key><true/>"),
	    _i, &r, 1);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_NEVER);
	warned(&r, "LaunchOnlyOnce", "once per boot");
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><false/><key>KeepAlive</key><true/>"),
	    _i, &r, 0);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ALWAYS);
	done(&r);
}
END_TEST

START_TEST(not_started_at_load)
{
	struct result r;

	ok(HEAD "<dict><key>Label</key><string>lazy</string><key>Program"
	    "</key><string>/bin/vm</string></dict>" TAIL, _i, &r, 2);
	ck_assert_int_eq(r.r_vd.vd_enabled, 0);
	warned(&r, "would not start it at load", "vmsched enable lazy");
	done(&r);

	ok(HEAD "<dict><key>Label</key><string>lazy</string><key>Program"
	    "</key><string>/bin/vm</string><key>RunAtLoad</key><false/>"
	    "<key>KeepAlive</key><false/></dict>" TAIL, _i, &r, 2);
	ck_assert_int_eq(r.r_vd.vd_enabled, 0);
	done(&r);

	/* Disabled true: left out of boot, as launchd leaves it. */
	ok(JOB("<key>KeepAlive</key><true/><key>Disabled</key><true/>"), _i,
	    &r, 0);
	ck_assert_int_eq(r.r_vd.vd_enabled, 0);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ALWAYS);
	done(&r);

	/* OnDemand false is the old KeepAlive true. */
	ok(HEAD "<dict><key>Label</key><string>old</string><key>Program"
	    "</key><string>/bin/vm</string><key>OnDemand</key><false/>"
	    "</dict>" TAIL, _i, &r, 1);
	ck_assert_int_eq(r.r_vd.vd_enabled, 1);
	ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ALWAYS);
	warned(&r, "OnDemand", "KeepAlive true");
	done(&r);
}
END_TEST

START_TEST(user_and_group)
{
	struct result r;

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>UserName</key>"
	    "<string>vmuser</string>"), _i, &r, 0);
	ck_assert_str_eq(r.r_vd.vd_user, "vmuser");
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>UserName</key>"
	    "<string>vmuser</string><key>GroupName</key><string>staff"
	    "</string>"), _i, &r, 1);
	ck_assert_str_eq(r.r_vd.vd_user, "vmuser");
	warned(&r, "GroupName staff", "only the user");
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>GroupName</key>"
	    "<string>staff</string>"), _i, &r, 1);
	ck_assert_ptr_null(r.r_vd.vd_user);
	warned(&r, "GroupName staff without UserName", "--user");
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>InitGroups</key>"
	    "<false/>"), _i, &r, 1);
	warned(&r, "InitGroups false", NULL);
	done(&r);

	refused(JOB("<key>UserName</key><integer>501</integer>"), _i,
	    "UserName: must be a string, not an integer");
	refused(JOB("<key>UserName</key><string></string>"), _i,
	    "UserName is empty");
}
END_TEST

START_TEST(cwd_and_env)
{
	struct result r;

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>WorkingDirectory</key>"
	    "<string>/Users/me/VMs</string><key>EnvironmentVariables</key>"
	    "<dict><key>PATH</key><string>/usr/bin:/bin</string>"
	    "<key>VM_MODE</key><string>a=b c</string><key>EMPTY</key>"
	    "<string></string></dict>"), _i, &r, 0);
	ck_assert_str_eq(r.r_vd.vd_cwd, "/Users/me/VMs");
	ck_assert_uint_eq(r.r_vd.vd_env.sv_n, 3);
	ck_assert_int_ge(strv_find_key(&r.r_vd.vd_env, "PATH=/usr/bin:/bin"),
	    0);
	ck_assert_str_eq(r.r_vd.vd_env.sv_v[strv_find_key(&r.r_vd.vd_env,
	    "VM_MODE")], "VM_MODE=a=b c");
	ck_assert_str_eq(r.r_vd.vd_env.sv_v[strv_find_key(&r.r_vd.vd_env,
	    "EMPTY")], "EMPTY=");
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>WorkingDirectory</key>"
	    "<string>VMs</string><key>EnvironmentVariables</key><dict>"
	    "<key>A=B</key><string>x</string></dict>"), _i, &r, 2);
	ck_assert_ptr_null(r.r_vd.vd_cwd);
	ck_assert_uint_eq(r.r_vd.vd_env.sv_n, 0);
	warned(&r, "WorkingDirectory 'VMs'", "not a full path");
	warned(&r, "'A=B'", "not a variable name");
	done(&r);

	refused(JOB("<key>EnvironmentVariables</key><array/>"), _i,
	    "EnvironmentVariables: must be a dictionary");
	refused(JOB("<key>EnvironmentVariables</key><dict><key>N</key>"
	    "<integer>1</integer></dict>"), _i,
	    "EnvironmentVariables N: must be a string");
	refused(JOB("<key>WorkingDirectory</key><true/>"), _i,
	    "WorkingDirectory: must be a string, not a boolean");
}
END_TEST

START_TEST(timeouts)
{
	struct result r;

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>ExitTimeOut</key>"
	    "<integer>45</integer><key>ThrottleInterval</key><integer>30"
	    "</integer>"), _i, &r, 0);
	ck_assert_int_eq(r.r_vd.vd_stop_timeout_ms, 45000);
	ck_assert_int_eq(r.r_vd.vd_backoff_initial_ms, 30000);
	ck_assert_int_eq(r.r_vd.vd_backoff_max_ms, 300000);
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>ExitTimeOut</key>"
	    "<integer>0</integer><key>ThrottleInterval</key><integer>0"
	    "</integer>"), _i, &r, 0);
	ck_assert_int_eq(r.r_vd.vd_stop_timeout_ms, 0);
	ck_assert_int_eq(r.r_vd.vd_backoff_initial_ms, 0);
	done(&r);

	/* A throttle longer than the backoff cap raises the cap. */
	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>ThrottleInterval</key>"
	    "<integer>600</integer>"), _i, &r, 1);
	ck_assert_int_eq(r.r_vd.vd_backoff_initial_ms, 600000);
	ck_assert_int_eq(r.r_vd.vd_backoff_max_ms, 600000);
	warned(&r, "ThrottleInterval 10m", "--backoff-max raised");
	done(&r);

	refused(JOB("<key>ExitTimeOut</key><integer>-1</integer>"), _i,
	    "ExitTimeOut: -1 is not a number of seconds");
	refused(JOB("<key>ExitTimeOut</key><integer>99999999</integer>"), _i,
	    "from 0 to a year");
	refused(JOB("<key>ExitTimeOut</key><string>20</string>"), _i,
	    "ExitTimeOut: must be an integer number of seconds, not a string");
	refused(JOB("<key>ThrottleInterval</key><real>1.5</real>"), _i,
	    "ThrottleInterval: must be an integer");
}
END_TEST

START_TEST(log_paths)
{
	struct result r;

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>StandardOutPath</key>"
	    "<string>/var/log/vm1.log</string><key>StandardErrorPath</key>"
	    "<string>/var/log/vm1.log</string>"), _i, &r, 0);
	ck_assert_str_eq(r.r_vd.vd_log_path, "/var/log/vm1.log");
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>StandardOutPath</key>"
	    "<string>/var/log/vm1.out</string>"), _i, &r, 0);
	ck_assert_str_eq(r.r_vd.vd_log_path, "/var/log/vm1.out");
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>StandardOutPath</key>"
	    "<string>/var/log/vm1.out</string><key>StandardErrorPath</key>"
	    "<string>/var/log/vm1.err</string>"), _i, &r, 1);
	ck_assert_str_eq(r.r_vd.vd_log_path, "/var/log/vm1.err");
	warned(&r, "differ", "one log file per VM");
	done(&r);

	ok(JOB("<key>LaunchOnlyOnce</key><true/><key>StandardErrorPath</key>"
	    "<string>vm1.err</string>"), _i, &r, 1);
	ck_assert_ptr_null(r.r_vd.vd_log_path);
	warned(&r, "StandardErrorPath 'vm1.err'", "not a full path");
	done(&r);
}
END_TEST

START_TEST(unmapped_keys)
{
	static const char *const keys[] = {
		"WatchPaths", "QueueDirectories", "StartInterval",
		"StartCalendarInterval", "Sockets", "Nice", "Umask",
		"SoftResourceLimits", "StandardInPath", "AbandonProcessGroup",
		"EnableGlobbing", "LimitLoadToSessionType", "MachServices",
		"TotallyMadeUp",
	};
	struct result r;
	size_t i;

	ok(JOB("<key>LaunchOnlyOnce</key><true/>"
	    "<key>WatchPaths</key><array><string>/etc/x</string></array>"
	    "<key>QueueDirectories</key><array/>"
	    "<key>StartInterval</key><integer>300</integer>"
	    "<key>StartCalendarInterval</key><dict><key>Hour</key>"
	    "<integer>3</integer></dict>"
	    "<key>Sockets</key><dict/>"
	    "<key>Nice</key><integer>5</integer>"
	    "<key>Umask</key><integer>18</integer>"
	    "<key>SoftResourceLimits</key><dict/>"
	    "<key>StandardInPath</key><string>/dev/null</string>"
	    "<key>AbandonProcessGroup</key><true/>"
	    "<key>EnableGlobbing</key><true/>"
	    "<key>LimitLoadToSessionType</key><string>Aqua</string>"
	    "<key>MachServices</key><dict/>"
	    "<key>TotallyMadeUp</key><string>x</string>"), _i, &r,
	    sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		warned(&r, keys[i], "not imported");
	/* Each says what the operator could do instead. */
	warned(&r, "WatchPaths", "--wait-path");
	warned(&r, "StartCalendarInterval", "cron");
	warned(&r, "Sockets", "--ready-tcp");
	warned(&r, "TotallyMadeUp", "unknown key");
	done(&r);
}
END_TEST

START_TEST(errors)
{
	struct result r;

	map("", 0, &r);
	ck_assert_int_eq(r.r_rc, -1);
	ck_assert_ptr_nonnull(strstr(r.r_err, "not a property list"));
	done(&r);
	map("this is not a plist at all", 0, &r);
	ck_assert_int_eq(r.r_rc, -1);
	ck_assert_ptr_nonnull(strstr(r.r_err, "not a property list"));
	done(&r);
	map(HEAD "<dict><key>Label</key><string>x" TAIL, 0, &r);
	ck_assert_int_eq(r.r_rc, -1);
	done(&r);
	map("bplist00\x01\x02\x03garbage-garbage-garbage-garbage", 0, &r);
	ck_assert_int_eq(r.r_rc, -1);
	done(&r);

	refused(HEAD "<array><string>x</string></array>" TAIL, _i,
	    "holds an array, not a dictionary");
	refused(HEAD "<string>x</string>" TAIL, _i,
	    "holds a string, not a dictionary");
	refused(HEAD "<dict><key>Program</key><string>/bin/vm</string>"
	    "</dict>" TAIL, _i, "no Label");
	refused(HEAD "<dict><key>Label</key><integer>3</integer><key>Program"
	    "</key><string>/bin/vm</string></dict>" TAIL, _i,
	    "Label: must be a string, not an integer");
	refused(HEAD "<dict><key>Label</key><string>/../</string><key>Program"
	    "</key><string>/bin/vm</string></dict>" TAIL, _i,
	    "no part of it can start a VM name");
	refused(HEAD "<dict><key>Label</key><string>x</string></dict>" TAIL,
	    _i, "no program");
	refused(HEAD "<dict><key>Label</key><string>x</string>"
	    "<key>ProgramArguments</key><array/></dict>" TAIL, _i,
	    "no program");
	refused(HEAD "<dict><key>Label</key><string>x</string>"
	    "<key>Program</key><string></string></dict>" TAIL, _i,
	    "Program is empty");
	refused(HEAD "<dict><key>Label</key><string>x</string>"
	    "<key>ProgramArguments</key><array><string></string></array>"
	    "</dict>" TAIL, _i, "the first item (the program) is empty");
	refused(HEAD "<dict><key>Label</key><string>x</string>"
	    "<key>ProgramArguments</key><string>/bin/vm -x</string></dict>"
	    TAIL, _i, "ProgramArguments: must be an array of strings, not a "
	    "string");
	refused(HEAD "<dict><key>Label</key><string>x</string>"
	    "<key>ProgramArguments</key><array><string>/bin/vm</string>"
	    "<integer>2</integer></array></dict>" TAIL, _i,
	    "ProgramArguments item 2: must be a string, not an integer");
	refused(JOB("<key>KeepAlive</key><string>yes</string>"), _i,
	    "KeepAlive: must be a boolean or a dictionary, not a string");
	refused(JOB("<key>KeepAlive</key><dict><key>SuccessfulExit</key>"
	    "<integer>1</integer></dict>"), _i,
	    "KeepAlive SuccessfulExit: must be a boolean");
	refused(HEAD "<dict><key>Label</key><string>x</string><key>Program"
	    "</key><string>/bin/vm</string><key>RunAtLoad</key><string>true"
	    "</string></dict>" TAIL, _i, "RunAtLoad: must be a boolean");
	refused(JOB("<key>LaunchOnlyOnce</key><integer>1</integer>"), _i,
	    "LaunchOnlyOnce: must be a boolean");
}
END_TEST

/*
 * Regression: a binary plist whose key holds a NUL byte (a UTF-16 key
 * with U+0000, found by fuzz_plist) made libplist 2.2 assert inside
 * plist_dict_next_item, killing the whole import. Now it is refused.
 */
START_TEST(regress_binary_key_with_nul)
{
	static const char bin[] =
	    "\x62\x70\x6c\x69\x73\x74\x30\x30\xd5\x01\x07\x09\x0c\x0e\x02\x08"
	    "\x0a\x0d\x0d\x59\x4b\x65\x65\x70\x41\x6c\x69\x76\x65\xd1\x03\x04"
	    "\x59\x50\x61\x74\x68\x53\x74\x61\x74\x65\xd1\x05\x06\x5c\x30\x56"
	    "\x6f\x6c\x75\x6d\x65\x73\x2f\x56\x4d\xf3\x09\x55\x4c\x61\x62\x65"
	    "\x6c\x59\x76\x6d\x2e\x76\x6f\x6c\x75\x6d\x65\x5f\x10\x10\x50\x72"
	    "\x6f\x67\x72\x61\x6d\x41\x72\x67\x75\x6d\x65\x6e\x74\x73\xa1\x0b"
	    "\x5b\x2f\x6f\x70\x74\x2f\x76\x6d\x2f\x72\x75\x6e\x69\x10\x11\x53"
	    "\x74\x61\x6e\x64\x61\x72\x1d\x01\x00\x00\x00\x00\x00\x00\x74\x68"
	    "\x5f\x10\x16\x2f\x76\x61\x72\x2f\x6c\x6f\x67\x2f\x76\x6d\x2e\x76"
	    "\x6f\x6c\x75\x6d\x65\x2e\x6c\x6f\x67\x5f\x10\x0f\x53\x74\x61\x6e"
	    "\x64\x61\x72\x64\x4f\x75\x74\x50\x61\x74\x68\x08\x13\x1d\x20\x2a"
	    "\x2d\x3a\x3b\x41\x4b\x5e\x60\x6c\x80\x99\x00\x00\x00\x00\x00\x00"
	    "\x01\x01\x00\x00\x00\x00\x00\x00\x00\x0f\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\xab";
	struct vm_def vd;
	struct strv warn = { NULL, 0 };
	char err[512];

	vm_def_init(&vd);
	ck_assert_int_eq(launchd_to_def(bin, sizeof(bin) - 1, &vd, &warn, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(err, "NUL byte") != NULL, "%s", err);
	vm_def_free(&vd);
	strv_clear(&warn);
}
END_TEST

/*
 * A UTF-16 string with U+0000 in a binary plist is refused. (An ASCII one,
 * which libplist cuts at the NUL, launchd_bounds refuses: bounds_strings.)
 */
START_TEST(nul_in_string)
{
	plist_t p;
	char *bin = NULL, *at;
	uint32_t len = 0;
	struct vm_def vd;
	struct strv warn = { NULL, 0 };
	char err[512];

	/* Not ASCII, so stored as UTF-16BE; its "XX" becomes "X\0". */
	p = plist_new_dict();
	plist_dict_set_item(p, "Label", plist_new_string("x"));
	plist_dict_set_item(p, "Program",
	    plist_new_string("/bin/vm\xc3\xa9XX"));
	plist_dict_set_item(p, "KeepAlive", plist_new_bool(1));
	plist_to_bin(p, &bin, &len);
	plist_free(p);
	ck_assert_ptr_nonnull(bin);
	for (at = bin; at + 4 <= bin + len && memcmp(at, "\0X\0X", 4) != 0;
	    at++)
		;
	ck_assert(at + 4 <= bin + len);
	at[3] = '\0';
	vm_def_init(&vd);
	ck_assert_int_eq(launchd_to_def(bin, len, &vd, &warn, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "NUL byte") != NULL, "%s", err);
	vm_def_free(&vd);
	plist_to_bin_free(bin);
}
END_TEST

/* A plist nested deeper than any job is refused, not walked. */
START_TEST(too_deep)
{
	char xml[8192];
	struct result r;
	int i;

	snprintf(xml, sizeof(xml), HEAD "<dict><key>Label</key><string>x"
	    "</string><key>Program</key><string>/bin/x</string><key>Deep"
	    "</key>");
	for (i = 0; i < 40; i++)
		strcat(xml, "<array>");
	for (i = 0; i < 40; i++)
		strcat(xml, "</array>");
	strcat(xml, "</dict>" TAIL);
	map(xml, 0, &r);
	ck_assert_int_eq(r.r_rc, -1);
	ck_assert_msg(strstr(r.r_err, "nested more than") != NULL, "%s",
	    r.r_err);
	done(&r);
}
END_TEST

/*
 * Issue 10: the bounds judged before libplist parses (plistbound.c). A
 * binary plist built byte by byte: objects in index order, 4-byte
 * references and offsets.
 */
struct bp {
	unsigned char	*bp_b;
	size_t		 bp_len;
	size_t		 bp_cap;
	uint32_t	*bp_off;
	size_t		 bp_n;
};

static void
bp_bytes(struct bp *p, const void *v, size_t n)
{
	while (p->bp_len + n > p->bp_cap) {
		p->bp_cap = p->bp_cap ? p->bp_cap * 2 : 4096;
		ck_assert_ptr_nonnull(p->bp_b = realloc(p->bp_b, p->bp_cap));
	}
	memcpy(p->bp_b + p->bp_len, v, n);
	p->bp_len += n;
}

static void
bp_be(struct bp *p, uint64_t v, int n)
{
	unsigned char b[8];
	int i;

	for (i = n - 1; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
	bp_bytes(p, b, (size_t)n);
}

static void
bp_init(struct bp *p)
{
	memset(p, 0, sizeof(*p));
	bp_bytes(p, "bplist00", 8);
}

/* Start the next object: a marker of type with count (e.g. its length). */
static uint32_t
bp_obj(struct bp *p, unsigned type, uint64_t count)
{
	unsigned char m;

	if ((p->bp_n & (p->bp_n - 1)) == 0)	/* grow at powers of 2 */
		ck_assert_ptr_nonnull(p->bp_off = realloc(p->bp_off,
		    (p->bp_n ? p->bp_n * 2 : 1) * sizeof(*p->bp_off)));
	p->bp_off[p->bp_n] = (uint32_t)p->bp_len;
	if (count < 15) {
		m = (unsigned char)(type << 4 | count);
		bp_bytes(p, &m, 1);
	} else {
		m = (unsigned char)(type << 4 | 0xf);
		bp_bytes(p, &m, 1);
		m = 0x13;	/* an 8-byte integer */
		bp_bytes(p, &m, 1);
		bp_be(p, count, 8);
	}
	return (uint32_t)p->bp_n++;
}

static uint32_t
bp_ascii(struct bp *p, const char *s, size_t len)
{
	uint32_t i = bp_obj(p, 0x5, len);

	bp_bytes(p, s, len);
	return i;
}

/* Finish with root as the top object; the bytes, malloc'ed, in *len. */
static char *
bp_finish(struct bp *p, uint32_t root, size_t *len)
{
	uint64_t table = p->bp_len;
	size_t i;

	for (i = 0; i < p->bp_n; i++)
		bp_be(p, p->bp_off[i], 4);
	bp_bytes(p, "\0\0\0\0\0\0\x04\x04", 8);
	bp_be(p, p->bp_n, 8);
	bp_be(p, root, 8);
	bp_be(p, table, 8);
	free(p->bp_off);
	*len = p->bp_len;
	return (char *)p->bp_b;
}

/* Whether launchd_bounds takes buf; else the reason holds want. */
static void
bounds(const char *buf, size_t len, const char *want)
{
	char why[256] = "";
	int rc = launchd_bounds(buf, len, why, sizeof(why));

	if (want == NULL)
		ck_assert_msg(rc == 0, "refused: %s", why);
	else {
		ck_assert_msg(rc == -1, "accepted, want '%s'", want);
		ck_assert_msg(strstr(why, want) != NULL, "'%s', want '%s'",
		    why, want);
	}
}

/* n arrays nested in a binary plist, the innermost empty. */
static char *
bp_nested(size_t n, size_t *len)
{
	struct bp p;
	size_t i;

	bp_init(&p);
	for (i = 0; i + 1 < n; i++) {
		bp_obj(&p, 0xa, 1);
		bp_be(&p, i + 1, 4);
	}
	bp_obj(&p, 0xa, 0);
	return bp_finish(&p, 0, len);
}

/* What every writer makes, and what libplist's reader takes, passes. */
START_TEST(bounds_accepts)
{
	static const char *const ok[] = {
		SEED_KEEPALIVE, SEED_ONCE, JOB(""),
		"<plist><dict><key>Label</key><string>a<!-- <array> --> b"
		"<![CDATA[ <dict> & ]]></string></dict></plist>",
		"<?xml version=\"1.0\"?><!DOCTYPE plist [ <!ENTITY x \"<\"> ]>"
		"<plist version=\"1.0\"><dict/></plist>",
		"<dict><key>a</key><string attr=\"x>y\">v</string></dict>",
		"<plist><string>a lone value</string></plist>",
		"<plist>\n<dict>\n\t<key>k</key>\n\t<array/>\n</dict>\n"
		"</plist>\n",
		"<plist><dict><key>x</key><string>&amp;&lt;&#x41;</string>"
		"</dict></plist>",
	};
	struct bp p;
	char *bin;
	size_t i, len;
	uint32_t a, b;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		bounds(ok[i], strlen(ok[i]), NULL);
	bin = bp_nested(LAUNCHD_DEPTH_MAX, &len);
	bounds(bin, len, NULL);
	free(bin);
	/* A dictionary in binary: keys first, then values. */
	bp_init(&p);
	bp_obj(&p, 0xd, 1);
	bp_be(&p, 1, 4);
	bp_be(&p, 2, 4);
	a = bp_ascii(&p, "Label", 5);
	b = bp_ascii(&p, "x", 1);
	ck_assert(a == 1 && b == 2);
	bin = bp_finish(&p, 0, &len);
	bounds(bin, len, NULL);
	free(bin);
}
END_TEST

/* 32 arrays and dictionaries inside each other pass; 33 do not. */
START_TEST(bounds_depth)
{
	char *xml, *bin;
	size_t len, i, n = 200000;

	/* The dictionary is the first level, the arrays the others. */
	ck_assert_ptr_nonnull(xml = malloc(n * 16 + 256));
	for (i = LAUNCHD_DEPTH_MAX - 1; i <= LAUNCHD_DEPTH_MAX; i++) {
		size_t k;

		strcpy(xml, "<plist><dict><key>a</key>");
		for (k = 0; k < i; k++)
			strcat(xml, "<array>");
		for (k = 0; k < i; k++)
			strcat(xml, "</array>");
		strcat(xml, "</dict></plist>");
		bounds(xml, strlen(xml), i < LAUNCHD_DEPTH_MAX ? NULL :
		    "nested more than 32 deep");
	}
	/* 200,000 of them, the file that crashed libplist. */
	len = 0;
	len += (size_t)sprintf(xml + len, "<plist><dict><key>a</key>");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(xml + len, "<array>");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(xml + len, "</array>");
	len += (size_t)sprintf(xml + len, "</dict></plist>");
	bounds(xml, len, "nested more than 32 deep");
	/* An empty root is the parent of what follows it, in libplist. */
	strcpy(xml, "<plist><array/>");
	for (i = 0; i < 40; i++)
		strcat(xml, "<array>");
	bounds(xml, strlen(xml), "nested more than 32 deep");
	free(xml);
	bin = bp_nested(LAUNCHD_DEPTH_MAX + 1, &len);
	bounds(bin, len, "nested more than 32 deep");
	free(bin);
	bin = bp_nested(n, &len);
	bounds(bin, len, "nested more than 32 deep");
	free(bin);
}
END_TEST

/* An array that contains itself is as deep as it goes: refused. */
START_TEST(bounds_cycle)
{
	struct bp p;
	char *bin;
	size_t len;

	bp_init(&p);
	bp_obj(&p, 0xa, 1);
	bp_be(&p, 0, 4);
	bin = bp_finish(&p, 0, &len);
	bounds(bin, len, "nested more than 32 deep");
	free(bin);
}
END_TEST

/* Every use of a shared object counts, as libplist copies each one. */
START_TEST(bounds_shared)
{
	struct bp p;
	char *bin, big[8192];
	size_t len, i;
	uint32_t s;

	/* 65535 items and the array itself: the limit exactly. */
	for (i = LAUNCHD_VALUES_MAX - 1; i <= 1000000; i += 1000000 -
	    (LAUNCHD_VALUES_MAX - 1)) {
		size_t k;

		bp_init(&p);
		bp_obj(&p, 0xa, i);
		for (k = 0; k < i; k++)
			bp_be(&p, 1, 4);
		bp_ascii(&p, "/bin/true", 9);
		bin = bp_finish(&p, 0, &len);
		bounds(bin, len, i < 1000000 ? NULL : "more than 65536 keys "
		    "and values");
		free(bin);
	}
	/* 1000 uses of an 8 KiB string: 8 MiB once libplist copies them. */
	memset(big, 'a', sizeof(big));
	bp_init(&p);
	bp_obj(&p, 0xa, 1000);
	for (i = 0; i < 1000; i++)
		bp_be(&p, 1, 4);
	s = bp_ascii(&p, big, sizeof(big));
	ck_assert_int_eq(s, 1);
	bin = bp_finish(&p, 0, &len);
	ck_assert_uint_lt(len, 64 * 1024);
	bounds(bin, len, "more than 4 MiB");
	free(bin);
}
END_TEST

/* The bytes libplist would change without a word: NUL, broken UTF-16. */
START_TEST(bounds_strings)
{
	static const unsigned char lone[] = { 0xd8, 0x00, 0x00, 'x' };
	static const unsigned char nul16[] = { 0x00, 'a', 0x00, 0x00 };
	static const unsigned char pair[] = { 0xd8, 0x3d, 0xde, 0x00 };
	const unsigned char *u16[] = { lone, nul16, pair };
	const char *want[] = { "not valid UTF-16", "NUL byte", NULL };
	struct bp p;
	char *bin;
	size_t len, i;

	bp_init(&p);
	bp_obj(&p, 0xa, 1);
	bp_be(&p, 1, 4);
	bp_ascii(&p, "/bin/vm\0-x", 10);
	bin = bp_finish(&p, 0, &len);
	bounds(bin, len, "NUL byte");
	free(bin);
	for (i = 0; i < 3; i++) {
		bp_init(&p);
		bp_obj(&p, 0xa, 1);
		bp_be(&p, 1, 4);
		bp_obj(&p, 0x6, 2);
		bp_bytes(&p, u16[i], 4);
		bin = bp_finish(&p, 0, &len);
		bounds(bin, len, want[i]);
		free(bin);
	}
	bounds("<plist><string>a\0b</string></plist>", 34, "NUL byte");
}
END_TEST

/* Unescaping costs libplist a memmove per reference: bounded. */
START_TEST(bounds_references)
{
	char *xml;
	size_t len, i, n = 200000;

	ck_assert_ptr_nonnull(xml = malloc(n * 5 + 256));
	len = (size_t)sprintf(xml, "<plist><dict><key>a</key><string>");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(xml + len, "&amp;");
	len += (size_t)sprintf(xml + len, "</string></dict></plist>");
	bounds(xml, len, "too many character references");
	free(xml);
}
END_TEST

START_TEST(bounds_size)
{
	char *buf;
	size_t len = LAUNCHD_SIZE_MAX + 1;

	ck_assert_ptr_nonnull(buf = malloc(len));
	memset(buf, ' ', len);
	memcpy(buf, "<plist>", 7);
	bounds(buf, len, "larger than 4 MiB");
	free(buf);
	bounds("", 0, "not a property list");
	bounds("bplist00", 8, "not a property list");
}
END_TEST

/* What the tree may not hold, refused by the mapping, with where. */
START_TEST(tree_refused)
{
	static const struct {
		const char	*xml;
		const char	*want;
	} bad[] = {
		{ JOB("<key>UserName</key><string>caf\xe9</string>"),
		    "UserName: a string is not valid UTF-8" },
		{ JOB("<key>caf\xe9</key><string>x</string>"),
		    "a key is not valid UTF-8" },
		{ JOB("<key>EnvironmentVariables</key><dict><key>A</key>"
		    "<string>\xc0\xaf</string></dict>"),
		    "EnvironmentVariables: a string is not valid UTF-8" },
	};
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		map(bad[i].xml, 0, &r);
		ck_assert_int_eq(r.r_rc, -1);
		ck_assert_msg(strstr(r.r_err, bad[i].want) != NULL, "%s",
		    r.r_err);
		done(&r);
	}
}
END_TEST

/* A binary dictionary may say a key twice; it is refused. */
START_TEST(tree_duplicate_key)
{
	struct vm_def vd;
	struct strv warn = { NULL, 0 };
	struct bp p;
	char *bin, err[256];
	size_t len;

	bp_init(&p);
	bp_obj(&p, 0xd, 3);
	bp_be(&p, 1, 4);
	bp_be(&p, 3, 4);
	bp_be(&p, 1, 4);
	bp_be(&p, 2, 4);
	bp_be(&p, 4, 4);
	bp_be(&p, 5, 4);
	bp_ascii(&p, "Label", 5);
	bp_ascii(&p, "a", 1);
	bp_ascii(&p, "Program", 7);
	bp_ascii(&p, "/bin/a", 6);
	bp_ascii(&p, "b", 1);
	bin = bp_finish(&p, 0, &len);
	vm_def_init(&vd);
	ck_assert_int_eq(launchd_to_def(bin, len, &vd, &warn, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "Label is given twice") != NULL, "%s", err);
	vm_def_free(&vd);
	strv_clear(&warn);
	free(bin);
}
END_TEST

/* A plist string from a dictionary read back, or NULL. */
static const char *
dict_str(plist_t d, const char *key)
{
	plist_t n = plist_dict_get_item(d, key);

	if (n == NULL || plist_get_node_type(n) != PLIST_STRING)
		return NULL;
	return plist_get_string_ptr(n, NULL);
}

static int
dict_true(plist_t d, const char *key)
{
	plist_t n = plist_dict_get_item(d, key);
	uint8_t b = 0;

	if (n == NULL || plist_get_node_type(n) != PLIST_BOOLEAN)
		return 0;
	plist_get_bool_val(n, &b);
	return b;
}

START_TEST(export_daemon)
{
	static const char *const argv[] = {
		"/usr/local/bin/vmsched", "--db", "/var/lib/vm sched/v.db",
		"daemon", NULL,
	};
	struct launchd_daemon ld = { "org.vmsched.daemon", argv,
	    _i ? "vmadmin" : NULL, "/var/log/vmsched.log", 95 };
	plist_t p = NULL, args, n;
	uint64_t u = 0;
	char *xml;
	size_t i;

	ck_assert_int_eq(launchd_export(&ld, &xml), 0);
	ck_assert_ptr_nonnull(strstr(xml, "<plist version=\"1.0\">"));
	plist_from_xml(xml, (uint32_t)strlen(xml), &p);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(dict_str(p, "Label"), "org.vmsched.daemon");
	args = plist_dict_get_item(p, "ProgramArguments");
	ck_assert_ptr_nonnull(args);
	ck_assert_uint_eq(plist_array_get_size(args), 4);
	for (i = 0; i < 4; i++)
		ck_assert_str_eq(plist_get_string_ptr(
		    plist_array_get_item(args, (uint32_t)i), NULL), argv[i]);
	ck_assert(dict_true(p, "RunAtLoad"));
	ck_assert(dict_true(p, "KeepAlive"));
	ck_assert(dict_true(p, "AbandonProcessGroup"));
	ck_assert_str_eq(dict_str(p, "StandardErrorPath"),
	    "/var/log/vmsched.log");
	n = plist_dict_get_item(p, "ExitTimeOut");
	ck_assert_ptr_nonnull(n);
	plist_get_uint_val(n, &u);
	ck_assert_uint_eq(u, 95);
	if (_i)
		ck_assert_str_eq(dict_str(p, "UserName"), "vmadmin");
	else
		ck_assert_ptr_null(plist_dict_get_item(p, "UserName"));
	plist_free(p);

	/* And it imports as a job kept alive, like any other. */
	{
		struct result r;

		ok(xml, 0, &r, 1);	/* AbandonProcessGroup */
		ck_assert_str_eq(r.r_vd.vd_name, "org.vmsched.daemon");
		ck_assert_int_eq(r.r_vd.vd_restart, RESTART_ALWAYS);
		ck_assert_int_eq(r.r_vd.vd_stop_timeout_ms, 95000);
		done(&r);
	}
	free(xml);
}
END_TEST

static Suite *
launchd_suite(void)
{
	Suite *s = suite_create("launchd");
	TCase *tc;

	/* Loop tests: _i 0 reads XML, _i 1 the same plist in binary. */
	tc = tcase_create("seeds");
	tcase_add_loop_test(tc, seed_keepalive, 0, 2);
	tcase_add_loop_test(tc, seed_once, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_test(tc, name_rule);
	tcase_add_loop_test(tc, label_reported, 0, 2);
	tcase_add_loop_test(tc, program_keys, 0, 2);
	tcase_add_loop_test(tc, keepalive_true, 0, 2);
	tcase_add_loop_test(tc, keepalive_false_runs_once, 0, 2);
	tcase_add_loop_test(tc, keepalive_successful_exit, 0, 2);
	tcase_add_loop_test(tc, keepalive_crashed, 0, 2);
	tcase_add_loop_test(tc, keepalive_pathstate, 0, 2);
	tcase_add_loop_test(tc, keepalive_other_conditions, 0, 2);
	tcase_add_loop_test(tc, launch_only_once, 0, 2);
	tcase_add_loop_test(tc, not_started_at_load, 0, 2);
	tcase_add_loop_test(tc, user_and_group, 0, 2);
	tcase_add_loop_test(tc, cwd_and_env, 0, 2);
	tcase_add_loop_test(tc, timeouts, 0, 2);
	tcase_add_loop_test(tc, log_paths, 0, 2);
	tcase_add_loop_test(tc, unmapped_keys, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, errors, 0, 2);
	tcase_add_test(tc, regress_binary_key_with_nul);
	tcase_add_test(tc, nul_in_string);
	tcase_add_test(tc, too_deep);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, bounds_accepts);
	tcase_add_test(tc, bounds_depth);
	tcase_add_test(tc, bounds_cycle);
	tcase_add_test(tc, bounds_shared);
	tcase_add_test(tc, bounds_strings);
	tcase_add_test(tc, bounds_references);
	tcase_add_test(tc, bounds_size);
	tcase_add_test(tc, tree_refused);
	tcase_add_test(tc, tree_duplicate_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("export");
	tcase_add_loop_test(tc, export_daemon, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(launchd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

"""import-launchd, export-launchd and export-systemd, end to end.

The tests write launchd plists (XML, and binary ones made from them with
plistutil from Debian's libplist-utils), import them with the real binary
into a real database and read the definitions back with `show --json`.
Exports are read back by an independent parser (Python's plistlib), by
libplist (import-launchd of the exported plist) and, for the systemd unit,
by `systemd-analyze verify` where that tool exists.
"""
import json
import os
import plistlib
import shutil
import subprocess
import unittest

from vmtest import VMSCHED, VmschedCase

PLISTUTIL = shutil.which("plistutil")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")

VMX = "/Applications/VMware Fusion.app/Contents/Library/vmware-vmx"

# The seed recipe's two jobs, as an operator has them on disk.
SEED_KEEPALIVE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>com.example.vmware.Test</string>
	<key>ProgramArguments</key>
	<array>
		<string>/Applications/VMware Fusion.app/Contents/Library/vmware-vmx</string>
		<string>-x</string>
		<string>/Users/me/VMs/Test.vmx</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<true/>
</dict>
</plist>
"""

SEED_ONCE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>com.example.vmware.Test.once</string>
	<key>ProgramArguments</key>
	<array>
		<string>/Applications/VMware Fusion.app/Contents/Library/vmware-vmx</string>
		<string>-x</string>
		<string>/Users/me/VMs/Test.vmx</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>LaunchOnlyOnce</key>
	<true/>
	<key>ExitTimeOut</key>
	<integer>0</integer>
</dict>
</plist>
"""

# A dozen more, each with the definition fields it must become. "binary"
# ones are written as XML and turned into binary plists with plistutil.
JOBS = [
    dict(file="seed-keepalive.plist", text=SEED_KEEPALIVE, binary=False,
         name="com.example.vmware.Test",
         want=dict(argv=[VMX, "-x", "/Users/me/VMs/Test.vmx"],
                   restart="always", enabled=True, stop_timeout_ms=60000,
                   driver="exec"),
         # issue 12: a hypervisor's own start maps to its shortcut
         warns=["imported as --vmware /Users/me/VMs/Test.vmx --tool"]),
    dict(file="seed-once.plist", text=SEED_ONCE, binary=True,
         name="com.example.vmware.Test.once",
         want=dict(argv=[VMX, "-x", "/Users/me/VMs/Test.vmx"],
                   restart="never", enabled=True, stop_timeout_ms=0,
                   driver="exec"),
         warns=["imported as --vmware /Users/me/VMs/Test.vmx --tool"]),
    dict(file="on-failure.plist", binary=True,
         job=dict(Label="vm.onfailure", ProgramArguments=[
             "/usr/bin/qemu-system-x86_64", "-m", "2048", "-nographic"],
             KeepAlive=dict(SuccessfulExit=False), ThrottleInterval=30,
             ExitTimeOut=120),
         name="vm.onfailure",
         want=dict(restart="on-failure", enabled=True,
                   backoff_initial_ms=30000, stop_timeout_ms=120000),
         warns=[]),
    dict(file="crashed.plist", binary=False,
         job=dict(Label="vm.crashed", Program="/usr/bin/VBoxHeadless",
                  KeepAlive=dict(Crashed=True)),
         name="vm.crashed",
         want=dict(argv=["/usr/bin/VBoxHeadless"], restart="on-failure",
                   enabled=False),
         warns=["Crashed true", "would not start it at load"]),
    dict(file="pathstate.plist", binary=True,
         job=dict(Label="vm.volume", ProgramArguments=["/opt/vm/run"],
                  KeepAlive=dict(PathState={"/Volumes/VMs": True}),
                  StandardOutPath="/var/log/vm.volume.log",
                  StandardErrorPath="/var/log/vm.volume.log"),
         name="vm.volume",
         want=dict(gates=[dict(kind="path", arg="/Volumes/VMs")],
                   restart="always", enabled=True,
                   log_path="/var/log/vm.volume.log"),
         warns=[]),
    dict(file="user-env.plist", binary=False,
         job=dict(Label="vm.user", ProgramArguments=["/opt/vm/run", "a b"],
                  RunAtLoad=True, KeepAlive=True, UserName="root",
                  GroupName="wheel", WorkingDirectory="/var/tmp",
                  EnvironmentVariables={"VM_HOME": "/srv/vm",
                                        "QUOTED": "it's \"quoted\" $HOME"}),
         name="vm.user",
         want=dict(user="root", cwd="/var/tmp",
                   env={"VM_HOME": "/srv/vm",
                        "QUOTED": "it's \"quoted\" $HOME"},
                   argv=["/opt/vm/run", "a b"]),
         warns=["GroupName wheel", "only the user"]),
    dict(file="slash-label.plist", binary=True,
         job=dict(Label="com.example.vm/7", Program="/opt/vm/seven",
                  KeepAlive=True),
         name="com.example.vm-7",
         want=dict(argv=["/opt/vm/seven"], restart="always"),
         warns=["'com.example.vm/7'", "imported as com.example.vm-7"]),
    dict(file="on-demand.plist", binary=True,
         job=dict(Label="vm.lazy", ProgramArguments=["/opt/vm/lazy"]),
         name="vm.lazy",
         want=dict(enabled=False, restart="never"),
         warns=["would not start it at load", "no KeepAlive"]),
    dict(file="unmapped.plist", binary=False,
         job=dict(Label="vm.unmapped", ProgramArguments=["/opt/vm/u"],
                  RunAtLoad=True, KeepAlive=True,
                  WatchPaths=["/etc/vm.conf"], StartInterval=300,
                  StartCalendarInterval=dict(Hour=3),
                  Sockets={"Listeners": {"SockServiceName": "5900"}},
                  Nice=5, FancyNewKey="x"),
         name="vm.unmapped",
         want=dict(restart="always"),
         warns=["WatchPaths: not imported", "StartInterval: not imported",
                "StartCalendarInterval: not imported",
                "Sockets: not imported", "Nice: not imported",
                "FancyNewKey: unknown key"]),
    dict(file="old-ondemand.plist", binary=True,
         job=dict(Label="vm.old", ProgramArguments=["/opt/vm/old"],
                  OnDemand=False),
         name="vm.old",
         want=dict(restart="always", enabled=True),
         warns=["OnDemand is obsolete"]),
    dict(file="once-and-keepalive.plist", binary=False,
         job=dict(Label="vm.once", ProgramArguments=["/opt/vm/once"],
                  LaunchOnlyOnce=True, KeepAlive=True, ExitTimeOut=15),
         name="vm.once",
         want=dict(restart="never", stop_timeout_ms=15000),
         warns=["LaunchOnlyOnce true and KeepAlive"]),
    dict(file="throttle.plist", binary=True,
         job=dict(Label="vm.throttle", ProgramArguments=[
             "/usr/bin/vmrun", "-T", "fusion", "start",
             "/Users/me/VMs/My VM.vmwarevm/My VM.vmx", "nogui"],
             RunAtLoad=True, ThrottleInterval=600),
         name="vm.throttle",
         want=dict(backoff_initial_ms=600000, backoff_max_ms=600000,
                   restart="never",
                   argv=["/usr/bin/vmrun", "-T", "fusion", "start",
                         "/Users/me/VMs/My VM.vmwarevm/My VM.vmx",
                         "nogui"], driver="detached"),
         warns=["--backoff-max raised", "no KeepAlive",
                "is VMware's vmrun: imported as --vmware",
                "--vmrun --vmrun-type fusion --tool /usr/bin/vmrun"]),
    dict(file="two-logs.plist", binary=False,
         job=dict(Label="vm.logs", ProgramArguments=["/opt/vm/logs"],
                  KeepAlive=True, StandardOutPath="/var/log/vm.out",
                  StandardErrorPath="/var/log/vm.err"),
         name="vm.logs",
         want=dict(log_path="/var/log/vm.err"),
         warns=["StandardOutPath and StandardErrorPath differ"]),
]


def unit_words(line):
    """Split a systemd command line as systemd does for what we write:
    bare words, double quotes with backslash escapes, %% and $$."""
    words, i, n = [], 0, len(line)
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        if i >= n:
            break
        word = ""
        if line[i] == '"':
            i += 1
            while line[i] != '"':
                if line[i] == "\\":
                    i += 1
                word += line[i]
                i += 1
            i += 1
        else:
            while i < n and line[i] != " ":
                word += line[i]
                i += 1
        words.append(word.replace("%%", "%").replace("$$", "$"))
    return words


def parse_unit(text):
    """Sections of a unit file as {section: {key: value}}."""
    sections, cur = {}, None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            cur = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        assert key not in cur, "%s given twice" % key
        cur[key] = value
    return sections


class LaunchdCase(VmschedCase):
    def write_job(self, job):
        """Write one job of JOBS into the temp dir; its path."""
        path = os.path.join(self.dir, job["file"])
        text = job.get("text")
        if text is None:
            text = plistlib.dumps(job["job"], fmt=plistlib.FMT_XML).decode()
        if not job["binary"]:
            with open(path, "w") as f:
                f.write(text)
            return path
        if PLISTUTIL is None:
            self.skipTest("plistutil (Debian libplist-utils) not installed")
        xml = path + ".xml"
        with open(xml, "w") as f:
            f.write(text)
        subprocess.run([PLISTUTIL, "-i", xml, "-o", path, "-f", "bin"],
                       check=True)
        os.unlink(xml)
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"bplist00")
        return path

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def job_file(self, name, **job):
        return self.write(name, plistlib.dumps(job, fmt=plistlib.FMT_XML))

    def show(self, name):
        return self.ok("show", "--json", name).json()

    def state(self):
        """Everything a failed command must leave as it was."""
        return (self.db_bytes(), self.ok("list", "--json").out,
                self.ok("log", "--json").out)


class ImportTests(LaunchdCase):
    def test_a_dozen_jobs_in_one_import(self):
        paths = [self.write_job(j) for j in JOBS]
        r = self.ok("import-launchd", *paths)
        err = r.err.decode()
        for job, path in zip(JOBS, paths):
            self.assertIn("added %s from %s\n" % (job["name"], path),
                          r.out.decode())
            mine = [l for l in err.splitlines()
                    if l.startswith("vmsched: %s: " % path)]
            for w in job["warns"]:
                self.assertTrue(any(w in l for l in mine),
                                "%s: no warning with %r in %r"
                                % (job["file"], w, mine))
            if not job["warns"]:
                self.assertEqual(mine, [], job["file"])
            vm = self.show(job["name"])
            for key, value in job["want"].items():
                self.assertEqual(vm[key], value,
                                 "%s: %s" % (job["file"], key))
        names = [vm["name"] for vm in self.ok("list", "--json").json()]
        self.assertEqual(sorted(names), sorted(j["name"] for j in JOBS))
        # Each definition leaves its audit event.
        events = [e for e in self.ok("log", "--json").json()
                  if e.get("event") == "vm.defined"]
        self.assertEqual(len(events), len(JOBS))

    def test_seeds_import_as_the_recipe_ran_them(self):
        keep = self.write_job(JOBS[0])
        once = self.write_job(JOBS[1])
        self.ok("import-launchd", keep, once)
        vm = self.show("com.example.vmware.Test")
        self.assertEqual(vm["argv"], [VMX, "-x", "/Users/me/VMs/Test.vmx"])
        self.assertEqual(vm["restart"], "always")
        self.assertTrue(vm["enabled"])
        vm = self.show("com.example.vmware.Test.once")
        self.assertEqual(vm["restart"], "never")
        # launchd's ExitTimeOut 0 means "never SIGKILL": kept, not "now".
        self.assertEqual(vm["stop_timeout_ms"], 0)
        text = self.ok("show", "com.example.vmware.Test.once").out.decode()
        self.assertIn("never SIGKILL", text)

    def test_bad_file_among_good_ones_imports_nothing(self):
        self.ok("add", "existing", "--", "/bin/true")
        good1 = self.write_job(JOBS[2])
        good2 = self.write_job(JOBS[6])
        before = self.state()
        bad_cases = [
            (self.write("garbage.plist", "this is not a plist\n"), 65,
             "not a property list"),
            (self.write("truncated.plist", SEED_KEEPALIVE[:300]), 65,
             "not a property list"),
            (self.write("array.plist", plistlib.dumps(["a", "b"])), 65,
             "not a dictionary"),
            (self.job_file("noprog.plist", Label="x", KeepAlive=True), 65,
             "no program"),
            (self.job_file("nolabel.plist", Program="/bin/x"), 65,
             "no Label"),
            (self.job_file("badtype.plist", Label="x", Program="/bin/x",
                           RunAtLoad="yes"), 65,
             "RunAtLoad: must be a boolean"),
            (os.path.join(self.dir, "missing.plist"), 66,
             "No such file or directory"),
        ]
        for bad, code, why in bad_cases:
            r = self.fails(code, "import-launchd", good1, bad, good2)
            err = r.err.decode()
            self.assertIn("vmsched: %s: " % bad, err)
            self.assertIn(why, err)
            self.assertIn("nothing imported", err)
            self.assertEqual(self.state(), before, bad)
        # And the good ones alone do import.
        self.ok("import-launchd", good1, good2)

    def test_existing_name_without_replace_fails_whole_import(self):
        first = self.write_job(JOBS[2])
        self.ok("import-launchd", first)
        other = self.write_job(JOBS[3])
        before = self.state()
        r = self.fails(64, "import-launchd", other, first)
        self.assertIn("vmsched: %s: vm.onfailure: already defined" % first,
                      r.err.decode())
        self.assertIn("--replace", r.err.decode())
        self.assertEqual(self.state(), before)
        self.fails(66, "show", "vm.crashed")

    def test_two_files_one_name(self):
        a = self.job_file("a.plist", Label="com.x/1", Program="/bin/a",
                          KeepAlive=True)
        b = self.job_file("b.plist", Label="com.x:1", Program="/bin/b",
                          KeepAlive=True)
        r = self.fails(64, "import-launchd", a, b)
        self.assertIn("%s: becomes the VM com.x-1, as %s does" % (b, a),
                      r.err.decode())
        self.assertFalse(os.path.exists(self.db))

    def test_replace(self):
        path = self.job_file("vm.plist", Label="vm.r", ProgramArguments=[
            "/opt/vm/run", "-v1"], KeepAlive=True)
        self.ok("import-launchd", path)
        self.ok("add", "dependent", "--after", "vm.r", "--", "/bin/true")
        self.job_file("vm.plist", Label="vm.r", ProgramArguments=[
            "/opt/vm/run", "-v2"], LaunchOnlyOnce=True, RunAtLoad=True,
            ExitTimeOut=5)
        before = self.state()
        self.fails(64, "import-launchd", path)
        self.assertEqual(self.state(), before)

        r = self.ok("import-launchd", "--replace", path)
        self.assertEqual(r.out.decode(), "replaced vm.r from %s\n" % path)
        vm = self.show("vm.r")
        self.assertEqual(vm["argv"], ["/opt/vm/run", "-v2"])
        self.assertEqual(vm["restart"], "never")
        self.assertEqual(vm["stop_timeout_ms"], 5000)
        # The VM that starts after it still does.
        self.assertEqual(self.show("dependent")["after"], ["vm.r"])
        changed = [e for e in self.ok("log", "--json", "vm.r").json()
                   if e.get("event") == "vm.changed"]
        self.assertEqual(len(changed), 1)
        self.assertEqual(changed[0]["detail"]["changes"]["argv"]["to"],
                         ["/opt/vm/run", "-v2"])

        # The same file again changes nothing and says so.
        r = self.ok("import-launchd", path, "--replace")
        self.assertEqual(r.out.decode(), "unchanged vm.r from %s\n" % path)
        changed = [e for e in self.ok("log", "--json", "vm.r").json()
                   if e.get("event") == "vm.changed"]
        self.assertEqual(len(changed), 1)

    def test_dry_run_changes_nothing_and_its_lines_define_the_same(self):
        paths = [self.write_job(j) for j in JOBS]
        r = self.ok("import-launchd", "--dry-run", *paths)
        self.assertFalse(os.path.exists(self.db), "dry-run made a database")
        lines = r.out.decode().splitlines()
        self.assertEqual(len(lines), len(JOBS))
        for line, job in zip(lines, JOBS):
            self.assertTrue(line.startswith("vmsched add %s " % job["name"]),
                            line)
        # Warnings are printed on a dry run too.
        self.assertIn("vmsched: %s: WatchPaths" % paths[8], r.err.decode())

        # With a database: still nothing changes.
        self.ok("add", "existing", "--", "/bin/true")
        before = self.state()
        self.ok("import-launchd", *paths, "--dry-run")
        self.assertEqual(self.state(), before)

        # Run the printed lines (a shell reads the quoting) into a second
        # database: they define what the import defines.
        dry = os.path.join(self.dir, "dry.db")
        script = "vmsched() { \"$VMSCHED\" \"$@\"; }\nset -e\n" + \
            "\n".join(lines) + "\n"
        subprocess.run(["bash", "-c", script], check=True,
                       env=dict(self.env, VMSCHED=VMSCHED, VMSCHED_DB=dry))
        self.ok("import-launchd", *paths)
        skip = {"created_at", "updated_at", "since", "state"}
        for job in JOBS:
            a = self.show(job["name"])
            b = self.ok("--db", dry, "show", "--json", job["name"]).json()
            self.assertEqual({k: v for k, v in a.items() if k not in skip},
                             {k: v for k, v in b.items() if k not in skip},
                             job["file"])

    def test_usage(self):
        self.fails(64, "import-launchd")
        self.fails(64, "import-launchd", "--bogus", "x.plist")
        self.fails(64, "import-launchd", "--dry-run")


class ExportTests(LaunchdCase):
    def exe(self):
        return os.path.realpath(VMSCHED)

    def test_export_launchd(self):
        self.ok("add", "a", "--stop-timeout", "45", "--", "/bin/true")
        self.ok("add", "b", "--stop-timeout", "90s", "--disabled", "--",
                "/bin/true")
        out = self.ok("export-launchd").out
        job = plistlib.loads(out)
        self.assertEqual(job["Label"], "org.vmsched.daemon")
        self.assertEqual(job["ProgramArguments"],
                         [self.exe(), "--db", os.path.realpath(self.db),
                          "daemon"])
        self.assertIs(job["RunAtLoad"], True)
        self.assertIs(job["KeepAlive"], True)
        self.assertTrue(job["StandardErrorPath"].startswith("/"))
        self.assertNotIn("UserName", job)
        # launchd's 20s default would SIGKILL vmsched mid-shutdown.
        self.assertGreaterEqual(job["ExitTimeOut"], 45 + 90)

        out = self.ok("export-launchd", "--label", "com.example.vmsched",
                      "--user", "vmadmin").out
        job = plistlib.loads(out)
        self.assertEqual(job["Label"], "com.example.vmsched")
        self.assertEqual(job["UserName"], "vmadmin")

        # libplist reads it back too: it imports as a kept-alive job.
        path = self.write("org.vmsched.daemon.plist", out)
        self.ok("import-launchd", path)
        vm = self.show("com.example.vmsched")
        self.assertEqual(vm["argv"][0], self.exe())
        self.assertEqual(vm["argv"][1:], ["--db", os.path.realpath(self.db),
                                          "daemon"])
        self.assertEqual(vm["restart"], "always")
        self.assertEqual(vm["user"], "vmadmin")

    def test_export_launchd_no_kill_when_a_vm_has_no_timeout(self):
        self.ok("add", "a", "--stop-timeout", "0", "--", "/bin/true")
        job = plistlib.loads(self.ok("export-launchd").out)
        self.assertEqual(job["ExitTimeOut"], 0)

    def test_export_launchd_usage(self):
        self.fails(64, "export-launchd", "--label", "")
        self.fails(64, "export-launchd", "--user", "a\nb")
        self.fails(64, "export-launchd", "extra")
        self.fails(64, "export-launchd", "--label")

    def unit(self, db=None):
        args = ["--db", db] if db else []
        text = self.ok(*args, "export-systemd").out.decode()
        return text, parse_unit(text)

    def test_export_systemd(self):
        self.ok("add", "a", "--stop-timeout", "45", "--", "/bin/true")
        self.ok("add", "b", "--stop-timeout", "2m", "--", "/bin/true")
        text, u = self.unit()
        self.assertEqual(set(u), {"Unit", "Service", "Install"})
        self.assertEqual(u["Unit"]["After"], "network-online.target")
        self.assertEqual(u["Unit"]["Wants"], "network-online.target")
        s = u["Service"]
        self.assertEqual(s["Type"], "simple")
        self.assertEqual(unit_words(s["ExecStart"]),
                         [self.exe(), "--db", os.path.realpath(self.db),
                          "daemon"])
        self.assertEqual(s["Restart"], "on-failure")
        self.assertEqual(s["KillMode"], "process")
        self.assertGreater(int(s["TimeoutStopSec"]), 45 + 120)
        self.assertEqual(u["Install"]["WantedBy"], "multi-user.target")

        # A VM that is never SIGKILLed: the daemon may take as long.
        self.ok("add", "c", "--stop-timeout", "0", "--", "/bin/true")
        _, u = self.unit()
        self.assertEqual(u["Service"]["TimeoutStopSec"], "infinity")

    def test_export_systemd_quotes_paths(self):
        odd = os.path.join(self.dir, "a dir %h $HOME \"q\"", "v.db")
        _, u = self.unit(odd)
        self.assertEqual(unit_words(u["Service"]["ExecStart"]),
                         [self.exe(), "--db", os.path.realpath(odd),
                          "daemon"])
        self.verify(self.ok("--db", odd, "export-systemd").out)

    def test_systemd_analyze_verify(self):
        self.ok("add", "a", "--stop-timeout", "45", "--", "/bin/true")
        self.verify(self.ok("export-systemd").out)

    def verify(self, unit):
        if SYSTEMD_ANALYZE is None:
            self.skipTest("systemd-analyze not installed: unit not verified")
        path = self.write("vmsched.service", unit)
        # verify wants ExecStart's binary to exist: it is the real one.
        r = subprocess.run([SYSTEMD_ANALYZE, "verify", path],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("vmsched.service", r.stderr)
        # And it does catch a broken one, so a pass means something.
        bad = unit.replace(b"ExecStart=/", b"ExecStart=relative/")
        path = self.write("broken.service", bad)
        r = subprocess.run([SYSTEMD_ANALYZE, "verify", path],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)

    def test_export_systemd_usage(self):
        self.fails(64, "export-systemd", "extra")
        self.fails(64, "export-systemd", "--bogus")


if __name__ == "__main__":
    unittest.main()

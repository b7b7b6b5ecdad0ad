"""The hypervisor shortcuts of issue 12, end to end. `add --vmware X.vmx
--vmrun` and `add --virtualbox NAME` find their tool on the caller's PATH
(here the stand-ins tests/fake_vmrun.py and tests/fake_vboxmanage.py,
which follow VMware's and VirtualBox's documented command lines, outputs
and exit codes), expand into complete detached definitions that `show`
prints, and the daemon runs them: start, liveness from `vmrun list` and
`showvminfo --machinereadable`, suspend and resume, stop and the kill at
the stop timeout, and the tools' failure modes (VM not found, already
running, a soft stop refused without VMware Tools). --vmware alone is the
foreground vmware-vmx with a vmx-check at add; import-launchd maps the
tools' own command lines in plists to these shortcuts."""
import json
import os
import plistlib
import signal
import sys
import time
import unittest

from vmtest import DaemonCase, VmschedCase, alive, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
FAKEVM = os.path.join(HERE, "fakevm.py")



class Tools:
    """A bin directory with the stand-ins under their tools' names, first
    on PATH, and their state kept in the test's directory."""

    def tools(self):
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        for src, name in (("fake_vmrun.py", "vmrun"),
                          ("fake_vboxmanage.py", "VBoxManage")):
            os.symlink(os.path.join(HERE, src), os.path.join(self.bin, name))
        self.env["PATH"] = self.bin + ":" + self.env.get("PATH", "")
        self.env["FAKE_VMRUN_REGISTRY"] = os.path.join(self.dir, "vmrun.reg")
        self.env["FAKE_VBOX_HOME"] = os.path.join(self.dir, "vbox")
        os.mkdir(self.env["FAKE_VBOX_HOME"])

    def vmx(self, name, tools=True):
        path = os.path.join(self.dir, name + ".vmx")
        with open(path, "w") as f:
            f.write('.encoding = "UTF-8"\nmsg.autoAnswer = "TRUE"\n')
            if not tools:
                f.write('tools.running = "FALSE"\n')
        return path

    def vbox(self, name, acpi=True):
        home = self.env["FAKE_VBOX_HOME"]
        open(os.path.join(home, name + ".vbox"), "w").close()
        if not acpi:
            open(os.path.join(home, name + ".noacpi"), "w").close()
        return os.path.join(home, name + ".book")

    def instances(self, book):
        try:
            with open(os.path.join(book, "starts")) as f:
                return [int(l.split()[0]) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def live(self, book):
        return [p for p in self.instances(book) if alive(p)]

    def show(self, name):
        return self.ok("--json", "show", name).json()

    def run_tool(self, *argv):
        import subprocess
        return subprocess.run(list(argv), env=self.env, capture_output=True,
                              text=True)


class Vmrun(Tools, DaemonCase):

    def setUp(self):
        super().setUp()
        self.tools()

    def tearDown(self):
        # The VMs are not the daemon's children: end what is left.
        for d in os.listdir(self.dir):
            if d.endswith(".book"):
                for pid in self.live(os.path.join(self.dir, d)):
                    os.kill(pid, signal.SIGKILL)
        super().tearDown()

    def test_expansion_and_show(self):
        x = self.vmx("Test")
        self.ok("add", "t", "--vmware", x, "--vmrun")
        vm = self.show("t")
        vmrun = os.path.join(self.bin, "vmrun")
        self.assertEqual(vm["driver"], "detached")
        self.assertEqual(vm["argv"], [vmrun, "-T", "ws", "start", x,
                                      "nogui"])
        det = vm["detached"]
        self.assertEqual(det["status_cmd"], [vmrun, "-T", "ws", "list"])
        self.assertEqual(det["stop_cmd"], [vmrun, "-T", "ws", "stop", x,
                                           "soft"])
        self.assertEqual(det["kill_cmd"], [vmrun, "-T", "ws", "stop", x,
                                           "hard"])
        self.assertEqual(det["suspend_cmd"], [vmrun, "-T", "ws", "suspend",
                                              x, "soft"])
        self.assertEqual(det["status_map"], ["running=" + x,
                                             "stopped=Total running VMs:*"])
        self.assertEqual(vm["liveness"], "status every 5s")
        text = self.ok("show", "t").out.decode()
        self.assertIn("stop-cmd         %s -T ws stop %s soft" % (vmrun, x),
                      text)
        self.ok("add", "plain", "--", "/bin/true")
        lines = self.ok("list").out.decode().splitlines()
        self.assertTrue(lines[0].endswith("  DRIVER"), lines)
        self.assertTrue(lines[1].startswith("plain ") and
                        lines[1].endswith("  exec"), lines)
        self.assertTrue(lines[2].startswith("t ") and
                        lines[2].endswith("  detached (status)"), lines)
        # fusion on request
        self.ok("add", "f", "--vmware", x, "--vmrun", "--vmrun-type",
                "fusion")
        self.assertEqual(self.show("f")["argv"][1:3], ["-T", "fusion"])

    def test_lifecycle(self):
        x = self.vmx("Test")
        book = x + ".book"
        self.ok("add", "t", "--vmware", x, "--vmrun", "--status-interval",
                "200ms", "--stop-timeout", "5s")
        self.start_daemon()
        self.wait_state("t", "up")
        pid = wait_for(lambda: self.live(book), what="the VM")[0]
        out = self.run_tool("vmrun", "-T", "ws", "list").stdout
        self.assertEqual(out, "Total running VMs: 1\n%s\n" % x)
        self.assertIsNone(self.pid("t"))   # vmrun knows no pid
        # suspend soft, then start resumes it
        self.ok("suspend", "t")
        self.assertFalse(alive(pid))
        self.assertTrue(os.path.exists(os.path.join(book, "saved")))
        self.assertEqual(self.runs("t")[-1]["reason"], "suspended")
        # (vmrun list tells a suspended VM from one that is off no more
        # than it tells a crash: the start command resumes it either way)
        self.ok("start", "t")
        self.assertEqual(len(self.instances(book)), 2)
        self.assertFalse(os.path.exists(os.path.join(book, "saved")))
        # stop soft (its Tools run): a clean stop
        self.ok("stop", "t")
        self.assertEqual(self.live(book), [])
        self.assertEqual(self.runs("t")[-1]["reason"], "stopped")
        # the VM dies: vmrun list no longer has it. (vmrun cannot tell a
        # crash from a guest that shut itself down: on-failure leaves it.)
        self.ok("start", "t")
        pid = wait_for(lambda: self.live(book), what="the VM")[0]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: len(self.runs("t")) == 3 and
                 self.runs("t")[2]["ended_at"], what="its end seen")
        r = self.runs("t")[2]
        self.assertEqual(r["reason"], "exited")
        self.assertIn('status said "Total running VMs: 0"', r["detail"])
        self.wait_state("t", "stopped")

    def test_soft_stop_refused_without_tools(self):
        x = self.vmx("NoTools", tools=False)
        book = x + ".book"
        self.ok("add", "t", "--vmware", x, "--vmrun", "--status-interval",
                "200ms", "--stop-timeout", "1s")
        self.start_daemon()
        self.wait_state("t", "up")
        wait_for(lambda: self.live(book), what="the VM")
        self.ok("stop", "t", "--timeout", "30s")
        self.assertEqual(self.live(book), [])
        r = self.runs("t")[-1]
        self.assertEqual(r["reason"], "killed-after-timeout")
        with open(os.path.join(self.dir, "logs", "t.log")) as f:
            log = f.read()
        self.assertIn("Error: The VMware Tools are not running in the "
                      "virtual machine: " + x, log)
        self.assertIn("stop command exited 255: Error: The VMware Tools "
                      "are not running", self.read_log())

    def test_vm_not_found_fails_its_start(self):
        x = os.path.join(self.dir, "Missing.vmx")
        r = self.ok("add", "t", "--vmware", x, "--vmrun", "--max-failures",
                    "1")
        self.assertIn("Missing.vmx: not checked", r.err.decode())
        self.start_daemon()
        self.wait_state("t", "failed")
        r = self.runs("t")[0]
        self.assertEqual(r["reason"], "exec-failed")
        self.assertEqual(r["detail"], "start command exited 255: Error: "
                         "Cannot open VM: %s, The virtual machine cannot be "
                         "found" % x)

    def test_already_running_is_taken_over(self):
        x = self.vmx("Test")
        book = x + ".book"
        self.assertEqual(self.run_tool("vmrun", "start", x,
                                       "nogui").returncode, 0)
        pid = wait_for(lambda: self.live(book), what="the VM")[0]
        # and its start command would say so: exit 255
        again = self.run_tool("vmrun", "start", x, "nogui")
        self.assertEqual(again.returncode, 255)
        self.assertIn("already running", again.stdout)
        self.ok("add", "t", "--vmware", x, "--vmrun")
        self.start_daemon()
        self.wait_state("t", "up")
        self.assertEqual(self.instances(book), [pid])
        self.assertIn("already running", self.runs("t")[0]["detail"])


class VirtualBox(Tools, DaemonCase):

    def setUp(self):
        super().setUp()
        self.tools()

    def tearDown(self):
        home = self.env["FAKE_VBOX_HOME"]
        for d in os.listdir(home):
            if d.endswith(".book"):
                for pid in self.live(os.path.join(home, d)):
                    os.kill(pid, signal.SIGKILL)
        super().tearDown()

    def add(self, name, *opts):
        self.ok("add", "v", "--virtualbox", name, "--status-interval",
                "200ms", *opts)

    def test_expansion(self):
        self.vbox("My VM")
        self.add("My VM")
        vm = self.show("v")
        vbm = os.path.join(self.bin, "VBoxManage")
        self.assertEqual(vm["argv"], [vbm, "startvm", "My VM", "--type",
                                      "headless"])
        det = vm["detached"]
        self.assertEqual(det["status_cmd"], [vbm, "showvminfo", "My VM",
                                             "--machinereadable"])
        self.assertEqual(det["stop_cmd"], [vbm, "controlvm", "My VM",
                                           "acpipowerbutton"])
        self.assertEqual(det["kill_cmd"], [vbm, "controlvm", "My VM",
                                           "poweroff"])
        self.assertEqual(det["suspend_cmd"], [vbm, "controlvm", "My VM",
                                              "savestate"])

    def test_lifecycle(self):
        book = self.vbox("web")
        self.add("web", "--stop-timeout", "5s")
        self.start_daemon()
        self.wait_state("v", "up")
        pid = wait_for(lambda: self.live(book), what="the VM")[0]
        out = self.run_tool("VBoxManage", "showvminfo", "web",
                            "--machinereadable").stdout
        self.assertIn('VMState="running"', out)
        # savestate; startvm restores it
        self.ok("suspend", "v")
        self.assertFalse(alive(pid))
        r = self.runs("v")[-1]
        self.assertEqual(r["reason"], "suspended")
        self.assertIn('status said "VMState="saved""', r["detail"])
        self.ok("start", "v")
        self.assertEqual(len(self.instances(book)), 2)
        # acpipowerbutton: the guest shuts down
        self.ok("stop", "v")
        self.assertEqual(self.live(book), [])
        self.assertEqual(self.runs("v")[-1]["reason"], "stopped")
        # its process killed: VMState="aborted", a crash, restarted
        self.ok("start", "v")
        pid = wait_for(lambda: self.live(book), what="the VM")[0]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: len(self.instances(book)) == 4, timeout=20,
                 what="the restart after the crash")
        r = self.runs("v")[2]
        self.assertEqual(r["reason"], "crashed")
        self.assertIn('VMState="aborted"', r["detail"])
        self.assertEqual(r["failures"], 1)

    def test_guest_ignoring_acpi_is_powered_off(self):
        book = self.vbox("deaf", acpi=False)
        self.add("deaf", "--stop-timeout", "1s")
        self.start_daemon()
        self.wait_state("v", "up")
        wait_for(lambda: self.live(book), what="the VM")
        self.ok("stop", "v", "--timeout", "30s")
        self.assertEqual(self.live(book), [])
        self.assertEqual(self.runs("v")[-1]["reason"],
                         "killed-after-timeout")
        out = self.run_tool("VBoxManage", "showvminfo", "deaf",
                            "--machinereadable").stdout
        self.assertIn('VMState="poweroff"', out)

    def test_not_registered_fails_its_start(self):
        self.add("ghost", "--max-failures", "1")
        self.start_daemon()
        self.wait_state("v", "failed")
        self.assertEqual(self.runs("v")[0]["detail"], "start command "
                         "exited 1: VBoxManage: error: Could not find a "
                         "registered machine named 'ghost'")

    def test_already_running_is_taken_over(self):
        book = self.vbox("web")
        self.assertEqual(self.run_tool("VBoxManage", "startvm", "web",
                                       "--type", "headless").returncode, 0)
        pid = wait_for(lambda: self.live(book), what="the VM")[0]
        again = self.run_tool("VBoxManage", "startvm", "web")
        self.assertEqual(again.returncode, 1)
        self.assertIn("is already locked", again.stderr)
        self.add("web")
        self.start_daemon()
        self.wait_state("v", "up")
        self.assertEqual(self.instances(book), [pid])


class Shortcuts(Tools, VmschedCase):
    """What add takes and refuses, without a daemon."""

    def setUp(self):
        super().setUp()
        self.tools()

    def test_vmware_exec_with_vmx_check(self):
        x = os.path.join(self.dir, "T.vmx")
        with open(x, "w") as f:
            f.write('.encoding = "UTF-8"\nRemoteDisplay.vnc.port = "5901"\n'
                    'RemoteDisplay.vnc.port = "5902"\n')
        vmx = os.path.join(self.dir, "vmware-vmx")
        with open(vmx, "w") as f:
            f.write("#!/bin/sh\nexec %s %s run --book \"$2.book\"\n"
                    % (sys.executable, FAKEVM))
        os.chmod(vmx, 0o755)
        r = self.ok("add", "t", "--vmware", x, "--vmware-vmx", vmx)
        err = r.err.decode()
        # vmx-check's findings, as warnings: nothing refused
        self.assertIn("msg.autoAnswer", err)
        self.assertIn("signal.powerOffOnTERM", err)
        self.assertIn("T.vmx:3:", err)
        self.assertIn("a warning", err)
        vm = self.show("t")
        self.assertEqual(vm["driver"], "exec")
        self.assertEqual(vm["argv"], [vmx, "-x", x])
        self.assertEqual((vm["stop_signal"], vm["suspend_signal"]),
                         ("TERM", "HUP"))
        self.assertIsNone(vm["detached"])
        # without a vmware-vmx anywhere: refused, saying where it looked
        env = dict(self.env, PATH="/nonexistent")
        r = self.fails(66, "add", "u", "--vmware", x, env=env)
        self.assertIn("vmware-vmx not found (looked in PATH", r.err.decode())
        self.assertIn("--vmware-vmx PATH", r.err.decode())

    def test_refusals(self):
        x = self.vmx("T")
        for args, why in [
                (["--vmrun"], "--vmrun goes with --vmware"),
                (["--vmware", x, "--libvirt", "d"], "only one of"),
                (["--libvirt", "-c"], "may not start with '-'"),
                (["--libvirt", "a/b"], "has no '/'"),
                (["--virtualbox", ""], "empty"),
                (["--connect", "qemu:///system"], "--connect goes with"),
                (["--vmware", x, "--vmrun", "--vmrun-type", "esx"],
                 "not fusion, ws or player"),
                (["--vmware", x, "--vmrun", "--", "/bin/true"],
                 "makes the command"),
                (["--qemu", "--", "/bin/sleep", "1"], "qemu-system-*"),
                (["--qemu"], "goes after --"),
                (["--qemu", "--run-dir", "rel", "--", "qemu-system-x86_64"],
                 "absolute"),
                (["--driver", "detached", "--", "/bin/true"],
                 "needs --pid-file or --status-cmd"),
                (["--stop-cmd", '["/bin/true"]', "--", "/bin/true"],
                 "add --driver detached"),
                (["--driver", "detached", "--status-cmd", "virsh list",
                  "--", "/bin/true"], "not a JSON array of strings"),
                (["--driver", "detached", "--status-cmd", '["a", 1]',
                  "--", "/bin/true"], "element 2 is not a string"),
                (["--driver", "detached", "--status-cmd", '[]', "--",
                  "/bin/true"], "an empty command"),
                (["--driver", "detached", "--status-cmd", '["a\\u0000b"]',
                  "--", "/bin/true"], "holds a NUL byte"),
                (["--driver", "detached", "--status-cmd", '["a\\\\u0000b"]',
                  "--status-cmd", "[1]", "--", "/bin/true"], "element 1"),
                (["--driver", "detached", "--status-cmd", '["x"]',
                  "--status-map", "up=running", "--", "/bin/true"],
                 "must be running, stopped, suspended or crashed"),
                (["--driver", "detached", "--pid-file", "/p",
                  "--status-map", "running=x", "--", "/bin/true"],
                 "--status-map needs a --status-cmd"),
                (["--driver", "detached", "--pid-file", "rel", "--",
                  "/bin/true"], "absolute path"),
                (["--driver", "detached", "--pid-file", "/p",
                  "--status-interval", "10ms", "--", "/bin/true"],
                 "at least 100ms"),
                (["--driver", "other", "--", "/bin/true"],
                 "not exec or detached"),
        ]:
            with self.subTest(args=args):
                r = self.fails(64, "add", "bad", *args)
                self.assertIn(why, r.err.decode())
        self.assertEqual(self.ok("list", "--json").json() if
                         os.path.exists(self.db) else [], [])
        # a tool named that is not there: a warning, as for the .vmx
        r = self.ok("add", "v", "--virtualbox", "x", "--tool",
                    "/nonexistent/VBoxManage")
        self.assertIn("/nonexistent/VBoxManage: No such file", r.err.decode())

    def test_set_changes_the_detached_ways(self):
        x = self.vmx("T")
        self.ok("add", "t", "--vmware", x, "--vmrun")
        self.ok("set", "t", "--status-interval", "2s", "--stop-cmd",
                '["/bin/echo", "stop"]', "--status-map", "running=r",
                "--status-map", "stopped=exit:3")
        det = self.show("t")["detached"]
        self.assertEqual(det["status_interval_ms"], 2000)
        self.assertEqual(det["stop_cmd"], ["/bin/echo", "stop"])
        self.assertEqual(det["status_map"], ["running=r", "stopped=exit:3"])
        # an empty value clears; a detached VM must keep a way to see it
        self.fails(64, "set", "t", "--status-cmd", "")
        self.ok("set", "t", "--kill-cmd", "")
        self.assertIsNone(self.show("t")["detached"]["kill_cmd"])
        changed = [e for e in self.ok("--json", "log", "t").json()
                   if e.get("event") == "vm.changed"]
        self.assertEqual(len(changed), 2)


class ImportLaunchd(Tools, VmschedCase):

    def setUp(self):
        super().setUp()
        self.tools()

    def plist(self, name, argv, **more):
        path = os.path.join(self.dir, name + ".plist")
        with open(path, "wb") as f:
            plistlib.dump(dict(Label=name, ProgramArguments=argv,
                               RunAtLoad=True, KeepAlive=True, **more), f)
        return path

    def test_hypervisor_commands_become_shortcuts(self):
        x = self.vmx("Test")
        vbh = os.path.join(self.dir, "vb", "VBoxHeadless")
        files = [
            self.plist("vm.vmrun", ["vmrun", "-T", "fusion", "start", x,
                                    "nogui"]),
            self.plist("vm.vbox", ["VBoxManage", "startvm", "My VM",
                                   "--type", "headless"]),
            self.plist("vm.headless", [vbh, "--startvm", "Other"]),
            self.plist("vm.virsh", ["/usr/bin/virsh", "-c",
                                    "qemu:///system", "start", "web"]),
            self.plist("vm.plain", ["/opt/vm/run"]),
        ]
        r = self.ok("import-launchd", "--dry-run", *files)
        lines = r.out.decode().splitlines()
        err = r.err.decode()
        vmrun = os.path.join(self.bin, "vmrun")
        vbm = os.path.join(self.bin, "VBoxManage")
        self.assertEqual(lines[0], "vmsched add vm.vmrun --restart always "
                         "--vmware %s --vmrun --vmrun-type fusion --tool %s"
                         % (x, vmrun))
        self.assertEqual(lines[1], "vmsched add vm.vbox --restart always "
                         "--virtualbox 'My VM' --tool %s" % vbm)
        self.assertEqual(lines[2], "vmsched add vm.headless --restart "
                         "always --virtualbox Other --tool %s"
                         % os.path.join(self.dir, "vb", "VBoxManage"))
        self.assertEqual(lines[3], "vmsched add vm.virsh --restart always "
                         "--libvirt web --connect qemu:///system --tool "
                         "/usr/bin/virsh")
        self.assertEqual(lines[4], "vmsched add vm.plain --restart always "
                         "-- /opt/vm/run")
        self.assertIn("vm.vmrun.plist: vmrun -T fusion start %s nogui is "
                      "VMware's vmrun: imported as --vmware" % x, err)
        self.assertIn("is libvirt's virsh: imported as --libvirt web", err)
        self.assertIn("detached driver; it returns at once", err)
        self.assertNotIn("vm.plain.plist", err)
        # the import itself stores what the lines define
        self.ok("import-launchd", *files)
        vm = self.show("vm.virsh")
        self.assertEqual(vm["driver"], "detached")
        self.assertEqual(vm["detached"]["kill_cmd"],
                         ["/usr/bin/virsh", "-c", "qemu:///system",
                          "destroy", "web"])
        self.assertEqual(vm["restart"], "always")
        vm = self.show("vm.headless")
        self.assertEqual(vm["argv"], [os.path.join(self.dir, "vb",
                                                   "VBoxManage"),
                                      "startvm", "Other", "--type",
                                      "headless"])
        dry = os.path.join(self.dir, "dry.db")
        for line in lines:
            import shlex
            words = shlex.split(line)[1:]
            self.ok("--db", dry, *words)
        skip = {"created_at", "updated_at", "since", "state"}
        for name in ("vm.vmrun", "vm.vbox", "vm.headless", "vm.virsh"):
            a = self.show(name)
            b = self.ok("--db", dry, "show", "--json", name).json()
            self.assertEqual({k: v for k, v in a.items() if k not in skip},
                             {k: v for k, v in b.items() if k not in skip},
                             name)


if __name__ == "__main__":
    unittest.main()

"""A real detached hypervisor (issue 12): qemu-system-x86_64 with
`-machine none -nodefaults -display none -daemonize -pidfile P -qmp ...`,
supervised through the detached driver as an operator would write it and
through the --qemu shortcut. What vmsched did is checked against what QEMU
itself says: a second QMP socket, the test's own (tests/qmpwatch.py),
receives QEMU's events (POWERDOWN for system_powerdown, STOP and RESUME for
a pause and its end, SHUTDOWN when it goes)."""
import json
import os
import shutil
import signal
import time
import unittest

from qmpwatch import QmpWatch
from vmtest import DaemonCase, alive, wait_for

QEMU = shutil.which("qemu-system-x86_64")
BASE = ["-machine", "none", "-nodefaults", "-display", "none"]



def comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


@unittest.skipIf(QEMU is None, "qemu-system-x86_64 is not installed "
                 "(tools/deps.sh installs qemu-system-x86)")
class Qemu(DaemonCase):

    def setUp(self):
        super().setUp()
        self.watchers = []
        self.pids = []

    def tearDown(self):
        for w in self.watchers:
            w.close()
        super().tearDown()
        # QEMU is not the daemon's child: kill any this test left.
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def watch(self, sock):
        w = QmpWatch(sock)
        self.watchers.append(w)
        return w

    def qemu_pid(self, name):
        pid = wait_for(lambda: self.pid(name), what="a pid for " + name)
        self.pids.append(pid)
        self.assertTrue(comm(pid).startswith("qemu-system"), comm(pid))
        return pid

    def test_detached_as_an_operator_writes_it(self):
        pidfile = os.path.join(self.dir, "q.pid")
        sock = os.path.join(self.dir, "q.qmp")
        mine = os.path.join(self.dir, "test.qmp")

        def qmp(cmd):
            return json.dumps(["vmsched", "qmp", sock, cmd])
        self.ok("add", "q", "--driver", "detached", "--pid-file", pidfile,
                "--status-cmd", qmp("query-status"), "--status-map",
                "running=running", "--status-map", "suspended=paused",
                "--status-interval", "500ms", "--stop-cmd",
                qmp("system_powerdown"), "--stop-timeout", "2s", "--",
                QEMU, *BASE, "-daemonize", "-pidfile", pidfile, "-qmp",
                "unix:%s,server=on,wait=off" % sock, "-qmp",
                "unix:%s,server=on,wait=off" % mine)
        self.start_daemon()
        self.wait_state("q", "up")
        pid = self.qemu_pid("q")
        with open(pidfile) as f:
            self.assertEqual(int(f.read()), pid)
        w = self.watch(mine)
        t0 = time.monotonic()
        self.ok("stop", "q", "--timeout", "30s")
        took = time.monotonic() - t0
        # QEMU heard the ACPI power button; a guest without an OS does
        # nothing about it, so the stop timeout ends it (SIGTERM).
        self.assertIn("POWERDOWN", w.names())
        self.assertFalse(alive(pid))
        self.assertGreaterEqual(took, 1.9)
        r = self.runs("q")[-1]
        self.assertEqual(r["reason"], "killed-after-timeout")
        self.assertEqual(r["pid"], pid)
        wait_for(lambda: "SHUTDOWN" in w.names(), what="QEMU's SHUTDOWN")
        shutdown = [e for e in w.events if e["event"] == "SHUTDOWN"][0]
        self.assertEqual(shutdown["data"]["reason"], "host-signal")

    def test_qemu_shortcut(self):
        mine = os.path.join(self.dir, "test.qmp")
        self.ok("add", "q", "--qemu", "--stop-timeout", "2s",
                "--status-interval", "500ms", "--", "qemu-system-x86_64",
                *BASE, "-qmp", "unix:%s,server=on,wait=off" % mine)
        vm = self.show("q")
        # Expanded at add time into a complete definition.
        run = os.path.join(self.dir, "run")
        self.assertEqual(vm["driver"], "detached")
        self.assertEqual(vm["argv"][0], QEMU)
        self.assertIn("-daemonize", vm["argv"])
        self.assertIn(os.path.join(run, "q.pid"), vm["argv"])
        self.assertIn("unix:%s,server=on,wait=off" %
                      os.path.join(run, "q.qmp"), vm["argv"])
        det = vm["detached"]
        self.assertEqual(det["pid_file"], os.path.join(run, "q.pid"))
        sock = os.path.join(run, "q.qmp")
        self.assertEqual(det["stop_cmd"], ["vmsched", "qmp", sock,
                                           "system_powerdown"])
        self.assertEqual(det["suspend_cmd"], ["vmsched", "qmp", sock,
                                              "stop"])
        self.assertEqual(det["resume_cmd"], ["vmsched", "qmp", sock,
                                             "cont"])
        self.assertIsNone(det["kill_cmd"])
        self.assertIn(b"vmsched qmp " + sock.encode() + b" system_powerdown",
                      self.ok("show", "q").out)
        self.start_daemon()
        self.wait_state("q", "up")
        pid = self.qemu_pid("q")
        w = self.watch(mine)
        # suspend is a pause: the process stays, QEMU says STOP.
        self.ok("suspend", "q", "--timeout", "30s")
        self.assertEqual(self.state("q"), "suspended")
        self.assertTrue(alive(pid))
        wait_for(lambda: "STOP" in w.names(), what="QEMU's STOP")
        r = self.runs("q")[-1]
        self.assertEqual(r["reason"], "suspended")
        self.assertIn('status said "paused"', r["detail"])
        self.assertEqual(self.ok("qmp", sock, "query-status").out,
                         b"paused\n")
        # start resumes it (cont), the same process, recorded as such.
        self.ok("start", "q", "--timeout", "30s")
        wait_for(lambda: "RESUME" in w.names(), what="QEMU's RESUME")
        self.assertEqual(self.pid("q"), pid)
        runs = self.runs("q")
        self.assertEqual(len(runs), 2)
        self.assertEqual(runs[-1]["pid"], pid)
        self.assertIn("resumed (resume command)", runs[-1]["detail"])
        self.assertIn("resumed", [e["detail"]["detail"] or "" for e in
                                  self.ok("--json", "log", "q").json()
                                  if e["kind"] == "event" and
                                  e["event"] == "vm.started"][0])
        # stop: the ACPI button first; SIGTERM only after the timeout.
        t0 = time.monotonic()
        self.ok("stop", "q", "--timeout", "30s")
        self.assertIn("POWERDOWN", w.names())
        self.assertGreaterEqual(time.monotonic() - t0, 1.9)
        self.assertFalse(alive(pid))
        self.assertEqual(self.runs("q")[-1]["reason"],
                         "killed-after-timeout")

    def test_qemu_killed_is_restarted(self):
        self.ok("add", "q", "--qemu", "--backoff-initial", "100ms",
                "--", "qemu-system-x86_64", *BASE)
        self.start_daemon()
        self.wait_state("q", "up")
        pid = self.qemu_pid("q")
        os.kill(pid, signal.SIGKILL)
        # its pidfd says it went; nothing says how: a failure, restarted
        wait_for(lambda: self.pid("q") not in (None, pid), timeout=20,
                 what="a new QEMU")
        self.qemu_pid("q")
        r = self.runs("q")[0]
        self.assertEqual(r["reason"], "adopted-unknown")
        self.assertIn("pid %d ended" % pid, r["detail"])
        self.assertEqual(r["failures"], 1)


if __name__ == "__main__":
    unittest.main()

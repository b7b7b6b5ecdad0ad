"""log -f and events -f on the real binary and the real daemon: the
backlog oldest first, then each row as it lands; woken by the database
(PRAGMA data_version every 250 ms), so idle it costs next to no CPU; a
clean exit on SIGINT, SIGTERM and a reader that goes away; --json as JSON
Lines."""
import json
import os
import select
import signal
import subprocess
import time

from vmtest import VMSCHED, DaemonCase, wait_for


class Follower:
    """`vmsched ARGS` running, its output read as it comes."""

    def __init__(self, case, *args):
        self.proc = subprocess.Popen([VMSCHED] + list(args),
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=case.env)
        self.buf = b""
        case.addCleanup(self.close)

    def read(self, timeout=0.1):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if ready:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            self.buf += chunk
            return bool(chunk)
        return False

    def lines(self):
        return self.buf.decode().splitlines()

    def wait_line(self, pred, timeout=10, what="a line"):
        def found():
            self.read()
            return [l for l in self.lines() if pred(l)]
        return wait_for(found, timeout=timeout, interval=0,
                        what="%s in %r" % (what, self.buf))

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class LogFollow(DaemonCase):

    def test_backlog_then_new_rows(self):
        for i in range(15):
            self.ok("add", "vm%02d" % i, "--disabled", "--", "true")
        f = Follower(self, "log", "-f")
        rows = f.wait_line(lambda l: "vm14" in l, what="the backlog")
        # The last 10 rows, oldest first.
        f.read(0.5)
        lines = f.lines()
        self.assertEqual(len(lines), 10, lines)
        self.assertEqual([l.split()[2] for l in lines],
                         ["vm%02d" % i for i in range(5, 15)])
        self.assertTrue(all("vm.defined by uid" in l for l in lines))
        # A VM that crashes: its start, then its end with the rule.
        self.ok("add", "crash", "--max-failures", "1", "--", "sh", "-c",
                "sleep 0.3; exit 3")
        self.start_daemon()
        started = f.wait_line(lambda l: "crash" in l and "running" in l,
                              what="the run's start")[0]
        ended = f.wait_line(lambda l: "crash" in l and "exited 3" in l,
                            what="the run's end")[0]
        self.assertRegex(started, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  crash"
                         r" +run pid \d+ running$")
        self.assertIn("on-failure: exit 3 is a failure", ended)
        f.wait_line(lambda l: "vm.failed" in l, what="vm.failed")
        # Nothing printed twice but the run (start, end).
        lines = f.lines()
        self.assertEqual(len(lines), len(set(lines)), lines)
        self.assertEqual(len([l for l in lines if "run pid" in l]), 2)

    def test_one_vm(self):
        self.ok("add", "web", "--", "sleep", "600")
        self.ok("add", "db", "--", "sleep", "600")
        f = Follower(self, "log", "web", "--follow")
        f.wait_line(lambda l: "web" in l and "vm.defined" in l)
        self.ok("set", "db", "--order", "5")
        self.ok("set", "web", "--order", "7")
        f.wait_line(lambda l: "vm.changed" in l)
        f.read(0.5)
        self.assertTrue(all(" web " in l for l in f.lines()), f.lines())

    def test_json_lines(self):
        self.ok("add", "once", "--restart", "never", "--", "sh", "-c",
                "sleep 0.3")
        f = Follower(self, "--json", "log", "-f")
        f.wait_line(lambda l: "vm.defined" in l)
        self.start_daemon()
        f.wait_line(lambda l: '"kind":"run"' in l and '"ended_at":null'
                    not in l, what="the ended run")
        objs = [json.loads(l) for l in f.lines()]
        runs = [o for o in objs if o["kind"] == "run"]
        self.assertEqual(len(runs), 2, objs)
        self.assertIsNone(runs[0]["ended_at"])
        self.assertEqual(runs[1]["reason"], "exited")
        self.assertEqual(runs[0]["started_at"], runs[1]["started_at"])
        # --json has every event, vm.started too.
        self.assertIn("vm.started", [o.get("event") for o in objs])

    def test_idle_costs_nothing_and_wakes_fast(self):
        self.ok("add", "web", "--", "sleep", "600")
        f = Follower(self, "log", "-f")
        f.wait_line(lambda l: "vm.defined" in l)
        before = f.cpu_seconds()
        time.sleep(2)
        self.assertLess(f.cpu_seconds() - before, 0.1)
        t0 = time.monotonic()
        self.ok("set", "web", "--order", "3")
        f.wait_line(lambda l: "vm.changed" in l)
        self.assertLess(time.monotonic() - t0, 2.0)

    def test_sigint_and_sigterm_exit_cleanly(self):
        self.ok("add", "web", "--", "sleep", "600")
        for sig in (signal.SIGINT, signal.SIGTERM):
            f = Follower(self, "log", "-f")
            f.wait_line(lambda l: "vm.defined" in l)
            f.proc.send_signal(sig)
            self.assertEqual(f.proc.wait(timeout=5), 0)
            self.assertEqual(f.proc.stderr.read(), b"")

    def test_reader_gone_exits_cleanly(self):
        self.ok("add", "web", "--", "sleep", "600")
        f = Follower(self, "log", "-f")
        f.wait_line(lambda l: "vm.defined" in l)
        f.proc.stdout.close()	# as `| head -1` does once it has its line
        n = 0
        def gone():
            nonlocal n
            n += 1
            self.ok("set", "web", "--order", str(n))
            return f.proc.poll() is not None
        wait_for(gone, timeout=10, interval=0.3, what="log -f to end")
        self.assertEqual(f.proc.returncode, 0)
        self.assertEqual(f.proc.stderr.read(), b"")
        f.proc.stdout = open(os.devnull, "rb")

    def test_unknown_vm(self):
        self.ok("db", "migrate")
        r = self.fails(66, "log", "-f", "nosuch")
        self.assertIn(b"no such VM", r.err)


class EventsFollow(DaemonCase):

    def test_new_events(self):
        self.ok("add", "web", "--", "sleep", "600")
        f = Follower(self, "events", "-f")
        f.wait_line(lambda l: "vm.defined" in l)
        self.start_daemon()
        f.wait_line(lambda l: "scheduler.started" in l)
        line = f.wait_line(lambda l: "vm.up" in l)[0]
        self.assertRegex(line, r"^\d+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  vm.up"
                         r" +web +none +0$")
        ids = [int(l.split()[0]) for l in f.lines()]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(ids), len(set(ids)))

    def test_json_lines(self):
        self.ok("db", "migrate")
        f = Follower(self, "events", "-f", "--json")
        self.ok("add", "web", "--", "sleep", "600")
        self.ok("add", "db", "--", "sleep", "600")
        f.wait_line(lambda l: '"vm":"db"' in l)
        objs = [json.loads(l) for l in f.lines()]
        self.assertEqual([(o["event"], o["vm"]) for o in objs],
                         [("vm.defined", "web"), ("vm.defined", "db")])
        self.assertEqual(set(objs[0]), set(self.ok(
            "--json", "events").json()[0]))

    def test_refusals(self):
        self.fails(64, "events", "-f", "--pending")
        self.fails(64, "events", "--failed", "--follow")

"""Boot-time scheduling end to end (issue 4): gates, order groups, hard
dependencies, readiness, boot-storm control, once per boot and ordered
shutdown, judged from the history's timestamps."""
import os
import socket
import subprocess
import time
import unittest

from test_daemon import ms
from vmtest import DaemonCase, wait_for


def now_ms():
    return int(time.time() * 1000)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    return s


class Gates(DaemonCase):

    def test_seed_recipe_waits_for_the_vmnet_file(self):
        # The seed's shell loop: wait for vmnet's pid file, then start.
        pidfile = os.path.join(self.dir, "vmnet-bridge-vmnet0.pid")
        self.ok("add", "test-vm", "--wait-path", pidfile, "--",
                "sleep", "1000")
        self.start_daemon()
        self.wait_state("test-vm", "waiting")
        self.assertIn("wait-path", self.show("test-vm")["why"])
        # The scenario: the file appears 2 s after boot.
        time.sleep(2)
        self.assertEqual(self.runs("test-vm"), [])
        created = now_ms()
        open(pidfile, "w").close()
        self.wait_state("test-vm", "up")
        started = ms(self.runs("test-vm")[0]["started_at"])
        self.assertGreaterEqual(started, created)
        self.assertLess(started - created, 1000)

    def test_wait_tcp_with_a_late_listener(self):
        port = free_port()
        self.ok("add", "db-client", "--wait-tcp", "127.0.0.1:%d" % port,
                "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("db-client", "waiting")
        time.sleep(1)   # the listener opens late, on purpose
        self.assertEqual(self.runs("db-client"), [])
        opened = now_ms()
        sock = listen(port)
        try:
            self.wait_state("db-client", "up")
        finally:
            sock.close()
        started = ms(self.runs("db-client")[0]["started_at"])
        self.assertGreaterEqual(started, opened)
        self.assertLess(started - opened, 1000)

    def test_wait_cmd(self):
        flag = os.path.join(self.dir, "ready")
        self.ok("add", "cmd-gated", "--wait-cmd", "test -e %s" % flag,
                "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("cmd-gated", "waiting")
        made = now_ms()
        open(flag, "w").close()
        self.wait_state("cmd-gated", "up")
        started = ms(self.runs("cmd-gated")[0]["started_at"])
        self.assertGreaterEqual(started, made)
        self.assertLess(started - made, 1000)

    def test_gate_timeout_is_recorded_and_retried(self):
        self.ok("add", "never", "--wait-path", "/nonexistent/vmnet.pid",
                "--wait-timeout", "400ms", "--backoff-initial", "200ms",
                "--max-failures", "2", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("never", "failed")
        runs = self.runs("never")
        self.assertEqual(len(runs), 2)
        for r in runs:
            self.assertEqual(r["reason"], "gate-timeout")
            self.assertEqual(r["detail"], "wait-path /nonexistent/vmnet.pid")
            self.assertIsNone(r["pid"])
            took = ms(r["ended_at"]) - ms(r["started_at"])
            self.assertGreaterEqual(took, 390)
        self.assertIsNotNone(runs[0]["delay_ms"])
        self.assertTrue(runs[1]["breaker"])
        self.assertEqual(self.events("never").count("vm.blocked"), 2)


class Order(DaemonCase):

    def up_at(self, name):
        rows = self.ok("--json", "log", name).json()
        ups = [r for r in rows if r.get("event") == "vm.up"]
        self.assertTrue(ups, "%s never up" % name)
        return ms(ups[-1]["time"])

    def test_order_groups_start_once_the_lower_is_up(self):
        self.ok("add", "a", "--order", "10", "--up-delay", "800ms", "--",
                "sleep", "1000")
        self.ok("add", "b", "--order", "20", "--", "sleep", "1000")
        self.ok("add", "c", "--order", "20", "--", "sleep", "1000")
        self.start_daemon()
        for n in "abc":
            self.wait_state(n, "up")
        a_up = self.up_at("a")
        a_start = ms(self.runs("a")[0]["started_at"])
        self.assertGreaterEqual(a_up - a_start, 790)
        for n in "bc":
            self.assertGreaterEqual(ms(self.runs(n)[0]["started_at"]), a_up)
        plan = self.ok("--json", "plan").json()
        self.assertEqual([[v["name"] for v in w["vms"]] for w in plan],
                         [["a"], ["b", "c"]])

    def test_after_is_hard_and_blocks_on_failure(self):
        # db dies before it is up (up-delay), so app never may start
        self.ok("add", "db", "--max-failures", "1", "--up-delay", "1s",
                "--", "false")
        self.ok("add", "app", "--after", "db", "--", "sleep", "1000")
        self.ok("add", "other", "--order", "200", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("db", "failed")
        self.wait_state("app", "blocked")
        self.assertEqual(self.show("app")["why"], "after db, which is failed")
        self.assertEqual(self.runs("app"), [])
        self.assertIn("vm.blocked", self.events("app"))
        self.assertIn(b"blocked: after db, which is failed", self.ok("list").out)
        # A blocked VM does not hold back later groups.
        self.wait_state("other", "up")
        # Once db is fixed and up, app follows.
        self.ok("set", "db", "--", "sleep", "1000")
        self.ok("start", "db")
        self.wait_state("app", "up")
        self.assertGreaterEqual(ms(self.runs("app")[0]["started_at"]),
                                ms(self.runs("db")[-1]["started_at"]))

    def test_after_waits_for_up_not_just_started(self):
        self.ok("add", "slow", "--up-delay", "700ms", "--", "sleep", "1000")
        self.ok("add", "dep", "--after", "slow", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("dep", "up")
        self.assertGreaterEqual(ms(self.runs("dep")[0]["started_at"]),
                                self.up_at("slow"))

    def test_ready_tcp(self):
        port = free_port()
        self.ok("add", "guest", "--ready-tcp", "127.0.0.1:%d" % port, "--",
                "sleep", "1000")
        self.ok("add", "next", "--order", "200", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("guest", "running")
        time.sleep(1)   # the guest's service answers late, on purpose
        self.assertEqual(self.state("guest"), "running")
        # next waits for its wave, and says so
        self.assertEqual(self.state("next"), "waiting")
        self.assertIn("boot wave 2", self.show("next")["why"])
        self.assertEqual(self.runs("next"), [])
        opened = now_ms()
        sock = listen(port)
        try:
            self.wait_state("guest", "up")
        finally:
            sock.close()
        up = self.up_at("guest")
        self.assertGreaterEqual(up, opened)
        self.assertLess(up - opened, 1000)
        self.wait_state("next", "up")
        self.assertGreaterEqual(ms(self.runs("next")[0]["started_at"]), up)

    def test_a_crash_looper_holds_later_waves_only_for_its_wait(self):
        # Chaos finding: a VM of the boot that crash-loops without ever
        # being up, and without giving up, held every later wave for ever.
        self.ok("add", "loop", "--order", "10", "--wait-timeout", "1s",
                "--up-delay", "1s", "--max-failures", "0",
                "--backoff-initial", "200ms", "--backoff-max", "500ms",
                "--", "sh", "-c", "sleep 0.1; exit 1")
        self.ok("add", "later", "--order", "20", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("later", "up", timeout=10)
        first = ms(self.runs("loop")[0]["started_at"])
        started = ms(self.runs("later")[0]["started_at"])
        # held for the crash-looper's wait timeout, and not much more
        self.assertGreaterEqual(started - first, 900)
        self.assertLess(started - first, 5000)
        self.assertIn(self.state("loop"), ("backoff", "running", "waiting"))

    def test_max_parallel_starts(self):
        for i in range(6):
            self.ok("add", "vm%d" % i, "--up-delay", "400ms", "--",
                    "sleep", "1000")
        self.start_daemon("--max-parallel-starts", "2")
        for i in range(6):
            self.wait_state("vm%d" % i, "up")
        spans = [(ms(self.runs("vm%d" % i)[0]["started_at"]),
                  self.up_at("vm%d" % i)) for i in range(6)]
        for start, up in spans:
            overlapping = sum(1 for s, u in spans if s <= start < u)
            self.assertLessEqual(overlapping, 2, spans)
        # and they did run two at a time, not one
        self.assertGreaterEqual(max(sum(1 for s, u in spans
                                        if s <= st < u)
                                    for st, _ in spans), 2)

    def test_once_per_boot(self):
        out = os.path.join(self.dir, "ran")
        self.ok("add", "setup", "--restart", "never", "--", "sh", "-c",
                'echo x >> "$0"', out)
        env = dict(self.env, VMSCHED_BOOT_ID="boot-one")
        self.start_daemon(env=env)
        self.wait_ended("setup")
        self.wait_state("setup", "stopped")
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(timeout=20), 0)
        # the same boot: not again
        self.start_daemon(env=env)
        wait_for(lambda: self.show("setup")["why"] == "ran once this boot",
                 what="once-per-boot note")
        self.assertEqual(len(self.runs("setup")), 1)
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(timeout=20), 0)
        # a new boot: once more
        self.start_daemon(env=dict(self.env, VMSCHED_BOOT_ID="boot-two"))
        wait_for(lambda: len(self.runs("setup")) == 2, what="second run")
        self.assertEqual(open(out).read(), "x\nx\n")
        self.assertEqual(self.runs("setup")[1]["reason"], "exited")

    def test_shutdown_in_reverse_waves(self):
        # Each VM takes 300ms to stop, so the order shows in the times.
        slow_stop = 'trap "sleep 0.3; exit 0" TERM; while :; do sleep 0.05; done'
        self.ok("add", "base", "--order", "10", "--", "sh", "-c", slow_stop)
        self.ok("add", "mid", "--order", "20", "--after", "base", "--",
                "sh", "-c", slow_stop)
        self.ok("add", "top1", "--order", "30", "--", "sh", "-c", slow_stop)
        self.ok("add", "top2", "--order", "30", "--", "sh", "-c", slow_stop)
        self.start_daemon()
        for n in ("base", "mid", "top1", "top2"):
            self.wait_state(n, "up")
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(timeout=30), 0)
        end = {n: ms(self.runs(n)[0]["ended_at"])
               for n in ("base", "mid", "top1", "top2")}
        for n in end:
            self.assertEqual(self.runs(n)[0]["reason"], "stopped")
        # top1 and top2 stop together, then mid, then base
        self.assertLess(abs(end["top1"] - end["top2"]), 250)
        self.assertGreaterEqual(end["mid"] - max(end["top1"], end["top2"]),
                                250)
        self.assertGreaterEqual(end["base"] - end["mid"], 250)


class Plan(DaemonCase):

    def test_plan_prints_waves_and_gates(self):
        self.ok("add", "vmnet", "--order", "10", "--wait-path",
                "/var/run/vmnet-bridge-vmnet0.pid", "--", "true")
        self.ok("add", "db", "--order", "20", "--", "true")
        self.ok("add", "web", "--order", "20", "--after", "db",
                "--ready-tcp", "127.0.0.1:8080", "--", "true")
        self.ok("add", "early", "--order", "5", "--after", "web", "--",
                "true")
        plan = self.ok("--json", "plan").json()
        self.assertEqual([(w["wave"], [v["name"] for v in w["vms"]])
                          for w in plan],
                         [(1, ["vmnet"]), (2, ["db"]), (3, ["web"]),
                          (4, ["early"])])
        gates = plan[0]["vms"][0]["gates"]
        self.assertEqual(gates, [{"kind": "path",
                                  "arg": "/var/run/vmnet-bridge-vmnet0.pid"}])
        self.assertEqual(plan[2]["vms"][0]["after"], ["db"])
        self.assertEqual(plan[2]["vms"][0]["ready_tcp"], "127.0.0.1:8080")
        text = self.ok("plan").out.decode()
        self.assertIn("wait-path /var/run/vmnet-bridge-vmnet0.pid", text)
        self.assertIn("ready-tcp 127.0.0.1:8080", text)
        # plan starts nothing and writes nothing
        before = self.db_bytes()
        self.ok("plan")
        self.assertEqual(self.db_bytes(), before)

    def test_plan_reports_a_cycle_that_got_in(self):
        self.ok("add", "a", "--", "true")
        self.ok("add", "b", "--after", "a", "--", "true")
        self.sql("INSERT INTO vm_after SELECT a.id, b.id FROM vm a, vm b "
                 "WHERE a.name = 'a' AND b.name = 'b'")
        r = self.fails(65, "plan")
        self.assertIn(b"dependency cycle: ", r.err)

    def test_probe_command(self):
        port = free_port()
        r = self.fails(1, "probe", "tcp", "127.0.0.1:%d" % port)
        self.assertIn(b"Connection refused", r.err)
        sock = listen(port)
        try:
            self.ok("probe", "tcp", "127.0.0.1:%d" % port)
        finally:
            sock.close()
        self.ok("probe", "path", self.dir)
        self.fails(1, "probe", "path", "/nonexistent")
        self.ok("probe", "cmd", "true")
        self.fails(1, "probe", "cmd", "exit 3")


if __name__ == "__main__":
    unittest.main()

"""The supervisor end to end (issue 3): the real daemon on a temporary
database with real child processes that crash, hang, ignore SIGTERM or exit
cleanly; every wait is a deadline poll."""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import unittest

from vmtest import DaemonCase, fill_fs, wait_for


class Restarts(DaemonCase):

    def test_crasher_backs_off_then_fails(self):
        self.ok("add", "crash", "--backoff-initial", "200ms",
                "--backoff-factor", "2", "--max-failures", "4", "--",
                "sh", "-c", "exit 3")
        self.start_daemon()
        self.wait_state("crash", "failed", timeout=15)
        runs = self.runs("crash")
        self.assertEqual(len(runs), 4, runs)
        for r in runs:
            self.assertEqual(r["reason"], "exited")
            self.assertEqual(r["exit_code"], 3)
        self.assertEqual([r["failures"] for r in runs], [1, 2, 3, 4])
        # Each delay within the 10% jitter of 200ms * 2^(n-1) ...
        for r, base in zip(runs, [200, 400, 800]):
            self.assertGreaterEqual(r["delay_ms"], base * 0.9)
            self.assertLessEqual(r["delay_ms"], base * 1.1 + 1)
            self.assertIn("on-failure: exit 3 is a failure", r["rule"])
        # ... and the next start really waited that long.
        for prev, nxt in zip(runs, runs[1:]):
            gap = ms(nxt["started_at"]) - ms(prev["ended_at"])
            self.assertGreaterEqual(gap, prev["delay_ms"] - 5, (prev, nxt))
            self.assertLess(gap, prev["delay_ms"] + 1000, (prev, nxt))
        last = runs[-1]
        self.assertIsNone(last["delay_ms"])
        self.assertTrue(last["breaker"])
        self.assertIn("4 failures in a row", last["rule"])
        self.assertIn("vm.failed", self.events("crash"))
        vm = self.ok("--json", "show", "crash").json()
        self.assertEqual(vm["failures"], 4)
        self.assertEqual(vm["restarts"], 3)

    def test_always_restarts_a_clean_exit(self):
        self.ok("add", "loop", "--restart", "always", "--backoff-initial",
                "100ms", "--", "true")
        self.start_daemon()
        wait_for(lambda: len(self.runs("loop")) >= 3, what="3 runs")
        runs = self.runs("loop")[:3]
        for r in runs[:2]:
            self.assertEqual(r["exit_code"], 0)
            self.assertIsNotNone(r["delay_ms"])
            self.assertEqual(r["failures"], 0)
        # never more often than once per backoff-initial
        for prev, nxt in zip(runs, runs[1:]):
            self.assertGreaterEqual(
                ms(nxt["started_at"]) - ms(prev["started_at"]), 95)

    def test_on_failure_leaves_a_clean_exit(self):
        self.ok("add", "once", "--", "true")
        self.ok("add", "codes", "--success-codes", "0,7", "--",
                "sh", "-c", "exit 7")
        self.start_daemon()
        for name in ("once", "codes"):
            self.wait_ended(name)
            self.wait_state(name, "stopped")
        for name, code in (("once", 0), ("codes", 7)):
            runs = self.runs(name)
            self.assertEqual(len(runs), 1, runs)
            self.assertEqual(runs[0]["exit_code"], code)
            self.assertIsNone(runs[0]["delay_ms"])
            self.assertIn("is success, not restarted", runs[0]["rule"])

    def test_exec_failed_says_why(self):
        self.ok("add", "ghost", "--max-failures", "2",
                "--backoff-initial", "100ms", "--",
                "/nonexistent/vmware-vmx", "-x", "Test.vmx")
        self.ok("add", "nodir", "--max-failures", "1", "--cwd",
                "/nonexistent/dir", "--", "sleep", "100")
        self.start_daemon()
        self.wait_state("ghost", "failed")
        self.wait_state("nodir", "failed")
        runs = self.runs("ghost")
        self.assertEqual(len(runs), 2)
        for r in runs:
            self.assertEqual(r["reason"], "exec-failed")
            self.assertEqual(r["detail"], "No such file or directory")
            self.assertIsNone(r["exit_code"])
            self.assertIsNone(r["pid"])
        self.assertIn(b"exec-failed: No such file or directory",
                      self.ok("log", "ghost").out)
        r = self.runs("nodir")[0]
        self.assertEqual(r["reason"], "exec-failed")
        self.assertEqual(r["detail"],
                         "chdir /nonexistent/dir: No such file or directory")

    def test_crash_by_signal(self):
        self.ok("add", "seg", "--max-failures", "1", "--",
                "sh", "-c", "kill -SEGV $$")
        self.start_daemon()
        self.wait_state("seg", "failed")
        r = self.runs("seg")[0]
        self.assertEqual(r["reason"], "crashed")
        self.assertEqual(r["signal"], "SEGV")
        self.assertIsNone(r["exit_code"])

    def test_reset_and_start_revive_a_failed_vm(self):
        flag = os.path.join(self.dir, "healthy")
        self.ok("add", "flaky", "--max-failures", "2", "--backoff-initial",
                "50ms", "--", "sh", "-c",
                'test -e "$0" && exec sleep 1000; exit 1', flag)
        self.start_daemon()
        self.wait_state("flaky", "failed")
        open(flag, "w").close()
        self.ok("reset", "flaky")
        self.wait_state("flaky", "up")
        vm = self.ok("--json", "show", "flaky").json()
        self.assertEqual(vm["failures"], 0)
        self.assertIsNotNone(vm["pid"])

    def test_restart_rate_limit_bounds_a_storm(self):
        for i in range(5):
            self.ok("add", "storm%d" % i, "--backoff-initial", "0",
                    "--max-failures", "0", "--", "false")
        self.start_daemon("--max-restart-rate", "10", "--restart-burst", "5")
        wait_for(lambda: sum(len(self.runs("storm%d" % i))
                             for i in range(5)) >= 30, timeout=20,
                 what="30 runs")
        starts = sorted(ms(r["started_at"]) for i in range(5)
                        for r in self.runs("storm%d" % i))
        # 5 first starts + a burst of 5, then 10 per second at most
        span = (starts[29] - starts[10]) / 1000.0
        self.assertGreaterEqual(span, 1.5, "19 restarts in %.2fs" % span)


class Control(DaemonCase):

    def test_stop_escalates_to_sigkill(self):
        self.ok("add", "stubborn", "--stop-timeout", "500ms", "--",
                "sh", "-c", 'trap "" TERM; echo ready; exec sleep 1000')
        self.start_daemon()
        self.wait_state("stubborn", "up")
        pid = self.pid("stubborn")
        self.ok("stop", "stubborn")
        self.assertEqual(self.state("stubborn"), "stopped")
        r = self.runs("stubborn")[-1]
        self.assertEqual(r["reason"], "killed-after-timeout")
        self.assertEqual(r["signal"], "KILL")
        self.assertFalse(alive(pid))
        self.assertIn("vm.stopped", self.events("stubborn"))

    def test_stop_timeout_exit_75(self):
        self.ok("add", "slow", "--stop-timeout", "30s", "--",
                "sh", "-c", 'trap "" TERM; exec sleep 1000')
        self.start_daemon()
        self.wait_state("slow", "up")
        r = self.fails(75, "stop", "slow", "--timeout", "300ms")
        self.assertIn(b"timed out", r.err)
        self.assertEqual(self.state("slow"), "stopping")

    def test_suspend_is_not_restarted_even_with_always(self):
        self.ok("add", "vmx", "--restart", "always", "--backoff-initial",
                "10ms", "--", "sleep", "1000")
        self.ok("add", "other", "--disabled", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("vmx", "up")
        self.ok("suspend", "vmx")
        self.assertEqual(self.state("vmx"), "suspended")
        r = self.runs("vmx")[-1]
        self.assertEqual(r["reason"], "suspended")
        self.assertEqual(r["signal"], "HUP")
        # A later request is handled after anything the exit could have
        # caused: the suspended VM must still have its one run.
        self.ok("start", "other")
        self.assertEqual(len(self.runs("vmx")), 1)
        self.assertEqual(self.state("vmx"), "suspended")
        self.assertIn("vm.suspended", self.events("vmx"))
        # and start brings it back
        self.ok("start", "vmx")
        self.assertEqual(len(self.runs("vmx")), 2)

    def test_restart_gives_a_new_process(self):
        self.ok("add", "web", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("web", "up")
        old = self.pid("web")
        self.ok("restart", "web")
        new = self.pid("web")
        self.assertNotEqual(old, new)
        self.assertFalse(alive(old))
        runs = self.runs("web")
        self.assertEqual(runs[0]["reason"], "stopped")

    def test_commands_need_a_daemon(self):
        self.ok("add", "web", "--", "sleep", "1000")
        for cmd in ("start", "stop", "suspend", "restart", "reset"):
            r = self.fails(69, cmd, "web")
            self.assertIn(b"no daemon is running", r.err)
        self.fails(66, "start", "nosuch")

    def test_remove_force_stops_first(self):
        self.ok("add", "web", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("web", "up")
        pid = self.pid("web")
        r = self.fails(64, "remove", "web")
        self.assertIn(b"is running", r.err)
        self.assertTrue(alive(pid))
        self.ok("remove", "web", "--force")
        self.assertFalse(alive(pid))
        self.fails(66, "show", "web")
        runs = self.runs("web")
        self.assertEqual(len(runs), 1)
        self.assertEqual(runs[0]["reason"], "stopped")
        self.assertIn("vm.removed", self.events("web"))

    def test_no_wait_returns_at_once(self):
        self.ok("add", "web", "--disabled", "--", "sleep", "1000")
        self.start_daemon()
        self.ok("start", "web", "--no-wait")
        self.wait_state("web", "up")

    def test_request_made_while_the_daemon_starts_is_kept(self):
        # Regression: a request written before the daemon loaded the VMs
        # (start --no-wait racing the daemon's start) was taken as handled.
        self.ok("add", "web", "--disabled", "--", "sleep", "1000")
        self.sql("UPDATE vm_state SET desired = 'up', pending = 'start', "
                 "request = request + 1")
        self.start_daemon()
        self.wait_state("web", "up")

    def test_start_of_a_vm_added_while_the_daemon_runs(self):
        # Regression: the first reload that saw a new VM also swallowed
        # the request made for it.
        self.start_daemon()
        self.ok("add", "late", "--", "sleep", "1000")
        self.ok("start", "late", "--no-wait")
        self.wait_state("late", "up")

    def test_status_and_list_show_live_state(self):
        self.ok("add", "web", "--", "sleep", "1000")
        r = self.ok("--json", "status").json()
        self.assertFalse(r["daemon"]["running"])
        self.start_daemon()
        self.wait_state("web", "up")
        r = self.ok("--json", "status").json()
        self.assertTrue(r["daemon"]["running"])
        self.assertEqual(r["daemon"]["pid"], self.daemon.pid)
        self.assertEqual(r["vms"], {"up": 1})
        self.assertIn(b"daemon: running, pid %d" % self.daemon.pid,
                      self.ok("status").out)
        row = self.ok("--json", "list").json()[0]
        self.assertEqual(row["state"], "up")
        self.assertEqual(row["pid"], self.pid("web"))
        self.assertIsNotNone(row["started_at"])
        line = self.ok("list").out.decode().splitlines()[1].split()
        self.assertEqual(line[3], "up")
        self.assertEqual(int(line[4]), self.pid("web"))


class Lifecycle(DaemonCase):

    def test_second_daemon_is_refused(self):
        self.ok("add", "web", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("web", "up")
        r = self.run_vmsched("daemon", timeout=10)
        self.assertEqual(r.rc, 75, r)
        self.assertIn(b"already running as pid %d" % self.daemon.pid, r.err)
        self.assertEqual(len(self.runs("web")), 1)

    def test_sigterm_stops_everything_and_records_it(self):
        marker = self.marker()
        # sh stays the VM's process (its argv holds the marker) with sleep
        # as its child in the VM's process group.
        for i in range(3):
            self.ok("add", "vm%d" % i, "--", "sh", "-c", "sleep 1000; :",
                    marker)
        self.ok("add", "deaf", "--stop-timeout", "300ms", "--", "sh", "-c",
                'trap "" TERM; sleep 1000; :', marker)
        self.start_daemon()
        for i in range(3):
            self.wait_state("vm%d" % i, "up")
        self.wait_state("deaf", "up")
        self.assertEqual(len(procs_with(marker)), 4)
        self.daemon.send_signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait(timeout=20), 0)
        self.assertEqual(procs_with(marker), [])
        for name in ("vm0", "vm1", "vm2", "deaf"):
            runs = self.runs(name)
            self.assertEqual(len(runs), 1)
            self.assertIsNotNone(runs[0]["ended_at"])
            self.assertEqual(self.state(name), "stopped")
        self.assertEqual(self.runs("deaf")[0]["reason"],
                         "killed-after-timeout")
        self.assertEqual(self.runs("vm0")[0]["reason"], "stopped")
        log = self.ok("--json", "log").json()
        self.assertIn("scheduler.stopping", [e.get("event") for e in log])

    def test_sigkilled_daemon_adopts_and_never_duplicates(self):
        marker = self.marker()
        self.ok("add", "vm", "--", "sh", "-c", "sleep 1000; :", marker)
        self.ok("add", "dies", "--max-failures", "1", "--", "sh", "-c",
                "sleep 1000; :", marker + "-dies")
        self.start_daemon()
        self.wait_state("vm", "up")
        self.wait_state("dies", "up")
        pid = self.pid("vm")
        dpid = self.pid("dies")
        self.daemon.kill()
        self.daemon.wait(timeout=10)
        # The VMs live on without their daemon.
        self.assertTrue(alive(pid))
        os.killpg(dpid, signal.SIGKILL)
        wait_for(lambda: not alive(dpid), what="pid %d gone" % dpid)
        self.start_daemon()
        self.wait_state("dies", "failed")
        self.assertEqual(self.pid("vm"), pid)
        self.assertEqual(procs_with(marker), [pid])
        self.assertEqual(len(self.runs("vm")), 1)
        r = self.runs("dies")[0]
        self.assertEqual(r["reason"], "adopted-unknown")
        # The adopted VM's exit is recorded and its policy applied.
        os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: len(self.runs("vm")) == 2, what="restart")
        r = self.runs("vm")[0]
        self.assertEqual(r["reason"], "adopted-unknown")
        self.assertIsNotNone(r["delay_ms"])
        self.wait_state("vm", "up")
        self.assertEqual(len(procs_with(marker)), 1)

    def test_recycled_pid_is_not_adopted(self):
        self.ok("add", "vm", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("vm", "up")
        pid = self.pid("vm")
        self.daemon.kill()
        self.daemon.wait(timeout=10)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not alive(pid), what="pid gone")
        # Point the record at a live process that is not the VM: same pid
        # number semantics as a recycled pid, different start time.
        impostor = subprocess.Popen(["sleep", "1000"])
        try:
            self.sql("UPDATE vm_state SET pid = %d" % impostor.pid)
            self.sql("UPDATE run SET pid = %d" % impostor.pid)
            self.start_daemon()
            wait_for(lambda: len(self.runs("vm")) == 2, what="new run")
            self.assertEqual(self.runs("vm")[0]["reason"], "adopted-unknown")
            self.assertNotEqual(self.pid("vm"), impostor.pid)
            self.assertIsNone(impostor.poll())
        finally:
            impostor.kill()
            impostor.wait()

    @unittest.skipUnless(os.geteuid() == 0, "run-as user needs root")
    def test_runs_as_nobody(self):
        # The database's directory is private (0700): nobody writes
        # elsewhere.
        outdir = tempfile.mkdtemp(prefix="vmsched-test-out-")
        self.addCleanup(shutil.rmtree, outdir, ignore_errors=True)
        os.chmod(outdir, 0o777)
        out = os.path.join(outdir, "who")
        self.ok("add", "low", "--user", "nobody", "--", "sh", "-c",
                'id -un > "$0"; echo "$HOME" >> "$0"; exec sleep 1000', out)
        self.start_daemon()
        self.wait_state("low", "up")
        wait_for(lambda: os.path.exists(out) and
                 len(open(out).read().splitlines()) == 2, what="id output")
        lines = open(out).read().splitlines()
        self.assertEqual(lines[0], "nobody")
        self.assertEqual(lines[1], pwd.getpwnam("nobody").pw_dir)
        with open("/proc/%d/status" % self.pid("low")) as f:
            uid = [l for l in f if l.startswith("Uid:")][0].split()[1]
        self.assertEqual(int(uid), pwd.getpwnam("nobody").pw_uid)

    def test_log_file_next_to_the_database(self):
        self.ok("add", "talk", "--", "sh", "-c", "echo out; echo err >&2")
        self.start_daemon()
        self.wait_ended("talk")
        path = os.path.join(self.dir, "logs", "talk.log")
        self.assertEqual(open(path).read(), "out\nerr\n")
        # show says where it is
        self.assertIn(("log-file         %s" % path).encode(),
                      self.ok("show", "talk").out)

    def test_a_vm_starts_with_default_signals(self):
        # The daemon catches and ignores signals of its own; none of that
        # reaches a VM, and the daemon's stdin is not the VM's.
        self.ok("add", "sig", "--", "sleep", "1000")
        self.start_daemon()
        self.wait_state("sig", "up")
        pid = self.pid("sig")
        with open("/proc/%d/status" % pid) as f:
            status = dict(l.split(":", 1) for l in f if ":" in l)
        # Signals 32 and 33 are the C library's own (thread cancellation,
        # setxid): it sets them up in every program, and refuses to let
        # one change them, so whatever started the test may leave them.
        libc = (1 << 31) | (1 << 32)
        for key in ("SigIgn", "SigBlk", "SigCgt"):
            self.assertEqual(int(status[key].strip(), 16) & ~libc, 0, key)
        self.assertEqual(os.readlink("/proc/%d/fd/0" % pid), "/dev/null")

    def test_env_and_cwd(self):
        out = os.path.join(self.dir, "envout")
        self.ok("add", "envy", "--cwd", "/tmp", "--env", "GREETING=a b'c",
                "--", "sh", "-c", 'pwd > "$0"; echo "$GREETING" >> "$0"',
                out)
        self.start_daemon()
        self.wait_ended("envy")
        self.assertEqual(open(out).read(), "/tmp\na b'c\n")

    @unittest.skipUnless(shutil.which("qemu-system-x86_64"), "no qemu")
    def test_real_hypervisor(self):
        self.ok("add", "qemu", "--", "qemu-system-x86_64", "-machine",
                "none", "-nodefaults", "-display", "none")
        self.start_daemon()
        self.wait_state("qemu", "up")
        pid = self.pid("qemu")
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            self.assertIn(b"qemu-system-x86_64", f.read())
        self.ok("stop", "qemu", "--timeout", "30s")
        r = self.runs("qemu")
        self.assertEqual(len(r), 1)
        self.assertEqual(r[0]["reason"], "stopped")
        self.assertIsNotNone(r[0]["ended_at"])
        self.assertFalse(alive(pid))
        self.assertEqual(self.state("qemu"), "stopped")


def ms(stamp):
    """RFC 3339 UTC with milliseconds to Unix milliseconds."""
    import datetime
    t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return int(round(t.timestamp() * 1000))


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def procs_with(marker):
    """Pids of live processes whose argv holds marker."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if marker.encode() in args and alive(int(d)):
            found.append(int(d))
    return sorted(found)


if __name__ == "__main__":
    unittest.main()


class StoreTrouble(DaemonCase):
    """The database refuses writes for a while (chaos findings): restarts
    keep their schedule, the trouble is logged once, and what happened
    meanwhile is written once it takes writes again."""

    def crasher(self):
        self.pids = os.path.join(self.dir, "pids")
        self.ok("add", "crash", "--backoff-initial", "100ms",
                "--backoff-factor", "1", "--max-failures", "0", "--",
                "sh", "-c", 'echo $$ >> "$0"; exit 1', self.pids)

    def spawned(self):
        if not os.path.exists(self.pids):
            return []
        with open(self.pids) as f:
            return [int(l) for l in f if l.strip()]

    def all_recorded(self):
        pids = set(self.spawned())
        rows = self.sql("SELECT pid FROM run WHERE vm = 'crash' AND "
                        "ended_at IS NOT NULL")
        return pids <= set(p for (p,) in rows)

    def keeps_going(self):
        n = len(self.spawned())
        wait_for(lambda: len(self.spawned()) >= n + 5, timeout=5,
                 what="restarts while the database refuses writes")

    def test_restarts_go_on_while_another_process_holds_it(self):
        import sqlite3
        self.crasher()
        self.start_daemon()
        wait_for(lambda: len(self.runs("crash")) >= 3, what="3 runs")
        con = sqlite3.connect(self.db, isolation_level=None, timeout=10)
        con.execute("BEGIN IMMEDIATE")
        try:
            self.keeps_going()
        finally:
            con.rollback()
            con.close()
        wait_for(self.all_recorded, timeout=10, what="every run recorded")
        self.assertLessEqual(self.read_log().count("keeping changes in "
                                                   "memory"), 1)

    @unittest.skipUnless(os.geteuid() == 0, "mounting a tmpfs needs root")
    def test_disk_full_then_everything_is_written(self):
        import tempfile
        mnt = tempfile.mkdtemp(prefix="vmsched-test-full-")
        self.addCleanup(shutil.rmtree, mnt, ignore_errors=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700",
                        "tmpfs", mnt], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        self.db = os.path.join(mnt, "vmsched.db")
        self.env["VMSCHED_DB"] = self.db
        self.crasher()
        self.start_daemon()
        wait_for(lambda: len(self.runs("crash")) >= 3, what="3 runs")
        filler = os.path.join(mnt, "filler")
        fill_fs(filler)
        self.keeps_going()
        os.unlink(filler)
        wait_for(self.all_recorded, timeout=10, what="every run recorded")
        full = [l for l in self.read_log().splitlines() if "full" in l]
        self.assertGreaterEqual(len(full), 1)
        self.assertLessEqual(len(full), 2, full)

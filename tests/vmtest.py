"""Helpers for the integration suites: run the real vmsched binary on a
temporary database, and wait for conditions with a deadline (never a bare
sleep)."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

VMSCHED = os.environ.get("VMSCHED") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "vmsched")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "rc=%d out=%r err=%r" % (self.rc, self.out, self.err)


def alive(pid):
    """Whether pid runs (a zombie has ended)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_for(cond, timeout=10.0, interval=0.02, what="condition"):
    """Poll cond() until it returns a true value; fail after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def fill_fs(path):
    """Write the file path until its file system has not a byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)


class VmschedCase(unittest.TestCase):
    """A test with its own temporary directory and database."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vmsched-test-")
        self.db = os.path.join(self.dir, "vmsched.db")
        self.env = dict(os.environ, VMSCHED_DB=self.db)
        self.env.pop("VMSCHED_DEBUG", None)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_vmsched(self, *args, env=None, stdin=None, timeout=30):
        proc = subprocess.run([VMSCHED] + [str(a) for a in args],
                              capture_output=True, env=env or self.env,
                              stdin=stdin, timeout=timeout)
        return Result(proc)

    def ok(self, *args, **kw):
        r = self.run_vmsched(*args, **kw)
        self.assertEqual(r.rc, 0, "vmsched %s: %r" % (" ".join(map(str, args)), r))
        return r

    def fails(self, code, *args, **kw):
        r = self.run_vmsched(*args, **kw)
        self.assertEqual(r.rc, code, "vmsched %s: %r" % (" ".join(map(str, args)), r))
        self.assertTrue(r.err.startswith(b"vmsched: "), r)
        return r

    def db_bytes(self):
        with open(self.db, "rb") as f:
            return f.read()


class DaemonCase(VmschedCase):
    """A test that runs the real daemon on its database. tearDown stops it
    (SIGTERM, then SIGKILL) and kills any VM process still recorded."""

    def setUp(self):
        super().setUp()
        self.daemon = None
        self.daemon_log = os.path.join(self.dir, "daemon.log")
        self._markers = 0

    def tearDown(self):
        import signal
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        if os.path.exists(self.db):
            for (pid,) in self.sql("SELECT pid FROM vm_state "
                                   "WHERE pid IS NOT NULL"):
                for kill in (os.killpg, os.kill):
                    try:
                        kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
        super().tearDown()

    def start_daemon(self, *args, env=None):
        """Start `vmsched daemon` and wait until it holds the database."""
        log = open(self.daemon_log, "ab")
        self.daemon = subprocess.Popen(
            [VMSCHED, "daemon"] + [str(a) for a in args],
            env=env or self.env, stdout=log, stderr=log,
            stdin=subprocess.DEVNULL)
        log.close()
        def started():
            if self.daemon.poll() is not None:
                return True
            r = self.run_vmsched("--json", "status")
            # 66 until the daemon has created the database
            return r.rc == 0 and r.json()["daemon"]["pid"] == self.daemon.pid
        wait_for(started, what="daemon to start")
        self.assertIsNone(self.daemon.poll(), self.read_log())
        return self.daemon

    def read_log(self):
        with open(self.daemon_log, errors="replace") as f:
            return f.read()

    def sql(self, stmt, *params):
        import sqlite3
        con = sqlite3.connect(self.db, timeout=10)
        try:
            with con:
                return con.execute(stmt, params).fetchall()
        finally:
            con.close()

    def show(self, name):
        return self.ok("--json", "show", name).json()

    def state(self, name):
        return self.show(name)["state"]

    def pid(self, name):
        return self.show(name)["pid"]

    def wait_state(self, name, state, timeout=10):
        wait_for(lambda: self.state(name) == state, timeout=timeout,
                 what="%s to be %s (daemon log: %s)" % (name, state,
                                                        self.daemon_log))

    def wait_ended(self, name, count=1, timeout=10):
        """Wait until name has count runs, the last one ended, and return
        them. (Waiting for the state "stopped" would not do: a VM the
        daemon has not started yet is stopped too.)"""
        def ended():
            runs = self.runs(name)
            return (len(runs) >= count and runs[-1]["ended_at"] and
                    self.state(name) != "starting" and runs)
        return wait_for(ended, timeout=timeout,
                        what="%d ended run(s) of %s" % (count, name))

    def runs(self, name):
        """The VM's runs, oldest first."""
        rows = self.ok("--json", "log", name, "--limit", "100000").json()
        return [r for r in reversed(rows) if r["kind"] == "run"]

    def events(self, name):
        """The names of the VM's events, oldest first."""
        rows = self.ok("--json", "log", name, "--limit", "100000").json()
        return [r["event"] for r in reversed(rows) if r["kind"] == "event"]

    def marker(self):
        """A string unique to this test, to find its processes by argv."""
        self._markers += 1
        return "vmsched-test-%d-%d-%s" % (os.getpid(), self._markers,
                                          os.path.basename(self.dir))

"""The operator's toolbox (issue 13) on the real binary: the frictions a
new user met (compound durations, `add`/`enable` that leave a VM stopped
without a word, long `why` texts that widen `list`), `status NAME`, and
what follows from them. Each friction has its regression test here."""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

from vmtest import VMSCHED, DaemonCase, VmschedCase, wait_for


def show_fields(out):
    """`show`'s human lines as a dict (continuation lines dropped)."""
    fields = {}
    for line in out.decode().splitlines():
        key, _, value = line.partition(" ")
        if key:
            fields[key] = value.strip()
    return fields


class Durations(VmschedCase):
    """`set web --stop-timeout 1m30s` was refused although `show` prints
    durations in exactly that form."""

    DURATION_KEYS = ["wait-timeout", "up-delay", "stop-timeout",
                     "backoff-initial", "backoff-max", "backoff-reset"]

    def test_compound_durations_accepted(self):
        self.ok("add", "web", "--", "/bin/true")
        for typed, ms in [("1m30s", 90000), ("2h15m", 8100000),
                          ("1h0m0.5s", 3600500), ("1d0h", 86400000)]:
            self.ok("set", "web", "--stop-timeout", typed)
            got = self.ok("--json", "show", "web").json()
            self.assertEqual(got["stop_timeout_ms"], ms, typed)

    def test_what_show_prints_set_takes(self):
        self.ok("add", "web", "--wait-timeout", "1h1m", "--up-delay", "1.5",
                "--stop-timeout", "192s", "--backoff-initial", "2500ms",
                "--backoff-max", "2h5m", "--backoff-reset", "1d1h", "--",
                "/bin/true")
        before = self.ok("--json", "show", "web").json()
        shown = show_fields(self.ok("show", "web").out)
        args = []
        for key in self.DURATION_KEYS:
            self.assertRegex(shown[key], r"^[0-9.]+[a-z]+([0-9.]+[a-z]+)?$")
            args += ["--" + key, shown[key]]
        self.ok("set", "web", *args)
        self.assertEqual(show_fields(self.ok("show", "web").out), shown)
        after = self.ok("--json", "show", "web").json()
        for key in ("up_delay_ms", "stop_timeout_ms", "backoff_initial_ms",
                    "backoff_max_ms", "backoff_reset_ms", "wait_timeout_ms"):
            self.assertEqual(after[key], before[key], key)

    def test_bad_compound_refused(self):
        self.ok("add", "web", "--", "/bin/true")
        for bad in ["30s1m", "1m30", "1m 30s", "1m1m"]:
            r = self.fails(64, "set", "web", "--stop-timeout", bad)
            self.assertIn(b"--stop-timeout " + bad.encode(), r.err)
            self.assertIn(b"not a duration", r.err)


class StartNow(DaemonCase):
    """`vmsched add web ...` while the daemon ran left web stopped, and
    said nothing: launchd users expect RunAtLoad."""

    SLEEPER = ("sleep", "600")

    def start_booted(self):
        """Start the daemon and wait until its boot is over (a VM added
        while it boots is booted with the rest)."""
        self.ok("add", "first", "--", *self.SLEEPER)
        self.start_daemon()
        self.wait_state("first", "up")

    def test_add_while_daemon_runs_says_how_to_start(self):
        self.start_booted()
        r = self.ok("add", "web", "--", *self.SLEEPER)
        self.assertEqual(r.out, b"")
        lines = r.err.decode().splitlines()
        self.assertEqual(len(lines), 1, r)
        self.assertIn("vmsched start web", lines[0])
        self.assertIn("--start", lines[0])
        self.assertEqual(self.state("web"), "stopped")

    def test_add_without_daemon_says_nothing(self):
        r = self.ok("add", "web", "--", *self.SLEEPER)
        self.assertEqual((r.out, r.err), (b"", b""))

    def test_add_start_starts_and_waits(self):
        self.start_daemon()
        r = self.ok("add", "web", "--start", "--", *self.SLEEPER)
        self.assertEqual(r.err, b"")
        self.assertEqual(self.state("web"), "up")
        self.assertIsNotNone(self.pid("web"))

    def test_add_start_waits_as_start_does(self):
        self.start_daemon()
        # A VM that never gets up: add --start fails as start would.
        r = self.fails(1, "add", "bad", "--start", "--max-failures", "1",
                       "--", "/nonexistent/vmx")
        self.assertIn(b"failed", r.err)
        self.assertEqual(self.state("bad"), "failed")

    def test_add_start_without_daemon_changes_nothing(self):
        self.ok("db", "migrate")
        before = self.ok("--json", "list").out
        r = self.fails(69, "add", "web", "--start", "--", *self.SLEEPER)
        self.assertIn(b"no daemon", r.err)
        self.assertEqual(self.ok("--json", "list").out, before)

    def test_enable_start(self):
        self.ok("add", "web", "--disabled", "--", *self.SLEEPER)
        self.start_daemon()
        r = self.ok("enable", "web", "--start")
        self.assertEqual(r.err, b"")
        self.assertEqual(self.state("web"), "up")
        self.assertTrue(self.show("web")["enabled"])

    def test_enable_while_daemon_runs_says_how_to_start(self):
        self.ok("add", "web", "--disabled", "--", *self.SLEEPER)
        self.ok("add", "db", "--", *self.SLEEPER)
        self.start_daemon()
        self.wait_state("db", "up")
        r = self.ok("enable", "web", "db")
        lines = r.err.decode().splitlines()
        # db runs already: only web is mentioned.
        self.assertEqual(len(lines), 1, r)
        self.assertIn("vmsched start web", lines[0])
        self.assertNotIn("db", lines[0])


def run_in_pty(argv, env, columns=80, timeout=20):
    """Run argv with stdout (and stdin, stderr) on a pty `columns` wide;
    return (exit status, output with the pty's \\r\\n made \\n)."""
    import fcntl
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ,
                struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                            env=env, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:	# EIO: the other side closed
                chunk = b""
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    rc = proc.wait(timeout=timeout)
    return rc, out.replace(b"\r\n", b"\n")


class ListWidth(DaemonCase):
    """A `waiting: wait-path /a/long/path` state made the whole `list`
    table as wide as the path."""

    LONG = "/nonexistent/" + "a-very-long-directory-name/" * 6 + "vmnet.pid"

    def setUp(self):
        super().setUp()
        self.ok("add", "web", "--wait-path", self.LONG, "--", "sleep", "600")
        self.ok("add", "db", "--", "sleep", "600")
        self.start_daemon()
        self.wait_state("web", "waiting")

    def list_on(self, columns):
        rc, out = run_in_pty([VMSCHED, "list"], self.env, columns)
        self.assertEqual(rc, 0, out)
        lines = out.decode().splitlines()
        self.assertEqual(len(lines), 3, out)
        # The other columns are whole.
        self.assertRegex(lines[0], r"^NAME +ORDER +RESTART +STATE +PID"
                         r" +RESTARTS +LAST EXIT +UPTIME$")
        web = [l for l in lines if l.startswith("web ")][0]
        self.assertRegex(web, r"^web +100 +on-failure +waiting: wait"
                         r".*\.\.\. +- +0 +- +-$")
        return lines, web

    def test_cut_to_the_terminal(self):
        for columns in (80, 100, 132):
            lines, web = self.list_on(columns)
            for line in lines:
                self.assertLessEqual(len(line), columns, (columns, lines))
            # cut no more than it must: the header fills the width
            self.assertEqual(len(lines[0]), columns, lines)
        self.assertIn("wait-path /nonexistent/a-very",
                      self.list_on(132)[1])

    def test_never_below_the_minimum(self):
        """A terminal too narrow for the rest: the state keeps 16
        columns, the other columns stay whole."""
        lines, web = self.list_on(40)
        state = re.search(r"(waiting: .*\.\.\.)", web).group(1)
        self.assertEqual(len(state), 16, web)

    def test_not_cut_when_not_a_terminal(self):
        out = self.ok("list").out.decode()
        self.assertIn("waiting: wait-path " + self.LONG, out)
        self.assertGreater(max(len(l) for l in out.splitlines()), 200)
        # COLUMNS alone does not make a pipe a terminal.
        env = dict(self.env, COLUMNS="80")
        out = self.ok("list", env=env).out.decode()
        self.assertIn(self.LONG, out)

    def test_show_has_it_all(self):
        rc, out = run_in_pty([VMSCHED, "show", "web"], self.env, 80)
        self.assertEqual(rc, 0, out)
        self.assertIn(self.LONG.encode(), out.replace(b"\n", b""))

    def test_wide_terminal_not_cut(self):
        rc, out = run_in_pty([VMSCHED, "list"], self.env, 400)
        self.assertIn(("waiting: wait-path " + self.LONG).encode(), out)


class StatusName(DaemonCase):
    """`status NAME` as `systemctl status` has it: the definition in a
    line, state and since, pid, the last runs with how they ended and the
    rule, and the last lines of the VM's log."""

    def add_web(self, *opts):
        script = ('for i in $(seq 1 30); do echo "out-$i"; done; '
                  'printf "\\033[31mred\\033[0m\\n"; exec sleep 600')
        self.ok("add", "web", "--order", "20", "--restart", "always",
                *opts, "--", "sh", "-c", script)

    def test_status_name(self):
        self.add_web()
        self.start_daemon()
        self.wait_state("web", "up")
        self.ok("restart", "web")
        log = os.path.join(self.dir, "logs", "web.log")
        wait_for(lambda: os.path.exists(log) and
                 open(log, "rb").read().count(b"red") == 2,
                 what="web's output")
        pid = self.pid("web")
        out = self.ok("status", "web").out.decode()
        lines = out.splitlines()
        # The definition in one line: name, command, policy, order.
        self.assertTrue(lines[0].startswith("web - sh -c "), out)
        self.assertRegex(out, r"restart always")
        self.assertRegex(out, r"order 20")
        self.assertRegex(out, r"\n *state: up since \d{4}-\d\d-\d\d "
                         r"\d\d:\d\d:\d\d \([0-9.a-z]+ ago\)\n")
        self.assertRegex(out, r"\n *pid: %d\n" % pid)
        # The runs: the one stopped by restart, with its rule; the open one.
        self.assertRegex(out, r"pid \d+ stopped by TERM after [0-9.a-z]+; ")
        self.assertRegex(out, r"run pid %d running" % pid)
        # The log: its path, the last 10 lines, control bytes escaped.
        self.assertIn(log, out)
        tail = lines[-10:]
        self.assertEqual(tail[-1].strip(), "\\x1b[31mred\\x1b[0m", out)
        self.assertEqual(tail[-2].strip(), "out-30")
        self.assertNotIn("\x1b", out)
        self.assertNotIn("out-20\n", out)

    def test_lines_and_runs(self):
        self.add_web()
        self.start_daemon()
        self.wait_state("web", "up")
        log = os.path.join(self.dir, "logs", "web.log")
        wait_for(lambda: os.path.exists(log) and b"red" in
                 open(log, "rb").read(), what="web's output")
        out = self.ok("status", "web", "--lines", "3").out.decode()
        self.assertEqual(out.splitlines()[-3].strip(), "out-29", out)
        out = self.ok("status", "web", "--lines", "0").out.decode()
        self.assertNotIn("out-30", out)
        self.fails(64, "status", "web", "--lines", "x")

    def test_never_ran(self):
        self.add_web("--disabled")
        out = self.ok("status", "web").out.decode()
        self.assertIn("state: disabled since", out)
        self.assertIn("never ran", out)
        self.assertIn("no log yet", out)

    def test_log_not_a_file(self):
        fifo = os.path.join(self.dir, "fifo.log")
        os.mkfifo(fifo)
        self.add_web("--log-file", fifo)
        r = self.run_vmsched("status", "web", timeout=10)
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"not a regular file", r.out)

    def test_unknown_vm(self):
        self.fails(66, "status", "nosuch")
        self.fails(64, "status", "a", "b")

    def test_daemon_status_unchanged(self):
        self.ok("db", "migrate")
        out = self.ok("status").out.decode()
        self.assertIn("daemon: not running", out)

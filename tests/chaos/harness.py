"""harness.py: the machinery of the chaos campaign (tests/chaos/). It runs
the real vmsched binary ($VMSCHED) against real processes (chaos-vm,
$CHAOS_VM) and gives the scenarios what they need to attack it and the
invariants what they need to judge it:

- Procs: every process the harness starts, so it kills only those. The
  harness is a child subreaper: a SIGKILLed daemon's VMs are reparented to
  it (not to whatever init the machine has) and reaped by it, so their
  exit is seen by the next daemon the same way on every machine.
- Work: one scenario's folder (database, daemon log, the VMs' book, the
  receiver's log, every command run); kept as evidence when a check fails.
- Book: the VMs' own start/end log (written by chaos-vm, never by vmsched).
- Daemon, Receiver, Store (read-only SQL on the database), cli().

Every wait is a poll with a deadline (wait_for), never a bare sleep for a
condition.
"""
import ctypes
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
RECEIVER = os.path.join(TESTS, "webhook_receiver.py")


def tool(env, default):
    path = os.environ.get(env) or os.path.join(ROOT, default)
    if not os.access(path, os.X_OK):
        raise SystemExit("chaos: %s: not built (set $%s, or run make chaos)"
                         % (path, env))
    return os.path.abspath(path)


class Timeout(Exception):
    pass


def wait_for(cond, timeout, interval=0.02, what="condition"):
    """Poll cond() until it returns a true value and return it; raise
    Timeout after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Timeout("timed out after %.1fs waiting for %s"
                          % (timeout, what))
        time.sleep(interval)


def pause(seconds):
    """Let time pass on purpose (a fault's duration, a think time): never
    used to wait for a condition."""
    if seconds > 0:
        time.sleep(seconds)


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------- processes

def proc_stat(pid):
    """(state letter, starttime) of pid, or None if there is none."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:].split()
    try:
        return rest[0].decode(), int(rest[19])
    except (IndexError, ValueError):
        return None


def proc_alive(pid, start=None):
    """Whether pid runs (not a zombie) and, given start, is that process."""
    st = proc_stat(pid)
    return st is not None and st[0] not in "ZX" and (
        start is None or st[1] == start)


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def proc_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


class Result:
    def __init__(self, argv, rc, out, err, ms, started):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        self.ms, self.started = ms, started

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "rc=%s %.0fms %s err=%r" % (self.rc, self.ms,
                                           " ".join(self.argv[1:]),
                                           self.err[-300:])


PR_SET_CHILD_SUBREAPER = 36


class Procs:
    """Every process the harness starts, and the reaper of orphans."""

    def __init__(self):
        self.lock = threading.Lock()
        self.own = {}           # pid -> Popen, started by us, reaped by it
        self.reaped = 0         # orphans reaped (VMs of a killed daemon)
        self.stopping = False
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            self.subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0,
                                        0) == 0
        except (OSError, AttributeError):
            self.subreaper = False
        self.thread = threading.Thread(target=self._reap_loop, daemon=True)
        self.thread.start()

    def _reap_loop(self):
        while not self.stopping:
            self.reap()
            time.sleep(0.02)

    def reap(self):
        """Reap exited children that are not ours to wait for (orphans
        reparented to us); leave our own Popen children to their owner."""
        with self.lock:
            while True:
                try:
                    r = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG |
                                  os.WNOWAIT)
                except ChildProcessError:
                    return
                if r is None or r.si_pid == 0 or r.si_pid in self.own:
                    return
                try:
                    os.waitpid(r.si_pid, 0)
                    self.reaped += 1
                except ChildProcessError:
                    return

    def popen(self, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        with self.lock:
            p = subprocess.Popen(argv, **kw)
            self.own[p.pid] = p
        return p

    def forget(self, p):
        with self.lock:
            self.own.pop(p.pid, None)

    def wait(self, p, timeout=None):
        rc = p.wait(timeout=timeout)
        self.forget(p)
        return rc

    def run(self, argv, timeout=60, env=None, input=None):
        """Run argv to its end; a Result. A command still running after
        timeout is killed (rc None)."""
        started = time.monotonic()
        p = self.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.PIPE if input is not None else
                       subprocess.DEVNULL, env=env)
        try:
            out, err = p.communicate(input=input, timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            rc = None
        self.forget(p)
        return Result(argv, rc, out.decode(errors="replace"),
                      err.decode(errors="replace"),
                      (time.monotonic() - started) * 1000, started)

    def kill_own(self):
        """SIGKILL and reap every process we started that still runs."""
        with self.lock:
            procs = list(self.own.values())
        for p in procs:
            if p.poll() is None:
                try:
                    p.kill()
                except OSError:
                    pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.forget(p)


# ---------------------------------------------------------------- the book

class Proc:
    """One VM process as its own book tells it."""
    __slots__ = ("pid", "start", "name", "mono", "wall", "ppid", "dup",
                 "count", "action", "end_mono", "end_wall", "how")

    def __init__(self, f):
        self.pid, self.start = int(f[1]), int(f[2])
        self.name = f[3]
        self.mono, self.wall = int(f[4]), int(f[5])
        self.ppid, self.dup, self.count = int(f[6]), int(f[7]), int(f[8])
        self.action = f[9]
        self.end_mono = self.end_wall = self.how = None

    @property
    def key(self):
        return (self.pid, self.start)

    def __repr__(self):
        return "%s pid %d (start %d, %s%s)" % (
            self.name, self.pid, self.start, self.action,
            ", ended %s" % self.how if self.how else "")


class Book:
    """The VMs' own start/end log, read incrementally."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.procs = {}          # (pid, start) -> Proc, in start order
        self.order = []
        self.bad = []            # lines that do not parse
        self.ends_without_start = []
        self.lock = threading.Lock()

    def refresh(self):
        with self.lock:
            try:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    data = f.read()
            except FileNotFoundError:
                return self
            end = data.rfind(b"\n") + 1
            self.offset += end
            for line in data[:end].decode(errors="replace").splitlines():
                f = line.split()
                try:
                    if f[0] == "S" and len(f) == 10:
                        p = Proc(f)
                        self.procs[p.key] = p
                        self.order.append(p)
                    elif f[0] == "E" and len(f) == 7:
                        p = self.procs.get((int(f[1]), int(f[2])))
                        if p is None:
                            self.ends_without_start.append(line)
                        else:
                            p.end_mono, p.end_wall = int(f[4]), int(f[5])
                            p.how = f[6]
                    else:
                        self.bad.append(line)
                except (ValueError, IndexError):
                    self.bad.append(line)
        return self

    def live(self, name=None):
        """Processes that have not booked their end and still run."""
        self.refresh()
        return [p for p in list(self.order) if p.how is None and
                (name is None or p.name == name) and
                proc_alive(p.pid, p.start)]

    def of(self, name):
        return [p for p in list(self.order) if p.name == name]

    def count(self, names=None):
        self.refresh()
        if names is None:
            return len(self.order)
        return sum(1 for p in self.order if p.name in names)


# ---------------------------------------------------------------- folders

class Work:
    """One scenario's folder. The database lives in db/ (its own 0700
    directory, made by vmsched), the VMs' books and locks beside it."""

    def __init__(self, path, dbdir=None):
        self.dir = path
        os.makedirs(self.dir, exist_ok=True)
        self.dbdir = dbdir or os.path.join(self.dir, "db")
        self.db = os.path.join(self.dbdir, "vmsched.db")
        self.vmdir = os.path.join(self.dir, "vms")
        os.makedirs(os.path.join(self.vmdir, "locks"))
        self.book = Book(os.path.join(self.vmdir, "book"))
        self.daemon_log = os.path.join(self.dir, "daemon.log")
        self.cmd_log = open(os.path.join(self.dir, "commands.log"), "a")
        self.cmd_lock = threading.Lock()
        self.env = dict(os.environ, VMSCHED_DB=self.db)
        self.env.pop("VMSCHED_DEBUG", None)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def log_command(self, r):
        with self.cmd_lock:
            self.cmd_log.write("%.3f %s rc=%s %.1fms%s\n" % (
                r.started, " ".join(r.argv[1:]), r.rc, r.ms,
                (" err=" + r.err.strip().replace("\n", " | ")[:400])
                if r.err.strip() else ""))
            self.cmd_log.flush()

    def note(self, text):
        """A line in the daemon log, so its lines read against what the
        harness did."""
        with open(self.daemon_log, "a") as f:
            f.write("=== chaos %.3f: %s\n" % (time.monotonic(), text))


# ---------------------------------------------------------------- vmsched

class Vmsched:
    """The CLI, run against one Work's database. Every command is logged;
    every 'database is locked' is counted."""

    def __init__(self, procs, work, binary):
        self.procs, self.work, self.bin = procs, work, binary
        self.locked = []        # results that said "database is locked"
        self.lock = threading.Lock()
        self.count = 0

    def __call__(self, *args, timeout=60, input=None):
        argv = [self.bin, "--db", self.work.db] + [str(a) for a in args]
        r = self.procs.run(argv, timeout=timeout, env=self.work.env,
                           input=input)
        self.work.log_command(r)
        with self.lock:
            self.count += 1
            if "database is locked" in r.err:
                self.locked.append(r)
        return r


class Daemon:
    """`vmsched daemon` on a Work's database: started, SIGKILLed, stopped."""

    def __init__(self, procs, work, binary, args=()):
        self.procs, self.work, self.bin = procs, work, binary
        self.args = [str(a) for a in args]
        self.p = None
        self.starts = 0
        self.kills = 0
        self.refused = []       # (attempt, rc, last log lines)
        self.pids = []

    def daemon_pid(self):
        """The pid recorded in the daemon row (read-only SQL: no lock
        probe that could itself disturb a starting daemon)."""
        try:
            rows = Store(self.work.db).q("SELECT pid, stopped_at FROM daemon")
        except sqlite3.Error:
            return None
        return rows[0][0] if rows and rows[0][1] is None else None

    def start(self, wait=True, timeout=30):
        """Start a daemon; with wait, until it has written its row. A
        daemon that exits at once (75: another holds the lock) is
        recorded as refused and started again, up to 20 times."""
        for attempt in range(20):
            self.work.note("daemon start")
            log = open(self.work.daemon_log, "ab")
            self.p = self.procs.popen(
                [self.bin, "--db", self.work.db, "daemon"] + self.args,
                env=self.work.env, stdout=log, stderr=log)
            log.close()
            self.starts += 1
            self.pids.append(self.p.pid)
            if not wait:
                return self.p
            try:
                wait_for(lambda: self.p.poll() is not None or
                         self.daemon_pid() == self.p.pid, timeout,
                         what="daemon to start")
            except Timeout:
                return self.p
            if self.p.poll() is None:
                return self.p
            rc = self.p.returncode
            self.procs.forget(self.p)
            self.refused.append((attempt, rc, tail(self.work.daemon_log)))
            self.p = None
            pause(0.1)
        raise RuntimeError("daemon refused to start 20 times")

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def kill(self):
        if self.p is None:
            return
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
            self.kills += 1
            self.work.note("daemon SIGKILLed")
        self.procs.wait(self.p, timeout=30)
        self.p = None

    def term(self, timeout=120):
        """SIGTERM and wait: the exit status, or None if it did not end
        in time (it is then SIGKILLed)."""
        if self.p is None:
            return None
        self.work.note("daemon SIGTERM")
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.procs.wait(self.p, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        self.p = None
        return rc

    @property
    def pid(self):
        return self.p.pid if self.p is not None else None


def tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()[-n:]
    except OSError:
        return []


class Receiver:
    """tests/webhook_receiver.py, its own process, logging briefly. What
    it answers is switched at run time through its default file; down
    means not running (start it again: same port)."""

    def __init__(self, procs, work):
        self.procs, self.work = procs, work
        self.log = work.path("receiver.jsonl")
        self.mode_file = work.path("receiver.mode")
        self.port = 0
        self.p = None
        self.starts = 0
        self.set_mode("200")

    def set_mode(self, answer):
        tmp = self.mode_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(answer + "\n")
        os.rename(tmp, self.mode_file)
        self.mode = answer

    def start(self):
        self.starts += 1
        port_file = self.work.path("receiver.port.%d" % self.starts)
        errlog = open(self.work.path("receiver.err"), "ab")
        self.p = self.procs.popen(
            [sys.executable, RECEIVER, "--log", self.log, "--brief",
             "--port", str(self.port), "--port-file", port_file,
             "--default-file", self.mode_file],
            stdout=subprocess.DEVNULL, stderr=errlog)
        errlog.close()
        wait_for(lambda: os.path.exists(port_file) or
                 self.p.poll() is not None, 15, what="receiver to listen")
        if self.p.poll() is not None:
            raise RuntimeError("receiver exited %s" % self.p.returncode)
        with open(port_file) as f:
            self.port = int(f.read())
        return self

    def stop(self):
        if self.p is not None:
            if self.p.poll() is None:
                self.p.kill()
            self.procs.wait(self.p, timeout=10)
        self.p = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def entries(self):
        try:
            with open(self.log, encoding="utf-8") as f:
                out = []
                for line in f:
                    if line.endswith("\n"):
                        out.append(json.loads(line))
                return out
        except FileNotFoundError:
            return []


class Store:
    """Read-only SQL on the database (it never checkpoints or writes)."""

    def __init__(self, db):
        self.db = db

    def q(self, stmt, *params):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True,
                              timeout=15)
        try:
            con.row_factory = sqlite3.Row
            return con.execute(stmt, params).fetchall()
        finally:
            con.close()

    def runs(self):
        return [dict(r) for r in self.q(
            "SELECT id, vm, started_at, ended_at, pid, pid_start, "
            "exit_code, signal, reason, detail, rule, failures, delay_ms, "
            "breaker FROM run ORDER BY id")]

    def events(self):
        return [dict(r) for r in self.q(
            "SELECT id, time, event, vm, detail, status, attempts, "
            "last_error, delivered_at FROM event ORDER BY id")]

    def vms(self):
        return [dict(r) for r in self.q(
            "SELECT v.name, v.enabled, v.restart, v.stop_timeout_ms, "
            "v.up_delay_ms, s.desired, s.state, s.state_since, s.pid, "
            "s.pid_start, s.why, s.pending, s.request, s.handled, "
            "s.failures, lr.reason AS last_reason, lr.delay_ms AS "
            "last_delay, lr.breaker AS last_breaker, lr.rule AS last_rule, "
            "(SELECT count(*) FROM run r WHERE r.vm = v.name) AS nruns "
            "FROM vm v JOIN vm_state s ON s.vm_id = v.id "
            "LEFT JOIN run lr ON lr.id = (SELECT max(id) FROM run r2 "
            "WHERE r2.vm = v.name AND r2.ended_at IS NOT NULL) "
            "ORDER BY v.name")]


def rng_for(seed, name):
    """A generator of its own for each part of a campaign, from the seed."""
    return random.Random("%s/%s" % (seed, name))


def copy_tree(src, dst):
    if os.path.isdir(src):
        shutil.copytree(src, dst, dirs_exist_ok=True)

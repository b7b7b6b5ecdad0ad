"""scenarios.py: the six attacks of issue 11, each a Scenario that builds a
fleet of chaos-vm processes under the real daemon, attacks it, lets it
settle, stops it with SIGTERM and judges what is left with invariants.py.

Every scenario draws its randomness from its own generator seeded by the
campaign's seed and its name, so CHAOS_SEED=N replays it (the faults and
requests, and the VMs' own choices; the machine's timing cannot be
replayed). Sizes and durations come from one table per scenario, the short
version (make chaos-short) and the full one (make chaos).
"""
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

import invariants as inv
from harness import (Daemon, Receiver, Store, Timeout, Vmsched, Work,
                     copy_tree, now_ms, pause, proc_alive, proc_cmdline,
                     proc_fds, proc_rss_kib, rng_for, tail, wait_for)

CTL_DESIRED = {"start": "up", "restart": "up", "stop": "down",
               "suspend": "suspended", "reset": None}


class Campaign:
    """What every scenario shares: tools, seed, where evidence goes."""

    def __init__(self, procs, seed, short, base, vmsched, chaos_vm,
                 hook_driver, provoke=None):
        self.procs, self.seed, self.short, self.base = procs, seed, short, base
        self.vmsched, self.chaos_vm = vmsched, chaos_vm
        self.hook_driver = hook_driver
        self.provoke = provoke


class Scenario:
    name = "?"
    title = "?"
    # short/full parameters; subclasses fill them
    P = {}

    def __init__(self, c):
        self.c = c
        self.skip = None         # why this scenario cannot run here
        self.p = dict(self.P["short" if c.short else "full"])
        self.rng = rng_for(c.seed, self.name)
        self.work = self.make_work()
        self.cli = Vmsched(c.procs, self.work, c.vmsched)
        self.daemon = Daemon(c.procs, self.work, c.vmsched,
                             self.daemon_args())
        self.store = Store(self.work.db)
        self.v = inv.Verdict()
        self.receiver = None
        self.model = {}          # name -> set of desired, None: removed
        self.defs = {}           # name -> behaviour
        self.faults = []         # what was injected, for the table
        self.figures = []        # what was measured, printed under it
        self.started = time.monotonic()
        self.elapsed = 0.0
        self.runs = self.events = 0
        self.stop_bound_ms = 0   # longest stop timeout ever given, ms
        self.suspend_bound_ms = 5000
        self.log = open(self.work.path("scenario.log"), "a")
        self.excused = set()     # processes a recorded gap accounts for

    # -- set-up ---------------------------------------------------------

    def make_work(self):
        return Work(os.path.join(self.c.base, self.name))

    def daemon_args(self):
        return []

    def say(self, text):
        line = "[%s %6.1fs] %s" % (self.name, time.monotonic() -
                                   self.started, text)
        self.log.write(line + "\n")
        self.log.flush()
        if os.environ.get("CHAOS_VERBOSE"):
            print(line, flush=True)

    def vm_argv(self, name, behaviour):
        return [self.c.chaos_vm, self.work.vmdir, name, str(self.c.seed),
                behaviour]

    def add_vm(self, name, behaviour, *opts, stop_timeout="2s"):
        r = self.cli("add", name, "--stop-timeout", stop_timeout, *opts,
                     "--", *self.vm_argv(name, behaviour))
        if r.rc == 0:
            self.model[name] = {"up"}
            self.defs[name] = behaviour
            self.note_stop_timeout(stop_timeout)
        return r

    def note_stop_timeout(self, text):
        ms = parse_ms(text)
        self.stop_bound_ms = max(self.stop_bound_ms, ms)

    def webhook(self, *extra):
        self.receiver = Receiver(self.c.procs, self.work).start()
        r = self.cli("webhook", "set", self.receiver.url, *extra)
        if r.rc != 0:
            raise RuntimeError("webhook set: %r" % r)

    def ctl(self, what, name, wait=False, timeout_ms=2000):
        """A request the operator makes; the model learns what it asked
        (when the outcome is ambiguous, either state is accepted)."""
        args = [what, name]
        args += ["--timeout", "%dms" % timeout_ms] if wait else ["--no-wait"]
        r = self.cli(*args, timeout=timeout_ms / 1000 + 60)
        self.learn(what, name, r)
        return r

    def learn(self, what, name, r):
        new = CTL_DESIRED.get(what)
        if new is None or self.model.get(name) is None:
            return
        written = request_written(r)
        if written is True:
            self.model[name] = {new}
        elif written is None:
            self.model[name] = set(self.model[name]) | {new}

    # -- the run --------------------------------------------------------

    def run(self):
        try:
            if self.skip:
                return self.v
            self.setup()
            self.attack()
            self.finish()
        except Exception as e:      # the harness broke: say so, keep all
            import traceback
            self.v.fail("harness", "%s: %s" % (type(e).__name__, e))
            self.log.write(traceback.format_exc())
            self.log.flush()
        finally:
            self.cleanup()
            self.elapsed = time.monotonic() - self.started
        return self.v

    def setup(self):
        pass

    def attack(self):
        pass

    # -- judging --------------------------------------------------------

    def settle(self, timeout):
        """Wait until every VM agrees with its desired state (nothing in
        stopping/suspending, no mismatch); at the deadline, report every
        VM that disagreed without pause for the last second. A VM seen
        in stopping/suspending past its bound is reported at once."""
        deadline = time.monotonic() + timeout
        since = {}      # name -> (monotonic first seen, text)
        stuck = set()
        stop_bound = self.stop_bound_ms + 3000
        while True:
            self.work.book.refresh()
            live = {}
            for p in self.work.book.live():
                live.setdefault(p.name, []).append(p)
            try:
                vms = self.store.vms()
            except Exception as e:      # busy or full: try again
                vms = None
                self.say("settle: %s" % e)
            now = time.monotonic()
            problems = {}
            moving = 0
            if vms is not None:
                stamp = now_ms()
                for vm in vms:
                    kind, text = inv.state_verdict(
                        vm, live.get(vm["name"], []), stamp, stop_bound,
                        self.suspend_bound_ms)
                    if kind == "transient" and vm["state"] in (
                            "stopping", "suspending"):
                        moving += 1
                    elif kind == "stuck":
                        if vm["name"] not in stuck:
                            stuck.add(vm["name"])
                            self.v.mismatches += 1
                            self.v.fail("stuck", text)
                        problems[vm["name"]] = text
                    elif kind == "mismatch":
                        problems[vm["name"]] = text
                defined = {vm["name"] for vm in vms}
                for name, want in self.model.items():
                    if want is None and name not in defined and \
                            live.get(name):
                        problems[name] = "%s was removed, yet %s run" % (
                            name, [p.pid for p in live[name]])
                for name in list(since):
                    if name not in problems:
                        del since[name]
                for name, text in problems.items():
                    since.setdefault(name, (now, text))
                    since[name] = (since[name][0], text)
                if not problems and not moving:
                    self.v.check("state")
                    self.say("settled")
                    return True
            if now >= deadline:
                self.snapshot("unsettled")
                for name, (first, text) in sorted(since.items()):
                    if now - first >= 1.0 and name not in stuck:
                        self.v.mismatches += 1
                        self.v.fail("state", text + " (for %.1fs, after "
                                    "%.0fs of settling)" % (now - first,
                                                            timeout))
                self.v.check("state")
                return False
            pause(0.2)

    def snapshot(self, label):
        """What the fleet looks like now, into the folder: list, plan,
        status, and the VMs' rows."""
        with open(self.work.path("%s.txt" % label), "w") as f:
            for args in (("list",), ("plan",), ("status",),
                         ("--json", "list")):
                r = self.cli(*args)
                f.write("$ vmsched %s (rc %s)\n%s%s\n" % (
                    " ".join(args), r.rc, r.out, r.err))
            try:
                for vm in self.store.vms():
                    f.write("%r\n" % vm)
            except Exception as e:
                f.write("vms: %s\n" % e)
            f.write("live: %r\n" % self.work.book.live())

    def drain_webhook(self, timeout):
        """After the last daemon: deliver what it left pending with the
        real sender (tests/hook_driver), so every due event can be
        judged."""
        if self.receiver is None:
            return
        if self.receiver.p is None:
            self.receiver.start()
        self.receiver.set_mode("200")
        r = self.c.procs.run([self.c.hook_driver, self.work.db, "drain",
                              str(int(timeout * 1000))],
                             timeout=timeout + 30, env=self.work.env)
        self.work.log_command(r)
        if r.rc != 0:
            self.v.note("hook_driver drain: %r" % r)

    def finish(self, settle_s=None):
        """The common end: settle, desired states, SIGTERM, what is left."""
        if not self.daemon.alive():
            self.daemon.start()
        self.settle(settle_s if settle_s is not None else
                    self.p.get("settle", 20))
        self.provoke_hook("settled")
        try:
            inv.check_desired(self.v, self.model, self.store.vms())
        except Exception as e:
            self.v.fail("harness", "reading VMs: %s" % e)
        self.final_stop()

    def final_stop(self):
        self.v.check("shutdown")
        rc = self.daemon.term(timeout=max(60, self.stop_bound_ms / 1000 * 6))
        if rc != 0:
            self.v.fail("shutdown", "the daemon's SIGTERM exit was %s "
                        "(None: still running after the bound)" % rc)
        self.provoke_hook("stopped")
        book = self.work.book.refresh()
        live = [p for p in book.order if proc_alive(p.pid, p.start)]
        inv.check_leftovers(self.v, live, self.strays())
        self.drain_webhook(self.p.get("drain", 60))
        self.judge(final=True)

    def strays(self):
        """Processes (other than the harness's own) whose argv names this
        scenario's folder."""
        mark = self.work.dir.encode()
        out = []
        own = set(self.c.procs.own)
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) in own or int(d) == os.getpid():
                continue
            argv = proc_cmdline(int(d))
            if any(mark in a for a in argv) and proc_alive(int(d)):
                out.append((int(d), b" ".join(argv)[:200].decode(
                    errors="replace")))
        return out

    def judge(self, final):
        book = self.work.book.refresh()
        if book.ends_without_start:
            self.v.fail("harness", "%d book end lines without a start: %r"
                        % (len(book.ends_without_start),
                           book.ends_without_start[:3]))
        if book.bad:
            self.v.fail("harness", "%d book lines do not parse: %r" % (
                len(book.bad), book.bad[:3]))
        runs, events = self.store.runs(), self.store.events()
        self.runs, self.events = len(runs), len(events)
        inv.check_one_process(self.v, book.order)
        inv.check_runs(self.v, [p for p in book.order
                                if p.key not in self.excused],
                       runs, events, final)
        if self.receiver is not None:
            redelivered = inv.check_outbox(self.v, events,
                                           self.receiver.entries())
            if redelivered:
                self.v.note("%d deliveries repeated (at least once: "
                            "allowed)" % redelivered)
        r = self.cli("db", "check")
        self.v.check("db-check")
        if r.rc != 0 or " ok" not in r.out:
            self.v.fail("db-check", "vmsched db check: %r %s" % (r, r.out))
        inv.check_modes(self.v, self.work.dbdir)
        inv.check_cli(self.v, self.cli.locked)
        inv.check_daemon_starts(self.v, self.daemon.refused)

    def provoke_hook(self, moment):
        """--provoke: break one condition on purpose, so the run proves
        the matching check fails (see run_chaos.py)."""
        what = self.c.provoke
        if what:
            provoke(self, what, moment)

    def cleanup(self):
        """Kill what this scenario started, and only that: the daemon,
        the receiver and helpers (by the pids we hold), the VM processes
        (by pid and start time, from their book)."""
        try:
            if self.daemon.alive():
                self.daemon.kill()
        except Exception:
            pass
        if self.receiver is not None:
            self.receiver.stop()
        self.work.book.refresh()
        for p in self.work.book.order:
            if proc_alive(p.pid, p.start):
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        for pid, _ in self.strays():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.release()

    def release(self):
        pass

    def evidence(self):
        """Write what failed, and how to replay it, into the folder."""
        with open(self.work.path("FAILED.txt"), "w") as f:
            f.write("scenario %s (%s), seed %s, %s\n" % (
                self.name, self.title, self.c.seed,
                "short" if self.c.short else "full"))
            f.write("replay: CHAOS_SEED=%s CHAOS_SCENARIOS=%s make %s\n\n"
                    % (self.c.seed, self.name,
                       "chaos-short" if self.c.short else "chaos"))
            f.write(self.v.report(limit=200) + "\n\n")
            f.write("faults: %s\n" % self.fault_text())
            for fig in self.figures:
                f.write("figure: %s\n" % fig)
            f.write("files: db/ (database, WAL, VM logs), daemon.log, "
                    "vms/book (the VMs' own start/end log), commands.log, "
                    "receiver.jsonl, scenario.log\n")

    def fault_text(self):
        return ", ".join(self.faults) or "-"

    # -- measuring ------------------------------------------------------

    def restart_latency(self, name, samples, gap=0.15, what=None):
        """SIGKILL name's process and time until its replacement booked
        its start (ms), samples times. Fewer samples if it does not come
        back within 5 s (counted as 5000 ms)."""
        out = []
        for _ in range(samples):
            try:
                cur = wait_for(lambda: self.work.book.live(name), 10,
                               interval=0.005, what="%s running" % name)[0]
            except Timeout:
                out.append(5000.0)
                continue
            t0 = time.monotonic_ns()
            try:
                os.kill(cur.pid, signal.SIGKILL)
            except OSError:
                continue
            try:
                new = wait_for(lambda: [p for p in self.work.book.refresh()
                                        .of(name) if p.mono > t0], 5,
                               interval=0.001, what="%s restarted" % name)
                out.append((new[0].mono - t0) / 1e6)
            except Timeout:
                out.append(5000.0)
            pause(gap)
        return out


def parse_ms(text):
    text = str(text)
    for unit, mul in (("ms", 1), ("s", 1000), ("m", 60000)):
        if text.endswith(unit):
            return int(float(text[:-len(unit)]) * mul)
    return int(float(text) * 1000)


def request_written(r):
    """Whether a start/stop/... command wrote its request: True, False,
    or None when its outcome does not say."""
    if r.rc in (0, 1, 75):
        return True
    if r.rc in (64, 65, 66):
        return False
    if r.rc == 69:
        return "no daemon is running" not in r.err
    return None


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# Under AddressSanitizer (make check SANITIZE=1) time and memory figures
# say nothing about vmsched: the invariants are still checked, but latency
# and RSS are only reported.
SANITIZED = os.environ.get("CHAOS_SANITIZED") == "1"


def latency_ok(base, xs, floor_ms):
    """Within 2x the idle median, or within floor_ms of it: medians of 1-2
    ms over a few samples move by a few ms on a shared 2-core machine,
    while the faults this guards against (a restart waiting for a hung
    receiver or a held database) cost seconds. Always true when
    SANITIZED (then the figures are only reported)."""
    return SANITIZED or median(xs) <= max(2 * median(base),
                                          median(base) + floor_ms)


def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


# ==================================================================== 1

class Crashes(Scenario):
    """1. The daemon SIGKILLed at random moments (during boot, during a
    crash storm, during shutdown, while a request is in flight) while a
    random stream of operator requests runs, restarted after 0-2 s; the
    VMs run on, exit 0 or not, die by signals, ignore SIGTERM a while or
    crash-loop."""
    name = "crashes"
    title = "daemon SIGKILLed at random"
    P = {"short": dict(vms=30, kills=4, gap=(0.5, 1.5), settle=15,
                       drain=30),
         "full": dict(vms=200, kills=20, gap=(2.0, 6.0), settle=40,
                      drain=120)}

    PROFILES = [  # weight, behaviour
        (30, "run"), (30, "mix:3000:3:1:1:1:1"), (10, "deaf:2500"),
        (10, "exit:1:0"), (10, "exit:0:RAND"), (10, "raise:SIG:RAND")]

    def behaviour(self):
        b = weighted(self.rng, self.PROFILES)
        b = b.replace("RAND", str(self.rng.randint(100, 3000)))
        return b.replace("SIG", str(self.rng.choice((6, 9, 11))))

    def vm_opts(self, name):
        r = self.rng
        opts = ["--order", str(r.choice((10, 20, 30))),
                "--restart", weighted(r, [(45, "always"),
                                          (45, "on-failure"),
                                          (10, "never")]),
                "--backoff-initial", "%dms" % r.randint(50, 400),
                "--backoff-max", "2s",
                "--max-failures", str(r.choice((0, 5, 10))),
                # Soft ordering: a later wave goes once this one has
                # tried this long, so a crash-looper holds boot briefly.
                "--wait-timeout", "%ds" % r.randint(2, 3)]
        if r.random() < 0.15:
            opts += ["--up-delay", "%dms" % r.randint(100, 600)]
        if r.random() < 0.1:
            opts += ["--wait-path", self.work.path("gates", name)]
        if r.random() < 0.1 and self.names:
            opts += ["--after", r.choice(self.names)]
        return opts

    def setup(self):
        os.makedirs(self.work.path("gates"))
        self.names = []
        self.seq = 0
        self.webhook()
        # The first opens of a new database race: the daemon and the
        # first definitions at once.
        first = []
        threads = [threading.Thread(target=lambda: first.append(
            self.daemon.start()))]
        for i in range(3):
            threads.append(threading.Thread(
                target=self.define_new))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        while len(self.names) < self.p["vms"]:
            self.define_new()
        self.faults.append("%d VMs" % len(self.names))

    def define_new(self, name=None):
        if name is None:
            self.seq += 1
            name = "c%03d" % self.seq
        stop = self.rng.choice(("500ms", "1s", "2s", "3s"))
        r = self.add_vm(name, self.behaviour(), *self.vm_opts(name),
                        stop_timeout=stop)
        if r.rc == 0 and name not in self.names:
            self.names.append(name)
        return r

    # -- the request stream --------------------------------------------

    OPS = [(3, "start"), (3, "stop"), (2, "suspend"), (2, "restart"),
           (1, "reset"), (2, "set"), (1, "add"), (1, "remove"),
           (1, "enable"), (1, "disable"), (1, "gate")]

    def stream(self, stop):
        n = 0
        while not stop.is_set():
            with self.stream_lock:
                self.one_request()
            n += 1
            pause(self.rng.uniform(0, 0.15))
        self.requests = n

    def live_names(self):
        return [n for n in self.names if self.model.get(n) is not None]

    def one_request(self):
        r = self.rng
        op = weighted(r, self.OPS)
        names = self.live_names()
        if not names:
            op = "add"
        name = r.choice(names) if names else None
        if op in CTL_DESIRED:
            self.ctl(op, name, wait=r.random() < 0.3,
                     timeout_ms=r.randint(300, 3000))
        elif op == "set":
            which = r.random()
            if which < 0.4:
                b = self.behaviour()
                res = self.cli("set", name, "--", *self.vm_argv(name, b))
                if res.rc == 0:
                    self.defs[name] = b
            elif which < 0.7:
                st = r.choice(("500ms", "1s", "2s", "3s"))
                res = self.cli("set", name, "--stop-timeout", st)
                if res.rc == 0:
                    self.note_stop_timeout(st)
            else:
                self.cli("set", name, "--restart",
                         r.choice(("always", "on-failure", "never")))
        elif op == "add":
            removed = [n for n in self.names if self.model.get(n) is None]
            self.define_new(r.choice(removed) if removed and
                            r.random() < 0.5 else None)
        elif op == "remove":
            force = r.random() < 0.6
            res = self.cli("remove", name, *(["--force"] if force else []),
                           timeout=120)
            if res.rc == 0:
                self.model[name] = None
            elif force and "no daemon is running" not in res.err and \
                    res.rc not in (64, 66):
                self.learn("stop", name, res)
        elif op in ("enable", "disable"):
            self.cli(op, name)
        elif op == "gate":
            path = self.work.path("gates", name)
            if os.path.exists(path):
                os.unlink(path)
            else:
                open(path, "w").close()

    # -- the kills -------------------------------------------------------

    def restart_daemon(self):
        pause(self.rng.uniform(0, 2.0))
        self.daemon.start()

    def attack(self):
        self.stream_lock = threading.Lock()
        stop = threading.Event()
        self.requests = 0
        t = threading.Thread(target=self.stream, args=(stop,))
        t.start()
        kinds = {}
        try:
            kills = 0
            while kills < self.p["kills"]:
                pause(self.rng.uniform(*self.p["gap"]))
                kind = self.rng.choice(("random", "boot", "storm",
                                        "shutdown", "inflight"))
                kinds[kind] = kinds.get(kind, 0) + 1
                self.say("kill %d: %s" % (kills + 1, kind))
                if kind == "random":
                    self.daemon.kill()
                elif kind == "boot":
                    self.daemon.kill()
                    kills += 1
                    pause(self.rng.uniform(0, 1.0))
                    self.daemon.start(wait=False)
                    pause(self.rng.uniform(0, 0.3))
                    self.daemon.kill()
                elif kind == "storm":
                    live = self.work.book.live()
                    victims = self.rng.sample(live, int(len(live) *
                                              self.rng.uniform(0.3, 0.7)))
                    for p in victims:
                        if proc_alive(p.pid, p.start):
                            os.kill(p.pid, signal.SIGKILL)
                    pause(self.rng.uniform(0, 0.15))
                    self.daemon.kill()
                elif kind == "shutdown":
                    self.work.note("daemon SIGTERM (to be SIGKILLed)")
                    self.daemon.p.send_signal(signal.SIGTERM)
                    pause(self.rng.uniform(0, 1.5))
                    self.daemon.kill()
                else:
                    self.inflight()
                kills += 1
                self.restart_daemon()
        finally:
            stop.set()
            t.join()
        self.faults.append("%d SIGKILLs (%s)" % (self.daemon.kills, ", ".join(
            "%s %d" % kv for kv in sorted(kinds.items()))))
        self.faults.append("%d requests" % self.requests)

    def inflight(self):
        """A waiting request, the daemon SIGKILLed while it waits."""
        with self.stream_lock:
            names = self.live_names()
            if not names:
                self.daemon.kill()
                return
            name = self.rng.choice(names)
            what = self.rng.choice(("start", "stop", "suspend", "restart"))
            out = {}
            th = threading.Thread(target=lambda: out.update(
                r=self.cli(what, name, "--timeout", "4s", timeout=60)))
            th.start()
            pause(self.rng.uniform(0, 0.04))
            self.daemon.kill()
            th.join()
            self.learn(what, name, out["r"])


def weighted(rng, pairs):
    total = sum(w for w, _ in pairs)
    x = rng.uniform(0, total)
    for w, v in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][1]


# ==================================================================== 2

class DiskFull(Scenario):
    """2. The database's filesystem (a small tmpfs the harness mounts)
    fills up while VMs crash and restart: supervision goes on on
    schedule, stop and suspend work or fail with a clear message, the
    failure is logged once, and when space returns what happened meanwhile
    is written (or one recorded gap says how much was lost, and when)."""
    name = "disk-full"
    title = "database filesystem full"
    P = {"short": dict(before=2.0, full=4.0, after=2.0, settle=15,
                       drain=30, size="16m"),
         "full": dict(before=8.0, full=30.0, after=10.0, settle=30,
                      drain=60, size="16m")}
    LOOPERS = 6
    DELAY_MS = 300

    def make_work(self):
        base = os.path.join(self.c.base, self.name)
        self.mnt = os.path.join(base, "mnt")
        self.mounted = False
        os.makedirs(self.mnt)
        self.window = None
        if os.geteuid() != 0:
            self.skip = "needs root to mount a small filesystem"
        else:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                                "size=%s,mode=0700" % self.P["short"]["size"],
                                "chaos-%d" % os.getpid(), self.mnt],
                               capture_output=True, text=True)
            self.mounted = r.returncode == 0
            self.skip = None if self.mounted else \
                "mount tmpfs: %s" % r.stderr.strip()
        return Work(base, dbdir=os.path.join(self.mnt, "db"))

    def setup(self):
        if self.skip:
            return
        self.filler = os.path.join(self.mnt, "filler")
        self.webhook()
        for i in range(self.LOOPERS):
            self.add_vm("loop%d" % i, "exit:1:100", "--restart", "always",
                        "--backoff-initial", "%dms" % self.DELAY_MS,
                        "--backoff-factor", "1", "--max-failures", "0")
        for name in ("web", "db"):
            self.add_vm(name, "run", "--restart", "always",
                        stop_timeout="1s")
        self.add_vm("mixed", "mix:2000:2:1:1:1:0", "--restart", "always",
                    "--backoff-initial", "200ms", "--max-failures", "0")
        self.daemon.start()

    def fill(self):
        """Write the filesystem full: every block, then every last one."""
        n = 0
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        try:
            for chunk in (1 << 20, 1 << 16, 1 << 12, 512):
                buf = b"\0" * chunk
                while True:
                    try:
                        n += os.write(fd, buf)
                    except OSError:
                        break
        finally:
            os.close(fd)
        return n

    def attack(self):
        if self.skip:
            return
        pause(self.p["before"])
        self.work.note("disk full")
        t_full = time.monotonic_ns()
        wall_full = now_ms()
        filled = self.fill()
        self.say("filled %d bytes" % filled)
        self.faults.append("disk full %.0f s" % self.p["full"])
        log_before = len(open(self.work.daemon_log, errors="replace")
                         .read().splitlines())
        # The operator's side while it is full: every command either
        # works or fails at once with a clear message.
        self.v.check("cli-clear-error")
        half = time.monotonic() + self.p["full"] / 2
        for what, name in (("stop", "web"), ("suspend", "db")):
            r = self.ctl(what, name, wait=True, timeout_ms=5000)
            self.judge_cli(r)
        for args in (("--json", "list"), ("status",), ("log", "loop0",
                                                       "--limit", "5")):
            self.judge_cli(self.cli(*args, timeout=30), read=True)
        pause(half - time.monotonic())
        pause(self.p["full"] / 2)
        self.work.note("space back")
        os.unlink(self.filler)
        t_back = time.monotonic_ns()
        wall_back = now_ms()
        pause(self.p["after"])
        self.window = (t_full, t_back, wall_full, wall_back)
        # Supervision went on: each crash-looper restarted on its
        # schedule all through the full window.
        self.v.check("supervision")
        book = self.work.book.refresh()
        for i in range(self.LOOPERS):
            ps = [p for p in book.of("loop%d" % i)]
            inside = [p for p in ps if t_full <= p.mono <= t_back]
            expect = (t_back - t_full) / 1e6 / (100 + self.DELAY_MS)
            if len(inside) < expect / 2:
                self.v.fail("supervision", "loop%d started %d times in "
                            "%.1fs of full disk (schedule: about %.0f)" % (
                                i, len(inside), (t_back - t_full) / 1e9,
                                expect))
            for a, b in zip(ps, ps[1:]):
                if a.end_mono and t_full <= a.end_mono <= t_back:
                    late = (b.mono - a.end_mono) / 1e6 - self.DELAY_MS * 1.1
                    if late > 1000:
                        self.v.fail("supervision", "loop%d restarted "
                                    "%.0f ms late while the disk was full"
                                    % (i, late))
        # Logged once, not per row.
        self.v.check("logged-once")
        lines = open(self.work.daemon_log, errors="replace").read() \
            .splitlines()[log_before:]
        full_lines = [l for l in lines if "full" in l and
                      not l.startswith("===")]
        if len(full_lines) > 3:
            self.v.fail("logged-once", "the daemon logged the full disk %d "
                        "times, e.g. %r" % (len(full_lines), full_lines[:2]))

    def judge_cli(self, r, read=False):
        if r.rc is None:
            self.v.fail("cli-clear-error", "%s hung (killed after its "
                        "deadline)" % " ".join(r.argv[3:]))
        elif r.rc != 0 and not r.err.startswith("vmsched: "):
            self.v.fail("cli-clear-error", "%s: rc %s without a clear "
                        "message: %r" % (" ".join(r.argv[3:]), r.rc, r.err))
        elif read and r.rc != 0:
            self.v.fail("cli-clear-error", "%s: a read failed: %s" % (
                " ".join(r.argv[3:]), r.err.strip()))

    def finish(self):
        if self.skip:
            return
        super().finish()

    def judge(self, final):
        """Runs started while the disk was full may be missing only if one
        recorded gap accounts for them."""
        self.v.check("gap-recorded")
        if self.window is None:
            return super().judge(final)
        t_full, t_back, wall_full, wall_back = self.window
        book = self.work.book.refresh()
        runs = self.store.runs()
        keys = {(r["pid"], r["pid_start"]) for r in runs}
        missing = [p for p in book.order if p.key not in keys]
        gaps = [e for e in self.store.events()
                if any(w in e["event"] for w in ("gap", "lost", "dropped"))]
        if missing:
            if not gaps:
                self.v.fail("gap-recorded", "%d processes that started "
                            "while the disk was full have no run row and "
                            "no recorded gap accounts for them (e.g. %r)"
                            % (len(missing), missing[:3]))
            else:
                covered = {p.key for p in missing
                           if wall_full - 1000 <= p.wall <= wall_back + 1000}
                self.v.note("gap(s) recorded: %r; %d run rows missing" % (
                    [(e["event"], e["vm"]) for e in gaps], len(missing)))
                self.excused = covered
        super().judge(final)

    def release(self):
        if self.mounted:
            copy_tree(os.path.join(self.mnt, "db"),
                      os.path.join(self.work.dir, "db-copy"))
            subprocess.run(["umount", self.mnt], capture_output=True)
            self.mounted = False


# ==================================================================== 3

class BusyDatabase(Scenario):
    """3. Another process holds a write transaction for 30 s: restarts
    happen on time, read commands answer, and afterwards every row
    lands."""
    name = "busy-db"
    title = "write transaction held by another process"
    P = {"short": dict(hold=5.0, after=2.0, settle=15, drain=30),
         "full": dict(hold=30.0, after=5.0, settle=30, drain=60)}
    LOOPERS = 5
    DELAY_MS = 200

    def daemon_args(self):
        return ["--max-restart-rate", "1000", "--restart-burst", "1000"]

    def setup(self):
        self.webhook()
        for i in range(self.LOOPERS):
            self.add_vm("loop%d" % i, "exit:1:200", "--restart", "always",
                        "--backoff-initial", "%dms" % self.DELAY_MS,
                        "--backoff-factor", "1", "--max-failures", "0")
        self.add_vm("probe", "run", "--restart", "always",
                    "--backoff-initial", "0", "--max-failures", "0")
        for i in range(3):
            self.add_vm("vm%d" % i, "run")
        self.daemon.start()
        wait_for(lambda: self.work.book.live("probe"), 15,
                 what="probe running")

    def attack(self):
        idle = self.restart_latency("probe", 10)
        self.work.note("write transaction held")
        code = ("import sqlite3, sys, time\n"
                "c = sqlite3.connect(sys.argv[1], timeout=30, "
                "isolation_level=None)\n"
                "c.execute('BEGIN IMMEDIATE')\n"
                "c.execute(\"INSERT OR REPLACE INTO setting VALUES "
                "('chaos.blocker', 'held')\")\n"
                "print('held', flush=True)\n"
                "time.sleep(float(sys.argv[2]))\n"
                "c.execute('ROLLBACK')\n"
                "print('released', flush=True)\n")
        blocker = self.c.procs.popen([sys.executable, "-c", code,
                                      self.work.db, str(self.p["hold"])],
                                     stdout=subprocess.PIPE)
        line = blocker.stdout.readline()
        if b"held" not in line:
            raise RuntimeError("blocker did not take the lock: %r" % line)
        t_hold = time.monotonic_ns()
        self.faults.append("write lock held %.0f s" % self.p["hold"])
        self.v.check("reads-answer")
        reads = [("--json", "list"), ("status",), ("log", "loop0",
                                                   "--limit", "5"),
                 ("--json", "show", "vm0")]
        held = []
        deadline = time.monotonic() + self.p["hold"] - 1.0
        k = 0
        while time.monotonic() < deadline:
            r = self.cli(*reads[k % len(reads)], timeout=30)
            k += 1
            if r.rc != 0 or r.ms > 2000:
                self.v.fail("reads-answer", "%s while the database was "
                            "held: rc %s after %.0f ms: %s" % (
                                " ".join(r.argv[3:]), r.rc, r.ms,
                                r.err.strip()[:200]))
            held += self.restart_latency("probe", 1, gap=0.1)
        blocker.stdout.read()
        self.c.procs.wait(blocker, timeout=60)
        t_free = time.monotonic_ns()
        self.work.note("write transaction released")
        pause(self.p["after"])
        self.v.check("restarts-on-time")
        self.say("latency idle %s, held %s" % (fmt_ms(idle), fmt_ms(held)))
        self.figures.append("restart latency idle %.1f ms, held %.1f ms "
                           "(max %.0f)" % (median(idle), median(held),
                                           max(held or [0])))
        if not latency_ok(idle, held, 5.0) or max(held or [0]) > 1000:
            self.v.fail("restarts-on-time", "restart latency while the "
                        "database was held: median %.1f ms, max %.0f ms "
                        "(idle median %.1f ms)" % (median(held),
                                                   max(held or [0]),
                                                   median(idle)))
        book = self.work.book.refresh()
        for i in range(self.LOOPERS):
            ps = book.of("loop%d" % i)
            for a, b in zip(ps, ps[1:]):
                if a.end_mono and t_hold <= a.end_mono <= t_free:
                    late = (b.mono - a.end_mono) / 1e6 - self.DELAY_MS * 1.1
                    if late > 1000:
                        self.v.fail("restarts-on-time", "loop%d restarted "
                                    "%.0f ms late while the database was "
                                    "held" % (i, late))


def fmt_ms(xs):
    return "median %.1f ms of %d" % (median(xs), len(xs)) if xs else "none"


# ==================================================================== 4

class ReceiverFaults(Scenario):
    """4. The webhook receiver is down, hangs, answers 500, 429 with
    Retry-After, closes mid-response, drips a byte a second: restart
    latency is not affected, and afterwards every event has been
    delivered, in order."""
    name = "receiver"
    title = "webhook receiver faults"
    P = {"short": dict(phase=dict(down=2, hang=1.5, e500=1, e429=1,
                                  partial=1, drip=1.5), timeout_ms=1000,
                       settle=15,
                       drain=60, catch_up=90),
         "full": dict(phase=dict(down=60, hang=20, e500=10, e429=10,
                                 partial=10, drip=20), timeout_ms=None,
                      settle=30, drain=120, catch_up=330)}
    LOOPERS = 8

    def daemon_args(self):
        return ["--max-restart-rate", "1000", "--restart-burst", "1000"]

    def setup(self):
        self.webhook()
        if self.p["timeout_ms"]:
            import sqlite3
            con = sqlite3.connect(self.work.db, timeout=15)
            with con:
                con.execute("INSERT OR REPLACE INTO setting VALUES "
                            "('webhook.timeout_ms', ?)",
                            (str(self.p["timeout_ms"]),))
            con.close()
        for i in range(self.LOOPERS):
            self.add_vm("loop%d" % i, "exit:1:300", "--restart", "always",
                        "--backoff-initial", "200ms", "--backoff-factor",
                        "1", "--max-failures", "0")
        self.add_vm("probe", "run", "--restart", "always",
                    "--backoff-initial", "0", "--max-failures", "0")
        self.daemon.start()
        wait_for(lambda: self.work.book.live("probe"), 15,
                 what="probe running")

    def attack(self):
        idle = self.restart_latency("probe", 10)
        lat = {}
        phases = [("down", None), ("hang", "hang"), ("e500", "500"),
                  ("e429", "429:1"), ("partial", "partial"),
                  ("drip", "drip" if not self.c.short else "drip:0.5")]
        for name, mode in phases:
            secs = self.p["phase"][name]
            self.work.note("receiver %s for %ss" % (name, secs))
            if mode is None:
                self.receiver.stop()
            else:
                if self.receiver.p is None:
                    self.receiver.start()
                self.receiver.set_mode(mode)
            end = time.monotonic() + secs
            xs = []
            while time.monotonic() < end:
                xs += self.restart_latency("probe", 1, gap=0.25)
            lat[name] = xs
        if self.receiver.p is None:
            self.receiver.start()
        self.receiver.set_mode("200")
        self.work.note("receiver healthy")
        self.faults.append("receiver " + ", ".join(
            "%s %ss" % (n, self.p["phase"][n]) for n, _ in phases))
        self.v.check("restart-latency")
        worst = max(lat, key=lambda n: median(lat[n]))
        self.figures.append("restart latency idle %.1f ms, worst %s %.1f ms"
                           % (median(idle), worst, median(lat[worst])))
        for name, xs in lat.items():
            if not latency_ok(idle, xs, 5.0):
                self.v.fail("restart-latency", "receiver %s: restart latency"
                            " median %.1f ms against %.1f ms with a healthy "
                            "receiver" % (name, median(xs), median(idle)))
        # The daemon's own sender catches up with everything queued
        # during the faults.
        self.v.check("webhook-caught-up")
        last = self.store.q("SELECT max(id) FROM event")[0][0] or 0
        try:
            wait_for(lambda: self.store.q(
                "SELECT count(*) FROM event WHERE id <= ? AND status IN "
                "('pending', 'failed')", last)[0][0] == 0,
                self.p["catch_up"], interval=0.5, what="sender to catch up")
        except Timeout:
            left = self.store.q("SELECT count(*), min(id) FROM event WHERE "
                                "id <= ? AND status IN ('pending', "
                                "'failed')", last)[0]
            self.v.fail("webhook-caught-up", "%d of the events queued "
                        "during the faults still undelivered %ds after "
                        "(oldest %s)" % (left[0], self.p["catch_up"],
                                         left[1]))


# ==================================================================== 5

class Load(Scenario):
    """5. 1,000 VMs; 10 concurrent loops of list --json, status and log,
    and one of set, for a minute: no command fails with `database is
    locked` and restart latency stays within 2x the idle figure."""
    name = "load"
    title = "1,000 VMs and 11 CLI loops"
    # The slack beyond 2x: a five-second median on a shared 2-core
    # machine moves by a few ms (the short run is in make check, where a
    # test that fails one time in ten is a failing test); a restart that
    # waits for the database or a hook costs far more than either.
    P = {"short": dict(vms=200, loops=10, secs=5, settle=15, drain=60,
                       slack_ms=10.0),
         "full": dict(vms=1000, loops=10, secs=60, settle=60, drain=120,
                      slack_ms=2.0)}

    def daemon_args(self):
        return ["--max-restart-rate", "1000", "--restart-burst", "1000"]

    def setup(self):
        self.webhook()
        n = self.p["vms"]
        self.add_vm("probe", "run", "--restart", "always",
                    "--backoff-initial", "0", "--max-failures", "0",
                    "--order", "1")
        for i in range(n):
            self.add_vm("vm%04d" % i, "run", "--restart", "always")
        t0 = time.monotonic()
        self.daemon.start()
        wait_for(lambda: len(self.work.book.live()) >= n + 1, 120,
                 interval=0.2, what="%d VMs running" % (n + 1))
        self.figures.append("%d VMs up in %.1f s" % (n + 1,
                                                    time.monotonic() - t0))

    def attack(self):
        idle = self.restart_latency("probe", 15)
        stop = threading.Event()
        names = sorted(self.defs)
        failed = []
        counts = [0] * (self.p["loops"] + 1)

        def reader(k):
            rng = rng_for(self.c.seed, "load-reader-%d" % k)
            cmds = [("--json", "list"), ("status",), None]
            i = 0
            while not stop.is_set():
                args = cmds[i % 3] or ("log", rng.choice(names),
                                       "--limit", "20")
                i += 1
                r = self.cli(*args, timeout=60)
                counts[k] += 1
                if r.rc != 0:
                    failed.append(r)

        def setter():
            rng = rng_for(self.c.seed, "load-setter")
            while not stop.is_set():
                name = rng.choice(names)
                r = self.cli("set", name, "--backoff-max",
                             "%ds" % rng.randint(10, 300), timeout=60)
                counts[-1] += 1
                if r.rc != 0:
                    failed.append(r)

        threads = [threading.Thread(target=reader, args=(k,))
                   for k in range(self.p["loops"])]
        threads.append(threading.Thread(target=setter))
        for t in threads:
            t.start()
        loaded = []
        end = time.monotonic() + self.p["secs"]
        try:
            while time.monotonic() < end:
                loaded += self.restart_latency("probe", 1, gap=0.2)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.faults.append("%d commands in %d loops for %d s" % (
            sum(counts), len(threads), self.p["secs"]))
        self.figures.append("restart latency idle %.1f ms, loaded %.1f ms" %
                           (median(idle), median(loaded)))
        self.v.check("commands-succeed")
        for r in failed[:20]:
            self.v.fail("commands-succeed", "%s: rc %s after %.0f ms: %s" % (
                " ".join(r.argv[3:]), r.rc, r.ms, r.err.strip()[:200]))
        self.v.check("restart-latency")
        # The issue's own figure: within 2x of idle (with the slack above).
        if not latency_ok(idle, loaded, self.p["slack_ms"]):
            self.v.fail("restart-latency", "restart latency under load: "
                        "median %.1f ms, idle %.1f ms (more than 2x, and "
                        "%.0f ms)" % (median(loaded), median(idle),
                                      self.p["slack_ms"]))


# ==================================================================== 6

class Leaks(Scenario):
    """6. 100,000 restarts: the daemon's RSS and open descriptors after
    them are no larger than after the first 10,000."""
    name = "leaks"
    title = "100,000 restarts"
    P = {"short": dict(restarts=3000, vms=20, settle=15, drain=120),
         "full": dict(restarts=100000, vms=40, settle=30, drain=600)}
    # RSS moves without a leak: each time another connection commits
    # (here the webhook sender marking events sent) SQLite drops the
    # daemon's page cache and fills it again, up to its bound (SQLite's
    # default, 2,000 KiB, which the daemon keeps), and the heap keeps the
    # highest fill it saw. Measured: without a webhook the RSS stays
    # flat to the kilobyte over 180,000 restarts; with one it steps up
    # by about 500 KiB once, at no fixed moment, while the bytes malloc
    # holds in use stay level (malloc_stats). So the slack is that bound:
    # a leak of 23 bytes or more per restart over 90,000 still exceeds it.
    RSS_SLACK_KIB = 2000

    def daemon_args(self):
        return ["--max-restart-rate", "100000", "--restart-burst", "100000"]

    def setup(self):
        self.webhook("--events", "vm.up")
        self.loopers = set()
        for i in range(self.p["vms"]):
            name = "loop%02d" % i
            self.loopers.add(name)
            self.add_vm(name, "exit:%d:0" % (i % 2), "--restart", "always",
                        "--backoff-initial", "0", "--max-failures", "0")
        self.daemon.start()

    def sample(self):
        """RSS and open descriptors, each the least of many looks: a look
        may fall inside a spawn, which holds its report pipe until the
        child has exec'd, and at a thousand restarts a second the daemon
        is inside one more often than not."""
        pid = self.daemon.pid
        looks = []
        for _ in range(40):
            looks.append((proc_rss_kib(pid), proc_fds(pid)))
            pause(0.02)
        return min(l[0] for l in looks), min(l[1] for l in looks)

    def attack(self):
        total = self.p["restarts"]
        first = total // 10
        t0 = time.monotonic()
        book = self.work.book
        wait_for(lambda: book.count() >= first, 3600, interval=0.5,
                 what="%d restarts" % first)
        rss1, fds1 = self.sample()
        n1 = book.count()
        self.say("after %d: rss %s KiB, %s fds" % (n1, rss1, fds1))
        wait_for(lambda: book.count() >= total, 3600, interval=0.5,
                 what="%d restarts" % total)
        rss2, fds2 = self.sample()
        n2 = book.count()
        secs = time.monotonic() - t0
        self.say("after %d: rss %s KiB, %s fds" % (n2, rss2, fds2))
        self.faults.append("%d restarts in %.0f s (%.0f/s)" % (
            n2, secs, n2 / secs))
        self.figures.append("RSS %d -> %d KiB, fds %d -> %d" % (
            rss1, rss2, fds1, fds2))
        self.v.check("no-leak")
        if fds2 > fds1:
            self.v.fail("no-leak", "open descriptors grew from %d after %d "
                        "restarts to %d after %d" % (fds1, n1, fds2, n2))
        if rss2 > rss1 + self.RSS_SLACK_KIB and not SANITIZED:
            self.v.fail("no-leak", "RSS grew from %d KiB after %d restarts "
                        "to %d KiB after %d" % (rss1, n1, rss2, n2))
        # Stop the storm before judging: the loopers are stopped through
        # the CLI like any operator would.
        for name in sorted(self.loopers):
            self.ctl("stop", name)


# ==================================================================== provoke

def provoke(s, what, moment):
    """Break one condition on purpose at a moment of the scenario, so the
    check that guards it must fail (run_chaos.py --provoke)."""
    db = s.work.db
    import sqlite3

    def sql(stmt, *args):
        con = sqlite3.connect(db, timeout=15)
        with con:
            con.execute(stmt, args)
        con.close()

    if moment == "settled":
        book = s.work.book.refresh()
        if what == "dup":       # a second process of a running VM
            live = book.live()
            if live:
                p = live[0]
                s.c.procs.popen(s.vm_argv(p.name, "exit:0:300"))
        elif what == "state":   # a VM that is not what it is meant to be
            live = book.live()
            if live:
                p = live[0]
                sql("UPDATE vm_state SET desired = 'down' WHERE vm_id = "
                    "(SELECT id FROM vm WHERE name = ?)", p.name)
                s.settle(3)
        elif what == "leftover":   # a VM the daemon does not know of
            s.c.procs.popen(s.vm_argv("stray", "run"))
        elif what == "desired":
            sql("UPDATE vm_state SET desired = CASE desired WHEN 'up' "
                "THEN 'down' ELSE 'up' END WHERE vm_id = (SELECT min(id) "
                "FROM vm)")
    elif moment == "stopped":
        if what == "lost-run":
            sql("DELETE FROM run WHERE id = (SELECT max(id) FROM run "
                "WHERE pid IS NOT NULL)")
        elif what == "phantom-run":
            sql("INSERT INTO run (vm, started_at, ended_at, pid, pid_start,"
                " reason, exit_code) VALUES ((SELECT min(name) FROM vm), 1, "
                "2, 999999, 1, 'exited', 0)")
        elif what == "open-run":
            sql("UPDATE run SET ended_at = NULL WHERE id = (SELECT max(id) "
                "FROM run WHERE pid IS NOT NULL)")
        elif what == "event-hole":
            sql("DELETE FROM event WHERE id = (SELECT max(id) / 2 FROM "
                "event)")
        elif what == "undelivered":
            sql("INSERT INTO event (time, event, vm, status) VALUES "
                "(1, 'vm.up', 'x', 'failed')")
        elif what == "mode":
            os.chmod(db, 0o644)


SCENARIOS = [Crashes, DiskFull, BusyDatabase, ReceiverFaults, Load, Leaks]

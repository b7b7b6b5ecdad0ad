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
        self.started = time.monotonic()
        self.elapsed = 0.0
        self.runs = self.events = 0
        self.stop_bound_ms = 0   # longest stop timeout ever given, ms
        self.suspend_bound_ms = 5000
        self.log = open(self.work.path("scenario.log"), "a")

    # -- set-up ---------------------------------------------------------

    def make_work(self):
        return Work(self.c.base, self.name)

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
        if book.bad:
            self.v.fail("harness", "%d book lines do not parse: %r" % (
                len(book.bad), book.bad[:3]))
        runs, events = self.store.runs(), self.store.events()
        self.runs, self.events = len(runs), len(events)
        inv.check_one_process(self.v, book.order)
        inv.check_runs(self.v, book.order, runs, events, final)
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


def latency_ok(base, xs, floor_ms=5.0):
    """Within 2x the idle median (a few ms of absolute slack: medians of
    2-4 ms move by that much on a shared machine)."""
    return median(xs) <= max(2 * median(base), median(base) + floor_ms)


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
    P = {"short": dict(vms=30, kills=4, gap=(0.5, 2.0), settle=25,
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
                " reason, exit_code) VALUES ('c001', 1, 2, 999999, 1, "
                "'exited', 0)")
        elif what == "open-run":
            sql("UPDATE run SET ended_at = NULL WHERE id = (SELECT max(id) "
                "FROM run WHERE pid IS NOT NULL)")
        elif what == "event-hole":
            sql("DELETE FROM event WHERE id = (SELECT max(id) / 2 FROM "
                "event)")
        elif what == "undelivered":
            sql("INSERT INTO event (time, event, vm, status) VALUES "
                "(1, 'vm.up', 'c001', 'failed')")
        elif what == "mode":
            os.chmod(db, 0o644)


SCENARIOS = [Crashes]

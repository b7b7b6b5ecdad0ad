"""invariants.py: what must hold after every chaos scenario (issue 11),
as pure functions over plain data: the VMs' own book (harness.Proc), the
database's rows (dicts), the receiver's log. Each adds what it finds to a
Verdict; nothing here runs a process, so tests/chaos/test_invariants.py
proves each check fails on the condition it guards against.

The invariants, by the name a failure is reported under:
  one-process       never two processes of one VM at once (the VMs' locks
                    and their start/end times, which vmsched never writes)
  one-run           every process that started has exactly one run row
                    with its pid and process start time
  no-phantom-run    no run row without a process: a row with no pid is
                    exec-failed or gate-timeout; a row whose pid never
                    booked a start was killed by a signal before it could
                    (or is adopted-unknown), and is only counted
  run-closed        after the final shutdown every run has an end
  closed-once       each closed run has exactly one vm.exited event
  exit-recorded     a process that booked how it ended has a run row that
                    says the same (exit code, or signal)
  state             once settled, every VM's state agrees with its desired
                    state, and its process (or none) with its state
  stuck             no VM in stopping/suspending past its stop timeout
  desired-kept      the desired state in the database is what the
                    operator's commands asked for
  outbox-contiguous event ids are 1..N without a hole
  webhook-delivered every event due for the webhook reached the receiver
                    (answered 2xx) at least once
  webhook-order     and they first arrived in id order
  db-check, modes, no-leftover, cli-locked, daemon-start: see their
  functions.
"""
import os
import stat

# What a run row may say when its process never booked its start: killed
# before its first instruction could write (a signal only), or closed on
# adoption without anyone having seen it.
UNLOGGED_OK = ("stopped", "suspended", "killed-after-timeout", "crashed",
               "adopted-unknown")
NO_PID_OK = ("exec-failed", "gate-timeout")

SIGNUMS = {"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6,
           "BUS": 7, "FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11,
           "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15}


class Verdict:
    """Findings of one scenario, by invariant, with the figures of the
    table (lost, duplicated, mismatches)."""

    def __init__(self):
        self.findings = {}      # invariant -> [text]
        self.lost = 0
        self.duplicated = 0
        self.mismatches = 0
        self.notes = []
        self.checked = set()

    def check(self, invariant):
        self.checked.add(invariant)

    def fail(self, invariant, text):
        self.checked.add(invariant)
        self.findings.setdefault(invariant, []).append(text)

    def note(self, text):
        self.notes.append(text)

    @property
    def ok(self):
        return not self.findings

    def failed(self, invariant):
        return invariant in self.findings

    def report(self, limit=12):
        lines = []
        for inv in sorted(self.findings):
            items = self.findings[inv]
            lines.append("FAILED %s (%d):" % (inv, len(items)))
            for t in items[:limit]:
                lines.append("    " + t)
            if len(items) > limit:
                lines.append("    ... %d more" % (len(items) - limit))
        for n in self.notes:
            lines.append("note: " + n)
        return "\n".join(lines)


def _signum(value):
    if value is None:
        return None
    if isinstance(value, int):
        return value
    s = str(value).upper()
    if s.startswith("SIG"):
        s = s[3:]
    if s.isdigit():
        return int(s)
    return SIGNUMS.get(s)


def check_one_process(v, procs):
    """Never two processes of one VM at once. procs: every Proc booked."""
    v.check("one-process")
    for p in procs:
        if p.dup != 0:
            v.duplicated += 1
            v.fail("one-process", "%r started while pid %s of %s still "
                   "held its lock" % (p, p.dup if p.dup > 0 else "?",
                                       p.name))
    by_name = {}
    for p in procs:
        by_name.setdefault(p.name, []).append(p)
    for name, ps in by_name.items():
        ps.sort(key=lambda p: p.mono)
        for a, b in zip(ps, ps[1:]):
            if a.end_mono is not None and b.mono < a.end_mono and b.dup == 0:
                v.duplicated += 1
                v.fail("one-process", "%r started %.1f ms before %r "
                       "ended" % (b, (a.end_mono - b.mono) / 1e6, a))


def check_runs(v, procs, runs, events, final):
    """Processes against run rows, and run rows against vm.exited events.
    final: the last daemon has stopped, so every run must be closed."""
    for inv in ("one-run", "no-phantom-run", "closed-once",
                "exit-recorded"):
        v.check(inv)
    if final:
        v.check("run-closed")
    by_key = {}
    for r in runs:
        if r["pid"] is not None:
            by_key.setdefault((r["pid"], r["pid_start"]), []).append(r)
    booked = set()
    for p in procs:
        rows = [r for r in by_key.get(p.key, []) if r["vm"] == p.name]
        booked.add(p.key)
        if not rows:
            v.lost += 1
            v.fail("one-run", "%r has no run row" % p)
            continue
        if len(rows) > 1:
            v.duplicated += len(rows) - 1
            v.fail("one-run", "%r has %d run rows (ids %s)" % (
                p, len(rows), ", ".join(str(r["id"]) for r in rows)))
        r = rows[0]
        if p.how is None or r["ended_at"] is None:
            continue
        kind, _, num = p.how.partition(":")
        num = int(num)
        if r["reason"] == "exited" and (kind != "exit" or
                                        r["exit_code"] != num):
            v.fail("exit-recorded", "%r: run %d says exited with code %s"
                   % (p, r["id"], r["exit_code"]))
        elif r["reason"] == "crashed" and (kind == "exit" or
                                           _signum(r["signal"]) != num):
            v.fail("exit-recorded", "%r: run %d says crashed by %s" % (
                p, r["id"], r["signal"]))
    unlogged = 0
    for r in runs:
        if r["pid"] is None:
            if r["reason"] not in NO_PID_OK and (final or r["ended_at"]):
                v.fail("no-phantom-run", "run %d of %s has no pid and "
                       "reason %s" % (r["id"], r["vm"], r["reason"]))
            continue
        if (r["pid"], r["pid_start"]) in booked:
            continue
        if r["ended_at"] is None and not final:
            continue        # it may not have booked its start yet
        if r["reason"] in UNLOGGED_OK and (r["signal"] is not None or
                                           r["reason"] == "adopted-unknown"):
            unlogged += 1
            continue
        v.fail("no-phantom-run", "run %d of %s: pid %s (start %s) never "
               "booked a start, reason %s" % (r["id"], r["vm"], r["pid"],
                                              r["pid_start"], r["reason"]))
    if unlogged:
        v.note("%d run(s) ended by a signal before their process booked "
               "its start" % unlogged)
    if final:
        for r in runs:
            if r["ended_at"] is None or r["reason"] is None:
                v.lost += 1
                v.fail("run-closed", "run %d of %s (pid %s) was never "
                       "closed" % (r["id"], r["vm"], r["pid"]))
    # Closed exactly once: a close writes exactly one vm.exited (gate
    # timeouts write vm.blocked), in the same transaction.
    closed, exited = {}, {}
    for r in runs:
        if r["ended_at"] is not None and r["reason"] != "gate-timeout":
            closed[r["vm"]] = closed.get(r["vm"], 0) + 1
    for e in events:
        if e["event"] == "vm.exited":
            exited[e["vm"]] = exited.get(e["vm"], 0) + 1
    for name in sorted(set(closed) | set(exited)):
        if closed.get(name, 0) != exited.get(name, 0):
            v.fail("closed-once", "%s: %d closed runs, %d vm.exited events"
                   % (name, closed.get(name, 0), exited.get(name, 0)))


# States with a process, and those a desired state accepts once settled.
LIVE_STATES = ("running", "up", "stopping", "suspending")
TRANSIENT = ("starting", "running", "stopping", "suspending")


def state_verdict(vm, live, now_ms, stop_bound_ms, suspend_bound_ms,
                  up_bound_ms=2000):
    """Judge one VM row (Store.vms) against its live processes (from the
    book). Returns (kind, text): kind None (agrees), "transient" (on its
    way, within its bounds), "mismatch" or "stuck"."""
    name, desired, state = vm["name"], vm["desired"], vm["state"]
    since = now_ms - (vm["state_since"] or now_ms)
    pids = sorted(p.pid for p in live)
    # The process against the state first: it is what an operator sees.
    if state in LIVE_STATES or (state == "starting" and vm["pid"]):
        if len(pids) != 1 or pids[0] != vm["pid"]:
            return "mismatch", "%s: %s with pid %s, but its live " \
                "processes are %s" % (name, state, vm["pid"], pids or "none")
    elif pids:
        return "mismatch", "%s: %s, yet process(es) %s run" % (
            name, state, pids)
    if state == "stopping":
        if since > stop_bound_ms:
            return "stuck", "%s: stopping for %.1fs (stop timeout %.1fs), " \
                "desired %s" % (name, since / 1000,
                                vm["stop_timeout_ms"] / 1000, desired)
        return "transient", None
    if state == "suspending":
        if since > suspend_bound_ms:
            return "stuck", "%s: suspending for %.1fs, desired %s" % (
                name, since / 1000, desired)
        return "transient", None
    if state in ("starting", "running"):
        bound = (vm["up_delay_ms"] or 0) + up_bound_ms
        if desired == "up" and since <= bound:
            return "transient", None
        if desired != "up":
            return "mismatch", "%s: %s, desired %s" % (name, state, desired)
        return "mismatch", "%s: %s for %.1fs (up-delay %.1fs)" % (
            name, state, since / 1000, (vm["up_delay_ms"] or 0) / 1000)
    if desired == "up":
        if state in ("up", "backoff", "failed", "blocked", "waiting"):
            return None, None
        if state in ("stopped", "disabled") and not vm["enabled"]:
            return None, None     # left out of boot
        if state == "stopped":
            # The policy's own decision not to restart (a success code
            # under on-failure, never, adopted...) is agreement.
            if vm["nruns"] and vm["last_delay"] is None and \
                    not vm["last_breaker"] and vm["last_reason"] not in \
                    ("stopped", "killed-after-timeout", "suspended"):
                return None, None
            if vm["restart"] == "never" and vm["why"] == "ran once this boot":
                return None, None
        return "mismatch", "%s: %s, desired up (%s; last run %s)" % (
            name, state, vm["why"] or "no reason given",
            vm["last_reason"] if vm["nruns"] else "none: never started")
    if desired == "down":
        if state in ("stopped", "disabled", "suspended", "failed"):
            return None, None
        return "mismatch", "%s: %s, desired down" % (name, state)
    if desired == "suspended":
        if state in ("suspended", "stopped", "disabled", "failed"):
            return None, None
        return "mismatch", "%s: %s, desired suspended" % (name, state)
    return "mismatch", "%s: desired %r?" % (name, desired)


def check_desired(v, model, vms):
    """desired-kept: model maps name -> set of desired states the
    operator's commands may have left (one, unless a command's outcome
    was ambiguous), None for a VM the operator removed."""
    v.check("desired-kept")
    rows = {vm["name"]: vm for vm in vms}
    for name in sorted(model):
        want = model[name]
        if want is None:
            if name in rows:
                v.mismatches += 1
                v.fail("desired-kept", "%s was removed, but is defined"
                       % name)
            continue
        if name not in rows:
            v.mismatches += 1
            v.fail("desired-kept", "%s was never removed, but is gone"
                   % name)
        elif rows[name]["desired"] not in want:
            v.mismatches += 1
            v.fail("desired-kept", "%s: desired %s, the operator asked %s"
                   % (name, rows[name]["desired"], "/".join(sorted(want))))
    for name in rows:
        if name not in model:
            v.fail("desired-kept", "%s is defined, never added" % name)


def check_outbox(v, events, entries):
    """outbox-contiguous, webhook-delivered, webhook-order. entries: the
    receiver's log (brief lines: id, answer)."""
    for inv in ("outbox-contiguous", "webhook-delivered", "webhook-order"):
        v.check(inv)
    ids = [e["id"] for e in events]
    holes = []
    prev = 0
    for i in ids:
        if i != prev + 1:
            holes.append("%d..%d" % (prev + 1, i - 1))
        prev = i
    if holes:
        v.fail("outbox-contiguous", "event ids missing: %s" %
               ", ".join(holes[:10]))
    accepted = []
    for e in entries:
        if str(e.get("answer", "")).startswith("2") and e.get("id"):
            accepted.append(int(e["id"]))
    first = []
    seen = set()
    for i in accepted:
        if i not in seen:
            seen.add(i)
            first.append(i)
    due = [e for e in events if e["status"] != "none"]
    missing = [e for e in due if e["id"] not in seen]
    v.lost += len(missing)
    for e in missing[:50]:
        v.fail("webhook-delivered", "event %d (%s %s, %s, %d attempts, "
               "last error %s) never reached the receiver" % (
                   e["id"], e["event"], e["vm"] or "", e["status"],
                   e["attempts"], e["last_error"]))
    if len(missing) > 50:
        v.fail("webhook-delivered", "... and %d more" % (len(missing) - 50))
    known = set(ids)
    for i in sorted(seen - known)[:10]:
        v.fail("webhook-delivered", "delivery %d is no event" % i)
    disorder = [(a, b) for a, b in zip(first, first[1:]) if b < a]
    for a, b in disorder[:10]:
        v.fail("webhook-order", "event %d first arrived after %d" % (b, a))
    return len(accepted) - len(seen)     # re-deliveries (allowed)


def check_modes(v, dbdir):
    """modes: the database's directory and everything in it (database,
    WAL, shared memory, lock, logs) private: directories 0700, files
    0600."""
    v.check("modes")
    for top, dirs, files in os.walk(dbdir):
        for d in [top]:
            m = stat.S_IMODE(os.lstat(d).st_mode)
            if m != 0o700:
                v.fail("modes", "%s is mode %04o, not 0700" % (d, m))
        for f in files:
            path = os.path.join(top, f)
            m = stat.S_IMODE(os.lstat(path).st_mode)
            if m != 0o600:
                v.fail("modes", "%s is mode %04o, not 0600" % (path, m))


def check_leftovers(v, live, strays):
    """no-leftover: after the final SIGTERM no VM process runs (live:
    from the book) and no other process of this scenario (strays: pids
    whose argv names its folder)."""
    v.check("no-leftover")
    for p in live:
        v.mismatches += 1
        v.fail("no-leftover", "%r still runs after the daemon exited" % p)
    for pid, argv in strays:
        v.fail("no-leftover", "pid %d (%s) still runs" % (pid, argv))


def check_cli(v, locked):
    v.check("cli-locked")
    for r in locked[:20]:
        v.fail("cli-locked", "%s: rc %s: %s" % (
            " ".join(r.argv[3:]), r.rc, r.err.strip()[:200]))
    if len(locked) > 20:
        v.fail("cli-locked", "... %d more" % (len(locked) - 20))


def check_daemon_starts(v, refused):
    v.check("daemon-start")
    for attempt, rc, lines in refused:
        v.fail("daemon-start", "a daemon start was refused (exit %s): %s"
               % (rc, " | ".join(lines[-2:])))

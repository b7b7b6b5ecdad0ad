#!/usr/bin/env python3
"""run_chaos.py: the chaos campaign of issue 11 against the real vmsched
binary. Runs the scenarios (tests/chaos/scenarios.py), checks the
invariants after each (tests/chaos/invariants.py) and prints one table:
scenario, faults injected, runs and events, lost, duplicated, final-state
mismatches, time, verdict.

  VMSCHED=./vmsched CHAOS_VM=build/plain/tests/chaos-vm \\
  HOOK_DRIVER=build/plain/tests/hook_driver python3 tests/chaos/run_chaos.py
      [--short] [--scenarios a,b] [--seed N] [--dir D] [--provoke WHAT]

Environment: CHAOS_SEED (replay a seed; default a new one, printed),
CHAOS_SCENARIOS (comma-separated names), CHAOS_DIR (where each run's
folder goes; default $TMPDIR), CHAOS_VERBOSE=1 (say what happens as it
happens). A scenario that passes leaves nothing; one that fails leaves
its folder (database, daemon log, VM logs, the VMs' own book, commands,
FAILED.txt naming the invariant and the replay line). Exit status 0 when
every invariant held, 1 otherwise, 2 when the harness itself broke.

--provoke WHAT breaks one condition on purpose (dup, state, leftover,
lost-run, phantom-run, open-run, event-hole, undelivered, mode, desired)
to show the check that guards it fails; exit 0 only if it did.
"""
import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Procs, tool  # noqa: E402
import scenarios  # noqa: E402

PROVOKED = {"dup": "one-process", "state": "state", "leftover":
            "no-leftover", "lost-run": "one-run", "phantom-run":
            "no-phantom-run", "open-run": "run-closed", "event-hole":
            "outbox-contiguous", "undelivered": "webhook-delivered",
            "mode": "modes", "desired": "desired-kept"}


def table(rows):
    head = ("scenario", "faults injected", "runs / events", "lost",
            "duplicated", "mismatches", "time", "verdict")
    cells = [head] + rows
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(head))]
    out = []
    for n, r in enumerate(cells):
        out.append("| " + " | ".join(str(c).ljust(widths[i])
                                     for i, c in enumerate(r)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--scenarios", default=os.environ.get("CHAOS_SCENARIOS"))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--dir", default=os.environ.get("CHAOS_DIR"))
    ap.add_argument("--provoke", choices=sorted(PROVOKED))
    args = ap.parse_args()

    seed = args.seed
    if seed is None and os.environ.get("CHAOS_SEED"):
        seed = int(os.environ["CHAOS_SEED"])
    if seed is None:
        seed = random.SystemRandom().randrange(1, 10 ** 9)
    vmsched = tool("VMSCHED", "vmsched")
    chaos_vm = tool("CHAOS_VM", "build/plain/tests/chaos-vm")
    hook_driver = tool("HOOK_DRIVER", "build/plain/tests/hook_driver")
    wanted = args.scenarios.split(",") if args.scenarios else None
    todo = [s for s in scenarios.SCENARIOS
            if wanted is None or s.name in wanted]
    if wanted and len(todo) != len(wanted):
        known = ", ".join(s.name for s in scenarios.SCENARIOS)
        raise SystemExit("chaos: unknown scenario in %s (known: %s)"
                         % (args.scenarios, known))
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
    base = tempfile.mkdtemp(prefix="vmsched-chaos-%d-" % seed,
                            dir=args.dir)
    mode = "short" if args.short else "full"
    print("chaos: seed %d (replay: CHAOS_SEED=%d make %s), %s, binary %s"
          % (seed, seed, "chaos-short" if args.short else "chaos", mode,
             vmsched), flush=True)

    procs = Procs()
    if not procs.subreaper:
        print("chaos: cannot become a child subreaper; orphaned VMs go "
              "to init", flush=True)
    # SIGTERM/SIGHUP end the campaign like ^C: through the cleanup.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(
            KeyboardInterrupt()))
    camp = scenarios.Campaign(procs, seed, args.short, base, vmsched,
                              chaos_vm, hook_driver, args.provoke)
    rows, failed, broke, figures = [], [], False, []
    started = time.monotonic()
    try:
        for cls in todo:
            s = cls(camp)
            print("chaos: %s: %s ..." % (s.name, s.title), flush=True)
            v = s.run()
            if s.skip:
                rows.append((s.name, "skipped: " + s.skip, "-", "-", "-",
                             "-", "-", "skipped"))
                print("chaos: %s: skipped: %s" % (s.name, s.skip),
                      flush=True)
                s.release()
                shutil.rmtree(s.work.dir, ignore_errors=True)
                continue
            figures += ["%s: %s" % (s.name, f) for f in s.figures]
            rows.append((s.name, s.fault_text(),
                         "%d / %d" % (s.runs, s.events), v.lost,
                         v.duplicated, v.mismatches, "%.0f s" % s.elapsed,
                         "ok" if v.ok else "FAILED"))
            if v.ok:
                shutil.rmtree(s.work.dir, ignore_errors=True)
                print("chaos: %s: ok (%.0f s)" % (s.name, s.elapsed),
                      flush=True)
            else:
                s.evidence()
                failed.append(s)
                broke |= v.failed("harness")
                print("chaos: %s: FAILED, evidence in %s\n%s" % (
                    s.name, s.work.dir, v.report()), flush=True)
    except KeyboardInterrupt:
        print("chaos: interrupted; folder %s" % base, flush=True)
        procs.kill_own()
        return 130
    finally:
        procs.kill_own()
        procs.stopping = True
    print()
    print(table(rows))
    if figures:
        print("\nfigures:\n  " + "\n  ".join(figures))
    print("\nchaos: seed %d, %d of %d scenarios passed in %.0f s"
          % (seed, len(rows) - len(failed), len(rows),
             time.monotonic() - started))
    if not failed:
        shutil.rmtree(base, ignore_errors=True)
    else:
        print("chaos: evidence kept in %s" % base)
        print("chaos: replay: CHAOS_SEED=%d CHAOS_SCENARIOS=%s make %s" % (
            seed, ",".join(s.name for s in failed),
            "chaos-short" if args.short else "chaos"))
    if args.provoke:
        want = PROVOKED[args.provoke]
        hit = [s for s in failed if s.v.failed(want)]
        print("chaos: provoked %s: the %s check %s" % (
            args.provoke, want, "failed, as it must" if hit else
            "DID NOT FAIL"))
        return 0 if hit and not broke else 1
    if broke:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

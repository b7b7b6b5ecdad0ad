#!/usr/bin/env python3
"""test_invariants.py: the chaos campaign's checks against made-up books,
rows and receiver logs. Each check passes on a consistent story and fails
on the one broken condition it guards against: a check that cannot fail is
not a check, a false alarm is a defect. No process is run; make chaos and
make chaos-short run this first (under a second).

run_chaos.py --provoke WHAT does the same against a real run (it breaks
one condition on purpose and expects the matching check to fail)."""
import os
import stat
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import invariants as inv  # noqa: E402
from harness import Book, Proc  # noqa: E402

T0 = 10 ** 12       # a monotonic ns time
W0 = 1_700_000_000_000


def proc(pid, name, at_ms, end_ms=None, how=None, dup=0, start=None):
    p = Proc(["S", str(pid), str(start or pid * 10), name,
              str(T0 + at_ms * 10 ** 6), str(W0 + at_ms), "1", str(dup),
              "1", "run"])
    if end_ms is not None:
        p.end_mono, p.end_wall, p.how = T0 + end_ms * 10 ** 6, W0 + end_ms, how
    return p


def run(rid, p, reason="exited", code=0, sig=None, ended=True):
    return {"id": rid, "vm": p.name, "started_at": p.wall,
            "ended_at": p.wall + 5 if ended else None, "pid": p.pid,
            "pid_start": p.start, "exit_code": code, "signal": sig,
            "reason": reason if ended else None, "detail": None,
            "rule": None, "failures": 0, "delay_ms": None, "breaker": 0}


def exited(eid, name):
    return {"id": eid, "event": "vm.exited", "vm": name, "status": "none",
            "attempts": 0, "last_error": None}


class OneProcess(unittest.TestCase):

    def test_one_after_the_other_is_fine(self):
        v = inv.Verdict()
        inv.check_one_process(v, [proc(1, "a", 0, 10, "exit:0"),
                                  proc(2, "a", 11), proc(3, "b", 5)])
        self.assertTrue(v.ok, v.report())

    def test_a_lock_held_by_a_live_process_is_a_duplicate(self):
        v = inv.Verdict()
        inv.check_one_process(v, [proc(1, "a", 0), proc(2, "a", 11, dup=1)])
        self.assertTrue(v.failed("one-process"))
        self.assertEqual(v.duplicated, 1)

    def test_overlapping_times_are_a_duplicate(self):
        v = inv.Verdict()
        inv.check_one_process(v, [proc(1, "a", 0, 20, "exit:0"),
                                  proc(2, "a", 11)])
        self.assertTrue(v.failed("one-process"))


class Runs(unittest.TestCase):

    def story(self):
        a1 = proc(1, "a", 0, 10, "exit:3")
        a2 = proc(2, "a", 20, 30, "raise:11")
        b1 = proc(3, "b", 5)              # SIGKILLed: no end booked
        runs = [run(1, a1, code=3), run(2, a2, "crashed", None, 11),
                run(3, b1, "stopped", None, 9),
                {"id": 4, "vm": "c", "started_at": W0, "ended_at": W0,
                 "pid": None, "pid_start": None, "exit_code": None,
                 "signal": None, "reason": "exec-failed", "detail": "x",
                 "rule": None, "failures": 1, "delay_ms": 1, "breaker": 0}]
        events = [exited(i + 1, n) for i, n in enumerate("aabc")]
        return [a1, a2, b1], runs, events

    def check(self, procs, runs, events, final=True):
        v = inv.Verdict()
        inv.check_runs(v, procs, runs, events, final)
        return v

    def test_a_consistent_story_passes(self):
        v = self.check(*self.story())
        self.assertTrue(v.ok, v.report())

    def test_a_process_without_a_run_is_lost(self):
        procs, runs, events = self.story()
        del runs[0]
        del events[0]
        v = self.check(procs, runs, events)
        self.assertTrue(v.failed("one-run"))
        self.assertEqual(v.lost, 1)

    def test_two_rows_for_one_process_are_a_duplicate(self):
        procs, runs, events = self.story()
        runs.append(dict(runs[0], id=9))
        events.append(exited(9, "a"))
        v = self.check(procs, runs, events)
        self.assertTrue(v.failed("one-run"))
        self.assertEqual(v.duplicated, 1)

    def test_a_recycled_pid_is_another_process(self):
        procs, runs, events = self.story()
        runs[0]["pid_start"] += 1
        v = self.check(procs, runs, events)
        self.assertTrue(v.failed("one-run"))
        self.assertTrue(v.failed("no-phantom-run"))

    def test_a_row_for_no_process_is_a_phantom(self):
        procs, runs, events = self.story()
        runs.append(dict(runs[0], id=9, pid=999, pid_start=1))
        events.append(exited(9, "a"))
        v = self.check(procs, runs, events)
        self.assertTrue(v.failed("no-phantom-run"))
        self.assertFalse(v.failed("one-run"))

    def test_killed_before_it_could_book_is_only_counted(self):
        procs, runs, events = self.story()
        runs.append(dict(runs[2], id=9, pid=999, pid_start=1))
        events.append(exited(9, "b"))
        v = self.check(procs, runs, events)
        self.assertTrue(v.ok, v.report())
        self.assertTrue(v.notes)

    def test_a_pidless_row_must_be_exec_failed_or_gate_timeout(self):
        procs, runs, events = self.story()
        runs[3]["reason"] = "exited"
        v = self.check(procs, runs, events)
        self.assertTrue(v.failed("no-phantom-run"))

    def test_an_open_run_after_shutdown(self):
        procs, runs, events = self.story()
        runs[2] = run(3, procs[2], ended=False)
        del events[2]
        self.assertTrue(self.check(procs, runs, events).failed("run-closed"))
        self.assertTrue(self.check(procs, runs, events, final=False).ok)

    def test_a_close_without_its_event_or_twice(self):
        procs, runs, events = self.story()
        v = self.check(procs, runs, events[1:])
        self.assertTrue(v.failed("closed-once"))
        v = self.check(procs, runs, events + [exited(9, "a")])
        self.assertTrue(v.failed("closed-once"))

    def test_the_recorded_end_must_be_the_booked_one(self):
        procs, runs, events = self.story()
        runs[0]["exit_code"] = 0
        self.assertTrue(self.check(procs, runs, events)
                        .failed("exit-recorded"))
        procs, runs, events = self.story()
        runs[1]["signal"] = 6
        self.assertTrue(self.check(procs, runs, events)
                        .failed("exit-recorded"))


def vmrow(**kw):
    row = {"name": "a", "enabled": 1, "restart": "always",
           "stop_timeout_ms": 2000, "up_delay_ms": 0, "desired": "up",
           "state": "up", "state_since": W0, "pid": None, "pid_start": None,
           "why": None, "pending": None, "request": 0, "handled": 0,
           "failures": 0, "last_reason": None, "last_delay": None,
           "last_breaker": None, "last_rule": None, "nruns": 0}
    row.update(kw)
    return row


class States(unittest.TestCase):

    def verdict(self, live=(), now=W0 + 100, **kw):
        return inv.state_verdict(vmrow(**kw), list(live), now, 5000, 5000)[0]

    def test_what_each_desired_state_accepts(self):
        p = proc(7, "a", 0)
        ok = [dict(desired="up", state="up", pid=7, live=[p]),
              dict(desired="up", state="backoff"),
              dict(desired="up", state="failed"),
              dict(desired="up", state="waiting"),
              dict(desired="up", state="blocked"),
              dict(desired="up", state="stopped", enabled=0),
              dict(desired="up", state="stopped", nruns=1,
                   last_reason="exited", last_delay=None, last_breaker=0),
              dict(desired="down", state="stopped"),
              dict(desired="down", state="suspended"),
              dict(desired="suspended", state="suspended"),
              dict(desired="suspended", state="stopped")]
        for kw in ok:
            self.assertIsNone(self.verdict(**kw), kw)

    def test_disagreements(self):
        p = proc(7, "a", 0)
        bad = [dict(desired="down", state="up", pid=7, live=[p]),
               dict(desired="down", state="backoff"),
               dict(desired="suspended", state="up", pid=7, live=[p]),
               dict(desired="up", state="stopped"),      # never started
               dict(desired="up", state="stopped", nruns=1,
                    last_reason="stopped", last_breaker=0),
               dict(desired="up", state="up", pid=7),     # no process
               dict(desired="up", state="up", pid=7, live=[p, proc(8, "a",
                                                                 1)]),
               dict(desired="down", state="stopped", live=[p]),
               dict(desired="up", state="running", pid=7, live=[p],
                    now=W0 + 60000)]
        for kw in bad:
            self.assertEqual(self.verdict(**kw), "mismatch", kw)

    def test_stopping_is_on_its_way_then_stuck(self):
        p = proc(7, "a", 0)
        self.assertEqual(self.verdict(desired="down", state="stopping",
                                      pid=7, live=[p]), "transient")
        self.assertEqual(self.verdict(desired="down", state="stopping",
                                      pid=7, live=[p], now=W0 + 12000),
                         "stuck")


class Desired(unittest.TestCase):

    def test_kept_lost_and_ambiguous(self):
        rows = [vmrow(name="a", desired="down"), vmrow(name="b")]
        v = inv.Verdict()
        inv.check_desired(v, {"a": {"down"}, "b": {"up", "down"}}, rows)
        self.assertTrue(v.ok, v.report())
        v = inv.Verdict()
        inv.check_desired(v, {"a": {"up"}, "b": {"up"}}, rows)
        self.assertTrue(v.failed("desired-kept"))
        v = inv.Verdict()
        inv.check_desired(v, {"a": {"down"}, "b": None}, rows)
        self.assertTrue(v.failed("desired-kept"))


class Outbox(unittest.TestCase):

    def events(self, n, status="delivered"):
        return [{"id": i, "event": "vm.up", "vm": "a", "status": status,
                 "attempts": 1, "last_error": None} for i in range(1, n + 1)]

    def got(self, *ids, answer="200"):
        return [{"id": str(i), "answer": answer} for i in ids]

    def test_all_in_order_once_or_more(self):
        v = inv.Verdict()
        entries = self.got(1) + self.got(2, answer="500") + self.got(2, 2, 3)
        self.assertEqual(inv.check_outbox(v, self.events(3), entries), 1)
        self.assertTrue(v.ok, v.report())

    def test_a_hole_in_the_ids(self):
        v = inv.Verdict()
        ev = self.events(3)
        del ev[1]
        inv.check_outbox(v, ev, self.got(1, 3))
        self.assertTrue(v.failed("outbox-contiguous"))

    def test_an_event_that_never_arrived(self):
        v = inv.Verdict()
        inv.check_outbox(v, self.events(3), self.got(1, 3) +
                         self.got(2, answer="hang"))
        self.assertTrue(v.failed("webhook-delivered"))
        self.assertEqual(v.lost, 1)

    def test_out_of_order(self):
        v = inv.Verdict()
        inv.check_outbox(v, self.events(3), self.got(1, 3, 2))
        self.assertTrue(v.failed("webhook-order"))

    def test_events_not_due_need_not_arrive(self):
        v = inv.Verdict()
        inv.check_outbox(v, self.events(3, status="none"), [])
        self.assertTrue(v.ok)


class Modes(unittest.TestCase):

    def test_private_or_not(self):
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o700)
            os.mkdir(os.path.join(d, "logs"), 0o700)
            for f in ("v.db", "v.db-wal", "logs/a.log"):
                fd = os.open(os.path.join(d, f), os.O_CREAT | os.O_WRONLY,
                             0o600)
                os.close(fd)
                os.chmod(os.path.join(d, f), 0o600)
            v = inv.Verdict()
            inv.check_modes(v, d)
            self.assertTrue(v.ok, v.report())
            os.chmod(os.path.join(d, "logs/a.log"), 0o640)
            v = inv.Verdict()
            inv.check_modes(v, d)
            self.assertTrue(v.failed("modes"))
            self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700)


class BookParsing(unittest.TestCase):

    def test_lines_are_read_once_and_torn_lines_wait(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "book")
            with open(path, "w") as f:
                f.write("S 5 50 a 100 200 1 0 1 run\nE 5 50 a 150 250 ex")
            b = Book(path).refresh()
            self.assertEqual(len(b.order), 1)
            self.assertIsNone(b.order[0].how)
            with open(path, "a") as f:
                f.write("it:0\nE 6 60 a 1 1 exit:0\n")
            b.refresh()
            self.assertEqual(b.order[0].how, "exit:0")
            self.assertEqual(len(b.ends_without_start), 1)


if __name__ == "__main__":
    unittest.main(verbosity=1)

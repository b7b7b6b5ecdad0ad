"""Webhook alerts end to end (issue 5): the real vmsched binary and the real
sender thread (driven by tests/hook_driver, or by the daemon) posting to a
real HTTP receiver on 127.0.0.1 (tests/webhook_receiver.py, its own
process), which records every request. Signatures are checked with Python's
own hmac; every wait is a deadline poll."""
import datetime
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import unittest

from vmtest import VMSCHED, DaemonCase, VmschedCase, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVER = os.path.join(HERE, "webhook_receiver.py")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def hook_driver():
    """The test program that runs the sender (Makefile: HOOK_DRIVER)."""
    path = os.environ.get("HOOK_DRIVER") or os.path.join(
        os.path.dirname(os.path.abspath(VMSCHED)), "tests", "hook_driver")
    if not os.access(path, os.X_OK):
        raise AssertionError("%s: not built (make ... integration builds "
                             "it; or set HOOK_DRIVER)" % path)
    return path


def daemon_available():
    """Whether this vmsched has a daemon to start the sender."""
    r = subprocess.run([VMSCHED, "help", "daemon"], capture_output=True)
    return r.returncode == 0


def ms(rfc3339):
    t = datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


class Receiver:
    """tests/webhook_receiver.py as a separate process. Stopping it is
    what "down" means; start again on the same port to bring it back."""

    def __init__(self, workdir):
        self.dir = workdir
        self.log = os.path.join(workdir, "requests.jsonl")
        self.port = 0
        self.proc = None
        self.starts = 0

    def start(self, script="", default="200", port=None):
        self.starts += 1
        port_file = os.path.join(self.dir, "port.%d" % self.starts)
        self.proc = subprocess.Popen(
            [sys.executable, RECEIVER, "--log", self.log, "--port-file",
             port_file, "--port", str(self.port if port is None else port),
             "--script", script, "--default", default],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(port_file) or
                 self.proc.poll() is not None, what="receiver to listen")
        if self.proc.poll() is not None:
            raise AssertionError("receiver exited %d" % self.proc.returncode)
        with open(port_file) as f:
            self.port = int(f.read())
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.endswith("\n")]


def header(req, name):
    for k, v in req["headers"].items():
        if k.lower() == name.lower():
            return v
    return None


def signature_ok(req, secret):
    want = "sha256=" + hmac.new(secret.encode(), req["body"].encode(),
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(header(req, "X-Vmsched-Signature-256") or "",
                               want)


class WebhookCase(VmschedCase):

    def setUp(self):
        super().setUp()
        self.receiver = Receiver(self.dir)

    def tearDown(self):
        self.receiver.stop()
        super().tearDown()

    def driver(self, *args, timeout=60):
        return subprocess.run([hook_driver(), self.db] + [str(a) for a in args],
                              capture_output=True, text=True, env=self.env,
                              timeout=timeout)

    def add_event(self, event, vm=None, detail=None):
        args = ["add", event]
        if vm is not None or detail is not None:
            args.append(vm or "")
        if detail is not None:
            args.append(json.dumps(detail))
        r = self.driver(*args)
        self.assertEqual(r.returncode, 0, r)

    def drain(self, deadline_ms=20000):
        r = self.driver("drain", deadline_ms, timeout=deadline_ms / 1000 + 30)
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("drained", r.stdout)
        return r

    def events(self, *args):
        return self.ok("--json", "events", "--limit", "100000", *args).json()

    def setting(self, key, value):
        con = sqlite3.connect(self.db, timeout=10)
        with con:
            con.execute("INSERT OR REPLACE INTO setting VALUES (?, ?)",
                        (key, str(value)))
        con.close()


class Commands(WebhookCase):

    def test_set_refuses_bad_values_before_touching_anything(self):
        bad = [
            ("ftp://127.0.0.1/x",), ("127.0.0.1:8080/hook",), ("http://",),
            ("http:///hook",), ("https://:80/x",), ("http://h/a b",),
            ("http://h/x", "--format", "xml"),
            ("http://h/x", "--events", "vm.crashd"),
            ("http://h/x", "--events", "vm.failed,,vm.up"),
            ("http://h/x", "--events", ""),
            ("http://h/x", "--secret", ""),
            ("http://h/x", "--bogus"),
            ("http://h/x", "http://other/"),
            ("--secret", "s"),
        ]
        for args in bad:
            r = self.fails(64, "webhook", "set", *args)
            self.assertFalse(os.path.exists(self.db), (args, r))
        # With a webhook set, a bad set leaves it exactly as it was.
        self.ok("webhook", "set", "http://127.0.0.1:9/a", "--secret", "k",
                "--events", "vm.failed", "--format", "slack")
        before = self.ok("--json", "webhook", "show").json()
        for args in bad:
            self.fails(64, "webhook", "set", *args)
        self.assertEqual(self.ok("--json", "webhook", "show").json(), before)
        self.fails(64, "webhook", "frobnicate")
        self.fails(64, "webhook", "unset", "extra")

    def test_show_says_whether_a_secret_is_set_never_what(self):
        secret = "correct-horse-battery-staple"
        self.fails(66, "webhook")
        self.ok("db", "migrate")
        r = self.ok("webhook")
        self.assertIn(b"no webhook is set", r.out)
        self.assertIsNone(self.ok("--json", "webhook", "show").json()["url"])
        self.ok("webhook", "set", "https://user:pa55@hooks.example/x",
                "--secret", secret)
        outs = [self.ok("webhook", "show"), self.ok("webhook"),
                self.ok("--json", "webhook", "show"),
                self.ok("webhook", "show", "--json"),
                self.ok("events"), self.ok("--json", "events")]
        for r in outs:
            self.assertNotIn(secret.encode(), r.out + r.err)
            self.assertNotIn(b"pa55", r.out + r.err)
        shown = self.ok("--json", "webhook", "show").json()
        self.assertEqual(shown["secret_set"], True)
        self.assertEqual(shown["url"], "https://user:***@hooks.example/x")
        self.assertIsNone(shown["events"])
        self.assertEqual(shown["format"], "json")
        self.assertIn(b"set (deliveries are signed)", outs[0].out)

    def test_secret_from_stdin(self):
        # --secret - keeps it off the command line (and out of ps).
        r = subprocess.run([VMSCHED, "webhook", "set", "http://h.example/",
                            "--secret", "-"], input=b"from-stdin\n",
                           capture_output=True, env=self.env)
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(self.ok("--json", "webhook").json()["secret_set"])
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("SELECT value FROM setting WHERE key = "
                                     "'webhook.secret'").fetchone()[0],
                         "from-stdin")
        con.close()
        r = subprocess.run([VMSCHED, "webhook", "set", "http://h.example/",
                            "--secret", "-"], input=b"", capture_output=True,
                           env=self.env)
        self.assertEqual(r.returncode, 64, r)

    def test_set_replaces_the_whole_webhook_and_unset_removes_it(self):
        self.ok("webhook", "set", "http://h.example/1", "--secret", "k",
                "--events", " vm.failed , scheduler.* ", "--format", "slack")
        shown = self.ok("--json", "webhook").json()
        self.assertEqual(shown["events"], "vm.failed,scheduler.*")
        self.assertEqual(shown["format"], "slack")
        self.ok("webhook", "set", "http://h.example/2")
        shown = self.ok("--json", "webhook").json()
        self.assertEqual(shown["url"], "http://h.example/2")
        self.assertFalse(shown["secret_set"])
        self.assertIsNone(shown["events"])
        self.assertEqual(shown["format"], "json")
        self.ok("webhook", "unset")
        self.assertIsNone(self.ok("--json", "webhook").json()["url"])
        self.ok("webhook", "unset")     # already unset: still fine

    def test_unset_takes_pending_events_out_of_the_queue(self):
        self.ok("webhook", "set", "http://127.0.0.1:9/")
        self.add_event("vm.exited", "a")
        self.add_event("vm.failed", "a")
        self.assertEqual(len(self.events("--pending")), 2)
        r = self.ok("webhook", "unset")
        self.assertIn(b"2 pending events will not be sent", r.out)
        self.assertEqual(self.events("--pending"), [])
        self.assertEqual([e["status"] for e in self.events()],
                         ["none", "none"])

    def test_events_options(self):
        self.fails(64, "events", "--pending", "--failed")
        self.fails(64, "events", "--limit", "0")
        self.fails(64, "events", "--limit", "x")
        self.fails(64, "events", "extra")
        # A read command does not create the database it was given.
        r = self.fails(66, "events")
        self.assertIn(b"no such database", r.err)
        self.assertFalse(os.path.exists(self.db))
        self.ok("db", "migrate")
        self.assertEqual(self.events(), [])
        self.ok("webhook", "set", "http://127.0.0.1:9/")
        for i in range(3):
            self.add_event("vm.exited", "vm%d" % i, {"pid": 100 + i})
        rows = self.events()
        self.assertEqual([r["vm"] for r in rows], ["vm2", "vm1", "vm0"])
        self.assertEqual(len(self.events("--limit", "1")), 1)
        r = rows[0]
        for key in ("id", "time", "event", "vm", "uid", "detail", "status",
                    "attempts", "next_attempt_at", "last_error",
                    "delivered_at"):
            self.assertIn(key, r)
        self.assertRegex(r["time"], RFC3339)
        self.assertEqual(r["detail"], {"pid": 102})
        table = self.ok("events").out.decode()
        self.assertIn("STATUS", table.splitlines()[0])
        self.assertEqual(len(table.splitlines()), 4)
        self.assertEqual(self.events("--failed"), [])


class WebhookTest(WebhookCase):

    def test_sends_a_signed_test_event_and_prints_the_status(self):
        self.receiver.start()
        secret = "s3cr3t"
        self.ok("webhook", "set", self.receiver.url, "--secret", secret)
        r = self.ok("webhook", "test")
        self.assertEqual(r.out, b"HTTP 200\n")
        reqs = self.receiver.requests()
        self.assertEqual(len(reqs), 1)
        req = reqs[0]
        self.assertEqual(req["method"], "POST")
        self.assertEqual(req["path"], "/hook")
        self.assertEqual(header(req, "Content-Type"), "application/json")
        self.assertRegex(header(req, "User-Agent"), r"^vmsched/\d+\.\d+")
        self.assertEqual(header(req, "X-Vmsched-Event"), "webhook.test")
        self.assertTrue(signature_ok(req, secret), req)
        self.assertFalse(signature_ok(req, secret + "x"))
        body = json.loads(req["body"])
        self.assertEqual(header(req, "X-Vmsched-Delivery"), str(body["id"]))
        self.assertEqual(body["event"], "webhook.test")
        self.assertEqual(body["host"], socket.gethostname())
        self.assertRegex(body["time"], RFC3339)
        self.assertIsNone(body["vm"])
        ev = self.events()[0]
        self.assertEqual((ev["id"], ev["event"], ev["status"],
                          ev["attempts"]),
                         (body["id"], "webhook.test", "delivered", 1))
        # Without a secret, no signature header at all.
        self.ok("webhook", "set", self.receiver.url)
        self.ok("webhook", "test")
        self.assertIsNone(header(self.receiver.requests()[1],
                                 "X-Vmsched-Signature-256"))

    def test_failures_and_their_exit_codes(self):
        self.fails(66, "webhook", "test")
        self.assertFalse(os.path.exists(self.db))
        self.ok("db", "migrate")
        r = self.fails(64, "webhook", "test")
        self.assertIn(b"no webhook is set", r.err)
        self.receiver.start(script="500,404")
        self.ok("webhook", "set", self.receiver.url)
        r = self.fails(69, "webhook", "test")
        self.assertIn(b"HTTP 500", r.err)
        r = self.fails(69, "webhook", "test")
        self.assertIn(b"HTTP 404", r.err)
        failed = self.events("--failed")
        self.assertEqual([e["last_error"][:8] for e in failed],
                         ["HTTP 404", "HTTP 500"])
        self.receiver.stop()
        r = self.fails(69, "webhook", "test")
        self.assertRegex(r.err, b"(?i)connect")
        # A receiver that never answers: 75 once the timeout passes.
        self.receiver.start(script="hang")
        self.setting("webhook.timeout_ms", 500)
        t = time.monotonic()
        r = self.fails(75, "webhook", "test")
        self.assertLess(time.monotonic() - t, 5)
        self.assertRegex(r.err, b"(?i)timed out")
        # webhook test never leaves anything in the queue.
        self.assertEqual(self.events("--pending"), [])


class Delivery(WebhookCase):

    def test_in_order_with_headers_and_signatures(self):
        self.receiver.start()
        secret = "order-secret"
        self.ok("webhook", "set", self.receiver.url, "--secret", secret)
        r = self.driver("burst", 40, 30000, timeout=60)
        self.assertEqual(r.returncode, 0, r)
        reqs = self.receiver.requests()
        self.assertEqual(len(reqs), 40)
        ids = [int(header(q, "X-Vmsched-Delivery")) for q in reqs]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), 40)
        for q in reqs:
            self.assertTrue(signature_ok(q, secret), q)
            body = json.loads(q["body"])
            self.assertEqual(body["id"], int(header(q, "X-Vmsched-Delivery")))
            self.assertEqual(header(q, "X-Vmsched-Event"), "vm.exited")
        pids = [json.loads(q["body"])["vm"]["pid"] for q in reqs]
        self.assertEqual(pids, list(range(1000, 1040)))
        # One connection, kept alive, for all of them.
        self.assertEqual(len({q["client_port"] for q in reqs}), 1)
        self.assertEqual(self.events("--pending"), [])
        self.assertTrue(all(e["status"] == "delivered" and e["attempts"] == 1
                            for e in self.events()))

    def test_payload(self):
        self.receiver.start()
        self.ok("webhook", "set", self.receiver.url)
        self.add_event("vm.exited", "web1", {
            "pid": 4242, "exit_code": None, "signal": "KILL",
            "reason": "crashed", "restarts": 3, "failures": 2,
            "delay_ms": 4000, "rule": "on-failure: killed by KILL"})
        self.add_event("scheduler.started", None, {"pid": 1, "boot_id": "b"})
        self.drain()
        vm_body, sched_body = [json.loads(q["body"])
                               for q in self.receiver.requests()]
        self.assertEqual(set(vm_body), {"id", "event", "time", "host", "vm",
                                        "detail"})
        self.assertEqual(vm_body["vm"], {
            "name": "web1", "pid": 4242, "exit_code": None,
            "signal": "KILL", "reason": "crashed", "restarts": 3,
            "failures": 2, "next_delay_ms": 4000,
            "rule": "on-failure: killed by KILL", "why": None})
        self.assertEqual(vm_body["event"], "vm.exited")
        self.assertRegex(vm_body["time"], RFC3339)
        self.assertIsNone(sched_body["vm"])
        self.assertEqual(sched_body["detail"], {"pid": 1, "boot_id": "b"})

    def test_500_then_200_is_delivered_once_with_the_same_id(self):
        self.receiver.start(script="500,200")
        secret = "k"
        self.ok("webhook", "set", self.receiver.url, "--secret", secret)
        self.add_event("vm.failed", "a")
        self.drain()
        first, second = self.receiver.requests()
        self.assertEqual(first["answer"], "500")
        self.assertEqual(second["answer"], "200")
        self.assertEqual(header(first, "X-Vmsched-Delivery"),
                         header(second, "X-Vmsched-Delivery"))
        self.assertEqual(first["body"], second["body"])
        self.assertTrue(signature_ok(second, secret))
        # The retry waited for the backoff (1 s), not a hot loop.
        self.assertGreaterEqual(second["time"] - first["time"], 0.9)
        ev = self.events()[0]
        self.assertEqual((ev["status"], ev["attempts"]), ("delivered", 2))
        self.assertEqual(ev["last_error"][:8], "HTTP 500")

    def test_400_fails_at_once_and_the_queue_moves_on(self):
        self.receiver.start(script="400")
        self.ok("webhook", "set", self.receiver.url)
        self.add_event("vm.exited", "a")
        self.add_event("vm.up", "b")
        self.drain()
        reqs = self.receiver.requests()
        self.assertEqual([q["answer"] for q in reqs], ["400", "200"])
        failed = self.events("--failed")
        self.assertEqual(len(failed), 1)
        self.assertEqual((failed[0]["vm"], failed[0]["attempts"]), ("a", 1))
        self.assertIn("HTTP 400", failed[0]["last_error"])
        table = self.ok("events", "--failed").out.decode()
        self.assertIn("HTTP 400", table)
        self.assertEqual(len(table.splitlines()), 2)
        self.assertEqual(self.events("--pending"), [])

    def test_retry_after_is_honoured(self):
        self.receiver.start(script="429:2,200")
        self.ok("webhook", "set", self.receiver.url)
        self.add_event("vm.exited", "a")
        self.drain()
        first, second = self.receiver.requests()
        # Our own backoff would have tried again after 1 s.
        self.assertGreaterEqual(second["time"] - first["time"], 1.9)

    def test_receiver_down_then_back_loses_nothing(self):
        self.receiver.start()       # for a port of our own ...
        self.receiver.stop()        # ... that nobody listens on: down
        self.ok("webhook", "set", self.receiver.url)
        for i in range(5):
            self.add_event("vm.exited", "vm%d" % i)
        drain = subprocess.Popen([hook_driver(), self.db, "drain", "60000"],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 env=self.env)
        try:
            # The head is retried and everything waits behind it.
            wait_for(lambda: self.events("--pending")[-1]["attempts"] >= 3,
                     timeout=20, what="three failed attempts")
            pending = self.events("--pending")
            self.assertEqual(len(pending), 5)
            self.assertTrue(all(e["attempts"] == 0 for e in pending[:-1]))
            self.assertRegex(pending[-1]["last_error"], "(?i)connect")
            self.receiver.start()   # back, on the same port
            out, err = drain.communicate(timeout=60)
        finally:
            if drain.poll() is None:
                drain.kill()
                drain.wait()
        self.assertEqual(drain.returncode, 0, (out, err))
        reqs = self.receiver.requests()
        self.assertEqual([json.loads(q["body"])["vm"]["name"] for q in reqs],
                         ["vm%d" % i for i in range(5)])
        self.assertTrue(all(e["status"] == "delivered"
                            for e in self.events()))

    def test_slack_format(self):
        self.receiver.start()
        self.ok("webhook", "set", self.receiver.url, "--format", "slack",
                "--secret", "k")
        self.add_event("vm.exited", "web1", {
            "pid": 77, "exit_code": 1, "reason": "exited", "restarts": 1,
            "failures": 1, "delay_ms": 2000})
        self.drain()
        req, = self.receiver.requests()
        body = json.loads(req["body"])
        self.assertEqual(list(body), ["text"])
        self.assertEqual(body["text"], "%s: vm.exited web1 pid 77 exited "
                         "with code 1, restart in 2s, 1 failure in a row, "
                         "1 restart" % socket.gethostname())
        self.assertEqual(header(req, "Content-Type"), "application/json")
        self.assertTrue(signature_ok(req, "k"))
        self.assertEqual(header(req, "X-Vmsched-Event"), "vm.exited")

    def test_filter(self):
        self.receiver.start()
        self.ok("webhook", "set", self.receiver.url, "--events",
                "vm.failed,scheduler.*")
        for ev in ("vm.exited", "vm.failed", "scheduler.started",
                   "vm.defined", "vm.blocked", "scheduler.stopping"):
            self.add_event(ev, None if ev.startswith("scheduler") else "a")
        self.drain()
        sent = [header(q, "X-Vmsched-Event")
                for q in self.receiver.requests()]
        self.assertEqual(sent, ["vm.failed", "scheduler.started",
                                "scheduler.stopping"])
        status = {e["event"]: e["status"] for e in self.events()}
        self.assertEqual(status["vm.exited"], "none")
        self.assertEqual(status["vm.blocked"], "none")
        self.assertEqual(status["vm.failed"], "delivered")

    def test_default_filter_leaves_out_the_audit_events(self):
        self.receiver.start()
        self.ok("webhook", "set", self.receiver.url)
        self.ok("add", "web1", "--", "true")            # vm.defined
        self.ok("set", "web1", "--order", "5")          # vm.changed
        self.add_event("vm.exited", "web1")
        self.drain()
        self.assertEqual([header(q, "X-Vmsched-Event")
                          for q in self.receiver.requests()], ["vm.exited"])
        status = {e["event"]: e["status"] for e in self.events()}
        self.assertEqual(status["vm.defined"], "none")
        self.assertEqual(status["vm.changed"], "none")
        # Named (or by prefix), they are sent.
        self.ok("webhook", "set", self.receiver.url, "--events", "vm.*")
        self.ok("remove", "web1")                       # vm.removed
        self.drain()
        self.assertEqual(header(self.receiver.requests()[-1],
                                "X-Vmsched-Event"), "vm.removed")

    def test_gives_up_after_the_bounded_time(self):
        self.receiver.start(default="503")
        self.ok("webhook", "set", self.receiver.url)
        self.setting("webhook.give_up_ms", 1500)
        self.add_event("vm.exited", "a")
        self.add_event("vm.up", "a")
        self.drain()
        for e in self.events():
            self.assertEqual(e["status"], "failed", e)
            self.assertIn("HTTP 503", e["last_error"])
        head = [e for e in self.events() if e["event"] == "vm.exited"][0]
        # Tried at 0 s and 1 s, then once more at the deadline.
        self.assertGreaterEqual(head["attempts"], 2)
        self.assertLessEqual(head["attempts"], 4)
        self.assertEqual(len(self.ok("events", "--failed").out.splitlines()),
                         3)

    def test_stop_is_bounded_while_the_receiver_hangs(self):
        self.receiver.start(script="hang")
        self.ok("webhook", "set", self.receiver.url)
        self.add_event("vm.exited", "a")
        t = time.monotonic()
        r = self.driver("drain", 1000)
        elapsed = time.monotonic() - t
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("not drained", r.stdout)
        stop_ms = int(re.search(r"stop_ms (\d+)", r.stdout).group(1))
        # The request would take 10 s to time out; stop does not wait.
        self.assertLess(stop_ms, 3000, r.stdout)
        self.assertLess(elapsed, 6, r)
        wait_for(lambda: len(self.receiver.requests()) == 1,
                 what="the hung request to be recorded")
        # Abandoned, not failed: still pending, the attempt not counted.
        ev = self.events()[0]
        self.assertEqual((ev["status"], ev["attempts"]), ("pending", 0))
        # The next sender delivers it, with the same delivery id.
        self.drain()
        first, second = self.receiver.requests()
        self.assertEqual(header(first, "X-Vmsched-Delivery"),
                         header(second, "X-Vmsched-Delivery"))
        self.assertEqual(self.events()[0]["status"], "delivered")

    def test_a_timeout_is_retried(self):
        self.receiver.start(script="hang,close,200")
        self.ok("webhook", "set", self.receiver.url)
        self.setting("webhook.timeout_ms", 300)
        self.add_event("vm.exited", "a")
        self.drain()
        reqs = self.receiver.requests()
        self.assertEqual([q["answer"] for q in reqs], ["hang", "close", "200"])
        ev = self.events()[0]
        self.assertEqual((ev["status"], ev["attempts"]), ("delivered", 3))


# The daemon-dependent checks of issue 5: the daemon's own sender.
@unittest.skipUnless(daemon_available(), "no vmsched daemon in this build")
class WithDaemon(DaemonCase):

    def setUp(self):
        super().setUp()
        self.receiver = Receiver(self.dir)

    def tearDown(self):
        super().tearDown()
        self.receiver.stop()

    def test_restarts_stay_on_schedule_while_the_receiver_hangs(self):
        self.receiver.start(default="hang")
        self.ok("webhook", "set", self.receiver.url)
        self.ok("add", "crash", "--restart", "always", "--backoff-initial",
                "200ms", "--backoff-factor", "1", "--max-failures", "100",
                "--", "sh", "-c", "sleep 0.05; exit 1")
        self.start_daemon()
        wait_for(lambda: len(self.runs("crash")) >= 8, timeout=30,
                 what="8 runs")
        wait_for(lambda: len(self.receiver.requests()) >= 1,
                 what="the sender to be stuck on the hung receiver")
        runs = [r for r in self.runs("crash") if r["ended_at"]]
        for prev, nxt in zip(runs, runs[1:]):
            gap = ms(nxt["started_at"]) - ms(prev["ended_at"])
            self.assertGreaterEqual(gap, prev["delay_ms"] - 5, (prev, nxt))
            # A sender in the supervision loop would add ~10 s here.
            self.assertLess(gap, prev["delay_ms"] + 500, (prev, nxt))
        self.assertGreater(len(self.ok("--json", "events",
                                       "--pending").json()), 0)
        # SIGTERM still ends the daemon promptly.
        t = time.monotonic()
        self.daemon.send_signal(signal.SIGTERM)
        self.daemon.wait(timeout=30)
        self.assertLess(time.monotonic() - t, 15)

    def test_a_sigkilled_daemons_pending_events_are_sent_by_the_next(self):
        self.receiver.start()
        self.receiver.stop()                        # down for now
        self.ok("webhook", "set", self.receiver.url)
        self.ok("add", "crash", "--backoff-initial", "100ms",
                "--max-failures", "3", "--", "sh", "-c", "exit 2")
        self.start_daemon()
        self.wait_state("crash", "failed", timeout=20)
        pending = self.ok("--json", "events", "--pending").json()
        self.assertGreater(len(pending), 3)
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()
        self.receiver.start()                       # back
        self.start_daemon()
        wait_for(lambda: self.ok("--json", "events", "--pending").json()
                 == [], timeout=60, what="the outbox to drain")
        got = [int(header(q, "X-Vmsched-Delivery"))
               for q in self.receiver.requests()]
        want = sorted(e["id"] for e in pending)
        # Every one of them, in order (at least once: duplicates allowed
        # only as repeats of the same id).
        self.assertEqual(sorted(set(got) & set(want)), want)
        self.assertEqual([i for i in got if i in want],
                         sorted(i for i in got if i in want))


if __name__ == "__main__":
    unittest.main()

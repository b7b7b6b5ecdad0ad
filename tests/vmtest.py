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

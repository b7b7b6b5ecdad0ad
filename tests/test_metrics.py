"""vmsched metrics and daemon --metrics-textfile, read back with a real
Prometheus parser (prometheus_client's, Debian's python3-prometheus-client):
every family with HELP and TYPE, a one-hot vmsched_vm_state over every
state of DESIGN.md, the figures matching what show and events say; the
daemon's file written atomically, rewritten on state changes at most once
a second, and left saying vmsched_daemon_up 0 when the daemon stops."""
import os
import re
import subprocess
import sys
import time

from vmtest import VMSCHED, DaemonCase, VmschedCase, wait_for
from test_webhook import Receiver

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # tools/deps.sh installs Debian's package, which a python3 that is not
    # Debian's own (pyenv, a venv) does not look for: look there too.
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

# DESIGN.md's states, in its order.
STATES = ("disabled stopped waiting starting running up backoff failed "
          "blocked stopping suspending suspended").split()

FAMILIES = {
    "vmsched_vm_state": "gauge",
    "vmsched_vm_restarts": "counter",	# vmsched_vm_restarts_total
    "vmsched_vm_failures": "gauge",
    "vmsched_vm_start_time_seconds": "gauge",
    "vmsched_vm_up": "gauge",
    "vmsched_events_pending": "gauge",
    "vmsched_events_failed": "counter",	# vmsched_events_failed_total
    "vmsched_daemon_up": "gauge",
    "vmsched_daemon_start_time_seconds": "gauge",
}


def parse(text):
    """{family name: family}, failing on anything the parser refuses."""
    if isinstance(text, bytes):
        text = text.decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(families, name):
    """{labels as a sorted tuple: value} of the samples called name."""
    out = {}
    for f in families.values():
        for s in f.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


def per_vm(families, name):
    return {dict(k)["vm"]: v for k, v in samples(families, name).items()}


class Text(VmschedCase):

    def setUp(self):
        super().setUp()
        self.ok("db", "migrate")

    def test_every_family_with_help_and_type(self):
        fams = parse(self.ok("metrics").out)
        self.assertEqual({n: f.type for n, f in fams.items()}, FAMILIES)
        for f in fams.values():
            self.assertTrue(f.documentation, f.name)
        # No VMs, no daemon.
        self.assertEqual(samples(fams, "vmsched_daemon_up"), {(): 0})
        self.assertEqual(samples(fams, "vmsched_daemon_start_time_seconds"),
                         {(): 0})
        self.assertEqual(samples(fams, "vmsched_vm_state"), {})

    def test_one_hot_over_every_state(self):
        self.ok("add", "web", "--", "true")
        self.ok("add", "off", "--disabled", "--", "true")
        fams = parse(self.ok("metrics").out)
        state = samples(fams, "vmsched_vm_state")
        for vm in ("web", "off"):
            mine = {dict(k)["state"]: v for k, v in state.items()
                    if dict(k)["vm"] == vm}
            self.assertEqual(sorted(mine), sorted(STATES))
            self.assertEqual(sum(mine.values()), 1, mine)
        self.assertEqual(state[(("state", "stopped"), ("vm", "web"))], 1)
        # The states a VM can be in are the states the store allows.
        with open(os.path.join(os.path.dirname(__file__), "..",
                               "migrations", "0001_initial.sql")) as f:
            check = re.search(r"state +TEXT NOT NULL DEFAULT 'stopped'\s+"
                              r"CHECK \(state IN \(([^)]*)\)", f.read())
        self.assertEqual(re.findall(r"'([a-z]+)'", check.group(1)), STATES)

    def test_write_error_fails(self):
        with open("/dev/full", "wb") as full:
            proc = subprocess.run([VMSCHED, "metrics"], stdout=full,
                                  stderr=subprocess.PIPE, env=self.env)
        self.assertEqual(proc.returncode, 74, proc)
        self.assertIn(b"vmsched: stdout:", proc.stderr)


class WithDaemon(DaemonCase):

    def test_figures_match_the_daemon(self):
        receiver = Receiver(self.dir).start(default="400")
        self.addCleanup(receiver.stop)
        self.ok("webhook", "set", receiver.url)
        self.ok("add", "web", "--", "sleep", "600")
        self.ok("add", "crash", "--max-failures", "2", "--backoff-initial",
                "100ms", "--", "sh", "-c", "exit 3")
        t0 = time.time()
        self.start_daemon()
        self.wait_state("web", "up")
        self.wait_state("crash", "failed")
        wait_for(lambda: self.ok("--json", "events", "--failed").json(),
                 what="a failed delivery")
        fams = parse(self.ok("metrics").out)
        self.assertEqual(samples(fams, "vmsched_daemon_up"), {(): 1})
        started = samples(fams, "vmsched_daemon_start_time_seconds")[()]
        self.assertAlmostEqual(started, t0, delta=10)
        self.assertEqual(per_vm(fams, "vmsched_vm_up"),
                         {"web": 1, "crash": 0})
        self.assertEqual(per_vm(fams, "vmsched_vm_failures"),
                         {"web": 0, "crash": 2})
        self.assertEqual(per_vm(fams, "vmsched_vm_restarts_total"),
                         {"web": 0, "crash": 1})
        start = per_vm(fams, "vmsched_vm_start_time_seconds")
        self.assertEqual(start["crash"], 0)
        self.assertAlmostEqual(start["web"], t0, delta=10)
        self.assertEqual(
            samples(fams, "vmsched_vm_state")[(("state", "failed"),
                                               ("vm", "crash"))], 1)
        failed = len(self.ok("--json", "events", "--failed").json())
        pending = len(self.ok("--json", "events", "--pending").json())
        self.assertEqual(samples(fams, "vmsched_events_failed_total"),
                         {(): failed})
        self.assertGreaterEqual(failed, 1)
        self.assertEqual(samples(fams, "vmsched_events_pending"),
                         {(): pending})


class TextFile(DaemonCase):

    def setUp(self):
        super().setUp()
        self.textdir = os.path.join(self.dir, "textfile")
        os.mkdir(self.textdir)
        self.prom = os.path.join(self.textdir, "vmsched.prom")

    def read(self):
        with open(self.prom) as f:
            return parse(f.read())

    def test_kept_current(self):
        self.ok("add", "web", "--", "sleep", "600")
        self.start_daemon("--metrics-textfile", self.prom)
        wait_for(lambda: os.path.exists(self.prom) and
                 per_vm(self.read(), "vmsched_vm_up").get("web") == 1,
                 what="web up in the file")
        fams = self.read()
        self.assertEqual(samples(fams, "vmsched_daemon_up"), {(): 1})
        self.assertEqual(oct(os.stat(self.prom).st_mode & 0o777), "0o644")
        # The same text as vmsched metrics (but for a moving clock: none).
        with open(self.prom) as f:
            self.assertEqual(f.read(), self.ok("metrics").out.decode())
        # A state change reaches the file.
        self.ok("stop", "web")
        wait_for(lambda: samples(self.read(), "vmsched_vm_state")
                 [(("state", "stopped"), ("vm", "web"))] == 1,
                 what="web stopped in the file")
        # Nothing left beside it.
        self.assertEqual(os.listdir(self.textdir), ["vmsched.prom"])
        # Stopping the daemon leaves the file saying so.
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(timeout=30), 0)
        self.assertEqual(samples(self.read(), "vmsched_daemon_up"), {(): 0})
        self.assertEqual(os.listdir(self.textdir), ["vmsched.prom"])

    def test_rate_limited(self):
        """A VM restarting as fast as it can changes the database all the
        time; the file is rewritten about once a second, not each time."""
        self.ok("add", "loop", "--restart", "always", "--backoff-initial",
                "0", "--max-failures", "0", "--", "true")
        self.start_daemon("--metrics-textfile", self.prom,
                          "--max-restart-rate", "0")
        wait_for(lambda: os.path.exists(self.prom), what="the file")
        # Each write is a new file renamed over the old: count the
        # changes of (inode, mtime) seen.
        seen, writes, t0 = None, 0, time.monotonic()
        while time.monotonic() - t0 < 3.5:
            try:
                st = os.stat(self.prom)
            except FileNotFoundError:
                self.fail("the file was missing for a moment")
            if (st.st_ino, st.st_mtime_ns) != seen:
                seen = (st.st_ino, st.st_mtime_ns)
                writes += 1
            time.sleep(0.005)
        restarts = per_vm(self.read(), "vmsched_vm_restarts_total")["loop"]
        self.assertGreater(restarts, 20)
        self.assertGreaterEqual(writes, 3)
        self.assertLessEqual(writes, 5)

    def test_relative_path_refused(self):
        r = self.fails(64, "daemon", "--metrics-textfile", "vmsched.prom")
        self.assertIn(b"--metrics-textfile vmsched.prom", r.err)

    def test_unwritable_directory_warns_and_carries_on(self):
        self.ok("add", "web", "--", "sleep", "600")
        self.start_daemon("--metrics-textfile",
                          os.path.join(self.dir, "nodir", "x.prom"))
        self.wait_state("web", "up")
        wait_for(lambda: "metrics:" in self.read_log(), what="a warning")
        self.assertIsNone(self.daemon.poll())
        self.assertEqual(self.read_log().count("metrics:"), 1)

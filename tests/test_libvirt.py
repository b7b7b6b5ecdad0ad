"""libvirt for real (issue 12): Debian's libvirt-daemon-system and
libvirt-clients (tools/deps.sh installs them). There is no systemd on the
test machines, so the test starts `virtlogd -d` and `libvirtd -d` itself
(unless a libvirtd already answers, which it then uses and leaves alone),
and stops the ones it started by their pids. A TCG domain with no disk
(<domain type='qemu'>, 32 MiB, no devices) starts; `virsh domstate
--reason` says running (booted), shut off (saved) after managedsave,
running (restored) after start, shut off (crashed) when its QEMU is
killed, shut off (destroyed); the system instance keeps its pid file in
/run/libvirt/qemu. A guest with no OS ignores `virsh shutdown`, so a stop
goes to `virsh destroy` at its stop timeout, for real."""
import os
import shutil
import signal
import subprocess
import time
import unittest

from vmtest import DaemonCase, alive, wait_for

VIRSH = shutil.which("virsh")
LIBVIRTD = shutil.which("libvirtd") or (
    "/usr/sbin/libvirtd" if os.path.exists("/usr/sbin/libvirtd") else None)
VIRTLOGD = shutil.which("virtlogd") or (
    "/usr/sbin/virtlogd" if os.path.exists("/usr/sbin/virtlogd") else None)
URI = "qemu:///system"
DOMAIN_XML = """<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices></devices>
</domain>
"""


def virsh(*args, check=True):
    proc = subprocess.run([VIRSH, "-c", URI] + list(args),
                          capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError("virsh %s: %s" % (" ".join(args),
                                               proc.stderr))
    return proc.stdout.strip()


def answers():
    return subprocess.run([VIRSH, "-c", URI, "version"],
                          capture_output=True, timeout=30).returncode == 0



class Daemons:
    """The libvirt daemons this test run started (pids), if any, and the
    lock that keeps them this run's."""
    started = []
    dir = None
    lock = None


def setUpModule():
    if VIRSH is None or LIBVIRTD is None or VIRTLOGD is None:
        return
    if os.geteuid() != 0:
        return
    # The system instance's sockets are the machine's: a second suite on
    # the same machine would use this run's libvirtd, and lose it when
    # this run stops it. One suite at a time holds them.
    import fcntl
    Daemons.lock = open("/run/vmsched-test-libvirt.lock", "w")
    fcntl.flock(Daemons.lock, fcntl.LOCK_EX)
    if answers():
        return
    import tempfile
    Daemons.dir = tempfile.mkdtemp(prefix="vmsched-libvirt-")
    for prog, name in ((VIRTLOGD, "virtlogd"), (LIBVIRTD, "libvirtd")):
        pidfile = os.path.join(Daemons.dir, name + ".pid")
        subprocess.run([prog, "-d", "-p", pidfile], check=True, timeout=60)
        pid = int(wait_for(lambda: os.path.exists(pidfile) and
                           open(pidfile).read().strip(), timeout=30,
                           what=name + "'s pid file"))
        Daemons.started.append((name, pid))
    wait_for(answers, timeout=60, what="libvirtd to answer")


def tearDownModule():
    for name, pid in reversed(Daemons.started):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            continue
        try:
            wait_for(lambda: not alive(pid), timeout=30,
                     what=name + " to exit")
        except AssertionError:
            os.kill(pid, signal.SIGKILL)
    Daemons.started = []
    if Daemons.dir:
        shutil.rmtree(Daemons.dir, ignore_errors=True)
    if Daemons.lock is not None:
        Daemons.lock.close()
        Daemons.lock = None


def usable():
    return (VIRSH is not None and LIBVIRTD is not None and
            os.geteuid() == 0)


@unittest.skipUnless(usable(), "libvirt is not installed (tools/deps.sh "
                     "installs libvirt-daemon-system and libvirt-clients), "
                     "or not root")
class Libvirt(DaemonCase):
    """One domain for the class: libvirt probes QEMU's capabilities again
    for each define where it cannot use /dev/kvm as its qemu user (a host
    without udev's rule for it), which takes half a minute each time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not answers():
            raise AssertionError("libvirtd does not answer on " + URI)
        cls.domain = "vmsched-test-%d" % os.getpid()
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(DOMAIN_XML % cls.domain)
            f.flush()
            virsh("define", f.name)

    @classmethod
    def tearDownClass(cls):
        virsh("destroy", cls.domain, check=False)
        virsh("undefine", "--managed-save", cls.domain, check=False)
        super().tearDownClass()

    def tearDown(self):
        super().tearDown()
        virsh("destroy", self.domain, check=False)
        virsh("managedsave-remove", self.domain, check=False)

    def state(self, name=None):
        return super().state(name or "lv")

    def domstate(self):
        return virsh("domstate", "--reason", self.domain)

    def qemu_pid(self):
        with open("/run/libvirt/qemu/%s.pid" % self.domain) as f:
            return int(f.read())

    def add(self, *opts):
        self.ok("add", "lv", "--libvirt", self.domain, "--connect", URI,
                "--stop-timeout", "3s", "--status-interval", "500ms",
                "--backoff-initial", "200ms", *opts)

    def check_expansion(self):
        vm = self.show("lv")
        self.assertEqual(vm["argv"], [VIRSH, "-c", URI, "start",
                                      self.domain])
        det = vm["detached"]
        self.assertEqual(det["status_cmd"], [VIRSH, "-c", URI, "domstate",
                                             "--reason", self.domain])
        self.assertEqual(det["stop_cmd"][-2:], ["shutdown", self.domain])
        self.assertEqual(det["kill_cmd"][-2:], ["destroy", self.domain])
        self.assertEqual(det["suspend_cmd"][-2:], ["managedsave",
                                                   self.domain])
        self.assertEqual(det["pid_file"],
                         "/run/libvirt/qemu/%s.pid" % self.domain)
        self.assertEqual(vm["liveness"], "pid file /run/libvirt/qemu/%s.pid,"
                         " status every 500ms" % self.domain)

    def test_lifecycle(self):
        self.add()
        self.check_expansion()
        self.start_daemon()
        self.wait_state("lv", "up", timeout=60)
        self.assertEqual(self.domstate(), "running (booted)")
        pid = self.qemu_pid()
        self.assertEqual(self.pid("lv"), pid)

        # suspend: managedsave; start restores it
        self.ok("suspend", "lv", "--timeout", "60s")
        self.assertEqual(self.domstate(), "shut off (saved)")
        r = self.runs("lv")[-1]
        self.assertEqual(r["reason"], "suspended")
        self.assertIn('status said "shut off (saved)"', r["detail"])
        self.ok("start", "lv", "--timeout", "60s")
        self.assertEqual(self.domstate(), "running (restored)")
        self.assertIn("resumed", self.runs("lv")[-1]["detail"])

        # its QEMU killed: the status says crashed; restarted
        pid = self.qemu_pid()
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: len(self.runs("lv")) >= 3 and self.state() == "up",
                 timeout=60, what="a restart after the crash")
        crash = self.runs("lv")[1]
        self.assertEqual(crash["reason"], "crashed")
        self.assertIn('status said "shut off (crashed)"', crash["detail"])
        self.assertEqual(crash["failures"], 1)
        self.assertEqual(self.domstate(), "running (booted)")

        # stop: shutdown is ignored by a guest with no OS; destroy follows
        t0 = time.monotonic()
        self.ok("stop", "lv", "--timeout", "60s")
        self.assertGreaterEqual(time.monotonic() - t0, 2.9)
        self.assertEqual(self.domstate(), "shut off (destroyed)")
        self.assertEqual(self.runs("lv")[-1]["reason"],
                         "killed-after-timeout")

    def test_adoption_after_a_daemon_sigkill(self):
        self.add()
        self.start_daemon()
        self.wait_state("lv", "up", timeout=60)
        pid = self.qemu_pid()
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()
        self.start_daemon()
        self.wait_state("lv", "up", timeout=60)
        # The same QEMU, never a second start.
        self.assertEqual(self.qemu_pid(), pid)
        self.assertEqual(self.pid("lv"), pid)
        self.assertEqual(self.domstate(), "running (booted)")
        self.assertEqual(len(self.runs("lv")), 1)
        self.ok("stop", "lv", "--timeout", "60s")
        self.assertEqual(self.domstate(), "shut off (destroyed)")


if __name__ == "__main__":
    unittest.main()

"""The root daemon and the paths other users control (issue 10): a VM's
log file planted as a symlink, a hard link, a FIFO or a device by the user
who owns its directory fails the start with a clear exec-failed reason,
leaves the target byte for byte as it was, and never blocks the loop; gate
commands run as the VM's user; a user's groups are all kept; a daemon that
is not root says why it cannot run a VM as someone else. Run as root with
the real `nobody` user."""
import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import unittest

from vmtest import DaemonCase, wait_for

ROOT = os.geteuid() == 0


def nobody():
    return pwd.getpwnam("nobody")


@unittest.skipUnless(ROOT, "needs root and the nobody user")
class LogFile(DaemonCase):

    def setUp(self):
        super().setUp()
        # A place outside the database's private directory: root's, with
        # a directory nobody owns (where nobody plants things).
        self.area = tempfile.mkdtemp(prefix="vmsched-test-trust-")
        self.addCleanup(shutil.rmtree, self.area, ignore_errors=True)
        os.chmod(self.area, 0o755)
        self.nd = os.path.join(self.area, "nobodys")
        os.mkdir(self.nd)
        os.chown(self.nd, nobody().pw_uid, nobody().pw_gid)
        self.target = os.path.join(self.area, "target")
        with open(self.target, "wb") as f:
            f.write(b"root's secret\n")
        os.chmod(self.target, 0o600)
        self.ok("add", "other", "--", "sleep", "1000")

    def as_nobody(self, *argv):
        subprocess.run(["setpriv", "--reuid", "nobody", "--regid",
                        "nogroup", "--clear-groups", "--"] + list(argv),
                       check=True)

    def unchanged(self):
        st = os.stat(self.target)
        self.assertEqual(open(self.target, "rb").read(), b"root's secret\n")
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (0, 0, 0o600))

    def refused(self, name, *user, detail):
        """Add name with its log at nobodys/vm.log, start the daemon: its
        one start must fail with detail, and another VM must still stop."""
        log = os.path.join(self.nd, "vm.log")
        self.ok("add", name, *user, "--log-file", log, "--max-failures",
                "1", "--", "sh", "-c", "echo written; sleep 1000")
        self.start_daemon()
        self.wait_state(name, "failed")
        run = self.runs(name)[0]
        self.assertEqual(run["reason"], "exec-failed")
        self.assertIn("log file %s" % log, run["detail"])
        self.assertIn(detail, run["detail"])
        self.unchanged()
        # The loop never blocked: another VM stops on request.
        self.wait_state("other", "up")
        self.ok("stop", "other", "--timeout", "10s")

    def test_symlink_to_a_root_file(self):
        self.as_nobody("ln", "-s", self.target,
                       os.path.join(self.nd, "vm.log"))
        self.refused("v", "--user", "nobody", detail="Permission denied")

    def test_symlink_for_a_vm_of_root(self):
        # No --user: the VM runs as root, its log path is nobody's.
        self.as_nobody("ln", "-s", self.target,
                       os.path.join(self.nd, "vm.log"))
        self.refused("v", detail="Permission denied")

    def test_dangling_symlink_creates_nothing(self):
        where = os.path.join(self.area, "made-by-root")
        self.as_nobody("ln", "-s", where, os.path.join(self.nd, "vm.log"))
        self.refused("v", "--user", "nobody", detail="Permission denied")
        self.assertFalse(os.path.lexists(where))

    def test_hard_link(self):
        # protected_hardlinks may stop nobody making it; root makes it for
        # them, as a system without that protection would let them.
        os.link(self.target, os.path.join(self.nd, "vm.log"))
        self.refused("v", "--user", "nobody", detail="hard link")

    def test_fifo_never_blocks(self):
        self.as_nobody("mkfifo", os.path.join(self.nd, "vm.log"))
        self.refused("v", "--user", "nobody", detail="not a regular file")

    def test_device(self):
        os.mknod(os.path.join(self.nd, "vm.log"), 0o666 | stat.S_IFCHR,
                 os.makedev(1, 3))
        self.refused("v", "--user", "nobody", detail="not a regular file")

    def test_nobodys_own_log_works(self):
        log = os.path.join(self.nd, "vm.log")
        self.ok("add", "v", "--user", "nobody", "--log-file", log, "--",
                "sh", "-c", "echo written; exec sleep 1000")
        self.start_daemon()
        self.wait_state("v", "up")
        wait_for(lambda: os.path.exists(log) and
                 open(log).read() == "written\n", what="the VM's output")
        st = os.stat(log)
        self.assertEqual(st.st_uid, nobody().pw_uid)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)

    def test_default_log_is_private(self):
        self.ok("add", "v", "--user", "nobody", "--", "sh", "-c",
                "echo hi; exec sleep 1000")
        self.start_daemon()
        self.wait_state("v", "up")
        log = os.path.join(self.dir, "logs", "v.log")
        wait_for(lambda: os.path.exists(log), what="the log")
        st = os.stat(log)
        # Root's, in root's private directory: nothing was chowned.
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o600))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(log))
                                      .st_mode), 0o700)


@unittest.skipUnless(ROOT, "needs root and the nobody user")
class Checks(DaemonCase):

    def test_wait_cmd_runs_as_the_vms_user(self):
        self.ok("add", "low", "--user", "nobody", "--env", "MARK=mine",
                "--cwd", "/", "--wait-cmd",
                'echo "gate $(id -u) $(id -G) $HOME $MARK $(pwd)"', "--",
                "sleep", "1000")
        self.start_daemon()
        self.wait_state("low", "up")
        log = os.path.join(self.dir, "logs", "low.log")
        line = open(log).read().split("\n")[0].split()
        pw = nobody()
        groups = sorted(set([pw.pw_gid] + [g.gr_gid for g in grp.getgrall()
                                           if pw.pw_name in g.gr_mem]))
        self.assertEqual(line[0], "gate")
        self.assertEqual(int(line[1]), pw.pw_uid)
        self.assertEqual(sorted(int(g) for g in line[2:-3]), groups)
        self.assertEqual(line[-3:], [pw.pw_dir, "mine", "/"])


@unittest.skipUnless(ROOT, "needs root to make a user")
class ManyGroups(DaemonCase):
    """A user in more groups than the old fixed list of 256 held."""

    N = 300

    def setUp(self):
        super().setUp()
        self.user = "vmst%d" % (os.getpid() % 100000)
        self.groups = ["%sg%d" % (self.user, i) for i in range(self.N)]
        subprocess.run(["useradd", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", self.user], check=True)
        self.addCleanup(subprocess.run, ["userdel", self.user])
        # One write to /etc/group: groupadd three hundred times is slow.
        with open("/etc/group", "a") as f:
            for i, g in enumerate(self.groups):
                f.write("%s:x:%d:%s\n" % (g, 60000 + i, self.user))
        self.addCleanup(self.drop_groups)

    def drop_groups(self):
        with open("/etc/group") as f:
            keep = [l for l in f if l.split(":")[0] not in self.groups]
        with open("/etc/group", "w") as f:
            f.writelines(keep)

    def test_every_group_is_kept(self):
        self.ok("add", "many", "--user", self.user, "--", "sh", "-c",
                "id -G; exec sleep 1000")
        self.start_daemon()
        self.wait_state("many", "up")
        log = os.path.join(self.dir, "logs", "many.log")
        wait_for(lambda: os.path.exists(log) and open(log).read(),
                 what="id's output")
        got = set(int(g) for g in open(log).read().split())
        self.assertTrue(set(range(60000, 60000 + self.N)) <= got,
                        "%d groups kept" % len(got))


@unittest.skipUnless(ROOT, "needs root to run a daemon as nobody")
class NotRoot(DaemonCase):

    def test_daemon_not_root_says_why(self):
        home = tempfile.mkdtemp(prefix="vmsched-test-nobody-")
        self.addCleanup(shutil.rmtree, home, ignore_errors=True)
        os.chown(home, nobody().pw_uid, nobody().pw_gid)
        db = os.path.join(home, "vmsched.db")
        env = dict(self.env, VMSCHED_DB=db)
        run = ["setpriv", "--reuid", "nobody", "--regid", "nogroup",
               "--clear-groups", "--"]
        subprocess.run(run + [self.vmsched(), "add", "x", "--user", "root",
                              "--max-failures", "1", "--", "true"],
                       env=env, check=True)
        d = subprocess.Popen(run + [self.vmsched(), "daemon"], env=env,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            def failed():
                r = subprocess.run(run + [self.vmsched(), "--json", "log",
                                          "x"], env=env,
                                   capture_output=True)
                return [row for row in (__import__("json").loads(r.stdout)
                                        if r.returncode == 0 else [])
                        if row["kind"] == "run" and row["ended_at"]]
            row = wait_for(failed, what="the failed start")[0]
        finally:
            d.terminate()
            d.wait(timeout=20)
        self.assertEqual(row["reason"], "exec-failed")
        self.assertEqual(row["detail"], "user root: running as another user "
                         "needs the daemon to run as root")

    def vmsched(self):
        from vmtest import VMSCHED
        return VMSCHED

"""make install PREFIX= DESTDIR= and make uninstall: the tree they make
and remove (binary, man page, bash and zsh completions, the systemd unit
for the installed path), and that what is installed works where the
shells and systemd look: bash-completion's loader finds the completion,
zsh's compinit the function, the unit runs the installed binary."""
import os
import shlex
import subprocess

from vmtest import VmschedCase

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TREE = {
    "usr/bin/vmsched": 0o755,
    "usr/share/man/man8/vmsched.8": 0o644,
    "usr/share/bash-completion/completions/vmsched": 0o644,
    "usr/share/zsh/site-functions/_vmsched": 0o644,
    "usr/lib/systemd/system/vmsched.service": 0o644,
}


def make(*args):
    # Not the make that runs the tests: its flags (jobserver, SANITIZE)
    # are not this one's. (make exports a variable set on its command
    # line: under `make check SANITIZE=1`, SANITIZE is in the environment
    # too, and install, which installs the plain build, found no rule for
    # it in a tree where only the sanitizer build existed.)
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                        "SANITIZE")}
    return subprocess.run(["make", "-s", "-C", ROOT] + list(args),
                          capture_output=True, text=True, env=env,
                          timeout=300)


class Install(VmschedCase):

    def setUp(self):
        super().setUp()
        self.dest = os.path.join(self.dir, "dest")
        r = make("install", "PREFIX=/usr", "DESTDIR=" + self.dest)
        self.assertEqual(r.returncode, 0, r)

    def files(self):
        found = {}
        for top, _, names in os.walk(self.dest):
            for n in names:
                path = os.path.join(top, n)
                found[os.path.relpath(path, self.dest)] = \
                    os.stat(path).st_mode & 0o777
        return found

    def test_tree_and_uninstall(self):
        self.assertEqual(self.files(), TREE)
        binary = os.path.join(self.dest, "usr/bin/vmsched")
        out = subprocess.run([binary, "--version"], capture_output=True,
                             text=True)
        self.assertRegex(out.stdout, r"^vmsched \d")
        # No database was read or made to write the unit.
        self.assertFalse(os.path.exists(self.db))
        r = make("uninstall", "PREFIX=/usr", "DESTDIR=" + self.dest)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.files(), {})

    def test_unit_runs_the_installed_binary(self):
        with open(os.path.join(self.dest, "usr/lib/systemd/system/"
                               "vmsched.service")) as f:
            unit = f.read()
        self.assertIn("\nExecStart=/usr/bin/vmsched daemon\n", unit)
        self.assertIn("\nKillMode=process\n", unit)
        self.assertIn("\nTimeoutStopSec=infinity\n", unit)
        self.assertIn("\nWantedBy=multi-user.target\n", unit)
        self.assertNotIn("--db", unit)

    def test_man_page(self):
        page = os.path.join(self.dest, "usr/share/man/man8/vmsched.8")
        with open(page) as f, open(os.path.join(ROOT, "vmsched.8")) as g:
            self.assertEqual(f.read(), g.read())
        proc = subprocess.run(["mandoc", "-Tutf8", page],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc)
        self.assertIn("boot-time scheduler", proc.stdout)

    def test_bash_completion_loader_finds_it(self):
        share = os.path.join(self.dest, "usr/share")
        script = ("source /usr/share/bash-completion/bash_completion\n"
                  "__load_completion vmsched || exit 3\n"
                  "complete -p vmsched\n")
        proc = subprocess.run(["bash", "--norc", "-c", script],
                              capture_output=True, text=True,
                              env=dict(self.env, XDG_DATA_DIRS=share,
                                       BASH_COMPLETION_USER_DIR=self.dir))
        self.assertEqual(proc.returncode, 0, proc)
        self.assertEqual(proc.stdout.strip(), "complete -F _vmsched vmsched")

    def test_zsh_compinit_finds_it(self):
        funcs = os.path.join(self.dest, "usr/share/zsh/site-functions")
        script = ("fpath=(%s $fpath)\nautoload -Uz compinit\n"
                  "compinit -u -D\nprint -r -- $_comps[vmsched]\n"
                  % shlex.quote(funcs))
        proc = subprocess.run(["zsh", "-f", "-c", script],
                              capture_output=True, text=True, env=self.env,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc)
        self.assertEqual(proc.stdout.strip(), "_vmsched")


class ExportSystemd(VmschedCase):

    def test_exe_must_be_absolute(self):
        r = self.fails(64, "export-systemd", "--exe", "bin/vmsched")
        self.assertIn(b"--exe bin/vmsched", r.err)

    def test_default_is_this_binary_on_this_database(self):
        unit = self.ok("export-systemd").out.decode()
        self.assertIn(" --db %s daemon\n" % os.path.realpath(self.db), unit)

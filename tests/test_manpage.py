"""vmsched.8: `mandoc -Tlint` clean, and complete: every command and every
option of the command table (as `vmsched complete` reads it), every exit
code the commands return, every environment variable the code reads and
the files are in it. Adding a command, an option or a getenv without
documenting it fails here."""
import glob
import os
import re
import subprocess

from vmtest import VMSCHED, VmschedCase

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "vmsched.8")

# What -Tlint says about the machine rather than the page: whether the
# manuals it refers to (sqlite3(1), systemd(1), syslog(3)) are installed.
ABOUT_THE_MACHINE = re.compile(r"referenced manual not found|mandoc\.db")


def sysexits():
    """{EX_NAME: number} from sysexits.h."""
    with open("/usr/include/sysexits.h") as f:
        return {m.group(1): int(m.group(2)) for m in
                re.finditer(r"#define\s+(EX_[A-Z]+)\s+(\d+)", f.read())}


class ManPage(VmschedCase):

    def setUp(self):
        super().setUp()
        with open(PAGE) as f:
            self.page = f.read()

    def test_lint_clean(self):
        proc = subprocess.run(["mandoc", "-Tlint", "-Wstyle", PAGE],
                              capture_output=True, text=True)
        said = [l for l in (proc.stdout + proc.stderr).splitlines()
                if l and not ABOUT_THE_MACHINE.search(l)]
        self.assertEqual(said, [])

    def test_reads(self):
        proc = subprocess.run(["mandoc", "-Tutf8", PAGE],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        text = re.sub(".\b", "", proc.stdout)
        self.assertIn("vmsched – boot-time scheduler", text)
        # No macro left as text.
        self.assertNotRegex(text, r"(^|\s)\.(Fl|Ar|Cm|It|Op|Ql)\b")

    def commands(self):
        out = self.ok("complete", "1", "vmsched", "").out.decode()
        return [l.split("\t")[0] for l in out.splitlines()]

    def test_every_command(self):
        commands = self.commands()
        self.assertGreater(len(commands), 25)
        for c in commands:
            with self.subTest(command=c):
                self.assertTrue(re.search(r"\n\.It Cm %s\b" % re.escape(c),
                                          self.page), c)

    def test_every_option(self):
        def options(*words):
            out = self.ok("complete", str(len(words) + 1), "vmsched",
                          *words, "--").out.decode()
            return [l.split("\t")[0] for l in out.splitlines()]
        seen = 0
        lists = [(c, options(c)) for c in self.commands()]
        lists += [("webhook set", options("webhook", "set", "URL")),
                  ("webhook show", options("webhook", "show")),
                  ("db prune", options("db", "prune")),
                  ("global", [l.split("\t")[0] for l in self.ok(
                      "complete", "1", "vmsched", "--").out.decode()
                      .splitlines()])]
        for cmd, opts in lists:
            for opt in opts:
                seen += 1
                with self.subTest(command=cmd, option=opt):
                    self.assertTrue(re.search(r"Fl \\-%s\b" %
                                              re.escape(opt[2:]), self.page),
                                    opt)
        self.assertGreater(seen, 60)

    def test_every_exit_code(self):
        codes = sysexits()
        used = set()
        for src in glob.glob(os.path.join(ROOT, "tools", "*.c")):
            with open(src) as f:
                used |= set(re.findall(r"\b(EX_[A-Z]+)\b", f.read()))
        used &= set(codes)
        self.assertIn("EX_USAGE", used)
        status = self.page.split(".Sh EXIT STATUS", 1)[1].split(".Sh", 1)[0]
        for name in sorted(used) + ["0", "1"]:
            n = codes.get(name, name)
            with self.subTest(code=name):
                self.assertRegex(status, r"\n\.It %s\n" % n)

    def test_every_environment_variable(self):
        names = {"NO_COLOR"}
        for src in glob.glob(os.path.join(ROOT, "*", "*.c")):
            if "/tests/" in src or "/bench/" in src:
                continue
            with open(src) as f:
                names |= set(re.findall(r'getenv\("([A-Z_]+)"\)', f.read()))
        self.assertIn("VMSCHED_DB", names)
        env = self.page.split(".Sh ENVIRONMENT", 1)[1].split(".Sh", 1)[0]
        for name in sorted(names):
            with self.subTest(variable=name):
                self.assertRegex(env, r"\n\.It .*Ev %s\b" % name)

    def test_files(self):
        files = self.page.split(".Sh FILES", 1)[1].split(".Sh", 1)[0]
        for path in ("/var/lib/vmsched/vmsched.db",
                     "$XDG_STATE_HOME/vmsched/vmsched.db",
                     "vmsched.db.lock"):
            self.assertIn(path, files)

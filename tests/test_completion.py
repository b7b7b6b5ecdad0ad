"""Shell completion, driven the way the shells drive it: bash's script
from `vmsched completion bash` is sourced, COMP_WORDS/COMP_CWORD are set as
bash sets them on a TAB and the function `complete -p` names is called;
zsh's script runs with words/CURRENT set and _describe/_files standing in
for the completion system. What they offer comes from the command table
(`vmsched complete`), so it is checked against `help` too."""
import os
import shlex
import subprocess

from vmtest import VMSCHED, VmschedCase


class Bash(VmschedCase):

    def setUp(self):
        super().setUp()
        self.script = os.path.join(self.dir, "vmsched.bash")
        with open(self.script, "wb") as f:
            f.write(self.ok("completion", "bash").out)

    def bash(self, code, cwd=None):
        proc = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                               "source %s\n%s" % (shlex.quote(self.script),
                                                  code)],
                              capture_output=True, env=self.env, cwd=cwd,
                              timeout=30)
        self.assertEqual(proc.returncode, 0, proc)
        self.assertEqual(proc.stderr, b"", proc)
        return proc.stdout.decode()

    def complete(self, *words, cwd=None):
        """What bash offers for the last of words (the word being typed;
        "" for a new one), as a list."""
        words = [VMSCHED] + list(words)
        out = self.bash("COMP_WORDS=(%s)\nCOMP_CWORD=%d\n"
                        "COMP_LINE=%s\nCOMP_POINT=${#COMP_LINE}\n"
                        "_vmsched vmsched\n"
                        "printf '%%s\\n' \"${COMPREPLY[@]}\"\n"
                        % (" ".join(shlex.quote(w) for w in words),
                           len(words) - 1, shlex.quote(" ".join(words))),
                        cwd=cwd)
        return [l for l in out.split("\n") if l]

    def test_registered(self):
        self.assertEqual(self.bash("complete -p vmsched").strip(),
                         "complete -F _vmsched vmsched")

    def test_commands(self):
        self.assertEqual(self.complete("st"), ["start", "stop", "status"])
        self.assertEqual(self.complete("exp"),
                         ["export-launchd", "export-systemd"])
        # Every command help lists, and not the hidden helper.
        listed = [l.split()[0] for l in
                  self.ok("help").out.decode().splitlines()
                  if l.startswith("  ")]
        offered = self.complete("")
        self.assertEqual(offered, listed)
        self.assertNotIn("complete", offered)
        self.assertIn("completion", offered)

    def test_global_options(self):
        self.assertEqual(self.complete("--"),
                         ["--db", "--json", "--help", "--version"])

    def test_options_per_command_match_help(self):
        """`help CMD` and completion read the same table."""
        for cmd in self.complete(""):
            out = self.ok("help", cmd).out.decode().splitlines()
            want = [[w for w in l.split() if w.startswith("--")][0]
                    for l in out if l.startswith("  -") and "(" not in l]
            with self.subTest(command=cmd):
                got = self.complete(cmd, "--") if want else []
                self.assertEqual(got, want)

    def test_options(self):
        self.assertEqual(self.complete("start", "--"),
                         ["--no-wait", "--timeout"])
        self.assertEqual(self.complete("set", "web", "--stop-"),
                         ["--stop-signal", "--stop-timeout", "--stop-cmd"])
        # issue 12: add's shortcuts, and the detached driver's words
        self.assertEqual(self.complete("add", "x", "--vmw"),
                         ["--vmware", "--vmware-vmx"])
        self.assertEqual(self.complete("add", "x", "--driver", ""),
                         ["exec", "detached"])
        self.assertIn("--restart", self.complete("add", "x", "--re"))
        self.assertEqual(self.complete("db", "prune", "--"),
                         ["--older-than"])
        self.assertEqual(self.complete("webhook", "set", "URL", "--"),
                         ["--secret", "--events", "--format"])
        self.assertEqual(self.complete("webhook", "show", "--"), ["--json"])

    def test_vm_names(self):
        for name in ("web", "web2", "db"):
            self.ok("add", name, "--", "/bin/true")
        self.assertEqual(self.complete("start", "w"), ["web", "web2"])
        self.assertEqual(self.complete("show", ""), ["db", "web", "web2"])
        # Names already on the line are not offered again.
        self.assertEqual(self.complete("stop", "web", ""), ["db", "web2"])
        # One NAME only.
        self.assertEqual(self.complete("show", "web", ""), [])
        # (web cannot start after itself)
        self.assertEqual(self.complete("set", "web", "--after", ""),
                         ["db", "web2"])
        self.assertEqual(self.complete("vmx-check", "--vm", "d"), ["db"])
        # --db on the line is the database asked.
        other = os.path.join(self.dir, "other.db")
        self.ok("--db", other, "add", "elsewhere", "--", "/bin/true")
        self.assertEqual(self.complete("--db", other, "start", ""),
                         ["elsewhere"])

    def test_no_database_is_created(self):
        missing = os.path.join(self.dir, "none", "x.db")
        self.assertEqual(self.complete("--db", missing, "start", ""), [])
        self.assertFalse(os.path.exists(os.path.dirname(missing)))
        self.assertFalse(os.path.exists(self.db))
        self.assertEqual(self.complete("start", ""), [])
        self.assertFalse(os.path.exists(self.db))

    def test_values(self):
        self.assertEqual(self.complete("add", "x", "--restart", ""),
                         ["always", "on-failure", "never"])
        # bash splits --restart=on at the '='.
        self.assertEqual(self.complete("set", "x", "--restart", "=", "o"),
                         ["on-failure"])
        self.assertEqual(self.complete("set", "x", "--stop-signal", "T"),
                         ["TRAP", "TERM", "TSTP", "TTIN", "TTOU"])
        self.assertEqual(self.complete("webhook", "set", "u", "--format",
                                       ""), ["json", "slack"])
        self.assertEqual(self.complete("webhook", "set", "u", "--events",
                                       "vm.failed,vm.b"),
                         ["vm.failed,vm.blocked"])
        self.assertEqual(self.complete("db", ""), ["migrate", "check",
                                                   "prune"])
        self.assertEqual(self.complete("webhook", ""),
                         ["set", "unset", "test", "show"])
        self.assertEqual(self.complete("completion", ""), ["bash", "zsh"])
        self.assertEqual(self.complete("help", "re"),
                         ["remove", "restart", "reset"])
        # A value that is anything offers nothing.
        self.assertEqual(self.complete("set", "x", "--order", ""), [])

    def test_files_users_programs(self):
        work = os.path.join(self.dir, "work")
        os.mkdir(work)
        for f in ("Test.vmx", "Two.vmx", "other"):
            open(os.path.join(work, f), "w").close()
        os.mkdir(os.path.join(work, "Tdir"))
        self.assertEqual(sorted(self.complete("vmx-check", "T", cwd=work)),
                         ["Tdir", "Test.vmx", "Two.vmx"])
        self.assertEqual(self.complete("import-launchd", "o", cwd=work),
                         ["other"])
        self.assertEqual(self.complete("add", "x", "--cwd", "T", cwd=work),
                         ["Tdir"])
        self.assertEqual(self.complete("--db", "Te", cwd=work),
                         ["Test.vmx"])
        self.assertIn("root", self.complete("add", "x", "--user", "roo"))
        # After "--": the program, then its arguments (files).
        self.assertIn("bash", self.complete("add", "x", "--", "bas"))
        self.assertEqual(self.complete("add", "x", "--", "qemu", "Tw",
                                       cwd=work), ["Two.vmx"])


class Zsh(VmschedCase):
    """zsh's script, with the completion system's functions replaced by
    ones that print what they were given."""

    FAKES = r"""
_describe() { local -a c; c=("${(@P)4}"); print -rl -- "D:"${^c} }
_files() { print -r -- "F:$*" }
_users() { print -r -- U }
_command_names() { print -r -- C }
compdef() { print -r -- "compdef $*" }
"""

    def zsh(self, code):
        script = os.path.join(self.dir, "_vmsched")
        with open(script, "wb") as f:
            f.write(self.ok("completion", "zsh").out)
        proc = subprocess.run(["zsh", "-f", "-c", self.FAKES +
                               "source %s\n%s" % (shlex.quote(script), code)],
                              capture_output=True, env=self.env, timeout=30)
        self.assertEqual(proc.returncode, 0, proc)
        self.assertEqual(proc.stderr, b"", proc)
        return proc.stdout.decode().splitlines()

    def complete(self, *words):
        words = [VMSCHED] + list(words)
        return self.zsh("words=(%s)\nCURRENT=%d\n_vmsched"
                        % (" ".join(shlex.quote(w) for w in words),
                           len(words)))

    def test_syntax_and_compdef(self):
        out = subprocess.run(["zsh", "-n", "-c",
                              self.ok("completion", "zsh").out.decode()],
                             capture_output=True)
        self.assertEqual(out.returncode, 0, out)
        self.assertEqual(self.zsh(""), ["compdef _vmsched vmsched"])
        self.assertTrue(self.ok("completion", "zsh").out.startswith(
            b"#compdef vmsched\n"))

    def test_candidates_with_descriptions(self):
        self.ok("add", "web", "--", "/bin/true")
        got = self.complete("st")
        self.assertEqual(got[0], "compdef _vmsched vmsched")
        self.assertEqual([l.split(":")[1] for l in got[1:]],
                         ["start", "stop", "status"])
        self.assertTrue(got[1].startswith("D:start:start VMs"))
        self.assertEqual(self.complete("start", "")[1:], ["D:web:stopped"])
        self.assertEqual(self.complete("set", "web", "--restart", "")[1:],
                         ["D:always", "D:on-failure", "D:never"])
        self.assertEqual(self.complete("vmx-check", "")[1:], ["F:"])
        self.assertEqual(self.complete("set", "web", "--cwd", "")[1:],
                         ["F:-/"])
        self.assertEqual(self.complete("add", "x", "--", "")[1:], ["C"])

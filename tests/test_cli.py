"""The admin commands on the real binary and a real SQLite file: every
option of add/set stored as typed or refused with exit 64, a
"vmsched: --option value: why" message and the database file unchanged
byte for byte; the other refusals (unknown option, missing --, empty
command, bad or duplicate name, unknown --after, cycle); strings that
survive add -> show --json exactly; list/show/log output for people and
the JSON keys DESIGN.md promises; write errors on stdout; twenty writers at
once; a newer database left alone; file modes; where the database is;
db migrate/check/prune; log --limit/--since; enable/disable; help."""
import json
import os
import re
import sqlite3
import stat
import subprocess
import time
import unittest

from vmtest import VMSCHED, VmschedCase

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LOCAL_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")

# DESIGN.md's keys.
LIST_KEYS = {"name", "state", "pid", "order", "restart", "restarts",
             "failures", "last_exit", "since"}
SHOW_KEYS = LIST_KEYS | {"argv", "after", "gates", "user", "cwd", "env",
                         "enabled", "stop_signal", "suspend_signal",
                         "wait_timeout_ms", "up_delay_ms", "stop_timeout_ms",
                         "backoff_initial_ms", "backoff_max_ms",
                         "backoff_reset_ms"}
RUN_KEYS = {"time", "vm", "kind", "started_at", "ended_at", "pid",
            "exit_code", "signal", "reason", "failures", "delay_ms", "rule"}
EVENT_KEYS = {"time", "vm", "kind", "event", "detail"}

# Every option of add/set in DESIGN.md (and --log-file): a valid value,
# the show --json key it lands in and the value found there.
VALID = [
    (["--order", "5"], "order", 5),
    (["--order", "-3"], "order", -3),
    (["--restart", "always"], "restart", "always"),
    (["--restart", "never"], "restart", "never"),
    (["--restart", "on-failure"], "restart", "on-failure"),
    (["--success-codes", "0,143"], "success_codes", [0, 143]),
    (["--success-codes", "3"], "success_codes", [3]),
    (["--wait-path", "/dev/vmmon"], "gates",
     [{"kind": "path", "arg": "/dev/vmmon"}]),
    (["--wait-cmd", "kextstat | grep -q 'vmmon'"], "gates",
     [{"kind": "cmd", "arg": "kextstat | grep -q 'vmmon'"}]),
    (["--wait-tcp", "[::1]:902"], "gates", [{"kind": "tcp", "arg": "[::1]:902"}]),
    (["--wait-path", "/a", "--wait-tcp", "h:1", "--wait-path", "/b",
      "--wait-cmd", "true"], "gates",
     [{"kind": "path", "arg": "/a"}, {"kind": "tcp", "arg": "h:1"},
      {"kind": "path", "arg": "/b"}, {"kind": "cmd", "arg": "true"}]),
    (["--wait-timeout", "90s"], "wait_timeout_ms", 90000),
    (["--wait-timeout", "5m"], "wait_timeout_ms", 300000),
    (["--up-delay", "1.5"], "up_delay_ms", 1500),
    (["--up-delay", "500ms"], "up_delay_ms", 500),
    (["--ready-tcp", "127.0.0.1:5900"], "ready_tcp", "127.0.0.1:5900"),
    (["--user", "nobody"], "user", "nobody"),
    (["--cwd", "/tmp"], "cwd", "/tmp"),
    (["--env", "K=V"], "env", {"K": "V"}),
    (["--env", "A=1", "--env", "B=2", "--env", "A=3"], "env",
     {"A": "3", "B": "2"}),
    (["--stop-signal", "INT"], "stop_signal", "INT"),
    (["--stop-signal", "SIGUSR1"], "stop_signal", "USR1"),
    (["--stop-signal", "10"], "stop_signal", "USR1"),
    (["--stop-signal", "sigkill"], "stop_signal", "KILL"),
    (["--suspend-signal", "TSTP"], "suspend_signal", "TSTP"),
    (["--suspend-signal", "SIGSTOP"], "suspend_signal", "STOP"),
    (["--stop-timeout", "500ms"], "stop_timeout_ms", 500),
    (["--stop-timeout", "0"], "stop_timeout_ms", 0),
    (["--backoff-initial", "2s"], "backoff_initial_ms", 2000),
    (["--backoff-factor", "1.5"], "backoff_factor", 1.5),
    (["--backoff-max", "2h"], "backoff_max_ms", 7200000),
    (["--backoff-reset", "30m"], "backoff_reset_ms", 1800000),
    (["--max-failures", "3"], "max_failures", 3),
    (["--disabled"], "enabled", False),
    (["--log-file", "/var/log/vm.log"], "log_path", "/var/log/vm.log"),
]

# Invalid values, per option.
INVALID = [
    ("--order", ["abc", "1.5", "", "99999999999", "5x"]),
    ("--after", ["bad name", "-x", ".hidden", "a" * 65]),
    ("--restart", ["sometimes", "ALWAYS", "", "on_failure"]),
    ("--success-codes", ["256", "a", "", "1,,2", "-1"]),
    ("--wait-path", ["relative/path", "dev"]),
    ("--wait-tcp", ["nohost", "h:0", "h:99999", "::1:80"]),
    ("--wait-timeout", ["5x", "-1", "5 m", "1e3", "abc", ""]),
    ("--up-delay", ["soon", "-2s"]),
    ("--ready-tcp", ["x", "h:"]),
    ("--user", ["no_such_user_vmsched"]),
    ("--cwd", ["rel", "./here"]),
    ("--env", ["NOEQUALS", "=v"]),
    ("--stop-signal", ["FOO", "0", "99", "SIG", ""]),
    ("--suspend-signal", ["BAR", "-1"]),
    ("--stop-timeout", ["x", "1y"]),
    ("--backoff-initial", ["x"]),
    ("--backoff-factor", ["0.5", "abc", "101", ""]),
    ("--backoff-max", ["x"]),
    ("--backoff-reset", ["x"]),
    ("--max-failures", ["-1", "x"]),
    ("--log-file", ["rel.log"]),
]

# Strings with quotes, spaces, newlines, non-ASCII.
ODD_ARGV = ["/bin/echo", "it's \"quoted\"", "two  spaces", "line1\nline2",
            "na\u00efve \u65e5\u672c\u8a9e \U0001F680", "", "\t", "$HOME",
            "*", "--", "-x", "--order", "back\\slash", " pad "]
ODD_ENV = {"QUOTE": "\"x\" 'y'", "NL": "a\nb", "UTF": "\u00fcn\u00ef",
           "EQ": "a=b", "EMPTY": "", "SP": "a b", "\u00c4K": "key"}


class CliCase(VmschedCase):
    """A database with one VM, "base", and helpers around it."""

    def setUp(self):
        super().setUp()
        self.add("base")

    def add(self, name, *opts, cmd=("/bin/true",), **kw):
        return self.ok("add", name, *opts, "--", *cmd, **kw)

    def show(self, name):
        return self.ok("show", "--json", name).json()

    def snapshot(self):
        """The database file's bytes and the directory's listing."""
        return self.db_bytes(), sorted(os.listdir(self.dir))

    def refused(self, code, *args, want=None, **kw):
        """args fails with code, a "vmsched: " message (containing want)
        and the database file unchanged."""
        before = self.snapshot()
        r = self.fails(code, *args, **kw)
        first = r.err.decode("utf-8", "replace").splitlines()[0]
        if want is not None:
            self.assertIn(want, first, r)
        self.assertEqual(self.snapshot(), before,
                         "vmsched %s changed the database" % (args,))
        return r

    def sql(self, query, *params):
        con = sqlite3.connect(self.db)
        try:
            rows = con.execute(query, params).fetchall()
            con.commit()
        finally:
            con.close()
        return rows

    def known_version(self):
        path = os.path.join(self.dir, "probe.db")
        self.ok("--db", path, "db", "migrate")
        version = sqlite3.connect(path).execute(
            "PRAGMA user_version").fetchone()[0]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
        return version


class AddSetOptions(CliCase):

    def test_every_option_stored_by_add(self):
        for i, (opts, key, want) in enumerate(VALID):
            with self.subTest(opts=opts):
                name = "v%d" % i
                self.add(name, *opts)
                self.assertEqual(self.show(name)[key], want)

    def test_every_option_stored_by_set(self):
        for i, (opts, key, want) in enumerate(VALID):
            with self.subTest(opts=opts):
                name = "s%d" % i
                # Start from values none of the cases uses.
                self.add(name, "--order", "77", "--restart",
                         "always" if want == "never" else "never",
                         "--success-codes", "9", "--wait-timeout", "1s",
                         "--env", "OLD=1", "--stop-signal", "HUP",
                         "--suspend-signal", "HUP", "--up-delay", "9s",
                         "--log-file", "/old.log")
                before = self.show(name)
                self.ok("set", name, *opts)
                after = self.show(name)
                self.assertEqual(after[key], want)
                self.assertNotEqual(before[key], after[key])
                log = self.ok("log", "--json", name).json()
                self.assertEqual(log[0]["event"], "vm.changed")
                self.assertIn(key if key != "log_path" else "log_path",
                              log[0]["detail"]["changes"])

    def test_after(self):
        self.add("a")
        self.add("b")
        self.add("c", "--after", "a", "--after", "b", "--after", "a")
        self.assertEqual(self.show("c")["after"], ["a", "b"])
        self.ok("set", "c", "--after", "b")
        self.assertEqual(self.show("c")["after"], ["b"])
        self.ok("set", "c", "--after", "")
        self.assertEqual(self.show("c")["after"], [])

    def test_set_replaces_lists_and_clears(self):
        self.add("x", "--env", "A=1", "--env", "B=2", "--wait-path", "/p",
                 "--wait-tcp", "h:1", "--user", "nobody", "--cwd", "/tmp",
                 "--ready-tcp", "h:2")
        self.ok("set", "x", "--env", "C=3")
        self.assertEqual(self.show("x")["env"], {"C": "3"})
        self.ok("set", "x", "--wait-path", "/q")
        self.assertEqual(self.show("x")["gates"],
                         [{"kind": "tcp", "arg": "h:1"},
                          {"kind": "path", "arg": "/q"}])
        self.ok("set", "x", "--env", "", "--user", "", "--cwd", "",
                "--ready-tcp", "", "--wait-tcp", "", "--wait-path", "")
        got = self.show("x")
        self.assertEqual(got["env"], {})
        self.assertEqual(got["gates"], [])
        self.assertIsNone(got["user"])
        self.assertIsNone(got["cwd"])
        self.assertIsNone(got["ready_tcp"])

    def test_set_same_value_logs_nothing(self):
        self.ok("set", "base", "--order", "100", "--restart", "on-failure")
        self.ok("set", "base", "--", "/bin/true")
        log = self.ok("log", "--json", "base").json()
        self.assertEqual([e["event"] for e in log], ["vm.defined"])
        self.ok("set", "base", "--order", "101")
        log = self.ok("log", "--json", "base").json()
        self.assertEqual([e["event"] for e in log],
                         ["vm.changed", "vm.defined"])
        self.assertEqual(log[0]["detail"]["changes"],
                         {"order": {"from": 100, "to": 101}})

    def test_set_command(self):
        self.add("x", "--order", "4", cmd=("/bin/sleep", "1"))
        self.ok("set", "x", "--", "/bin/sleep", "2", "--order", "9")
        got = self.show("x")
        self.assertEqual(got["argv"], ["/bin/sleep", "2", "--order", "9"])
        self.assertEqual(got["order"], 4)

    def test_defaults(self):
        got = self.show("base")
        self.assertEqual(got["order"], 100)
        self.assertEqual(got["restart"], "on-failure")
        self.assertEqual(got["success_codes"], [0])
        self.assertEqual(got["wait_timeout_ms"], 300000)
        self.assertEqual(got["up_delay_ms"], 0)
        self.assertEqual(got["stop_signal"], "TERM")
        self.assertEqual(got["suspend_signal"], "HUP")
        self.assertEqual(got["stop_timeout_ms"], 60000)
        self.assertEqual(got["backoff_initial_ms"], 1000)
        self.assertEqual(got["backoff_factor"], 2)
        self.assertEqual(got["backoff_max_ms"], 300000)
        self.assertEqual(got["backoff_reset_ms"], 600000)
        self.assertEqual(got["max_failures"], 10)
        self.assertIs(got["enabled"], True)
        self.assertEqual(got["state"], "stopped")

    def test_every_bad_value_refused(self):
        for opt, values in INVALID:
            for value in values:
                for cmd in ("add", "set"):
                    with self.subTest(cmd=cmd, opt=opt, value=value):
                        name = "new" if cmd == "add" else "base"
                        args = [cmd, name, opt, value]
                        if cmd == "add":
                            args += ["--", "/bin/true"]
                        r = self.refused(64, *args)
                        first = r.err.decode().splitlines()[0]
                        prefix = "vmsched: %s %s: " % (opt, value)
                        self.assertTrue(first.startswith(prefix), first)
                        self.assertGreater(len(first), len(prefix), first)
        self.assertEqual([v["name"] for v in
                          self.ok("list", "--json").json()], ["base"])

    def test_bad_value_creates_nothing(self):
        path = os.path.join(self.dir, "sub", "none.db")
        r = self.fails(64, "--db", path, "add", "x", "--order", "x", "--",
                       "/bin/true")
        self.assertFalse(os.path.exists(os.path.dirname(path)), r)

    def test_missing_value(self):
        for opt in ("--order", "--env", "--wait-cmd", "--user"):
            with self.subTest(opt=opt):
                r = self.refused(64, "add", "new", opt)
                self.assertIn("needs a value", r.err.decode())

    def test_backoff_initial_over_max(self):
        r = self.refused(64, "add", "new", "--backoff-initial", "10m",
                         "--", "/bin/true")
        self.assertIn("--backoff-initial", r.err.decode())
        self.refused(64, "set", "base", "--backoff-max", "500ms",
                     want="--backoff-max")


class Refusals(CliCase):

    def test_unknown_option(self):
        self.refused(64, "add", "new", "--bogus", "1", "--", "/bin/true",
                     want="--bogus")
        self.refused(64, "set", "base", "--bogus", want="--bogus")
        self.refused(64, "list", "--bogus", want="--bogus")
        self.refused(64, "--bogus", "list", want="--bogus")

    def test_abbreviated_options_refused(self):
        # getopt_long would take --disable for --disabled, --for for --force
        self.refused(64, "add", "new", "--disable", "--", "/bin/true",
                     want="unknown option --disable")
        self.refused(64, "remove", "base", "--for",
                     want="unknown option --for")
        self.refused(64, "set", "base", "--ord=5", want="--ord")
        # a value that looks like an option is still a value
        self.refused(64, "set", "base", "--cwd", "--weird",
                     want="must be an absolute path")

    def test_missing_dashdash(self):
        self.refused(64, "add", "new", "/bin/true", want="--")
        self.refused(64, "add", "new", "--order", "5", want="--")
        self.refused(64, "add", "new", want="--")
        self.refused(64, "set", "base", "/bin/true", want="--")

    def test_empty_command(self):
        self.refused(64, "add", "new", "--", want="empty command")
        self.refused(64, "add", "new", "--order", "5", "--", "",
                     want="empty command")
        self.refused(64, "set", "base", "--", want="empty command")
        self.refused(64, "set", "base", "--", "", "x", want="empty command")

    def test_bad_names(self):
        for name in ("bad name", ".hidden", "a/b", "caf\u00e9", "a" * 65,
                     "", "x\ny", "a:b"):
            with self.subTest(name=name):
                self.refused(64, "add", name, "--", "/bin/true",
                             want="name")
        self.add("a" * 64)
        self.add("Web_01.prod-x")

    def test_name_missing_or_an_option(self):
        self.refused(64, "add")
        self.refused(64, "add", "-x", "--", "/bin/true")
        self.refused(64, "add", "--order", "5", "x", "--", "/bin/true")
        self.refused(64, "set")

    def test_duplicate_name(self):
        self.refused(64, "add", "base", "--order", "1", "--", "/bin/false",
                     want="base")
        self.assertEqual(self.show("base")["order"], 100)

    def test_unknown_user(self):
        self.refused(64, "add", "new", "--user", "nobody_here_x", "--",
                     "/bin/true", want="--user nobody_here_x: no such user")

    def test_unknown_after(self):
        self.refused(66, "add", "new", "--after", "ghost", "--", "/bin/true",
                     want="ghost")
        self.refused(66, "set", "base", "--after", "ghost", want="ghost")

    def test_cycle(self):
        self.add("a")
        self.add("b", "--after", "a")
        r = self.refused(64, "set", "a", "--after", "b")
        self.assertIn("a -> b -> a", r.err.decode())
        self.add("c", "--after", "b")
        r = self.refused(64, "set", "a", "--after", "c")
        self.assertIn("a -> c -> b -> a", r.err.decode())
        self.refused(64, "set", "a", "--after", "a", want="a")
        self.assertEqual(self.show("a")["after"], [])

    def test_set_unknown_vm(self):
        self.refused(66, "set", "ghost", "--order", "1", want="ghost")

    def test_set_nothing(self):
        self.refused(64, "set", "base", want="nothing to change")

    def test_other_unknown_vm(self):
        for args in (["show", "ghost"], ["remove", "ghost"],
                     ["enable", "ghost"], ["disable", "ghost"],
                     ["log", "ghost"]):
            with self.subTest(args=args):
                self.refused(66, *args, want="ghost")

    def test_unknown_command(self):
        self.refused(64, "frobnicate", want="frobnicate")
        self.refused(64, "lis", want="lis")


class RoundTrip(CliCase):

    def test_odd_strings_survive(self):
        env_args = []
        for k, v in ODD_ENV.items():
            env_args += ["--env", "%s=%s" % (k, v)]
        cwd = "/tmp/My VMs/\u00fc 'q'"
        wait = "test -e \"/tmp/a b\" && echo '\u2713'\n"
        self.add("odd", *env_args, "--cwd", cwd, "--wait-cmd", wait,
                 cmd=ODD_ARGV)
        got = self.show("odd")
        self.assertEqual(got["argv"], ODD_ARGV)
        self.assertEqual(got["env"], ODD_ENV)
        self.assertEqual(got["cwd"], cwd)
        self.assertEqual(got["gates"], [{"kind": "cmd", "arg": wait}])
        # The same through list and log, and set leaves them alone.
        self.ok("set", "odd", "--order", "3")
        got = self.show("odd")
        self.assertEqual(got["argv"], ODD_ARGV)
        self.assertEqual(got["env"], ODD_ENV)
        log = self.ok("log", "--json", "odd").json()
        self.assertEqual(log[-1]["detail"]["definition"]["argv"], ODD_ARGV)
        # Human output quotes them on one line each.
        out = self.ok("show", "odd").out.decode()
        cmdline = [l for l in out.splitlines() if l.startswith("command")]
        self.assertEqual(len(cmdline), 1)
        self.assertIn("$'line1\\x0aline2'", cmdline[0])

    def test_non_utf8_bytes_refused(self):
        # Issue 10: vmsched's text is UTF-8; bytes that are not would break
        # --json and plists, so they are refused where they come in.
        before = self.db_bytes()
        for args in ([b"--env", b"K=\xe9t\xe9", "--", "/bin/echo"],
                     ["--", "/bin/echo", b"raw\xff\xfebytes"]):
            r = subprocess.run([VMSCHED, "add", "raw"] + args, env=self.env,
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 64, r)
            self.assertIn(b"not valid UTF-8", r.stderr)
        self.assertEqual(self.db_bytes(), before)

    def test_json_everywhere_is_valid(self):
        self.add("odd", "--env", "Q=\"\\\n", cmd=ODD_ARGV)
        for args in (["list", "--json"], ["show", "--json", "odd"],
                     ["log", "--json"], ["--json", "list"],
                     ["--json", "show", "odd"], ["--json", "log", "odd"]):
            with self.subTest(args=args):
                json.loads(self.ok(*args).out)


class Output(CliCase):

    def seed_run(self, vm, started, ended, code=None, sig=None,
                 reason="exited", detail=None, rule=None, failures=0,
                 delay=None, pid=4242):
        self.sql("INSERT INTO run (vm, started_at, ended_at, pid, exit_code, "
                 "signal, reason, detail, rule, failures, delay_ms) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", vm, started,
                 ended, pid, code, sig, reason, detail, rule, failures, delay)
        # as the daemon does when it closes a run
        self.sql("UPDATE vm_state SET last_run_id = (SELECT r.id FROM run r "
                 "WHERE r.vm = ? AND r.ended_at IS NOT NULL ORDER BY "
                 "r.started_at DESC LIMIT 1) WHERE vm_id = (SELECT id FROM "
                 "vm WHERE name = ?)", vm, vm)

    def test_list_table_aligned(self):
        self.add("a-much-longer-name", "--order", "5", "--restart", "always")
        self.add("z", "--order", "1000")
        self.add("m", "--disabled")
        lines = self.ok("list").out.decode().splitlines()
        head = lines[0]
        titles = ["NAME", "ORDER", "RESTART", "STATE", "PID", "RESTARTS",
                  "LAST EXIT", "UPTIME"]
        pos = [head.index(t) for t in titles]
        self.assertEqual(pos, sorted(pos))
        self.assertEqual(pos[0], 0)
        rows = [l.split() for l in lines[1:]]
        self.assertEqual([r[0] for r in rows],
                         ["a-much-longer-name", "base", "m", "z"])
        for line in lines[1:]:
            for p in pos[1:]:
                self.assertEqual(line[p - 2:p], "  ", line)
                self.assertNotEqual(line[p], " ", line)
        by_name = {r[0]: r for r in rows}
        self.assertEqual(by_name["a-much-longer-name"][1:4],
                         ["5", "always", "stopped"])
        self.assertEqual(by_name["m"][3], "disabled")
        self.assertEqual(by_name["z"][1], "1000")

    def test_list_json_shape(self):
        now = int(time.time() * 1000)
        self.add("crashy")
        self.seed_run("crashy", now - 5000, now - 4000, code=3)
        self.seed_run("crashy", now - 3000, now - 2000, sig=9,
                      reason="crashed")
        self.seed_run("base", now - 3000, now - 1000, code=3)
        rows = self.ok("list", "--json").json()
        self.assertIsInstance(rows, list)
        self.assertEqual([r["name"] for r in rows], ["base", "crashy"])
        for r in rows:
            self.assertLessEqual(LIST_KEYS, set(r), r)
            self.assertIsNone(r["pid"])
            self.assertEqual(r["state"], "stopped")
            self.assertEqual((r["order"], r["restart"], r["restarts"],
                              r["failures"]), (100, "on-failure", 0, 0))
            self.assertRegex(r["since"], RFC3339)
        base, crashy = rows
        self.assertEqual(base["last_exit"]["code"], 3)
        self.assertIsNone(base["last_exit"]["signal"])
        self.assertEqual(base["last_exit"]["reason"], "exited")
        self.assertRegex(base["last_exit"]["at"], RFC3339)
        self.assertEqual(crashy["last_exit"]["signal"], "KILL")
        self.assertEqual(crashy["last_exit"]["reason"], "crashed")
        self.add("never-ran")
        fresh = [r for r in self.ok("list", "--json").json()
                 if r["name"] == "never-ran"][0]
        self.assertIsNone(fresh["last_exit"])
        # The human table says the same.
        lines = self.ok("list").out.decode().splitlines()
        self.assertIn("crashed KILL", [l for l in lines
                                       if l.startswith("crashy")][0])
        self.assertIn("exited 3", [l for l in lines
                                   if l.startswith("base")][0])

    def test_list_empty(self):
        self.ok("remove", "base")
        self.assertEqual(self.ok("list", "--json").json(), [])
        self.assertEqual(self.ok("list").out.decode().splitlines()[0].split(),
                         ["NAME", "ORDER", "RESTART", "STATE", "PID",
                          "RESTARTS", "LAST", "EXIT", "UPTIME"])

    def test_show_json_shape(self):
        self.add("a")
        self.add("x", "--after", "a", "--wait-path", "/p", "--env", "K=V",
                 "--user", "nobody", "--cwd", "/tmp")
        got = self.show("x")
        self.assertLessEqual(SHOW_KEYS, set(got), set(got) ^ SHOW_KEYS)
        self.assertEqual(got["name"], "x")
        self.assertEqual(got["argv"], ["/bin/true"])
        self.assertEqual(got["after"], ["a"])
        self.assertEqual(got["gates"], [{"kind": "path", "arg": "/p"}])
        self.assertEqual(got["env"], {"K": "V"})
        self.assertEqual(got["user"], "nobody")
        self.assertIs(got["enabled"], True)
        for k in SHOW_KEYS:
            if k.endswith("_ms"):
                self.assertIsInstance(got[k], int, k)
        self.assertRegex(got["since"], RFC3339)
        # --json before the command means the same.
        self.assertEqual(self.ok("--json", "show", "x").json(), got)

    def test_show_human(self):
        self.add("x", "--order", "7", "--stop-timeout", "192s",
                 "--up-delay", "450ms", cmd=("/bin/echo", "a b"))
        out = self.ok("show", "x").out.decode()
        fields = {}
        for line in out.splitlines():
            key, _, value = line.partition(" ")
            if key:
                fields[key] = value.strip()
        self.assertEqual(fields["name"], "x")
        self.assertEqual(fields["state"], "stopped")
        self.assertEqual(fields["command"], "/bin/echo 'a b'")
        self.assertEqual(fields["order"], "7")
        self.assertEqual(fields["restart"], "on-failure")
        self.assertEqual(fields["stop-timeout"], "3m12s")
        self.assertEqual(fields["up-delay"], "450ms")
        self.assertEqual(fields["wait-timeout"], "5m0s")
        self.assertEqual(fields["stop-signal"], "TERM")
        self.assertEqual(fields["suspend-signal"], "HUP")
        self.assertEqual(fields["enabled"], "yes")
        self.assertRegex(fields["since"], LOCAL_TIME)

    def test_log_shapes(self):
        now = int(time.time() * 1000)
        self.sql("UPDATE event SET time = ?", now - 120000)
        self.seed_run("base", now - 60000, now - 30000, code=1,
                      rule="on-failure: exit 1 is a failure", failures=1,
                      delay=2000, detail="boom")
        self.ok("set", "base", "--order", "5")
        rows = self.ok("log", "--json").json()
        self.assertIsInstance(rows, list)
        kinds = [r["kind"] for r in rows]
        self.assertEqual(kinds, ["event", "run", "event"])
        for r in rows:
            self.assertRegex(r["time"], RFC3339)
            self.assertEqual(r["vm"], "base")
        changed, run, defined = rows
        self.assertLessEqual(EVENT_KEYS, set(changed))
        self.assertEqual(changed["event"], "vm.changed")
        self.assertEqual(changed["detail"]["changes"]["order"],
                         {"from": 100, "to": 5})
        self.assertEqual(changed["detail"]["uid"], os.getuid())
        self.assertEqual(defined["event"], "vm.defined")
        self.assertLessEqual(RUN_KEYS, set(run))
        self.assertEqual((run["pid"], run["exit_code"], run["signal"],
                          run["reason"], run["failures"], run["delay_ms"],
                          run["rule"]),
                         (4242, 1, None, "exited", 1, 2000,
                          "on-failure: exit 1 is a failure"))
        self.assertRegex(run["started_at"], RFC3339)
        self.assertRegex(run["ended_at"], RFC3339)
        # The table: newest first, local times, who did what.
        lines = self.ok("log").out.decode().splitlines()
        self.assertEqual(lines[0].split(), ["TIME", "VM", "WHAT"])
        self.assertEqual(len(lines), 4)
        for line in lines[1:]:
            self.assertRegex(line, LOCAL_TIME)
        self.assertIn("vm.changed by uid %d" % os.getuid(), lines[1])
        self.assertIn("exited 1", lines[2])
        self.assertIn("boom", lines[2])
        self.assertIn("after 30s", lines[2])
        self.assertIn("restart in 2s", lines[2])
        self.assertIn("vm.defined by uid %d" % os.getuid(), lines[3])

    def test_log_long_detail(self):
        """A run whose detail is longer than a table cell still prints."""
        now = int(time.time() * 1000)
        self.seed_run("base", now - 2000, now - 1000, code=1,
                      detail="x" * 5000, rule="r" * 3000, delay=1000)
        r = self.ok("log", "base")
        self.assertIn("xxxx", r.out.decode())
        self.assertEqual(r.err, b"")

    def test_stdout_write_error(self):
        for args in (["list"], ["list", "--json"], ["show", "base"],
                     ["show", "--json", "base"], ["log"], ["help"]):
            with self.subTest(args=args):
                with open("/dev/full", "w") as full:
                    r = self.run_vmsched(*args, stdin=subprocess.DEVNULL)
                    proc = subprocess.run([VMSCHED] + args, stdout=full,
                                          stderr=subprocess.PIPE,
                                          env=self.env, timeout=30)
                self.assertEqual(r.rc, 0)
                self.assertNotEqual(proc.returncode, 0)
                self.assertTrue(proc.stderr.startswith(b"vmsched: "),
                                proc.stderr)


class Concurrency(VmschedCase):

    def test_twenty_adds_at_once(self):
        path = os.path.join(self.dir, "fresh", "vmsched.db")
        env = dict(self.env, VMSCHED_DB=path)
        procs = [subprocess.Popen([VMSCHED, "add", "vm%02d" % i, "--order",
                                   str(i), "--", "/bin/sleep", str(i)],
                                  env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
                 for i in range(20)]
        for i, p in enumerate(procs):
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, "add vm%02d: %r" % (i, err))
            self.assertEqual(err, b"")
        r = self.ok("db", "check", env=env)
        self.assertIn(b"ok", r.out)
        rows = self.ok("list", "--json", env=env).json()
        self.assertEqual([r["name"] for r in rows],
                         ["vm%02d" % i for i in range(20)])
        log = self.ok("log", "--json", "--limit", "100", env=env).json()
        self.assertEqual(sorted(r["vm"] for r in log
                                if r.get("event") == "vm.defined"),
                         ["vm%02d" % i for i in range(20)])


class Database(CliCase):

    def test_newer_database_refused(self):
        newer = self.known_version() + 1
        self.sql("PRAGMA user_version = %d" % newer)
        for args in (["list"], ["list", "--json"], ["show", "base"],
                     ["add", "x", "--", "/bin/true"],
                     ["set", "base", "--order", "1"], ["remove", "base"],
                     ["log"], ["enable", "base"], ["db", "migrate"],
                     ["db", "check"], ["db", "prune", "--older-than", "1"]):
            with self.subTest(args=args):
                r = self.refused(65, *args)
                msg = r.err.decode()
                self.assertRegex(msg, r"\b%d\b" % newer)
                self.assertRegex(msg, r"\b%d\b" % (newer - 1))
                self.assertFalse(os.path.exists(self.db + "-wal"))
                self.assertFalse(os.path.exists(self.db + "-shm"))
        self.assertEqual(self.sql("PRAGMA user_version")[0][0], newer)

    def test_modes(self):
        path = os.path.join(self.dir, "a", "b", "vmsched.db")
        r = subprocess.run([VMSCHED, "--db", path, "add", "x", "--",
                            "/bin/true"], env=self.env, capture_output=True,
                           preexec_fn=lambda: os.umask(0))
        self.assertEqual(r.returncode, 0, r)
        for d in (os.path.join(self.dir, "a"), os.path.dirname(path)):
            self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700, d)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.db).st_mode), 0o600)

    def test_db_option_beats_environment(self):
        other = os.path.join(self.dir, "other.db")
        self.ok("--db", other, "add", "only-other", "--", "/bin/true")
        names = [r["name"] for r in
                 self.ok("--db", other, "list", "--json").json()]
        self.assertEqual(names, ["only-other"])
        names = [r["name"] for r in self.ok("list", "--json").json()]
        self.assertEqual(names, ["base"])
        # VMSCHED_DB alone picks the file.
        env = dict(self.env, VMSCHED_DB=other)
        names = [r["name"] for r in self.ok("list", "--json",
                                            env=env).json()]
        self.assertEqual(names, ["only-other"])

    def run_as_nobody(self, env, *args):
        kw = {}
        if os.geteuid() == 0:
            kw = dict(user=65534, group=65534, extra_groups=[])
        return subprocess.run([VMSCHED] + list(args), env=env,
                              capture_output=True, timeout=30, **kw)

    def test_default_path(self):
        """Without --db or VMSCHED_DB: $XDG_STATE_HOME/vmsched, else
        ~/.local/state/vmsched (tested as a user: root's is /var/lib)."""
        home = os.path.join(self.dir, "home")
        os.mkdir(home)
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            os.chown(home, 65534, 65534)
        env = {k: v for k, v in self.env.items()
               if k not in ("VMSCHED_DB", "XDG_STATE_HOME")}
        env["HOME"] = home
        r = self.run_as_nobody(env, "add", "h", "--", "/bin/true")
        self.assertEqual(r.returncode, 0, r)
        db = os.path.join(home, ".local", "state", "vmsched", "vmsched.db")
        self.assertTrue(os.path.exists(db))
        # The audit event names who made the change.
        r = self.run_as_nobody(env, "log", "--json", "h")
        uid = 65534 if os.geteuid() == 0 else os.getuid()
        self.assertEqual([(e["event"], e["uid"], e["detail"]["uid"])
                          for e in json.loads(r.stdout)],
                         [("vm.defined", uid, uid)])
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(db)).st_mode),
                         0o700)
        env["XDG_STATE_HOME"] = os.path.join(home, "xdg")
        r = self.run_as_nobody(env, "add", "x", "--", "/bin/true")
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(os.path.exists(os.path.join(home, "xdg", "vmsched",
                                                    "vmsched.db")))
        # An empty VMSCHED_DB counts as unset.
        env["VMSCHED_DB"] = ""
        r = self.run_as_nobody(env, "list", "--json")
        self.assertEqual([v["name"] for v in json.loads(r.stdout)], ["x"])
        # VMSCHED_DB beats the default, --db beats both.
        env["VMSCHED_DB"] = db
        r = self.run_as_nobody(env, "list", "--json")
        self.assertEqual([v["name"] for v in json.loads(r.stdout)], ["h"])
        r = self.run_as_nobody(env, "--db", self.db, "list", "--json")
        self.assertNotEqual(r.returncode, 0)   # root's 0600 file
        self.assertTrue(r.stderr.startswith(b"vmsched: "), r)

    def test_no_home(self):
        """A user without HOME (and no --db) has nowhere to keep it."""
        env = {k: v for k, v in self.env.items()
               if k not in ("VMSCHED_DB", "XDG_STATE_HOME", "HOME")}
        r = self.run_as_nobody(env, "list")
        self.assertEqual(r.returncode, 73, r)
        self.assertTrue(r.stderr.startswith(b"vmsched: "), r)

    def test_migrate_and_check(self):
        path = os.path.join(self.dir, "old.db")
        open(path, "wb").close()        # schema version 0
        os.chmod(path, 0o600)
        version = self.known_version()
        r = self.run_vmsched("--db", path, "db", "check")
        self.assertEqual(r.rc, 65, r)
        self.assertIn(b"schema version 0", r.err)
        r = self.ok("--db", path, "db", "migrate")
        self.assertIn(("schema version %d (%d migration"
                       % (version, version)).encode(), r.out)
        r = self.ok("--db", path, "db", "migrate")
        self.assertIn(b"(0 migrations applied)", r.out)
        r = self.ok("--db", path, "db", "check")
        self.assertIn(("ok, schema version %d" % version).encode(), r.out)
        self.assertEqual(sqlite3.connect(path).execute(
            "PRAGMA user_version").fetchone()[0], version)
        self.ok("db", "check")

    def test_check_finds_damage(self):
        self.sql("INSERT INTO vm_after (vm_id, after_id) VALUES "
                 "((SELECT id FROM vm WHERE name = 'base'), 999)")
        r = self.fails(65, "db", "check")
        self.assertIn(b"foreign key", r.err)

    def test_db_usage(self):
        self.refused(64, "db")
        self.refused(64, "db", "frob")
        self.refused(64, "db", "check", "extra")
        self.refused(64, "db", "prune")
        self.refused(64, "db", "prune", "--older-than", "x",
                     want="--older-than x")
        self.refused(64, "db", "prune", "--older-than", "-1")
        self.refused(64, "db", "prune", "--older-than", "3", "extra")

    def test_prune(self):
        day = 86400000
        now = int(time.time() * 1000)
        for vm, started, ended in (("base", now - 50 * day, now - 40 * day),
                                   ("base", now - 50 * day, now - 20 * day),
                                   ("gone", now - 50 * day, now - 45 * day),
                                   ("base", now - 50 * day, None)):
            self.sql("INSERT INTO run (vm, started_at, ended_at, reason) "
                     "VALUES (?, ?, ?, ?)", vm, started, ended,
                     "exited" if ended else None)
        for t, status in ((now - 40 * day, "none"),
                          (now - 40 * day, "delivered"),
                          (now - 40 * day, "pending"),
                          (now - 20 * day, "none")):
            self.sql("INSERT INTO event (time, event, vm, status) VALUES "
                     "(?, 'vm.exited', 'base', ?)", t, status)
        r = self.ok("db", "prune", "--older-than", "30")
        self.assertIn(b"pruned 2 runs and 2 events", r.out)
        self.assertEqual(self.sql("SELECT count(*) FROM run")[0][0], 2)
        self.assertEqual(self.sql("SELECT count(*) FROM run WHERE ended_at "
                                  "IS NULL")[0][0], 1)
        self.assertEqual(sorted(s for (s,) in self.sql(
            "SELECT status FROM event WHERE event = 'vm.exited'")),
            ["none", "pending"])
        # The definition's own audit event is recent: kept.
        self.assertEqual(self.sql("SELECT count(*) FROM event WHERE event = "
                                  "'vm.defined'")[0][0], 1)
        r = self.ok("db", "prune", "--older-than", "30")
        self.assertIn(b"pruned 0 runs and 0 events", r.out)


class LogOptions(CliCase):

    def setUp(self):
        super().setUp()
        self.now = int(time.time() * 1000)
        self.add("other")
        self.sql("DELETE FROM event")
        for minutes in (180, 120, 60, 10):
            self.sql("INSERT INTO event (time, event, vm, detail) VALUES "
                     "(?, 'vm.up', 'base', ?)",
                     self.now - minutes * 60000,
                     json.dumps({"minutes": minutes}))
        self.sql("INSERT INTO event (time, event, vm, detail) VALUES "
                 "(?, 'vm.up', 'other', '{\"minutes\": 5}')",
                 self.now - 5 * 60000)

    def minutes(self, *args):
        return [r["detail"]["minutes"]
                for r in self.ok("log", "--json", *args).json()]

    def test_all_newest_first(self):
        self.assertEqual(self.minutes(), [5, 10, 60, 120, 180])
        self.assertEqual(self.minutes("base"), [10, 60, 120, 180])
        self.assertEqual(self.minutes("other"), [5])

    def test_limit(self):
        self.assertEqual(self.minutes("--limit", "2"), [5, 10])
        self.assertEqual(self.minutes("base", "--limit", "1"), [10])
        self.assertEqual(self.minutes("--limit", "1", "base"), [10])
        lines = self.ok("log", "--limit", "3").out.decode().splitlines()
        self.assertEqual(len(lines), 4)

    def test_since(self):
        self.assertEqual(self.minutes("--since", "90m"), [5, 10, 60])
        self.assertEqual(self.minutes("base", "--since", "2.5h"),
                         [10, 60, 120])
        t = (self.now - 150 * 60000) / 1000
        date = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t))
        self.assertEqual(self.minutes("--since", date), [5, 10, 60, 120])
        self.assertEqual(self.minutes("--since", "1m"), [])
        self.assertEqual(self.minutes("--since", "2h", "--limit", "2"),
                         [5, 10])

    def test_bad_options(self):
        for args, want in ((["--limit", "0"], "--limit 0: "),
                           (["--limit", "x"], "--limit x: "),
                           (["--since", "yesterday"], "--since yesterday: "),
                           (["--since", "2026-02-30"], "--since 2026-02-30: "),
                           (["a", "b"], None), (["--bogus"], "--bogus")):
            with self.subTest(args=args):
                self.refused(64, "log", *args, want=want)


class EnableDisable(CliCase):

    def test_disable_enable(self):
        self.ok("disable", "base")
        got = self.show("base")
        self.assertIs(got["enabled"], False)
        self.assertEqual(got["state"], "disabled")
        log = self.ok("log", "--json", "base").json()
        self.assertEqual(log[0]["event"], "vm.changed")
        self.assertEqual(log[0]["detail"]["changes"],
                         {"enabled": {"from": True, "to": False}})
        # Again: nothing changes, nothing is logged.
        self.ok("disable", "base")
        self.assertEqual(len(self.ok("log", "--json", "base").json()), 2)
        self.ok("enable", "base")
        got = self.show("base")
        self.assertIs(got["enabled"], True)
        self.assertEqual(got["state"], "stopped")
        self.assertEqual(len(self.ok("log", "--json", "base").json()), 3)

    def test_several(self):
        self.add("a")
        self.add("b")
        self.ok("disable", "a", "b")
        self.assertEqual({r["name"]: r["state"] for r in
                          self.ok("list", "--json").json()},
                         {"a": "disabled", "b": "disabled",
                          "base": "stopped"})

    def test_usage(self):
        self.refused(64, "enable")
        self.refused(64, "disable")


class Remove(CliCase):

    def test_keeps_history(self):
        now = int(time.time() * 1000)
        self.sql("INSERT INTO run (vm, started_at, ended_at, pid, exit_code, "
                 "reason) VALUES ('base', ?, ?, 77, 0, 'exited')",
                 now - 5000, now - 4000)
        self.ok("remove", "base")
        self.fails(66, "show", "base")
        self.assertEqual(self.ok("list", "--json").json(), [])
        log = self.ok("log", "--json", "base").json()
        self.assertEqual([r.get("event", r["kind"]) for r in log],
                         ["vm.removed", "vm.defined", "run"])
        self.assertEqual(log[0]["detail"]["uid"], os.getuid())
        self.assertEqual(log[0]["detail"]["definition"]["argv"],
                         ["/bin/true"])
        out = self.ok("log", "base").out.decode()
        self.assertIn("vm.removed", out)
        self.assertIn("pid 77", out)

    def test_refused_with_dependents(self):
        self.add("child", "--after", "base")
        r = self.refused(64, "remove", "base")
        self.assertIn("child", r.err.decode())
        self.ok("remove", "child")
        self.ok("remove", "base")

    def test_usage(self):
        self.refused(64, "remove")
        self.refused(64, "remove", "base", "extra")


class Help(CliCase):

    COMMANDS = ["add", "set", "remove", "list", "show", "log", "enable",
                "disable", "db", "help"]

    def test_help_lists_commands(self):
        for args in (["help"], ["--help"]):
            out = self.ok(*args).out.decode()
            self.assertIn("usage: vmsched", out)
            listed = [l.split()[0] for l in out.splitlines()
                      if l.startswith("  ")]
            for c in self.COMMANDS:
                self.assertIn(c, listed)

    def test_per_command_usage(self):
        for c in self.COMMANDS:
            with self.subTest(command=c):
                out = self.ok("help", c).out.decode()
                self.assertTrue(out.startswith("usage: vmsched %s" % c), out)
        out = self.ok("help", "add").out.decode()
        self.assertIn("-- CMD", out)
        self.refused(64, "help", "nosuch", want="nosuch")

    def test_usage_on_bad_operands(self):
        for args, c in ((["show"], "show"), (["show", "a", "b"], "show"),
                        (["list", "extra"], "list"), (["add"], "add")):
            with self.subTest(args=args):
                r = self.refused(64, *args)
                self.assertIn(("usage: vmsched %s" % c).encode(), r.err)

    def test_version(self):
        self.assertRegex(self.ok("--version").out.decode(),
                         r"^vmsched \d+\.\d+")


if __name__ == "__main__":
    unittest.main()

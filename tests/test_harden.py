"""Issue 10, outside the daemon's spawn path: inputs that cannot crash or
stall vmsched, a database no other user can read or change, text that
stays valid in every format it is printed in, and messages that say what
failed and why. Each test drives the real binary as root, and as the real
unprivileged user nobody where the case is about another user."""
import json
import os
import plistlib
import pwd
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from vmtest import VMSCHED, VmschedCase, fill_fs

NOBODY = pwd.getpwnam("nobody")
FAST = 1.0      # seconds a hostile plist may take to be refused


def bplist(objects, root=0, ref=4):
    """A binary plist of encoded objects (object i at index i), with
    4-byte references and offsets."""
    out = bytearray(b"bplist00")
    offsets = []
    for o in objects:
        offsets.append(len(out))
        out += o
    table = len(out)
    for x in offsets:
        out += x.to_bytes(4, "big")
    out += bytes(6) + bytes([4, ref]) + len(objects).to_bytes(8, "big")
    out += root.to_bytes(8, "big") + table.to_bytes(8, "big")
    return bytes(out)


def marker(kind, n):
    if n < 15:
        return bytes([kind << 4 | n])
    return bytes([kind << 4 | 0xF, 0x13]) + n.to_bytes(8, "big")


def b_ascii(s):
    return marker(0x5, len(s)) + s


def b_utf16(units):
    return marker(0x6, len(units)) + b"".join(u.to_bytes(2, "big")
                                              for u in units)


def b_array(refs):
    return marker(0xA, len(refs)) + b"".join(r.to_bytes(4, "big")
                                             for r in refs)


def b_dict(keys, values):
    return marker(0xD, len(keys)) + b"".join(r.to_bytes(4, "big")
                                             for r in keys + values)


def b_job(label=b"x", program=b"/bin/x", extra=()):
    """A launchd job as a binary plist: Label, Program, then extra
    (key, encoded value) pairs."""
    objects = [None, b_ascii(b"Label"), b_ascii(label), b_ascii(b"Program"),
               b_ascii(program)]
    keys, values = [1, 3], [2, 4]
    for key, value in extra:
        keys.append(len(objects))
        objects.append(b_ascii(key))
        values.append(len(objects))
        objects.append(value)
    objects[0] = b_dict(keys, values)
    return bplist(objects)


XML_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC '
            b'"-//Apple//DTD PLIST 1.0//EN" '
            b'"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
            b'<plist version="1.0">\n')


def x_job(extra=b""):
    return (XML_HEAD + b"<dict><key>Label</key><string>x</string>"
            b"<key>Program</key><string>/bin/x</string>" + extra +
            b"</dict></plist>\n")


def as_nobody(*args, env, **kw):
    """Run vmsched as nobody (real uid, gid and no groups)."""
    return subprocess.run(["runuser", "-u", "nobody", "--", VMSCHED] +
                          list(args), env=env, capture_output=True,
                          timeout=30, **kw)


class HardenCase(VmschedCase):

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def private_dir(self, owner=None):
        """A directory of its own under /tmp, 0700, owned by owner."""
        d = tempfile.mkdtemp(prefix="vmsched-harden-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        if owner is not None:
            os.chown(d, owner.pw_uid, owner.pw_gid)
        return d

    def assert_plain_line(self, data):
        """No byte a terminal would act on, and valid UTF-8."""
        data.decode("utf-8")
        for b in data:
            self.assertFalse(b < 0x20 and b not in (0x0A,) or b == 0x7F,
                             "control byte 0x%02x in %r" % (b, data))
        self.assertNotIn(b"\xc2\x9b", data)


class HostilePlists(HardenCase):
    """Each refused with 65 and a message naming the limit, fast, and
    nothing changes."""

    def setUp(self):
        super().setUp()
        self.ok("add", "keep", "--", "/bin/true")
        self.before = self.db_bytes()

    def refused(self, name, data, want):
        path = self.write(name, data)
        for dry in ([], ["--dry-run"]):
            t0 = time.monotonic()
            r = self.run_vmsched("import-launchd", *dry, path)
            took = time.monotonic() - t0
            self.assertEqual(r.rc, 65, r)
            self.assertIn(("vmsched: %s: " % path).encode(), r.err)
            self.assertIn(want.encode(), r.err)
            self.assertLess(took, FAST, "%s took %.2fs" % (name, took))
        self.assertEqual(self.db_bytes(), self.before)

    def test_200000_nested_arrays_xml(self):
        n = 200000
        data = x_job(b"<key>A</key>" + b"<array>" * n + b"</array>" * n)
        self.assertGreater(len(data), 3000000)
        self.refused("deep.xml", data, "nested more than 32 deep")

    def test_200000_nested_arrays_binary(self):
        n = 200000
        objects = [b_array([i + 1]) for i in range(n - 1)] + [b_array([])]
        self.refused("deep.bin", bplist(objects),
                     "nested more than 32 deep")

    def test_array_that_holds_itself(self):
        self.refused("cycle.bin", bplist([b_array([0])]),
                     "nested more than 32 deep")

    def test_million_item_binary_array(self):
        n = 1000000
        data = b_job(extra=[(b"ProgramArguments", b_array([2] * n))])
        self.refused("big.bin", data, "more than 65536 keys and values")

    def test_million_item_array_written_by_plistlib(self):
        data = plistlib.dumps({"Label": "big",
                               "ProgramArguments": ["/bin/true"] * 1000000},
                              fmt=plistlib.FMT_BINARY)
        self.refused("big2.bin", data, "more than 65536 keys and values")

    def test_nul_in_binary_string(self):
        self.refused("nul.bin", b_job(program=b"/bin/x\0-rf"),
                     "holds a NUL byte")

    def test_nul_in_binary_key(self):
        data = b_job(extra=[(b"User\0Name", b_ascii(b"root"))])
        self.refused("nulkey.bin", data, "holds a NUL byte")

    def test_nul_in_xml_key(self):
        # libplist cut the key at the NUL without a word.
        self.refused("nul.xml", x_job(b"<key>User\0Name</key><string>root"
                                      b"</string>"), "holds a NUL byte")

    def test_lone_surrogate(self):
        data = b_job(extra=[(b"UserName", b_utf16([0x61, 0xD800]))])
        self.refused("surrogate.bin", data, "not valid UTF-16")

    def test_shared_object_used_a_thousand_times(self):
        # 12 KiB that libplist would copy into 8 MiB of strings.
        objects = [b_dict([1, 3], [2, 4]), b_ascii(b"Label"), b_ascii(b"x"),
                   b_ascii(b"ProgramArguments"), b_array([5] * 1000),
                   b_ascii(b"/" + b"a" * 8191)]
        data = bplist(objects)
        self.assertLess(len(data), 16 * 1024)
        self.refused("shared.bin", data, "more than 4 MiB")

    def test_character_references_that_take_quadratic_time(self):
        data = x_job(b"<key>ProgramArguments</key><array><string>/bin/x"
                     b"</string><string>" + b"&amp;" * 800000 +
                     b"</string></array>")
        self.refused("amp.xml", data, "too many character references")

    def test_larger_than_any_job(self):
        data = x_job(b"<key>A</key><string>" + b"a" * (5 << 20) +
                     b"</string>")
        self.refused("large.xml", data, "larger than 4 MiB")

    def test_not_utf8(self):
        self.refused("latin1.xml", x_job(b"<key>UserName</key><string>"
                                         b"caf\xe9</string>"),
                     "UserName: a string is not valid UTF-8")
        self.refused("latin1.bin", b_job(label=b"caf\xe9"),
                     "Label: a string is not valid UTF-8")

    def test_key_given_twice(self):
        objects = [b_dict([1, 3, 1], [2, 4, 5]), b_ascii(b"Label"),
                   b_ascii(b"x"), b_ascii(b"Program"), b_ascii(b"/bin/x"),
                   b_ascii(b"y")]
        self.refused("twice.bin", bplist(objects), "Label is given twice")

    def test_60000_arguments_read_in_linear_time(self):
        # Items fetched by index took quadratic time; an iterator does not.
        n = 60000
        objects = [b_dict([1, 3], [2, 4]), b_ascii(b"Label"), b_ascii(b"x"),
                   b_ascii(b"ProgramArguments"),
                   b_array(list(range(5, 5 + n)))]
        objects += [b_ascii(b"a%d" % i) for i in range(n)]
        path = self.write("many.bin", bplist(objects))
        t0 = time.monotonic()
        r = self.run_vmsched("import-launchd", "--dry-run", path)
        took = time.monotonic() - t0
        self.assertEqual(r.rc, 0, r.err)
        self.assertTrue(r.out.startswith(b"vmsched add x ") and
                        r.out.endswith(b" -- a0 a1 a2 a3 a4 " +
                                       b" ".join(b"a%d" % i for i in
                                                 range(5, n)) + b"\n"),
                        r.out[:200])
        self.assertLess(took, 2 * FAST, "took %.2fs" % took)
        # Stored the same way: the argv JSON grew by a copy per argument.
        t0 = time.monotonic()
        r = self.run_vmsched("import-launchd", path)
        took = time.monotonic() - t0
        self.assertEqual(r.rc, 0, r.err)
        self.assertLess(took, 2 * FAST, "import took %.2fs" % took)
        argv = self.ok("--json", "show", "x").json()["argv"]
        self.assertEqual(argv, ["a%d" % i for i in range(n)])

    def test_control_characters_are_escaped(self):
        data = (XML_HEAD + b"<dict><key>Label</key><string>x\x1b]0;t\x07"
                b"</string><key>ProgramArguments</key><array><string>/bin/x"
                b"</string><string>a\x1b[2Jb</string></array>"
                b"<key>\x1b[31mRed</key><true/></dict></plist>\n")
        path = self.write("ctl.xml", data)
        r = self.run_vmsched("import-launchd", "--dry-run", path)
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"\\x1b[31mRed: unknown key", r.err)
        self.assertIn(b"Label 'x\\x1b]0;t\\x07'", r.err)
        for line in r.err.splitlines() + r.out.splitlines():
            self.assert_plain_line(line)


class DatabasePermissions(HardenCase):
    """Refused, like ssh refuses a key others can read, with the fix."""

    def setUp(self):
        super().setUp()
        self.ok("add", "a", "--", "/bin/true")
        self.ok("webhook", "set", "http://127.0.0.1:9/", "--secret", "s3cr3t")

    def refused(self, want, fix, *cmds):
        before = self.db_bytes()
        mode = os.stat(self.db).st_mode
        for cmd in cmds or (["list"], ["add", "b", "--", "/bin/true"],
                            ["--json", "show", "a"], ["db", "check"]):
            r = self.fails(77, *cmd)
            self.assertIn(want.encode(), r.err)
            self.assertIn(fix.encode(), r.err)
        self.assertEqual(self.db_bytes(), before)
        self.assertEqual(os.stat(self.db).st_mode, mode)

    def test_0644_database_refused(self):
        os.chmod(self.db, 0o644)
        self.refused("mode 0644", "chmod 600 %s" % self.db)

    def test_0640_database_refused(self):
        os.chmod(self.db, 0o640)
        self.refused("mode 0640", "chmod 600 %s" % self.db)

    def test_0777_directory_refused(self):
        os.chmod(self.dir, 0o777)
        self.refused("mode 0777", "chmod 700 %s" % self.dir)

    def test_0755_directory_refused(self):
        os.chmod(self.dir, 0o755)
        self.refused("mode 0755", "chmod 700 %s" % self.dir)

    def test_database_of_another_user_refused(self):
        os.chown(self.db, NOBODY.pw_uid, NOBODY.pw_gid)
        self.refused("owned by nobody", "chown root %s" % self.db)

    def test_directory_of_another_user_refused(self):
        os.chown(self.dir, NOBODY.pw_uid, NOBODY.pw_gid)
        self.refused("owned by nobody", "chown root %s" % self.dir)

    def test_wal_others_can_read_refused(self):
        wal = self.db + "-wal"
        with open(wal, "ab"):
            pass
        os.chmod(wal, 0o644)
        self.refused("-wal: mode 0644", "chmod 600 %s" % wal)

    def test_shm_planted_as_a_link_refused(self):
        target = os.path.join(self.dir, "elsewhere")
        if os.path.lexists(self.db + "-shm"):
            os.unlink(self.db + "-shm")
        os.symlink(target, self.db + "-shm")
        self.refused("-shm: not a regular file", "remove it")
        self.assertFalse(os.path.exists(target))

    def test_nothing_created_in_a_directory_others_can_change(self):
        open_dir = self.private_dir()
        os.chmod(open_dir, 0o777)
        path = os.path.join(open_dir, "sub", "vmsched.db")
        r = self.fails(77, "--db", path, "add", "a", "--", "/bin/true")
        self.assertIn(b"mode 0777", r.err)
        self.assertEqual(os.listdir(open_dir), [])

class MissingDatabase(HardenCase):
    """A mistyped --db says so (66); only defining a VM creates one."""

    def test_read_commands_do_not_create(self):
        path = os.path.join(self.dir, "typo", "vmsched.db")
        for cmd in (["list"], ["--json", "list"], ["show", "a"], ["log"],
                    ["plan"], ["status"], ["events"], ["webhook"],
                    ["webhook", "show", "--json"], ["db", "check"]):
            r = self.fails(66, "--db", path, *cmd)
            self.assertIn(("%s: no such database" % path).encode(), r.err)
        self.assertFalse(os.path.exists(os.path.dirname(path)))
        # Defining a VM is what creates it.
        self.ok("--db", path, "add", "a", "--", "/bin/true")
        self.assertEqual(self.ok("--db", path, "--json", "list").json()[0]
                         ["name"], "a")

    def test_changes_to_what_exists_do_not_create(self):
        path = os.path.join(self.dir, "typo.db")
        for cmd in (["set", "a", "--order", "1"], ["remove", "a"],
                    ["enable", "a"], ["start", "--no-wait", "a"],
                    ["webhook", "unset"], ["webhook", "test"],
                    ["db", "prune", "--older-than", "1"]):
            r = self.fails(66, "--db", path, *cmd)
            self.assertIn(b"no such database", r.err)
        self.assertEqual(os.listdir(self.dir), [])

class ReadOnlyDatabase(HardenCase):
    """Read commands work on a database that cannot be written."""

    def setUp(self):
        super().setUp()
        self.home = self.private_dir(NOBODY)
        self.path = os.path.join(self.home, "vmsched.db")
        self.nenv = dict(self.env, VMSCHED_DB=self.path)
        r = as_nobody("add", "a", "--wait-path", "/x", "--", "/bin/true",
                      env=self.nenv)
        self.assertEqual(r.returncode, 0, r)

    def reads(self):
        before = open(self.path, "rb").read()
        for cmd in (["list"], ["--json", "list"], ["--json", "show", "a"],
                    ["show", "a"], ["log"], ["plan"], ["db", "check"],
                    ["status"]):
            r = as_nobody(*cmd, env=self.nenv)
            self.assertEqual(r.returncode, 0, (cmd, r))
        self.assertIn(b"a ", as_nobody("list", env=self.nenv).stdout)
        r = as_nobody("add", "b", "--", "/bin/true", env=self.nenv)
        self.assertEqual(r.returncode, 73, r)
        self.assertTrue(r.stderr.startswith(b"vmsched: %s: cannot write" %
                                            self.path.encode()), r)
        self.assertEqual(open(self.path, "rb").read(), before)

    def test_read_only_file(self):
        os.chmod(self.path, 0o400)
        self.reads()

    def test_read_only_directory(self):
        os.chmod(self.home, 0o500)
        self.addCleanup(os.chmod, self.home, 0o700)
        self.reads()


class FullDisk(HardenCase):
    """A file system that is full: what failed and why; reads still work,
    even with the 3-byte -shm a failed write leaves behind."""

    def setUp(self):
        super().setUp()
        self.mnt = self.private_dir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320k",
                            "tmpfs", self.mnt], capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: %r" % r.stderr)
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt])
        os.chmod(self.mnt, 0o700)
        self.path = os.path.join(self.mnt, "vmsched.db")

    def fill(self):
        """Write until the file system has not a byte left."""
        fill_fs(os.path.join(self.mnt, "filler"))

    def test_full(self):
        gate = "x" * 3000
        i, r = 0, None
        while i < 1000:
            r = self.run_vmsched("--db", self.path, "add", "vm%d" % i,
                                 "--wait-cmd", gate, "--", "/bin/true")
            if r.rc != 0:
                break
            i += 1
        self.assertNotEqual(r.rc, 0, "the disk never filled")
        self.assertRegex(r.err.decode(), r"^vmsched: %s: [a-z ]+: database "
                         r"or disk is full" % re.escape(self.path))
        # What a write cut short by the full disk leaves: a -shm too short.
        with open(self.path + "-shm", "r+b") as f:
            f.truncate(3)
        self.fill()
        r = self.run_vmsched("--db", self.path, "list")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"vm0 ", r.out)
        self.run_vmsched("--db", self.path, "--json", "show", "vm0").json()
        r = self.run_vmsched("--db", self.path, "add", "z", "--", "/bin/true")
        self.assertNotEqual(r.rc, 0)
        self.assertNotIn(b"not a vmsched database", r.err)
        self.assertRegex(r.err.decode(), r"^vmsched: %s: .*full" %
                         re.escape(self.path))


class Messages(HardenCase):

    def test_webhook_set_errors_say_why(self):
        self.ok("db", "migrate")
        for url, why in (("http://[::1", "not a URL"),
                         ("http://h:99999/", "not a URL"),
                         ("https://:80/x", "not a URL"),
                         ("http:/h/x", "must start with http:// or https://"),
                         ("http://h/\x01", "no blanks or control characters")):
            r = self.fails(64, "webhook", "set", url)
            self.assertNotIn(b"(null)", r.err)
            self.assertIn(why.encode(), r.err)

    def test_reading_gates_says_why(self):
        self.ok("add", "a", "--wait-path", "/x", "--", "/bin/true")
        con = sqlite3.connect(self.db)
        con.executescript("ALTER TABLE vm_gate RENAME TO vm_gate_real; "
                          "CREATE VIEW vm_gate AS SELECT vm_id, pos, kind, "
                          "json_extract('{', '$') AS arg FROM vm_gate_real;")
        con.close()
        r = self.fails(70, "show", "a")
        # The definition is read in one statement: what failed is reading
        # it, and SQLite says why.
        self.assertRegex(r.err.decode(), r"^vmsched: %s: reading a: "
                         r"malformed JSON\n$" % re.escape(self.db))


class Utf8Input(HardenCase):
    """Bytes that are not UTF-8 are refused wherever they come in (64),
    named, escaped, and change nothing."""

    BAD = b"caf\xe9"

    def test_every_argument(self):
        self.ok("add", "a", "--", "/bin/true")
        before = self.db_bytes()
        bad = self.BAD
        plist = self.write("ok.plist", x_job())
        for args in ([b"add", bad, b"--", b"/bin/true"],
                     [b"add", b"b", b"--", b"/bin/echo", bad],
                     [b"add", b"b", b"--cwd", b"/" + bad, b"--", b"/bin/x"],
                     [b"add", b"b", b"--env", b"K=" + bad, b"--", b"/bin/x"],
                     [b"add", b"b", b"--wait-cmd", bad, b"--", b"/bin/x"],
                     [b"add", b"b", b"--wait-path", b"/" + bad, b"--",
                      b"/bin/x"],
                     [b"add", b"b", b"--log-file=/" + bad, b"--", b"/bin/x"],
                     [b"add", b"b", b"--user", bad, b"--", b"/bin/x"],
                     [b"set", b"a", b"--cwd", b"/" + bad],
                     [b"set", b"a", b"--", b"/bin/" + bad],
                     [b"webhook", b"set", b"http://h/" + bad],
                     [b"webhook", b"set", b"http://h/", b"--secret", bad],
                     [b"webhook", b"set", b"http://h/", b"--events", bad],
                     [b"export-launchd", b"--label", bad],
                     [b"export-launchd", b"--user", bad],
                     [b"log", b"--since", bad],
                     [b"--db", b"/tmp/" + bad, b"list"],
                     [b"import-launchd", plist.encode(), b"/tmp/" + bad],
                     [b"vmx-check", b"/tmp/" + bad + b".vmx"]):
            with self.subTest(args=args):
                r = subprocess.run([VMSCHED] + args, env=self.env,
                                   capture_output=True, timeout=30)
                self.assertEqual(r.returncode, 64, r)
                self.assertIn(b"not valid UTF-8", r.stderr)
                self.assertIn(b"caf\\xe9", r.stderr)
                self.assert_plain_line(r.stderr)
        self.assertEqual(self.db_bytes(), before)

    def test_environment_and_standard_input(self):
        self.ok("add", "a", "--", "/bin/true")
        before = self.db_bytes()
        r = subprocess.run([VMSCHED, "list"], capture_output=True, timeout=30,
                           env=dict(self.env, VMSCHED_DB=b"/tmp/" + self.BAD))
        self.assertEqual(r.returncode, 64, r)
        self.assertIn(b"not valid UTF-8", r.stderr)
        r = subprocess.run([VMSCHED, "webhook", "set", "http://h/",
                            "--secret", "-"], input=self.BAD + b"\n",
                           env=self.env, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 64, r)
        self.assertIn(b"not valid UTF-8", r.stderr)
        self.assertEqual(self.db_bytes(), before)


class OutputStaysValid(HardenCase):
    """Whatever bytes the database holds (a database written by hand or by
    an older vmsched), JSON parses, plists are XML, and the terminal sees
    no control character."""

    def setUp(self):
        super().setUp()
        self.ok("add", "base", "--", "/bin/true")
        self.ok("add", "a", "--after", "base", "--wait-path", "/w",
                "--", "/bin/true")
        self.ok("webhook", "set", "http://127.0.0.1:9/")
        bad = "CAST(x'%s' AS TEXT)"
        esc_ff = bad % (b"\x1b]0;pwned\x07\xff".hex())
        con = sqlite3.connect(self.db)
        with con:
            con.execute("UPDATE vm SET argv = json_array('/bin/x', %s), "
                        "env = json_array('K=' || %s), user = %s, cwd = %s,"
                        " log_path = %s WHERE name = 'a'"
                        % ((esc_ff,) * 5))
            con.execute("UPDATE vm_gate SET arg = %s" % esc_ff)
            con.execute("INSERT INTO run (vm, started_at, ended_at, pid, "
                        "exit_code, reason, detail, rule, failures) VALUES "
                        "('a', 1000, 2000, 42, 1, 'exited', %s, %s, 1)"
                        % (esc_ff, esc_ff))
            con.execute("INSERT INTO event (time, event, vm, uid, detail, "
                        "status, last_error) VALUES (3000, 'vm.exited', 'a', "
                        "-1, json_object('why', %s), 'failed', %s)"
                        % (esc_ff, esc_ff))
        con.close()

    def test_json(self):
        for cmd in (["--json", "list"], ["--json", "show", "a"],
                    ["--json", "log"], ["--json", "log", "a"],
                    ["--json", "events"], ["--json", "plan"],
                    ["--json", "webhook", "show"]):
            with self.subTest(cmd=cmd):
                out = self.ok(*cmd).out
                doc = json.loads(out.decode("utf-8"))
                self.assertTrue(doc is not None)
        got = self.ok("--json", "show", "a").json()
        self.assertEqual(got["argv"][1], "\x1b]0;pwned\x07\ufffd")

    def test_terminal(self):
        for cmd in (["list"], ["show", "a"], ["log", "a"], ["events"],
                    ["plan"]):
            with self.subTest(cmd=cmd):
                r = self.ok(*cmd)
                for line in r.out.splitlines():
                    self.assert_plain_line(line)
        self.assertIn(b"\\x1b]0;pwned\\x07\\xff", self.ok("show", "a").out)
        r = self.fails(64, "add", "x", "--order", "\x1b[2J", "--", "/bin/x")
        self.assertIn(b"--order \\x1b[2J", r.err)
        self.assert_plain_line(r.err.rstrip(b"\n"))


class ExportStaysXml(HardenCase):

    def test_export_launchd_is_xml(self):
        self.ok("add", "a", "--", "/bin/true")
        doc = plistlib.loads(self.ok("export-launchd", "--label",
                                     "org.caf\u00e9.vmsched").out)
        self.assertEqual(doc["Label"], "org.caf\u00e9.vmsched")
        for label in ("a\uffffb", "a\x01b"):
            self.fails(64, "export-launchd", "--label", label)

    def test_a_database_path_xml_cannot_hold(self):
        d = os.path.join(self.private_dir(), "a\x01b")
        os.mkdir(d, 0o700)
        path = os.path.join(d, "vmsched.db")
        self.ok("--db", path, "add", "a", "--", "/bin/true")
        r = self.fails(65, "--db", path, "export-launchd")
        self.assertEqual(r.out, b"")
        self.assertIn(b"cannot be written in a plist", r.err)
        self.assertIn(b"a\\x01b", r.err)


if __name__ == "__main__":
    unittest.main()

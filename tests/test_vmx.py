"""vmsched vmx-check on real files: findings with their line numbers, exit
codes, unparseable lines named, --fix in place (atomic rename, FILE.bak,
mode kept), idempotence down to the mtime, and --vm reading the VM's
signals from the database."""
import hashlib
import os
import stat
import unittest

from vmtest import VmschedCase

CLEAN = (b'.encoding = "UTF-8"\n'
         b'msg.autoAnswer = "TRUE"\n'
         b'signal.powerOffOnTERM = "TRUE"\n'
         b'signal.suspendOnHUP = "TRUE"\n')

# The seed's kind of file: hand-tuned, the VNC port pasted twice.
SEED = (b'.encoding = "UTF-8"\n'                      # 1
        b'config.version = "8"\n'                     # 2
        b'msg.autoAnswer = "FALSE"   # asked\n'       # 3
        b'displayName = "Test"\n'                     # 4
        b'RemoteDisplay.vnc.port = "5901"\n'          # 5
        b'\n'                                         # 6
        b'# VNC\n'                                    # 7
        b'RemoteDisplay.vnc.port = "5901"\n')         # 8

SEED_FIXED = (b'.encoding = "UTF-8"\n'
              b'config.version = "8"\n'
              b'msg.autoAnswer = "TRUE"   # asked\n'
              b'displayName = "Test"\n'
              b'RemoteDisplay.vnc.port = "5901"\n'
              b'\n'
              b'# VNC\n'
              b'signal.powerOffOnTERM = "TRUE"\n'
              b'signal.suspendOnHUP = "TRUE"\n')


# `make fuzz` starts from the files these tests craft (its first byte
# picks the signals: 0 is TERM/HUP).
CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "build", "fuzz", "fuzz_vmx.corpus")


def keep_for_fuzzing(data):
    try:
        os.makedirs(CORPUS, exist_ok=True)
        name = hashlib.sha1(b"\0" + data).hexdigest()
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(b"\0" + data)
    except OSError:
        pass    # a read-only tree still runs the tests


class VmxCheck(VmschedCase):

    def write(self, name, data, mode=None):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        keep_for_fuzzing(data)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def dir_listing(self):
        return sorted(os.listdir(self.dir))

    def test_clean_file(self):
        path = self.write("clean.vmx", CLEAN)
        before = os.stat(path)
        r = self.ok("vmx-check", path)
        self.assertEqual(r.out, b"")
        r = self.ok("vmx-check", path, "--fix")
        self.assertEqual(r.out, b"")
        after = os.stat(path)
        self.assertEqual(self.read(path), CLEAN)
        self.assertEqual((before.st_ino, before.st_mtime_ns),
                         (after.st_ino, after.st_mtime_ns))
        self.assertFalse(os.path.exists(path + ".bak"))

    def test_findings_with_line_numbers(self):
        path = self.write("Test.vmx", SEED)
        r = self.run_vmsched("vmx-check", path)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.err, b"")
        lines = r.out.decode().splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertTrue(lines[0].startswith(
            path + ':3: msg.autoAnswer is "FALSE": it must be "TRUE"'),
            lines)
        self.assertEqual(lines[1], path + ":8: RemoteDisplay.vnc.port is "
                         "defined again (first on line 5), with the same "
                         "value")
        self.assertTrue(lines[2].startswith(
            path + ": signal.powerOffOnTERM is missing"), lines)
        self.assertTrue(lines[3].startswith(
            path + ": signal.suspendOnHUP is missing"), lines)
        self.assertEqual(self.read(path), SEED)

    def test_keys_are_case_insensitive(self):
        path = self.write("case.vmx", CLEAN + b'MSG.AUTOANSWER = "true"\n')
        r = self.run_vmsched("vmx-check", path)
        self.assertEqual(r.rc, 1, r)
        self.assertIn(b":5: MSG.AUTOANSWER is defined again (first on "
                      b"line 2)", r.out)

    def test_fix_in_place(self):
        path = self.write("Test.vmx", SEED, mode=0o640)
        ino = os.stat(path).st_ino
        r = self.ok("vmx-check", path, "--fix")
        self.assertEqual(self.read(path), SEED_FIXED)
        self.assertEqual(self.read(path + ".bak"), SEED)
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.assertEqual(stat.S_IMODE(os.stat(path + ".bak").st_mode),
                         0o640)
        self.assertNotEqual(st.st_ino, ino, "not replaced by a rename")
        out = r.out.decode()
        self.assertIn(path + ':3: set msg.autoAnswer = "TRUE" (was '
                      '"FALSE")', out)
        self.assertIn(path + ':8: removed RemoteDisplay.vnc.port = "5901",'
                      ' defined before on line 5', out)
        self.assertIn(path + ': added signal.powerOffOnTERM = "TRUE"', out)
        self.assertIn(path + ".bak", out)
        # No temporary file left behind.
        self.assertEqual(self.dir_listing(), ["Test.vmx", "Test.vmx.bak"])
        self.ok("vmx-check", path)

    def test_second_fix_changes_nothing(self):
        path = self.write("Test.vmx", SEED)
        self.ok("vmx-check", "--fix", path)
        st1, bak1 = os.stat(path), os.stat(path + ".bak")
        data = self.read(path)
        r = self.ok("vmx-check", path, "--fix")
        self.assertEqual(r.out, b"")
        st2, bak2 = os.stat(path), os.stat(path + ".bak")
        self.assertEqual(self.read(path), data)
        self.assertEqual((st1.st_ino, st1.st_mtime_ns),
                         (st2.st_ino, st2.st_mtime_ns))
        self.assertEqual((bak1.st_ino, bak1.st_mtime_ns),
                         (bak2.st_ino, bak2.st_mtime_ns))
        self.assertEqual(self.read(path + ".bak"), SEED)

    def test_crlf_file(self):
        crlf = SEED.replace(b"\n", b"\r\n")
        path = self.write("win.vmx", crlf)
        r = self.run_vmsched("vmx-check", path)
        self.assertEqual(r.rc, 1, r)
        self.assertIn(path.encode() + b":8: RemoteDisplay", r.out)
        self.ok("vmx-check", path, "--fix")
        self.assertEqual(self.read(path), SEED_FIXED.replace(b"\n", b"\r\n"))
        self.assertEqual(self.read(path + ".bak"), crlf)

    def test_conflicting_duplicates_left_alone(self):
        data = CLEAN + (b'ethernet0.address = "00:50:56:00:00:01"\n'
                        b'msg.autoAnswer = "FALSE"\n'
                        b'ethernet0.address = "00:50:56:00:00:02"\n')
        path = self.write("two.vmx", data)
        r = self.run_vmsched("vmx-check", path, "--fix")
        self.assertEqual(r.rc, 1, r)
        # The repeated required key goes; the conflicting address stays,
        # reported with its line in the new file.
        want = CLEAN + (b'ethernet0.address = "00:50:56:00:00:01"\n'
                        b'ethernet0.address = "00:50:56:00:00:02"\n')
        self.assertEqual(self.read(path), want)
        self.assertIn(path.encode() + b":6: removed msg.autoAnswer", r.out)
        self.assertIn(path.encode() + b":6: ethernet0.address is defined "
                      b"again (first on line 5) with another value", r.out)
        self.assertIn(b"keep one by hand", r.out)
        st = os.stat(path)
        r = self.run_vmsched("vmx-check", path, "--fix")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(os.stat(path).st_mtime_ns, st.st_mtime_ns)
        self.assertEqual(self.read(path + ".bak"), data)

    def test_unparseable_names_each_line(self):
        data = (b'msg.autoAnswer = "TRUE"\n'
                b'displayName = "unclosed\n'
                b'\n'
                b'memsize 2048\n'
                b'ok = "1"\n')
        path = self.write("bad.vmx", data)
        for args in ([], ["--fix"]):
            r = self.fails(65, "vmx-check", path, *args)
            self.assertEqual(r.out, b"")
            self.assertEqual(r.err.decode().splitlines(), [
                "vmsched: %s:2: unterminated quoted value (no closing "
                "'\"')" % path,
                "vmsched: %s:4: expected '=' after the key" % path,
            ])
            self.assertEqual(self.read(path), data)
            self.assertEqual(self.dir_listing(), ["bad.vmx"])

    def test_nul_byte(self):
        path = self.write("nul.vmx", CLEAN + b'x = "a\0b"\n')
        r = self.fails(65, "vmx-check", path)
        self.assertIn(b":5: NUL byte", r.err)

    def test_no_such_file(self):
        missing = os.path.join(self.dir, "missing.vmx")
        r = self.fails(66, "vmx-check", missing)
        self.assertIn(b"No such file or directory", r.err)
        r = self.fails(66, "vmx-check", self.dir, "--fix")
        self.assertIn(b"not a regular file", r.err)
        self.assertFalse(os.path.exists(self.db), "database created")

    def test_usage(self):
        path = self.write("clean.vmx", CLEAN)
        self.fails(64, "vmx-check")
        self.fails(64, "vmx-check", path, path)
        r = self.fails(64, "vmx-check", path, "--fixx")
        self.assertIn(b"--fixx", r.err)
        self.fails(64, "vmx-check", path, "--vm")
        r = self.fails(64, "vmx-check", path, "--vm", "bad name")
        self.assertIn(b"--vm bad name", r.err)

    def test_vm_signals_from_database(self):
        only_auto = b'msg.autoAnswer = "TRUE"\n'
        path = self.write("vm.vmx", only_auto)
        self.ok("add", "quiet", "--stop-signal", "INT",
                "--suspend-signal", "USR1", "--", "/bin/true")
        self.ok("add", "plain", "--", "/bin/true")
        self.ok("add", "hupstop", "--stop-signal", "SIGTERM",
                "--suspend-signal", "TSTP", "--", "/bin/true")
        # Neither TERM nor HUP: nothing more is needed.
        r = self.ok("vmx-check", path, "--vm", "quiet")
        self.assertEqual(r.out, b"")
        # The defaults TERM/HUP: both signal keys.
        r = self.run_vmsched("vmx-check", "--vm", "plain", path)
        self.assertEqual(r.rc, 1, r)
        self.assertIn(b"signal.powerOffOnTERM is missing", r.out)
        self.assertIn(b"signal.suspendOnHUP is missing", r.out)
        # TERM but not HUP: only powerOffOnTERM, and --fix adds only it.
        r = self.run_vmsched("vmx-check", path, "--vm", "hupstop")
        self.assertEqual(r.rc, 1, r)
        self.assertIn(b"signal.powerOffOnTERM is missing", r.out)
        self.assertNotIn(b"suspendOnHUP", r.out)
        self.ok("vmx-check", path, "--vm", "hupstop", "--fix")
        self.assertEqual(self.read(path), only_auto +
                         b'signal.powerOffOnTERM = "TRUE"\n')
        r = self.fails(66, "vmx-check", path, "--vm", "ghost")
        self.assertIn(b"ghost", r.err)

    def test_fix_through_symlink(self):
        target = self.write("real.vmx", SEED)
        link = os.path.join(self.dir, "link.vmx")
        os.symlink("real.vmx", link)
        r = self.ok("vmx-check", link, "--fix")
        self.assertIn(b"the original is in " + target.encode() + b".bak",
                      r.out)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(self.read(target), SEED_FIXED)
        self.assertEqual(self.read(target + ".bak"), SEED)

    def test_failed_fix_changes_nothing(self):
        path = self.write("Test.vmx", SEED)
        os.mkdir(path + ".bak")     # the backup cannot be put in place
        before = os.stat(path)
        r = self.run_vmsched("vmx-check", path, "--fix")
        self.assertNotIn(r.rc, (0, 1), r)
        self.assertTrue(r.err.startswith(b"vmsched: "), r)
        self.assertIn(b".bak", r.err)
        self.assertEqual(r.out, b"")
        self.assertEqual(self.read(path), SEED)
        self.assertEqual(os.stat(path).st_ino, before.st_ino)
        self.assertEqual(self.dir_listing(), ["Test.vmx", "Test.vmx.bak"])


if __name__ == "__main__":
    unittest.main()

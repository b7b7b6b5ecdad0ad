#!/usr/bin/env python3
"""A stand-in for VirtualBox's VBoxManage, which cannot be installed here
(issue 12).

It follows the Oracle VM VirtualBox User Manual, chapter "VBoxManage"
(VBoxManage startvm, controlvm, showvminfo):

  startvm NAME [--type gui|headless|separate]
        powers the VM on, or restores it from its saved state; prints
        Waiting for VM "NAME" to power on...
        VM "NAME" has been successfully started.
  showvminfo NAME --machinereadable
        key="value" lines, among them VMState= (poweroff, running, saved,
        aborted, paused, ...) and VMStateChangeTime=
  controlvm NAME acpipowerbutton   presses the ACPI power button: the
                                   guest may shut down (returns at once)
  controlvm NAME poweroff          pulls the plug (progress on stderr)
  controlvm NAME savestate         saves the VM's state and stops it

Errors go to stderr as "VBoxManage: error: ..." with exit status 1; the
texts are VBoxManage's:
  Could not find a registered machine named 'NAME'
  The machine 'NAME' is already locked for a session (or being unlocked)
  Machine 'NAME' is not currently running

Registered VMs are files NAME.vbox in $FAKE_VBOX_HOME; a VM is
tests/fakevm.py's guest, its book in NAME.book there: a real process, so
liveness and crashes are real. A NAME.noacpi file (this stand-in's
convention) makes a guest that ignores the power button.
"""
import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
import fakevm  # noqa: E402

HOME = os.environ.get("FAKE_VBOX_HOME", os.path.expanduser("~/.fake-vbox"))


def fail(msg):
    sys.stderr.write("VBoxManage: error: %s\n" % msg)
    sys.exit(1)


def path(name, ext):
    return os.path.join(HOME, name + ext)


def registered(name):
    if not os.path.exists(path(name, ".vbox")):
        fail("Could not find a registered machine named '%s'" % name)


def book(name):
    return path(name, ".book")


def fake(what, name, *extra):
    return fakevm.tool(what, book(name), *extra)


def vmstate(name):
    s = fakevm.state(book(name))
    if s == "running":
        return "running"
    if s == "saved":
        return "saved"
    if os.path.exists(path(name, ".poweroff")) or s == "exited 0":
        return "poweroff"
    if not os.path.exists(os.path.join(book(name), "starts")):
        return "poweroff"   # never ran
    return "aborted"        # its process went without a word


def running(name):
    if vmstate(name) != "running":
        fail("Machine '%s' is not currently running" % name)


def wait_off(name):
    fakevm.wait_gone(book(name), 60, fail)


def main():
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == "startvm":
        name = a[1]
        registered(name)
        if vmstate(name) == "running":
            fail("The machine '%s' is already locked for a session (or "
                 "being unlocked)" % name)
        try:
            os.unlink(path(name, ".poweroff"))
        except FileNotFoundError:
            pass
        print('Waiting for VM "%s" to power on...' % name)
        r = fake("start", name, "--")
        if r.returncode != 0:
            fail(r.stderr.strip())
        print('VM "%s" has been successfully started.' % name)
        return 0
    if len(a) >= 2 and a[0] == "showvminfo":
        name = a[1]
        registered(name)
        if "--machinereadable" not in a:
            print("Name:            %s" % name)
            print("State:           %s" % vmstate(name))
            return 0
        print('name="%s"' % name)
        print('ostype="Other"')
        print('VMState="%s"' % vmstate(name))
        print('VMStateChangeTime="2026-12-01T10:00:00.000000000"')
        return 0
    if len(a) >= 3 and a[0] == "controlvm":
        name, what = a[1], a[2]
        registered(name)
        running(name)
        if what == "acpipowerbutton":
            if not os.path.exists(path(name, ".noacpi")):
                fake("stop", name)
            return 0
        if what == "poweroff":
            open(path(name, ".poweroff"), "w").close()
            fake("kill", name)
            wait_off(name)
            sys.stderr.write("0%...10%...20%...30%...40%...50%...60%..."
                             "70%...80%...90%...100%\n")
            return 0
        if what == "savestate":
            fake("suspend", name)
            wait_off(name)
            sys.stderr.write("0%...10%...20%...30%...40%...50%...60%..."
                             "70%...80%...90%...100%\n")
            return 0
        fail("Invalid parameter '%s'" % what)
    fail("Syntax error: %s" % " ".join(a))


if __name__ == "__main__":
    sys.exit(main())

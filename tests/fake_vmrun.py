#!/usr/bin/env python3
"""A stand-in for VMware's vmrun, which cannot be installed here (issue 12).

It follows VMware's "Using vmrun to Control Virtual Machines" (the vmrun
command reference of VMware Workstation and Fusion, VIX 1.x): the form
`vmrun [-T ws|fusion|player] COMMAND X.vmx [OPTION]`, and these commands:

  start X.vmx [gui|nogui]   powers the VM on (or resumes it from its
                            suspended state) and returns once it runs
  stop X.vmx [hard|soft]    soft: the guest shuts down through VMware
                            Tools (needs Tools running in the guest);
                            hard: powered off at once. Returns once off.
  suspend X.vmx [hard|soft] writes its memory out and returns once
                            suspended (soft runs Tools scripts: needs Tools)
  list                      "Total running VMs: N", then one line per
                            running VM: its .vmx path

vmrun prints its errors on stdout as "Error: ..." and exits 255 (it
returns -1); the texts are vmrun's:
  Error: Cannot open VM: X.vmx, The virtual machine cannot be found
  Error: The virtual machine is not powered on: X.vmx
  Error: The VMware Tools are not running in the virtual machine: X.vmx
and, for a start of a VM that runs already,
  Error: The virtual machine is already running

The VM itself is tests/fakevm.py's guest, its book beside the .vmx
(X.vmx.book): a real process, so liveness and crashes are real. A .vmx
that says tools.running = "FALSE" (this stand-in's convention) has no
VMware Tools running in its guest.
"""
import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
import fakevm  # noqa: E402


def fail(msg):
    print("Error: " + msg)
    sys.exit(255)


def book(vmx):
    return vmx + ".book"


def fake(what, vmx, *extra):
    return fakevm.tool(what, book(vmx), *extra)


def state(vmx):
    return fakevm.state(book(vmx))


def tools(vmx):
    with open(vmx) as f:
        return 'tools.running = "FALSE"' not in f.read()


def registry():
    """The .vmx files of VMs started here, so list can find them."""
    return os.environ.get("FAKE_VMRUN_REGISTRY",
                          os.path.expanduser("~/.fake-vmrun"))


def main():
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "-T":
        if args[1] not in ("ws", "fusion", "player", "server", "esx"):
            fail("Unrecognized host type: " + args[1])
        args = args[2:]
    if not args:
        print("vmrun version 1.17.0 (a stand-in)")
        sys.exit(255)
    cmd, rest = args[0], args[1:]
    if cmd == "list":
        running = []
        if os.path.exists(registry()):
            with open(registry()) as f:
                for vmx in dict.fromkeys(l.strip() for l in f if l.strip()):
                    if os.path.exists(vmx) and state(vmx) == "running":
                        running.append(vmx)
        print("Total running VMs: %d" % len(running))
        for vmx in running:
            print(vmx)
        return 0
    if not rest:
        fail("Invalid argument")
    vmx = rest[0]
    if not os.path.exists(vmx):
        fail("Cannot open VM: %s, The virtual machine cannot be found" % vmx)
    opt = rest[1] if len(rest) > 1 else None
    if cmd == "start":
        if state(vmx) == "running":
            fail("The virtual machine is already running")
        with open(registry(), "a") as f:
            f.write(vmx + "\n")
        r = fake("start", vmx, "--")
        if r.returncode != 0:
            fail(r.stderr.strip())
        return 0
    if cmd in ("stop", "suspend"):
        if state(vmx) != "running":
            fail("The virtual machine is not powered on: %s" % vmx)
        if opt != "hard" and not tools(vmx):
            fail("The VMware Tools are not running in the virtual "
                 "machine: %s" % vmx)
        if cmd == "suspend":
            fake("suspend", vmx)
        else:
            fake("kill" if opt == "hard" else "stop", vmx)
        fakevm.wait_gone(book(vmx), 60,
                         lambda m: fail("The operation timed out"))
        return 0
    fail("Unrecognized command: " + cmd)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A fake VM for the driver matrix (tests/test_drivers.py): the same guest
run in the foreground for the exec driver, or launched and left running by
a start command for the detached driver, with the commands a detached
hypervisor tool has (status, stop, kill, suspend).

Each VM keeps its book in a directory of its own (--book DIR):
  starts   one line per instance that ran: "<pid> <monotonic ns>"
  pid      the pid of the instance that runs now
  end      how the last instance ended: "exited N", "crashed"
  saved    present once it suspended (wrote its memory out), until a start

  fakevm.py run --book DIR [--pidfile P] [--exit-after S] [--code N]
                [--crash-after S] [--deaf]
      the guest, in the foreground: SIGTERM powers it off (exit 0) unless
      --deaf; SIGHUP suspends it (writes saved, exit 0); it exits with
      --code after --exit-after seconds, or dies by SIGSEGV after
      --crash-after
  fakevm.py start --book DIR [--pidfile P] [--fail MSG] -- RUN-ARGS
      launch `run RUN-ARGS` detached (own session, stdio on /dev/null) and
      return once it wrote its pid: 0; 1 "already running" if one runs;
      --fail: print MSG on stderr and exit 2
  fakevm.py status --book DIR [--lag S]
      print running, saved, "exited N" or crashed (an instance gone without
      a word, as after SIGKILL); exit 0. --lag: a hypervisor that learns of
      its guest's end late (libvirtd, from its monitor's end of file) still
      says running for S seconds after it first finds the guest gone
  fakevm.py stop|kill|suspend --book DIR
      TERM, KILL or HUP to the instance; 1 "not running" if none runs
"""
import argparse
import os
import signal
import sys
import time


def path(book, name):
    return os.path.join(book, name)


def write(book, name, text, mode="w"):
    with open(path(book, name), mode) as f:
        f.write(text)


def read(book, name):
    try:
        with open(path(book, name)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def running(book):
    pid = read(book, "pid")
    return int(pid) if pid and alive(int(pid)) else None


# For the stand-ins of hypervisor tools (fake_vmrun.py, fake_vboxmanage.py),
# which keep their VMs as this guest.
def tool(what, book, *extra):
    """Run `fakevm.py what --book book extra...`; its CompletedProcess."""
    import subprocess
    os.makedirs(book, exist_ok=True)
    return subprocess.run([sys.executable, os.path.abspath(__file__), what,
                           "--book", book] + list(extra),
                          capture_output=True, text=True)


def state(book):
    """What `fakevm.py status` says of the guest of book."""
    return tool("status", book).stdout.strip()


def wait_gone(book, timeout, fail):
    """Wait until the guest of book no longer runs, else fail(msg)."""
    deadline = time.monotonic() + timeout
    while state(book) == "running":
        if time.monotonic() > deadline:
            fail("Timed out")
        time.sleep(0.05)


def run(a):
    book = a.book

    def end(how, code):
        write(book, "end", how + "\n")
        os._exit(code)

    def on_term(sig, frame):
        if not a.deaf:
            end("exited 0", 0)

    def on_hup(sig, frame):
        write(book, "saved", "1\n")
        end("exited 0", 0)

    # Its signals are handled before it says it runs.
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if a.pidfile:
        with open(a.pidfile + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(a.pidfile + ".tmp", a.pidfile)
    write(book, "pid", "%d\n" % os.getpid())
    for name in ("end", "saved"):   # it resumes from what it saved
        try:
            os.unlink(path(book, name))
        except FileNotFoundError:
            pass
    write(book, "starts", "%d %d\n" % (os.getpid(), time.monotonic_ns()),
          "a")
    started = time.monotonic()
    while True:
        now = time.monotonic() - started
        if a.crash_after is not None and now >= a.crash_after:
            write(book, "end", "crashed\n")
            signal.signal(signal.SIGSEGV, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGSEGV)
        if a.exit_after is not None and now >= a.exit_after:
            end("exited %d" % a.code, a.code)
        time.sleep(0.02)


def start(a, rest):
    if a.fail:
        sys.stderr.write(a.fail + "\n")
        return 2
    if running(a.book):
        sys.stderr.write("fakevm: already running\n")
        return 1
    before = read(a.book, "starts") or ""
    args = [sys.executable, os.path.abspath(__file__), "run", "--book",
            a.book] + (["--pidfile", a.pidfile] if a.pidfile else []) + rest
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            fd = os.open(os.devnull, os.O_RDWR)
            for i in (0, 1, 2):
                os.dup2(fd, i)
            os.execv(sys.executable, args)
        os._exit(0)
    os.waitpid(pid, 0)
    deadline = time.monotonic() + 10
    while (read(a.book, "starts") or "") == before:
        if time.monotonic() > deadline:
            sys.stderr.write("fakevm: did not start\n")
            return 3
        time.sleep(0.01)
    print("started")
    return 0


def status(a):
    if running(a.book):
        print("running")
    elif a.lag and read(a.book, "pid") and time.monotonic() < lagged(a):
        print("running")
    elif read(a.book, "saved"):
        print("saved")
    else:
        print(read(a.book, "end") or "crashed")
    return 0


def lagged(a):
    """Until when a status says running after the guest is found gone."""
    seen = read(a.book, "seen-gone")
    if seen is None or seen.split()[0] != read(a.book, "pid"):
        seen = "%s %f" % (read(a.book, "pid"), time.monotonic())
        write(a.book, "seen-gone", seen)
    return float(seen.split()[1]) + a.lag


def send(a, sig):
    pid = running(a.book)
    if pid is None:
        sys.stderr.write("fakevm: not running\n")
        return 1
    os.kill(pid, sig)
    return 0


def main():
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        rest = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["run", "start", "status", "stop",
                                    "kill", "suspend"])
    p.add_argument("--book", required=True)
    p.add_argument("--pidfile")
    p.add_argument("--exit-after", type=float)
    p.add_argument("--code", type=int, default=0)
    p.add_argument("--crash-after", type=float)
    p.add_argument("--deaf", action="store_true")
    p.add_argument("--fail")
    p.add_argument("--lag", type=float)
    a = p.parse_args(argv)
    if a.what == "run":
        run(a)
    elif a.what == "start":
        return start(a, rest)
    elif a.what == "status":
        return status(a)
    return send(a, {"stop": signal.SIGTERM, "kill": signal.SIGKILL,
                    "suspend": signal.SIGHUP}[a.what])


if __name__ == "__main__":
    sys.exit(main())

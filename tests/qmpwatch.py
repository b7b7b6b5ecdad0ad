"""A QEMU monitor client for the tests: connects to a QMP socket of the
test's own (a second -qmp on the VM's command line, so vmsched's socket is
left to vmsched), and collects the events QEMU sends (POWERDOWN, STOP,
RESUME, SHUTDOWN...) in a thread, so a test can see what QEMU itself says
happened to it."""
import json
import socket
import threading
import time


class QmpWatch:
    def __init__(self, path, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.file = self.sock.makefile("rw")
        greeting = json.loads(self.file.readline())
        assert "QMP" in greeting, greeting
        self.file.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
        self.file.flush()
        assert "return" in json.loads(self.file.readline())
        self.events = []
        self.closed = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.file:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "event" in msg:
                with self.lock:
                    self.events.append(msg)
        self.closed = True

    def names(self):
        with self.lock:
            return [e["event"] for e in self.events]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

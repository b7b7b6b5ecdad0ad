#!/usr/bin/env python3
"""A webhook receiver for the tests and the demo: an HTTP/1.1 server on
127.0.0.1 that records every request and answers as it is told.

Each request is appended to the --log file as one JSON line:
{"time": unix seconds, "method", "path", "headers": {name: value},
 "body": text, "answer": what it did ("200", "hang", ...), "client_port":
 the sender's port (one port for many requests: the connection was kept)}.
The line is written (and flushed) before the answer is sent, so a test that
sees a line knows the request arrived.

--script is a comma-separated list of answers used in order, one per
request; after the last one every request gets --default (200):
  200, 400, 500, ...   that status
  429:2                that status with "Retry-After: 2"
  hang                 read the request, never answer (until the client
                       gives up or the receiver is killed)
  close                read the request, close the connection unanswered
  partial              send the first bytes of a 200 answer, then close
                       (a receiver that dies mid-response)
  drip                 a 200 answer, one byte a second (drip:0.2 one byte
                       every 0.2 s), until done or the client gives up

Being down is the receiver not running: kill it and start it again with
--port of the first run.

--default-file FILE: when FILE exists, its first line is the default
answer, read again for every request (the chaos campaign switches faults
without restarting the receiver). --brief logs only time, the delivery id
(X-Vmsched-Delivery), the event and the answer: a small line for campaigns
of many thousand requests.

usage: webhook_receiver.py --log FILE [--port N] [--port-file FILE]
                           [--script LIST] [--default STATUS]
                           [--default-file FILE] [--brief]
Prints "listening on PORT" on stdout once it accepts connections, and
writes PORT to --port-file (atomically) if given.
"""
import argparse
import http.server
import json
import os
import socket
import sys
import threading
import time


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, log, script, default, default_file=None,
                 brief=False):
        super().__init__(("127.0.0.1", port), Handler)
        self.log_path = log
        self.script = list(script)
        self.default = default
        self.default_file = default_file
        self.brief = brief
        self.lock = threading.Lock()

    def next_answer(self):
        with self.lock:
            if self.script:
                return self.script.pop(0)
            if self.default_file:
                try:
                    with open(self.default_file) as f:
                        line = f.readline().strip()
                    if line:
                        return line
                except OSError:
                    pass
            return self.default

    def record(self, entry):
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
                f.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as a real receiver
    # Headers and body go out in two writes: without this, Nagle and the
    # client's delayed ACK hold each answer back ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        self.handle_request()

    def do_GET(self):
        self.handle_request()

    def handle_request(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.server.next_answer()
        if self.server.brief:
            self.server.record({
                "time": time.time(),
                "id": self.headers.get("X-Vmsched-Delivery"),
                "event": self.headers.get("X-Vmsched-Event"),
                "answer": answer,
            })
        else:
            self.server.record({
                "time": time.time(),
                "method": self.command,
                "path": self.path,
                "headers": {k: v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "answer": answer,
                "client_port": self.client_address[1],
            })
        if answer == "hang":
            # Hold the connection open without a word; the client's timeout
            # or the end of this process ends it.
            try:
                while self.connection.recv(1024):
                    pass
            except OSError:
                pass
            self.close_connection = True
            return
        if answer == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if answer == "partial" or answer.startswith("drip"):
            reply = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 10\r\n\r\nanswer 200")
            self.close_connection = True
            try:
                if answer == "partial":
                    self.connection.sendall(reply[:len(reply) // 2])
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                _, _, every = answer.partition(":")
                for i in range(len(reply)):
                    self.connection.sendall(reply[i:i + 1])
                    time.sleep(float(every or 1))
            except OSError:
                pass
            return
        status, _, retry_after = answer.partition(":")
        reply = ("answer %s\n" % status).encode()
        self.send_response(int(status))
        if retry_after:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--script", default="")
    ap.add_argument("--default", default="200")
    ap.add_argument("--default-file")
    ap.add_argument("--brief", action="store_true")
    args = ap.parse_args()
    script = [s.strip() for s in args.script.split(",") if s.strip()]
    server = Receiver(args.port, args.log, script, args.default,
                      args.default_file, args.brief)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("listening on %d" % port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Standard Webhooks 1.0 headers (webhook-id, webhook-timestamp,
webhook-signature) beside X-Vmsched-Signature-256, checked by the
standard's reference implementation: the npm package standardwebhooks, run
with node (the Makefile installs it under build/npm and says where in
NODE_MODULES), not by vmsched's own code. And README's receiver, which
refuses a replay by the age of its timestamp, run as it is printed."""
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from vmtest import VmschedCase, wait_for
from test_webhook import Receiver, WebhookCase, header, signature_ok

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_MODULES = os.environ.get("NODE_MODULES") or os.path.join(
    HERE, "..", "build", "npm", "node_modules")

# Verify one recorded request with the reference implementation; print
# "ok" or the library's error. now_offset_s moves node's clock.
VERIFY_JS = r"""
const { Webhook } = require("standardwebhooks");
const req = JSON.parse(require("fs").readFileSync(0, "utf8"));
const realNow = Date.now;
Date.now = () => realNow() + req.now_offset_s * 1000;
try {
    const wh = req.raw ? new Webhook(req.secret, { format: "raw" })
                       : new Webhook(req.secret);
    wh.verify(req.body, req.headers);
    console.log("ok");
} catch (e) {
    console.log(e.message);
}
"""

WHSEC = "whsec_" + base64.b64encode(bytes(range(1, 33))).decode()


def verify(req, secret, raw=False, now_offset_s=0, headers=None):
    """What standardwebhooks says of the request: "ok" or its error."""
    pkg = os.path.join(NODE_MODULES, "standardwebhooks", "package.json")
    if not os.path.exists(pkg):
        raise AssertionError("%s: missing; `make integration` installs "
                             "it (npm install --prefix build/npm)" % pkg)
    proc = subprocess.run(
        ["node", "-e", VERIFY_JS], capture_output=True, text=True,
        input=json.dumps({"secret": secret, "raw": raw,
                          "body": req["body"],
                          "headers": headers or req["headers"],
                          "now_offset_s": now_offset_s}),
        env=dict(os.environ, NODE_PATH=NODE_MODULES), timeout=60)
    if proc.returncode != 0:
        raise AssertionError("node: %r" % proc)
    return proc.stdout.strip()


class Headers(WebhookCase):

    def test_reference_implementation_verifies(self):
        self.receiver.start()
        self.ok("webhook", "set", self.receiver.url, "--secret", WHSEC)
        t0 = int(time.time())
        self.ok("webhook", "test")
        req, = self.receiver.requests()
        self.assertEqual(verify(req, WHSEC), "ok")
        self.assertEqual(header(req, "webhook-id"),
                         header(req, "X-Vmsched-Delivery"))
        ts = int(header(req, "webhook-timestamp"))
        self.assertTrue(t0 <= ts <= time.time() + 1, ts)
        self.assertRegex(header(req, "webhook-signature"),
                         r"^v1,[A-Za-z0-9+/]{43}=$")
        # The older header is still there, keyed with the secret's bytes.
        self.assertTrue(signature_ok(req, WHSEC))

    def test_tampering_and_replays_refused(self):
        self.receiver.start()
        self.ok("webhook", "set", self.receiver.url, "--secret", WHSEC)
        self.ok("webhook", "test")
        req, = self.receiver.requests()
        hdrs = dict(req["headers"])
        # The same request an hour later: too old for the library.
        self.assertEqual(verify(req, WHSEC, now_offset_s=3600),
                         "Message timestamp too old")
        # A replay that claims a fresh time no longer matches.
        for k in list(hdrs):
            if k.lower() == "webhook-timestamp":
                hdrs[k] = str(int(hdrs[k]) + 1)
        self.assertEqual(verify(req, WHSEC, headers=hdrs),
                         "No matching signature found")
        # Another body, another key.
        self.assertEqual(verify(dict(req, body=req["body"] + " "), WHSEC),
                         "No matching signature found")
        other = "whsec_" + base64.b64encode(b"x" * 32).decode()
        self.assertEqual(verify(req, other), "No matching signature found")

    def test_older_secret_is_raw(self):
        """A secret set before (not whsec_...) keys with its own bytes,
        as the libraries' format "raw" has it."""
        self.receiver.start()
        self.ok("webhook", "set", self.receiver.url, "--secret", "s3cret")
        self.ok("webhook", "test")
        req, = self.receiver.requests()
        self.assertEqual(verify(req, "s3cret", raw=True), "ok")
        self.assertTrue(signature_ok(req, "s3cret"))

    def test_retry_same_id_new_timestamp(self):
        self.receiver.start(script="500,200")
        self.ok("webhook", "set", self.receiver.url, "--secret", WHSEC)
        self.add_event("vm.failed", "a")
        self.drain()
        first, second = self.receiver.requests()
        self.assertEqual(header(first, "webhook-id"),
                         header(second, "webhook-id"))
        self.assertLess(int(header(first, "webhook-timestamp")),
                        int(header(second, "webhook-timestamp")))
        self.assertEqual(verify(first, WHSEC), "ok")
        self.assertEqual(verify(second, WHSEC), "ok")

    def test_no_secret_no_signature(self):
        self.receiver.start()
        self.ok("webhook", "set", self.receiver.url)
        self.ok("webhook", "test")
        req, = self.receiver.requests()
        self.assertIsNotNone(header(req, "webhook-id"))
        self.assertIsNotNone(header(req, "webhook-timestamp"))
        self.assertIsNone(header(req, "webhook-signature"))
        self.assertIsNone(header(req, "X-Vmsched-Signature-256"))

    def test_bad_whsec_refused(self):
        self.ok("db", "migrate")
        for bad in ("whsec_", "whsec_not base64", "whsec_abc"):
            r = self.fails(64, "webhook", "set", "http://127.0.0.1:1/",
                           "--secret", bad)
            self.assertIn(b"--secret", r.err)
            self.assertIn(b"base64", r.err)
        self.assertNotIn(b"url", self.ok("webhook", "show").out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReadmeReceiver(VmschedCase):
    """The Standard Webhooks receiver README prints, run as printed (its
    port made free): vmsched's request gets 204, a replay 401."""

    def receiver_code(self):
        with open(os.path.join(HERE, "..", "README.md")) as f:
            readme = f.read()
        m = re.search(r"\n((?:    .*\n|\n)*?    .*webhook-timestamp(?:.*\n"
                      r"|\n)*?    .*serve_forever\(\)\n)", readme)
        self.assertIsNotNone(m, "README has no Standard Webhooks receiver")
        code = "\n".join(l[4:] for l in m.group(1).splitlines())
        secret = re.search(r'SECRET = "(whsec_[^"]+)"', code).group(1)
        return code, secret

    def test_readme_receiver(self):
        code, secret = self.receiver_code()
        port = free_port()
        self.assertIn("8080", code)
        proc = subprocess.Popen([sys.executable, "-c",
                                 code.replace("8080", str(port))],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        url = "http://127.0.0.1:%d/hook" % port

        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return True
            except OSError:
                return proc.poll() is not None
        wait_for(listening, what="README's receiver")
        if proc.poll() is not None:
            self.fail("README's receiver: %s" % proc.stderr.read())
        self.ok("webhook", "set", url, "--secret", secret)
        self.assertIn(b"HTTP 204", self.ok("webhook", "test").out)

        # A request signed right but ten minutes old: refused.
        key = base64.b64decode(secret[len("whsec_"):])
        body = b'{"id": 1}'
        for age, want in ((600, 401), (0, 204)):
            ts = str(int(time.time()) - age)
            sig = base64.b64encode(hmac.new(
                key, b"msg_1." + ts.encode() + b"." + body,
                hashlib.sha256).digest()).decode()
            req = urllib.request.Request(url, data=body, headers={
                "webhook-id": "msg_1", "webhook-timestamp": ts,
                "webhook-signature": "v1," + sig})
            try:
                status = urllib.request.urlopen(req, timeout=10).status
            except urllib.error.HTTPError as e:
                status = e.code
            self.assertEqual(status, want, age)
        # With the other vmsched secret: refused.
        self.ok("webhook", "set", url, "--secret", "whsec_" +
                base64.b64encode(b"y" * 32).decode())
        self.fails(69, "webhook", "test")

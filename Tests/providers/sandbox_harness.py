"""Shared machinery for the provider conformance tests: a real `baton sandbox`
process on a free loopback port, its stderr drained in a thread (so it can never
block on a full pipe), the `/_sandbox/...` test controls over plain HTTP, and
bounded waits.

Standard library only (the SDKs are imported by the tests themselves). The binary
is $BATON_BIN (default .build/debug/baton, relative to the current directory).
"""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import sys as _sys
_sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from testkit import stop_process, wait_for  # noqa: E402


BATON_BIN = os.path.abspath(os.environ.get("BATON_BIN", ".build/debug/baton"))
START_TIMEOUT = float(os.environ.get("SANDBOX_START_TIMEOUT", "10"))

LISTEN_RE = re.compile(r"event=listen\b.*?\baddress=(\S+)")
SMTP_LISTEN_RE = re.compile(r"event=smtp_listen\b.*?\baddress=(\S+)")




def word_count(text):
    return len(text.split())


class Sandbox:
    """One `baton sandbox` process with its own SQLite file in a temporary folder.

    Use as a context manager, or call start()/stop(). `base` is http://HOST:PORT,
    `smtp_address` (HOST, PORT) when started with smtp=True."""

    def __init__(self, smtp=False, extra_args=()):
        self.smtp = smtp
        self.extra_args = list(extra_args)
        self.proc = None
        self.tmp = None
        self.lines = []
        self._cond = threading.Condition()
        self._reader = None
        self.address = None
        self.smtp_address = None

    # -- process ------------------------------------------------------------
    def start(self):
        if not os.access(BATON_BIN, os.X_OK):
            raise RuntimeError(f"baton binary not found or not executable: {BATON_BIN} (set BATON_BIN)")
        self.tmp = tempfile.mkdtemp(prefix="baton-sandbox-test.")
        argv = [BATON_BIN, "sandbox", "--listen", "127.0.0.1:0",
                "--db", f"sqlite:{self.tmp}/sandbox.db"]
        if self.smtp:
            argv += ["--smtp-listen", "127.0.0.1:0"]
        argv += self.extra_args
        env = dict(os.environ)
        env.pop("BATON_API_TOKEN", None)  # loopback only, no token
        self.proc = subprocess.Popen(argv, cwd=self.tmp, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._drain, name="sandbox-stderr", daemon=True)
        self._reader.start()
        try:
            self.address = self._wait_line(LISTEN_RE, "event=listen")
            if self.smtp:
                host, port = self._wait_line(SMTP_LISTEN_RE, "event=smtp_listen").rsplit(":", 1)
                self.smtp_address = (host, int(port))
        except Exception:
            self.stop()
            raise
        self.base = f"http://{self.address}"
        return self

    def _drain(self):
        for raw in self.proc.stderr:
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _wait_line(self, pattern, what):
        deadline = time.monotonic() + START_TIMEOUT
        seen = 0
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    m = pattern.search(line)
                    if m:
                        return m.group(1)
                seen = len(self.lines)
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise RuntimeError(f"baton sandbox exited ({self.proc.returncode}) before logging "
                                       f"{what}; stderr:\n" + "\n".join(self.lines[-40:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"baton sandbox did not log {what} within {START_TIMEOUT}s; "
                                       "stderr:\n" + "\n".join(self.lines[-40:]))
                self._cond.wait(min(left, 0.2))

    def stderr_tail(self, n=40):
        with self._cond:
            return "\n".join(self.lines[-n:])

    def stop(self):
        stop_process(self.proc)
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- test controls ------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=10):
        host, port = self.address.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            hdrs = dict(headers or {})
            data = None
            if body is not None:
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                if isinstance(data, str):
                    data = data.encode()
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read()
        finally:
            conn.close()

    def deliveries(self, provider=None, to=None):
        q = {k: v for k, v in (("provider", provider), ("to", to)) if v is not None}
        path = "/_sandbox/deliveries" + ("?" + urllib.parse.urlencode(q) if q else "")
        status, _, body = self.request("GET", path)
        if status != 200:
            raise AssertionError(f"GET {path} -> {status} {body[:300]!r}")
        doc = json.loads(body)
        if not isinstance(doc, dict) or not isinstance(doc.get("deliveries"), list):
            raise AssertionError(f"GET {path}: expected {{\"deliveries\": [...]}}, got {body[:300]!r}")
        return doc["deliveries"]

    def clear_deliveries(self):
        status, _, body = self.request("DELETE", "/_sandbox/deliveries")
        if status // 100 != 2:
            raise AssertionError(f"DELETE /_sandbox/deliveries -> {status} {body[:300]!r}")

    def queue_faults(self, faults, provider=None):
        doc = {"faults": faults}
        if provider is not None:
            doc["provider"] = provider
        status, _, body = self.request("POST", "/_sandbox/faults", doc)
        if status // 100 != 2:
            raise AssertionError(f"POST /_sandbox/faults {doc} -> {status} {body[:300]!r}")

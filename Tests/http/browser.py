"""Headless Chromium for the dashboard tests (and screenshot.py): one-shot DOM dumps
and screenshots, a Page driven over the DevTools protocol (on a pipe, standard library
only) to click and read the live page, and a small PNG reader so a screenshot can be
judged by its pixels, not just its size."""

import base64
import json
import os
import select
import time
import shutil
import struct
import subprocess
import tempfile
import zlib
import sys as _sys
_sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from testkit import wait_for  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium(args, timeout=60):
    profile = tempfile.mkdtemp(prefix="baton-chromium-")
    try:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
        if p.returncode != 0:
            raise AssertionError(f"chromium exited {p.returncode}: {p.stderr.decode()[-2000:]}")
        return p.stdout.decode("utf-8", "replace")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def dump_dom(url, budget_ms=5000):
    """The DOM after the page's scripts ran for budget_ms of virtual time."""
    return _chromium(["--virtual-time-budget=%d" % budget_ms, "--dump-dom", url])


def screenshot(url, path, size=(1200, 800), budget_ms=5000):
    _chromium(["--virtual-time-budget=%d" % budget_ms, f"--screenshot={path}",
               f"--window-size={size[0]},{size[1]}", url])
    if not os.path.exists(path):
        raise AssertionError(f"chromium wrote no screenshot at {path}")
    return path


class Page:
    """A live headless Chromium tab, driven over the DevTools protocol on a pipe
    (--remote-debugging-pipe: JSON messages, NUL-terminated, on fds 3 and 4)."""

    def __init__(self, url, size=(1280, 900), timeout=30):
        self.profile = tempfile.mkdtemp(prefix="baton-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # The child's fds 3 and 4 must be these pipe ends.
        def child_fds():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--hide-scrollbars", f"--user-data-dir={self.profile}",
               "--remote-debugging-pipe", f"--window-size={size[0]},{size[1]}", "about:blank"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=child_fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf, self._id, self.session, self.timeout = b"", 0, None, timeout
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1, mobile=False)
        self.goto(url)

    def call(self, method, **params):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    if "error" in reply:
                        raise AssertionError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise AssertionError(f"chromium did not answer {method} within {self.timeout}s")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise AssertionError("chromium closed the DevTools pipe")
            self._buf += chunk

    def eval(self, expression):
        """The value of a JavaScript expression in the page (awaited if a promise)."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression!r} threw: {r['exceptionDetails'].get('exception', {}).get('description')}")
        return r["result"].get("value")

    def goto(self, url):
        self.eval("document.body && delete document.body.dataset.loaded")
        self.call("Page.navigate", url=url)

    def wait(self, what, expression, timeout=15):
        """Polls a JavaScript expression until it is truthy; returns its value. While the
        page is still loading, an expression that throws (an element not there yet)
        counts as not yet, with the error kept for the timeout's message."""
        # An element found counts as true (it cannot be returned by value).
        probe = (f"(() => {{ try {{ const v = ({expression}); return v instanceof Node ? true : v; }}"
                 f" catch (e) {{ return e instanceof TypeError ? null : (() => {{ throw e; }})(); }} }})()")
        return wait_for(what, lambda: self.eval(probe), timeout=timeout, interval=0.1)

    def click(self, selector):
        """A real mouse click at the middle of the element (it must be visible)."""
        box = self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
                        " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                        " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        if not box:
            raise AssertionError(f"nothing to click at {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type(self, text):
        self.call("Input.insertText", text=text)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.call("Browser.close")
        except AssertionError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        for fd in (self._to_chrome, self._from_chrome):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


def read_png(path):
    """(width, height, rows) of an 8-bit, non-interlaced PNG; rows are lists of
    pixel tuples. Enough for Chromium's screenshots."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, color type {color}, interlace {interlace}")
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + channels]) for x in range(0, stride, channels)])
        prev = line
    return width, height, rows

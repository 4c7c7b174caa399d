"""Headless Chromium for the dashboard tests (and screenshot.py), plus a small PNG
reader so a screenshot can be judged by its pixels, not just its size."""

import os
import shutil
import struct
import subprocess
import tempfile
import zlib

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

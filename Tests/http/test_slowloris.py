"""Slow clients (issue 11, 5.1): a client that sends a byte a second never goes idle,
so libmicrohttpd's idle timeout never closes it. baton closes a connection whose
request has not fully arrived 10 s after its accept (docs/http.md, Limits), and caps
the connections one client address holds, so 1,200 such connections from one
address stop neither /healthz nor a signed webhook from another."""

import errno
import resource
import socket
import threading
import time
import unittest

from harness import ServerTestCase, wait_for

ATTACKERS = 1200
# Any 127.0.0.0/8 address is this machine's: the attack comes from one of them, the
# checks from 127.0.0.1, as an attacker and a real sender would be two addresses.
ATTACK_FROM = "127.0.0.2"
TRICKLE = b"POST /hooks/quick HTTP/1.1\r\nHost: x\r\nX-Slow: "


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise AssertionError(f"this test needs {needed} open files; the hard limit is {hard} (raise it: ulimit -Hn)")


class Trickler:
    """One slow client: sends the next byte of a never-ending request each round; when
    the server closes it, it connects again (as an attacker would)."""

    def __init__(self, host, port, source=None):
        self.host, self.port, self.source = host, port, source
        self.sock = None
        self.sent = 0
        self.opened_at = None
        self.closed_after = []  # seconds each connection lived before the server closed it

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.source:
            s.bind((self.source, 0))
        s.setblocking(False)
        err = s.connect_ex((self.host, self.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return
        self.sock, self.sent, self.opened_at = s, 0, time.monotonic()

    def step(self):
        if self.sock is None:
            self.connect()
            return
        byte = TRICKLE[self.sent:self.sent + 1] or b"a"
        try:
            # A peer that closed shows as EOF (b"") or a reset on read.
            try:
                if self.sock.recv(4096) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                pass
            self.sock.send(byte)
            self.sent += 1
        except BlockingIOError:
            pass  # connect still in progress
        except OSError:
            self.closed_after.append(time.monotonic() - self.opened_at)
            self.sock.close()
            self.sock = None

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class SlowClientTests(ServerTestCase):

    def testATricklingConnectionIsClosedAtTheRequestDeadline(self):
        # Five connections each send a byte every half second: never idle for 10 s, so
        # only the whole-request deadline can close them.
        ts = [Trickler(self.server.host, self.server.port) for _ in range(5)]
        started = time.monotonic()
        try:
            def all_closed():
                for t in ts:
                    if not t.closed_after:
                        t.step()
                return all(t.closed_after for t in ts)

            wait_for("baton to close 5 trickling connections", all_closed, timeout=16, interval=0.5)
        finally:
            for t in ts:
                t.close()
        lived = [t.closed_after[0] for t in ts]
        self.assertTrue(all(8 <= x <= 14 for x in lived), f"connections lived {lived}s, expected about 10 s")
        self.assertLess(time.monotonic() - started, 16)
        self.assertEqual(self.server.get("/healthz").status, 200)

    def testTwelveHundredTricklersStopNeitherHealthzNorAWebhook(self):
        raise_fd_limit(ATTACKERS + 200)
        attackers = [Trickler(self.server.host, self.server.port, source=ATTACK_FROM) for _ in range(ATTACKERS)]
        stop = threading.Event()

        def attack():
            # Every attacker sends a byte a second (and reconnects when closed).
            while not stop.is_set():
                round_start = time.monotonic()
                for a in attackers:
                    a.step()
                stop.wait(max(0.0, 1.0 - (time.monotonic() - round_start)))

        thread = threading.Thread(target=attack, daemon=True)
        thread.start()
        slow = []
        checks = 0
        try:
            # The attack is under way once (nearly) every attacker holds a connection.
            wait_for("the attackers to connect", lambda: sum(1 for a in attackers if a.sock is not None) > 900,
                     timeout=10, interval=0.1)
            # For 14 s (past the 10 s deadline, so closed tricklers reconnect), /healthz
            # and a signed webhook from another address are answered within 2 s.
            until = time.monotonic() + 14
            while time.monotonic() < until:
                for what, call in (("GET /healthz", lambda: self.server.get("/healthz", timeout=5)),
                                   ("POST /hooks/quick", lambda: self.server.hook("quick", timeout=5))):
                    t0 = time.monotonic()
                    try:
                        resp = call()
                        status = resp.status
                    except OSError as e:
                        status = f"no answer ({e})"
                    took = time.monotonic() - t0
                    checks += 1
                    if status not in (200, 202) or took > 2.0:
                        slow.append((what, status, round(took, 2)))
                time.sleep(0.5)
        finally:
            stop.set()
            thread.join(10)
            for a in attackers:
                a.close()
        self.assertEqual(slow, [], f"{len(slow)} of {checks} requests were refused or slow during the attack")
        self.assertGreater(checks, 20)
        # The attackers that got in were cut off by the deadline, not by idleness.
        lived = [x for a in attackers for x in a.closed_after if x > 1]
        self.assertTrue(lived, "no trickler was ever closed after it got in")
        self.assertTrue(all(x < 15 for x in lived), f"a trickler lived {max(lived):.1f}s")


# Keep the attacker's address honest: 127.0.0.2 must be bindable here (Linux: all of
# 127.0.0.0/8 is loopback).
def setUpModule():
    s = socket.socket()
    try:
        s.bind((ATTACK_FROM, 0))
    finally:
        s.close()


if __name__ == "__main__":
    unittest.main()

"""Wake-ups without hammering (issue 15, item 4): daemons on one PostgreSQL database
learn of each other's changes through LISTEN/NOTIFY, not by polling.

Every daemon here runs with BATON_BACKSTOP_MS=60000: while its listener is up, its
polls (pauses, runs nobody holds, a driven run's cancel flag within a third of its
30 s lease) wait a minute, so whatever happens within a few seconds below happened
through a notification. Without the notification path each test fails: the pause,
the cancel and the queued run would wait for those polls.

- `baton pause JOB` (its own process) stops both daemons' fires of JOB within ~1 s;
  `baton unpause` starts them again as quickly;
- `baton cancel RUN` reaches the daemon driving RUN within ~2 s (its own cancel-flag
  read comes every 10 s here);
- a webhook run recorded by `baton serve --intake-only` (which drives nothing) is
  picked up by a `baton run` daemon within ~2 s;
- a run let go by a draining daemon (SIGTERM: its slice ends, the cursor is
  committed, the run released) is taken up by the other daemon within ~2 s;
- the listener's connection terminated (`pg_terminate_backend`, found by its
  application_name `baton-listen`): the daemon says so once, connects again, and a
  pause still reaches it at once.
"""
import hashlib
import hmac
import http.client
import json
import math
import re
import signal
import time
import unittest

from pg_harness import PgWorld, daemon_started, require_postgres, wait_exit, wait_for

SLOW = {"BATON_BACKSTOP_MS": "60000"}
SECRET = "s3cret-for-notify-tests"
LISTEN = re.compile(r"event=listen\b.*?\baddress=(\S+)")


def seconds(text):
    import datetime
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class NotifyTests(unittest.TestCase):

    def world(self, jobs):
        require_postgres(self)
        w = PgWorld(jobs).create_store()
        self.addCleanup(w.cleanup)
        return w

    def listeners(self, w):
        return [int(x) for x in w.sql(
            f"SELECT pid FROM pg_stat_activity WHERE application_name = 'baton-listen' "
            f"AND datname = '{w.database}' ORDER BY pid").split()]

    def start_daemons(self, w, n, *args):
        daemons = [w.start("run", "--lease", "30s", *args, env=SLOW) for _ in range(n)]
        wait_for("the daemons to start", lambda: all(daemon_started(d) for d in daemons), timeout=30)
        wait_for(f"{n} listening connections", lambda: len(self.listeners(w)) == n, timeout=30, interval=0.2)
        return daemons

    def fires(self, w, job):
        return sorted(seconds(r["scheduled_at"]) for r in w.runs(job))

    def assertPauseStopsAndUnpauseStarts(self, w):
        """`tick` fires every second; `free` too, and keeps firing as the clock."""
        wait_for("tick to fire", lambda: self.fires(w, "tick"), timeout=30, interval=0.3)
        r = w.cli("pause", "tick")
        self.assertEqual(r.returncode, 0, r.stderr)
        paused = time.time()
        wait_for("free to fire 4 s after the pause",
                 lambda: any(t >= paused + 4 for t in self.fires(w, "free")), timeout=30, interval=0.3)
        late = [t for t in self.fires(w, "tick") if t >= paused + 1.5]
        self.assertEqual(late, [], f"tick fired at {late}, though paused at {paused:.2f}\n{w.diagnostics()}")
        r = w.cli("unpause", "tick")
        self.assertEqual(r.returncode, 0, r.stderr)
        unpaused = time.time()
        first = wait_for("tick to fire again", lambda: next(
            (t for t in self.fires(w, "tick") if t >= unpaused), None), timeout=30, interval=0.3)
        self.assertLessEqual(first, math.ceil(unpaused) + 2, f"unpaused at {unpaused:.2f}, first fire at {first}")

    def testPauseFromTheCommandLineReachesEveryDaemonAtOnce(self):
        w = self.world("* * * * * *  tick  overlap=allow misfire=skip {h} 1 0.05\n"
                       "* * * * * *  free  overlap=allow misfire=skip {h} 1 0.05\n")
        self.start_daemons(w, 2)
        self.assertPauseStopsAndUnpauseStarts(w)

    def testCancelReachesTheDrivingDaemonAtOnce(self):
        w = self.world("* * * * * *  long  overlap=skip misfire=skip budget=60s {h} 1 40\n")
        self.start_daemons(w, 2)
        run = wait_for("a run of long to start its slice", lambda: next(
            (x["run"] for x in w.starts()), None), timeout=30, interval=0.3)
        r = w.cli("cancel", run)
        self.assertEqual(r.returncode, 0, r.stderr)
        asked = time.time()
        wait_for("the run to be cancelled", lambda: w.show(run)["status"] == "cancelled", timeout=30, interval=0.2)
        took = time.time() - asked
        self.assertLess(took, 2.5, f"the cancel took {took:.1f} s to reach the driver\n{w.diagnostics(run)}")

    def serve(self, w, *args):
        """`baton serve --listen` (with `args`); returns a function that posts a signed
        webhook to it and returns the run id."""
        server = w.start("serve", *args, "--listen", "127.0.0.1:0", env={**SLOW, "BATON_WEBHOOK_SECRET": SECRET})
        address = wait_for("the server to listen", lambda: next(
            (m.group(1) for line in server.stderr() for m in [LISTEN.search(line)] if m), None), timeout=30)
        host, port = address.rsplit(":", 1)

        def hook(job):
            body = json.dumps({"n": time.time()}).encode()
            ts = int(time.time())
            signature = "sha256=" + hmac.new(SECRET.encode(), str(ts).encode() + b"." + body,
                                             hashlib.sha256).hexdigest()
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("POST", f"/hooks/{job}", body=body, headers={
                "X-Baton-Timestamp": str(ts), "X-Baton-Signature": signature, "Content-Type": "application/json"})
            answer = conn.getresponse()
            text = answer.read()
            conn.close()
            self.assertEqual(answer.status, 202, text)
            return json.loads(text)["run_id"]
        return hook

    def testARunQueuedByAnIntakeOnlyServerIsPickedUpAtOnce(self):
        w = self.world("@daily  hooked  {h} 1 0.05\n")
        self.start_daemons(w, 1)
        hook = self.serve(w, "--intake-only")
        run = hook("hooked")
        accepted = time.time()
        wait_for("the daemon to finish the queued run", lambda: w.show(run)["status"] == "succeeded",
                 timeout=30, interval=0.2)
        took = time.time() - accepted
        self.assertLess(took, 2.5, f"the queued run waited {took:.1f} s for a driver\n{w.diagnostics(run)}")

    def testAQueuedRunWaitsBehindItsJobsRunOnAnotherDaemon(self):
        """overlap=queue: the second webhook's run is queued behind the first, which the
        server drives; the other daemon, told of the queued run at once, must not start
        it while the first runs (it starts it when told the first ended)."""
        w = self.world("@daily  hooked  overlap=queue budget=30s {h} 1 3\n")
        self.start_daemons(w, 1)
        hook = self.serve(w)
        first = hook("hooked")
        wait_for("the first run to start", lambda: w.starts(first), timeout=30, interval=0.1)
        second = hook("hooked")
        for run in (first, second):
            wait_for(f"run {run} to succeed", lambda: w.show(run)["status"] == "succeeded", timeout=60, interval=0.3)
        spans = {r: (min(x["t"] for x in w.ledger(r) if x["ev"] == "start"),
                     max(x["t"] for x in w.ledger(r) if x["ev"] == "end")) for r in (first, second)}
        self.assertGreaterEqual(spans[second][0], spans[first][1],
                                f"the queued run started while the first ran: {spans}\n{w.diagnostics()}")

    def testARunReleasedByADrainingDaemonIsTakenUpAtOnce(self):
        w = self.world("* * * * * *  multi  overlap=skip misfire=skip budget=30s {h} 4 1\n")
        daemons = self.start_daemons(w, 2)
        first = wait_for("a run of multi to start", lambda: next(iter(w.starts()), None), timeout=30, interval=0.2)
        run, driver = first["run"], next(d for d in daemons if d.pid == first["ppid"])
        driver.signal(signal.SIGTERM)
        wait_exit(driver, 30)
        ended = max(x["t"] for x in w.ledger(run) if x["ev"] == "end")
        other = next(d for d in daemons if d is not driver)
        resumed = wait_for("the other daemon to go on with the run", lambda: next(
            (x for x in w.starts(run) if x["ppid"] == other.pid), None), timeout=30, interval=0.2)
        waited = resumed["t"] - ended
        self.assertLess(waited, 2.5, f"the released run waited {waited:.1f} s for a driver\n{w.diagnostics(run)}")
        wait_for("the run to succeed", lambda: w.show(run)["status"] == "succeeded", timeout=30, interval=0.3)

    def testTheListenerReconnectsAfterItsConnectionIsKilled(self):
        w = self.world("* * * * * *  tick  overlap=allow misfire=skip {h} 1 0.05\n"
                       "* * * * * *  free  overlap=allow misfire=skip {h} 1 0.05\n")
        (d,) = self.start_daemons(w, 1)
        (before,) = self.listeners(w)
        w.sql(f"SELECT pg_terminate_backend({before})")
        wait_for("a new listening connection", lambda: self.listeners(w) not in ([], [before]), timeout=30,
                 interval=0.2)
        lost = [x for x in d.stderr() if "listening for other daemons' changes" in x]
        self.assertEqual(len(lost), 1, "the lost listener was not said once:\n" + "\n".join(d.stderr()[-20:]))
        self.assertNotRegex(lost[0], r"://[^/\s:@]*:[^@\s]*@", "a password in the log")
        self.assertPauseStopsAndUnpauseStarts(w)


if __name__ == "__main__":
    unittest.main()

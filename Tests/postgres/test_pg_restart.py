"""PostgreSQL stopped for 30 s and started again, and every connection cut, under two
`baton run` daemons (issue 15, item 5).

A private server (ops/test-postgres.sh: its own data directory and port, so stopping it
disturbs no other test). Three jobs fire every 3 s on both daemons, one per `misfire=`
policy, and a fourth makes one run of 3 slices of 12 s. While that run's slice 2 runs,
the server is stopped (`pg_ctl stop -m fast`); for 30 s its port is held by a listener
that accepts each connection and closes it at once, counting them (how hard the daemons
knock); then the server starts again on the same data directory and port. Later every
baton connection is cut (`pg_terminate_backend`). Judged by the store, the handler's
ledger, `/healthz` and the daemons' logs:

- both daemons stay up; `/healthz` says 503 with the store's reason during the outage
  and 200 after it;
- slice 2, running when the server stopped, runs once, ends during the outage, and its
  result is committed after the restart; no slice starts during the outage; the run
  succeeds with each slice committed once, none lost;
- every run finished before the stop is still there as it was;
- one run per (job, nominal time); the fires due during the outage follow `misfire=`
  once the database is back (the store's last fire decides, as after a restart of
  every daemon): `all` runs each of them, `skip` and `once` at most one (for an outage
  under a minute the newest fire is on time, so both run it; docs/scaling.md);
- the daemons reconnect with back-off (a few connection attempts, not one per query);
- each daemon logs one error per outage (`store_down`) and one line when it is back
  (`store_back … after 3x.x s`), nothing per failed query.
"""
import datetime
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from pg_harness import (LISTEN, PgWorld, concurrency_violations, daemon_started, healthz, outage_lines, psql,
                        require_postgres, wait_exit, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "ops", "test-postgres.sh")
OUTAGE = 30.0
PERIOD = 3


def server(cmd, pgdir):
    r = subprocess.run(["bash", SCRIPT, cmd, pgdir], capture_output=True, text=True, timeout=90)
    if r.returncode != 0:
        raise AssertionError(f"test-postgres.sh {cmd} exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout.strip()


def epoch(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


class Knocker:
    """Holds the stopped server's port: accepts each connection and closes it at once
    (the server is not there), counting them."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.count = 0
        self.stopped = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.count += 1
            conn.close()

    def close(self):
        self.stopped = True
        self.thread.join(5)
        self.sock.close()


class RestartTests(unittest.TestCase):

    def setUp(self):
        require_postgres(self)
        self.pgdir = tempfile.mkdtemp(prefix="baton-pg-restart.")
        self.addCleanup(server, "stop", self.pgdir)
        self.url = server("start", self.pgdir)
        with open(os.path.join(self.pgdir, "port")) as f:
            self.port = int(f.read())

    def testTwoDaemonsCarryOnAcrossAStoppedServerAndACutConnection(self):
        when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=8)
        slow = f"{when.second} {when.minute} {when.hour} {when.day} {when.month} *"
        every = f"*/{PERIOD} * * * * *"
        jobs = (f"{every}  skip   misfire=skip overlap=allow budget=20s {{h}} 1 0.2\n"
                f"{every}  once   misfire=once overlap=allow budget=20s {{h}} 1 0.2\n"
                f"{every}  all    misfire=all  overlap=allow budget=20s {{h}} 1 0.2\n"
                f"{slow}  slow  misfire=once budget=60s grace=1s retries=0 {{h}} 3 12\n")
        w = PgWorld(jobs, server=self.url).create_store()
        self.addCleanup(w.cleanup)
        daemons = [w.start("run", "--listen", "127.0.0.1:0") for _ in range(2)]
        wait_for("both daemons to start", lambda: all(daemon_started(d) for d in daemons), timeout=30)
        addresses = [wait_for("a daemon to listen", lambda d=d: next(
            (m.group(1) for line in d.stderr() for m in [LISTEN.search(line)] if m), None), timeout=30) for d in daemons]
        for a in addresses:
            self.assertEqual(healthz(a)[0], 200)

        # Only the slow job's runs have a slice 2.
        start2 = wait_for("the slow run's slice 2 to start", lambda: next(
            (r for r in w.starts() if r["slice"] == 2), None), timeout=60, interval=0.1)
        run = start2["run"]
        before = {r["run_id"]: r for r in w.runs()}

        server("halt", self.pgdir)
        stopped = time.time()
        knocker = Knocker(self.port)
        try:
            reasons = []
            for a in addresses:
                status, body = wait_for("healthz to say 503", lambda a=a: (lambda r: r if r[0] == 503 else None)(healthz(a)),
                                        timeout=15, interval=0.5)
                reasons.append(body.get("error", ""))
            ended_in_outage = wait_for("slice 2 to end during the outage", lambda: next(
                (r for r in w.ledger(run) if r["ev"] == "end" and r["slice"] == 2), None), timeout=OUTAGE, interval=0.2)
            alive = [d.poll() is None for d in daemons]
            # The outage lasts its 30 s: the port stays held that long, whatever happened.
            wait_for("the outage's end", lambda: time.time() - stopped >= OUTAGE, timeout=OUTAGE + 5, interval=0.5)
        finally:
            knocker.close()
        server("restart", self.pgdir)
        restarted = time.time()
        knocks = knocker.count
        # The slow run's lease ran out while the server was down, but its driver is alive
        # and holds slice 2's result: a restarted server gives it a lease's time to renew
        # before anyone else may take the run (a takeover now would run slice 2 again).
        taken = w.cli("resume", run)

        for a in addresses:
            wait_for("healthz to say 200 again", lambda a=a: healthz(a)[0] == 200, timeout=30, interval=0.5)
        start3 = wait_for("slice 3 to start", lambda: next(
            (r for r in w.starts(run) if r["slice"] == 3), None), timeout=60, interval=0.2)
        # A store counts as back once it has answered for 10 s without a failure.
        for d in daemons:
            wait_for("the outage's store_back line", lambda d=d: any("event=store_back" in x for x in d.stderr()),
                     timeout=30, interval=0.5)

        # Every baton connection cut while the jobs fire: a second, short outage.
        cut = psql(self.url, f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             f"WHERE datname = '{w.database}' AND application_name = 'baton' AND pid <> pg_backend_pid()")
        cut_at = time.time()
        shown = w.wait_status(run, ("succeeded", "failed", "cancelled", "partial"), timeout=60)
        wait_for("fires after the cut", lambda: all(
            any(epoch(r["scheduled_at"]) > cut_at + PERIOD for r in w.runs(job)) for job in ("skip", "once", "all")),
            timeout=30, interval=0.5)
        for d in daemons:
            wait_for("each outage's store_back line", lambda d=d: len([x for x in d.stderr() if "event=store_back" in x])
                     >= len([x for x in d.stderr() if "event=store_down" in x]), timeout=30, interval=0.5)
        up_after = [d.poll() is None for d in daemons]
        for d in daemons:
            d.signal(signal.SIGTERM)
        for d in daemons:
            wait_exit(d, 30)

        problems = []
        if taken.returncode == 0 or "driven by" not in taken.stderr:
            problems.append(f"baton resume took the run over right after the restart (exit {taken.returncode}): "
                            f"{taken.stderr.strip()[:300]}")
        if not all(alive) or not all(up_after):
            problems.append(f"a daemon stopped: alive during the outage {alive}, after the cut {up_after}")
        for reason in reasons:
            if not reason.startswith("the state store does not answer: "):
                problems.append(f"healthz during the outage: {reason!r}")
        # The slow run: slice 2 ran once, ended in the outage, was committed after it.
        starts = sorted((r["slice"], r["attempt"]) for r in w.starts(run))
        if starts != [(1, 1), (2, 1), (3, 1)]:
            problems.append(f"slow run's slices started (slice, attempt): {starts}, not each once")
        if ended_in_outage["t"] >= restarted:
            problems.append("slice 2 did not end during the outage (the test needs it to)")
        if start3["t"] < restarted:
            problems.append("slice 3 started while the server was down")
        committed = sorted((s["slice"], s["attempt"], s["outcome"]) for s in shown["slices"])
        if shown["status"] != "succeeded" or committed != [(1, 1, "succeeded"), (2, 1, "succeeded"), (3, 1, "succeeded")]:
            problems.append(f"slow run {shown['status']}, slices {committed}")
        if concurrency_violations(w.ledger()):
            problems.append("two handlers of one run alive at once")
        during = [r for r in w.starts() if stopped + 1 < r["t"] < restarted and r["run"] != run]
        if during:
            problems.append(f"{len(during)} slices started while the server was down")
        # Nothing committed before the stop is lost.
        after = {r["run_id"]: r for r in w.runs()}
        for rid, r in before.items():
            if r["status"] in ("succeeded", "failed", "cancelled", "partial"):
                if rid not in after or after[rid]["status"] != r["status"]:
                    problems.append(f"run {rid} was {r['status']} before the stop, now {after.get(rid, {}).get('status')}")
        # One run per (job, nominal time); misfire= for the fires due in the outage.
        keys = [(r["job"], r["scheduled_at"]) for r in after.values()]
        doubles = sorted({k for k in keys if keys.count(k) > 1})
        if doubles:
            problems.append(f"fires run twice: {doubles}")
        for job in ("skip", "once", "all"):
            times = sorted(epoch(r["scheduled_at"]) for r in after.values() if r["job"] == job)
            in_outage = [t for t in times if stopped + 1 < t < restarted]
            grid = [t for t in range(int(times[0]), int(times[-1]) + 1) if t % PERIOD == 0]
            missing = [t for t in grid if t not in times]
            if job == "all" and missing:
                problems.append(f"misfire=all: no run for {len(missing)} fire(s) at {missing[:5]}")
            if job != "all" and len(in_outage) > 1:
                problems.append(f"misfire={job}: {len(in_outage)} runs of fires due in the outage, not at most 1")
            if job != "all" and len(missing) < OUTAGE / PERIOD - 3:
                problems.append(f"misfire={job}: only {len(missing)} fires left out across a {OUTAGE:.0f} s outage")
        # A few connection attempts in 30 s, not one per query.
        if knocks > 40:
            problems.append(f"{knocks} connection attempts during the {OUTAGE:.0f} s outage (no back-off)")
        if int(cut.strip() or 0) < 2:
            problems.append(f"the cut ended {cut.strip()} connections, not both daemons'")
        for i, d in enumerate(daemons):
            errors, downs, backs = outage_lines(d.stderr())
            if errors:
                problems.append(f"daemon {i}: other errors logged: {errors[:3]}")
            if len(downs) != 2 or len(backs) != 2:
                problems.append(f"daemon {i}: {len(downs)} store_down and {len(backs)} store_back lines, not one each per outage (2)")
            failed = re.search(r"failed_operations=(\d+)", (backs or [""])[0])
            if failed and int(failed.group(1)) > 3000:
                problems.append(f"daemon {i}: {failed.group(1)} store operations failed in the outage: a busy loop")
            if not re.search(r"after_s=3\d\.\d", (backs or [""])[0]):
                problems.append(f"daemon {i}: no store_back line after about {OUTAGE:.0f} s: {backs}")
        print(f"\n  {knocks} connection attempts in the outage; {len(after)} runs", end=" ", flush=True)
        if problems:
            self.fail("\n".join(problems) + "\n" + w.diagnostics(run))


if __name__ == "__main__":
    unittest.main()

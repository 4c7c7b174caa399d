"""What two daemons on one PostgreSQL database decide together (issue 15, item 2):
`lock=` has one holder across both, and `baton pause` / `unpause` stop and restart a
job's fires on both.

Jobs `la` and `lb` share `lock=x` (`@every 2s`, 2 slices of 0.3 s each), `free` has no
lock (`* * * * * *`). Judged by the handler's own ledger (each slice's start and end,
recorded inside the handler's lifetime) and `baton runs --json`:

- no slice of `la` overlaps a slice of `lb` (nor another of its own job), though both
  daemons drive runs of them;
- after `baton pause la` returns, no fire of `la` 2 s or more later has a run on either
  daemon, while `free` goes on firing; after `baton unpause la`, `la` fires again.
"""
import datetime
import math
import signal
import time
import unittest

from pg_harness import PgWorld, daemon_started, require_postgres, wait_exit, wait_for

JOBS = """\
@every 2s     la    lock=x overlap=allow misfire=skip budget=10s {h} 2 0.3
@every 2s     lb    lock=x overlap=allow misfire=skip budget=10s {h} 2 0.3
* * * * * *   free  overlap=allow misfire=skip budget=10s {h} 1 0.1
"""


def seconds(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class SharedDecisionsTests(unittest.TestCase):

    def setUp(self):
        require_postgres(self)
        self.w = PgWorld(JOBS).create_store()
        self.addCleanup(self.w.cleanup)

    def testLockHasOneHolderAndPauseReachesBothDaemons(self):
        w = self.w
        daemons = [w.start("run"), w.start("run")]
        wait_for("both daemons to start", lambda: all(daemon_started(d) for d in daemons), timeout=30)
        up = math.ceil(time.time())

        def nominal(job):
            return sorted(seconds(r["scheduled_at"]) for r in w.runs(job))
        wait_for("6 fires of la after both are up", lambda: len([t for t in nominal("la") if t >= up]) >= 6,
                 timeout=40, interval=0.5)
        r = w.cli("pause", "la")
        self.assertEqual(r.returncode, 0, r.stderr)
        paused = time.time()
        wait_for("free to fire 6 s more", lambda: any(t >= paused + 6 for t in nominal("free")), timeout=30,
                 interval=0.5)
        late = [t for t in nominal("la") if t >= paused + 2]
        r = w.cli("unpause", "la")
        self.assertEqual(r.returncode, 0, r.stderr)
        unpaused = time.time()
        wait_for("la to fire after unpause", lambda: any(t >= unpaused for t in nominal("la")), timeout=20,
                 interval=0.5)
        wait_for("every la and lb run to finish", lambda: all(
            x["status"] == "succeeded" for j in ("la", "lb") for x in w.runs(j)), timeout=60, interval=0.5)
        for d in daemons:
            d.signal(signal.SIGTERM)
        for d in daemons:
            wait_exit(d, 30)

        problems = []
        if late:
            problems.append(f"la fired at {late} though paused at {paused:.1f}")
        ledger = w.ledger()
        runs = {x["run_id"]: x["job"] for x in w.runs()}
        spans, open_ = [], {}
        for x in ledger:
            if runs.get(x["run"]) not in ("la", "lb"):
                continue
            key = (x["run"], x["slice"], x["attempt"])
            if x["ev"] == "start":
                open_[key] = x
            elif x["ev"] == "end" and key in open_:
                s = open_.pop(key)
                spans.append((s["t"], x["t"], runs[x["run"]], key, s["ppid"]))
        if open_:
            problems.append(f"slices with a start and no end: {sorted(open_)}")
        spans.sort()
        for a, b in zip(spans, spans[1:]):
            if b[0] < a[1]:
                problems.append(f"{a[2]} {a[3]} (pid {a[4]}) and {b[2]} {b[3]} (pid {b[4]}) ran at the same time")
        drivers = {s[4] for s in spans}
        if drivers != {d.pid for d in daemons}:
            problems.append(f"lock=x slices ran under {sorted(drivers)}, not both daemons {[d.pid for d in daemons]}")
        if len(spans) < 12:
            problems.append(f"only {len(spans)} slices under lock=x")
        if problems:
            self.fail("\n".join(problems) + "\n" + w.diagnostics())
        print(f"\n  {len(spans)} slices under lock=x, none overlapping; pause kept la from firing", end=" ",
              flush=True)


if __name__ == "__main__":
    unittest.main()

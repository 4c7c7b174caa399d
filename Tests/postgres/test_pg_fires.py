"""Two `baton run` daemons on one PostgreSQL database and the same schedules (issue 15,
item 2): each fire exactly once, the work spread over both.

Three jobs, overlap=allow (each fire its own run): two fire every second (`* * * * * *`,
handlers of 2 and 3 slices), one `@every 2s` (3 slices). For ~15 s of fires after both
daemons are up, judged by baton's records (`baton runs --json`) and by the handler's own
ledger:

- every (job, nominal time) in that window has exactly one run: none doubled, none
  missed, each `succeeded`;
- each such run's slices ran exactly once each (attempt 1, cursors 0..N-1), all by one
  daemon (the ledger's parent pid), and no two handlers of one slice or run were alive
  at the same moment;
- both daemons drove runs.
"""
import datetime
import math
import signal
import time
import unittest

from pg_harness import PgWorld, concurrency_violations, daemon_started, require_postgres, wait_exit, wait_for

JOBS = """\
* * * * * *   a  overlap=allow misfire=skip budget=10s {h} 2 0.2
* * * * * *   b  overlap=allow misfire=skip budget=10s {h} 3 0.15
@every 2s     c  overlap=allow misfire=skip budget=10s {h} 3 0.2
"""
SLICES = {"a": 2, "b": 3, "c": 3}
PERIOD = {"a": 1, "b": 1, "c": 2}
WINDOW = 15


def seconds(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class TwoDaemonsTests(unittest.TestCase):

    def setUp(self):
        require_postgres(self)
        self.w = PgWorld(JOBS).create_store()
        self.addCleanup(self.w.cleanup)

    def testEachFireRunsOnceAcrossTwoDaemons(self):
        w = self.w
        daemons = [w.start("run"), w.start("run")]
        wait_for("both daemons to start", lambda: all(daemon_started(d) for d in daemons), timeout=30)
        # The window: fires from the next whole second after both are up, for WINDOW s.
        first = math.ceil(time.time()) + 1
        last = first + WINDOW - 1
        wait_for(f"fires up to {last}", lambda: any(seconds(r["scheduled_at"]) >= last + 1 for r in w.runs("a")),
                 timeout=WINDOW + 30, interval=0.5)

        def window_runs():
            return [r for r in w.runs() if first <= seconds(r["scheduled_at"]) <= last]
        wait_for("the window's runs to finish", lambda: all(r["status"] == "succeeded" for r in window_runs()),
                 timeout=30, interval=0.5)
        for d in daemons:
            d.signal(signal.SIGTERM)
            wait_for("the drain", lambda: any("action=drain" in x for x in d.stderr()) or d.poll() is not None,
                     timeout=10)
            d.signal(signal.SIGTERM)  # the second one stops slices at once
        for d in daemons:
            wait_exit(d, 30)

        runs = w.runs()
        inside = [r for r in runs if first <= seconds(r["scheduled_at"]) <= last]
        ledger = w.ledger()
        problems = []
        for job, period in PERIOD.items():
            nominal = [seconds(r["scheduled_at"]) for r in runs if r["job"] == job]
            doubled = sorted({t for t in nominal if nominal.count(t) > 1})
            if doubled:
                problems.append(f"{job}: fires with more than one run: {doubled}")
            due = [t for t in range(first, last + 1) if t % period == 0]
            missed = [t for t in due if t not in nominal]
            if missed:
                problems.append(f"{job}: fires with no run: {missed}")
        for r in inside:
            if r["status"] != "succeeded":
                problems.append(f"run {r['run_id']} ({r['job']} {r['scheduled_at']}) is {r['status']}")
            starts = [x for x in ledger if x["run"] == r["run_id"] and x["ev"] == "start"]
            got = sorted((x["slice"], x["attempt"], x["cursor"]) for x in starts)
            want = [(n, 1, n - 1) for n in range(1, SLICES[r["job"]] + 1)]
            if got != want:
                problems.append(f"run {r['run_id']} ({r['job']}): slices (slice, attempt, cursor) {got}, not {want}")
            drivers = {x["ppid"] for x in starts}
            if len(drivers) != 1:
                problems.append(f"run {r['run_id']} was driven by {sorted(drivers)}, not one daemon")
            if any(x["scheduled_at"] != r["scheduled_at"] for x in starts):
                problems.append(f"run {r['run_id']}: the handler saw another BATON_SCHEDULED_AT")
        known = {r["run_id"] for r in runs}
        strangers = sorted({x["run"] for x in ledger} - known)
        if strangers:
            problems.append(f"the handler ran for runs baton does not list: {strangers}")
        both = concurrency_violations(ledger)
        if both:
            problems.append("handlers of one run alive at once: "
                            + ", ".join(f"{x['run']} slice {x['slice']} attempt {x['attempt']}" for x in both))
        drove = {d.pid: sum(1 for r in inside if any(x["run"] == r["run_id"] and x["ppid"] == d.pid for x in ledger))
                 for d in daemons}
        if any(n == 0 for n in drove.values()):
            problems.append(f"runs driven per daemon pid: {drove}; both should drive some")
        if len(inside) < 30:
            problems.append(f"only {len(inside)} runs in the window")
        if problems:
            self.fail("\n".join(problems) + "\n" + w.diagnostics())
        print(f"\n  {len(inside)} fires in {WINDOW} s, each one run; runs per daemon {sorted(drove.values())}",
              end=" ", flush=True)


if __name__ == "__main__":
    unittest.main()

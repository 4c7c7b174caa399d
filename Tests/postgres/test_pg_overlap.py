"""overlap= across daemons (issue 15, item 2: decided against the shared state, not a
daemon's memory): a job with `overlap=queue` that fires every 2 s and runs 3 s, on two
daemons. Whichever daemon records a fire queues its run behind the job's unfinished
one, wherever that one runs; no two runs of the job ever run at the same time.
"""
import unittest

from pg_harness import PgWorld, daemon_started, require_postgres, wait_for


class OverlapAcrossDaemonsTests(unittest.TestCase):

    def setUp(self):
        require_postgres(self)
        self.w = PgWorld("*/2 * * * * *  queued  overlap=queue misfire=skip budget=30s {h} 1 3\n").create_store()
        self.addCleanup(self.w.cleanup)

    def testQueuedRunsNeverRunBesideTheJobsRunOnAnotherDaemon(self):
        w = self.w
        daemons = [w.start("run") for _ in range(2)]
        wait_for("both daemons to start", lambda: all(daemon_started(d) for d in daemons), timeout=30)
        # Enough fires that each daemon records some while the other drives a run.
        wait_for("four runs to end", lambda: len({x["run"] for x in w.ledger() if x["ev"] == "end"}) >= 4,
                 timeout=60, interval=0.5)
        for d in daemons:
            d.stop()
        spans = {}
        for x in w.ledger():
            lo, hi = spans.get(x["run"], (x["t"], x["t"]))
            spans[x["run"]] = (min(lo, x["t"]), max(hi, x["t"]))
        drivers = {x["run"]: x["ppid"] for x in w.ledger() if x["ev"] == "start"}
        ordered = sorted(spans.items(), key=lambda kv: kv[1][0])
        both = [(a, b) for (a, sa), (b, sb) in zip(ordered, ordered[1:]) if sb[0] < sa[1]]
        self.assertEqual(both, [], f"runs of an overlap=queue job ran at the same time\n{w.diagnostics()}")
        self.assertEqual(len(set(drivers.values())), 2,
                         f"one daemon drove every run, so nothing was tested across daemons: {drivers}")


if __name__ == "__main__":
    unittest.main()

"""Fires spread over the daemons that have free drivers (issue 15): the daemon that
records a second's fires holds only the runs it has free drivers for; the others are
recorded queued and unowned, and another daemon, told at once, starts them. Two
daemons with one driver each, two jobs firing together every 3 s with 2 s runs: every
run starts within a second of its fire, one on each daemon, instead of the second
waiting behind the first on the daemon that recorded both.
"""
import calendar
import time
import unittest

from pg_harness import PgWorld, daemon_started, require_postgres, wait_for

JOBS = ("*/3 * * * * *  left   overlap=allow misfire=skip budget=30s {h} 1 2\n"
        "*/3 * * * * *  right  overlap=allow misfire=skip budget=30s {h} 1 2\n")


def epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S"))


class SpreadTests(unittest.TestCase):

    def setUp(self):
        require_postgres(self)
        self.w = PgWorld(JOBS).create_store()
        self.addCleanup(self.w.cleanup)

    def testRunsBeyondADaemonsFreeDriversStartOnAnother(self):
        w = self.w
        daemons = [w.start("run", "--max-concurrent", "1") for _ in range(2)]
        wait_for("both daemons to start", lambda: all(daemon_started(d) for d in daemons), timeout=30)
        # Fires due before both daemons were up are run late on purpose (under 60 s late
        # is on time) and delay the next fire's runs: judged are the fires after those.
        judged_from = time.time() + 6
        wait_for("ten runs to start", lambda: len(w.starts()) >= 10 and max(s["t"] for s in w.starts()) > judged_from + 9,
                 timeout=60, interval=0.5)
        for d in daemons:
            d.stop()
        runs = {r["run_id"]: r for r in w.runs()}
        late, judged = [], []
        for start in w.starts():
            run = runs.get(start["run"])
            if run is None or start["attempt"] != 1 or epoch(run["scheduled_at"]) < judged_from:
                continue
            judged.append(start)
            lateness = start["t"] - epoch(run["scheduled_at"])
            if lateness > 1.5:
                late.append((run["job"], run["scheduled_at"], round(lateness, 2)))
        self.assertGreaterEqual(len(judged), 6, f"too few runs judged\n{w.diagnostics()}")
        self.assertEqual(late, [], f"runs that waited for a driver while another daemon had one free\n{w.diagnostics()}")
        self.assertEqual(len({s["ppid"] for s in judged}), 2, "one daemon ran everything")


if __name__ == "__main__":
    unittest.main()

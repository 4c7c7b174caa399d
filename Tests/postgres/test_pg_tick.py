"""`baton tick` on PostgreSQL (SPEC §4: concurrent ticks do not both act): a tick holds
a session advisory lock for its whole pass; a second tick on the same database, from
any machine, does nothing and says so; a tick killed with `kill -9` lets the lock go
with its connection, so the next tick acts.
"""
import signal
import time
import unittest

from pg_harness import PgWorld, require_postgres, wait_exit, wait_for


class TickLockTests(unittest.TestCase):

    def setUp(self):
        require_postgres(self)
        # Fires every second; each run is 3 slices of 1 s, so a tick has work to hold.
        self.w = PgWorld("* * * * * *  slow  overlap=allow misfire=skip {h} 3 1\n").create_store()
        self.addCleanup(self.w.cleanup)

    def testASecondTickDoesNothingAndAKilledTicksLockIsFreed(self):
        w = self.w
        first = w.start("tick", "--max-time", "20s")
        wait_for("the first tick to start a slice", lambda: w.starts(), timeout=30, interval=0.1)
        second = w.cli("tick", "--max-time", "20s", timeout=30)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("another tick is running", second.stderr)
        ran_by_second = [r for r in w.starts() if r["ppid"] not in (first.pid,)]
        self.assertEqual(ran_by_second, [], "the second tick ran slices\n" + w.diagnostics())

        first.signal(signal.SIGKILL)
        wait_exit(first, 10)
        killed_at = time.time()
        third = w.start("tick", "--max-time", "3s")
        wait_exit(third, 60)
        self.assertEqual(third.poll(), 0, third.tail())
        self.assertNotIn("another tick is running", "\n".join(third.stderr()),
                         "the killed tick's lock was not let go")
        self.assertTrue(any(r["ppid"] == third.pid and r["t"] >= killed_at for r in w.starts()),
                        "the tick after the kill ran no slice\n" + w.diagnostics())


if __name__ == "__main__":
    unittest.main()

"""One misfire rule for the daemon and `baton tick` (issue 12, item 7).

Two stores, one schedule each, built the same way; at the same moment `baton run`
starts on one and `baton tick` runs on the other. The job's newest fire is 4 s old
and was never acted on. Under misfire=once both must do the same with it: run it
once, with the same trigger (today tick counts anything up to 60 s old as on time,
`cron`, while the daemon calls a fire older than 2 s missed, or drops it when the job
has no fire recorded yet).

- after a restart: a fire recorded one second earlier (by a tick), then the newest
  fire missed;
- at first sight: no fire recorded yet.
"""
import datetime
import time
import unittest

from attack_harness import World, wait_exit, wait_for

AGE = 4  # seconds the newest fire is old when baton starts


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def jobs(second):
    return f"{second % 60} * * * * *  mis  misfire=once overlap=allow budget=10s  {{h}} 1 0.1\n"


class MisfireRuleTests(unittest.TestCase):

    def setUp(self):
        self.worlds = []

    def tearDown(self):
        for w in self.worlds:
            w.cleanup()

    def world(self, second):
        w = World(jobs(second)).create_store()
        self.worlds.append(w)
        return w

    def compare(self, daemon_world, tick_world, fire):
        """Starts the daemon and the tick at once (the newest fire `fire` is AGE s old)
        and compares what each made of that fire."""
        wait_for(f"the fire at {rfc3339(fire)} to be {AGE}s old", lambda: time.time() >= fire + AGE, timeout=AGE + 3)
        daemon = daemon_world.start("run")
        tick = tick_world.cli("tick", "--max-time", "20s", timeout=60)
        self.assertEqual(tick.returncode, 0, tick.stderr)
        nominal = rfc3339(fire)
        by_tick = [r for r in tick_world.runs("mis") if r["scheduled_at"] == nominal]
        if by_tick:
            try:
                wait_for("the daemon to act on the fire", lambda: [
                    r for r in daemon_world.runs("mis") if r["scheduled_at"] == nominal], timeout=10, interval=0.2)
            except AssertionError:
                pass
        else:
            # Tick ran nothing: a bounded look at the daemon doing nothing either.
            end = time.monotonic() + 5
            while time.monotonic() < end:
                time.sleep(0.2)
        by_daemon = [r for r in daemon_world.runs("mis") if r["scheduled_at"] == nominal]
        daemon.signal(15)
        wait_exit(daemon, 20)
        seen = {"daemon": [(r["trigger"], r["status"]) for r in by_daemon],
                "tick": [(r["trigger"], r["status"]) for r in by_tick]}
        print(f"\nfire {nominal}, {AGE}s old: {seen}")
        self.assertEqual(len(by_tick), 1, f"tick: {seen}\n{tick.stderr[-1500:]}")
        self.assertEqual([r["trigger"] for r in by_daemon], [r["trigger"] for r in by_tick],
                         f"the daemon and tick judged the same fire differently: {seen}\n"
                         f"--- daemon log:\n" + "\n".join(daemon.stderr()[-10:]) + f"\n--- tick log:\n{tick.stderr[-1500:]}")

    def testAfterARestartTheDaemonAndTickTreatAFewSecondsOldFireAlike(self):
        seeded = int(time.time()) - 1
        worlds = [self.world(seeded), self.world(seeded)]
        for w in worlds:
            # A tick acts on the fire of a second ago (on time): the job's last fire.
            r = w.cli("tick", "--max-time", "20s", timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual([x["scheduled_at"] for x in w.runs("mis")], [rfc3339(seeded)], r.stderr)
            # The schedule now names the next second: that fire is missed while nothing runs.
            w.write_jobs(jobs(seeded + 1))
        self.compare(worlds[0], worlds[1], seeded + 1)

    def testAtFirstSightTheDaemonAndTickTreatAFewSecondsOldFireAlike(self):
        fire = int(time.time()) - 1
        daemon_world, tick_world = self.world(fire), self.world(fire)
        self.compare(daemon_world, tick_world, fire)


if __name__ == "__main__":
    unittest.main()

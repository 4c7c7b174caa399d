"""Two `baton run` daemons on one SQLite store (issue 12, item 4), started 1.5 s
apart, with two jobs:

- `rep`, `*/2 * * * * *` with overlap=replace and a handler that would run 30 s:
  every fire makes exactly one run, and a run is cancelled only by its replacement,
  never by the daemon that lost the fire (which today cancels before it knows: a
  run can be cancelled seconds before any newer run of the job exists);
- `every`, `@every 3s`: one train of fires for both daemons (anchored to a time kept
  in the store), so each nominal time once and 3 s between consecutive ones, not two
  interleaved trains anchored to each daemon's start.
"""
import datetime
import signal
import time
import unittest

from attack_harness import World, wait_exit, wait_for

JOBS = """\
*/2 * * * * *  rep    overlap=replace misfire=skip budget=20s grace=1s  {h} 1 30
@every 3s      every  overlap=allow   misfire=skip budget=10s           {h} 1 0.1
"""
FIRES = {"rep": 6, "every": 4}  # rep's violation is a race: more fires, more chances


def seconds(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class TwoDaemonsTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.w = w = World(JOBS).create_store()
        try:
            first = w.start("run")
            wait_for("the first daemon to start", lambda: any("event=start" in x for x in first.stderr()), timeout=20)
            started = time.time()
            wait_for("1.5 s to pass", lambda: time.time() >= started + 1.5, timeout=3)
            second = w.start("run")
            wait_for("the second daemon to start", lambda: any("event=start" in x for x in second.stderr()), timeout=20)
            wait_for(f"runs of each job: {FIRES}", lambda: all(
                len(w.runs(job)) >= n for job, n in FIRES.items()), timeout=45, interval=0.3)
            # Judged between two fires of `rep`: its newest run is then 1 s old.
            newest = max(seconds(r["scheduled_at"]) for r in w.runs("rep"))
            wait_for("the middle of rep's period", lambda: time.time() >= newest + 1, timeout=5)
            cls.rep = w.runs("rep")
            cls.every = w.runs("every")
            for d in (first, second):
                d.signal(signal.SIGTERM)
                # A second SIGTERM, once the first is taken (two at once would merge),
                # stops slices at once instead of draining for rep's 30 s slice.
                wait_for("the drain", lambda: any("action=drain" in x for x in d.stderr()) or d.poll() is not None,
                         timeout=10)
                d.signal(signal.SIGTERM)
            for d in (first, second):
                wait_exit(d, 30)
        except BaseException:
            w.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.w.cleanup()

    def describe(self, runs):
        return "\n".join(f"  {r['run_id']} scheduled {r['scheduled_at']} created {r['created_at']} "
                         f"{r['status']} finished {r.get('finished_at')}"
                         for r in sorted(runs, key=lambda r: r["scheduled_at"])) + "\n" + self.w.diagnostics()

    def testOverlapReplaceCancelsOnlyForTheFireItWon(self):
        runs = self.rep
        problems = []
        nominal = [r["scheduled_at"] for r in runs]
        doubled = sorted({t for t in nominal if nominal.count(t) > 1})
        if doubled:
            problems.append(f"fires that made more than one run: {doubled}")
        for r in runs:
            if r["status"] != "cancelled":
                continue
            at = seconds(r["scheduled_at"])
            newer = [seconds(n["scheduled_at"]) for n in runs if seconds(n["scheduled_at"]) > at]
            ended = seconds(r["finished_at"]) if r.get("finished_at") else None
            if not newer or ended is None or ended < min(newer):
                problems.append(f"run {r['run_id']} (fire {r['scheduled_at']}) was cancelled at {r.get('finished_at')}, "
                                f"before any newer run of the job was fired (next: {min(newer) if newer else 'none'})")
        unfinished = [r for r in runs if r["status"] not in ("cancelled", "succeeded", "failed", "partial")]
        if len(unfinished) != 1:
            problems.append(f"{len(unfinished)} unfinished runs of rep between two fires, not exactly one")
        if problems:
            self.fail("\n".join(problems) + "\n" + self.describe(runs))

    def testEveryIsOneTrainForBothDaemons(self):
        runs = self.every
        nominal = sorted(seconds(r["scheduled_at"]) for r in runs)
        gaps = [b - a for a, b in zip(nominal, nominal[1:])]
        if len(set(nominal)) != len(nominal) or any(g != 3 for g in gaps):
            self.fail(f"@every 3s fired at intervals {gaps} (each nominal time once, 3 s apart expected)\n"
                      + self.describe(runs))


if __name__ == "__main__":
    unittest.main()

"""SQLite's outage: the database locked by another process for longer than baton waits
(issue 15, item 5, on the code path both stores share).

An `sqlite3` shell takes the write lock (`BEGIN IMMEDIATE`) under a running daemon and
holds it for 20 s, while a job with `misfire=all` and one with `misfire=skip` fire every
2 s. Every write baton tries meanwhile waits out the busy timeout and fails (`busy`).
Then the shell commits and quits. Judged by the store and the daemon's log:

- the daemon stays up; one run per (job, nominal time);
- the fires it could not record are decided once the store answers, by the store's last
  fire per job and `misfire=` (as after a restart): `all` has a run for every fire time,
  with no gap; `skip` runs at most one of the fires due while the lock was held;
- the log says so once: one `store_down` error with the reason (busy) and one
  `store_back` line, no error per failed operation.
"""
import datetime
import subprocess
import time
import unittest

from attack_harness import World, outage_lines, wait_exit, wait_for

HOLD = 20.0
PERIOD = 2


def epoch(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


class LockedStoreTests(unittest.TestCase):

    def lock(self, w):
        """An `sqlite3` shell holding the store's write lock (`BEGIN IMMEDIATE`) until it
        is sent `COMMIT;`; killed at cleanup if still there."""
        shell = subprocess.Popen(["sqlite3", w.db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        self.addCleanup(lambda: shell.poll() is None and shell.kill())
        shell.stdin.write("BEGIN IMMEDIATE;\nSELECT 'locked';\n")
        shell.stdin.flush()
        self.assertEqual(shell.stdout.readline().strip(), "locked")
        return shell

    def testFiresMissedWhileTheStoreWasLockedFollowMisfire(self):
        every = f"*/{PERIOD} * * * * *"
        w = World(f"{every}  all   misfire=all  overlap=allow budget=20s {{h}} 1 0.1\n"
                  f"{every}  skip  misfire=skip overlap=allow budget=20s {{h}} 1 0.1\n").create_store()
        self.addCleanup(w.cleanup)
        d = w.start("run")
        wait_for("two fires of each job", lambda: all(len(w.runs(j)) >= 2 for j in ("all", "skip")), timeout=30, interval=0.3)
        shell = self.lock(w)
        locked = time.time()
        # The lock is held its 20 s, whatever the daemon does meanwhile.
        wait_for("the lock's end", lambda: time.time() - locked >= HOLD, timeout=HOLD + 5, interval=0.5)
        shell.communicate("COMMIT;\n.quit\n", timeout=10)
        released = time.time()
        # The store counts as back once it has answered for 10 s without a failure.
        wait_for("the store_back line", lambda: any("event=store_back" in x for x in d.stderr()) or time.time() - released > 30,
                 timeout=60, interval=0.5)
        wait_for("fires after the lock", lambda: all(
            any(epoch(r["scheduled_at"]) > released + PERIOD for r in w.runs(j)) for j in ("all", "skip")),
            timeout=30, interval=0.5)
        alive = d.poll() is None
        d.signal(15)
        wait_exit(d, 30)

        problems = []
        if not alive:
            problems.append("the daemon stopped")
        runs = w.runs()
        keys = [(r["job"], r["scheduled_at"]) for r in runs]
        if len(keys) != len(set(keys)):
            problems.append(f"fires run twice: {sorted({k for k in keys if keys.count(k) > 1})}")
        for job in ("all", "skip"):
            times = sorted(epoch(r["scheduled_at"]) for r in runs if r["job"] == job)
            missing = [t for t in range(int(times[0]), int(times[-1]) + 1) if t % PERIOD == 0 and t not in times]
            held = [t for t in times if locked + 1 < t < released]
            if job == "all" and missing:
                problems.append(f"misfire=all: no run for the fires at {missing[:8]}")
            if job == "skip" and len(held) > 1:
                problems.append(f"misfire=skip: {len(held)} runs of fires due while the store was locked")
        errors, downs, backs = outage_lines(d.stderr())
        if errors:
            problems.append(f"errors logged besides store_down: {errors[:3]}")
        if len(downs) != 1 or len(backs) != 1 or "busy" not in downs[0] and "locked" not in downs[0]:
            problems.append(f"store_down lines {downs[:3]}, store_back lines {backs[:3]}: not one each, with the reason")
        if problems:
            self.fail("\n".join(problems) + "\n" + w.diagnostics())

    def testCommandsOnALockedStoreSaySoAndLoseNothing(self):
        # A run left waiting (its driver killed), then the store locked longer than
        # baton's busy timeout: `resume` and `invoke` each exit with a clear error that
        # names the lock (once, `resume` crashed here: a recursion in turning the
        # store's error into the engine's), the run is as it was, and once the lock is
        # gone `resume` finishes it.
        w = World("0 0 1 1 *  slow  budget=20s {h} 3 0.4\n").create_store()
        self.addCleanup(w.cleanup)
        inv = w.start("invoke", "slow", "--lease", "2s")
        first = wait_for("the first slice's commit", lambda: next(
            (r["run_id"] for r in w.runs("slow") if r["counts"]["processed"] >= 1), None), timeout=30, interval=0.1)
        inv.signal(9)
        wait_exit(inv, 10)
        wait_for(f"run {first} to read waiting", lambda: w.show(first)["status"] == "waiting", timeout=30, interval=0.2)
        before = w.show(first)
        shell = self.lock(w)
        problems = []
        for args in (("resume", first), ("invoke", "slow")):
            r = w.cli(*args)
            said = r.stderr.strip()
            if r.returncode <= 0 or r.returncode >= 128:
                problems.append(f"baton {' '.join(args)} exited {r.returncode} (a crash, a signal or success)")
            if not any(x in said for x in ("busy", "locked")) or "hint:" not in said:
                problems.append(f"baton {' '.join(args)} did not name the lock with a hint: {said[-300:]!r}")
            if "Fatal error" in said or "Stack dump" in said or "Current stack trace" in said:
                problems.append(f"baton {' '.join(args)} printed a crash: {said[-300:]!r}")
        shell.communicate("COMMIT;\n.quit\n", timeout=10)
        after = w.show(first)
        if (after["cursor"], after["counts"], after["next_slice"]) != (before["cursor"], before["counts"], before["next_slice"]):
            problems.append(f"the locked attempts changed run {first}: {before} -> {after}")
        r = w.cli("resume", first)
        done = w.show(first)
        if r.returncode != 0 or done["status"] != "succeeded" or done["counts"]["processed"] != 3:
            problems.append(f"resume after the lock: exit {r.returncode}, run {done['status']}, "
                            f"processed {done['counts']['processed']}: {r.stderr[-300:]!r}")
        if problems:
            self.fail("\n".join(problems) + "\n" + w.diagnostics(first))


if __name__ == "__main__":
    unittest.main()

"""One winner among concurrent takeovers (issue 12, item 7).

`kill -9` of `baton invoke` while a slice runs (its handler keeps running: it is in a
process group of its own), then several processes take the run over at the same
moment: 4 `baton resume`; 2 `baton resume` and a `baton tick`; a `baton run` daemon
and 2 `baton resume`. Judged by the handler's own ledger, in every trial:

- the slice in flight at the kill runs again at most once, every other slice once;
- no slice (nor any two slices of the run) ever runs twice at the same moment;
- the run ends `succeeded` with every slice committed once, its cursors complete;
- a `resume` that loses says another process holds the run, never "its lease had
  expired" (nothing expired: its owner died).
"""
import re
import signal
import unittest

from attack_harness import World, concurrency_violations, wait_exit, wait_for

SLICES = 3
SECONDS = 0.3
JOBS = f"0 0 1 1 *  slow  misfire=skip budget=20s grace=1s retries=3  {{h}} {SLICES} {SECONDS}\n"
RUN_ID = re.compile(r"\brun (r_[0-9a-z]+)")
WRONG_LOSER = "lease had expired"
LOSER_WORDS = ("another", "held", "driven", "owner", "lost")


class TakeoverTests(unittest.TestCase):

    def trial(self, takers, label):
        """One kill -9 and a race of `takers` (commands); returns the problems seen."""
        w = World(JOBS).create_store()
        try:
            inv = w.start("invoke", "slow")
            run = wait_for("invoke to name its run", lambda: next(
                (m.group(1) for line in inv.stderr() for m in [RUN_ID.search(line)] if m), None), timeout=20)
            wait_for("slice 2 to start", lambda: any(r["slice"] == 2 for r in w.starts(run)), timeout=20)
            inv.signal(signal.SIGKILL)
            wait_exit(inv, 10)
            gate = w.gate()
            procs = [w.start(*t, gate=gate) for t in takers(run)]
            gate.open()
            w.wait_status(run, ("succeeded", "failed", "cancelled", "partial"), timeout=45)
            daemons = [p for p in procs if p.command == "run"]
            for p in daemons:
                p.signal(signal.SIGTERM)
            codes = {p.pid: wait_exit(p, 30) for p in procs}
            problems = self.judge(w, run, procs, codes)
            if problems:
                return [f"{label}: " + "; ".join(problems) + "\n" + w.diagnostics(run)]
            return []
        finally:
            w.cleanup()

    def judge(self, w, run, procs, codes):
        problems = []
        records = w.ledger(run)
        starts = [r for r in records if r["ev"] == "start"]
        per_slice = {n: [r for r in starts if r["slice"] == n] for n in range(1, SLICES + 1)}
        if len(per_slice[2]) > 2:
            problems.append(f"the slice in flight at the kill (2) ran {len(per_slice[2])} times, not at most twice")
        for n in (1, 3):
            if len(per_slice[n]) != 1:
                problems.append(f"slice {n} ran {len(per_slice[n])} times, not once")
        both = concurrency_violations(records)
        if both:
            problems.append("ran at the same moment as another handler of the run: "
                            + ", ".join(f"slice {r['slice']} attempt {r['attempt']} (pid {r['pid']})" for r in both))
        shown = w.show(run)
        ok = sorted(s["slice"] for s in shown["slices"] if s["outcome"] == "succeeded")
        if shown["status"] != "succeeded" or ok != list(range(1, SLICES + 1)) or shown["counts"]["processed"] != SLICES:
            problems.append(f"run {shown['status']}, slices committed {ok}, processed {shown['counts']['processed']}")
        ends = sorted(r["cursor"] for r in records if r["ev"] == "end")
        if sorted(set(ends)) != list(range(SLICES)):
            problems.append(f"work done for cursors {ends}, not each of 0..{SLICES - 1}")
        resumes = [p for p in procs if p.command == "resume"]
        for p in resumes:
            said = "\n".join(p.stderr())
            if codes[p.pid] != 0 and (WRONG_LOSER in said or not any(x in said for x in LOSER_WORDS)):
                problems.append(f"a losing resume (exit {codes[p.pid]}) said: {said.strip()[-300:]!r}")
        return problems

    def race(self, takers, label, trials):
        problems = []
        for i in range(trials):
            problems += self.trial(takers, f"{label}, trial {i + 1}/{trials}")
        if problems:
            print("\n\n" + "\n\n".join(problems))
            self.fail(f"{len(problems)} of {trials} trials broke a rule (details above)")

    def testFourResumesAtOnceHaveOneWinner(self):
        self.race(lambda run: [("resume", run)] * 4, "4 x resume", trials=10)

    def testTwoResumesAndATickHaveOneWinner(self):
        self.race(lambda run: [("resume", run), ("tick", "--max-time", "30s"), ("resume", run)],
                  "2 x resume + tick", trials=3)

    def testADaemonAndTwoResumesHaveOneWinner(self):
        self.race(lambda run: [("run",), ("resume", run), ("resume", run)], "run + 2 x resume", trials=3)


if __name__ == "__main__":
    unittest.main()

"""A queued run stays queued, and keeps its attempt number across a crash (issue 12,
item 7).

`baton serve --max-concurrent 1` takes a burst of webhooks for a slow job: one run
starts, the others wait for the slot. `kill -9` of serve (at the first handler's
start, or as the first run's last slice ends, when the next run is being taken up),
then `baton tick` drives what is left. Judged by the handler's own ledger:

- after the kill, a run none of whose handlers ever started reads `queued` (SPEC §1:
  recorded, no slice started yet); a run whose handler started reads `waiting` (its
  driver died), neither `queued` nor `running`; at most one run (the one serve was
  taking up at that instant: its start recorded, its handler not yet at its first
  line) may read `waiting` without a handler start, and then runs attempt 2;
- a run that never started runs its first slice with BATON_ATTEMPT=1 (environment
  and stdin) and shows no `lost` slice: nothing of it was lost;
- every run ends `succeeded`.
"""
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import re
import signal
import time
import unittest
import uuid

from attack_harness import World, wait_exit, wait_for

SECRET = "attack-secret"
HOOKS = 4
JOBS = "0 0 1 1 *  hold  misfire=skip overlap=allow budget=20s grace=1s  {h} 2 0.4\n"
LISTEN = re.compile(r"event=listen\b.*?\baddress=(\S+)")


def hook(address, job):
    host, _, port = address.rpartition(":")
    body = json.dumps({"nonce": uuid.uuid4().hex}).encode()
    ts = str(int(time.time()))
    sig = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=15)
    try:
        conn.request("POST", f"/hooks/{job}", body=body, headers={
            "X-Baton-Timestamp": ts, "X-Baton-Signature": sig, "Content-Type": "application/json"})
        r = conn.getresponse()
        answer = r.read()
        assert r.status == 202, (r.status, answer)
        return json.loads(answer)["run_id"]
    finally:
        conn.close()


class QueuedRunTests(unittest.TestCase):

    def crash(self, kill_when):
        w = World(JOBS).create_store()
        try:
            srv = w.start("serve", "--listen", "127.0.0.1:0", "--max-concurrent", "1",
                          env={"BATON_WEBHOOK_SECRET": SECRET})
            address = wait_for("serve to listen", lambda: next(
                (m.group(1) for line in srv.stderr() for m in [LISTEN.search(line)] if m), None), timeout=20)
            with concurrent.futures.ThreadPoolExecutor(HOOKS) as pool:
                ids = list(pool.map(lambda _: hook(address, "hold"), range(HOOKS)))
            wait_for("the moment to kill serve", lambda: kill_when(w.ledger()), timeout=30, interval=0.01)
            srv.signal(signal.SIGKILL)
            wait_exit(srv, 10)
            started = {r["run"] for r in w.starts()}
            listed = {r["run_id"]: r["status"] for r in w.runs("hold")}
            problems = []
            # A run baton had taken up at the kill (its first slice's start recorded, its
            # handler being spawned, not yet at its first line) reads `waiting`: baton
            # cannot tell whether that handler began, so its next attempt is 2 (at least
            # once). Every other run nobody started must read `queued` and keep attempt 1.
            taken_up = {run for run in ids if run not in started and listed.get(run) == "waiting"
                        and sum(1 for r in ids if r not in started and listed.get(r) == "waiting") == 1}
            for run in ids:
                want = "waiting" if run in started or run in taken_up else "queued"
                if run in started and listed.get(run) == "succeeded" and any(
                        r["ev"] == "end" and r["run"] == run and r["slice"] == 2 for r in w.ledger()):
                    continue  # its last slice ended and was committed before the kill
                if listed.get(run) != want:
                    problems.append(f"after the kill, run {run} reads {listed.get(run)!r}, not {want!r} "
                                    f"({'its handler started' if run in started else 'no handler of it ever started'})")
            tick = w.cli("tick", "--max-time", "40s", timeout=90)
            if tick.returncode != 0:
                problems.append(f"baton tick exited {tick.returncode}: {tick.stderr[-500:]}")
            for run in ids:
                shown = w.show(run)
                if shown["status"] != "succeeded":
                    problems.append(f"run {run} ended {shown['status']}: {shown.get('error')}")
                if run in started or run in taken_up:
                    continue
                first = [r for r in w.starts(run) if r["slice"] == 1]
                attempts = [(r["attempt"], r["stdin_attempt"]) for r in first]
                lost = [(s["slice"], s["attempt"]) for s in shown["slices"] if s["outcome"] == "lost"]
                if attempts[:1] != [(1, 1)] or lost:
                    problems.append(f"run {run}, never started before the kill, ran slice 1 with (BATON_ATTEMPT, "
                                    f"stdin attempt) {attempts}; lost slices {lost}")
            if problems:
                self.fail("\n".join(problems) + "\n" + w.diagnostics() + f"\n--- runs after the kill: {listed}")
        finally:
            w.cleanup()

    def testKilledWhileTheFirstRunWorks(self):
        self.crash(lambda ledger: any(r["ev"] == "start" for r in ledger))

    def testKilledAsTheNextRunIsTakenUp(self):
        # The first run's last slice has done its work: serve commits it and takes up
        # the next queued run.
        self.crash(lambda ledger: any(r["ev"] == "end" and r["slice"] == 2 for r in ledger))


if __name__ == "__main__":
    unittest.main()

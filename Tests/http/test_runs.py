"""GET /runs/RUN progress, cancel and retry over HTTP, GET /runs, GET /jobs, /healthz."""

import datetime
import json
import os
import time
import unittest

from harness import Server, ServerTestCase, World, finish_world, wait_for

JOB_NAMES = ("quick", "spend", "count", "slow", "queued", "other", "yearly")


def slice_count(run):
    s = run.get("slices")
    return len(s) if isinstance(s, list) else s


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class RunTests(ServerTestCase):

    def testRunProgressesToSucceededWithCountsAndPercent(self):
        accepted = self.assertAccepted(self.server.hook("count"))
        run_id = accepted["run_id"]
        seen = []

        def finished():
            run = self.server.run(run_id)
            seen.append(run)
            return run if run["status"] in ("succeeded", "failed", "cancelled", "partial") else None

        run = wait_for(f"run {run_id} to finish", finished, timeout=15, interval=0.03)
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(run["run_id"], run_id)
        self.assertEqual(run["job"], "count")
        self.assertEqual(run["total"], 3, run)
        self.assertEqual(run["percent"], 100, run)
        self.assertEqual(run["counts"]["processed"], 3, run)
        self.assertEqual(run["counts"]["succeeded"], 2, run)
        self.assertEqual(run["counts"]["failed"], 1, run)
        self.assertEqual(slice_count(run), 3, run)
        self.assertIn("elapsed_ms", run, run)
        # It was seen on its way: running, part done (pace=300ms between slices).
        partial = [r for r in seen if r["status"] == "running" and 0 < (r.get("percent") or 0) < 100]
        self.assertTrue(partial, f"never saw the run part done: {[(r['status'], r.get('percent')) for r in seen]}")
        self.assertTrue(all(r["counts"]["processed"] < 3 for r in partial))
        percents = [r.get("percent") or 0 for r in seen]
        self.assertEqual(percents, sorted(percents), "percent went backwards")
        # The CLI reads the same store: same run, trigger webhook.
        shown = self.world.cli_json("show", run_id)
        self.assertEqual(shown["status"], "succeeded")
        self.assertEqual(shown["trigger"], "webhook")
        self.assertEqual(shown["counts"], run["counts"])

    def testRetryMakesANewRunOfTheFailedItems(self):
        first = self.assertAccepted(self.server.hook("count"))["run_id"]
        self.server.wait_status(first, "succeeded")
        before = self.count("count")
        retry = self.assertAccepted(self.server.signed_post(f"/runs/{first}/retry"))
        self.assertNotEqual(retry["run_id"], first)
        self.assertEqual(self.count("count"), before + 1)
        run = self.server.wait_status(retry["run_id"], "succeeded")
        self.assertEqual(run["job"], "count")
        records = wait_for("the retry's input record", lambda: self.world.records(retry["run_id"]))
        self.assertEqual(records[0]["trigger"], "retry")
        self.assertIn("item-2", [i if isinstance(i, str) else i.get("id") for i in records[0]["payload"]["items"]])
        # Unsigned or badly signed: refused, nothing new.
        self.assertError(self.server.request("POST", f"/runs/{first}/retry", body=b""), 401)
        self.assertError(self.server.signed_post(f"/runs/{first}/retry", secret="wrong"), 401)
        self.assertEqual(self.count("count"), before + 1)
        # Retried already: its items went to the retry, which is what to retry now.
        again = self.server.signed_post(f"/runs/{first}/retry")
        self.assertError(again, 409)
        self.assertIn(retry["run_id"], again.json["error"])
        self.assertEqual(self.count("count"), before + 1)

    def testCancelStopsASleepingRun(self):
        run_id = self.assertAccepted(self.server.hook("slow"))["run_id"]
        try:
            # The handler is really running (it recorded its input) before we cancel.
            wait_for("the slow handler to start", lambda: self.world.records(run_id))
            self.assertEqual(self.server.run(run_id)["status"], "running")
            self.assertError(self.server.request("POST", f"/runs/{run_id}/cancel", body=b""), 401, "unsigned")
            self.assertError(self.server.signed_post(f"/runs/{run_id}/cancel", secret="wrong"), 401, "bad sig")
            self.assertEqual(self.server.run(run_id)["status"], "running")
            started = time.monotonic()
            resp = self.assertAccepted(self.server.signed_post(f"/runs/{run_id}/cancel"))
            self.assertEqual(resp["run_id"], run_id)
            run = self.server.wait_status(run_id, "cancelled", timeout=10)
            self.assertLess(time.monotonic() - started, 5, "cancel took longer than a SIGTERM should")
            self.assertEqual(self.world.cli_json("show", run_id)["status"], "cancelled")
            # Graceful, as docs/runs.md says (and as `baton cancel` does): the running
            # slice gets SIGTERM, the result it prints then is committed (cursor
            # "stopped"), and only then is the run cancelled.
            self.assertTrue(os.path.exists(os.path.join(self.world.rec, run_id + ".term")),
                            "the handler never got SIGTERM")
            self.assertEqual(run["cursor"], "stopped", f"the handler's last result was not committed: {run}")
            self.assertNotIn("lost", [s.get("outcome") for s in run["slices"]], run)
            # Cancel of a finished run: 409. A request of its own (signed a second ahead, so
            # never with the first cancel's timestamp):
            # the same signed request again would be a replay, refused as one (401).
            self.assertError(self.server.signed_post(f"/runs/{run_id}/cancel", ts=int(time.time()) + 1), 409,
                             "cancel of a finished run")
        finally:
            self.world.cancel(run_id)

    def testJobsListsEveryJobWithItsNextFire(self):
        resp = self.server.get("/jobs")
        self.assertEqual(resp.status, 200, resp)
        self.assertIn("application/json", resp.header("Content-Type") or "")
        jobs = resp.json["jobs"]
        by_name = {j.get("job", j.get("name")): j for j in jobs}
        self.assertEqual(set(by_name), set(JOB_NAMES))
        now = datetime.datetime.now(datetime.timezone.utc)
        for name, job in by_name.items():
            with self.subTest(job=name):
                nxt = job.get("next", job.get("next_fire"))
                self.assertIsInstance(nxt, str, job)
                when = parse_time(nxt)
                self.assertGreater(when, now - datetime.timedelta(seconds=5), job)
                self.assertEqual(job.get("paused"), False, job)
        self.assertEqual(by_name["yearly"]["schedule"], "0 12 1 1 *")
        yearly = parse_time(by_name["yearly"].get("next", by_name["yearly"].get("next_fire")))
        self.assertEqual((yearly.month, yearly.day, yearly.hour, yearly.minute), (1, 1, 12, 0))
        self.assertLessEqual(yearly - now, datetime.timedelta(days=366))
        # Agrees with the CLI.
        cli = {j["job"]: j["next"] for j in self.world.cli_json("jobs")}
        for name in JOB_NAMES:
            self.assertEqual(parse_time(by_name[name].get("next", by_name[name].get("next_fire"))),
                             parse_time(cli[name]), name)

    def testJobsShowsTheLastRun(self):
        run_id = self.assertAccepted(self.server.hook("quick"))["run_id"]
        self.server.wait_status(run_id, "succeeded")

        def last_is_ours():
            job = {j.get("job", j.get("name")): j for j in self.server.get("/jobs").json["jobs"]}["quick"]
            return job if str(job).find(run_id) >= 0 else None

        job = wait_for("GET /jobs to show the last run", last_is_ours)
        self.assertIn("succeeded", str(job), job)

    def testRunsListsNewestFirstWithFilters(self):
        ids = [self.assertAccepted(self.server.hook("quick"))["run_id"] for _ in range(3)]
        for run_id in ids:
            self.server.wait_status(run_id, "succeeded")
        resp = self.server.get("/runs?job=quick&limit=2")
        self.assertEqual(resp.status, 200, resp)
        runs = resp.json["runs"]
        self.assertEqual([r["run_id"] for r in runs], ids[::-1][:2], "not newest first, or limit ignored")
        all_quick = self.server.runs("quick")
        self.assertTrue(all(r["job"] == "quick" for r in all_quick))
        self.assertTrue(set(ids) <= {r["run_id"] for r in all_quick})
        succeeded = self.server.get("/runs?status=succeeded&limit=1000").json["runs"]
        self.assertTrue(succeeded and all(r["status"] == "succeeded" for r in succeeded))
        self.assertEqual(self.server.get("/runs?job=no-such-job").json["runs"], [])

    def testHealthzIsOk(self):
        resp = self.server.get("/healthz")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json.get("status"), "ok", resp)



class HttpCancelTests(ServerTestCase):
    """POST /runs/RUN/cancel of runs this very server drives. A server of its own:
    a job wedged here must not spoil the other tests."""

    def testQueuedRunStartsAfterTheRunningOneIsCancelled(self):
        first = self.assertAccepted(self.server.hook("queued"))["run_id"]
        wait_for("the first handler to start", lambda: self.world.records(first))
        second = self.assertAccepted(self.server.hook("queued"))
        self.assertEqual(second["status"], "queued", second)
        try:
            self.assertAccepted(self.server.signed_post(f"/runs/{first}/cancel"))
            self.server.wait_status(first, "cancelled")
            wait_for("the queued run's handler to start", lambda: self.world.records(second["run_id"]), timeout=5)
        finally:
            for run_id in (first, second["run_id"]):
                self.world.cancel(run_id)

    def testCancelRightAfterTheHookLeavesTheJobWorking(self):
        # The cancel lands while the first slice is still starting.
        run_id = self.assertAccepted(self.server.hook("slow"))["run_id"]
        resp = self.server.signed_post(f"/runs/{run_id}/cancel")
        self.assertAccepted(resp, "cancel of a run that just started")
        self.server.wait_status(run_id, "cancelled")
        # The job is not wedged: the next hook starts and its handler runs.
        again = self.assertAccepted(self.server.hook("slow"))["run_id"]
        try:
            wait_for("the next run's handler to start", lambda: self.world.records(again), timeout=5)
            self.assertEqual(self.server.run(again)["status"], "running")
        finally:
            self.world.cancel(again)
            self.server.wait_status(again, "cancelled")



class IntakeOnlyTests(ServerTestCase):
    """`baton serve --intake-only` records webhook runs and drives none; another
    baton (here `baton resume`) drives them."""
    server_args = ("--intake-only",)

    def testHookIsRecordedAndDrivenByAnotherBaton(self):
        body = {"nonce": "intake-only", "n": time.time()}
        run_id = self.assertAccepted(self.server.hook("quick", json.dumps(body).encode()))["run_id"]
        run = self.server.run(run_id)
        self.assertIn(run["status"], ("running", "queued"), run)
        self.assertEqual(self.world.records(run_id), [], "the intake-only server ran the handler")
        p = self.world.cli("resume", run_id)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        run = self.server.wait_status(run_id, "succeeded")
        records = self.world.records(run_id)
        self.assertEqual(len(records), 1, "the handler ran more than once")
        self.assertEqual(records[0]["payload"], body)
        self.assertEqual(records[0]["trigger"], "webhook")

    def testARestartedIntakeServerLeavesRecordedRunsAlone(self):
        world = World()
        server = Server(world, args=("--intake-only",)).start()
        try:
            run_id = self.assertAccepted(server.hook("quick"))["run_id"]
            server.stop()
            # A new intake-only server on the same store: its start-up (and periodic)
            # look for undriven runs must not take this one.
            server = Server(world, args=("--intake-only",)).start()
            self.assertEqual(server.get("/healthz").status, 200)
            server.stop()  # a drain: anything it had started would have run by now
            self.assertEqual(world.records(run_id), [], "an intake-only server ran the handler")
            self.assertEqual(world.cli_json("show", run_id)["slices"], [])
        finally:
            server.stop()
            finish_world(world, server)


if __name__ == "__main__":
    unittest.main()

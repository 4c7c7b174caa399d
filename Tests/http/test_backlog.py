"""Back-pressure on webhook intake (issue 11, 5.4): a run recorded while no driver
slot is free is shown `queued` (SPEC §1: recorded, no slice started yet) until a
driver starts it, and past `--max-backlog` queued runs a webhook is answered 503 with
Retry-After and nothing is recorded."""

import unittest

from harness import ServerTestCase, wait_for

HOLD_JOBS = """
@daily  hold   overlap=allow budget=30s grace=1s  {d}/sleep.sh 30
@daily  quick  overlap=allow                      {d}/quick.sh
"""


class QueuedStatusTests(ServerTestCase):
    jobs = HOLD_JOBS
    server_args = ("--max-concurrent", "1")

    def testRunsWaitingForADriverAreQueuedUntilOneStartsThem(self):
        first = self.assertAccepted(self.server.hook("hold"))
        self.assertEqual(first["status"], "running")
        self.server.wait_status(first["run_id"], "running")
        wait_for("the first run's handler to start", lambda: self.world.records(first["run_id"]))
        waiting = [self.assertAccepted(self.server.hook("hold")) for _ in range(3)]
        self.assertEqual([w["status"] for w in waiting], ["queued"] * 3, waiting)
        ids = [w["run_id"] for w in waiting]
        # GET /runs/RUN, GET /runs?status=queued and `baton runs` (another process,
        # reading the store) all say queued, and no handler has seen them.
        for run_id in ids:
            self.assertEqual(self.server.run(run_id)["status"], "queued")
            self.assertEqual(self.world.records(run_id), [])
        listed = self.server.get("/runs?status=queued").json["runs"]
        self.assertEqual(sorted(r["run_id"] for r in listed), sorted(ids))
        cli = {r["run_id"]: r["status"] for r in self.world.cli_json("runs", "--job", "hold")}
        self.assertEqual([cli[i] for i in ids], ["queued"] * 3)
        # The slot frees: the oldest queued run is started and shown running.
        self.world.cancel(first["run_id"])
        self.server.wait_status(first["run_id"], "cancelled")
        self.server.wait_status(ids[0], "running")
        wait_for("the second run's handler to start", lambda: self.world.records(ids[0]))
        self.assertEqual(self.server.run(ids[1])["status"], "queued")
        for run_id in ids:
            self.world.cancel(run_id)
        for run_id in ids:
            self.server.wait_status(run_id, "cancelled")


class BacklogTests(ServerTestCase):
    jobs = HOLD_JOBS
    server_args = ("--max-concurrent", "1", "--max-backlog", "3")

    def testPastTheBacklogAWebhookIs503WithRetryAfterAndRecordsNothing(self):
        first = self.assertAccepted(self.server.hook("hold"))
        self.server.wait_status(first["run_id"], "running")
        queued = [self.assertAccepted(self.server.hook("hold"))["run_id"] for _ in range(3)]
        before = self.count("hold")
        for job in ("hold", "quick"):
            resp = self.server.hook(job)
            body = self.assertError(resp, 503, f"hook {job} past the backlog")
            self.assertIn("queued", body["error"])
            retry = resp.header("Retry-After")
            self.assertIsNotNone(retry, resp)
            self.assertTrue(retry.isdigit() and int(retry) > 0, retry)
        self.assertEqual(self.count("hold"), before)
        self.assertEqual(self.count("quick"), 0)
        # One queued run cancelled makes room for one more.
        self.world.cancel(queued[-1])
        self.server.wait_status(queued[-1], "cancelled")
        again = wait_for("a webhook to be taken again", lambda: (lambda r: r if r.status == 202 else None)(self.server.hook("hold")),
                         timeout=5, interval=0.2)
        self.assertEqual(again.json["status"], "queued")
        for run_id in [first["run_id"], *queued, again.json["run_id"]]:
            self.world.cancel(run_id)


if __name__ == "__main__":
    unittest.main()

"""The dashboard's API: POST /jobs/JOB/pause|unpause|invoke, cancel and retry by the
operator (X-Baton-Dashboard on a loopback baton without a token, the bearer token
with one, or a signature), runs paged with ?before=, ETag/304, a run's detail (items,
retries, payload summary), a slice's log, and jobs with their history."""

import json
import sqlite3
import time

from harness import DEFAULT_JOBS, SECRET, ServerTestCase, nonce_body, sign, wait_for

JOBS = DEFAULT_JOBS + "@daily  strict  overlap=allow pace=100ms retries=0 {d}/count3.sh\n"
OPERATOR = {"X-Baton-Dashboard": "1"}
TOKEN = "dashboard-token-0123456789"


def stored(world, run_id):
    """(status, cancel_requested, trigger, parent_run) as the store holds them."""
    with sqlite3.connect(f"file:{world.db}?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT status, cancel_requested, trigger_kind, parent_run FROM runs WHERE id = ?",
                          (run_id,)).fetchone()


def paused(world, job):
    return {j["job"]: j["paused"] for j in world.cli_json("jobs")}[job]


class ActionTests(ServerTestCase):
    jobs = JOBS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.strict = cls.server.hook("strict").json["run_id"]
        cls.server.wait_status(cls.strict, "failed")

    def post(self, path, headers=None, body=None):
        return self.server.request("POST", path, body=body, headers=headers)

    def testPauseAndUnpauseAreWhatBatonPauseDoes(self):
        self.assertError(self.post("/jobs/yearly/pause"), 401, "no credentials")
        self.assertFalse(paused(self.world, "yearly"))
        resp = self.post("/jobs/yearly/pause", OPERATOR)
        self.assertEqual((resp.status, resp.json), (200, {"job": "yearly", "paused": True}), resp)
        self.assertTrue(paused(self.world, "yearly"), "baton jobs does not show the pause")
        self.assertNotIn("next", self.server.get("/jobs?history=0").json["jobs"][6])
        resp = self.post("/jobs/yearly/unpause", OPERATOR)
        self.assertEqual((resp.status, resp.json["paused"]), (200, False), resp)
        self.assertFalse(paused(self.world, "yearly"))

    def testSignedPauseIsRefusedAsAReplay(self):
        body, ts = nonce_body(), int(time.time())
        h = {"X-Baton-Timestamp": str(ts), "X-Baton-Signature": sign(SECRET, ts, body)}
        self.assertEqual(self.post("/jobs/spend/pause", h, body).status, 200)
        self.assertTrue(paused(self.world, "spend"))
        self.assertError(self.post("/jobs/spend/pause", h, body), 401, "a replay")
        self.assertEqual(self.post("/jobs/spend/unpause", OPERATOR).status, 200)

    def testActionsRefuseWhatTheyCannotDo(self):
        self.assertError(self.post("/jobs/nosuch/pause", OPERATOR), 404)
        resp = self.server.get("/jobs/quick/pause")
        self.assertError(resp, 405)
        self.assertEqual(resp.header("Allow"), "POST")
        host = f"{self.server.host}:{self.server.port}"
        self.assertError(self.post("/jobs/quick/pause", {**OPERATOR, "Origin": "http://evil.example"}), 403)
        self.assertFalse(paused(self.world, "quick"))
        self.assertEqual(self.post("/jobs/quick/unpause", {**OPERATOR, "Origin": "http://" + host}).status, 200)
        self.assertError(self.post("/jobs/quick/invoke", OPERATOR, b"{not json"), 400)
        self.assertError(self.post(f"/runs/{self.strict}/cancel", OPERATOR), 409, "cancel of a finished run")

    def testInvokeStartsAManualRunAndCancelStopsIt(self):
        resp = self.post("/jobs/slow/invoke", OPERATOR, b'{"why":"operator"}')
        run_id = self.assertAccepted(resp)["run_id"]
        self.assertEqual(stored(self.world, run_id)[2], "manual")
        wait_for("the slow handler to start", lambda: self.world.records(run_id))
        self.assertEqual(self.world.records(run_id)[0]["payload"], {"why": "operator"})
        self.assertError(self.post("/jobs/slow/invoke", OPERATOR), 409, "overlap=skip with a run going")
        self.assertEqual(self.post(f"/runs/{run_id}/cancel", OPERATOR).status, 202)
        self.server.wait_status(run_id, "cancelled")
        self.assertEqual(stored(self.world, run_id)[0], "cancelled")

    def testRetryByTheOperatorLinksBothWays(self):
        resp = self.post(f"/runs/{self.strict}/retry", OPERATOR)
        child = self.assertAccepted(resp)["run_id"]
        self.assertEqual(stored(self.world, child)[2:], ("retry", self.strict))
        detail = self.server.get(f"/runs/{self.strict}").json
        self.assertIn(child, detail["retried_by"])
        self.assertEqual(self.server.run(child)["retry_of"], self.strict)

    def testRunDetailTellsWhyItEndedWithItsItems(self):
        detail = self.server.get(f"/runs/{self.strict}").json
        self.assertEqual(detail["status"], "failed")
        self.assertTrue(detail["failed_on_items"])
        self.assertEqual(detail["end_reason"], "1 item failed (more than tolerate= allows)")
        self.assertEqual(detail["failed_items"], [{"id": "item-2", "status": "failed", "slice": 2, "error": "boom"}])
        self.assertEqual((detail["failed_items_total"], detail["unknown_items"], detail["unknown_items_total"]), (1, [], 0))
        self.assertEqual([s["log_bytes"] for s in detail["slices"]], [15, 15, 15])

    def testPayloadIsSummarisedNeverShown(self):
        payload = {"text": "hunter2-private", "to": "x"}
        run_id = self.server.hook("quick", json.dumps(payload)).json["run_id"]
        self.server.wait_status(run_id, "succeeded")
        resp = self.server.get(f"/runs/{run_id}")
        self.assertNotIn(b"hunter2", resp.body)
        self.assertEqual(resp.json["payload_summary"], {"bytes": len(json.dumps(payload, separators=(",", ":"))), "keys": ["text", "to"]})

    def testSliceLogIsReadOnDemand(self):
        log = self.server.get(f"/runs/{self.strict}/slices/2/1/log")
        self.assertEqual(log.status, 200, log)
        self.assertEqual((log.json["log"], log.json["bytes"], log.json["capped"]), ("counted 2 of 3\n", 15, False))
        self.assertError(self.server.get(f"/runs/{self.strict}/slices/9/1/log"), 404)
        self.assertError(self.server.get(f"/runs/{self.strict}/slices/x/1/log"), 400)
        self.assertError(self.server.get("/runs/r_nosuchrun0000/slices/1/1/log"), 404)

    def testRunsPageWithBefore(self):
        for _ in range(3):
            self.server.wait_status(self.server.hook("quick").json["run_id"], "succeeded")
        everything = [r["run_id"] for r in self.server.get("/runs?limit=1000").json["runs"]]
        pages, before = [], None
        while True:
            body = self.server.get("/runs?limit=2" + (f"&before={before}" if before else "")).json
            pages += [r["run_id"] for r in body["runs"]]
            before = body.get("next_before")
            if not before:
                break
        self.assertEqual(pages, everything, "paging loses or repeats runs")
        self.assertError(self.server.get("/runs?before=r_nosuchrun0000"), 400)

    def testUnchangedAnswersAre304(self):
        # A running run's elapsed time changes every read: wait until none is.
        wait_for("strict's runs to finish", lambda: all(
            "finished_at" in r for r in self.server.get("/runs?job=strict&limit=5").json["runs"]))
        first = self.server.get("/runs?job=strict&limit=5")
        tag = first.header("ETag")
        self.assertTrue(tag, first)
        again = self.server.get("/runs?job=strict&limit=5", headers={"If-None-Match": tag})
        self.assertEqual((again.status, again.body), (304, b""))
        self.server.wait_status(self.server.hook("strict").json["run_id"], "failed")
        changed = self.server.get("/runs?job=strict&limit=5", headers={"If-None-Match": tag})
        self.assertEqual(changed.status, 200)

    def testJobsHistory(self):
        body = self.server.get("/jobs?history=30&limit=50").json
        jobs = {j["job"]: j for j in body["jobs"]}
        self.assertEqual(body["total"], 8)
        self.assertEqual(jobs["yearly"]["next_fires"][:3], ["2027-01-01T12:00:00+00:00", "2028-01-01T12:00:00+00:00",
                                                          "2029-01-01T12:00:00+00:00"])
        strict = jobs["strict"]
        self.assertEqual(strict["last_failure"]["run_id"], self.strict)
        self.assertIn(self.strict, [r["run_id"] for r in strict["recent"]])
        self.assertTrue(all(r["status"] for r in strict["recent"]))
        page = self.server.get("/jobs?history=0&offset=7&limit=5").json
        self.assertEqual([j["job"] for j in page["jobs"]], ["strict"])
        self.assertError(self.server.get("/jobs?history=31"), 400)
        self.assertError(self.server.get("/jobs?history=1&limit=0"), 400)


class TokenActionTests(ServerTestCase):
    server_env = {"BATON_API_TOKEN": TOKEN}

    def testActionsNeedTheBearerToken(self):
        for headers in ({}, OPERATOR, {"Authorization": "Bearer wrong"}, {**OPERATOR, "Authorization": "Bearer " + TOKEN + "x"}):
            with self.subTest(headers=headers):
                self.assertError(self.server.request("POST", "/jobs/quick/pause", headers=headers), 401)
        self.assertFalse(paused(self.world, "quick"))
        resp = self.server.request("POST", "/jobs/quick/pause", headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(paused(self.world, "quick"))

    def testABrowserWithoutTheTokenGetsThePageThatAsksForIt(self):
        resp = self.server.get("/", headers={"Accept": "text/html"})
        self.assertEqual(resp.status, 401)
        self.assertIn("text/html", resp.header("Content-Type"))
        self.assertIn(b'id="token-form"', resp.body)
        self.assertError(self.server.get("/"), 401, "a client that asks for no HTML gets JSON")
        self.assertError(self.server.get("/jobs", headers={"Accept": "text/html"}), 401)

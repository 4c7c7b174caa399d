"""Replays are refused and Idempotency-Key returns the first run, also across a
restart of baton on the same store (both are kept in the store, docs/http.md)."""

import time
import unittest
import uuid

from harness import SECRET, ApiTestCase, Server, World, finish_world, nonce_body, sign


class ReplayCase(ApiTestCase):
    """A fresh world and server per test, and signed sends at a chosen timestamp."""

    def setUp(self):
        self.world = World()
        self.server = Server(self.world).start()

    def tearDown(self):
        self.server.stop()
        finish_world(self.world, self.server)

    def restart(self):
        status = self.server.terminate()
        self.assertEqual(status, 0, "baton serve did not exit 0 on SIGTERM")
        self.server = Server(self.world).start()

    def send(self, job, body, ts, key=None):
        headers = {"X-Baton-Timestamp": str(ts), "X-Baton-Signature": sign(SECRET, ts, body),
                   "Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.server.request("POST", f"/hooks/{job}", body=body, headers=headers)

    def count(self, job):
        return len(self.server.runs(job))


class ReplayTests(ReplayCase):

    def testTheSameSignedRequestTwiceIsAReplay(self):
        body, ts = nonce_body(), int(time.time())
        self.assertAccepted(self.send("quick", body, ts))
        self.assertEqual(self.count("quick"), 1)
        self.assertError(self.send("quick", body, ts), 401, "replay")
        self.assertEqual(self.count("quick"), 1, "a replay started a run")
        # The same body signed at another second is a new request, not a replay.
        self.assertAccepted(self.send("quick", body, ts - 1))
        self.assertEqual(self.count("quick"), 2)

    def testAReplayIsRefusedAfterARestart(self):
        body, ts = nonce_body(), int(time.time())
        self.assertAccepted(self.send("quick", body, ts))
        self.restart()
        self.assertError(self.send("quick", body, ts), 401, "replay after restart")
        self.assertEqual(self.count("quick"), 1, "a replay after restart started a run")
        self.assertEqual(len(self.world.cli_json("runs", "--job", "quick")), 1)

    def testTheSameIdempotencyKeyReturnsTheFirstRun(self):
        key = "order-" + uuid.uuid4().hex
        body, ts = nonce_body(), int(time.time())
        first = self.assertAccepted(self.send("quick", body, ts, key=key))
        self.assertFalse(first.get("idempotent_replay", False), first)
        # The very same request again (no replay refusal: it carries a key) ...
        again = self.assertAccepted(self.send("quick", body, ts, key=key))
        self.assertEqual(again["run_id"], first["run_id"])
        self.assertIs(again.get("idempotent_replay"), True, again)
        # ... and a fresh signed request with the same key and another body.
        other = self.assertAccepted(self.send("quick", nonce_body(), ts + 1, key=key))
        self.assertEqual(other["run_id"], first["run_id"])
        self.assertIs(other.get("idempotent_replay"), True, other)
        self.assertEqual(self.count("quick"), 1)
        # Another key is another run.
        new = self.assertAccepted(self.send("quick", nonce_body(), ts, key=key + "-2"))
        self.assertNotEqual(new["run_id"], first["run_id"])
        self.assertEqual(self.count("quick"), 2)

    def testTheIdempotencyKeyIsPerJob(self):
        key = "shared-" + uuid.uuid4().hex
        a = self.assertAccepted(self.send("quick", nonce_body(), int(time.time()), key=key))
        b = self.assertAccepted(self.send("count", nonce_body(), int(time.time()), key=key))
        self.assertNotEqual(a["run_id"], b["run_id"])
        self.assertFalse(b.get("idempotent_replay", False), b)

    def testTheIdempotencyKeySurvivesARestart(self):
        key = "restart-" + uuid.uuid4().hex
        body, ts = nonce_body(), int(time.time())
        first = self.assertAccepted(self.send("quick", body, ts, key=key))
        self.server.wait_status(first["run_id"], "succeeded")
        self.restart()
        again = self.assertAccepted(self.send("quick", body, ts, key=key))
        self.assertEqual(again["run_id"], first["run_id"])
        self.assertIs(again.get("idempotent_replay"), True, again)
        fresh = self.assertAccepted(self.send("quick", nonce_body(), int(time.time()) + 1, key=key))
        self.assertEqual(fresh["run_id"], first["run_id"])
        self.assertEqual(self.count("quick"), 1)
        self.assertEqual(len(self.world.cli_json("runs", "--job", "quick")), 1)


if __name__ == "__main__":
    unittest.main()


class ReplayHardeningTests(ReplayCase):
    """Defects a review found, kept as regressions (docs/http.md, Signatures)."""

    def testAnAddedIdempotencyKeyDoesNotLetAReplayThrough(self):
        body, ts = nonce_body(), int(time.time())
        self.assertAccepted(self.send("quick", body, ts))
        for key in ("attacker-1", "attacker-2"):
            self.assertError(self.send("quick", body, ts, key=key), 401, "replay")
        self.assertEqual(self.count("quick"), 1)

    def testTheSameKeyWithTheSameSignedRequestFindsItsRun(self):
        body, ts, key = nonce_body(), int(time.time()), uuid.uuid4().hex
        first = self.assertAccepted(self.send("quick", body, ts, key=key))
        again = self.assertAccepted(self.send("quick", body, ts, key=key))
        self.assertEqual(again["run_id"], first["run_id"])
        self.assertEqual(self.count("quick"), 1)

    def testAHugeOrNegativeTimestampIsRefusedAndBatonStaysUp(self):
        body = nonce_body()
        for ts in ("-9223372036854775000", "99999999999999999999", "+1795612201", "1e9"):
            headers = {"X-Baton-Timestamp": ts, "X-Baton-Signature": sign(SECRET, 0, body).replace("0", "1", 1)}
            resp = self.server.request("POST", "/hooks/quick", body=body, headers=headers)
            self.assertError(resp, 401)
        self.assertEqual(self.server.get("/healthz").status, 200, "baton stopped answering")

    def testASignedCancelIsNotTakenTwice(self):
        run = self.assertAccepted(self.server.hook("slow"))["run_id"]
        ts = int(time.time())
        headers = {"X-Baton-Timestamp": str(ts), "X-Baton-Signature": sign(SECRET, ts, b"")}
        self.assertEqual(self.server.request("POST", f"/runs/{run}/cancel", body=b"", headers=headers).status, 202)
        self.assertError(self.server.request("POST", f"/runs/{run}/cancel", body=b"", headers=headers), 401, "replay")

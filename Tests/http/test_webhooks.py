"""POST /hooks/JOB and every status code of docs/http.md, over real loopback HTTP."""

import json
import os
import time
import unittest
import uuid

from harness import (ONE_MIB, SECRET, ServerTestCase, nonce_body, read_http_response, sign,
                     sign_openssl, wait_for)


class WebhookTests(ServerTestCase):

    # -- 202 -----------------------------------------------------------------

    def testSignedHookStartsAWebhookRunWithTheBodyAsPayload(self):
        body = {"items": [1, 2, 3], "nonce": "payload-check", "at": time.time()}
        raw = json.dumps(body).encode()
        before = self.count("quick")
        accepted = self.assertAccepted(self.server.hook("quick", raw))
        self.assertIn(accepted.get("status"), ("running", "queued"), accepted)
        self.assertEqual(self.count("quick"), before + 1)
        run_id = accepted["run_id"]

        run = self.server.wait_status(run_id, "succeeded")
        self.assertEqual(run.get("run_id", run_id), run_id)
        if "trigger" in run:
            self.assertEqual(run["trigger"], "webhook", run)
        shown = self.world.cli_json("show", run_id)
        self.assertEqual(shown["trigger"], "webhook", shown)
        self.assertEqual(shown["job"], "quick", shown)
        # What the handler itself received: trigger and the body, as JSON.
        records = wait_for("the handler's input record", lambda: self.world.records(run_id))
        self.assertEqual(records[0]["trigger"], "webhook")
        self.assertEqual(records[0]["payload"], body)

    def testEmptyBodyIsANullPayload(self):
        accepted = self.assertAccepted(self.server.hook("quick", b""))
        self.server.wait_status(accepted["run_id"], "succeeded")
        records = wait_for("the handler's input record", lambda: self.world.records(accepted["run_id"]))
        self.assertIsNone(records[0]["payload"])

    def testSignatureFromOpenSSLIsAccepted(self):
        body = nonce_body(signer="openssl")
        self.assertAccepted(self.server.hook("quick", body, signer=sign_openssl))

    def testSignatureFromPythonHmacIsAccepted(self):
        body = nonce_body(signer="python")
        self.assertEqual(sign(SECRET, 1700000000, body), sign_openssl(SECRET, 1700000000, body),
                         "the two reference implementations disagree")
        self.assertAccepted(self.server.hook("quick", body, signer=sign))

    def testTimestampsInsideTheWindowAreAccepted(self):
        for skew in (-270, 270):
            with self.subTest(skew=skew):
                self.assertAccepted(self.server.hook("quick", ts=int(time.time()) + skew))

    # -- 401 -----------------------------------------------------------------

    def testUnsignedBadlySignedOrStaleHooksAre401AndStartNothing(self):
        def headers(ts, sig):
            h = {"Content-Type": "application/json"}
            if ts is not None:
                h["X-Baton-Timestamp"] = str(ts)
            if sig is not None:
                h["X-Baton-Signature"] = sig
            return h

        def case(name, make):
            """make(body, now) -> headers; the request must be 401 and start nothing."""
            with self.subTest(name):
                body = nonce_body(case=name)
                before = self.count("quick")
                resp = self.server.request("POST", "/hooks/quick", body=body,
                                           headers=make(body, int(time.time())))
                self.assertError(resp, 401, name)
                self.assertEqual(self.count("quick"), before, f"{name}: a run was started")

        case("missing timestamp", lambda b, now: headers(None, sign(SECRET, now, b)))
        case("missing signature", lambda b, now: headers(now, None))
        case("missing both", lambda b, now: headers(None, None))
        case("empty signature", lambda b, now: headers(now, ""))
        case("signature without sha256= prefix", lambda b, now: headers(now, sign(SECRET, now, b)[7:]))
        case("signature with another algorithm", lambda b, now: headers(now, "sha1=" + sign(SECRET, now, b)[7:]))
        case("signature not hex", lambda b, now: headers(now, "sha256=" + "zz" * 32))
        case("signature too short", lambda b, now: headers(now, sign(SECRET, now, b)[:-2]))
        case("signature too long", lambda b, now: headers(now, sign(SECRET, now, b) + "00"))
        case("timestamp not a number", lambda b, now: headers("soon", sign(SECRET, now, b)))
        case("timestamp empty", lambda b, now: headers("", sign(SECRET, now, b)))
        case("timestamp with trailing junk", lambda b, now: headers(f"{now}x", sign(SECRET, f"{now}x", b)))
        case("wrong secret", lambda b, now: headers(now, sign("not-the-secret", now, b)))
        case("signature of another body", lambda b, now: headers(now, sign(SECRET, now, b + b" ")))
        case("signature of another timestamp", lambda b, now: headers(now, sign(SECRET, now - 1, b)))
        case("older than 5 minutes", lambda b, now: headers(now - 330, sign(SECRET, now - 330, b)))
        case("an hour old", lambda b, now: headers(now - 3600, sign(SECRET, now - 3600, b)))
        case("newer than 5 minutes", lambda b, now: headers(now + 330, sign(SECRET, now + 330, b)))
        case("a day ahead", lambda b, now: headers(now + 86400, sign(SECRET, now + 86400, b)))

    # -- 403, 404 ------------------------------------------------------------

    def testJobWhoseSecretVariableIsUnsetIs403(self):
        before = self.count("other")
        # Signed with the default secret: the job names OTHER_SECRET, which baton lacks.
        self.assertError(self.server.hook("other"), 403)
        self.assertError(self.server.hook("other", secret=""), 403)
        self.assertEqual(self.count("other"), before)

    def testUnknownJobRunOrPathIs404(self):
        self.assertError(self.server.hook("no-such-job"), 404, "POST /hooks/no-such-job")
        self.assertError(self.server.get("/runs/r_doesnotexist000"), 404, "GET /runs/unknown")
        self.assertError(self.server.signed_post("/runs/r_doesnotexist000/cancel"), 404, "cancel unknown")
        self.assertError(self.server.signed_post("/runs/r_doesnotexist000/retry"), 404, "retry unknown")
        for path in ("/nope", "/jobs/quick/extra", "/runs/x/y/z", "/metrics/x"):
            with self.subTest(path=path):
                self.assertError(self.server.get(path), 404, f"GET {path}")

    # -- 405 -----------------------------------------------------------------

    def testWrongMethodIs405WithAllow(self):
        cases = [("GET", "/hooks/quick", "POST"), ("PUT", "/hooks/quick", "POST"),
                 ("DELETE", "/jobs", "GET"), ("POST", "/jobs", "GET"), ("POST", "/healthz", "GET"),
                 ("POST", "/metrics", "GET"), ("DELETE", "/runs?job=quick", "GET"),
                 ("GET", "/runs/r_doesnotexist000/cancel", "POST"), ("GET", "/runs/r_doesnotexist000/retry", "POST"),
                 ("POST", "/runs/r_doesnotexist000", "GET"), ("POST", "/", "GET")]
        for method, path, allowed in cases:
            with self.subTest(method=method, path=path):
                resp = self.server.request(method, path, body=b"" if method in ("POST", "PUT") else None)
                self.assertError(resp, 405, f"{method} {path}")
                allow = resp.header("Allow")
                self.assertIsNotNone(allow, f"{method} {path}: no Allow header")
                self.assertIn(allowed, [m.strip() for m in allow.split(",")], f"Allow: {allow}")
        before = self.count("quick")
        self.assertEqual(self.server.get("/hooks/quick").status, 405)
        self.assertEqual(self.count("quick"), before)

    # -- 400 -----------------------------------------------------------------

    def testNonJSONBodyIs400AndStartsNothing(self):
        for body in (b"not json", b"{\"a\":", b"{} {}", b"\xff\xfe"):
            with self.subTest(body=body):
                before = self.count("quick")
                self.assertError(self.server.hook("quick", body), 400)
                self.assertEqual(self.count("quick"), before)

    def testNonJSONBodySaysLineAndColumn(self):
        """Issue 12: the 400 says where the body went wrong, with the line at fault."""
        resp = self.server.hook("quick", b'{\n  "order": 42,\n  "items": [1, 2\n}')
        self.assertError(resp, 400)
        self.assertEqual(resp.json["error"],
                         "the body is not JSON: line 4, column 1: expected ',' or ']', found '}': \"}\"")

    # -- 413 -----------------------------------------------------------------

    def post_raw(self, length, body=None):
        """Sends a signed hook's head with Content-Length: length, then (if body is
        given) the body; returns the response read from the socket."""
        ts = int(time.time())
        sig = sign(SECRET, ts, body if body is not None else b"x" * length)
        head = (f"POST /hooks/quick HTTP/1.1\r\nHost: {self.server.host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {length}\r\n"
                f"X-Baton-Timestamp: {ts}\r\nX-Baton-Signature: {sig}\r\nConnection: close\r\n\r\n")
        with self.server.connect() as s:
            s.sendall(head.encode())
            if body is not None:
                s.sendall(body)
            return read_http_response(s)

    def testBodyOverOneMiBIs413(self):
        before = self.count("quick")
        self.assertError(self.post_raw(ONE_MIB + 1), 413)
        self.assertEqual(self.count("quick"), before)

    def testBodyOfExactlyOneMiBIsAccepted(self):
        prefix = b'{"nonce":"' + uuid.uuid4().hex.encode() + b'","pad":"'
        body = prefix + b"x" * (ONE_MIB - len(prefix) - 2) + b'"}'
        self.assertEqual(len(body), ONE_MIB)
        json.loads(body)
        resp = self.post_raw(len(body), body=body)
        self.assertEqual(resp.status, 202, resp)

    # -- 409 -----------------------------------------------------------------

    def testOverlapSkipWithAnUnfinishedRunIs409AndStartsNothing(self):
        first = self.assertAccepted(self.server.hook("slow"))
        self.assertEqual(first["status"], "running", first)
        wait_for("the slow handler to start", lambda: self.world.records(first["run_id"]))
        try:
            self.assertEqual(self.count("slow"), 1)
            self.assertError(self.server.hook("slow"), 409)
            self.assertEqual(self.count("slow"), 1, "a skipped hook started a run")
        finally:
            self.world.cancel(first["run_id"])
            self.server.wait_status(first["run_id"], "cancelled")
        # Nothing unfinished any more: the job takes a hook again.
        again = self.assertAccepted(self.server.hook("slow"))
        wait_for("the slow handler to start", lambda: self.world.records(again["run_id"]))
        self.world.cancel(again["run_id"])
        self.server.wait_status(again["run_id"], "cancelled")

    def testOverlapQueueQueuesOneAndRefusesASecond(self):
        first = self.assertAccepted(self.server.hook("queued"))
        second = third = None
        try:
            self.assertEqual(first["status"], "running", first)
            wait_for("the first run's handler to start", lambda: self.world.records(first["run_id"]))
            second = self.assertAccepted(self.server.hook("queued"))
            self.assertEqual(second["status"], "queued", second)
            self.assertEqual(self.server.run(second["run_id"])["status"], "queued")
            third = self.server.hook("queued")
            self.assertError(third, 409, "a second waiting run")
            self.assertEqual(self.count("queued"), 2)
        finally:
            self.world.cancel(first["run_id"])
            self.server.wait_status(first["run_id"], "cancelled")
            if second is not None:
                # The queued run starts once the first is finished; then cancel it too.
                self.server.wait_status(second["run_id"], "running")
                wait_for("the queued run's handler to start", lambda: self.world.records(second["run_id"]))
                self.world.cancel(second["run_id"])
                self.server.wait_status(second["run_id"], "cancelled")



class OverlapReplaceTests(ServerTestCase):
    jobs = "@daily replace overlap=replace budget=30s grace=1s {d}/sleep.sh 30\n"

    def testReplaceCancelsTheOldRunGracefullyAndStartsTheNew(self):
        old = self.assertAccepted(self.server.hook("replace"))["run_id"]
        wait_for("the old handler to start", lambda: self.world.records(old))
        new = self.assertAccepted(self.server.hook("replace"))["run_id"]
        try:
            self.assertNotEqual(new, old)
            run = self.server.wait_status(old, "cancelled")
            # Gracefully: SIGTERM, and the cursor it handed back is kept.
            self.assertTrue(os.path.exists(os.path.join(self.world.rec, old + ".term")), "no SIGTERM")
            self.assertEqual(run["cursor"], "stopped", run)
            wait_for("the new run's handler to start", lambda: self.world.records(new), timeout=5)
            self.assertEqual(self.server.run(new)["status"], "running")
        finally:
            self.world.cancel(old)
            self.world.cancel(new)
            self.server.wait_status(new, "cancelled")


if __name__ == "__main__":
    unittest.main()


class ExactlyOnceUnderLoadTests(unittest.TestCase):
    """Webhook runs recorded owned by the server are started by exactly one driver: a
    review found handlers run twice (a second driver taking a just-recorded run) when
    hooks arrive a few at a time while runs are being driven."""

    def testEachWebhookRunsItsHandlerOnce(self):
        import sqlite3
        from concurrent.futures import ThreadPoolExecutor
        from harness import Server, World, finish_world
        world = World()
        server = Server(world).start()
        try:
            with ThreadPoolExecutor(3) as pool:
                answers = list(pool.map(lambda _: server.hook("quick"), range(300)))
            ids = [a.json["run_id"] for a in answers if a.status == 202]
            self.assertEqual(len(ids), 300, [a for a in answers if a.status != 202][:3])

            def unfinished():
                db = sqlite3.connect(world.db)
                try:
                    return db.execute("SELECT count(*) FROM runs WHERE status IN ('running', 'queued')").fetchone()[0]
                finally:
                    db.close()
            wait_for("every run to finish", lambda: unfinished() == 0, timeout=60)
            db = sqlite3.connect(world.db)
            try:
                # (history= prunes the oldest runs as it goes: every slice left is checked.)
                odd = db.execute("SELECT run_id, number, attempt, outcome FROM slices "
                                 "WHERE outcome != 'succeeded' OR attempt != 1").fetchall()
            finally:
                db.close()
            self.assertEqual(odd, [], "a run's first slice was lost or run again")
            invoked = {rid: len(world.records(rid)) for rid in ids}
            self.assertEqual([rid for rid, n in invoked.items() if n != 1], [], "handlers that ran other than once")
        finally:
            server.stop()
            finish_world(world, server)

"""Safe by default: no BATON_API_TOKEN, no listening beyond loopback; with a token,
every GET but /healthz needs it."""

import subprocess
import unittest

from harness import BATON_BIN, SECRET, ApiTestCase, Server, ServerTestCase, World, base_env, finish_world

TOKEN = "t"
TRACE_MARKS = ("Fatal error", "Stack dump", "stack trace", "Backtrace", "backtrace", "#0 0x", ".swift:",
               "Illegal instruction", "Segmentation fault")


class ListenRefusalTests(ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.world = World()

    @classmethod
    def tearDownClass(cls):
        finish_world(cls.world)

    def baton(self, *args, env=None):
        return subprocess.run([BATON_BIN, *args, "--schedules", self.world.schedules, "--state", self.world.state],
                              cwd=self.world.dir, capture_output=True, timeout=15,
                              env=base_env(BATON_WEBHOOK_SECRET=SECRET, **(env or {})))

    def assertRefused(self, p, what):
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 2, f"{what}: exit {p.returncode}, stderr: {err}")
        self.assertTrue(err.strip(), f"{what}: nothing on stderr")
        for mark in TRACE_MARKS:
            self.assertNotIn(mark, err, f"{what}: a stack trace on stderr: {err}")
        return err

    def testNonLoopbackWithoutTokenExits2WithAClearError(self):
        for mode in ("serve", "run"):
            for addr in ("0.0.0.0:0", "[::]:0"):
                with self.subTest(mode=mode, addr=addr):
                    p = self.baton(mode, "--listen", addr)
                    err = self.assertRefused(p, f"baton {mode} --listen {addr}")
                    self.assertIn("BATON_API_TOKEN", err, "the error should say how to allow it")
                    self.assertNotIn("event=listen", err)

    def testMalformedListenAddressExits2(self):
        for addr in ("nonsense", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:-1", "localhost:"):
            with self.subTest(addr=addr):
                self.assertRefused(self.baton("serve", "--listen", addr), f"--listen {addr}")

    def testAnyLoopbackAddressNeedsNoToken(self):
        server = Server(self.world, listen="127.0.0.2:0").start()
        try:
            self.assertEqual(server.host, "127.0.0.2")
            self.assertEqual(server.get("/jobs").status, 200)
        finally:
            server.stop()


class TokenTests(ServerTestCase):
    listen = "0.0.0.0:0"
    server_env = {"BATON_API_TOKEN": TOKEN}

    def get(self, path, auth):
        headers = {"Authorization": auth} if auth is not None else {}
        return self.server.request("GET", path, headers=headers)

    def testGetsNeedTheBearerToken(self):
        for path in ("/jobs", "/runs?job=quick", "/runs/r_doesnotexist000", "/metrics", "/"):
            for auth in (None, "Bearer wrong", "Bearer " + TOKEN + "x", "Bearer", "Basic dDp0", TOKEN, "Bearer  "):
                with self.subTest(path=path, auth=auth):
                    self.assertError(self.get(path, auth), 401, f"GET {path} with {auth!r}")
        self.assertEqual(self.get("/jobs", "Bearer " + TOKEN).status, 200)
        self.assertEqual(self.get("/runs?job=quick", "Bearer " + TOKEN).status, 200)
        self.assertEqual(self.get("/metrics", "Bearer " + TOKEN).status, 200)
        self.assertEqual(self.get("/", "Bearer " + TOKEN).status, 200)
        self.assertError(self.get("/runs/r_doesnotexist000", "Bearer " + TOKEN), 404)

    def testHealthzNeedsNoToken(self):
        resp = self.get("/healthz", None)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json.get("status"), "ok", resp)

    def testSignedHooksNeedNoBearerToken(self):
        # The signature is the hook's authentication; the token guards GETs.
        accepted = self.assertAccepted(self.server.hook("quick"))
        self.server.token = TOKEN
        try:
            self.server.wait_status(accepted["run_id"], "succeeded")
        finally:
            self.server.token = None


if __name__ == "__main__":
    unittest.main()

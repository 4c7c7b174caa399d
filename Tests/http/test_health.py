"""GET /healthz: 503 with a reason when the store does not answer or baton is
draining, and a clean drain on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
import unittest

from harness import DEFAULT_JOBS, ApiTestCase, Server, World, finish_world, wait_for

# Another process that wedges the store: it holds exclusive POSIX locks on the WAL
# index's lock bytes (120..127 of the -shm file: the write, checkpoint, recovery and
# five reader locks), as a stuck process sharing the file would. SQLite readers then
# spin for about 10 s and give up with SQLITE_PROTOCOL, so every store call hangs:
# the store does not answer. Releasing the locks lets the store recover at once.
LOCKER = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
deadline = time.monotonic() + 5
while True:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 8, 120, os.SEEK_SET)
        break
    except OSError:
        if time.monotonic() > deadline:
            print("busy", flush=True)
            sys.exit(1)
        time.sleep(0.01)
print("locked", flush=True)
sys.stdin.read()
"""


class HealthTests(ApiTestCase):
    jobs = DEFAULT_JOBS + "@daily linger overlap=allow budget=3s grace=5s {d}/linger.sh 30\n"

    def setUp(self):
        self.world = World(self.jobs)
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.stop()
        finish_world(self.world, self.server)

    def testHealthzIs503WhileTheStoreDoesNotAnswer(self):
        self.server = Server(self.world).start()
        self.assertEqual(self.server.get("/healthz").status, 200)
        shm = self.world.db + "-shm"
        self.assertTrue(os.path.exists(shm), "no WAL index next to the store")
        locker = subprocess.Popen([sys.executable, "-c", LOCKER, shm], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(locker.stdout.readline().strip(), "locked")
            started = time.monotonic()
            resp = self.server.get("/healthz", timeout=20)
            took = time.monotonic() - started
            body = self.assertError(resp, 503, "healthz with a wedged store")
            self.assertIn("store", body["error"])
            self.assertLess(took, 8, "healthz took too long to give up on the store")
        finally:
            locker.stdin.close()
            locker.wait(5)
            locker.stdout.close()
        # Released: healthy again.
        wait_for("healthz to recover", lambda: self.server.get("/healthz", timeout=20).status == 200, timeout=20)

    def testHealthzIs503WhileDraining(self):
        self.server = Server(self.world).start()
        run_id = self.assertAccepted(self.server.hook("linger"))["run_id"]
        wait_for("the lingering handler to start", lambda: self.world.records(run_id))
        before = len(self.server.runs("quick"))
        self.server.proc.send_signal(signal.SIGTERM)
        # The slice runs on until its 3 s budget, then takes 2 s to stop: baton is
        # draining for seconds, and says so.
        resp = wait_for("healthz to say draining",
                        lambda: (lambda r: r if r.status == 503 else None)(self.server.get("/healthz")), timeout=3)
        self.assertError(resp, 503, "healthz while draining")
        self.assertIn("drain", resp.json["error"])
        self.assertError(self.server.hook("quick"), 503, "a hook while draining")
        self.assertEqual(self.server.proc.wait(15), 0, "baton serve did not exit 0 after draining")
        self.assertEqual(len(self.world.cli_json("runs", "--job", "quick")), before, "a hook started a run while draining")
        # The drained run kept the cursor its handler handed back on SIGTERM.
        self.assertEqual(self.world.cli_json("show", run_id)["cursor"], "stopped")

    def testDaemonWithListenDrainsAndExits0(self):
        self.server = Server(self.world, mode="run").start()
        self.assertEqual(self.server.get("/healthz").status, 200)
        self.assertEqual(self.server.terminate(timeout=10), 0)


if __name__ == "__main__":
    unittest.main()

"""A full disk under the store (issue 12, item 7).

The state store lives on a 4 MiB tmpfs (root only: the test mounts it, and skips
saying so otherwise). `baton run` fires a job of 6 slow slices; as slice 2 starts the
tmpfs is filled, so its commit cannot be written. Then:

- while the disk is full (observed for a few seconds after baton reports it), no
  new slice starts and the slice that could not be committed runs at most once more;
- baton says so clearly: at least one and at most 3 log lines about the full disk or
  store (not one per retry), and no crash or stack trace;
- once space is freed, baton gets the commit through (it retries with back-off) and
  the run ends `succeeded` within 20 s, each slice's work done exactly once (the
  handler's ledger) and each slice committed once.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from attack_harness import World, wait_exit, wait_for

SLICES = 6
FULL_WORDS = re.compile(r"full|disk|space", re.I)
CRASH_WORDS = re.compile(r"Fatal error|Stack dump|Backtrace|Segmentation|^\s*#\d+ 0x", re.I)
OBSERVE_FULL = 4.0


class FullDiskTests(unittest.TestCase):

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root, to mount a small tmpfs for the store")
        self.mount = tempfile.mkdtemp(prefix="baton-attack-tmpfs.")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", self.mount], capture_output=True, text=True)
        if r.returncode != 0:
            os.rmdir(self.mount)
            self.skipTest(f"cannot mount a tmpfs here: {r.stderr.strip()}")
        self.w = None

    def tearDown(self):
        if self.w:
            self.w.cleanup()
        subprocess.run(["umount", self.mount], capture_output=True)
        if os.path.ismount(self.mount):
            subprocess.run(["umount", "-l", self.mount], capture_output=True)
        shutil.rmtree(self.mount, ignore_errors=True)

    def fill(self):
        """Fills the tmpfs to its last byte; returns the filler's path."""
        path = os.path.join(self.mount, "filler")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            for size in (1 << 16, 4096, 512, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    pass
        finally:
            os.close(fd)
        return path

    def testAFullDiskStopsNewSlicesAndTheCommitIsRetried(self):
        # A six-field schedule that fires once, 2 s from now (and next a minute later).
        second = (int(time.time()) + 2) % 60
        self.w = w = World(f"{second} * * * * *  fill  misfire=skip overlap=skip budget=20s grace=1s retries=3"
                           f"  {{h}} {SLICES} 0.5\n", state_dir=self.mount).create_store()
        daemon = w.start("run")
        wait_for("slice 2 to start", lambda: any(r["slice"] == 2 for r in w.starts()), timeout=30, interval=0.01)
        filler = self.fill()
        wait_for("baton to say the store is full", lambda: any(FULL_WORDS.search(x) for x in daemon.stderr()),
                 timeout=20)
        # A bounded look at what baton does while the disk stays full.
        deadline = time.monotonic() + OBSERVE_FULL
        while time.monotonic() < deadline and daemon.poll() is None:
            time.sleep(0.1)
        while_full = w.starts()
        full_log = list(daemon.stderr())
        os.remove(filler)
        freed = time.time()
        problems = []
        try:
            wait_for("the run to end after space was freed",
                     lambda: any(r["status"] in ("succeeded", "failed", "partial", "cancelled") for r in w.runs("fill")),
                     timeout=20, interval=0.2)
        except AssertionError as e:
            problems.append(str(e))
        runs = w.runs("fill")
        daemon.signal(15)
        code = wait_exit(daemon, 30)
        records = w.ledger()
        later = [r for r in while_full if r["slice"] >= 3]
        if later:
            problems.append(f"new slices started while the disk was full: {[(r['slice'], r['attempt']) for r in later]}")
        again = [r for r in records if r["ev"] == "start" and r["slice"] == 2]
        if len(again) > 2:
            problems.append(f"slice 2, which could not be committed, ran {len(again)} times")
        said = [x for x in full_log if FULL_WORDS.search(x)]
        if not 1 <= len(said) <= 3:
            problems.append(f"{len(said)} log lines about the full store while it was full, not 1 to 3")
        crashed = [x for x in daemon.stderr() if CRASH_WORDS.search(x)]
        if crashed or code not in (0, None):
            problems.append(f"baton crashed or exited {code}: {crashed[:5]}")
        ends = sorted(r["cursor"] for r in records if r["ev"] == "end")
        if ends != list(range(SLICES)):
            problems.append(f"work done for cursors {ends}, not each of 0..{SLICES - 1} once")
        if len(runs) != 1 or runs[0]["status"] != "succeeded":
            problems.append(f"runs: {[(r['run_id'], r['status']) for r in runs]}, not one succeeded")
        else:
            shown = w.show(runs[0]["run_id"])
            ok = sorted(s["slice"] for s in shown["slices"] if s["outcome"] == "succeeded")
            if ok != list(range(1, SLICES + 1)):
                problems.append(f"slices committed {ok}, not each of 1..{SLICES} once")
        if problems:
            print(f"\nlog lines about the full store: {said[:5]}")
            self.fail("\n".join(problems) + f"\n(space freed at {freed:.3f})\n" + w.diagnostics())


if __name__ == "__main__":
    unittest.main()

"""`baton invoke` on a real terminal, as a user sees it: tmux runs it in a pane of a
known size and `tmux capture-pane -p` reads the screen back (issue 11.5: the progress
bar vanished behind handler logs). Standard library and the tmux binary only."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from testkit import wait_for  # noqa: E402

BATON_BIN = os.path.abspath(os.environ.get("BATON_BIN", ".build/debug/baton"))

# Four slices; each logs two lines, then holds still for a while before its result, so
# the screen can be read at a moment when a log line is the newest thing printed.
HANDLER = """#!/bin/sh
c=${BATON_CURSOR:-0}
echo "loading batch $c" >&2
echo "batch $c: waiting on the provider" >&2
sleep 1.5
n=$((c + 1))
if [ "$n" -ge 4 ]; then echo '{"cursor":null,"total":4,"counts":{"processed":1}}'
else echo "{\\"cursor\\":\\"$n\\",\\"total\\":4,\\"counts\\":{\\"processed\\":1}}"; fi
"""


class ProgressUnderTmuxTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("tmux") is None:
            self.fail("tmux is not installed (ops/install-deps.sh --test installs it)")
        self.dir = tempfile.mkdtemp(prefix="baton-tmux-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        handler = os.path.join(self.dir, "handler.sh")
        with open(handler, "w") as f:
            f.write(HANDLER)
        os.chmod(handler, 0o755)
        # A private tmux server: never the user's, and gone with the test.
        self.socket = f"baton-test-{uuid.uuid4().hex[:8]}"
        self.addCleanup(lambda: subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True))
        command = (f"cd {self.dir} && {BATON_BIN} --state sqlite:{self.dir}/state.db invoke -- ./handler.sh; "
                   f"echo exit=$?; sleep 30")
        subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40",
                        "sh", "-c", command], check=True, env={**os.environ, "TERM": "xterm-256color"})

    def screen(self):
        out = subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p"], capture_output=True, text=True)
        return [line.rstrip() for line in out.stdout.split("\n") if line.strip()]

    def settled_screen(self, what):
        """The screen once two reads 200 ms apart agree and `what` is on it."""
        previous = []

        def stable():
            nonlocal previous
            now = self.screen()
            same = now == previous and any(what in line for line in now)
            previous = now
            return now if same else None
        return wait_for(f"a settled screen showing {what!r}", stable, timeout=20, interval=0.2)

    @staticmethod
    def is_bar(line):
        return re.match(r"\[[#-]{24}\] ", line) is not None

    def test_the_bar_stays_on_the_last_line_with_logs_scrolling_above_it(self):
        for batch in (1, 2):
            lines = self.settled_screen(f"batch {batch}: waiting on the provider")
            self.assertTrue(self.is_bar(lines[-1]), "the last line is not the progress bar:\n" + "\n".join(lines))
            self.assertIn("%", lines[-1])
            self.assertIn(f"slice {batch + 1} running", lines[-1])
            logs = [i for i, line in enumerate(lines) if "waiting on the provider" in line or "loading batch" in line]
            self.assertEqual(len(logs), 2 * (batch + 1), "\n".join(lines))
            self.assertTrue(all(i < len(lines) - 1 for i in logs))
            self.assertEqual(sum(1 for line in lines if self.is_bar(line)), 1, "one bar, not a trail of them:\n" + "\n".join(lines))
        done = wait_for("the run to end", lambda: (lambda s: s if any("exit=" in l for l in s) else None)(self.screen()),
                        timeout=20)
        self.assertIn("exit=0", done)
        self.assertTrue(any("succeeded after 4 slice(s)" in line for line in done), "\n".join(done))


if __name__ == "__main__":
    unittest.main()

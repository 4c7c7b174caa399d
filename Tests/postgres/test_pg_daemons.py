"""Who is alive, and whose schedules differ (issue 15, item 7): every daemon refreshes
its row in the store every 10 s with a digest of each job's definition; a daemon whose
files differ from another live one's logs `event=schedules_differ` naming the jobs,
once, and `schedules_agree` when they match again; `/metrics` counts the live daemons
and those that differ.
"""
import os
import signal
import urllib.request
import unittest

from pg_harness import LISTEN, PgWorld, daemon_started, require_postgres, wait_for
from attack_harness import BATON_BIN, Proc, base_env  # noqa: E402 (pg_harness puts it on the path)

HERE_JOBS = "@daily a {h} 1 0.1\n@daily b {h} 1 0.1\n"
# b's schedule differs, c is only there; a is the same job written with other spacing.
THERE_JOBS = "@daily   a   {h} 1 0.1\n@hourly b {h} 1 0.1\n@daily c {h} 1 0.1\n"


def gauge(address, name):
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=15) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def logged(proc, event):
    return [line for line in proc.stderr() if f"event={event}" in line]


class DaemonRosterTests(unittest.TestCase):

    def setUp(self):
        require_postgres(self)
        self.w = PgWorld(HERE_JOBS).create_store()
        self.addCleanup(self.w.cleanup)

    def start_elsewhere(self, jobs):
        """A daemon on the same database with schedule files of its own (another host)."""
        other = os.path.join(self.w.dir, "other-schedules")
        os.makedirs(other, exist_ok=True)
        self.write(other, jobs)
        p = Proc([BATON_BIN, "run", "--schedules", other, "--state", self.w.state], self.w.dir, base_env())
        self.w.procs.append(p)
        return p, other

    def write(self, directory, jobs):
        path = os.path.join(directory, "jobs.cron")
        with open(path + ".tmp", "w") as f:
            f.write(jobs.format(h=self.w.handler))
        os.rename(path + ".tmp", path)

    def testDifferentScheduleFilesAreDetectedAndNamedOnce(self):
        w = self.w
        here = w.start("run", "--listen", "127.0.0.1:0")
        address = wait_for("the daemon to listen", lambda: next(
            (m.group(1) for line in here.stderr() for m in [LISTEN.search(line)] if m), None), timeout=30)
        there, other_dir = self.start_elsewhere(THERE_JOBS)
        wait_for("both daemons to start", lambda: daemon_started(here) and daemon_started(there), timeout=30)

        # Each side names the jobs from its own point of view, within a heartbeat or two.
        line = wait_for("the first daemon to log the difference", lambda: (logged(here, "schedules_differ") or [None])[0],
                        timeout=30, interval=0.2)
        self.assertIn("only_here=-", line)
        self.assertIn("only_there=c", line)
        self.assertIn("different=b", line)
        self.assertIn("hint=", line)
        other_line = wait_for("the other daemon to log it", lambda: (logged(there, "schedules_differ") or [None])[0],
                              timeout=30, interval=0.2)
        self.assertIn("only_here=c", other_line)
        self.assertIn("different=b", other_line)
        wait_for("/metrics to count 2 live daemons, 1 differing",
                 lambda: gauge(address, "baton_daemons_live") == 2 and gauge(address, "baton_daemons_schedules_differ") == 1,
                 timeout=30, interval=0.5)
        info = urllib.request.urlopen(f"http://{address}/metrics", timeout=15).read().decode()
        self.assertRegex(info, r'baton_daemon_info\{owner="[^"]+:\d+:\d+",host="[^"]+",schedules="[0-9a-f]{16}"\} 1')

        # The files made equal (a is already equal though spaced otherwise): both say so once.
        self.write(other_dir, HERE_JOBS.replace("@daily a", "@daily  a"))
        wait_for("both daemons to log that they agree",
                 lambda: logged(here, "schedules_agree") and logged(there, "schedules_agree"), timeout=40, interval=0.2)
        wait_for("/metrics to count none differing",
                 lambda: gauge(address, "baton_daemons_schedules_differ") == 0, timeout=30, interval=0.5)
        self.assertEqual(len(logged(here, "schedules_differ")), 1, "the difference was logged more than once")
        self.assertEqual(len(logged(there, "schedules_differ")), 1, "the difference was logged more than once")

        # A daemon that stops cleanly leaves the roster at once (the next heartbeat sees it gone).
        there.signal(signal.SIGTERM)
        wait_for("the other daemon to stop", lambda: there.poll() is not None, timeout=30)
        wait_for("/metrics to count 1 live daemon", lambda: gauge(address, "baton_daemons_live") == 1,
                 timeout=30, interval=0.5)


if __name__ == "__main__":
    unittest.main()

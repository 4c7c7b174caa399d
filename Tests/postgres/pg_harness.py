"""What the PostgreSQL suite shares: the attack suite's World (schedules, the ledger
handler's own records, the real `baton` binary) with its state in a fresh PostgreSQL
database per test, made and dropped with Debian's `psql` on the server that
$BATON_TEST_PG_URL names (`make test` starts one: ops/test-postgres.sh).

    w = PgWorld(jobs="* * * * * *  tick  overlap=allow {h} 2 0.2")
    d = w.start("run")                      # a daemon on postgres://…/baton_t_…
    w.runs()                                # `baton runs --json --state postgres://…`
    w.ledger()                              # the handler's own records, in order
"""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
# Appended, not first: Tests/attack has test modules of the same names as suites elsewhere.
sys.path.append(os.path.join(HERE, "..", "attack"))
from attack_harness import World, concurrency_violations, outage_lines, wait_exit, wait_for  # noqa: E402,F401

PG_URL = os.environ.get("BATON_TEST_PG_URL", "")
SKIP_REASON = ("BATON_TEST_PG_URL is not set: these tests need a PostgreSQL server "
               "(`make test` starts one; or ops/test-postgres.sh start DIR and export the URL it prints)")


def require_postgres(testcase):
    """Skips the test case with a clear message when there is no server to use."""
    if not PG_URL:
        raise unittest.SkipTest(SKIP_REASON)
    if not shutil.which("psql"):
        raise unittest.SkipTest("psql is not installed: run ops/install-deps.sh --test (Debian's postgresql)")


def psql(url, sql):
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise AssertionError(f"psql {sql!r} exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


class PgWorld(World):
    """A World whose state is a new PostgreSQL database, dropped at cleanup."""

    def __init__(self, jobs="", server=None):
        self.server = server or PG_URL
        self.database = "baton_t_" + uuid.uuid4().hex[:12]
        psql(self.server, f'CREATE DATABASE "{self.database}"')
        self.url = with_database(self.server, self.database)
        super().__init__(jobs, prefix="baton-pg.")

    @property
    def state(self):
        return self.url

    def sql(self, query):
        return psql(self.url, query)

    def cleanup(self):
        super().cleanup()
        try:
            psql(self.server, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        except AssertionError as e:  # cleanup goes on; say why the database stayed
            print(f"\nleft database {self.database}: {e}")


def daemon_started(proc):
    return any("event=start" in x for x in proc.stderr())


# A daemon's `event=listen` line names the address it took (port 0 picks a free one).
LISTEN = re.compile(r"event=listen\b.*?\baddress=(\S+)")


def healthz(address):
    """`GET /healthz`: (status, the JSON body)."""
    try:
        with urllib.request.urlopen(f"http://{address}/healthz", timeout=15) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")

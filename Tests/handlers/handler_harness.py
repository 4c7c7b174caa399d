"""What the handler suites share: a real `baton sandbox`, a scratch directory with an
APP_DB, and the built `baton` and handler binaries run as a user runs them.

APP_DB is an SQLite file, or with BATON_TEST_APP_DB=postgres a new database on the
server BATON_TEST_PG_URL names (`make test` runs the suites both ways), dropped at the
end: the same tests, the same handlers, either backend. `sql` and `execute` take `?`
parameters on both and read times back as RFC 3339 text, as the handler kit does.

    with HandlerWorld() as w:
        w.handler("regenerate-drafts", "--seed", "200")
        r = w.baton("invoke", "--", w.bin("regenerate-drafts"))
        w.sql("SELECT count(*) FROM ai_drafts WHERE regenerated_at IS NOT NULL")
"""
import datetime
import decimal
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "providers"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from sandbox_harness import BATON_BIN, Sandbox  # noqa: E402
from testkit import stop_process, wait_for  # noqa: E402,F401

BIN_DIR = os.path.dirname(BATON_BIN)
BACKEND = os.environ.get("BATON_TEST_APP_DB", "sqlite")
PG_URL = os.environ.get("BATON_TEST_PG_URL", "")


def _pg_value(v):
    """A PostgreSQL value as the kit reads it: times as RFC 3339 UTC text, numerics
    as int or float."""
    if isinstance(v, datetime.datetime):
        v = v.astimezone(datetime.timezone.utc)
        text = v.strftime("%Y-%m-%dT%H:%M:%S")
        if v.microsecond:
            text += ("." + f"{v.microsecond:06d}").rstrip("0")
        return text + "Z"
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


class PostgresAppDB:
    """APP_DB as a database of its own on the test server."""

    def __init__(self):
        import psycopg  # only the PostgreSQL runs need it (ops/requirements-test.txt)
        self.psycopg = psycopg
        self.name = "baton_app_" + uuid.uuid4().hex[:12]
        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{self.name}"')
        parts = urllib.parse.urlsplit(PG_URL)
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))

    def run(self, statement, params):
        if params:
            statement = statement.replace("%", "%%").replace("?", "%s")
        with self.psycopg.connect(self.url, autocommit=True) as con:
            cur = con.execute(statement, params or None)
            return [tuple(_pg_value(v) for v in row) for row in cur.fetchall()] if cur.description else []

    def drop(self):
        try:
            with self.psycopg.connect(PG_URL, autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except self.psycopg.Error as e:  # cleanup goes on; say why the database stayed
            print(f"\nleft database {self.name}: {e}")


class HandlerWorld:
    """A sandbox, a directory, an APP_DB and a baton state store. `env` holds what a
    handler needs to reach the sandbox; `baton()` passes it with --pass-env."""

    PASS = ["APP_DB", "OPENAI_BASE_URL", "OPENAI_API_KEY", "AI_PROVIDER", "AI_MODEL", "AI_PRICE_IN", "AI_PRICE_OUT",
            "TWILIO_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "MESSENGER_BASE_URL", "MESSENGER_PAGE_TOKEN",
            "SMTP_URL"]

    def __init__(self, sandbox_args=()):
        self.sandbox = Sandbox(extra_args=sandbox_args)
        self.backend = BACKEND
        self.pg = None

    def __enter__(self):
        if self.backend == "postgres" and not PG_URL:
            raise unittest.SkipTest("BATON_TEST_APP_DB=postgres needs BATON_TEST_PG_URL (make test starts a server)")
        self.sandbox.start()
        self.dir = tempfile.mkdtemp(prefix="baton-handlers.")
        self.app_db = os.path.join(self.dir, "app.db")
        if self.backend == "postgres":
            self.pg = PostgresAppDB()
        self.state = f"sqlite:{self.dir}/state.db"
        self.env = dict(os.environ)
        for k in self.PASS:
            self.env.pop(k, None)
        self.env.update({
            "APP_DB": self.pg.url if self.pg else f"sqlite:{self.app_db}",
            "OPENAI_BASE_URL": self.sandbox.base + "/v1", "OPENAI_API_KEY": "sk-sandbox",
            "TWILIO_BASE_URL": self.sandbox.base, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t",
            "MESSENGER_BASE_URL": self.sandbox.base, "MESSENGER_PAGE_TOKEN": "page-token",
        })
        # Create the state store up front (as the daemon tests do): two processes creating
        # a new store file at the same instant can find it locked while the other migrates.
        created = self.baton("runs")
        assert created.returncode == 0, created.stderr
        return self

    def __exit__(self, *exc):
        self.sandbox.stop()
        if self.pg:
            self.pg.drop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def bin(name):
        return os.path.join(BIN_DIR, name)

    def handler(self, name, *args, timeout=60, check=True):
        """Runs a handler's own command (`--seed N`, `--list --json`)."""
        r = subprocess.run([self.bin(name), *args], cwd=self.dir, env=self.env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise AssertionError(f"{name} {' '.join(args)} exited {r.returncode}: {r.stderr}")
        return r

    def argv(self, args, env):
        """baton's argv: the store (and, for commands that drive runs, the world's
        variables) right after the command name, before any `--` and handler argv."""
        argv = [BATON_BIN, *args]
        extra = ["--state", self.state]
        if args and args[0] in ("invoke", "resume", "retry"):
            extra += ["--pass-env", ",".join(k for k in self.PASS if k in (env or self.env))]
        argv[2:2] = extra
        return argv

    def baton(self, *args, timeout=120, env=None):
        """`baton ARGS` with the store, passing the world's variables to handlers."""
        return subprocess.run(self.argv(args, env), cwd=self.dir, env=env or self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def start_baton(self, *args, env=None):
        """`baton ARGS` in the background (a Popen): an invoke to kill or cancel."""
        return subprocess.Popen(self.argv(args, env), cwd=self.dir, env=env or self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)

    def runs(self):
        r = self.baton("runs", "--json", "--limit", "100")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def show(self, run_id):
        r = self.baton("show", run_id, "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def sql(self, query, *params):
        """Rows of a query on APP_DB, from a connection of the test's own."""
        if self.pg:
            return self.pg.run(query, params)
        con = sqlite3.connect(self.app_db, timeout=10)
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def execute(self, statement, *params):
        if self.pg:
            self.pg.run(statement, params)
            return
        con = sqlite3.connect(self.app_db, timeout=10)
        try:
            con.execute(statement, params)
            con.commit()
        finally:
            con.close()

    def ai_calls(self):
        """The sandbox's record of AI requests (its deliveries of provider openai)."""
        return self.sandbox.deliveries(provider="openai")

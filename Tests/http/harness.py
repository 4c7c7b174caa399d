"""Shared machinery for the HTTP API tests: a temporary baton world (schedules,
handlers, store), a real `baton serve` / `baton run --listen` process, signed
requests over real loopback HTTP, and bounded waits.

Standard library only. The binary is $BATON_BIN (default .build/debug/baton,
relative to the current directory).
"""

import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import uuid
import sys as _sys
_sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from testkit import stop_process, wait_for  # noqa: E402


BATON_BIN = os.path.abspath(os.environ.get("BATON_BIN", ".build/debug/baton"))
SECRET = "s3cret-for-http-tests"
OTHER_SECRET_ENV = "OTHER_SECRET"  # deliberately never set in baton's environment
ONE_MIB = 1024 * 1024

LISTEN_RE = re.compile(r"event=listen\b.*?\baddress=(\S+)")

# Handlers, written into each world. All record their stdin (the protocol's JSON:
# trigger, payload, params, cursor) to $REC/RUN.SLICE.ATTEMPT.json so a test can
# see exactly what the run received, independently of the API that reports it.
QUICK_SH = """#!/bin/sh
# Records its input and finishes at once: one item.
cat > "$REC/$BATON_RUN_ID.$BATON_SLICE.$BATON_ATTEMPT.json"
echo '{"cursor":null,"total":1,"counts":{"processed":1,"succeeded":1},"message":"quick"}'
"""

COUNT3_SH = """#!/bin/sh
# Counts its cursor 0..3, one item per slice; item-2 fails (for retry).
cat > "$REC/$BATON_RUN_ID.$BATON_SLICE.$BATON_ATTEMPT.json"
c=${BATON_CURSOR:-0}; [ -n "$c" ] || c=0
n=$((c + 1))
echo "counted $n of 3" >&2
if [ "$n" -ge 3 ]; then
  echo '{"cursor":null,"has_more":false,"total":3,"counts":{"processed":1,"succeeded":1},"message":"done"}'
elif [ "$n" -eq 2 ]; then
  echo '{"cursor":"2","total":3,"counts":{"processed":1,"failed":1},"items":[{"id":"item-2","status":"failed","error":"boom"}]}'
else
  printf '{"cursor":"%d","total":3,"counts":{"processed":1,"succeeded":1}}\\n' "$n"
fi
"""

SPEND_SH = """#!/bin/sh
# One slice that reports AI spend (SPEC §3 usage): 1,200 tokens in, 300 out, $0.0125.
cat > "$REC/$BATON_RUN_ID.$BATON_SLICE.$BATON_ATTEMPT.json"
echo '{"cursor":null,"counts":{"processed":1,"succeeded":1},"usage":{"input_tokens":1200,"output_tokens":300,"cost_usd":0.0125}}'
"""

SLEEP_SH = """#!/bin/sh
# Sleeps ${1:-30}s; on SIGTERM (cancel, budget, drain) hands back its cursor at once.
trap 'touch "$REC/$BATON_RUN_ID.term"; echo "{\\"cursor\\":\\"stopped\\",\\"has_more\\":true}"; exit 0' TERM
cat > "$REC/$BATON_RUN_ID.$BATON_SLICE.$BATON_ATTEMPT.json"
sleep "${1:-30}" &
wait $!
echo '{"cursor":null}'
"""

STUBBORN_SH = """#!/bin/sh
# Ignores SIGTERM: only the budget's SIGKILL stops it.
trap '' TERM
cat > "$REC/$BATON_RUN_ID.$BATON_SLICE.$BATON_ATTEMPT.json"
sleep 30
"""

LINGER_SH = """#!/bin/sh
# Sleeps ${1:-30}s; on SIGTERM takes 2 more seconds to hand back its cursor, so a
# drain lasts long enough to be seen.
trap 'sleep 2; echo "{\\"cursor\\":\\"stopped\\",\\"has_more\\":true}"; exit 0' TERM
cat > "$REC/$BATON_RUN_ID.$BATON_SLICE.$BATON_ATTEMPT.json"
sleep "${1:-30}" &
wait $!
echo '{"cursor":null}'
"""

DEFAULT_JOBS = """
@daily  quick   overlap=allow                      {d}/quick.sh
@daily  spend   overlap=allow                      {d}/spend.sh
@daily  count   overlap=allow pace=300ms retries=0 tolerate=1 {d}/count3.sh
@daily  slow    overlap=skip  budget=30s grace=1s  {d}/sleep.sh 30
@daily  queued  overlap=queue budget=30s grace=1s  {d}/sleep.sh 30
@daily  other   overlap=allow webhook-secret-env={other} {d}/quick.sh
0 12 1 1 *  yearly  overlap=allow              {d}/quick.sh
"""




def sign(secret, ts, body):
    """X-Baton-Signature for body at ts, with Python's hmac."""
    if isinstance(body, str):
        body = body.encode()
    mac = hmac.new(secret.encode(), str(ts).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def sign_openssl(secret, ts, body):
    """The same signature from an independent implementation: openssl dgst."""
    if isinstance(body, str):
        body = body.encode()
    out = subprocess.run(["openssl", "dgst", "-sha256", "-hmac", secret],
                         input=str(ts).encode() + b"." + body,
                         capture_output=True, check=True, timeout=10).stdout.decode()
    return "sha256=" + out.strip().split("= ")[-1]


def nonce_body(**extra):
    """A JSON body that is unique, so no two tests' requests are ever replays."""
    d = {"nonce": uuid.uuid4().hex}
    d.update(extra)
    return json.dumps(d).encode()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class World:
    """A temporary directory with handlers, a schedules dir and a store path."""

    def __init__(self, jobs=DEFAULT_JOBS):
        self.dir = tempfile.mkdtemp(prefix="baton-http-")
        self.schedules = os.path.join(self.dir, "schedules")
        self.rec = os.path.join(self.dir, "rec")
        os.makedirs(self.schedules)
        os.makedirs(self.rec)
        self.state_dir = os.path.join(self.dir, "state")
        self.db = os.path.join(self.state_dir, "baton.db")
        for name, text in (("quick.sh", QUICK_SH), ("count3.sh", COUNT3_SH), ("sleep.sh", SLEEP_SH),
                           ("stubborn.sh", STUBBORN_SH), ("linger.sh", LINGER_SH), ("spend.sh", SPEND_SH)):
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        self.write_jobs(jobs)

    def write_jobs(self, jobs):
        text = f"REC={self.rec}\n" + jobs.format(d=self.dir, other=OTHER_SECRET_ENV)
        with open(os.path.join(self.schedules, "jobs.cron"), "w") as f:
            f.write(text)

    @property
    def state(self):
        return "sqlite:" + self.db

    def cli(self, *args, timeout=20):
        """Runs the baton CLI on this world's schedules and store."""
        return subprocess.run([BATON_BIN, *args, "--schedules", self.schedules, "--state", self.state],
                              cwd=self.dir, capture_output=True, timeout=timeout, env=base_env())

    def cli_json(self, *args):
        p = self.cli(*args, "--json")
        if p.returncode != 0:
            raise AssertionError(f"baton {' '.join(args)} --json exited {p.returncode}: {p.stderr.decode()}")
        return json.loads(p.stdout.decode())

    def cancel(self, run_id):
        """`baton cancel RUN` from another process (the CLI path, independent of
        the API's POST /runs/RUN/cancel, which test_runs checks on its own)."""
        p = self.cli("cancel", run_id)
        if p.returncode not in (0, 1):
            raise AssertionError(f"baton cancel {run_id} exited {p.returncode}: {p.stderr.decode()}")

    def records(self, run_id):
        """The protocol inputs the handler received for run_id, in slice order."""
        found = []
        for name in os.listdir(self.rec):
            parts = name.split(".")
            if parts[0] == run_id and len(parts) == 4:
                with open(os.path.join(self.rec, name)) as f:
                    text = f.read()
                if text:
                    found.append(((int(parts[1]), int(parts[2])), json.loads(text)))
        return [record for _, record in sorted(found, key=lambda x: x[0])]

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def base_env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
           "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


class Server:
    """One baton process serving the HTTP API on loopback."""

    def __init__(self, world, mode="serve", listen="127.0.0.1:0", env=None, args=()):
        self.world = world
        self.mode = mode
        self.listen = listen
        self.env = base_env(BATON_WEBHOOK_SECRET=SECRET, **(env or {}))
        self.args = list(args)
        self.proc = None
        self.lines = []
        self.lock = threading.Lock()
        self.host = self.port = None
        self.token = None

    # -- process -------------------------------------------------------------

    def start(self, timeout=15):
        # Create the store first, as the daemon tests do: a brand-new file is the one
        # moment two openers (the server and a CLI cross-check) contend hard.
        self.world.cli("runs", "--json")
        cmd = [BATON_BIN, self.mode, "--listen", self.listen, *self.args,
               "--schedules", self.world.schedules, "--state", self.world.state]
        self.lines = []
        self.proc = subprocess.Popen(cmd, cwd=self.world.dir, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()

        def bound():
            for line in self.log():
                m = LISTEN_RE.search(line)
                if m:
                    return m.group(1)
            if self.proc.poll() is not None:
                raise AssertionError(f"baton {self.mode} exited {self.proc.returncode} before listening:\n"
                                     + "\n".join(self.log()))
            return None

        address = wait_for("the event=listen line", bound, timeout=timeout)
        host, _, port = address.rpartition(":")
        host = host.strip("[]")
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        self.host, self.port = host, int(port)
        return self

    def _drain(self, stream):
        # Keeps reading so baton never blocks on a full pipe.
        for raw in iter(stream.readline, b""):
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def log(self):
        with self.lock:
            return list(self.lines)

    def terminate(self, timeout=10):
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"baton {self.mode} did not exit within {timeout}s of SIGTERM")

    def stop(self):
        """For tearDown: SIGTERM, a second SIGTERM, then SIGKILL; never raises."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 6), (signal.SIGTERM, 3)):
            try:
                self.proc.send_signal(sig)
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                pass
        self.proc.kill()
        self.proc.wait(5)

    # -- HTTP ----------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=10):
        if isinstance(body, str):
            body = body.encode()
        h = {}
        if self.token is not None:
            h["Authorization"] = "Bearer " + self.token
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def signed_post(self, path, body=b"", secret=SECRET, ts=None, key=None, headers=None, signer=sign, timeout=10):
        if isinstance(body, str):
            body = body.encode()
        ts = int(time.time()) if ts is None else ts
        h = {"X-Baton-Timestamp": str(ts), "X-Baton-Signature": signer(secret, ts, body),
             "Content-Type": "application/json"}
        if key is not None:
            h["Idempotency-Key"] = key
        h.update(headers or {})
        return self.request("POST", path, body=body, headers=h, timeout=timeout)

    def hook(self, job, body=None, **kw):
        return self.signed_post(f"/hooks/{job}", nonce_body() if body is None else body, **kw)

    def run(self, run_id):
        r = self.get(f"/runs/{run_id}")
        if r.status != 200:
            raise AssertionError(f"GET /runs/{run_id}: {r!r}")
        return r.json

    def runs(self, job, limit=1000):
        r = self.get(f"/runs?job={job}&limit={limit}")
        if r.status != 200:
            raise AssertionError(f"GET /runs?job={job}: {r!r}")
        return r.json["runs"]

    def wait_status(self, run_id, statuses, timeout=15):
        statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
        seen = []

        def check():
            run = self.run(run_id)
            if not seen or seen[-1] != run.get("status"):
                seen.append(run.get("status"))
            return run if run.get("status") in statuses else None

        try:
            return wait_for(f"run {run_id} to be {statuses}", check, timeout=timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}; statuses seen: {seen}") from None

    # -- raw sockets ---------------------------------------------------------

    def connect(self, timeout=10):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        return s


def read_http_response(sock, timeout=10):
    """Reads one HTTP/1.1 response (status, headers, body) from a raw socket,
    tolerating a reset after the response has arrived."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in data:
        if time.monotonic() > deadline:
            raise AssertionError(f"no complete response head within {timeout}s: {data!r}")
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            if b"\r\n\r\n" not in data:
                raise AssertionError(f"connection closed before a response head: {data!r}")
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
    resp = Response(status, headers, rest)
    length = resp.header("Content-Length")
    if status >= 200 and length is not None:
        while len(resp.body) < int(length):
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            resp.body += chunk
    return resp


class ApiTestCase(unittest.TestCase):
    """Assertions shared by the suites."""

    def assertError(self, resp, status, msg=None):
        """status, and a JSON body {"error":…,"hint":…} with no internals."""
        where = f"{msg + ': ' if msg else ''}{resp!r}"
        self.assertEqual(resp.status, status, where)
        ctype = resp.header("Content-Type") or ""
        self.assertIn("application/json", ctype, f"error Content-Type: {where}")
        try:
            body = resp.json
        except ValueError:
            self.fail(f"error body is not JSON: {where}")
        self.assertIsInstance(body, dict, where)
        for key in ("error", "hint"):
            self.assertIn(key, body, where)
            self.assertIsInstance(body[key], str, where)
            self.assertTrue(body[key].strip(), f"empty {key}: {where}")
        text = resp.body.decode("utf-8", "replace")
        for internal in ("Fatal error", "Swift/", ".swift:", "Sources/", "/tmp/baton-http-", "SQLITE_"):
            self.assertNotIn(internal, text, f"internals in an error body: {where}")
        return body

    def assertAccepted(self, resp, msg=None):
        self.assertEqual(resp.status, 202, f"{msg + ': ' if msg else ''}{resp!r}")
        body = resp.json
        self.assertIsInstance(body.get("run_id"), str, resp)
        self.assertTrue(body["run_id"], resp)
        return body


class ServerTestCase(ApiTestCase):
    """One world and one server for a whole class."""

    jobs = DEFAULT_JOBS
    mode = "serve"
    listen = "127.0.0.1:0"
    server_env = None
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.world = World(cls.jobs)
        cls.server = Server(cls.world, mode=cls.mode, listen=cls.listen, env=cls.server_env,
                            args=cls.server_args)
        try:
            cls.server.start()
        except BaseException:
            cls.server.stop()
            cls.world.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        finish_world(cls.world, cls.server)

    def count(self, job):
        """Runs of job, as the API and (independently) the CLI see them."""
        api = len(self.server.runs(job))
        cli = len(self.world.cli_json("runs", "--job", job, "--limit", "1000"))
        self.assertEqual(api, cli, f"GET /runs?job={job} and baton runs --job {job} disagree")
        return api


def finish_world(world, server=None):
    """Removes the world, or keeps it (and prints the server's log) when
    BATON_HTTP_KEEP is set, for a post-mortem."""
    if os.environ.get("BATON_HTTP_KEEP"):
        print(f"\nkept {world.dir}")
        if server is not None:
            print("\n".join(server.log()[-80:]))
    else:
        world.cleanup()

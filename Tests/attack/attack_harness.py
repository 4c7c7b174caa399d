"""What the attack tests share: a scratch world (schedules, a SQLite state store, a
ledger the handler keeps on its own), the real `baton` binary run as users run it, and
checks over the ledger.

    w = World(jobs="@yearly slow misfire=skip {h} 4 0.3")
    p = w.start("invoke", "slow")          # a Proc: pid, output collected, signals
    w.cli("resume", run_id)                # CompletedProcess (text)
    w.ledger()                             # the handler's own records, in order

The binary is $BATON_BIN (default .build/debug/baton).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from testkit import stop_process, wait_for  # noqa: E402,F401

BATON_BIN = os.path.abspath(os.environ.get("BATON_BIN", ".build/debug/baton"))
HANDLER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ledger_handler.py")
FINISHED = ("succeeded", "failed", "cancelled", "partial")


def base_env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
           "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


class Proc:
    """A baton process in the background; its stdout and stderr are read as they come
    (so it never blocks on a full pipe) and kept."""

    def __init__(self, argv, cwd, env, gate=None):
        self.argv = argv
        self.command = argv[1]
        self.label = " ".join([argv[1], *argv[6:]])
        # Behind a gate, a shell waits for its line on the gate's FIFO, then becomes baton
        # (exec: the pid stays, so signals reach baton).
        full = ["sh", "-c", 'read _ < "$0"; exec "$@"', gate.path, *argv] if gate else argv
        self.popen = subprocess.Popen(full, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.popen.pid
        self.out, self.err = [], []
        self.lock = threading.Lock()
        self.readers = [threading.Thread(target=self._drain, args=(s, b), daemon=True)
                        for s, b in ((self.popen.stdout, self.out), (self.popen.stderr, self.err))]
        for t in self.readers:
            t.start()

    def _drain(self, stream, into):
        for raw in iter(stream.readline, b""):
            with self.lock:
                into.append(raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def stderr(self):
        with self.lock:
            return list(self.err)

    def stdout(self):
        with self.lock:
            return list(self.out)

    def text(self):
        return "\n".join(self.stdout() + self.stderr())

    def signal(self, sig):
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def poll(self):
        return self.popen.poll()

    def wait(self, timeout):
        """Exit status, after the output is read to its end."""
        code = self.popen.wait(timeout)
        for t in self.readers:
            t.join(5)
        return code

    def stop(self):
        """For cleanup: SIGCONT (it may be stopped), then SIGTERM, then SIGKILL."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGCONT)
        stop_process(self.popen, timeout=5)

    def tail(self, n=15):
        lines = self.stderr()[-n:]
        return f"--- baton {self.label} (pid {self.pid}, exit {self.popen.poll()}) stderr tail:\n" + "\n".join(lines)


class World:
    """A temporary directory: schedules/jobs.cron (`{h}` in the jobs text is the ledger
    handler with its ledger directory), a state store, and every process started."""

    def __init__(self, jobs="", state_dir=None, prefix="baton-attack."):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.schedules = os.path.join(self.dir, "schedules")
        self.ledger_dir = os.path.join(self.dir, "ledger")
        os.makedirs(self.schedules)
        os.makedirs(os.path.join(self.ledger_dir, "locks"))
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        self.db = os.path.join(self.state_dir, "baton.db")
        self.procs = []
        self.write_jobs(jobs)

    @property
    def state(self):
        return "sqlite:" + self.db

    @property
    def handler(self):
        return f"{sys.executable} {HANDLER} {self.ledger_dir}"

    def write_jobs(self, jobs):
        with open(os.path.join(self.schedules, "jobs.cron"), "w") as f:
            f.write(jobs.format(h=self.handler))

    def create_store(self):
        """Creates the store before processes race to open it (two processes creating a
        new file at once can find it locked while the other migrates)."""
        r = self.cli("runs")
        assert r.returncode == 0, r.stderr
        return self

    def argv(self, args):
        return [BATON_BIN, *args[:1], "--schedules", self.schedules, "--state", self.state, *args[1:]]

    def cli(self, *args, timeout=60):
        """`baton ARGS` to its end (text output)."""
        return subprocess.run(self.argv(args), cwd=self.dir, env=base_env(), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def start(self, *args, gate=None, env=None):
        """`baton ARGS` in the background (behind `gate`, a Gate, when given)."""
        p = Proc(self.argv(args), self.dir, base_env(**(env or {})), gate)
        self.procs.append(p)
        if gate:
            gate.waiting.append(p)
        return p

    def gate(self):
        return Gate(os.path.join(self.dir, f"gate.{len(self.procs)}"))

    def cli_json(self, *args):
        r = self.cli(*args, "--json")
        if r.returncode != 0:
            raise AssertionError(f"baton {' '.join(args)} --json exited {r.returncode}: {r.stderr}")
        return json.loads(r.stdout)

    def show(self, run_id):
        return self.cli_json("show", run_id)

    def runs(self, job=None):
        return self.cli_json("runs", "--limit", "1000", *(("--job", job) if job else ()))

    def wait_status(self, run_id, statuses, timeout=30):
        statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
        return wait_for(f"run {run_id} to be one of {statuses}",
                        lambda: (lambda r: r if r["status"] in statuses else None)(self.show(run_id)),
                        timeout=timeout, interval=0.1)

    # -- the handler's ledger ------------------------------------------------

    def ledger(self, run=None):
        path = os.path.join(self.ledger_dir, "ledger.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            lines = f.read().split("\n")
        records = [json.loads(x) for x in lines[:-1] if x]  # the last piece may be half written
        return [r for r in records if run is None or r["run"] == run]

    def starts(self, run=None):
        return [r for r in self.ledger(run) if r["ev"] == "start"]

    def ledger_text(self, run=None, last=40):
        rows = self.ledger(run)[-last:]
        t0 = rows[0]["t"] if rows else 0
        return "--- ledger" + (f" of {run}" if run else "") + ":\n" + "\n".join(
            f"  +{r['t'] - t0:7.3f}s {r['ev']:5} {r['run']} slice {r['slice']} attempt {r['attempt']} "
            f"cursor {r['cursor']} trigger {r['trigger']} pid {r['pid']} ppid {r['ppid']}"
            + (" CONCURRENT-SLICE" if r.get("concurrent_slice") else "")
            + (" CONCURRENT-RUN" if r.get("concurrent_run") else "") for r in rows)

    def diagnostics(self, run=None):
        return "\n".join([self.ledger_text(run)] + [p.tail() for p in self.procs])

    # -- cleanup -------------------------------------------------------------

    def cleanup(self):
        for p in self.procs:
            try:
                p.stop()
            except Exception:  # noqa: BLE001 - cleanup goes on
                pass
        # Handlers a baton killed with -9 left behind: only the ones this world started
        # (their pids are in its ledger and they carry its ledger path in their argv).
        for r in self.ledger():
            if handler_alive(r["pid"], self.ledger_dir):
                try:
                    os.kill(r["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if os.environ.get("BATON_ATTACK_KEEP"):
            print(f"\nkept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class Gate:
    """Starts processes at the same moment: each waits (in a shell, before it becomes
    baton) for a line on a FIFO that the test holds open; `open()` waits until every one
    has the FIFO open, then writes all their lines in one write."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        # Read and write: opening does not block, and readers never see an end of file.
        self.fd = os.open(path, os.O_RDWR)
        self.waiting = []

    def open(self, timeout=20):
        def reading(p):
            try:
                return os.readlink(f"/proc/{p.pid}/fd/0") == self.path
            except OSError:
                return False
        wait_for("every gated process to wait at the gate", lambda: all(reading(p) for p in self.waiting),
                 timeout=timeout, interval=0.01)
        os.write(self.fd, b"\n" * len(self.waiting))

    def close(self):
        os.close(self.fd)


def handler_alive(pid, ledger_dir):
    """Whether pid is a live (not zombie) ledger handler of this world."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().decode("utf-8", "replace")
    except OSError:
        return False
    return state != "Z" and ledger_dir in cmdline


def outage_lines(log):
    """A daemon's log lines of a store outage: (errors besides `store_down`, the
    `store_down` lines, the `store_back` lines)."""
    errors = [x for x in log if "level=error" in x and "event=store_down" not in x]
    downs = [x for x in log if "event=store_down" in x]
    backs = [x for x in log if "event=store_back" in x]
    return errors, downs, backs


def concurrency_violations(records):
    """Start records that found another handler of the same slice (or run) alive."""
    return [r for r in records if r["ev"] == "start" and (r.get("concurrent_slice") or r.get("concurrent_run"))]


def wait_exit(proc, timeout):
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"baton {proc.label} (pid {proc.pid}) did not exit within {timeout}s\n{proc.tail()}") from None

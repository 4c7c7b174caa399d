#!/usr/bin/env python3
"""bench/postgres part b (issue 15, item 8b): 4 `baton run` daemons on one PostgreSQL
state and the same schedules, 20 jobs firing every second, for MINUTES; every
KILL_EVERY seconds one daemon (in turn) is killed with SIGKILL and started again
RESTART_AFTER seconds later. The handlers keep their own ledger (ledger.c); checker.py
judges the run from that ledger alone.

    reliability.py --baton BIN --url POSTGRES_URL --work DIR [--minutes 10]
                   [--kill-every 120] [--restart-after 20] [--hosts distinct|same]
                   [--lease 10s] [--max-concurrent 32]

--hosts distinct (the default) starts each daemon in a UTS namespace of its own
(`unshare --uts`, root only) with a host name of its own, as daemons on 4 machines: a
killed daemon's runs are then taken over when its lease runs out, not at once on
finding its process gone (what daemons of one host name do, docs/scaling.md). A
restarted daemon keeps its host name, as a host whose systemd restarts baton; 20 s
after the kill by default, so that the other hosts' daemons take the runs over by the
lease (a daemon restarted at once finds its dead predecessor's runs at its first look).
A kill waits (up to 30 s past its time) until the daemon has a handler running, so that
every kill has slices in flight.

Each daemon runs with --max-concurrent 32: the daemon that records a second's fires
first records all 20 of them and drives their runs, and with the default 8 they wait
for its slots (first slices up to seconds late) while the other daemons have none.

Jobs: 10 of one slice of 200 ms and 10 of 3 slices of 300 ms each, all
`overlap=allow` (a run lasts longer than the second between fires; with the default
`skip` the fires meanwhile would be skipped by design, which the checker would count as
misses). The window checked starts WARMUP s after every daemon is up; after it ends the
daemons run on until every run of the window has finished in the ledger (at most
COOLDOWN s), then are stopped with SIGTERM.
"""
import argparse
import calendar
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DAEMONS = 4
WARMUP = 10
COOLDOWN = 60
JOBS = {**{f"one-{i:02d}": (1, 200) for i in range(1, 11)},
        **{f"three-{i:02d}": (3, 300) for i in range(1, 11)}}


def say(text):
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {text}", flush=True)


class Daemon:
    def __init__(self, index, args, work, state):
        self.index, self.args, self.work, self.state = index, args, work, state
        self.host = f"baton-bench-{index}"
        self.incarnation = 0
        self.proc = None

    def start(self):
        self.incarnation += 1
        log = open(os.path.join(self.work, f"daemon-{self.index}.{self.incarnation}.log"), "w")
        cmd = [self.args.baton, "--state", self.state, "--schedules", os.path.join(self.work, "schedules"),
               "run", "--lease", self.args.lease, "--max-concurrent", str(self.args.max_concurrent)]
        if self.args.hosts == "distinct":
            # unshare and sh exec in turn: the pid we hold is baton's, the handlers' parent.
            cmd = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', self.host] + cmd
        self.proc = subprocess.Popen(cmd, cwd=self.work, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self.log_path = log.name
        log.close()
        return self.proc.pid

    def started(self):
        with open(self.log_path) as f:
            return "event=start" in f.read()

    def alive(self):
        return self.proc.poll() is None

    def handlers(self):
        """The pids of the handlers this daemon has running (its children)."""
        pids = []
        try:
            for task in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{task}/children") as f:
                    pids += f.read().split()
        except OSError:
            pass
        return pids


def wait_for(what, predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"reliability: timed out waiting for {what}")


def psql(url, sql):
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql], check=True, env=env,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def runs_done(work, window):
    """True when every run of the window that started has its last slice's end line."""
    started, done = set(), set()
    w0, w1 = window
    with open(os.path.join(work, "ledger.tsv")) as f:
        for raw in f:
            p = raw.split("\t")
            nominal = calendar.timegm(time.strptime(p[2], "%Y-%m-%dT%H:%M:%SZ"))
            if not w0 <= nominal < w1:
                continue
            if p[0] == "start":
                started.add(p[3])
            elif int(p[6]) == JOBS[p[1]][0] - 1:
                done.add(p[3])
    return started <= done


def drive(daemons, args, work):
    """Starts the daemons, kills and restarts them in turn; returns (kills, window)."""
    for d in daemons:
        d.start()
    wait_for("the daemons to start", lambda: all(d.started() for d in daemons), 60)
    w0 = int(time.time()) + WARMUP
    w1 = w0 + int(round(args.minutes * 60))
    kills = []
    kill_times = []
    t = w0 + args.kill_every
    while t < w1:
        kill_times.append(t)
        t += args.kill_every
    say(f"part b: {DAEMONS} daemons ({args.hosts} host names, --lease {args.lease}), {len(JOBS)} jobs every second; "
        f"checking {w1 - w0} s from {time.strftime('%H:%M:%S', time.gmtime(w0))}; "
        f"a kill -9 every {args.kill_every:.0f} s, restart {args.restart_after:.0f} s later")
    ledger = os.path.join(work, "ledger", "ledger.tsv")
    for n, at in enumerate(kill_times):
        time.sleep(max(0.0, at - time.time()))
        victim = daemons[n % DAEMONS]
        for d in daemons:
            if not d.alive():
                raise SystemExit(f"reliability: daemon {d.index} exited by itself ({d.proc.returncode}); see {d.log_path}")
        # Killed while it runs a handler (at most 30 s past its time): a kill between two
        # of its busy seconds would take nothing over. (The daemon that records a
        # second's fires first records all 20, so a daemon can be idle for 10 s and more.)
        deadline = time.time() + 30
        while not victim.handlers() and time.time() < deadline:
            time.sleep(0.02)
        pid, running = victim.proc.pid, len(victim.handlers())
        victim.proc.send_signal(signal.SIGKILL)
        killed_at = time.time()
        victim.proc.wait()
        say(f"kill -9 daemon {victim.index} (pid {pid}, {running} handlers running)")
        time.sleep(max(0.0, killed_at + args.restart_after - time.time()))
        new_pid = victim.start()
        kills.append({"at": killed_at, "pid": pid, "host": victim.host, "restarted_at": time.time(), "new_pid": new_pid})
        say(f"daemon {victim.index} started again (pid {new_pid})")
    time.sleep(max(0.0, w1 - time.time()))
    say("window over; waiting for its runs to finish")
    deadline = time.time() + COOLDOWN
    while time.time() < deadline and not runs_done(os.path.dirname(ledger), (w0, w1)):
        time.sleep(0.5)
    return kills, w0, w1


def stop(daemons):
    """SIGTERM (a drain), then SIGKILL for one still there 20 s later."""
    for d in daemons:
        if d.proc and d.alive():
            d.proc.send_signal(signal.SIGTERM)
    for d in daemons:
        if not d.proc:
            continue
        try:
            d.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baton", required=True)
    ap.add_argument("--url", required=True, help="a PostgreSQL URL; the bench makes its own database there")
    ap.add_argument("--work", required=True)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--kill-every", type=float, default=120.0)
    ap.add_argument("--restart-after", type=float, default=20.0)
    ap.add_argument("--hosts", choices=("distinct", "same"), default="distinct" if os.geteuid() == 0 else "same")
    ap.add_argument("--lease", default="10s")
    ap.add_argument("--max-concurrent", type=int, default=32)
    args = ap.parse_args()
    if args.hosts == "distinct" and os.geteuid() != 0:
        raise SystemExit("reliability: --hosts distinct needs root (unshare --uts); use --hosts same")

    work = args.work
    os.makedirs(os.path.join(work, "schedules"), exist_ok=True)
    os.makedirs(os.path.join(work, "ledger", "locks"), exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", os.path.join(work, "ledger-handler"), os.path.join(HERE, "ledger.c")], check=True)
    with open(os.path.join(work, "schedules", "bench.cron"), "w") as f:
        for name, (slices, ms) in JOBS.items():
            f.write(f"* * * * * *  {name}  overlap=allow budget=10s grace=1s  "
                    f"{work}/ledger-handler {work}/ledger {slices} {ms}\n")
    database = "baton_reliability"
    psql(args.url, f"DROP DATABASE IF EXISTS {database}")
    psql(args.url, f"CREATE DATABASE {database}")
    parts = urllib.parse.urlsplit(args.url)
    state = urllib.parse.urlunsplit(parts._replace(path="/" + database))
    subprocess.run([args.baton, "--state", state, "runs", "--limit", "1"], check=True,
                   stdout=subprocess.DEVNULL)  # the schema, before the daemons race for it

    daemons = [Daemon(i, args, work, state) for i in range(1, DAEMONS + 1)]
    try:
        kills, w0, w1 = drive(daemons, args, work)
    finally:
        stop(daemons)
    with open(os.path.join(work, "ledger", "bench.json"), "w") as f:
        json.dump({"jobs": {k: v[0] for k, v in JOBS.items()}, "window": [w0, w1], "kills": kills,
                   "hosts": args.hosts, "lease": args.lease, "restart_after": args.restart_after}, f)
    import checker  # noqa: E402 (next to this file)
    ok = checker.check(os.path.join(work, "ledger"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()

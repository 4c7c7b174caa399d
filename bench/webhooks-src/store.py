"""Reads baton's SQLite store for bench/webhooks (tables in
Sources/BatonStoreSQLite/SQLiteSchema.swift; times are Unix epoch milliseconds).

    store.py intake DB
        after an --intake-only run: runs by status and the number of slices (zero when
        execution was held back), as JSON.
    store.py drain DB WRK_PID REPORT THREADS TIMEOUT
        waits until every wrk thread has written its "TID ACCEPTED REFUSED" line to
        REPORT (its quota answered), stops wrk, then waits until every run in the store
        is finished and no late request adds one; prints JSON: runs by status, the
        answers wrk counted, and the span from the first run's creation to the last
        run's finish. Polls every 20 ms; gives up after TIMEOUT seconds.
"""
import json
import os
import signal
import sqlite3
import sys
import time


def connect(path):
    con = sqlite3.connect(path, timeout=5)
    con.execute("PRAGMA query_only = 1")
    return con


def by_status(con):
    return dict(con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def intake(path):
    con = connect(path)
    slices = con.execute("SELECT count(*) FROM slices").fetchone()[0]
    print(json.dumps({"status": by_status(con), "slices": slices}))


def drain(path, wrk_pid, report, threads, timeout):
    deadline = time.monotonic() + timeout
    lines = []
    while True:
        if os.path.exists(report):
            with open(report) as f:
                lines = f.read().splitlines()
        if len(lines) >= threads or not alive(wrk_pid):
            break
        if time.monotonic() > deadline:
            sys.exit(f"drain: wrk did not finish its quota within {timeout}s")
        time.sleep(0.02)
    if alive(wrk_pid):
        os.kill(wrk_pid, signal.SIGTERM)
    accepted = sum(int(l.split()[1]) for l in lines)
    refused = sum(int(l.split()[2]) for l in lines)
    con = connect(path)
    # A request in flight when its wrk thread stopped may still be committed a moment
    # later: done means nothing unfinished and the count unchanged for 200 ms.
    stable_since, last = None, None
    while True:
        n, unfinished = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE finished_at IS NULL) FROM runs").fetchone()
        now = time.monotonic()
        if unfinished == 0 and n == last:
            if now - stable_since >= 0.2:
                break
        else:
            stable_since, last = now, n
        if now > deadline:
            sys.exit(f"drain: {unfinished} of {n} runs still unfinished after {timeout}s")
        time.sleep(0.02)
    first, end = con.execute("SELECT min(created_at), max(finished_at) FROM runs").fetchone()
    print(json.dumps({"status": by_status(con), "runs": n, "wrk_202": accepted, "wrk_other": refused,
                      "seconds": ((end - first) / 1000.0) if n else 0.0}))


if __name__ == "__main__":
    if sys.argv[1] == "intake":
        intake(sys.argv[2])
    elif sys.argv[1] == "drain":
        drain(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""A slow slice handler that keeps its own ledger, independent of baton's records.

    ledger_handler.py LEDGER_DIR SLICES SECONDS

The cursor counts the slices done ("" or "0" for the first). Each slice appends
JSON lines to LEDGER_DIR/ledger.jsonl: `start` (before any work), then `end` (its
work done) or `term` (SIGTERM), with run, slice, attempt, cursor, trigger, pid,
parent pid and time. At its start it takes two non-blocking flocks, one per run and
one per (run, slice): failing to get one means another handler of the same run (or
the same slice) is alive at this moment, which the start line says
(`concurrent_run`, `concurrent_slice`). A lock goes with its holder's death, however
it dies (SIGKILL included), so the flags are exact.
"""
import fcntl
import json
import os
import signal
import sys
import time

ledger_dir, slices, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
stdin = json.load(sys.stdin)
env = os.environ
run, number, attempt = env["BATON_RUN_ID"], int(env["BATON_SLICE"]), int(env["BATON_ATTEMPT"])
cursor = int(env.get("BATON_CURSOR") or 0)


def record(event, **extra):
    line = {"ev": event, "run": run, "slice": number, "attempt": attempt, "cursor": cursor,
            "trigger": env.get("BATON_TRIGGER"), "scheduled_at": env.get("BATON_SCHEDULED_AT"),
            "stdin_attempt": stdin.get("attempt"), "pid": os.getpid(), "ppid": os.getppid(), "t": time.time()}
    line.update(extra)
    # One write of one line with O_APPEND: lines of concurrent handlers never interleave.
    fd = os.open(os.path.join(ledger_dir, "ledger.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)


def try_lock(name):
    fd = os.open(os.path.join(ledger_dir, "locks", name), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd, False
    except BlockingIOError:
        return fd, True


def on_term(signum, frame):
    # SPEC §3: on SIGTERM hand back the cursor of the first unfinished item.
    record("term")
    print(json.dumps({"cursor": str(cursor), "has_more": True}))
    sys.stdout.flush()
    os._exit(0)


signal.signal(signal.SIGTERM, on_term)
os.makedirs(os.path.join(ledger_dir, "locks"), exist_ok=True)
run_fd, run_busy = try_lock(f"{run}.lock")
slice_fd, slice_busy = try_lock(f"{run}.{number}.lock")
record("start", concurrent_run=run_busy, concurrent_slice=slice_busy)
time.sleep(seconds)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
record("end")
done = cursor + 1
print(json.dumps({"cursor": str(done) if done < slices else None, "has_more": done < slices, "total": slices,
                  "counts": {"processed": 1, "succeeded": 1}, "message": f"slice with cursor {cursor} done"}))

#!/usr/bin/env python3
"""How the dashboard's reads hold up with 10,000 jobs and 100,000 runs (issue 16).

    BATON_BIN=.build/debug/baton python3 bench/dashboard/scale.py [--jobs 10000] [--runs 100000]

Writes a schedules file of N jobs, lets baton create its store, fills it with M
finished runs spread over the jobs (one in ten failed, written straight into SQLite: a
fixture, not what is measured), starts `baton serve` on loopback and times each read
the page makes (median and worst of 20, over real HTTP), then the page itself in
headless Chromium: from navigation to its first rows drawn. Loopback only, bounded.
"""

import argparse
import os
import random
import sqlite3
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tests", "http"))

import browser  # noqa: E402
from harness import Server, World  # noqa: E402


def fill(db, jobs, runs):
    con = sqlite3.connect(db)
    now = int(time.time() * 1000)
    rows = []
    for i in range(runs):
        job = f"job{i % jobs:05d}"
        created = now - (runs - i) * 1000
        status = "failed" if i % 10 == 3 else "succeeded"
        failed = 1 if status == "failed" else 0
        rows.append((f"r_bench{i:09d}", job, "cron", status, created, created, created + 500, created + 500,
                     3, 3 - failed, failed, 3, 3, "item(s) failed" if failed else None))
    con.executemany("""INSERT INTO runs (id, job, trigger_kind, status, scheduled_at, created_at, updated_at,
                       finished_at, processed, succeeded, failed, total, slices_done, error)
                       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", rows)
    con.commit()
    con.close()


def timed(server, path, n=20):
    took = []
    for _ in range(n):
        t = time.perf_counter()
        r = server.get(path, timeout=120)
        took.append((time.perf_counter() - t) * 1000)
        if r.status != 200:
            raise SystemExit(f"{path}: {r.status} {r.body[:200]!r}")
    return statistics.median(took), max(took), len(r.body)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=100_000)
    a = p.parse_args()
    world = World("".join(f"@daily job{i:05d} overlap=allow {{d}}/quick.sh\n" for i in range(a.jobs)))
    world.cli("runs", "--json")  # creates the store
    fill(world.db, a.jobs, a.runs)
    server = Server(world).start(timeout=60)
    try:
        middle = f"r_bench{a.runs // 2:09d}"
        print(f"{a.jobs:,} jobs, {a.runs:,} runs; ms over loopback, median / worst of 20, answer bytes")
        for path in ("/runs?limit=50", "/runs?status=failed&limit=50", f"/runs?before={middle}&limit=50",
                     "/runs?job=job04321&limit=50", "/jobs?history=30&limit=50&offset=5000", f"/runs/{middle}",
                     "/jobs"):
            med, worst, size = timed(server, path, 20 if path != "/jobs" else 3)
            print(f"  GET {path:45s} {med:8.1f} {worst:8.1f} {size:>10,}")
        url = f"http://{server.host}:{server.port}/"
        for view, ready in (("#/runs", "#runs tr[data-run]"), ("#/jobs", "#jobs tr[data-job]")):
            t = time.perf_counter()
            page = browser.Page(url + view)
            page.wait("rows", f"document.querySelector('{ready}')", timeout=120)
            print(f"  page {view:8s} first rows drawn after {(time.perf_counter() - t) * 1000:8.0f} ms (Chromium start included)")
            page.close()
    finally:
        server.stop()
        world.cleanup()


if __name__ == "__main__":
    random.seed(1)
    main()

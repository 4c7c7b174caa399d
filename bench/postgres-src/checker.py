#!/usr/bin/env python3
"""bench/postgres part b's interval checker. Reads only the handlers' own ledger
(WORK/ledger.tsv, written by ledger.c) and what the driver knows without asking baton
(WORK/bench.json: the jobs and their slices, the checked window, each kill's time and
the killed daemon's pid); never baton's store or logs.

    checker.py WORK      prints every figure with its target; exit 1 if one is missed

Every job fires every second, so the expected fires are (job, second) for each second
of the window [start, end). Each ledger line names its job, nominal time
(BATON_SCHEDULED_AT), run, cursor, attempt, pid and parent pid (the daemon that spawned
it) and the wall time.
"""
import collections
import datetime
import json
import os
import sys

TAKEOVER_TARGET = 15.0


def parse_time(text):
    return int(datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def load(work):
    with open(os.path.join(work, "bench.json")) as f:
        bench = json.load(f)
    lines = []
    with open(os.path.join(work, "ledger.tsv")) as f:
        for raw in f:
            p = raw.rstrip("\n").split("\t")
            if len(p) != 12:
                raise SystemExit(f"checker: a torn ledger line: {raw!r}")
            lines.append({"ev": p[0], "job": p[1], "nominal": parse_time(p[2]), "run": p[3],
                          "slice": int(p[4]), "attempt": int(p[5]), "cursor": int(p[6]),
                          "trigger": p[7], "pid": int(p[8]), "ppid": int(p[9]), "t": float(p[10]),
                          "busy": p[11] == "1"})
    lines.sort(key=lambda r: r["t"])
    return bench, lines


def percentile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class Report:
    def __init__(self):
        self.missed = []

    def figure(self, name, value, target=None, ok=None, detail=None):
        verdict = "" if target is None else f"   (target {target}: {'PASS' if ok else 'MISS'})"
        print(f"  {name:<46} {value}{verdict}")
        if target is not None and not ok:
            self.missed.append(name)
        for d in (detail or [])[:8]:
            print(f"      {d}")


def check(work):
    bench, lines = load(work)
    jobs = bench["jobs"]                     # name -> slices per run
    w0, w1 = bench["window"]                 # whole seconds, [w0, w1)
    kills = bench["kills"]                   # [{"at": unix time, "pid": killed daemon}]
    starts = [r for r in lines if r["ev"] == "start"]
    ends = [r for r in lines if r["ev"] == "end"]
    r = Report()
    print(f"checked window: {iso(w0)} to {iso(w1)} ({w1 - w0} s), {len(jobs)} jobs each firing every second; "
          f"{len(kills)} kills")

    # Fires: (job, nominal second) -> run ids that ran for it.
    runs_of = collections.defaultdict(set)
    first_start = {}
    for s in starts:
        runs_of[(s["job"], s["nominal"])].add(s["run"])
        first_start.setdefault(s["run"], s)
    expected = {(j, t) for j in jobs for t in range(w0, w1)}
    seen = {k for k in runs_of if k in expected}
    r.figure("fires expected (jobs x seconds)", f"{len(expected):,}")
    r.figure("fires seen in the ledger", f"{len(seen):,}")
    dups = sorted((k, sorted(v)) for k, v in runs_of.items() if k in expected and len(v) > 1)
    r.figure("duplicate runs (2+ run ids for one fire)", len(dups), "0", not dups,
             [f"{job} {iso(t)}: runs {', '.join(ids)}" for (job, t), ids in dups])
    misses = sorted(expected - seen, key=lambda k: (k[1], k[0]))
    r.figure("misses (an expected fire never ran)", len(misses), "0", not misses,
             [f"{job} {iso(t)}" for job, t in misses])
    outside = sorted(k for k in runs_of if k[0] in jobs and k not in expected and w0 <= k[1] < w1)
    if outside:
        r.figure("fires at unexpected times", len(outside), "0", False, [f"{j} {iso(t)}" for j, t in outside])
    triggers = collections.Counter(first_start[i]["trigger"] for k in seen for i in runs_of[k])
    r.figure("runs by trigger", ", ".join(f"{k} {v:,}" for k, v in sorted(triggers.items())))

    # Runs finished: the last slice's end line is there.
    window_runs = {i for k in seen for i in runs_of[k]}
    finished = {e["run"] for e in ends if e["cursor"] == jobs.get(e["job"], 0) - 1}
    unfinished = sorted(window_runs - finished)
    r.figure("runs of the window not finished", len(unfinished), "0", not unfinished,
             [f"{i} ({first_start[i]['job']} {iso(first_start[i]['nominal'])})" for i in unfinished])

    # Slices: a (run, cursor) started more than once is a repeat. A repeat is explained
    # when the attempt before it was a handler of a daemon that was killed (its parent
    # pid: a daemon's handlers were all spawned before its death, though one may write
    # its first line just after), and it came after the kill with a higher attempt number.
    killed = {k["pid"]: k["at"] for k in kills}
    by_slice = collections.defaultdict(list)
    for s in starts:
        if s["run"] in window_runs:
            by_slice[(s["run"], s["cursor"])].append(s)
    repeats, explained, unexplained = 0, 0, []
    for key, attempts in by_slice.items():
        for before, after in zip(attempts, attempts[1:]):
            repeats += 1
            kill_at = killed.get(before["ppid"])
            if (kill_at is not None and kill_at < after["t"]
                    and after["attempt"] > before["attempt"]):
                explained += 1
            else:
                unexplained.append(f"run {key[0]} cursor {key[1]}: attempt {before['attempt']} by daemon "
                                   f"{before['ppid']} at {before['t']:.3f}, attempt {after['attempt']} by "
                                   f"{after['ppid']} at {after['t']:.3f}")
    total = sum(len(a) for a in by_slice.values())
    r.figure("slices started (runs of the window)", f"{total:,} ({len(by_slice):,} distinct run+cursor)")
    r.figure("slices repeated", repeats)
    r.figure("  of which in flight at a kill", explained)
    r.figure("  of which not explained by a kill", len(unexplained), "0", not unexplained, unexplained)
    busy = [s for s in starts if s["busy"]]
    r.figure("handlers of one run alive at once", len(busy), "0", not busy,
             [f"run {s['run']} cursor {s['cursor']} attempt {s['attempt']} pid {s['pid']}" for s in busy])

    # Takeovers: a run with a slice run by the killed daemon and a slice started by
    # another daemon after the kill. Its time: the kill to that first start.
    takeovers = []
    for k in kills:
        victim_runs = {s["run"] for s in starts if s["ppid"] == k["pid"]}
        after = {}
        for s in starts:
            if s["run"] in victim_runs and s["ppid"] != k["pid"] and s["t"] > k["at"]:
                after.setdefault(s["run"], s["t"] - k["at"])
        inflight = sum(1 for s in starts if s["ppid"] == k["pid"]
                       and not any(e["t"] < k["at"] for e in ends_by_pid(ends, s["pid"])))
        times = sorted(after.values())
        takeovers += times
        print(f"  kill at {iso(k['at'], ms=True)} of daemon {k['pid']} ({k.get('host', '')}): "
              f"{inflight} slices in flight, {len(times)} runs taken over"
              + (f" in {times[0]:.1f}-{times[-1]:.1f} s" if times else ""))
    worst = max(takeovers) if takeovers else None
    r.figure("runs taken over", len(takeovers))
    r.figure("worst takeover (kill to the run's next slice)", "none" if worst is None else f"{worst:.1f} s",
             f"<= {TAKEOVER_TARGET:.0f} s", worst is not None and worst <= TAKEOVER_TARGET if kills else True)

    # Each fire's first slice against its nominal time: a fire recorded by a daemon
    # that died before starting it waits for the takeover too.
    delays = [first_start[min(ids, key=lambda i: first_start[i]["t"])]["t"] - t
              for (job, t), ids in runs_of.items() if (job, t) in expected]
    late = max(delays) if delays else 0.0
    r.figure("first slice after the nominal time p50/p99/max",
             f"{percentile(delays, .5):.3f} / {percentile(delays, .99):.3f} / {late:.1f} s",
             f"max <= {TAKEOVER_TARGET:.0f} s", late <= TAKEOVER_TARGET)
    print("bench/postgres part b: " + ("every target met" if not r.missed else "MISSED: " + ", ".join(r.missed)))
    return not r.missed


_ends_index = {}


def ends_by_pid(ends, pid):
    if not _ends_index:
        for e in ends:
            _ends_index.setdefault(e["pid"], []).append(e)
    return _ends_index.get(pid, [])


def iso(t, ms=False):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%H:%M:%S.%f")[:-3] + "Z" if ms else d.strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: checker.py WORK (the directory with ledger.tsv and bench.json)")
    sys.exit(0 if check(sys.argv[1]) else 1)

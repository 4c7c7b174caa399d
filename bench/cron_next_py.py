#!/usr/bin/env python3
"""The Python half of bench/cron-next: next-fire evaluations per second of cronsim
and croniter on the fixed expression list.

Usage: python bench/cron_next_py.py bench/cron-next-expressions.txt [FIRES]

For each `EXPRESSION<TAB>ZONE` line, FIRES (default 1000) successive next fires from
2026-01-01T00:00:00Z in the line's zone; the whole list is timed 5 times (after one
untimed warm-up pass) and the median printed, one JSON line per tool, in the same
form as BenchCronNext:

  {"tool": "cronsim", "evaluations": 12000, "seconds": 0.41, "per_second": 29000.0,
   "median_of": 5, "substitutions": [...]}

Where a library lacks a form (cronsim and croniter have no `nW`, croniter no `LW`
and spells `5L` as `L5`), the closest form it accepts is timed instead and listed
under "substitutions". A last line, {"tool": "reference", ...}, gives the sum of the
Unix times of all fires as cronsim computes them (with the `nW` lines evaluated by
this script's own rule, SPEC section 2), to check baton's checksum against.
"""
from __future__ import annotations

import calendar
import json
import re
import statistics
import sys
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from cronsim import CronSim
from croniter import croniter

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
REPS = 5

W_TERM = re.compile(r"^(\d+)W$", re.IGNORECASE)


def load(path: str) -> list[tuple[str, str]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            expr, _, zone = line.partition("\t")
            out.append((expr.strip(), zone.strip() or "UTC"))
    return out


def substitute(expr: str, tool: str) -> str:
    """The closest form `tool` accepts."""
    f = expr.split()
    dom = 2 if len(f) == 5 else 3
    dow = dom + 2
    m = W_TERM.match(f[dom])
    if m:  # nW: the nearest weekday to the nth -> the nth itself
        f[dom] = m.group(1)
    if tool == "croniter":
        if f[dom].upper() == "LW":  # last weekday -> last day
            f[dom] = "L"
        m = re.fullmatch(r"([0-7])L", f[dow], re.IGNORECASE)
        if m:  # same meaning, croniter's spelling
            f[dow] = "L" + m.group(1)
    return " ".join(f)


def time_tool(tool: str, work: list[tuple[str, str]], fires: int) -> tuple[list[float], int]:
    starts = [START.astimezone(ZoneInfo(z)) for _, z in work]
    six = [len(e.split()) == 6 for e, _ in work]

    def one_pass() -> int:
        n = 0
        if tool == "cronsim":
            for (expr, _), st in zip(work, starts):
                it = CronSim(expr, st)
                for _ in range(fires):
                    next(it)
                    n += 1
        else:
            for (expr, _), st, s6 in zip(work, starts, six):
                it = croniter(expr, st, second_at_beginning=True) if s6 else croniter(expr, st)
                for _ in range(fires):
                    it.get_next(datetime)
                    n += 1
        return n

    one_pass()  # warm-up, untimed
    times = []
    n = 0
    for _ in range(REPS):
        t0 = time.perf_counter()
        n = one_pass()
        times.append(time.perf_counter() - t0)
    return times, n


def nearest_weekday_fires(expr: str, zone: str, fires: int) -> list[int]:
    """`M H nW * *` (the only nW form in the list): the weekday nearest the nth
    without leaving the month (SPEC 2, as in Quartz), at H:M local time."""
    f = expr.split()
    if len(f) != 5 or f[3:] != ["*", "*"] or not f[0].isdigit() or not f[1].isdigit():
        raise SystemExit(f"cron_next_py: no reference rule for {expr!r}")
    minute, hour, n = int(f[0]), int(f[1]), int(W_TERM.match(f[2]).group(1))  # type: ignore[union-attr]
    z = ZoneInfo(zone)
    out: list[int] = []
    y, mo = START.year, START.month
    start = int(START.timestamp())
    while len(out) < fires:
        last = calendar.monthrange(y, mo)[1]
        if n <= last:
            d = n
            wd = calendar.weekday(y, mo, d)  # Monday 0 .. Sunday 6
            if wd == 5:
                d = d - 1 if d > 1 else d + 2
            elif wd == 6:
                d = d + 1 if d < last else d - 2
            t = int(datetime(y, mo, d, hour, minute, tzinfo=z).timestamp())
            if t > start:
                out.append(t)
        mo += 1
        if mo == 13:
            y, mo = y + 1, 1
    return out


def reference_sum(work: list[tuple[str, str]], fires: int) -> int:
    total = 0
    start = int(START.timestamp())
    for expr, zone in work:
        if substitute(expr, "cronsim") != expr:
            ts = nearest_weekday_fires(expr, zone, fires)
        else:
            it = CronSim(expr, START.astimezone(ZoneInfo(zone)))
            ts = []
            while len(ts) < fires:
                t = int(next(it).timestamp())
                if t > start:
                    ts.append(t)
        total += sum(ts)
    return total


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: cron_next_py.py EXPRESSIONS.txt [FIRES]", file=sys.stderr)
        return 2
    fires = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    lines = load(sys.argv[1])
    for tool in ("cronsim", "croniter"):
        work = [(substitute(e, tool), z) for e, z in lines]
        subs = [f"{e} -> {w}" for (e, _), (w, _) in zip(lines, work) if e != w]
        times, n = time_tool(tool, work, fires)
        med = statistics.median(times)
        print(json.dumps({
            "tool": tool,
            "evaluations": n,
            "seconds": round(med, 6),
            "per_second": round(n / med, 1),
            "median_of": REPS,
            "substitutions": subs,
        }), flush=True)
    print(json.dumps({"tool": "reference", "fires_sum": reference_sum(lines, fires),
                      "evaluations": len(lines) * fires}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Differential test of `baton next` against cronsim 2.8 (the reference, SPEC section 2).

Usage:
    python Tests/oracle/cronsim_diff.py --baton .build/debug/baton [--cases 6000] [--seed S] [--n 5]

It generates random cron expressions from the grammar both cronsim 2.8 and baton
accept, random zones and start instants (half of them near a DST transition of the
zone), asks cronsim for the next N fires strictly after the start, asks baton the
same through ONE `baton next --batch` process (JSON lines in, JSON lines out), and
compares the fires as instants (Unix seconds).

The seed is printed first; a failing run prints the command line that replays it.
The last line is `cronsim-diff: N passed, M failed`; the exit status is 1 if M > 0.

Needs Python 3.11 and cronsim==2.8 (e.g. the repo's .venv-test).
"""
from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import shlex
import subprocess
import sys
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

try:
    from cronsim import CronSim, CronSimError
except ImportError:  # pragma: no cover - environment problem
    sys.stderr.write(
        "cronsim_diff: cronsim is not installed; use a venv with `pip install cronsim==2.8`\n"
    )
    sys.exit(2)

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",  # +05:30, no DST
    "America/Santiago",  # transitions at 24:00 / 00:00
    "America/Sao_Paulo",  # DST abolished in 2019, midnight transitions before
    "America/St_Johns",  # -03:30, transitions at 00:01 before 2011
    "America/Havana",  # transitions at midnight
    "Asia/Tehran",  # midnight transitions, DST abolished in 2022
]

START_MIN = int(datetime(2000, 1, 1, tzinfo=timezone.utc).timestamp())
START_MAX = int(datetime(2037, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp())

MAX_MISMATCHES_SHOWN = 20


# ---------------------------------------------------------------------------
# DST transitions per zone
# ---------------------------------------------------------------------------

_TRANSITIONS: dict[str, list[tuple[int, int, int]]] = {}


def _offset(t: int, z: ZoneInfo) -> int:
    off = datetime.fromtimestamp(t, z).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def transitions(zone: str) -> list[tuple[int, int, int]]:
    """All UTC-offset changes of `zone` in [START_MIN, START_MAX] as
    (instant, offset_before, offset_after); `instant` is the first second of the
    new offset. Scans in 3-hour steps and bisects to the second; cached."""
    cached = _TRANSITIONS.get(zone)
    if cached is not None:
        return cached
    z = ZoneInfo(zone)
    out: list[tuple[int, int, int]] = []
    step = 3 * 3600
    t = START_MIN
    prev = _offset(t, z)
    while t < START_MAX:
        nt = min(t + step, START_MAX)
        cur = _offset(nt, z)
        if cur != prev:
            lo, hi = t, nt  # offset(lo) == prev, offset(hi) == cur
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(mid, z) == prev:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, prev, cur))
            prev = cur
        t = nt
    _TRANSITIONS[zone] = out
    return out


# ---------------------------------------------------------------------------
# Expression generator
# ---------------------------------------------------------------------------

MONTH_NAMES = "jan feb mar apr may jun jul aug sep oct nov dec".split()
DAY_NAMES = "sun mon tue wed thu fri sat".split()

SEC, MIN, HOUR, DOM, MON, DOW = range(6)
LO = {SEC: 0, MIN: 0, HOUR: 0, DOM: 1, MON: 1, DOW: 0}
HI = {SEC: 59, MIN: 59, HOUR: 23, DOM: 31, MON: 12, DOW: 7}


def rand_case(rng: random.Random, name: str) -> str:
    r = rng.random()
    if r < 0.4:
        return name.upper()
    if r < 0.7:
        return name
    if r < 0.85:
        return name.capitalize()
    return "".join(c.upper() if rng.random() < 0.5 else c for c in name)


class Gen:
    """Random cron fields. Every generated field is accepted by cronsim 2.8's
    parser (no `?`, no `nW`, no `L/n`, no wrap-around ranges, values in range);
    the expression as a whole may still be rejected (e.g. `0 0 30 2 *`) or never
    fire: both are compared too."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.tags: set[str] = set()

    # -- values -----------------------------------------------------------
    def value(self, f: int) -> int:
        rng = self.rng
        if f == MIN or f == SEC:
            if rng.random() < 0.5:
                return rng.choice([0, 0, 1, 15, 30, 30, 45, 59])
            return rng.randint(0, 59)
        if f == HOUR:
            # the hours DST changes happen in, in the zones above
            if rng.random() < 0.6:
                return rng.choice([0, 0, 1, 1, 2, 2, 2, 3, 3, 23])
            return rng.randint(0, 23)
        if f == DOM:
            if rng.random() < 0.15:
                return rng.choice([28, 29, 30, 31])
            return rng.randint(1, 31)
        return rng.randint(LO[f], HI[f])

    def atom(self, f: int, v: int) -> str:
        """A single value, as a name where the field has names."""
        rng = self.rng
        if f == MON and rng.random() < 0.35:
            self.tags.add("name")
            return rand_case(rng, MONTH_NAMES[v - 1])
        if f == DOW:
            if v == 7:
                self.tags.add("dow7")
                return "7"
            if rng.random() < 0.35:
                self.tags.add("name")
                return rand_case(rng, DAY_NAMES[v])
        return str(v)

    def step(self, f: int) -> int:
        rng = self.rng
        span = HI[f] - LO[f] + 1
        if rng.random() < 0.7:
            choices = {SEC: [2, 5, 10, 15, 20, 30], MIN: [2, 5, 10, 15, 20, 30],
                       HOUR: [2, 3, 4, 6, 8, 12], DOM: [2, 3, 5, 7, 10, 15],
                       MON: [2, 3, 4, 6], DOW: [2, 3]}[f]
            return rng.choice(choices)
        return rng.randint(1, span - 1)

    def range_pair(self, f: int) -> tuple[int, int]:
        a = self.value(f) if f in (MIN, SEC, HOUR) else self.rng.randint(LO[f], HI[f])
        b = self.rng.randint(a, HI[f])
        if f == DOW and self.rng.random() < 0.3:
            b = 7
        return a, b

    def range_text(self, f: int, a: int, b: int) -> str:
        rng = self.rng
        # names in ranges: both ends names or both numbers (7 has no name)
        if (f == MON or (f == DOW and b < 7)) and rng.random() < 0.35:
            self.tags.add("name")
            names = MONTH_NAMES if f == MON else DAY_NAMES
            off = 1 if f == MON else 0
            return f"{rand_case(rng, names[a - off])}-{rand_case(rng, names[b - off])}"
        if f == DOW and b == 7:
            self.tags.add("dow7")
        return f"{a}-{b}"

    # -- terms ------------------------------------------------------------
    def term(self, f: int, allow_star_step: bool = True) -> str:
        """One list element: number, range, step, or a field extension."""
        rng = self.rng
        if f == DOM:
            r = rng.random()
            if r < 0.08:
                self.tags.add("L")
                return "L"
            if r < 0.14:
                self.tags.add("LW")
                return "LW"
        if f == DOW:
            r = rng.random()
            if r < 0.10:
                self.tags.add("nL")
                return f"{rng.randint(0, 7)}L"
            if r < 0.22:
                self.tags.add("#")
                k = rng.randint(1, 5) if rng.random() < 0.5 else rng.choice([1, 2, 4, 5])
                d = rng.randint(0, 7)
                if d == 7:
                    self.tags.add("dow7")
                    return f"7#{k}"
                if rng.random() < 0.5:
                    self.tags.add("name")
                    return f"{rand_case(rng, DAY_NAMES[d])}#{k}"
                return f"{d}#{k}"
        r = rng.random()
        if r < 0.50:
            return self.atom(f, self.value(f))
        if r < 0.70:
            self.tags.add("range")
            a, b = self.range_pair(f)
            return self.range_text(f, a, b)
        if r < 0.82 and allow_star_step:
            self.tags.add("step")
            return f"*/{self.step(f)}"
        if r < 0.93:
            self.tags.add("step")
            self.tags.add("range-step")
            a, b = self.range_pair(f)
            return f"{self.range_text(f, a, b)}/{self.step(f)}"
        self.tags.add("step")
        self.tags.add("start-step")  # a/n: a to the field's maximum
        return f"{self.atom(f, self.value(f))}/{self.step(f)}"

    def listed(self, f: int, fixed: bool) -> str:
        """A list of 1..3 terms. With fixed=True it never starts with '*'."""
        rng = self.rng
        k = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
        terms = []
        for i in range(k):
            terms.append(self.term(f, allow_star_step=not (fixed and i == 0)))
        if k > 1:
            self.tags.add("list")
        return ",".join(terms)

    def star_field(self, f: int) -> str:
        """A field starting with '*': '*', '*/n', or '*/n,...'."""
        rng = self.rng
        r = rng.random()
        if r < 0.55:
            return "*"
        self.tags.add("step")
        s = f"*/{self.step(f)}"
        if r > 0.92:
            self.tags.add("list")
            s += "," + self.term(f)
        return s

    # -- whole fields -----------------------------------------------------
    def dom_dow(self) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return "*", "*"
        if r < 0.62:
            return self.listed(DOM, fixed=True), "*"
        if r < 0.77:
            return "*", self.listed(DOW, fixed=True)
        if r < 0.90:
            self.tags.add("dom|dow")  # both restricted: OR
            return self.listed(DOM, fixed=True), self.listed(DOW, fixed=True)
        # one of them '*/n' or '*/n,..': AND with the other
        self.tags.add("dom&dow*")
        if rng.random() < 0.5:
            return self.star_field(DOM), self.listed(DOW, fixed=True)
        return self.listed(DOM, fixed=True), self.star_field(DOW)

    def month(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.6:
            return "*"
        if r < 0.75:
            # the months DST changes happen in
            ms = sorted(rng.sample([3, 4, 9, 10, 11], rng.randint(1, 2)))
            self.tags.add("list" if len(ms) > 1 else "month")
            return ",".join(self.atom(MON, m) for m in ms)
        return self.listed(MON, fixed=rng.random() < 0.8)

    def expression(self) -> tuple[str, str]:
        """Returns (expression, category)."""
        rng = self.rng
        self.tags = set()
        r = rng.random()
        dom, dow = self.dom_dow()
        mon = self.month()
        if r < 0.45:
            cat = "wall-clock 5-field"
            if rng.random() < 0.55:
                # the classic daily job: one minute, one hour
                minute = str(self.value(MIN))
                hour = str(self.value(HOUR))
                if rng.random() < 0.25:
                    hour = ",".join(str(h) for h in sorted(rng.sample(range(0, 5), rng.randint(2, 3))))
                    self.tags.add("list")
            else:
                minute = self.listed(MIN, fixed=True)
                hour = self.listed(HOUR, fixed=True)
            return f"{minute} {hour} {dom} {mon} {dow}", cat
        if r < 0.78:
            cat = "elapsed 5-field"
            which = rng.random()
            if which < 0.4:
                minute, hour = self.star_field(MIN), self.listed(HOUR, fixed=rng.random() < 0.7)
            elif which < 0.75:
                minute, hour = self.listed(MIN, fixed=True), self.star_field(HOUR)
            else:
                minute, hour = self.star_field(MIN), self.star_field(HOUR)
            return f"{minute} {hour} {dom} {mon} {dow}", cat
        cat = "6-field"
        rs = rng.random()
        if rs < 0.3:
            sec = str(self.value(SEC))
        elif rs < 0.6:
            sec = self.star_field(SEC)
        else:
            sec = self.listed(SEC, fixed=rng.random() < 0.5)
        rm = rng.random()
        if rm < 0.35:
            # fixed minute and hour: still elapsed time with six fields
            minute, hour = str(self.value(MIN)), str(self.value(HOUR))
        elif rm < 0.7:
            minute, hour = self.star_field(MIN), self.listed(HOUR, fixed=rng.random() < 0.5)
        else:
            minute, hour = self.listed(MIN, fixed=rng.random() < 0.5), self.star_field(HOUR)
        return f"{sec} {minute} {hour} {dom} {mon} {dow}", cat


# ---------------------------------------------------------------------------
# Start instants
# ---------------------------------------------------------------------------

def start_instant(rng: random.Random, zone: str) -> tuple[int, str | None]:
    """(instant, near-DST kind or None)."""
    trs = transitions(zone)
    if not trs or rng.random() < 0.5:
        return rng.randint(START_MIN, START_MAX), None
    t, before, after = rng.choice(trs)
    shift = abs(after - before)
    r = rng.random()
    if r < 0.25:
        return t + rng.choice([-1, 0, 1]), "on transition"
    if r < 0.5:
        if after < before:
            # the repeated interval: the second pass (fold=1) is [t, t + shift)
            return t + rng.randrange(shift), "repeated hour"
        return t + rng.randint(-shift, shift), "around gap"
    return t + rng.randint(-86400, 86400), "within a day"


# ---------------------------------------------------------------------------
# The oracle
# ---------------------------------------------------------------------------

@dataclass
class Case:
    idx: int
    expr: str
    zone: str
    start: int
    category: str
    near: str | None
    tags: set[str] = field(default_factory=set)
    # cronsim's answer
    error: str | None = None  # CronSimError text
    fires: list[int] = field(default_factory=list)
    exhausted: bool = False  # StopIteration before n fires


def cronsim_next(expr: str, zone: str, start: int, n: int) -> tuple[str | None, list[int], bool]:
    """Next n fires strictly after `start` per cronsim: (error, fires, exhausted).

    cronsim works on local wall-clock time for five-field expressions with fixed
    minute and hour, and forgets the fold of the start: started in the second pass
    of a repeated hour it can return fires at or before the start. Those are dropped.
    """
    try:
        it = CronSim(expr, datetime.fromtimestamp(start, ZoneInfo(zone)))
    except CronSimError as e:
        return str(e) or "CronSimError", [], False
    fires: list[int] = []
    dropped = 0
    try:
        while len(fires) < n:
            t = int(next(it).timestamp())
            if t <= start:
                dropped += 1
                if dropped > 10000:  # cannot happen; guards the loop
                    raise RuntimeError(f"cronsim stuck before start for {expr!r}")
                continue
            fires.append(t)
    except StopIteration:
        return None, fires, True
    except CronSimError as e:  # not expected after construction
        return str(e) or "CronSimError", [], False
    return None, fires, False


def iso(t: int, zone: str) -> str:
    return datetime.fromtimestamp(t, ZoneInfo(zone)).isoformat()


# ---------------------------------------------------------------------------
# Talking to baton
# ---------------------------------------------------------------------------

def zone_dir() -> str | None:
    """The tz database directory Python's zoneinfo reads, passed to baton as TZDIR
    so both sides use the same data."""
    for d in zoneinfo.TZPATH:
        if os.path.exists(os.path.join(d, "America", "New_York")):
            return d
    return None


def run_batch(argv: list[str], queries: list[dict], timeout: float) -> tuple[list[str], str, int | None, str | None]:
    """Sends all queries through one process. Returns (stdout lines, stderr, exit
    code, problem)."""
    payload = "".join(json.dumps(q, separators=(",", ":")) + "\n" for q in queries)
    env = dict(os.environ)
    zd = zone_dir()
    if zd and "TZDIR" not in env:
        env["TZDIR"] = zd
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
    except OSError as e:
        return [], "", None, f"cannot start {argv[0]}: {e}"
    try:
        out, err = proc.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return out.splitlines(), err, proc.returncode, f"timed out after {timeout:.0f}s"
    return out.splitlines(), err, proc.returncode, None


def serve_cronsim() -> int:
    """Hidden: a stand-in for `baton next --batch` backed by cronsim (for --self-check).
    Like baton, it answers an error for an expression that never fires."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        q = json.loads(line)
        error, fires, exhausted = cronsim_next(q["expr"], q["tz"], q["from"], q["n"])
        if error is not None:
            ans = {"error": error}
        elif not fires:
            ans = {"error": "the expression never fires"}
        else:
            ans = {"next": fires}
        sys.stdout.write(json.dumps(ans) + "\n")
    sys.stdout.flush()
    return 0


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def compare(case: Case, answer: object, n: int) -> str | None:
    """None if baton agrees with cronsim, else a one-line reason."""
    if not isinstance(answer, dict):
        return f"baton answered {answer!r}"
    b_err = answer.get("error")
    b_next = answer.get("next")
    if b_err is not None:
        if case.error is not None:
            return None  # both reject
        if not case.fires:
            return None  # never fires: baton rejects, cronsim gives up after 50 years
        return f"baton error {b_err!r}, cronsim fires"
    if not isinstance(b_next, list) or not all(isinstance(x, int) for x in b_next):
        return f"baton answered {answer!r}"
    if case.error is not None:
        return f"cronsim rejects ({case.error}), baton fires"
    if b_next == case.fires:
        return None
    if len(b_next) != len(case.fires):
        for a, b in zip(b_next, case.fires):
            if a != b:
                break
        else:
            return f"baton gave {len(b_next)} fires, cronsim {len(case.fires)}" + (
                " (cronsim gave up after 50 years)" if case.exhausted else "")
    return "fire times differ"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Differential test of `baton next` against cronsim 2.8.")
    p.add_argument("--baton", help="path to the baton executable")
    p.add_argument("--cases", type=int, default=6000)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--n", type=int, default=5, help="fires per query (default 5)")
    p.add_argument("--timeout", type=float, default=600, help="seconds for the whole baton batch")
    p.add_argument("--self-check", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--serve-cronsim", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.serve_cronsim:
        return serve_cronsim()
    if not args.self_check and not args.baton:
        p.error("--baton PATH is required")
    if args.cases < 1 or args.n < 1:
        p.error("--cases and --n must be positive")

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    print(f"cronsim-diff: seed {seed}, {args.cases} cases, n={args.n}", flush=True)
    rng = random.Random(seed)

    t0 = time.monotonic()
    for z in ZONES:
        transitions(z)
    t_zones = time.monotonic() - t0

    gen = Gen(rng)
    cases: list[Case] = []
    for i in range(args.cases):
        expr, cat = gen.expression()
        zone = rng.choice(ZONES)
        start, near = start_instant(rng, zone)
        cases.append(Case(i, expr, zone, start, cat, near, set(gen.tags)))
    t1 = time.monotonic()
    for c in cases:
        c.error, c.fires, c.exhausted = cronsim_next(c.expr, c.zone, c.start, args.n)
    t2 = time.monotonic()
    n_err = sum(1 for c in cases if c.error is not None)
    n_short = sum(1 for c in cases if c.error is None and len(c.fires) < args.n)
    print(f"cronsim: {len(cases)} queries in {t2 - t1:.1f}s (zones {t_zones:.1f}s, "
          f"generation {t1 - t0 - t_zones:.1f}s); {n_err} rejected, {n_short} with fewer than "
          f"{args.n} fires", flush=True)

    if args.self_check:
        cmd = [sys.executable, os.path.abspath(__file__), "--serve-cronsim"]
    else:
        cmd = [args.baton, "next", "--batch"]
    queries = [{"expr": c.expr, "tz": c.zone, "from": c.start, "n": args.n} for c in cases]
    t3 = time.monotonic()
    lines, stderr, rc, problem = run_batch(cmd, queries, args.timeout)
    t4 = time.monotonic()
    print(f"{'cronsim stand-in' if args.self_check else 'baton'}: {len(lines)} answers in {t4 - t3:.1f}s"
          + (f", exit status {rc}" if rc else ""), flush=True)
    if problem or len(lines) != len(cases) or rc:
        why = problem or (f"exit status {rc}" if rc else "")
        if len(lines) != len(cases):
            why = (why + "; " if why else "") + f"{len(lines)} answer lines for {len(cases)} queries"
        print(f"PROBLEM: {' '.join(shlex.quote(a) for a in cmd)}: {why}")
        tail = stderr.strip().splitlines()[-10:]
        for ln in tail:
            print(f"  stderr: {ln}")

    per_cat: dict[str, Counter] = {}
    tag_fail: Counter = Counter()
    tag_all: Counter = Counter()
    mismatches: list[tuple[Case, object, str]] = []
    passed = failed = 0
    for i, c in enumerate(cases):
        if i < len(lines):
            try:
                answer: object = json.loads(lines[i])
            except json.JSONDecodeError:
                answer = lines[i]
        else:
            answer = None
        reason = compare(c, answer, args.n) if answer is not None else "no answer from baton"
        cats = [c.category] + (["near-DST"] if c.near else [])
        ok = reason is None
        for k in cats:
            per_cat.setdefault(k, Counter())["pass" if ok else "fail"] += 1
        for tg in c.tags:
            tag_all[tg] += 1
        if ok:
            passed += 1
        else:
            failed += 1
            for tg in c.tags:
                tag_fail[tg] += 1
            mismatches.append((c, answer, reason))

    for c, answer, reason in mismatches[:MAX_MISMATCHES_SHOWN]:
        print()
        print(f"MISMATCH #{c.idx}: {reason}")
        print(f"  expr:  {c.expr!r}   [{c.category}{', ' + ', '.join(sorted(c.tags)) if c.tags else ''}]")
        print(f"  zone:  {c.zone}")
        print(f"  from:  {c.start} = {iso(c.start, c.zone)}" + (f"   (near DST: {c.near})" if c.near else ""))
        if c.error is not None:
            print(f"  cronsim: error: {c.error}")
        else:
            more = " (then gave up: 50 years without a fire)" if c.exhausted else ""
            print(f"  cronsim: {[iso(t, c.zone) for t in c.fires]}{more}")
        if isinstance(answer, dict) and "error" in answer:
            print(f"  baton:   error: {answer['error']}")
        elif isinstance(answer, dict) and isinstance(answer.get("next"), list):
            try:
                print(f"  baton:   {[iso(int(t), c.zone) for t in answer['next']]}")
            except (TypeError, ValueError, OverflowError, OSError):
                print(f"  baton:   {answer!r}")
        else:
            print(f"  baton:   {answer!r}")
        print(f"  replay:  baton next {shlex.quote(c.expr)} -n {args.n} --tz {c.zone} "
              f"--from {iso(c.start, c.zone)}")
    if len(mismatches) > MAX_MISMATCHES_SHOWN:
        print(f"\n... and {len(mismatches) - MAX_MISMATCHES_SHOWN} more mismatches")

    print()
    print("by category:          passed  failed")
    for k in ["wall-clock 5-field", "elapsed 5-field", "6-field", "near-DST"]:
        cnt = per_cat.get(k, Counter())
        print(f"  {k:<20} {cnt['pass']:>6}  {cnt['fail']:>6}")
    if failed:
        print("failures by feature (failed/total):")
        for tg, nf in tag_fail.most_common():
            print(f"  {tg:<20} {nf}/{tag_all[tg]}")
        self = os.path.relpath(os.path.abspath(__file__))
        replay = [sys.executable if args.self_check else "python", self]
        replay += ["--self-check"] if args.self_check else ["--baton", args.baton]
        replay += ["--cases", str(args.cases), "--n", str(args.n), "--seed", str(seed)]
        print("replay: " + " ".join(shlex.quote(a) for a in replay))
    print(f"cronsim-diff: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

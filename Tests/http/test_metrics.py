"""GET /metrics: valid Prometheus text (promtool agrees) with the families the
issue asks for, under `baton serve` and under the daemon, `baton run --listen`."""

import datetime
import os
import re
import shutil
import subprocess
import time
import unittest

from harness import DEFAULT_JOBS, ServerTestCase, wait_for

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

# The families and their types. One name per concern; the labels each must carry.
FAMILIES = {
    "baton_fires_total": ("counter", ()),
    "baton_slices_total": ("counter", ("outcome",)),
    "baton_kills_total": ("counter", ()),
    "baton_retries_total": ("counter", ()),
    "baton_misfires_total": ("counter", ()),
    "baton_webhook_requests_total": ("counter", ("code",)),
    "baton_slice_duration_seconds": ("histogram", ()),
    "baton_fire_lateness_seconds": ("histogram", ()),
    "baton_running_slices": ("gauge", ()),
    "baton_job_next_fire_timestamp_seconds": ("gauge", ("job",)),
    "baton_job_last_success_timestamp_seconds": ("gauge", ("job",)),
    "baton_job_failed_items_total": ("counter", ("job",)),
    "baton_ai_tokens_total": ("counter", ("job", "direction")),
    "baton_ai_cost_usd_total": ("counter", ("job",)),
}


def epoch(rfc3339):
    return datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """(types: {family: type}, samples: [(name, {label: value}, float)])."""
    types, samples = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
        elif line and not line.startswith("#"):
            m = SAMPLE_RE.match(line)
            if not m:
                raise AssertionError(f"unparseable sample line: {line!r}")
            labels = dict(LABEL_RE.findall(m.group(2) or ""))
            samples.append((m.group(1), labels, float(m.group(3))))
    return types, samples


class MetricsMixin:

    def scrape(self):
        resp = self.server.get("/metrics")
        self.assertEqual(resp.status, 200, resp)
        ctype = resp.header("Content-Type") or ""
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        self.assertIn("version=0.0.4", ctype)
        return resp.body.decode()

    def assertPromtoolAccepts(self, text):
        # Must FAIL (not skip) without promtool: make test installs it.
        self.assertTrue(os.access(PROMTOOL, os.X_OK), f"promtool not found at {PROMTOOL} (Debian package prometheus)")
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, f"promtool check metrics: {p.stdout.decode()}{p.stderr.decode()}")

    def assertFamilies(self, types, samples):
        for family, (kind, labels) in FAMILIES.items():
            with self.subTest(family=family):
                self.assertEqual(types.get(family), kind, f"# TYPE {family} {kind} missing; families: {sorted(types)}")
                for label in labels:
                    ours = [s for s in samples if s[0] == family]
                    if ours:
                        self.assertTrue(all(label in s[1] for s in ours), f"{family} without label {label}")

    def value(self, samples, name, **labels):
        found = [v for n, l, v in samples if n == name and all(l.get(k) == str(x) for k, x in labels.items())]
        return sum(found) if found else None


class ServeMetricsTests(MetricsMixin, ServerTestCase):
    jobs = DEFAULT_JOBS + "@daily stuck overlap=allow budget=500ms grace=500ms retries=1 backoff=100ms {d}/stubborn.sh\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        # Activity of every kind: accepted, refused, unknown, a run with slices, a
        # cancelled run, and a handler killed at its budget and retried.
        cls.ok = [s.hook("quick").json["run_id"] for _ in range(2)]
        s.request("POST", "/hooks/quick", body=b"{}")  # 401
        s.hook("no-such-job")  # 404
        cls.count_run = s.hook("count").json["run_id"]
        cls.stuck_run = s.hook("stuck").json["run_id"]
        for run_id in cls.ok + [cls.count_run]:
            s.wait_status(run_id, "succeeded")
        s.wait_status(cls.stuck_run, "failed", timeout=15)

    def testMetricsPassPromtool(self):
        self.assertPromtoolAccepts(self.scrape())

    def testMetricsHaveEveryFamily(self):
        types, samples = parse(self.scrape())
        self.assertFamilies(types, samples)

    def testWebhookRequestsAreCountedByStatus(self):
        _, samples = parse(self.scrape())
        name = "baton_webhook_requests_total"
        self.assertGreaterEqual(self.value(samples, name, code=202) or 0, 4)
        self.assertGreaterEqual(self.value(samples, name, code=401) or 0, 1)
        self.assertGreaterEqual(self.value(samples, name, code=404) or 0, 1)
        before = self.value(samples, name, code=401) or 0
        self.server.request("POST", "/hooks/quick", body=b"{}")
        _, samples = parse(self.scrape())
        self.assertEqual(self.value(samples, name, code=401), before + 1)

    def testSlicesKillsRetriesAndDurationsAreCounted(self):
        _, samples = parse(self.scrape())
        # quick 2 + count 3 succeeded slices; stuck: killed twice (one retry).
        self.assertGreaterEqual(self.value(samples, "baton_slices_total", outcome="succeeded") or 0, 5)
        self.assertGreaterEqual(self.value(samples, "baton_slices_total", outcome="killed") or 0, 2)
        self.assertGreaterEqual(self.value(samples, "baton_kills_total") or 0, 2)
        self.assertGreaterEqual(self.value(samples, "baton_retries_total") or 0, 1)
        count = self.value(samples, "baton_slice_duration_seconds_count") or 0
        self.assertGreaterEqual(count, 7)
        inf = self.value(samples, "baton_slice_duration_seconds_bucket", le="+Inf")
        self.assertEqual(inf, count)
        self.assertGreater(self.value(samples, "baton_slice_duration_seconds_sum") or 0, 0.9,
                           "two slices ran about 1 s each before being killed")
        wait_for("baton_running_slices to be 0 with nothing running",
                 lambda: self.value(parse(self.scrape())[1], "baton_running_slices") == 0, timeout=5)

    def testEachJobsLastSuccessIsWhenItsLastSuccessfulRunEnded(self):
        # Issue 11, 4.10: the cron alert "no success for too long" (as
        # kube_cronjob_status_last_successful_time).
        name = "baton_job_last_success_timestamp_seconds"
        _, samples = parse(self.scrape())
        ends = [epoch(r["finished_at"]) for r in self.server.get("/runs?job=quick&status=succeeded").json["runs"]]
        self.assertEqual(len(ends), 2)
        self.assertAlmostEqual(self.value(samples, name, job="quick"), max(ends), delta=1.0)
        self.assertIsNotNone(self.value(samples, name, job="count"))
        # A job that never succeeded has no sample (not 0, which would read as 1970).
        self.assertIsNone(self.value(samples, name, job="stuck"))
        self.assertIsNone(self.value(samples, name, job="yearly"))
        # A later success moves it.
        before = self.value(samples, name, job="quick")
        run_id = self.server.hook("quick").json["run_id"]
        run = self.server.wait_status(run_id, "succeeded")
        _, samples = parse(self.scrape())
        self.assertAlmostEqual(self.value(samples, name, job="quick"), epoch(run["finished_at"]), delta=1.0)
        self.assertGreaterEqual(self.value(samples, name, job="quick"), before)

    def testFailedItemsAreCountedByJob(self):
        name = "baton_job_failed_items_total"
        _, samples = parse(self.scrape())
        # count3.sh reports item-2 failed once per run; quick reports none.
        before = self.value(samples, name, job="count")
        self.assertGreaterEqual(before, 1)
        self.assertIsNone(self.value(samples, name, job="quick"))
        run_id = self.server.hook("count").json["run_id"]
        run = self.server.wait_status(run_id, "succeeded")
        self.assertEqual(run["counts"]["failed"], 1, run)
        _, samples = parse(self.scrape())
        self.assertEqual(self.value(samples, name, job="count"), before + 1)

    def testAISpendIsCountedByJob(self):
        """Issue 13: the usage slices report adds up per job in /metrics and per run in
        GET /runs/RUN."""
        run_id = self.server.hook("spend").json["run_id"]
        run = self.server.wait_status(run_id, "succeeded")
        self.assertEqual(run["usage"], {"input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.0125}, run)
        _, samples = parse(self.scrape())
        before_in = self.value(samples, "baton_ai_tokens_total", job="spend", direction="input")
        before_cost = self.value(samples, "baton_ai_cost_usd_total", job="spend")
        self.assertGreaterEqual(before_in, 1200)
        run_id = self.server.hook("spend").json["run_id"]
        self.server.wait_status(run_id, "succeeded")
        _, samples = parse(self.scrape())
        self.assertEqual(self.value(samples, "baton_ai_tokens_total", job="spend", direction="input"), before_in + 1200)
        self.assertAlmostEqual(self.value(samples, "baton_ai_cost_usd_total", job="spend"), before_cost + 0.0125, places=6)
        self.assertIsNone(self.value(samples, "baton_ai_tokens_total", job="quick", direction="input"))

    def testRunningSlicesGaugeCountsASleepingSlice(self):
        run_id = self.server.hook("slow").json["run_id"]
        try:
            wait_for("the slow handler to start", lambda: self.world.records(run_id))
            _, samples = parse(self.scrape())
            self.assertEqual(self.value(samples, "baton_running_slices"), 1)
        finally:
            self.world.cancel(run_id)
            self.server.wait_status(run_id, "cancelled")

    def testNextFireGaugeFamilyIsThere(self):
        types, _ = parse(self.scrape())
        self.assertEqual(types.get("baton_job_next_fire_timestamp_seconds"), "gauge")


class DaemonMetricsTests(MetricsMixin, ServerTestCase):
    """`baton run --listen`: the daemon fires every second and serves the same API."""
    mode = "run"
    jobs = "* * * * * * tick overlap=allow {d}/quick.sh\n@daily quick overlap=allow {d}/quick.sh\n"

    def testDaemonFiresAndServesTheAPI(self):
        runs = wait_for("two cron fires", lambda: (lambda r: r if len(r) >= 2 else None)(self.server.runs("tick")),
                        timeout=10)
        records = wait_for("a fired run's input", lambda: self.world.records(runs[-1]["run_id"]))
        self.assertEqual(records[0]["trigger"], "cron")
        self.assertEqual(self.server.get("/healthz").json.get("status"), "ok")
        # Webhooks work under the daemon too.
        accepted = self.assertAccepted(self.server.hook("quick"))
        self.server.wait_status(accepted["run_id"], "succeeded")
        # GET /jobs: tick's next fire is within a couple of seconds.
        job = {j.get("job", j.get("name")): j for j in self.server.get("/jobs").json["jobs"]}["tick"]
        nxt = datetime.datetime.fromisoformat(job["next"].replace("Z", "+00:00")).timestamp()
        self.assertLess(abs(nxt - time.time()), 3, job)

        text = self.scrape()
        self.assertPromtoolAccepts(text)
        types, samples = parse(text)
        self.assertFamilies(types, samples)
        self.assertGreaterEqual(self.value(samples, "baton_fires_total") or 0, 2)
        lateness = self.value(samples, "baton_fire_lateness_seconds_count") or 0
        self.assertGreaterEqual(lateness, 2)
        self.assertEqual(self.value(samples, "baton_fire_lateness_seconds_bucket", le="+Inf"), lateness)

    def testEachJobHasItsNextFire(self):
        _, samples = parse(self.scrape())
        jobs = self.server.get("/jobs").json["jobs"]
        for job in jobs:
            name = job.get("job", job.get("name"))
            with self.subTest(job=name):
                got = self.value(samples, "baton_job_next_fire_timestamp_seconds", job=name)
                self.assertIsNotNone(got, f"no next fire gauge for {name}")
                want = datetime.datetime.fromisoformat(job["next"].replace("Z", "+00:00")).timestamp()
                # Read at different moments: an every-second job may have moved on by one.
                self.assertAlmostEqual(got, want, delta=2.0)


class LastSuccessFromTheStoreTests(MetricsMixin, ServerTestCase):
    """A success recorded by another process (here `baton invoke`) shows too: the
    gauge is read from the store, not only from what this process ran."""

    def testASuccessOfAnotherProcessShows(self):
        p = self.world.cli("invoke", "yearly")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        run = self.world.cli_json("runs", "--job", "yearly")[0]
        _, samples = parse(self.scrape())
        got = self.value(samples, "baton_job_last_success_timestamp_seconds", job="yearly")
        self.assertIsNotNone(got, "the store's success of yearly is not shown")
        self.assertAlmostEqual(got, epoch(run["finished_at"]), delta=1.0)


if __name__ == "__main__":
    unittest.main()

"""regenerate-reports (seed 002) through `baton invoke` against the sandbox, with a real
APP_DB: what is due, the stamp moving only with a finished report, key-set slices, a
failed report staying due and `baton retry` redoing just it, rate limits pausing,
--backfill staggering and --list."""
import json
import signal
import time
import unittest

from handler_harness import HandlerWorld, wait_for

NAME = "regenerate-reports"


class RegenerateReports(unittest.TestCase):
    def setUp(self):
        self.w = HandlerWorld().__enter__()
        self.addCleanup(self.w.__exit__, None, None, None)
        self.bin = self.w.bin(NAME)

    def invoke(self, *params, expect=0):
        args = ["invoke"]
        for p in params:
            args += ["--param", p]
        r = self.w.baton(*args, "--", self.bin)
        self.assertEqual(r.returncode, expect, r.stderr)
        return self.w.runs()[0]

    def stamps(self):
        return dict(self.w.sql("SELECT id, last_regenerated_at FROM reports"))

    def test_due_reports_are_regenerated_oldest_first_a_bounded_number_per_slice(self):
        self.w.handler(NAME, "--seed", "12")  # 11 active, 1 inactive, never regenerated
        # One regenerated 2 h ago (not due), one 30 h ago (due, after the never-regenerated ones).
        now = time.time()
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        self.w.execute("UPDATE reports SET last_regenerated_at = ? WHERE id = 'report_00001'", iso(now - 2 * 3600))
        self.w.execute("UPDATE reports SET last_regenerated_at = ? WHERE id = 'report_00002'", iso(now - 30 * 3600))
        run = self.invoke("per_slice=4")
        self.assertEqual(run["status"], "succeeded")
        self.assertEqual(run["counts"]["processed"], 10)
        self.assertEqual(run["slices"], 3, "10 due reports, 4 per slice")
        self.assertEqual(run["total"], 10)
        self.assertGreater(run["usage"]["input_tokens"], 0, "tokens come from the provider's usage")
        stamps = self.stamps()
        self.assertEqual(stamps["report_00001"], iso(now - 2 * 3600), "not due: untouched")
        self.assertIsNone(stamps["report_00010"], "inactive: untouched")
        fresh = [k for k, v in stamps.items() if v and v >= iso(now - 60)]
        self.assertEqual(len(fresh), 10)
        # Oldest first: the never-regenerated ones, then the 30-hour-old one, last.
        calls = [d for d in self.w.ai_calls()]
        self.assertEqual(len(calls), 10)
        contents = self.w.sql("SELECT count(*) FROM reports WHERE content LIKE 'Report %'")
        self.assertEqual(contents[0][0], 10)
        # Nothing is due any more.
        again = self.invoke()
        self.assertEqual(again["counts"]["processed"], 0)

    def test_a_failed_report_keeps_its_stamp_and_retry_redoes_only_it(self):
        self.w.handler(NAME, "--seed", "5")
        self.w.sandbox.queue_faults([{"status": 500}, {"status": 500}, {"status": 500}], provider="openai")
        run = self.invoke(expect=1)  # failed items beyond tolerate=0: the run fails
        self.assertEqual(run["status"], "failed")
        shown = self.w.show(run["run_id"])
        failed = [i["id"] for i in shown["failed_items"]]
        self.assertEqual(len(failed), 3, shown)
        stamps = self.stamps()
        for rid in failed:
            self.assertIsNone(stamps[rid], "a failed regeneration does not move the stamp")
        self.assertEqual(sum(1 for v in stamps.values() if v), 2)
        calls_before = len(self.w.ai_calls())
        r = self.w.baton("retry", run["run_id"])
        self.assertEqual(r.returncode, 0, r.stderr)
        retry = self.w.runs()[0]
        self.assertEqual(retry["trigger"], "retry")
        self.assertEqual(retry["counts"]["processed"], 3)
        self.assertEqual(len(self.w.ai_calls()) - calls_before, 3, "only the failed reports were called for")
        self.assertTrue(all(self.stamps().values()))

    def test_a_rate_limit_pauses_the_run_without_failing_anything(self):
        self.w.handler(NAME, "--seed", "3")
        self.w.sandbox.queue_faults([{"status": 429, "retry_after": "1"}], provider="openai")
        started = time.monotonic()
        run = self.invoke()
        self.assertEqual(run["status"], "succeeded")
        self.assertEqual(run["counts"]["failed"], 0)
        self.assertEqual(run["counts"]["processed"], 3)
        self.assertGreaterEqual(time.monotonic() - started, 1.0, "the run paused for the Retry-After")
        slices = self.w.show(run["run_id"])["slices"]
        self.assertEqual(slices[0]["retry_after_ms"], 1000)

    def test_backfill_staggers_over_the_interval_and_list_says_when_next(self):
        self.w.handler(NAME, "--seed", "20")
        out = self.w.handler(NAME, "--backfill").stdout
        self.assertIn("backfilled 18 reports", out)
        rows = json.loads(self.w.handler(NAME, "--list", "--json").stdout)
        active = [r for r in rows if r["status"] == "active"]
        self.assertEqual(len(active), 18)
        nexts = sorted(r["next_refresh"] for r in active)
        self.assertTrue(all(n != "due now" for n in nexts), nexts)
        self.assertGreater(len(set(n[:13] for n in nexts)), 5, f"spread over the day, not at once: {nexts}")
        inactive = [r for r in rows if r["status"] == "inactive"]
        self.assertTrue(all(r["next_refresh"] is None and r["last_regenerated_at"] is None for r in inactive))
        # Nothing due right after a backfill; a reactivated report (null stamp) is due at once.
        self.assertEqual(self.invoke()["counts"]["processed"], 0)
        self.w.execute("UPDATE reports SET status = 'active', last_regenerated_at = NULL WHERE id = 'report_00010'")
        self.assertEqual(self.invoke()["counts"]["processed"], 1)

    def test_sigterm_mid_slice_hands_back_a_cursor_that_loses_and_repeats_nothing(self):
        with HandlerWorld(sandbox_args=("--latency", "200ms")) as w:
            w.handler(NAME, "--seed", "12")  # 11 active
            p = w.start_baton("invoke", "--param", "per_slice=100", "--", w.bin(NAME))
            wait_for("three reports regenerated", lambda: len(w.ai_calls()) >= 3, timeout=30)
            p.send_signal(signal.SIGINT)  # Ctrl-C: a graceful cancel, the slice gets SIGTERM
            _, err = p.communicate(timeout=30)
            run = w.runs()[0]
            self.assertEqual(run["status"], "cancelled", err)
            done = run["counts"]["processed"]
            self.assertTrue(3 <= done < 11, run)
            stamped = w.sql("SELECT count(*) FROM reports WHERE last_regenerated_at IS NOT NULL")[0][0]
            self.assertEqual(stamped, done, "what the cursor passed is exactly what was stamped")
            r = w.baton("resume", run["run_id"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(w.sql("SELECT count(*) FROM reports WHERE last_regenerated_at IS NOT NULL")[0][0], 11)
            self.assertEqual(len(w.ai_calls()), 11, "each report called for once")

    def test_a_bad_parameter_fails_the_slice_saying_which(self):
        self.w.handler(NAME, "--seed", "1")
        r = self.w.baton("invoke", "--once", "--param", "interval=soon", "--", self.bin)
        self.assertEqual(r.returncode, 1)
        self.assertIn("parameter 'interval' is 'soon'", r.stderr)

    def test_no_ai_provider_is_a_clear_error_before_any_report(self):
        self.w.handler(NAME, "--seed", "2")
        env = dict(self.w.env)
        env.pop("OPENAI_API_KEY")
        r = self.w.baton("invoke", "--once", "--", self.bin, env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("neither OPENAI_API_KEY nor ANTHROPIC_API_KEY is set", r.stderr)
        self.assertEqual(self.w.ai_calls(), [])


if __name__ == "__main__":
    unittest.main()

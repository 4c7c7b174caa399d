"""generate-stories end to end: the built handler run by `baton invoke` against a real
sandbox and a real APP_DB file (rate limits, persistent 5xx, retry, cancel and resume,
token limits, one active run per project)."""
import os
import unittest

from handler_harness import HandlerWorld, wait_for

NAME = "generate-stories"


def invoke(w, *params, env=None, timeout=120):
    args = ["invoke"]
    for p in params:
        args += ["--param", p]
    return w.baton(*args, "--", w.bin(NAME), env=env, timeout=timeout)


def start_invoke(w, *params):
    args = ["invoke"]
    for p in params:
        args += ["--param", p]
    return w.start_baton(*args, "--", w.bin(NAME))


def statuses(w, run_id):
    return dict(w.sql("SELECT epic_id, status FROM story_runs WHERE run_id = ? ORDER BY position", run_id))


def run_ids(w):
    return [r[0] for r in w.sql("SELECT DISTINCT run_id FROM story_runs ORDER BY run_id")]


class GenerateStoriesTest(unittest.TestCase):
    def test_seeded_project_gets_stories_per_epic_and_logs_no_story_text(self):
        with HandlerWorld() as w:
            out = w.handler(NAME, "--seed", "10").stdout
            self.assertIn("seeded 10 epics", out)
            r = invoke(w, "pacing=fast")
            self.assertEqual(r.returncode, 0, r.stderr)
            [run] = run_ids(w)
            st = statuses(w, run)
            # Epics 5 and 10 have no cards; 4 and 8 have 12 (summarised).
            self.assertEqual(sorted(k for k, v in st.items() if v == "skipped"), ["demo-ep-0005", "demo-ep-0010"])
            self.assertEqual(sum(v == "completed" for v in st.values()), 8)
            shown = w.show(run)
            self.assertEqual(shown["status"], "succeeded")
            self.assertEqual(shown["total"], 10)
            self.assertEqual(shown["counts"], {"processed": 10, "succeeded": 8, "skipped": 2, "failed": 0})
            self.assertGreater(shown["usage"]["input_tokens"], 0)
            self.assertIn("summarised=true cards=12", r.stderr)
            for (epic, created) in w.sql("SELECT epic_id, stories_created FROM story_runs WHERE status = 'completed'"):
                self.assertEqual(w.sql("SELECT count(*) FROM stories WHERE epic_id = ?", epic), [(created,)])
            # Counts and ids only: no story or card text in the log.
            self.assertNotIn("As a user", r.stderr)
            self.assertNotIn("Use case", r.stderr)
            listed = w.handler(NAME, "--list", "--json").stdout
            self.assertIn('"stories"', listed)

    def test_rate_limits_pause_the_run_without_failing_it(self):
        with HandlerWorld() as w:
            w.handler(NAME, "--seed", "3")
            w.sandbox.queue_faults([{"status": 429, "retry_after": "1"}] * 3, provider="openai")
            r = invoke(w, "pacing=fast")
            self.assertEqual(r.returncode, 0, r.stderr)
            [run] = run_ids(w)
            self.assertEqual(set(statuses(w, run).values()), {"completed"})
            shown = w.show(run)
            self.assertEqual(shown["counts"]["failed"], 0)
            self.assertGreaterEqual(shown["slices_done"], 4, "each 429 ended its slice with retry_after_ms")
            self.assertIn("event=rate_limited", r.stderr)

    def test_persistent_5xx_fails_only_its_epic_and_retry_redoes_just_it(self):
        with HandlerWorld() as w:
            w.handler(NAME, "--seed", "3")
            # fast: 3 calls (waits 3 s and 6 s), then the epic fails.
            w.sandbox.queue_faults([{"status": 500}] * 3, provider="openai")
            r = invoke(w, "pacing=fast")
            self.assertEqual(r.returncode, 1, "a failed item fails the run (tolerate=0)")
            [run] = run_ids(w)
            st = statuses(w, run)
            self.assertEqual(st, {"demo-ep-0001": "failed", "demo-ep-0003": "completed", "demo-ep-0002": "completed"})
            err = w.sql("SELECT error FROM story_runs WHERE epic_id = 'demo-ep-0001'")[0][0]
            self.assertIn("server error 500 (after 3 calls)", err)
            self.assertEqual([i["id"] for i in w.show(run)["failed_items"]], ["demo-ep-0001"])
            before = len(w.ai_calls())
            r = w.baton("retry", run)
            self.assertEqual(r.returncode, 0, r.stderr)
            retry_run = [x for x in run_ids(w) if x != run][0]
            self.assertEqual(statuses(w, retry_run), {"demo-ep-0001": "completed"})
            self.assertEqual(len(w.ai_calls()) - before, 1)

    def test_cancel_mid_run_leaves_pending_epics_and_resume_loses_nothing(self):
        with HandlerWorld(sandbox_args=["--latency", "300ms"]) as w:
            w.handler(NAME, "--seed", "8")
            p = start_invoke(w, "pacing=fast")
            try:
                wait_for("two epics done", lambda: len(w.sql("SELECT 1 FROM story_runs WHERE status = 'completed'")) >= 2,
                         timeout=30)
                [run] = run_ids(w)
                r = w.baton("cancel", run)
                self.assertEqual(r.returncode, 0, r.stderr)
                p.wait(timeout=30)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            self.assertEqual(w.show(run)["status"], "cancelled")
            st = statuses(w, run)
            self.assertNotIn("generating", st.values(), "the epic in flight was finished, not left half done")
            self.assertIn("pending", st.values(), "epics not reached stay pending")
            r = w.baton("resume", run)
            self.assertEqual(r.returncode, 0, r.stderr)
            st = statuses(w, run)
            self.assertEqual(sorted(set(st.values())), ["completed", "skipped"])
            # Every epic with cards was generated exactly once across both invocations.
            self.assertEqual(len(w.ai_calls()), sum(v == "completed" for v in st.values()))
            self.assertEqual(w.show(run)["counts"]["processed"], 8)

    def test_a_token_limit_ends_the_run_partial_with_epics_left_pending(self):
        with HandlerWorld() as w:
            w.handler(NAME, "--seed", "6")
            sched = os.path.join(w.dir, "schedules")
            os.makedirs(sched)
            with open(os.path.join(sched, "stories.cron"), "w") as f:
                # The engine checks the limit between slices: a 3 s budget with normal pacing
                # (1 s between epics) holds a slice to two epics.
                f.write(f"@yearly stories budget=3s max-tokens=250 {w.bin(NAME)} --pacing normal\n")
            r = w.baton("invoke", "stories", "--schedules", sched)
            self.assertEqual(r.returncode, 1, r.stderr)
            [run] = run_ids(w)
            shown = w.show(run)
            self.assertEqual(shown["status"], "partial", shown)
            self.assertIn("pending", statuses(w, run).values())
            self.assertGreaterEqual(shown["usage"]["input_tokens"] + shown["usage"]["output_tokens"], 250)

    def test_a_second_run_on_a_busy_project_is_refused_naming_the_first(self):
        with HandlerWorld(sandbox_args=["--latency", "400ms"]) as w:
            w.handler(NAME, "--seed", "6")
            p = start_invoke(w, "pacing=fast", "project=demo")
            try:
                wait_for("the first run holding the project",
                         lambda: w.sql("SELECT run_id FROM story_run_locks WHERE project_id = 'demo'"), timeout=30)
                [first] = run_ids(w)
                r = invoke(w, "pacing=fast", "project=demo")
                self.assertEqual(r.returncode, 1, r.stderr)
                second = [x for x in run_ids(w) if x != first][0]
                failed = w.show(second)["failed_items"]
                self.assertEqual(len(failed), 6)
                for item in failed:
                    self.assertIn(f"active run {first}", item["error"])
                self.assertIn(f"event=refused project=demo active_run={first}", r.stderr)
                p.wait(timeout=60)
                self.assertEqual(p.returncode, 0)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            self.assertEqual(sorted(set(statuses(w, first).values())), ["completed", "skipped"])
            self.assertEqual(w.sql("SELECT count(*) FROM story_run_locks"), [(0,)])


if __name__ == "__main__":
    unittest.main()

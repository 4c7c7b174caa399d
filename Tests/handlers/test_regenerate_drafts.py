"""regenerate-drafts end to end: `baton invoke` of the built handler against a real
`baton sandbox` and a real APP_DB file (issue 13, seed 000)."""
import json
import os
import signal
import unittest

from handler_harness import HandlerWorld, wait_for

HANDLER = HandlerWorld.bin("regenerate-drafts")


def eligible_drafts(w):
    """(lead, channel, regenerations) of pending drafts the defaults make eligible."""
    r = w.handler("regenerate-drafts", "--stats", "--json")
    total = sum(row["eligible"] for row in json.loads(r.stdout))
    return total


def regenerations(w):
    return dict(w.sql("SELECT regenerations, count(*) FROM ai_drafts WHERE status = 'pending' GROUP BY 1"))


class RegenerateDraftsTest(unittest.TestCase):
    def test_every_eligible_lead_is_regenerated_once_and_show_lists_usage(self):
        with HandlerWorld() as w:
            seeded = json.loads(w.handler("regenerate-drafts", "--seed", "200", "--json").stdout)
            self.assertEqual(eligible_drafts(w), seeded["eligible"])
            r = w.baton("invoke", "--param", "concurrency=4", "--", HANDLER)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("Demo draft", r.stderr + r.stdout, "no draft text in logs")
            self.assertEqual(regenerations(w).get(1), seeded["eligible"])
            self.assertEqual(len(w.ai_calls()), seeded["eligible"], "one call per eligible lead and channel")
            run = w.runs()[0]
            shown = w.show(run["run_id"])
            self.assertEqual(shown["counts"]["succeeded"], seeded["eligible"])
            self.assertEqual(shown["total"], seeded["eligible"])
            self.assertGreater(shown["usage"]["input_tokens"], 0)
            # Negative sentiment and bounce senders were left alone.
            self.assertEqual(w.sql("SELECT count(*) FROM ai_drafts d JOIN leads l ON l.id = d.lead_id "
                                   "WHERE d.regenerated_at IS NOT NULL AND (l.sentiment_tag IN ('Neutral', 'Not Interested') "
                                   "OR (d.channel = 'email' AND l.email LIKE 'postmaster@%'))")[0][0], 0)

    def test_seeding_numbers_after_the_largest_lead_and_skips_ids_that_are_not_numbers(self):
        # Issue 15: PostgreSQL refused to cast `vip` to a number, so --seed failed there.
        with HandlerWorld() as w:
            w.handler("regenerate-drafts", "--seed", "3")
            w.execute("INSERT INTO leads (id, workspace_id) VALUES ('lead_vip', 'ws_1'), ('lead_', 'ws_1')")
            w.handler("regenerate-drafts", "--seed", "2")
            self.assertEqual([r[0] for r in w.sql("SELECT id FROM leads ORDER BY id")],
                             ["lead_", "lead_000001", "lead_000002", "lead_000003", "lead_000004", "lead_000005", "lead_vip"])

    def test_leads_deleted_while_it_runs_lose_nothing_and_double_nothing(self):
        with HandlerWorld(sandbox_args=["--latency", "20ms"]) as w:
            w.handler("regenerate-drafts", "--seed", "120")
            p = w.start_baton("invoke", "--param", "per_slice=10", "--param", "concurrency=2", "--", HANDLER)
            try:
                wait_for("a few drafts regenerated",
                         lambda: w.sql("SELECT count(*) FROM ai_drafts WHERE regenerations > 0")[0][0] >= 15, timeout=30)
                # From another connection, as a user's shell would: leads done and not yet done.
                done = [r[0] for r in w.sql("SELECT DISTINCT lead_id FROM ai_drafts WHERE regenerations > 0 ORDER BY 1 LIMIT 4")]
                ahead = [r[0] for r in w.sql("SELECT id FROM leads WHERE id NOT IN (SELECT lead_id FROM ai_drafts "
                                             "WHERE regenerations > 0) ORDER BY id DESC LIMIT 4")]
                for lead in done + ahead:
                    w.execute("DELETE FROM ai_drafts WHERE lead_id = ?", lead)
                    w.execute("DELETE FROM leads WHERE id = ?", lead)
                out, err = p.communicate(timeout=60)
            finally:
                if p.poll() is None:
                    p.kill()
            self.assertEqual(p.returncode, 0, err)
            self.assertGreater(w.show(w.runs()[0]["run_id"])["slices_done"], 1, "the deletes fell between slices too")
            self.assertEqual(eligible_drafts(w), regenerations(w).get(1), "every remaining eligible lead regenerated")
            self.assertNotIn(2, regenerations(w), "none twice")

    def test_a_rate_limit_pauses_the_run_without_failing_it(self):
        with HandlerWorld() as w:
            seeded = json.loads(w.handler("regenerate-drafts", "--seed", "40", "--json").stdout)
            w.sandbox.queue_faults([{"status": 429, "retry_after": "1"}])
            r = w.baton("invoke", "--param", "concurrency=4", "--", HANDLER)
            self.assertEqual(r.returncode, 0, r.stderr)
            shown = w.show(w.runs()[0]["run_id"])
            self.assertEqual(shown["status"], "succeeded")
            self.assertGreaterEqual(shown["slices_done"], 2, "the 429 ended a slice, the run went on")
            self.assertEqual(shown["counts"]["failed"], 0)
            self.assertEqual(regenerations(w).get(1), seeded["eligible"])
            self.assertNotIn(2, regenerations(w))

    def test_retry_redoes_only_the_failed_leads(self):
        with HandlerWorld() as w:
            seeded = json.loads(w.handler("regenerate-drafts", "--seed", "40", "--json").stdout)
            w.sandbox.queue_faults([{"status": 500}, {"status": 500}])
            r = w.baton("invoke", "--param", "concurrency=3", "--", HANDLER)
            self.assertEqual(r.returncode, 1, "two failed items fail the run (tolerate=0)")
            run_id = w.runs()[0]["run_id"]
            failed = [i["id"] for i in w.show(run_id)["failed_items"] if i["status"] == "failed"]
            self.assertEqual(len(failed), 2)
            calls = len(w.ai_calls())
            r = w.baton("retry", run_id)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(w.ai_calls()) - calls, 2, "the retry called the AI for the two failed leads only")
            self.assertEqual(regenerations(w).get(1), seeded["eligible"])

    def test_sigterm_mid_slice_returns_a_cursor_that_loses_nothing(self):
        with HandlerWorld(sandbox_args=["--latency", "60ms"]) as w:
            seeded = json.loads(w.handler("regenerate-drafts", "--seed", "80", "--json").stdout)
            p = w.start_baton("invoke", "--", HANDLER)
            wait_for("some drafts regenerated",
                     lambda: w.sql("SELECT count(*) FROM ai_drafts WHERE regenerations > 0")[0][0] >= 8, timeout=30)
            p.send_signal(signal.SIGINT)  # Ctrl-C: the slice gets SIGTERM, its cursor is committed
            p.communicate(timeout=30)
            run = w.runs()[0]
            self.assertEqual(run["status"], "cancelled")
            partial = sum(n for k, n in regenerations(w).items() if k > 0)
            self.assertLess(partial, seeded["eligible"], "it stopped mid-way")
            self.assertEqual(run["counts"]["succeeded"], partial, "what it did is what it reported")
            r = w.baton("resume", run["run_id"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(regenerations(w).get(1), seeded["eligible"])
            self.assertNotIn(2, regenerations(w))

    def test_max_tokens_on_the_schedule_line_ends_the_run_partial(self):
        with HandlerWorld() as w:
            seeded = json.loads(w.handler("regenerate-drafts", "--seed", "60", "--json").stdout)
            sched = os.path.join(w.dir, "schedules")
            os.makedirs(sched)
            with open(os.path.join(sched, "drafts.cron"), "w") as f:
                f.write(f"@yearly drafts max-tokens=800 pass-env={','.join(HandlerWorld.PASS[:3])} {HANDLER} --per-slice 5\n")
            r = w.baton("invoke", "drafts", "--schedules", sched)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            shown = w.show(w.runs()[0]["run_id"])
            self.assertEqual(shown["status"], "partial")
            used = shown["usage"]["input_tokens"] + shown["usage"]["output_tokens"]
            self.assertGreaterEqual(used, 800)
            done = sum(n for k, n in regenerations(w).items() if k > 0)
            self.assertLess(done, seeded["eligible"])
            self.assertEqual(done, shown["counts"]["succeeded"])
            self.assertIsNotNone(shown["cursor"], "the cursor is kept")

    def test_no_ai_provider_is_a_clear_error_before_any_lead_is_taken(self):
        with HandlerWorld() as w:
            w.handler("regenerate-drafts", "--seed", "10")
            env = dict(w.env)
            env.pop("OPENAI_API_KEY")
            r = w.baton("invoke", "--", HANDLER, env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn("no AI provider is configured", r.stdout + r.stderr)
            self.assertEqual(w.sql("SELECT count(*) FROM ai_drafts WHERE regenerations > 0")[0][0], 0)


if __name__ == "__main__":
    unittest.main()

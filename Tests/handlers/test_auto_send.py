"""auto-send (seed 003, issue 14) through `baton invoke` against the sandbox, with a real
APP_DB: evaluation, the single revision attempt (claimed durably, failing closed), the
decision, sends at most once (the sandbox's Twilio deliveries are the judge), the kill
switches, and kill -9 of baton at random instants."""
import collections
import os
import random
import signal
import time
import unittest

from handler_harness import HandlerWorld, wait_for

NAME = "auto-send"
PIN = "\nSANDBOX CONFIDENCE: {}\n"


class AutoSend(unittest.TestCase):
    def world(self, sandbox_args=()):
        w = HandlerWorld(sandbox_args=sandbox_args).__enter__()
        self.addCleanup(w.__exit__, None, None, None)
        return w

    def invoke(self, w, *params, env=(), expect=0):
        args = ["invoke"]
        for p in params:
            args += ["--param", p]
        for e in env:
            args += ["--env", e]
        r = w.baton(*args, "--", w.bin(NAME))
        self.assertEqual(r.returncode, expect, r.stderr)
        return w.runs()[0]

    def pin(self, w, confidence, workspace=None):
        """Pins the sandbox's evaluation of the drafts (of one workspace) to `confidence`."""
        sql = "UPDATE ai_drafts SET content = content || ? WHERE lead_id IN (SELECT id FROM leads" + \
              (" WHERE workspace_id = ?)" if workspace else ")")
        w.execute(sql, PIN.format(confidence), *([workspace] if workspace else []))

    def sms(self, w):
        return collections.Counter(d["to"] for d in w.sandbox.deliveries(provider="twilio"))

    def test_a_retry_longer_than_a_slice_goes_through_every_listed_draft(self):
        """A retry run's payload.items: every listed draft, however many slices it takes;
        an id no longer eligible is skipped, and the run's total is the list's length."""
        w = self.world()
        w.handler(NAME, "--seed", "30")
        ids = [r[0] for r in w.sql("SELECT d.id FROM ai_drafts d JOIN leads l ON l.id = d.lead_id "
                                   "WHERE l.workspace_id = 'ws_auto' ORDER BY d.id LIMIT 5")]
        payload = os.path.join(w.dir, "payload.json")
        with open(payload, "w") as f:
            f.write('{"items": %s}' % str(ids + ["d_gone"]).replace("'", '"'))
        r = w.baton("invoke", "--param", "per_slice=2", "--payload", payload, "--", w.bin(NAME))
        self.assertEqual(r.returncode, 0, r.stderr)
        run = w.runs()[0]
        self.assertEqual(run["counts"]["processed"], 6, run)
        self.assertEqual(run["counts"]["skipped"], 1, run)
        self.assertEqual(run["total"], 6)
        self.assertGreaterEqual(run["slices"], 3)

    def test_drafts_are_evaluated_revised_once_below_the_threshold_and_sent_or_queued(self):
        w = self.world()
        w.handler(NAME, "--seed", "30")
        run = self.invoke(w, "threshold=0.5")
        self.assertEqual(run["status"], "succeeded")
        self.assertEqual(run["counts"]["processed"], 20, "ws_manual has auto-send off")
        rows = w.sql("SELECT l.workspace_id, d.status, d.auto_send_action, d.auto_send_confidence, d.auto_send_original_confidence, "
                     "d.auto_send_revision_attempted_at, d.auto_send_revision_confidence, d.auto_send_revision_applied, l.phone "
                     "FROM ai_drafts d JOIN leads l ON l.id = d.lead_id")
        sent_phones = set()
        for ws, status, action, decision, original, attempted, revised, applied, phone in rows:
            if ws == "ws_manual":
                self.assertEqual((status, action, original), ("pending", None, None))
                continue
            # A revision only below the threshold, only where the workspace allows it.
            self.assertEqual(attempted is not None, ws == "ws_auto_rev" and original < 0.5)
            # The stored decision confidence is the one that drove the decision.
            self.assertEqual(decision, revised if applied else original)
            self.assertEqual(action, "sent" if decision >= 0.5 else "needs_review")
            self.assertEqual(status, "sent" if decision >= 0.5 else "needs_review")
            if action == "sent":
                sent_phones.add(phone)
        sms = self.sms(w)
        self.assertEqual(set(sms), sent_phones)
        self.assertEqual(max(sms.values()), 1)
        # Nothing left: a second run evaluates nothing and calls no model.
        calls = len(w.ai_calls())
        again = self.invoke(w, "threshold=0.5")
        self.assertEqual(again["counts"]["processed"], 0)
        self.assertEqual(len(w.ai_calls()), calls)

    def test_a_revision_is_attempted_once_per_draft_even_when_the_draft_comes_round_again(self):
        w = self.world()
        w.handler(NAME, "--seed", "3")  # one draft per workspace
        self.pin(w, 0.2, "ws_auto_rev")
        self.invoke(w, "threshold=0.9")
        self.assertEqual(len(w.ai_calls()), 4 + 1, "ws_auto_rev: eval, context, revise, re-eval; ws_auto: eval")
        # The draft is put back as a retry would find it: evaluated again, never revised again.
        w.execute("UPDATE ai_drafts SET status = 'pending', auto_send_action = NULL")
        self.invoke(w, "threshold=0.9")
        self.assertEqual(len(w.ai_calls()), 5 + 2, "one evaluation each, no second revision")
        self.assertEqual(w.sql("SELECT count(*) FROM ai_drafts WHERE auto_send_revision_attempted_at IS NOT NULL")[0][0], 1)

    def test_a_revision_claim_that_cannot_be_written_means_no_revision_and_no_send(self):
        w = self.world()
        w.handler(NAME, "--seed", "9")
        self.pin(w, 0.2, "ws_auto_rev")
        if w.backend == "postgres":
            w.execute("CREATE FUNCTION refuse_claims() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$ BEGIN RAISE EXCEPTION 'revision claims refused'; END $$")
            w.execute("CREATE TRIGGER no_revision_claims BEFORE UPDATE OF auto_send_revision_attempted_at ON ai_drafts "
                      "FOR EACH ROW EXECUTE FUNCTION refuse_claims()")
        else:
            w.execute("CREATE TRIGGER no_revision_claims BEFORE UPDATE OF auto_send_revision_attempted_at ON ai_drafts "
                      "BEGIN SELECT RAISE(ABORT, 'revision claims refused'); END")
        run = self.invoke(w, "threshold=0.9", "workspace=ws_auto_rev")
        self.assertEqual(run["status"], "succeeded")
        self.assertEqual(len(w.ai_calls()), 3, "one evaluation per draft, no context, revision or re-evaluation")
        self.assertEqual(w.sql("SELECT DISTINCT status, auto_send_action, auto_send_revision_applied, auto_send_revision_attempted_at "
                               "FROM ai_drafts d JOIN leads l ON l.id = d.lead_id WHERE l.workspace_id = 'ws_auto_rev'"),
                         [("needs_review", "needs_review", 0, None)])
        self.assertEqual(len(self.sms(w)), 0)

    def test_the_kill_switches(self):
        w = self.world()
        w.handler(NAME, "--seed", "9")
        self.pin(w, 0.95)
        run = self.invoke(w, env=["AUTO_SEND_DISABLED=1"])
        self.assertEqual((run["status"], run["counts"]["processed"]), ("succeeded", 0))
        self.assertEqual((len(self.sms(w)), len(w.ai_calls())), (0, 0), "AUTO_SEND_DISABLED=1 sends nothing")
        self.assertEqual(w.sql("SELECT count(*) FROM ai_drafts WHERE status = 'pending'")[0][0], 9)
        # AUTO_SEND_REVISION_DISABLED=1: evaluation as ever, no revision.
        w.execute("UPDATE ai_drafts SET content = replace(content, 'CONFIDENCE: 0.95', 'CONFIDENCE: 0.2')")
        self.invoke(w, "threshold=0.9", env=["AUTO_SEND_REVISION_DISABLED=1"])
        self.assertEqual(len(w.ai_calls()), 6)
        self.assertEqual(w.sql("SELECT count(*) FROM ai_drafts WHERE auto_send_revision_attempted_at IS NOT NULL")[0][0], 0)

    def test_kill_9_of_baton_at_random_instants_never_sends_a_draft_twice(self):
        w = self.world(sandbox_args=["--latency", "30ms"])
        w.handler(NAME, "--seed", "60")
        self.pin(w, 0.95)
        rng = random.Random(int(os.environ.get("BATON_TEST_SEED", time.time())))
        p = w.start_baton("invoke", "--param", "per_slice=5", "--", w.bin(NAME))
        run_id = wait_for("the run", lambda: w.runs() and w.runs()[0]["run_id"])
        for _ in range(4):
            time.sleep(rng.uniform(0.1, 0.8))  # a random instant, not a condition
            p.kill()
            p.communicate()
            p = w.start_baton("resume", run_id)
        p.communicate(timeout=120)
        r = w.baton("resume", run_id)  # finishes it if the last one was cut short
        sms = self.sms(w)
        self.assertTrue(sms)
        self.assertEqual(max(sms.values()), 1, f"sent twice: {[k for k, v in sms.items() if v > 1]}")
        states = dict(w.sql("SELECT d.status, count(*) FROM auto_send_deliveries d GROUP BY 1"))
        self.assertLessEqual(set(states), {"sent", "unknown"}, r.stderr)
        self.assertEqual(states.get("sent", 0) + states.get("unknown", 0), 40, "every auto-send draft was sent or is unknown")
        self.assertGreaterEqual(len(sms), states.get("sent", 0))


if __name__ == "__main__":
    unittest.main()

"""send-sms (handlers/examples) through `baton invoke` against the sandbox, with a real
APP_DB (SQLite, or PostgreSQL with BATON_TEST_APP_DB=postgres): the outbox sent once in
id order, a second run sending nothing, a row left `sending` by a dead sender reported
`unknown` and never resent."""
import unittest

from handler_harness import HandlerWorld

NAME = "send-sms"


class SendSMS(unittest.TestCase):
    def setUp(self):
        self.w = HandlerWorld().__enter__()
        self.addCleanup(self.w.__exit__, None, None, None)

    def invoke(self, expect=0):
        r = self.w.baton("invoke", "--", self.w.bin(NAME))
        self.assertEqual(r.returncode, expect, r.stderr)
        return self.w.runs()[0]

    def test_the_outbox_is_sent_once_and_a_second_run_sends_nothing(self):
        w = self.w
        w.handler(NAME, "--seed", "12")
        self.assertEqual(w.sql("SELECT min(id), max(id), count(*) FROM outbox"), [(1, 12, 12)], "ids numbered by the database")
        run = self.invoke()
        self.assertEqual(run["status"], "succeeded")
        sent = [d["to"] for d in w.sandbox.deliveries(provider="twilio")]
        self.assertEqual(sent, [f"+1555{k:07d}" for k in range(1, 13)], "in id order")
        self.assertEqual(w.sql("SELECT state, count(*), count(provider_id) FROM outbox GROUP BY state"), [("sent", 12, 12)])
        self.assertEqual(self.invoke()["status"], "succeeded")
        self.assertEqual(len(w.sandbox.deliveries(provider="twilio")), 12, "nothing sent twice")

    def test_a_row_left_sending_is_unknown_and_never_resent(self):
        w = self.w
        w.handler(NAME, "--seed", "3")
        w.execute("UPDATE outbox SET state = 'sending' WHERE id = ?", 2)
        run = self.invoke(expect=1)  # an unknown outcome is not a success: a person decides
        self.assertEqual(run["status"], "failed")
        self.assertEqual([d["to"] for d in w.sandbox.deliveries(provider="twilio")], ["+15550000001", "+15550000003"])
        self.assertEqual(w.sql("SELECT id, state FROM outbox ORDER BY id"), [(1, "sent"), (2, "unknown"), (3, "sent")])


if __name__ == "__main__":
    unittest.main()

"""The README's sandbox example, followed as a user would (issue 11 §4.1).

The handler's environment is clean (SPEC §3), so the Twilio variables exported in the
shell reach it only through `--pass-env`; without it the slice says which variable
is not set, never "authentication refused".
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from sandbox_harness import BATON_BIN, Sandbox

SEND_SMS = os.path.join(os.path.dirname(BATON_BIN), "send-sms")
SID = "AC0123456789abcdef0123456789abcdef"


class ReadmeSandboxExample(unittest.TestCase):
    def setUp(self):
        self.sandbox = Sandbox().start()
        self.addCleanup(self.sandbox.stop)
        self.dir = tempfile.mkdtemp(prefix="baton-readme.")
        self.addCleanup(shutil.rmtree, self.dir, True)
        # As the README exports them.
        self.env = dict(os.environ, APP_DB="sqlite:var/app.db", TWILIO_BASE_URL=self.sandbox.base,
                        TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="t")

    def sh(self, *argv):
        return subprocess.run(list(argv), cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=60)

    def test_the_example_sends_ten_messages(self):
        seeded = self.sh(SEND_SMS, "--seed", "10")
        self.assertEqual(seeded.returncode, 0, seeded.stderr)
        run = self.sh(BATON_BIN, "invoke", "--pass-env", "APP_DB,TWILIO_BASE_URL,TWILIO_ACCOUNT_SID,TWILIO_AUTH_TOKEN",
                      "--", SEND_SMS)
        self.assertEqual(run.returncode, 0, run.stderr)
        sent = self.sandbox.deliveries(provider="twilio")
        self.assertEqual(sorted(d["to"] for d in sent), [f"+1555{k:07d}" for k in range(1, 11)])

    def test_without_pass_env_the_missing_variable_is_named(self):
        self.assertEqual(self.sh(SEND_SMS, "--seed", "3").returncode, 0)
        run = self.sh(BATON_BIN, "invoke", "--once", "--env", "APP_DB=sqlite:var/app.db", "--", SEND_SMS)
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertIn("TWILIO_ACCOUNT_SID is not set", run.stderr)
        self.assertIn("--pass-env", run.stderr)
        self.assertNotIn("authentication refused", run.stderr)
        self.assertEqual(self.sandbox.deliveries(provider="twilio"), [])

    def test_pass_env_of_an_unset_variable_is_a_usage_error(self):
        env = dict(self.env)
        env.pop("TWILIO_AUTH_TOKEN")
        run = subprocess.run([BATON_BIN, "invoke", "--pass-env", "TWILIO_AUTH_TOKEN", "--", SEND_SMS], cwd=self.dir,
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("TWILIO_AUTH_TOKEN is not set in this shell", run.stderr)


if __name__ == "__main__":
    unittest.main()

"""Self-test of smtp_sink.py (the independent aiosmtpd server that baton's SMTP
client is checked against) and of the sandbox's own SMTP receiver
(`baton sandbox --smtp-listen`), both driven by Python's smtplib.
"""

import json
import os
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest
import uuid

from sandbox_harness import stop_process, Sandbox, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SINK = os.path.join(HERE, "smtp_sink.py")


def message(frm, to, subject, body):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@baton.test>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")


class Sink:
    """smtp_sink.py as a subprocess: `port`, `records()`, `stop()` (SIGTERM)."""

    def __init__(self, *args):
        self.tmp = tempfile.mkdtemp(prefix="smtp-sink-test.")
        self.out = os.path.join(self.tmp, "mail.jsonl")
        self.proc = subprocess.Popen([sys.executable, SINK, self.out, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = []
        reader = threading.Thread(target=lambda: first.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=20)
        line = first[0] if first else ""
        if not line.startswith("listening "):
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise RuntimeError(f"smtp_sink.py did not print 'listening PORT' (got {line!r}); stderr:\n{err}")
        self.port = int(line.split()[1])

    def records(self):
        with open(self.out, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        stop_process(self.proc)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


class SmtpSinkTest(unittest.TestCase):

    def setUp(self):
        self.sink = None

    def tearDown(self):
        if self.sink is not None:
            self.sink.stop()

    def start(self, *args):
        self.sink = Sink(*args)
        return self.sink

    def test_records_a_plain_message(self):
        sink = self.start()
        token = uuid.uuid4().hex
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
            s.ehlo("baton.test")
            refused = s.sendmail("baton@example.test", ["lead@example.test"],
                                 message("baton@example.test", "lead@example.test", "Hi", "body " + token))
        self.assertEqual(refused, {})
        recs = sink.records()  # written before the 250, so no wait is needed
        self.assertEqual(len(recs), 1, recs)
        r = recs[0]
        self.assertEqual(r["mail_from"], "baton@example.test")
        self.assertEqual(r["rcpt_tos"], ["lead@example.test"])
        self.assertIn("body " + token, r["data"])
        self.assertIn("Subject: Hi", r["data"])
        self.assertFalse(r["auth"])
        self.assertFalse(r["starttls"])
        self.assertTrue(r["esmtp"])
        self.assertEqual(r["helo"], "baton.test")

    def test_auth_login_and_plain_are_recorded(self):
        sink = self.start()
        for mech in ("LOGIN", "PLAIN"):
            with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
                s.ehlo()
                s.user, s.password = "mailer", "secret"
                s.auth(mech, getattr(s, "auth_" + mech.lower()), initial_response_ok=True)
                s.sendmail("a@example.test", ["b@example.test", "c@example.test"],
                           message("a@example.test", "b@example.test", mech, "x"))
        recs = sink.records()
        self.assertEqual([r["auth_mechanism"] for r in recs], ["LOGIN", "PLAIN"])
        self.assertTrue(all(r["auth"] and r["auth_login"] == "mailer" for r in recs))
        self.assertEqual(recs[0]["rcpt_tos"], ["b@example.test", "c@example.test"])

    def test_bad_password_is_535(self):
        sink = self.start()
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
            s.ehlo()
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.login("mailer", "bad")
        self.assertEqual(cm.exception.smtp_code, 535)

    def test_starttls(self):
        sink = self.start("--starttls")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=20) as s:
            s.ehlo()
            self.assertTrue(s.has_extn("starttls"))
            s.starttls(context=ctx)
            s.ehlo()
            s.login("mailer", "secret")
            s.sendmail("a@example.test", ["b@example.test"], message("a@example.test", "b@example.test", "tls", "x"))
        r = sink.records()[0]
        self.assertTrue(r["starttls"])
        self.assertTrue(r["auth"])

    def test_injected_replies(self):
        sink = self.start("--rcpt-reply", "gone@example.test=550", "--rcpt-reply", "full@example.test=452")
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as s:
            s.ehlo()
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.sendmail("a@example.test", ["gone@example.test", "full@example.test"], "Subject: x\r\n\r\nx\r\n")
            self.assertEqual(cm.exception.recipients["gone@example.test"][0], 550)
            self.assertEqual(cm.exception.recipients["full@example.test"][0], 452)
        self.assertEqual(sink.records(), [])
        self.sink.stop()
        self.sink = self.start("--data-reply", "451")
        with smtplib.SMTP("127.0.0.1", self.sink.port, timeout=10) as s:
            s.ehlo()
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail("a@example.test", ["b@example.test"], "Subject: x\r\n\r\nx\r\n")
            self.assertEqual(cm.exception.smtp_code, 451)
        self.assertEqual(self.sink.records(), [])

    def test_sigterm_exits_zero(self):
        sink = self.start()
        self.assertEqual(sink.stop(), 0)
        self.sink = None


class SandboxSmtpReceiver(unittest.TestCase):
    """`baton sandbox --smtp-listen`: EHLO, no STARTTLS, AUTH PLAIN/LOGIN optional,
    250 after the data, and the mail in /_sandbox/deliveries?provider=smtp."""

    @classmethod
    def setUpClass(cls):
        cls.sandbox = Sandbox(smtp=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.sandbox.stop()

    def send(self, to, token, login=None):
        host, port = self.sandbox.smtp_address
        frm = "baton@example.test"
        with smtplib.SMTP(host, port, timeout=10) as s:
            code, _ = s.ehlo("baton.test")
            self.assertEqual(code, 250, "EHLO answered 250")
            self.assertFalse(s.has_extn("starttls"), "docs/sandbox.md: STARTTLS is not offered")
            if login:
                mech, user, pw = login
                self.assertIn(mech, (s.esmtp_features.get("auth") or "").upper().split(),
                              f"AUTH {mech} offered in the EHLO answer")
                s.user, s.password = user, pw
                code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()), initial_response_ok=True)
                self.assertEqual(code, 235)
            s.mail(frm)
            s.rcpt(to)
            code, resp = s.data(message(frm, to, "Sandbox " + token, "Hello " + token))
            self.assertEqual(code, 250, f"250 after the data, got {code} {resp!r}")

    def check_delivery(self, to, token):
        got = wait_for(f"a smtp delivery to {to}",
                       lambda: self.sandbox.deliveries(provider="smtp", to=to), timeout=5)
        self.assertEqual(len(got), 1, got)
        d = got[0]
        self.assertEqual(d.get("provider"), "smtp")
        self.assertEqual(d.get("to"), to)
        self.assertEqual(d.get("from"), "baton@example.test")
        self.assertIn(token, d.get("body") or "", "the message text is recorded in `body`")

    def test_plain_mail_is_recorded(self):
        to, token = f"lead-{uuid.uuid4().hex[:6]}@example.test", uuid.uuid4().hex
        self.send(to, token)
        self.check_delivery(to, token)

    def test_auth_plain_is_accepted(self):
        to, token = f"lead-{uuid.uuid4().hex[:6]}@example.test", uuid.uuid4().hex
        self.send(to, token, login=("PLAIN", "mailer", "secret"))
        self.check_delivery(to, token)

    def test_auth_login_is_accepted(self):
        to, token = f"lead-{uuid.uuid4().hex[:6]}@example.test", uuid.uuid4().hex
        self.send(to, token, login=("LOGIN", "mailer", "secret"))
        self.check_delivery(to, token)

    def test_same_mail_to_sink_and_sandbox(self):
        # The one message, byte for byte, is accepted by both servers.
        token = uuid.uuid4().hex
        to = f"both-{token[:6]}@example.test"
        body = message("baton@example.test", to, "Both", "Hello " + token)
        sink = Sink()
        try:
            for host, port in (("127.0.0.1", sink.port), self.sandbox.smtp_address):
                with smtplib.SMTP(host, port, timeout=10) as s:
                    s.ehlo("baton.test")
                    self.assertEqual(s.sendmail("baton@example.test", [to], body), {})
            self.assertEqual([r["rcpt_tos"] for r in sink.records()], [[to]])
        finally:
            self.assertEqual(sink.stop(), 0)
        self.check_delivery(to, token)


if __name__ == "__main__":
    unittest.main()

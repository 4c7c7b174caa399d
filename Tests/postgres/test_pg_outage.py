"""A database that goes away under a daemon (issue 15, item 5, the part that is built):
`GET /healthz` answers 503 with the store's own reason, the daemon stays up, and no
password reaches the answer or the log.

The daemon's database is dropped with its connections terminated (`DROP DATABASE …
WITH (FORCE)`): every later store call fails, as when the server is gone.
"""
import json
import re
import urllib.error
import urllib.request
import unittest

from pg_harness import PG_URL, PgWorld, daemon_started, psql, require_postgres, wait_for

LISTEN = re.compile(r"event=listen\b.*?\baddress=(\S+)")


def healthz(address):
    try:
        with urllib.request.urlopen(f"http://{address}/healthz", timeout=15) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class OutageTests(unittest.TestCase):

    def setUp(self):
        require_postgres(self)
        self.w = PgWorld("@daily quiet {h} 1 0.1\n").create_store()
        self.addCleanup(self.w.cleanup)

    def testHealthzSays503WithTheReasonWhenTheDatabaseIsGone(self):
        w = self.w
        d = w.start("run", "--listen", "127.0.0.1:0")
        wait_for("the daemon to start", lambda: daemon_started(d), timeout=30)
        address = wait_for("the daemon to listen", lambda: next(
            (m.group(1) for line in d.stderr() for m in [LISTEN.search(line)] if m), None), timeout=30)
        self.assertEqual(healthz(address)[0], 200)
        psql(PG_URL, f'DROP DATABASE "{w.database}" WITH (FORCE)')
        status, body = wait_for("healthz to say 503", lambda: (lambda r: r if r[0] == 503 else None)(healthz(address)),
                                timeout=30, interval=0.5)
        error = body.get("error", "")
        self.assertTrue(error.startswith("the state store does not answer: "), body)
        self.assertGreater(len(error), len("the state store does not answer: ") + 5, "no reason given")
        self.assertTrue(body.get("hint"), body)
        self.assertIsNone(d.poll(), "the daemon stopped when its database went away")
        log = "\n".join(d.stderr())
        for text in (error, log):
            self.assertNotRegex(text, r"://[^/\s:@]*:[^@\s]*@", "a password in the answer or the log")


if __name__ == "__main__":
    unittest.main()

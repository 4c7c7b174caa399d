"""A client that half-closes its socket (shutdown(SHUT_WR)) once it has sent its
webhook still reads the answer (issue 11, 5.2: 88 of 100 such requests used to get
none, though their runs were created). Twenty at a time, so answers wait on group
commits, which is when the answer used to be lost."""

import socket
import threading
import time
import unittest

from harness import SECRET, ServerTestCase, nonce_body, read_http_response, sign

REQUESTS = 100
AT_ONCE = 20


class HalfCloseTests(ServerTestCase):

    def half_closed_hook(self, answers):
        body = nonce_body()
        ts = int(time.time())
        head = (f"POST /hooks/quick HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"X-Baton-Timestamp: {ts}\r\nX-Baton-Signature: {sign(SECRET, ts, body)}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        with self.server.connect() as s:
            s.sendall(head + body)
            s.shutdown(socket.SHUT_WR)
            try:
                resp = read_http_response(s, timeout=10)
                answers.append((resp.status, resp.json.get("run_id") if resp.status == 202 else resp.body))
            except AssertionError as e:
                answers.append((None, str(e)))

    def testEveryHalfClosedHookGetsItsAnswer(self):
        before = self.count("quick")
        answers = []
        for _ in range(REQUESTS // AT_ONCE):
            threads = [threading.Thread(target=self.half_closed_hook, args=(answers,)) for _ in range(AT_ONCE)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(15)
        unanswered = [a for a in answers if a[0] != 202]
        self.assertEqual(unanswered, [], f"{len(unanswered)} of {REQUESTS} half-closed hooks got no 202")
        ids = {a[1] for a in answers}
        self.assertEqual(len(ids), REQUESTS)
        # Exactly one run each, and each answer names a run that exists.
        self.assertEqual(self.count("quick"), before + REQUESTS)
        for run_id in list(ids)[:10]:
            self.assertIn(self.server.run(run_id)["status"], ("queued", "running", "succeeded"))


if __name__ == "__main__":
    unittest.main()

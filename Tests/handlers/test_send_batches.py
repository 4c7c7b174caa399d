"""send-batches (seed 004, issue 14) through `baton invoke` against the sandbox, with a
real APP_DB: the sandbox's own record of Messenger deliveries is the judge (the handler
sends no Idempotency-Key, so the sandbox's dedupe never hides a duplicate)."""
import collections
import json
import os
import signal
import unittest

from handler_harness import HandlerWorld, wait_for

NAME = "send-batches"


def children(pid):
    """Pids whose parent is `pid` (read from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def alive(pid):
    """Running and not a zombie (an orphan's parent may be slow to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def handler_of(worker):
    """The pid of the send-batches handler a `baton invoke` process runs."""
    return wait_for("the worker's handler", lambda: [c for c in children(worker.pid)
                                                     if os.path.basename(os.readlink(f"/proc/{c}/exe")) == NAME])[0]


def environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)


class SendBatches(unittest.TestCase):
    def world(self, sandbox_args=()):
        w = HandlerWorld(sandbox_args=sandbox_args).__enter__()
        self.addCleanup(w.__exit__, None, None, None)
        # A job with quick retries, so a killed slice is retried soon.
        os.makedirs(os.path.join(w.dir, "schedules"))
        with open(os.path.join(w.dir, "schedules", "test.cron"), "w") as f:
            f.write(f"@every 1h send-batches budget=30s retries=3 backoff=500ms {w.bin(NAME)}\n")
        return w

    def start(self, w, *params):
        args = ["invoke", "send-batches"]
        for p in params:
            args += ["--param", p]
        p = w.start_baton(*args)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.communicate()))
        return p

    def messenger(self, w):
        return collections.Counter(d["to"] for d in w.sandbox.deliveries(provider="messenger"))

    def test_three_workers_share_a_message_and_kills_leave_only_the_send_in_flight_unknown(self):
        # Worker A's handler is killed with SIGKILL mid-send; worker B's baton is killed
        # with SIGKILL (its handler, orphaned, finishes its slice; baton's docs/runs.md).
        w = self.world(sandbox_args=["--latency", "300ms"])
        w.handler(NAME, "--seed", "60", "--batch_size", "10")
        psids = {p for (r,) in w.sql("SELECT recipients FROM message_batches") for p in json.loads(r)}
        self.assertEqual(len(psids), 60)
        a = self.start(w, "rate=20", "lease=3s")
        handler = handler_of(a)
        run_a = environ(handler)[b"BATON_RUN_ID"].decode()
        b = self.start(w, "rate=20", "lease=3s")
        handler_b = handler_of(b)
        run_b = environ(handler_b)[b"BATON_RUN_ID"].decode()
        c = self.start(w, "rate=20", "lease=3s")
        in_flight = wait_for("a send of worker A in flight", lambda: w.sql(
            "SELECT d.recipient FROM message_deliveries d JOIN message_batches b ON b.id = d.batch_id "
            "WHERE d.status = 'sending' AND b.claimed_by = ?", run_a))[0][0]
        os.kill(handler, signal.SIGKILL)
        wait_for("worker B sending", lambda: w.sql(
            "SELECT 1 FROM message_deliveries d JOIN message_batches b ON b.id = d.batch_id "
            "WHERE d.status = 'sent' AND b.claimed_by = ?", run_b))
        os.kill(b.pid, signal.SIGKILL)
        for p in (a, b, c):
            p.communicate(timeout=90)
        wait_for("worker B's orphaned handler to finish", lambda: not alive(handler_b), timeout=60)

        sent = self.messenger(w)
        self.assertEqual(max(sent.values()), 1, f"a PSID delivered twice: {[k for k, v in sent.items() if v > 1]}")
        self.assertEqual(set(sent) | {in_flight}, psids, "every PSID delivered, save perhaps the one in flight")
        self.assertTrue(all(d["idempotency_key"] is None for d in w.sandbox.deliveries(provider="messenger")))
        statuses = dict(w.sql("SELECT recipient, status FROM message_deliveries"))
        self.assertEqual(statuses.pop(in_flight), "unknown")
        self.assertEqual(set(statuses.values()), {"sent"})
        self.assertEqual(len(statuses), 59)
        self.assertEqual(w.sql("SELECT count(*) FROM message_deliveries WHERE status = 'sent' AND tagged_at IS NOT NULL")[0][0], 59)
        self.assertEqual(w.sql("SELECT status, sent_count, failed_count, unknown_count FROM messages"), [("completed", 59, 0, 1)])
        self.assertEqual({r[0] for r in w.sql("SELECT status FROM message_batches")}, {"completed"})
        # Each worker took batches (claimed with its run id); the unknown one is listed apart by baton show.
        claimers = {r[0] for r in w.sql("SELECT claimed_by FROM message_batches")}
        self.assertGreaterEqual(len(claimers), 2)
        unknown = [i for r in w.runs() for i in w.show(r["run_id"]).get("unknown_items", [])]
        self.assertEqual([i["id"] for i in unknown], [f"msg_0001/{in_flight}"])

    def test_at_a_low_rate_a_done_send_is_recorded_sent_before_the_next_one(self):
        # A send's `sent` may wait for the next send's intent (one commit for both), but
        # not through a pause for the rate: there it is written before the pause.
        w = self.world()
        w.handler(NAME, "--seed", "3")
        p = self.start(w, "rate=0.5")
        first = wait_for("the first delivery", lambda: list(self.messenger(w)))[0]
        wait_for("the first recorded sent", lambda: w.sql("SELECT status FROM message_deliveries WHERE recipient = ?", first) == [("sent",)])
        self.assertEqual(sum(self.messenger(w).values()), 1, "recorded sent only with the second send")
        p.terminate()   # baton passes SIGTERM on to the slice, which stops
        p.communicate(timeout=60)

    def test_a_cancelled_message_stops_within_ten_recipients(self):
        w = self.world()
        w.handler(NAME, "--seed", "100")
        p = self.start(w, "rate=20")
        wait_for("five sends", lambda: w.sql("SELECT count(*) FROM message_deliveries WHERE status = 'sent'")[0][0] >= 5)
        w.execute("UPDATE messages SET status = 'cancelled'")
        at_cancel = sum(self.messenger(w).values())
        p.communicate(timeout=60)
        total = sum(self.messenger(w).values())
        self.assertLessEqual(total, at_cancel + 10, f"{total - at_cancel} sent after the cancel")
        self.assertLess(total, 100)
        self.assertEqual(w.sql("SELECT status FROM messages"), [("cancelled",)])
        self.assertEqual(w.sql("SELECT status FROM message_batches"), [("cancelled",)])
        self.assertEqual(w.sql("SELECT sent_count FROM messages")[0][0], total)

    def test_a_storm_of_rate_limits_pauses_and_finishes_with_nothing_failed(self):
        w = self.world()
        w.handler(NAME, "--seed", "30", "--batch_size", "10")
        w.sandbox.queue_faults([{"status": 429, "retry_after": "1"}] * 3, provider="messenger")
        p = self.start(w, "rate=100")
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        run = w.runs()[0]
        self.assertEqual(run["status"], "succeeded")
        self.assertEqual(run["counts"]["failed"], 0)
        self.assertEqual(run["counts"]["succeeded"], 30)
        self.assertGreaterEqual(run["slices"], 4, "each rate limit paused the run between slices")
        sent = self.messenger(w)
        self.assertEqual((len(sent), max(sent.values())), (30, 1))
        self.assertEqual(w.sql("SELECT status, sent_count, failed_count FROM messages"), [("completed", 30, 0)])
        self.assertEqual({r[0] for r in w.sql("SELECT status FROM message_batches")}, {"completed"})

    def test_a_send_that_may_have_been_delivered_is_unknown_and_resent_only_when_a_person_says_so(self):
        w = self.world()
        w.handler(NAME, "--seed", "6")
        # The sandbox hangs on the first send past the slice's deadline: the request left,
        # no answer came, so its outcome is unknown (the sandbox in fact recorded nothing).
        w.sandbox.queue_faults([{"hang": True}], provider="messenger")
        r = w.baton("invoke", "send-batches", "--budget", "3s", "--param", "rate=50")
        run = w.runs()[0]
        unknown = [i["id"] for i in w.show(run["run_id"]).get("unknown_items", [])]
        self.assertEqual(len(unknown), 1, r.stderr)
        psid = unknown[0].split("/", 1)[1]
        self.assertEqual(w.sql("SELECT status FROM message_deliveries WHERE recipient = ?", psid), [("unknown",)])
        self.assertEqual(len(self.messenger(w)), 5)
        # Not resent by a plain retry, nor by another run of the job.
        w.baton("retry", run["run_id"])
        w.baton("invoke", "send-batches")
        self.assertNotIn(psid, self.messenger(w))
        # baton retry --include-unknown: the person decided; sent once.
        r = w.baton("retry", run["run_id"], "--include-unknown")
        self.assertEqual(r.returncode, 0, r.stderr)
        sent = self.messenger(w)
        self.assertEqual((len(sent), max(sent.values()), sent[psid]), (6, 1, 1))
        self.assertEqual(w.sql("SELECT status, sent_count, unknown_count FROM messages"), [("completed", 6, 0)])

    def test_sms_is_a_channel_of_the_same_handler(self):
        w = self.world()
        w.handler(NAME, "--seed", "12", "--batch_size", "5", "--channel", "sms")
        r = w.baton("invoke", "send-batches", "--param", "rate=100")
        self.assertEqual(r.returncode, 0, r.stderr)
        sms = collections.Counter(d["to"] for d in w.sandbox.deliveries(provider="twilio"))
        self.assertEqual((len(sms), max(sms.values())), (12, 1))
        self.assertEqual(len(self.messenger(w)), 0)
        self.assertEqual(w.sql("SELECT status, sent_count FROM messages"), [("completed", 12)])

    def test_stats_and_a_bad_seed_say_what_is_wrong(self):
        w = self.world()
        r = w.handler(NAME, "--seed", "zero", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--seed needs a count", r.stderr)
        w.handler(NAME, "--seed", "5", "--batch_size", "2")
        stats = json.loads(w.handler(NAME, "--stats", "--json").stdout)
        self.assertEqual(stats["messages"][0]["batches"], 3)
        self.assertEqual(stats["messages"][0]["status"], "pending")


if __name__ == "__main__":
    unittest.main()

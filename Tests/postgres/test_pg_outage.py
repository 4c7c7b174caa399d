"""A database that goes away under a daemon, or refuses one run's commits (issue 15,
item 5; a server stopped and started again: test_pg_restart.py).

- The daemon's database is dropped with its connections terminated (`DROP DATABASE …
  WITH (FORCE)`): every later store call fails, as when the server is gone. `GET
  /healthz` answers 503 with the store's own reason, the daemon stays up, and no
  password reaches the answer or the log.
- A trigger makes the server refuse the commits of one job's slices as a full disk
  (SQLSTATE 53100) while the others' go through: the refused result is kept in memory
  and, from then on, no slice of any job starts on that daemon (the bound on results
  held) until the trigger is dropped and the held result commits; then the other
  job's runs, fired meanwhile, start, none lost, and the daemon says so once.
"""
import datetime
import signal
import time
import unittest

from pg_harness import LISTEN, PG_URL, PgWorld, daemon_started, healthz, psql, require_postgres, wait_exit, wait_for



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


REFUSE_HOLD = """
CREATE FUNCTION refuse_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.outcome <> 'running' AND (SELECT job FROM runs WHERE id = NEW.run_id) = 'hold' THEN
    RAISE EXCEPTION 'could not extend file (test)' USING ERRCODE = '53100';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse_hold BEFORE INSERT OR UPDATE ON slices FOR EACH ROW EXECUTE FUNCTION refuse_hold();
"""


class HeldResultTests(unittest.TestCase):

    def setUp(self):
        require_postgres(self)

    def testNoSliceStartsWhileAResultWaitsForItsCommit(self):
        when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=5)
        hold = f"{when.second} {when.minute} {when.hour} {when.day} {when.month} *"
        w = PgWorld(f"{hold}  hold  misfire=skip budget=20s {{h}} 1 0.5\n"
                    f"* * * * * *  tick  overlap=allow misfire=skip budget=20s {{h}} 1 0.3\n").create_store()
        self.addCleanup(w.cleanup)
        w.sql(REFUSE_HOLD)
        d = w.start("run")
        wait_for("the daemon to start", lambda: daemon_started(d), timeout=30)
        ended = wait_for("the hold job's slice to end", lambda: next(
            (r for h in w.runs("hold") for r in w.ledger(h["run_id"]) if r["ev"] == "end"), None), timeout=30, interval=0.1)
        said = wait_for("the daemon to say no slice starts", lambda: [x for x in d.stderr() if "event=starts_held" in x],
                        timeout=15, interval=0.1)
        # Ticks fire each second meanwhile: their runs are recorded, none starts.
        wait_for("three ticks fired while the result is held", lambda: len(
            [r for r in w.runs("tick") if r["status"] != "succeeded"]) >= 3, timeout=15, interval=0.2)
        while_held = [r for r in w.starts() if r["t"] > ended["t"] + 1.0]
        w.sql("DROP TRIGGER refuse_hold ON slices")
        dropped = time.time()
        hold_run = w.runs("hold")[0]
        shown = w.wait_status(hold_run["run_id"], "succeeded", timeout=20)
        wait_for("the ticks fired meanwhile to run", lambda: all(
            r["status"] == "succeeded" for r in w.runs("tick") if epoch(r["scheduled_at"]) < dropped), timeout=30, interval=0.3)
        d.signal(signal.SIGTERM)
        wait_exit(d, 30)
        problems = []
        if while_held:
            problems.append(f"{len(while_held)} slices started while a result was held: "
                            f"{[(r['run'], r['slice']) for r in while_held][:5]}")
        hold_starts = [r for r in w.starts(hold_run["run_id"])]
        if len(hold_starts) != 1 or [s["outcome"] for s in shown["slices"]] != ["succeeded"]:
            problems.append(f"the held slice ran {len(hold_starts)} times; committed {shown['slices']}")
        if len([x for x in d.stderr() if "event=starts_held" in x]) != 1:
            problems.append(f"starts_held said {len(said)} times, not once")
        ticks = w.runs("tick")
        keys = [r["scheduled_at"] for r in ticks]
        if len(keys) != len(set(keys)):
            problems.append("a tick fire ran twice")
        if problems:
            self.fail("\n".join(problems) + "\n" + w.diagnostics())

def epoch(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


if __name__ == "__main__":
    unittest.main()

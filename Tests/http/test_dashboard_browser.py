"""The dashboard driven in headless Chromium over the DevTools protocol: a run's story
(slices, the failed item and its error, a log line, shown as text), failures that
look different, filtering, and the actions (cancel with its confirmation, pause,
invoke, retry), each checked in the store or with the CLI, not only on the page.
With BATON_API_TOKEN set, the page asks for the token and an action without it is
refused."""

import json
import os
import sqlite3

import browser
from harness import DEFAULT_JOBS, ServerTestCase, wait_for

JOBS = DEFAULT_JOBS + (
    "@daily  strict  overlap=allow pace=100ms retries=0 {d}/count3.sh\n"
    "@daily  markup  overlap=allow retries=0 {d}/markup.sh\n")
# A handler whose log is markup: the page must show it as text, never run it.
MARKUP_SH = """#!/bin/sh
cat > /dev/null
echo '<img src=x onerror="document.title=1"><b>bold</b>' >&2
echo '{"cursor":null,"counts":{"processed":1,"succeeded":1}}'
"""
TOKEN = "dashboard-browser-token-42"


def stored(world, run_id):
    with sqlite3.connect(f"file:{world.db}?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT status, cancel_requested, trigger_kind, parent_run FROM runs WHERE id = ?",
                          (run_id,)).fetchone()


def paused(world, job):
    return {j["job"]: j["paused"] for j in world.cli_json("jobs")}[job]


def js(value):
    return json.dumps(value)


class PageTestCase(ServerTestCase):
    jobs = JOBS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        path = os.path.join(cls.world.dir, "markup.sh")
        with open(path, "w") as f:
            f.write(MARKUP_SH)
        os.chmod(path, 0o755)
        cls.url = f"http://{cls.server.host}:{cls.server.port}/"
        cls.page = None

    @classmethod
    def tearDownClass(cls):
        if cls.page is not None:
            cls.page.close()
        super().tearDownClass()

    def open(self, where):
        if self.page is None:
            type(self).page = browser.Page(self.url + where)
        else:
            self.page.goto(self.url + where)
        self.page.wait("the page to load", "document.body && document.body.dataset.loaded === 'true'")

    def text(self, selector):
        return self.page.eval(f"(document.querySelector({js(selector)}) || {{}}).textContent || ''")


class DashboardBrowserTests(PageTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.strict = s.hook("strict").json["run_id"]   # item-2 fails: tolerate=0, the run fails
        cls.tolerated = s.hook("count").json["run_id"]  # item-2 fails within tolerate=1: succeeds
        cls.quick = s.hook("quick").json["run_id"]
        cls.markup = s.hook("markup").json["run_id"]
        for run_id, status in ((cls.strict, "failed"), (cls.tolerated, "succeeded"), (cls.quick, "succeeded"),
                               (cls.markup, "succeeded")):
            s.wait_status(run_id, status)

    def testRunDetailShowsSlicesTheFailedItemAndALogLine(self):
        self.open(f"#/runs/{self.strict}")
        self.page.wait("three slices", "document.querySelectorAll('#slices tr[data-slice]').length === 3")
        facts = self.text("#run-facts")
        self.assertIn("failed: 1 item", facts)
        self.assertIn("1 item failed (more than tolerate= allows)", facts)
        self.assertEqual(self.page.eval("[...document.querySelectorAll('#slices tr[data-slice]')].map(r => r.dataset.slice)"),
                         ["1/1", "2/1", "3/1"])
        item = self.text("#items tr[data-item='item-2']")
        self.assertIn("item-2", item)
        self.assertIn("boom", item)
        self.assertEqual(self.page.eval("document.querySelectorAll('pre[data-log]').length"), 0, "logs load on demand")
        self.page.click("#slices button[aria-label='Log of slice 2 attempt 1']")
        log = self.page.wait("the log of slice 2", f"(document.querySelector({js('pre[data-log]')}) || {{}}).textContent")
        self.assertEqual(log.strip(), "counted 2 of 3")

    def testARunsAddressOpenedInTheBrowserShowsItsDetail(self):
        self.open(f"runs/{self.strict}")
        self.page.wait("three slices", "document.querySelectorAll('#slices tr[data-slice]').length === 3")
        self.assertIn("boom", self.text("#items"))
        self.page.click("a[href='#/runs']")
        self.page.wait("the runs list", f"document.querySelector('tr[data-run={js(self.quick)}]')")

    def testALogIsShownAsTextNotMarkup(self):
        self.open(f"#/runs/{self.markup}")
        self.page.wait("the slice", "document.querySelector('#slices button[data-action=log]')")
        self.page.click("#slices button[data-action=log]")
        log = self.page.wait("the log", "(document.querySelector('pre[data-log]') || {}).textContent")
        self.assertIn('<img src=x onerror="document.title=1"><b>bold</b>', log)
        self.assertEqual(self.page.eval("document.querySelectorAll('pre[data-log] *').length"), 0, "markup in a log became elements")
        self.assertNotEqual(self.page.eval("document.title"), "1")

    def testFailuresLookDifferentNotOnlyByColour(self):
        self.open("#/runs")
        self.page.wait("the runs", f"document.querySelector('tr[data-run={js(self.strict)}]')")
        strict = self.text(f"tr[data-run={js(self.strict)}]")
        self.assertIn("⚠ failed: 1 item", strict)
        self.assertIn("1 item failed (more than tolerate= allows)", strict)
        self.assertIn("⚠ 1 failed", self.text(f"tr[data-run={js(self.tolerated)}]"))
        quick = self.text(f"tr[data-run={js(self.quick)}]")
        self.assertIn("✓ succeeded", quick)
        self.assertNotIn("⚠", quick)
        self.assertIn("UTC", self.text("#runs-zone"))

    def testFilterByStatus(self):
        self.open("#/runs")
        self.page.wait("the filter", "document.querySelector('#filter-status')")
        self.page.eval("(() => { const s = document.querySelector('#filter-status'); s.value = 'failed';"
                       " s.dispatchEvent(new Event('change')); })()")
        self.page.wait("only failed runs", "location.hash.includes('status=failed') && "
                       "document.querySelectorAll('#runs tr[data-run]').length > 0 && "
                       "[...document.querySelectorAll('#runs tr[data-run]')].every(r => r.dataset.status === 'failed')")
        shown = self.page.eval("[...document.querySelectorAll('#runs tr[data-run]')].map(r => r.dataset.run)")
        self.assertIn(self.strict, shown)
        self.assertNotIn(self.quick, shown)

    def testCancelARunningRunAfterConfirming(self):
        live = self.server.hook("slow").json["run_id"]
        wait_for("the slow handler to start", lambda: self.world.records(live))
        self.open("#/runs?job=slow")
        button = f"tr[data-run={js(live)}] button[data-action=cancel]"
        self.page.wait("the cancel button", f"document.querySelector({js(button)})")
        self.page.click(button)
        self.page.wait("the confirmation", "document.querySelector('#confirm').open")
        self.page.click("#confirm-no")
        self.page.wait("the confirmation to close", "!document.querySelector('#confirm').open")
        self.assertEqual(stored(self.world, live)[:2], ("running", 0), "declining cancelled the run")
        self.page.click(button)
        self.page.wait("the confirmation", "document.querySelector('#confirm').open")
        self.page.click("#confirm-yes")
        wait_for("the run to end cancelled in the store", lambda: stored(self.world, live)[0] == "cancelled", timeout=15)
        self.assertIn("cancel requested", self.page.wait("the outcome", "document.querySelector('#outcome.good')?.textContent"))

    def testPauseAndUnpauseAJob(self):
        self.open("#/jobs")
        row = "tr[data-job=yearly]"
        self.page.wait("the jobs", f"document.querySelector({js(row)})")
        self.page.click(row + " button[data-action=pause]")
        wait_for("baton jobs to say yearly is paused", lambda: paused(self.world, "yearly"))
        self.page.wait("the row to say paused", f"document.querySelector({js(row)}).dataset.paused === 'true'")
        self.assertIn("paused", self.text("#outcome"))
        self.page.click(row + " button[data-action=unpause]")
        wait_for("baton jobs to say yearly is not paused", lambda: not paused(self.world, "yearly"))

    def testInvokeAndRetryFromThePage(self):
        self.open("#/jobs")
        self.page.wait("the jobs", "document.querySelector('tr[data-job=quick] button[data-action=invoke]')")
        self.page.click("tr[data-job=quick] button[data-action=invoke]")
        outcome = self.page.wait("the outcome", "document.querySelector('#outcome.good')?.textContent")
        run_id = outcome.split("Started run ")[1].split()[0]
        self.assertEqual(stored(self.world, run_id)[2], "manual")
        self.open(f"#/runs/{self.strict}")
        self.page.wait("the retry button", "document.querySelector('button[data-action=retry]')")
        self.page.click("button[data-action=retry]")
        child = self.page.wait("the retried-by link", "document.querySelector('#retried-by a')?.textContent")
        self.assertEqual(stored(self.world, child)[2:], ("retry", self.strict))


class DashboardTokenTests(PageTestCase):
    server_env = {"BATON_API_TOKEN": TOKEN}

    def testThePageAsksForTheTokenAndActionsNeedIt(self):
        type(self).page = browser.Page(self.url + "#/jobs")
        self.page.wait("the token form", "!document.querySelector('#token-form').hidden")
        self.assertEqual(self.page.eval("document.querySelectorAll('#jobs tr[data-job]').length"), 0)
        # An action without the token is refused, in the store as on the page.
        self.page.eval("fetch('jobs/quick/pause', {method: 'POST', headers: {'X-Baton-Dashboard': '1'}})"
                       ".then(r => window.refused = r.status)")
        self.assertEqual(self.page.wait("the refusal", "window.refused"), 401)
        self.assertFalse(paused(self.world, "quick"))
        self.page.click("#token-input")
        self.page.type(TOKEN)
        self.page.click("#token-form button[type=submit]")
        self.page.wait("the jobs", "document.querySelector('tr[data-job=quick] button[data-action=pause]')")
        self.assertEqual(self.page.eval("document.cookie"), "", "the token went into a cookie")
        self.page.click("tr[data-job=quick] button[data-action=pause]")
        wait_for("baton jobs to say quick is paused", lambda: paused(self.world, "quick"))
        self.page.wait("the row to offer unpause", "document.querySelector('tr[data-job=quick] button[data-action=unpause]')")
        # A wrong token: the action is refused and says so.
        self.page.eval("sessionStorage.setItem('baton.token', 'wrong')")
        self.page.click("tr[data-job=quick] button[data-action=unpause]")
        self.assertIn("Refused (401)", self.page.wait("the refusal", "document.querySelector('#outcome.bad')?.textContent"))
        self.assertTrue(paused(self.world, "quick"))

"""GET /: the dashboard, rendered by headless Chromium; assertions on the DOM it
renders and on a screenshot's pixels."""

import html.parser
import os
import shutil
import tempfile
import unittest
from collections import Counter

import browser
from harness import ServerTestCase, wait_for

JOB_NAMES = ("quick", "spend", "count", "slow", "queued", "other", "yearly")


class DOM(html.parser.HTMLParser):
    """Visible text, every element with its attributes, the rows marked data-job and
    data-run, and the <progress> elements inside each run's row."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.text, self._skip = [], [], 0
        self.jobs, self.runs, self._run = [], {}, None
        self.ids = {}
        self._id_stack = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag in ("script", "style"):
            self._skip += 1
        if "data-job" in attrs:
            self.jobs.append(attrs["data-job"])
        if "data-run" in attrs:
            self._run = attrs["data-run"]
            self.runs[self._run] = []
        if tag == "progress" and self._run is not None:
            self.runs[self._run].append(attrs)
        if "id" in attrs:
            self.ids[attrs["id"]] = []
            self._id_stack.append((tag, attrs["id"]))

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if tag == "tr":
            self._run = None
        if self._id_stack and self._id_stack[-1][0] == tag:
            self._id_stack.pop()

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
            for _, ident in self._id_stack:
                self.ids[ident].append(data)

    @property
    def visible(self):
        return " ".join(" ".join(self.text).split())


class DashboardTests(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.done = s.hook("count").json["run_id"]
        s.wait_status(cls.done, "succeeded")
        cls.live = s.hook("slow").json["run_id"]
        wait_for("the slow handler to start", lambda: cls.world.records(cls.live))
        cls.tmp = tempfile.mkdtemp(prefix="baton-dashboard-")
        cls.url = f"http://{s.host}:{s.port}/"

    @classmethod
    def tearDownClass(cls):
        try:
            cls.world.cancel(cls.live)
            cls.server.wait_status(cls.live, "cancelled")
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            super().tearDownClass()

    def testPageIsOneSelfContainedHTMLDocument(self):
        resp = self.server.get("/")
        self.assertEqual(resp.status, 200, resp)
        self.assertIn("text/html", resp.header("Content-Type") or "")
        page = DOM(resp.body.decode())
        for tag, attrs in page.elements:
            if tag == "script":
                self.assertNotIn("src", attrs, "an external script: the page must be self-contained")
            if tag == "link" and "stylesheet" in (attrs.get("rel") or ""):
                self.fail("an external stylesheet: the page must be self-contained")

    def testRenderedPageShowsJobsAndRunProgress(self):
        jobs = DOM(browser.dump_dom(self.url + "#/jobs"))
        for name in JOB_NAMES:
            self.assertIn(name, jobs.visible, f"job {name} not rendered")
        self.assertEqual(sorted(jobs.jobs), sorted(JOB_NAMES), "one row per job (data-job)")
        dom = DOM(browser.dump_dom(self.url))
        self.assertIn(self.done, dom.runs, "the finished run has no row (data-run)")
        self.assertIn(self.live, dom.runs, "the running run has no row (data-run)")
        # The finished run's bar is full; the running one's is there (no count yet).
        bars = dom.runs[self.done]
        self.assertEqual(len(bars), 1, f"one <progress> in the finished run's row: {bars}")
        self.assertEqual(float(bars[0].get("value")), float(bars[0].get("max") or 1), bars)
        self.assertEqual(len(dom.runs[self.live]), 1, dom.runs[self.live])
        # The page's own script ran and reached the API without error.
        self.assertEqual("".join(dom.ids.get("error", [])).strip(), "", "the dashboard reports an error")

    def testScreenshotIsARealPicture(self):
        path = browser.screenshot(self.url, os.path.join(self.tmp, "dashboard.png"))
        self.assertGreater(os.path.getsize(path), 5000)
        width, height, rows = browser.read_png(path)
        self.assertEqual((width, height), (1200, 800))
        colours = Counter(p[:3] for row in rows[::2] for p in row[::2])
        background, share = colours.most_common(1)[0]
        inked = 1 - share / sum(colours.values())
        self.assertGreater(len(colours), 20, "hardly any colours: a blank page?")
        self.assertGreater(inked, 0.01, "less than 1% of the page differs from its background")


if __name__ == "__main__":
    unittest.main()

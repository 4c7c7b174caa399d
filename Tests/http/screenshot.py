#!/usr/bin/env python3
"""Writes screenshots of the dashboard for the README: the jobs view and a run's detail.

    BATON_BIN=.build/debug/baton python3 Tests/http/screenshot.py [--out docs]

Starts `baton serve` on a temporary world, makes a few runs (finished, one failed on
its items, one paused job, one part done), renders the jobs view
(docs/dashboard-jobs.png) and the failed run's detail with a log open
(docs/dashboard-run.png) in headless Chromium at 1280x1000. Standard library only;
needs /usr/bin/chromium.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import browser  # noqa: E402
from harness import Server, World, wait_for  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

JOBS = """
*/15 * * * *      regenerate-drafts  overlap=skip  pace=300ms  {d}/count3.sh
0 9 * * 1-5       weekday-digest     overlap=allow             {d}/quick.sh
@every 30s        send-batches       overlap=skip  pace=60s    {d}/count3.sh
0 * * * *         import-orders      overlap=allow pace=100ms retries=0 {d}/count3.sh
CRON_TZ=America/New_York
30 2 * * *        nightly-report     overlap=allow             {d}/quick.sh
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, "docs"), help="directory for the PNGs")
    args = parser.parse_args()
    world = World(JOBS)
    server = Server(world).start()
    live = page = None
    try:
        for job in ("weekday-digest", "nightly-report", "regenerate-drafts", "import-orders", "weekday-digest", "import-orders"):
            run_id = server.hook(job).json["run_id"]
            server.wait_status(run_id, ("succeeded", "failed"), timeout=20)
        failed = run_id  # import-orders, strict: its failed item fails the run
        world.cli("pause", "nightly-report")
        # A run caught between slices: one of three items done, waiting its pace.
        live = server.hook("send-batches").json["run_id"]
        wait_for("the run to be part done", lambda: (server.run(live).get("percent") or 0) > 0)
        out = os.path.abspath(args.out)
        os.makedirs(out, exist_ok=True)
        base = f"http://{server.host}:{server.port}/"
        page = browser.Page(base + "#/jobs", size=(1280, 1000))
        page.wait("the jobs view", "document.querySelectorAll('#jobs tbody tr').length >= 5")
        for name, url, ready in (
                ("dashboard-jobs.png", None, None),
                ("dashboard-run.png", base + "#/runs/" + failed,
                 "document.querySelector('pre[data-log]') !== null")):
            if url:
                page.goto(url)
                page.wait("the run's slices", "document.querySelectorAll('#slices tbody tr[data-slice]').length === 3")
                page.click("#slices button[data-action=log]")
                page.wait("a log", ready)
                page.eval("window.scrollTo(0, 0)")
            path = page.screenshot(os.path.join(out, name))
            width, height, _ = browser.read_png(path)
            print(f"wrote {path} ({width}x{height}, {os.path.getsize(path)} bytes)")
    finally:
        if page is not None:
            page.close()
        if live is not None:
            world.cancel(live)
        server.stop()
        world.cleanup()


if __name__ == "__main__":
    main()

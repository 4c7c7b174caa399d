#!/usr/bin/env python3
"""Writes a screenshot of the dashboard (GET /) for the README.

    BATON_BIN=.build/debug/baton python3 Tests/http/screenshot.py [--out docs/dashboard.png]

Starts `baton serve` on a temporary world, makes a few runs (finished, one with a
failed item, one part done), renders http://127.0.0.1:PORT/ in headless Chromium at
1200x800 and writes the PNG. Standard library only; needs /usr/bin/chromium.
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
CRON_TZ=America/New_York
30 2 * * *        nightly-report     overlap=allow             {d}/quick.sh
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "dashboard.png"))
    args = parser.parse_args()
    world = World(JOBS)
    server = Server(world).start()
    live = None
    try:
        for job in ("weekday-digest", "nightly-report", "regenerate-drafts"):
            run_id = server.hook(job).json["run_id"]
            server.wait_status(run_id, ("succeeded", "failed"), timeout=20)
        # A run caught between slices: one of three items done, waiting its pace.
        live = server.hook("send-batches").json["run_id"]
        wait_for("the run to be part done", lambda: (server.run(live).get("percent") or 0) > 0)
        out = os.path.abspath(args.out)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        browser.screenshot(f"http://{server.host}:{server.port}/", out)
        width, height, _ = browser.read_png(out)
        print(f"wrote {out} ({width}x{height}, {os.path.getsize(out)} bytes)")
    finally:
        if live is not None:
            world.cancel(live)
        server.stop()
        world.cleanup()


if __name__ == "__main__":
    main()

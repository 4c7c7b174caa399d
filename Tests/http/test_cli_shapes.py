"""The CLI and the API show the same data in one shape (issue 11.9): `baton runs
--json` and `GET /runs` list the same runs, field for field; `baton show RUN --json`
and `GET /runs/RUN` agree on every field the API gives."""

import unittest

from harness import ServerTestCase


class CliAndApiShapesTest(ServerTestCase):

    def test_runs_json_and_get_runs_list_the_same_runs(self):
        # More runs than either default limit used to differ by (the CLI's 20, the API's 50).
        for _ in range(25):
            p = self.world.cli("invoke", "quick")
            self.assertEqual(p.returncode, 0, p.stderr.decode())
        cli = self.world.cli_json("runs")
        api = self.server.get("/runs").json["runs"]
        self.assertEqual(len(cli), 25)
        self.assertEqual(cli, api)
        self.assertEqual(self.world.cli_json("runs", "--job", "quick", "--limit", "3"),
                         self.server.get("/runs?job=quick&limit=3").json["runs"])

    def test_show_json_and_get_run_agree_on_every_field(self):
        # Three slices, one failed item (which, with tolerate=0, fails the run: exit 1).
        p = self.world.cli("invoke", "count")
        self.assertIn(p.returncode, (0, 1), p.stderr.decode())
        run_id = self.world.cli_json("runs", "--job", "count", "--limit", "1")[0]["run_id"]
        api = self.server.get(f"/runs/{run_id}").json
        cli = self.world.cli_json("show", run_id)
        for key, value in api.items():
            self.assertEqual(cli.get(key), value, f"show --json and GET /runs/RUN differ on {key!r}")
        self.assertEqual(cli["slices_done"], 3)
        self.assertEqual(len(cli["slices"]), 3)


if __name__ == "__main__":
    unittest.main()

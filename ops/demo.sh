#!/usr/bin/env bash
# `make run`: validate the bundled schedules, then show when every job fires next.
set -euo pipefail
baton=${1:-.build/debug/baton}
echo "== baton check schedules/"
"$baton" check --schedules schedules
echo
jobs=$("$baton" check --schedules schedules --json | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["jobs"]))')
for job in $jobs; do
  echo "== baton next $job -n 3"
  "$baton" next "$job" --schedules schedules -n 3
  echo
done
echo
echo "== baton invoke nightly-report (a real run: 8 slices, each committed with its cursor)"
mkdir -p var
"$baton" invoke nightly-report --schedules schedules --state sqlite:var/demo.db
echo
echo "== baton runs"
"$baton" runs --state sqlite:var/demo.db --limit 5

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
echo "== a handler slice by hand (what the run engine will chain): handlers/examples/count-to 12"
BATON_CURSOR=5 handlers/examples/count-to 12

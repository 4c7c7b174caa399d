#!/usr/bin/env bash
# `make run`: validate the bundled schedules, show when every job fires next, make
# one real run, then start the daemon with the HTTP API in the foreground: jobs fire
# every few seconds and their slices scroll by; Ctrl-C drains and exits.
set -euo pipefail
baton=${1:-.build/debug/baton}
listen=${BATON_LISTEN:-127.0.0.1:8080}
state=sqlite:var/demo.db
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
"$baton" invoke nightly-report --schedules schedules --state "$state"
echo
echo "== baton runs"
"$baton" runs --state "$state" --limit 5
echo
# A demo secret so the webhook example below works; set your own in real use.
export BATON_WEBHOOK_SECRET=${BATON_WEBHOOK_SECRET:-demo-secret}
cat <<TEXT
== baton run --listen $listen   (the daemon; Ctrl-C drains and exits)
   dashboard:  http://$listen/
   jobs:       $baton jobs --state $state        (in another terminal)
   a webhook:  body='{"from":"demo"}'; ts=\$(date +%s)
               sig=\$(printf '%s.%s' "\$ts" "\$body" | openssl dgst -sha256 -hmac $BATON_WEBHOOK_SECRET | sed 's/^.*= //')
               curl -s -X POST http://$listen/hooks/count-to-100 -H "X-Baton-Timestamp: \$ts" \\
                    -H "X-Baton-Signature: sha256=\$sig" --data "\$body"

TEXT
exec "$baton" run --schedules schedules --state "$state" --listen "$listen"

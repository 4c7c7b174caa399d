#!/usr/bin/env bash
# `make run`: validate the bundled schedules, show when every job fires next, make
# one real run, start the provider sandbox and seed the AI handlers' data, then start
# the daemon with the HTTP API in the foreground: jobs fire every few seconds and
# their slices scroll by; Ctrl-C drains and exits (and stops the sandbox).
set -euo pipefail
baton=${1:-.build/debug/baton}
bin=$(dirname "$baton")
listen=${BATON_LISTEN:-127.0.0.1:8080}
sandbox=${BATON_SANDBOX_LISTEN:-127.0.0.1:9090}
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
# The providers' stand-ins, so the AI handlers (schedules/ai.cron) do real work with no
# API key: deterministic answers with token counts, 20 ms a call.
echo "== baton sandbox --listen $sandbox   (OpenAI, Anthropic, Twilio, Messenger stand-ins)"
"$baton" sandbox --listen "$sandbox" --db sqlite:var/sandbox.db --latency 20ms 2>var/sandbox.log &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://$sandbox/_sandbox/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
export APP_DB=sqlite:var/app.db OPENAI_BASE_URL=http://$sandbox/v1 OPENAI_API_KEY=sandbox-key
export MESSENGER_BASE_URL=http://$sandbox MESSENGER_PAGE_TOKEN=sandbox-page-token
export TWILIO_BASE_URL=http://$sandbox TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef TWILIO_AUTH_TOKEN=sandbox-token
# Demo prices (US dollars per million tokens), so runs show a cost as well as tokens.
export AI_PRICE_IN=${AI_PRICE_IN:-0.15} AI_PRICE_OUT=${AI_PRICE_OUT:-0.60}
if [ ! -f var/app.db ]; then
  echo "== seeding var/app.db: leads and drafts, reports, epics, a message to 300 PSIDs, auto-send drafts"
  "$bin/regenerate-drafts" --seed 200
  "$bin/regenerate-reports" --seed 40
  "$bin/generate-stories" --seed 12
  "$bin/send-batches" --seed 300
  "$bin/auto-send" --seed 60
fi
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

   AI work:    $bin/regenerate-drafts --stats   $bin/regenerate-reports --list   $bin/generate-stories --list
               $baton runs --state $state --job regenerate-reports   (tokens and cost per run)
   Messaging:  $bin/send-batches --stats   $bin/auto-send --stats
               curl -s 'http://$sandbox/_sandbox/deliveries?provider=messenger'

TEXT
"$baton" run --schedules schedules --state "$state" --listen "$listen"

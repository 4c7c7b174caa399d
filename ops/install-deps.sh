#!/usr/bin/env bash
# Installs what baton needs to build, test and run on Debian, skipping what is there.
# Non-interactive; safe to run again (a second run only checks, in well under a second).
#   ops/install-deps.sh          what building and running baton needs
#   ops/install-deps.sh --test   also the outside tools the tests use as judges
set -euo pipefail

# Debian packages: the tz database (cron engine), SQLite (the store; the sqlite3 shell
# is the second process of its tests), libmicrohttpd (the HTTP server), libcrypto
# (HMAC for webhook signatures), Python's venv (test oracles).
packages=(tzdata ca-certificates libsqlite3-dev pkg-config sqlite3 libmicrohttpd-dev libssl-dev python3 python3-venv)
if [ "${1:-}" = "--test" ]; then
  # openssl (an independent signer), promtool (judges /metrics), headless Chromium
  # (renders the dashboard), wrk (the webhook bench).
  packages+=(openssl prometheus chromium wrk)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A Python from elsewhere (pyenv) with a working venv makes python3-venv unnecessary.
if [ ${#missing[@]} -gt 0 ] && command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do case "$p" in python3|python3-venv) ;; *) filtered+=("$p");; esac; done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null && [ ! -x /opt/swift/usr/bin/swift ]; then
  echo "deps: no Swift toolchain found (swift on PATH or /opt/swift)." >&2
  echo "  hint: install Swift 6 from swift.org and put its usr/bin on PATH" >&2
  exit 1
fi

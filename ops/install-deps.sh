#!/usr/bin/env bash
# Installs what baton needs to build, test and run on Debian, skipping what is there.
# Non-interactive; safe to run again (a second run only checks, in well under a second).
#   ops/install-deps.sh          what building and running baton needs
#   ops/install-deps.sh --test   also the outside tools the tests use as judges
#   ops/install-deps.sh --list [--test]   print the Debian packages it would install, one a line
set -euo pipefail
list=0; test=0
for arg in "$@"; do
  case "$arg" in
    --list) list=1 ;;
    --test) test=1 ;;
    *) echo "install-deps: unknown option $arg (use --test and/or --list)" >&2; exit 2 ;;
  esac
done

# Debian packages: the tz database (cron engine), SQLite (the store; the sqlite3 shell
# is the second process of its tests), libmicrohttpd (the HTTP server), libcrypto
# (HMAC for webhook signatures), libcurl (every outbound HTTP and SMTP call), libpq
# (the PostgreSQL store), Python's venv (test oracles). Every `.apt([...])` provider of Package.swift's system-library
# targets must be listed here: Tests/ops/test_install_deps.py fails `make test` if not.
packages=(tzdata ca-certificates curl pkg-config sqlite3 python3 python3-venv
          libsqlite3-dev libmicrohttpd-dev libssl-dev libcurl4-openssl-dev libpq-dev)
if [ "$test" = 1 ]; then
  # openssl (an independent signer), promtool (judges /metrics), headless Chromium
  # (renders the dashboard), wrk (the webhook bench), tmux (a real terminal for
  # invoke's progress bar, read back with capture-pane), the PostgreSQL server (the
  # store suite runs against a private one: ops/test-postgres.sh).
  packages+=(openssl prometheus chromium wrk tmux postgresql)
fi
if [ "$list" = 1 ]; then printf '%s\n' "${packages[@]}"; exit 0; fi

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

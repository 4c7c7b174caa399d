#!/usr/bin/env bash
# A private PostgreSQL server for the tests (`make test`), on loopback only: its own
# data directory, port and socket directory under DIR, nothing of the machine's own
# clusters touched.
#   ops/test-postgres.sh start DIR   initdb in DIR/data, start on 127.0.0.1 at a free port,
#                                    create role and database baton; prints the URL
#   ops/test-postgres.sh stop DIR    stop the server and delete DIR
#   ops/test-postgres.sh halt DIR    stop the server (pg_ctl stop -m fast), keeping DIR
#   ops/test-postgres.sh restart DIR start it again on the same data directory and port
#                                    (the outage tests: Tests/postgres/test_pg_restart.py)
# Run as root, the server runs as the `postgres` user (PostgreSQL refuses root).
# For speed it runs with fsync=off: a test server, thrown away after the run.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: ops/test-postgres.sh start|stop|halt|restart DIR" >&2; exit 2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "test-postgres: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin" >&2
  echo "  hint: run ops/install-deps.sh --test (it installs Debian's postgresql)" >&2
  exit 1
fi
as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_server() {
  as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || { echo "test-postgres: run as root, it needs the postgres user (Debian's postgresql creates it)" >&2; exit 1; }
      chown postgres "$dir"
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_server "$bin/initdb" -D "$dir/data" -U baton --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    start_server "$port"
    as_server "$bin/createdb" -h 127.0.0.1 -p "$port" -U baton baton
    echo "$port" >"$dir/port"
    echo "postgresql://baton@127.0.0.1:$port/baton"
    ;;
  halt)
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  restart)
    start_server "$(cat "$dir/port")"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "test-postgres: unknown command $cmd (start, stop, halt or restart)" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A throwaway PostgreSQL on loopback for the unit tests of `@store` tables (Tests/SluiceStoresTests).
#
#   tools/test_postgres.sh start    installs PostgreSQL if missing (Debian's package), creates a fresh
#                                   cluster in $SLUICE_PG_DIR, starts it on 127.0.0.1:$SLUICE_PG_PORT and
#                                   prints the JDBC URL the tests read from SLUICE_TEST_POSTGRES_URL
#   tools/test_postgres.sh stop     stops it and removes the cluster
#   tools/test_postgres.sh pause    stops the server, keeping its data (a test's "database down")
#   tools/test_postgres.sh resume   starts it again
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user that the
# package creates. Every step is idempotent: `start` replaces a cluster left by an earlier run.
set -euo pipefail

PGDIR=${SLUICE_PG_DIR:-/tmp/sluice-test-postgres}
PORT=${SLUICE_PG_PORT:-55432}
DATABASE=sluice_test
ROLE=sluice

bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$dir" ] || [ ! -x "$dir/pg_ctl" ]; then return 1; fi
    echo "$dir"
}

install_if_missing() {
    bindir >/dev/null && return 0
    echo "test_postgres: installing PostgreSQL (apt-get install postgresql)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bindir >/dev/null || { echo "test_postgres: no pg_ctl after installing postgresql" >&2; exit 1; }
}

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGDIR" --shell /bin/sh postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_ctl_() { as_owner "$(bindir)/pg_ctl" -D "$PGDIR/data" "$@"; }

server_start() {
    pg_ctl_ -w -t 60 -l "$PGDIR/server.log" \
        -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >&2
}

server_stop() {
    [ -d "$PGDIR/data" ] || return 0
    pg_ctl_ -w -t 60 -m fast stop >&2 2>/dev/null || true
}

case "${1:-}" in
start)
    install_if_missing
    server_stop
    rm -rf "$PGDIR"
    mkdir -p "$PGDIR"
    [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --shell /bin/sh postgres; chown postgres "$PGDIR"; }
    as_owner "$(bindir)/initdb" -D "$PGDIR/data" -U "$ROLE" -A trust --no-sync -E UTF8 >/dev/null
    server_start
    as_owner "$(bindir)/createdb" -h 127.0.0.1 -p "$PORT" -U "$ROLE" "$DATABASE"
    echo "jdbc:postgresql://127.0.0.1:$PORT/$DATABASE?user=$ROLE"
    ;;
stop)
    if bindir >/dev/null; then server_stop; fi
    rm -rf "$PGDIR"
    ;;
pause)
    server_stop
    ;;
resume)
    server_start
    ;;
*)
    echo "usage: $0 start|stop|pause|resume" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# The whole suite on SQLite and on PostgreSQL at once, one process each: the two runs share
# nothing (in-memory SQLite; a test database on the server) and each is mostly one core's work,
# so on 2 cores together they take about as long as the slower one alone.
# Usage: scripts/test_both.sh [pytest args …]   (PG_URL names the server; see the Makefile)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
mkdir -p var
log=var/test-postgresql.log
echo "pytest on PostgreSQL runs alongside (its output follows the SQLite run; live in $log)"
CIVICGRID_DATABASE_URL="$PG_URL" "$BIN/pytest" "$@" >"$log" 2>&1 &
pg=$!
echo "== SQLite =="
"$BIN/pytest" "$@"
sqlite_rc=$?
wait "$pg"
pg_rc=$?
echo "== PostgreSQL ($PG_URL) =="
cat "$log"
echo "SQLite: exit $sqlite_rc; PostgreSQL: exit $pg_rc"
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]

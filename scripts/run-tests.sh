#!/usr/bin/env bash
# One command on a fresh machine: install everything, then lint and run the whole test suite
# on SQLite and, at the same time, every test that uses a database again with PostgreSQL
# as its database (a throw-away server the tests start on loopback; GUI tests only where
# the database server is the subject: see tests/conftest.py). Extra arguments go to both
# pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
# The two runs go side by side (each in its own temporary folder): the suite is mostly
# one busy core at a time, and the PostgreSQL run waits on its server much of the time.
runs=$(mktemp -d)
trap 'kill "${pg_pid:-}" 2>/dev/null || true; rm -rf "$runs"' EXIT
# The release packages are built and checked once, in the SQLite run.
MOTCUA_TEST_DB=postgresql MOTCUA_BUILD_PACKAGES= .venv/bin/python -m pytest -q \
  -p no:cacheprovider --basetemp="$runs/postgresql" "$@" >"$runs/postgresql.log" 2>&1 &
pg_pid=$!
echo "== pytest: SQLite (PostgreSQL running alongside) =="
sqlite_rc=0
.venv/bin/python -m pytest -q --basetemp="$runs/sqlite" "$@" || sqlite_rc=$?
pg_rc=0
wait "$pg_pid" || pg_rc=$?
pg_pid=""
echo "== pytest: PostgreSQL =="
cat "$runs/postgresql.log"
echo "SQLite run: exit $sqlite_rc; PostgreSQL run: exit $pg_rc"
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]

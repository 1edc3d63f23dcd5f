#!/usr/bin/env bash
# One command on a fresh machine: install everything, then lint and run the whole test suite
# on SQLite, then every test that uses a database again with PostgreSQL as its database (a
# throw-away server the tests start on loopback; GUI tests only where the database server
# is the subject: see tests/conftest.py). Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
echo "== pytest: SQLite =="
.venv/bin/python -m pytest -q "$@"
echo "== pytest: PostgreSQL =="
# The release packages are built and checked once, in the first run.
MOTCUA_TEST_DB=postgresql MOTCUA_BUILD_PACKAGES= .venv/bin/python -m pytest -q "$@"

#!/usr/bin/env bash
# One command on a fresh machine: install everything, then lint and run the whole test suite
# (SQLite always; PostgreSQL too when a server is available, see tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"

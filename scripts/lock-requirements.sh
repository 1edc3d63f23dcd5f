#!/usr/bin/env bash
# Regenerates packaging/requirements-lock.txt: every distribution the release bundles
# carry (pyproject.toml's runtime requirements, the gateway and postgresql extras, the
# build tools of packaging/requirements-build.txt), pinned with their hashes, for Python
# 3.11 on Linux x86_64 and Windows amd64 (one universal resolution: markers pick pywin32,
# pytwain … per platform). The builds install it with `pip install --require-hashes`.
#
#   bash scripts/lock-requirements.sh              keep the pins, add what changed
#   bash scripts/lock-requirements.sh --upgrade    newest versions pyproject.toml allows
#   bash scripts/lock-requirements.sh --upgrade-package holidays
#
# Uses `uv` from PATH, else installs it into build/lock-tools/ (never into .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv || true)
if [ -z "$UV" ]; then
  if [ ! -x build/lock-tools/bin/uv ]; then
    python3 -m venv build/lock-tools
    build/lock-tools/bin/python -m pip install -q uv
  fi
  UV=build/lock-tools/bin/uv
fi
# the existing lock's versions are kept unless asked to upgrade (uv reads --output-file)
exec "$UV" pip compile pyproject.toml packaging/requirements-build.txt \
  --extra gateway --extra postgresql --universal --python-version 3.11 \
  --generate-hashes --custom-compile-command "bash scripts/lock-requirements.sh" \
  --output-file packaging/requirements-lock.txt "$@"

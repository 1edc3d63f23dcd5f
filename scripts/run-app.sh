#!/usr/bin/env bash
# One command on a fresh machine: install everything, then start the app on its embedded
# SQLite database (data in the user's data directory; first run asks for a technician
# account and the station's agency settings, and loads the sample catalog).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/motcua "$@"

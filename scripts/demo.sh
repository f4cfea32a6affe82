#!/usr/bin/env bash
# Set up (first run) and start the demo: Synapse with synapse-groupreg on
# SQLite at http://127.0.0.1:8008, with a server admin printed.
# Options go to scripts/demo.py (--profile cn|generic, --port, --reset).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"

#!/usr/bin/env bash
# Run the whole test suite: unit tests, then integration tests against real
# Synapse processes on SQLite and, when reachable, PostgreSQL. Extra
# arguments go to pytest (e.g. scripts/test.sh -k audit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"

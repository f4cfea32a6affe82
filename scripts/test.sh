#!/usr/bin/env bash
# Run the whole test suite: unit tests, then integration tests against real
# Synapse processes on SQLite and, when reachable, PostgreSQL. Test files
# run on two processes at once (GROUPREG_TEST_PROCESSES, 0 for one); each
# file's tests stay together on one of them. Extra arguments go to pytest
# (e.g. scripts/test.sh -k audit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
processes="${GROUPREG_TEST_PROCESSES:-2}"
parallel=()
if [ "$processes" != 0 ] && [[ " $* " != *" -n "* ]]; then
    parallel=(-n "$processes" --dist loadscope)
fi
exec .venv/bin/python -m pytest "${parallel[@]}" "$@"

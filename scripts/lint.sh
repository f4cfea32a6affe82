#!/usr/bin/env bash
# ruff, ruff format and mypy --strict over the whole tree.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

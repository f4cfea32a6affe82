#!/usr/bin/env bash
# Set up everything the demo and the tests need on a fresh machine:
# a virtualenv in .venv with the module, Synapse and the test tools, and
# (when run as root on Debian) the chromium package for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,dev]"

# The browser tests drive Debian's chromium (never a downloaded browser);
# a CJK font makes the Chinese in their screenshots readable.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Debian's chromium for the browser tests"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
        || echo "chromium could not be installed: the browser tests will be skipped"
fi
if [ ! -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null 2>&1 \
        || echo "fonts-wqy-zenhei could not be installed: Chinese in screenshots shows as boxes"
fi

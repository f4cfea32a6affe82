#!/usr/bin/env bash
# Set up everything the demo and the tests need on a fresh machine:
# a virtualenv in .venv with the module, Synapse and the test tools, and
# (when run as root on Debian) the packages the tests drive: chromium for
# the browser tests, nginx for the worker-topology tests, docker-compose to
# check the container stack's files.
#
# pip runs only when something it installs from changed: a stamp in .venv
# holds the hash of pyproject.toml and this script, so a second run (every
# `scripts/demo.sh` start) installs nothing. The module is installed in
# editable mode, so changes to its code need no reinstall.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
STAMP=.venv/.groupreg-setup
wanted="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$wanted" ]; then
    echo "setup: .venv is up to date (pyproject.toml unchanged); nothing to install"
else
    if [ ! -x .venv/bin/python ]; then
        "$PYTHON" -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[test,dev]"
    echo "$wanted" > "$STAMP"
fi

# Debian packages (never a downloaded browser or binary): install what is
# missing, once.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# A CJK font makes the Chinese in the browser tests' screenshots readable.
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if ! command -v docker-compose >/dev/null 2>&1 \
    && ! docker compose version >/dev/null 2>&1; then
    missing+=(docker-compose)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "installing Debian packages: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } \
            || echo "could not install ${missing[*]}: the tests that need them will skip (or fail under CI=true)"
    else
        echo "not installed: ${missing[*]} (apt-get as root installs them); the tests that need them skip"
    fi
fi

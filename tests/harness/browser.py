"""Debian's Chromium for the browser tests (never a downloaded browser).

Tests skip with `SKIP_REASON` where /usr/bin/chromium is absent;
scripts/setup.sh installs it (`apt-get install chromium`) where it can.
Screenshots go to tests/artefacts/ (ignored by git).
"""

from __future__ import annotations

from pathlib import Path

from tests.harness.homeserver import REPO

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = REPO / "tests" / "artefacts"
SKIP_REASON = (
    "Debian's chromium is not installed (apt-get install -y chromium; "
    "scripts/setup.sh does it when run as root)"
)
#: As the machine's notes advise: without the background-networking flags
#: Chromium keeps dialling hosts this closed network refuses.
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

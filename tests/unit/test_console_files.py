"""G2, G3: the web console's files hang together without a browser: every
module it imports is served, every text it asks for exists in both
languages, and no script writes HTML from strings (the page's Trusted Types
policy would refuse it, and room names or reports must never run)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from synapse_groupreg.http.base import TEMPLATES
from synapse_groupreg.http.console import STATIC, console_assets

SCRIPTS = sorted(STATIC.glob("console*.js"))
CATALOGUES = sorted(STATIC.glob("console-i18n*.js"))


def _catalogue() -> dict[str, int]:
    """Each key of the text catalogue and how many wordings it has."""
    entries = [
        entry
        for catalogue in CATALOGUES
        for entry in re.findall(
            r'^\s*"?([\w.]+)"?:\s*\[(.*?)\],?$',
            catalogue.read_text(),
            re.MULTILINE | re.DOTALL,
        )
    ]
    return {key: len(re.findall(r'"(?:[^"\\]|\\.)*"', body)) for key, body in entries}


def test_the_page_loads_only_served_files() -> None:
    served = console_assets()
    page = (TEMPLATES / "console.html").read_text()
    linked = re.findall(r'(?:src|href)="\{\{ base \}\}([^"]+)"', page)
    assert linked and all(name in served for name in linked), linked
    for script in SCRIPTS:
        for name in re.findall(r'from "\./([^"]+)"', script.read_text()):
            assert name in served, (script.name, name)


def test_only_console_scripts_and_style_are_served() -> None:
    served = console_assets()
    assert "console.css" in served and "console.js" in served
    assert all(name.startswith("console") for name in served)
    kinds = {body.content_type.split(";")[0] for body in served.values()}
    assert kinds == {"text/javascript", "text/css"}


def test_every_text_exists_in_both_languages() -> None:
    catalogue = _catalogue()
    assert len(catalogue) > 100
    two = {key for key, wordings in catalogue.items() if wordings == 2}
    assert two == set(catalogue), sorted(set(catalogue) - two)
    for script in SCRIPTS:
        text = script.read_text()
        for key in re.findall(r'\bt\("([\w.]+)"', text):
            assert key in catalogue, (script.name, key)
        for group, value in re.findall(r'\bterm\("(\w+)",\s*"(\w+)"\)', text):
            assert f"{group}.{value}" in catalogue, (script.name, group, value)


def test_no_script_writes_html_from_strings() -> None:
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
    )
    for script in SCRIPTS:
        assert not forbidden.search(script.read_text()), script.name


def test_files_stay_small() -> None:
    for path in [*SCRIPTS, STATIC / "console.css", TEMPLATES / "console.html"]:
        assert len(path.read_text().splitlines()) <= 400, path.name


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_scripts_parse() -> None:
    """A syntax error in one module stops the whole console; node's own
    parser finds it without a browser."""
    for script in SCRIPTS:
        done = subprocess.run(
            ["node", "--check", "--input-type=module"],
            input=script.read_text(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, (script.name, done.stderr)

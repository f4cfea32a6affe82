"""G8: the release's version and schema steps, as CHANGELOG.md's version
policy says: one version everywhere, every schema step under exactly one
release, and the package's files named in pyproject.toml."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import tomllib
import yaml

from synapse_groupreg import __version__, compat
from synapse_groupreg.store import MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]


def releases() -> list[tuple[str, str]]:
    """(version, text) of each release in CHANGELOG.md, newest first."""
    text = (ROOT / "CHANGELOG.md").read_text()
    parts = re.split(r"^## (\d+\.\d+\.\d+)\b.*$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def test_one_version_everywhere() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    openapi = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    newest = releases()[0][0]
    assert project["version"] == __version__ == openapi["info"]["version"] == newest


def test_every_schema_step_belongs_to_exactly_one_release() -> None:
    listed: Counter[tuple[str, int]] = Counter()
    for _version, text in releases():
        found = re.search(r"^Schema: (.*?)\.\n\n", text, flags=re.M | re.S)
        assert found is not None, f"release {_version} has no Schema line"
        for step in found.group(1).replace("\n", " ").split(","):
            component, number = step.split()
            listed[(component, int(number))] += 1
    in_code = Counter((m.component, m.version) for m in MIGRATIONS)
    assert listed == in_code


def test_the_newest_release_names_the_synapse_it_was_tested_on() -> None:
    newest = releases()[0][1]
    assert f"tested on {compat.TESTED}" in newest
    assert f"{compat.MINIMUM[0]}.{compat.MINIMUM[1]} or newer" in newest


def test_synapse_is_no_dependency_of_the_package() -> None:
    """Installing the module never changes the operator's Synapse, nor
    brings a second PostgreSQL driver beside Synapse's psycopg2."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!\[ ]", d)[0].lower() for d in project["dependencies"]}
    assert not names & {"matrix-synapse", "psycopg2", "psycopg2-binary"}

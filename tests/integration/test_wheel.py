"""G8: the release as an operator installs it. `python -m build` makes an
sdist and, from it, a wheel; both carry the templates, the console files
and the data tables (and the sdist the example configs and docs). The
wheel goes into a fresh virtualenv holding only a plain Synapse (the
version these tests run on) and its PostgreSQL driver: pip adds the module
and what Synapse lacks, and changes nothing that was there. Synapse started
from that virtualenv, outside the checkout, loads the installed module on
SQLite and on PostgreSQL.

Every package is pinned to the version in the test virtualenv (.venv), so
nothing newer is fetched than what setup already installed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import attrs
import pytest

from synapse_groupreg import __version__
from tests.harness.client import Http
from tests.harness.homeserver import REPO, Homeserver
from tests.integration.groups import ADMIN, CLIENT, ROOM_STATE, new_room, state

#: What the wheel must carry besides the Python modules.
PACKAGE_DATA = (
    "synapse_groupreg/templates/console.html",
    "synapse_groupreg/templates/verify_form.html",
    "synapse_groupreg/templates/verify_open.html",
    "synapse_groupreg/templates/verify_result.html",
    "synapse_groupreg/static/console.js",
    "synapse_groupreg/static/console.css",
    "synapse_groupreg/keywords/data/t2s_chars.tsv",
)
#: And the sdist, beside the package.
SDIST_EXTRA = (
    "CHANGELOG.md",
    "README.md",
    "config/cn.yaml",
    "config/generic.yaml",
    "config/covenant/en/1.0.html",
    "config/keywords/gambling.txt",
    "docs/openapi.yaml",
)


@attrs.frozen
class Release:
    sdist: Path
    wheel: Path
    venv: Path
    #: name -> version in the virtualenv before and after the wheel.
    before: dict[str, str]
    after: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def _installed(python: Path) -> dict[str, str]:
    listing = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(listing)}


def _pip(python: Path, *args: str) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *args],
        check=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    root = tmp_path_factory.mktemp("release")
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [sdist] = dist.glob("*.tar.gz")
    [wheel] = dist.glob("*.whl")

    # Pins: every distribution of the tests' own virtualenv.
    constraints = root / "constraints.txt"
    constraints.write_text(
        "".join(
            f"{d.metadata['Name']}=={d.version}\n"
            for d in metadata.distributions()
            if d.metadata["Name"].lower() not in ("synapse-groupreg", "pip")
        )
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    synapse = metadata.version("matrix-synapse")
    driver = metadata.version("psycopg2-binary")
    _pip(
        python,
        "-c",
        str(constraints),
        f"matrix-synapse=={synapse}",
        f"psycopg2-binary=={driver}",
    )
    before = _installed(python)
    _pip(python, "-c", str(constraints), str(wheel))
    yield Release(sdist, wheel, venv, before, _installed(python))


def test_the_wheel_and_sdist_carry_the_package_data(release: Release) -> None:
    """G8: templates, console files and the Traditional-to-Simplified
    table are in the wheel; the sdist also has the example configs, the
    covenant templates, the keyword samples, the docs and the changelog."""
    with zipfile.ZipFile(release.wheel) as wheel:
        in_wheel = set(wheel.namelist())
    assert set(PACKAGE_DATA) <= in_wheel
    assert f"synapse_groupreg-{__version__}.dist-info/entry_points.txt" in in_wheel
    with tarfile.open(release.sdist) as sdist:
        top = f"synapse_groupreg-{__version__}/"
        in_sdist = {name.removeprefix(top) for name in sdist.getnames()}
    assert set(PACKAGE_DATA) | set(SDIST_EXTRA) <= in_sdist


def test_installing_the_wheel_changes_nothing_synapse_had(release: Release) -> None:
    """G8: pip adds the module and pyahocorasick; every package of the plain
    Synapse keeps its version (Synapse above all), and psycopg2-binary stays
    the only PostgreSQL driver."""
    added = set(release.after) - set(release.before)
    assert added == {"synapse-groupreg", "pyahocorasick"}
    changed = {
        name: (version, release.after[name])
        for name, version in release.before.items()
        if release.after.get(name) != version
    }
    assert changed == {}
    assert release.after["matrix-synapse"] == metadata.version("matrix-synapse")
    assert "psycopg2" not in release.after


def test_the_console_script_is_installed(release: Release) -> None:
    result = subprocess.run(
        [str(release.venv / "bin" / "groupreg"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "login" in result.stdout


class InstalledHomeserver(Homeserver):
    """Synapse from the release's virtualenv, with the installed module:
    started outside the checkout and without it on PYTHONPATH."""

    def __init__(self, release: Release, backend: str) -> None:
        self.release = release
        super().__init__({"profile": "generic"}, backend, name="wheel")

    def command(self) -> list[str]:
        return [
            str(self.release.python),
            "-m",
            "synapse.app.homeserver",
            "-c",
            str(self.config_path),
        ]

    def _env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def installed(release: Release, backend: str) -> Iterator[Homeserver]:
    hs = InstalledHomeserver(release, backend)
    try:
        yield hs.start()
    finally:
        hs.destroy()


async def test_synapse_runs_the_installed_module(
    release: Release, installed: Homeserver
) -> None:
    """G8: the module Synapse loaded is the wheel's (its file is in the
    virtualenv), and it works: a room gets its registration code, the
    console's page and scripts are served, and the keyword filter's
    Traditional-to-Simplified table is loaded (a Traditional spelling hits
    a Simplified keyword)."""
    where = subprocess.run(
        [str(release.python), "-c", "import synapse_groupreg as m; print(m.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=installed.dir,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    ).stdout
    assert where.startswith(str(release.venv)), where
    assert "synapse-groupreg loaded" in installed.log_text()

    user, admin = installed.register(), installed.register(admin=True)
    status, body = await Http(installed, user.access_token).get(f"{CLIENT}/status")
    assert (status, body["version"]) == (200, __version__), body
    room_id = await new_room(installed, user)
    status, registration = await state(installed, user, room_id, ROOM_STATE)
    assert status == 200 and registration["code"].startswith("G"), registration

    console = Http(installed)
    for path in ("console/", "console/console.js", "console/console.css"):
        status, _ = await console.get(f"/_synapse/client/groupreg/{path}")
        assert status == 200, path

    http = Http(installed, admin.access_token)
    status, body = await http.put(
        f"{ADMIN}/keywords/wheel_test",
        {"action": "block", "credit_penalty": 0, "words": ["赌博"]},
    )
    assert status == 200, body
    for _ in range(150):  # the answering process reloads its lists
        status, body = await http.post(f"{ADMIN}/content/test", {"text": "來賭博吧"})
        assert status == 200, body
        if body["hits"]:
            break
        await asyncio.sleep(0.2)
    assert [hit["category"] for hit in body["hits"]] == ["wheel_test"], body

"""G2: the `groupreg` CLI's one output mechanism (tables for people, JSON
for scripts), the parts of an answer that count as failed (exit 3), the
token file's permissions, and that every admin route has a command."""

from __future__ import annotations

import argparse
import stat
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from synapse_groupreg.cli import build_parser, login, main
from synapse_groupreg.cli.output import problems, render_table, width

ROOT = Path(__file__).resolve().parents[2]


def _commands(parser: argparse.ArgumentParser) -> list[argparse.Namespace]:
    """The defaults of every leaf command of the parser."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _commands(sub)
            return found
    return [argparse.Namespace(**parser._defaults)]


def test_every_admin_route_has_a_command() -> None:
    """G2: the CLI covers the whole admin API of docs/openapi.yaml, and its
    commands name only routes that exist there."""
    spec = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("get", "put", "post", "delete")
    }
    covered = {
        route for defaults in _commands(build_parser()) for route in defaults.routes
    }
    assert covered <= documented, covered - documented
    admin = {r for r in documented if r[1].startswith("/admin/")}
    assert admin - covered == set()


def test_every_command_says_which_routes_it_calls() -> None:
    for defaults in _commands(build_parser()):
        assert hasattr(defaults, "routes"), defaults


def test_a_list_answer_is_a_table_with_its_other_fields_above() -> None:
    answer = {
        "rooms": [
            {"code": "G-1", "room_id": "!a:hs", "class": "small", "member_count": 3},
            {"code": "G-2", "room_id": "!b:hs", "class": "大群", "member_count": 40},
        ],
        "next_token": "2",
    }
    text = render_table(answer, ["code", "class", "member_count"])
    lines = text.splitlines()
    assert lines[0].split() == ["CODE", "CLASS", "MEMBER_COUNT"]
    # Columns line up on a terminal, where a CJK character takes two cells.
    assert width(lines[1].split("  ")[0]) == width(lines[2].split("  ")[0])
    assert lines[1].index("small") == lines[2].index("大群")
    assert "--from 2" in text


def test_a_single_object_is_field_value_lines() -> None:
    lines = render_table({"ok": True, "entries": 12, "first_bad": None}).splitlines()
    assert [line.split() for line in lines] == [
        ["ok", "yes"],
        ["entries", "12"],
        ["first_bad", "-"],
    ]
    assert len({line.index(line.split()[1]) for line in lines}) == 1


def test_long_and_nested_values_are_cut_to_fit() -> None:
    text = render_table({"items": [{"a": "x" * 200, "b": {"k": [1, 2]}}]}, ["a", "b"])
    row = text.splitlines()[1]
    assert "…" in row and width(row) < 120
    assert '{"k":[1,2]}' in row


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"results": [{"row": 1, "status": "verified"}]}, []),
        (
            {
                "results": [
                    {"row": 2, "user_id": "@a:hs", "status": "error", "error": "bad"}
                ]
            },
            ["@a:hs: bad"],
        ),
        (
            {"added": 3, "errors": [{"line": 4, "error": "too short"}]},
            ["line 4: too short"],
        ),
        ({"applied": [{"room_id": "!r:hs", "error": "closed"}]}, ["!r:hs: closed"]),
        (
            {"room": {}, "state_updated": False},
            ["the room's org.groupreg.room state could not be updated"],
        ),
        (
            {"sanction_errors": [{"index": 1, "error": "x"}]},
            ['sanction not applied: {"index":1,"error":"x"}'],
        ),
        ({"room": {}, "state_updated": True}, []),
    ],
)
def test_what_counts_as_a_failed_part(
    answer: dict[str, Any], expected: list[str]
) -> None:
    assert problems(answer) == expected


def test_the_credentials_file_is_its_owners_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "conf" / "groupreg" / "credentials.json"
    monkeypatch.setenv("GROUPREG_CREDENTIALS", str(path))
    login.save_credentials({"servers": {"http://x": {"access_token": "t"}}})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert login.stored_login("http://x/") == {"access_token": "t"}


def test_no_token_anywhere_is_a_usage_error_naming_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GROUPREG_CREDENTIALS", str(tmp_path / "none.json"))
    monkeypatch.delenv("GROUPREG_TOKEN", raising=False)
    with pytest.raises(SystemExit) as e:
        main(["--url", "http://127.0.0.1:9", "rooms", "list"])
    assert e.value.code == 2
    assert "groupreg login" in capsys.readouterr().err


def test_the_sso_catcher_takes_the_login_token_from_the_redirect() -> None:
    """`login --sso`: Synapse's SSO redirect comes back to a loopback
    address with ?loginToken=; the catcher answers the browser and hands
    the token over."""
    catcher = login.LoginTokenCatcher()
    got: list[str] = []
    waiting = threading.Thread(target=lambda: got.append(catcher.wait(10)))
    waiting.start()
    with urllib.request.urlopen(catcher.redirect_url + "?loginToken=syl_abc") as r:
        assert r.status == 200
    waiting.join(10)
    assert got == ["syl_abc"]

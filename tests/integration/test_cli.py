"""G2: the `groupreg` CLI as an operator uses it: `login` (password, or a
login token such as SSO hands out) keeping the token in a 0600 file that
later commands use, `logout`; the room registry and class requests; the
network log; tables on request; exit 3 when part of a command failed, 1
with a readable message when the server refused."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.harness.client import Http, run_cli
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import CLIENT, MATRIX, new_room, room_path

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "rooms": {
        "default_class": "standard",
        "classes": {
            "standard": {"member_cap": 6},
            "big": {"member_cap": 50, "create": {"approval": True}},
        },
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    # Login tokens for the token login (what an SSO flow ends with).
    return homeservers(
        CONFIG,
        {"login_via_existing_session": {"enabled": True, "require_ui_auth": False}},
    )


def _json(done: Any) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_login_keeps_a_token_that_later_commands_use(
    hs: Homeserver, tmp_path: Path
) -> None:
    """G2: `login --password-stdin` stores the token in a file only its
    owner reads; `rooms list` then needs no --token; `logout` ends the
    session on the server and forgets it."""
    admin = hs.register(admin=True)
    env = {"GROUPREG_CREDENTIALS": str(tmp_path / "groupreg" / "credentials.json")}
    done = run_cli(
        hs, None, "login", "--user", admin.localpart, "--password-stdin",
        stdin=admin.password + "\n", env=env,
    )  # fmt: skip
    answer = _json(done)
    assert answer["logged_in"] == admin.user_id
    assert admin.password not in done.stdout
    path = Path(env["GROUPREG_CREDENTIALS"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = json.loads(path.read_text())["servers"][hs.base_url]["access_token"]
    assert token not in done.stdout

    assert "rooms" in _json(run_cli(hs, None, "rooms", "list", env=env))
    logged = _json(
        run_cli(hs, None, "logs", "--user", admin.user_id, "--kind", "login", env=env)
    )
    assert any(e["user_agent"] for e in logged["entries"]), logged

    assert _json(run_cli(hs, None, "logout", env=env))["logged_out"] == admin.user_id
    status, _ = await Http(hs, token).get(f"{MATRIX}/account/whoami")
    assert status == 401
    gone = run_cli(hs, None, "rooms", "list", env=env)
    assert gone.returncode == 2 and "groupreg login" in gone.stderr


async def test_login_with_a_login_token(hs: Homeserver, tmp_path: Path) -> None:
    """G2: `login --login-token` (the m.login.token an SSO sign-in gives;
    here made with Synapse's own get_token endpoint)."""
    admin = hs.register(admin=True)
    status, body = await Http(hs, admin.access_token).post(
        "/_matrix/client/v1/login/get_token", {}
    )
    assert status == 200, body
    env = {"GROUPREG_CREDENTIALS": str(tmp_path / "credentials.json")}
    done = run_cli(hs, None, "login", "--login-token", body["login_token"], env=env)
    assert _json(done)["logged_in"] == admin.user_id
    assert "entries" in _json(run_cli(hs, None, "audit", "list", env=env))


async def test_rooms_and_class_requests_from_the_cli(hs: Homeserver) -> None:
    """B2, B4, B6, G2: list, find by code, show, the queue of class moves,
    approve, and the category of a group its creator declares."""
    admin, owner = hs.register(admin=True), hs.register()
    room_id = await new_room(hs, owner, preset="public_chat", name="cli room")
    token = admin.access_token
    listed = _json(run_cli(hs, token, "rooms", "list", "--class", "standard", "--all"))
    [room] = [r for r in listed if r["room_id"] == room_id]
    found = _json(run_cli(hs, token, "rooms", "find", room["code"].lower()))
    assert [r["room_id"] for r in found["rooms"]] == [room_id]
    shown = _json(run_cli(hs, token, "rooms", "show", room_id))
    assert shown["admin_history"][0]["user_id"] == owner.user_id

    status, body = await Http(hs, owner.access_token).post(
        f"{CLIENT}/rooms/{room_path(room_id)}/class", {"class": "big"}
    )
    assert status == 202, body
    request_id = body["request"]["request_id"]
    queue = _json(run_cli(hs, token, "rooms", "requests"))
    assert request_id in [r["request_id"] for r in queue["requests"]]
    approved = _json(
        run_cli(hs, token, "rooms", "approve", str(request_id), "--note", "ok")
    )
    assert (approved["status"], approved["room"]["class"]) == ("approved", "big")

    declared = _json(
        run_cli(hs, owner.access_token, "rooms", "category", room_id, "work")
    )
    assert declared["room"]["category"] == "work"
    refused = run_cli(
        hs, hs.register().access_token, "--table", "rooms", "category", room_id, "work"
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("groupreg: 403"), refused.stderr


async def test_mutes_from_the_cli(hs: Homeserver) -> None:
    """B8, G2: a platform moderator mutes a member and everyone, lifts both,
    and reads the group's whole mute history with who did it."""
    admin, owner, member = hs.register(admin=True), hs.register(), hs.register()
    room_id = await new_room(hs, owner, preset="public_chat")
    joined = await Http(hs, member.access_token).post(
        f"{MATRIX}/join/{room_path(room_id)}", {}
    )
    assert joined[0] == 200, joined
    token = admin.access_token
    muted = _json(
        run_cli(
            hs, token, "rooms", "mute", room_id, member.user_id, "1h", "--reason", "x"
        )
    )
    assert (muted["mute"]["user_id"], muted["mute"]["by"]) == (
        member.user_id,
        "platform",
    )
    everyone = _json(
        run_cli(
            hs, token, "rooms", "mute", room_id, "all", "30m", "--exempt", owner.user_id
        )
    )
    assert everyone["mute"]["exempt"] == [owner.user_id]
    for target in (member.user_id, "all"):
        assert "lifted" in _json(run_cli(hs, token, "rooms", "unmute", room_id, target))
    history = _json(run_cli(hs, token, "rooms", "mutes", room_id))["mutes"]
    assert [(m["all"], m["actor"]) for m in history] == [
        (True, admin.user_id),
        (False, admin.user_id),
    ]
    assert all(m["lifted_by"] == admin.user_id for m in history)
    refused = run_cli(hs, member.access_token, "rooms", "mute", room_id, "all", "1h")
    assert refused.returncode == 1 and "MUTE_NOT_ALLOWED" in refused.stderr, refused


async def test_tables_on_request(hs: Homeserver) -> None:
    """G2: `--table` (the default on a terminal) prints a header and a row
    per room instead of JSON."""
    admin, owner = hs.register(admin=True), hs.register()
    room_id = await new_room(hs, owner)
    done = run_cli(hs, admin.access_token, "--table", "rooms", "list", "--all")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == [
        "CODE",
        "ROOM_ID",
        "CLASS",
        "CATEGORY",
        "STATUS",
        "MEMBER_COUNT",
    ]
    assert any(room_id in row for row in rows)


async def test_a_command_that_failed_in_part_exits_3(
    hs: Homeserver, tmp_path: Path
) -> None:
    """G2: an import whose lines were partly refused prints what it stored
    and exits 3, naming each refused line on stderr."""
    admin = hs.register(admin=True)
    words = tmp_path / "words.txt"
    words.write_text("一二三四\n一二三四\n五六七八\n", encoding="utf-8")
    done = run_cli(
        hs, admin.access_token, "keywords", "import", "cli_test", str(words),
        "--action", "block", "--credit-penalty", "1",
    )  # fmt: skip
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert json.loads(done.stdout)["added"] == 2
    assert "line 2:" in done.stderr

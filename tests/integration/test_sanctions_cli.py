"""G2/D1-D6: the `groupreg` CLI drives sanctions, credit, the blacklist
(with a policy list read from a real policy room) and emergencies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nio
import pytest

from tests.harness.client import clients, run_cli
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic"})


def _cli(hs: Homeserver, token: str, *args: str) -> Any:
    done = run_cli(hs, token, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sanctions_and_credit_from_the_shell(hs: Homeserver) -> None:
    """D3/D5 through the CLI: lower credit, see it, lift it."""
    admin, user = hs.register(admin=True), hs.register()
    token = admin.access_token
    lowered = _cli(
        hs,
        token,
        "sanction",
        "user",
        user.user_id,
        "--action",
        "lower_credit",
        "--amount",
        "7",
        "--reason",
        "广告",
    )
    assert lowered["details"]["credit_after"] == 93
    assert _cli(hs, token, "credit", "show", user.user_id)["score"] == 93
    listed = _cli(hs, token, "sanction", "list", "--target", user.user_id)
    assert [s["sanction_id"] for s in listed] == [lowered["sanction_id"]]
    lifted = _cli(
        hs, token, "sanction", "lift", lowered["sanction_id"], "--reason", "ok"
    )
    assert lifted["status"] == "lifted"
    assert _cli(hs, token, "credit", "show", user.user_id)["score"] == 100
    awarded = _cli(hs, token, "credit", "award", user.user_id, "5", "--reason", "help")
    assert awarded["after"] == 105


async def test_policy_room_import_and_export(hs: Homeserver, tmp_path: Path) -> None:
    """D4: the CLI imports the ban rules of a real policy room (as Draupnir
    keeps them) and exports the blacklist as policy rules to a file."""
    admin = hs.register(admin=True)
    token = admin.access_token
    async with clients(hs, admin) as (client,):
        room = await client.room_create(name="community ban list")
        assert isinstance(room, nio.RoomCreateResponse)
        for key, kind, entity in (
            ("a", "user", "@troll*:*"),
            ("b", "server", "localhost:3"),
        ):
            put = await client.room_put_state(
                room.room_id,
                f"m.policy.rule.{kind}",
                {"entity": entity, "recommendation": "m.ban", "reason": "spam"},
                state_key=f"rule:{key}",
            )
            assert isinstance(put, nio.RoomPutStateResponse), put
    imported = _cli(
        hs,
        token,
        "blacklist",
        "import",
        "--room",
        room.room_id,
        "--source",
        "community",
    )
    assert (imported["added"], imported["renewed"]) == (2, 0)
    assert imported["skipped"] >= 1  # the room's other state events
    entries = _cli(hs, token, "blacklist", "list", "--status", "active")
    assert {e["target"] for e in entries} >= {"@troll*:*", "localhost:3"}
    out = tmp_path / "bans.json"
    written = _cli(hs, token, "blacklist", "export", "-o", str(out))
    assert written["rules"] >= 2
    events = json.loads(out.read_text())
    assert {e["content"]["entity"] for e in events} >= {"@troll*:*", "localhost:3"}
    again = _cli(hs, token, "blacklist", "import", "--file", str(out))
    assert again["added"] == 0
    entry = next(e for e in entries if e["target"] == "localhost:3")
    removed = _cli(hs, token, "blacklist", "remove", entry["entry_id"], "--reason", "x")
    assert removed["status"] == "removed"


def test_emergency_dry_run_from_the_shell(hs: Homeserver) -> None:
    """D6 through the CLI: the default is a dry run."""
    admin = hs.register(admin=True)
    answer = _cli(
        hs,
        admin.access_token,
        "emergency",
        "suspend",
        "--keyword",
        "不存在的词",
        "--duration",
        "1h",
        "--reason",
        "drill",
    )
    assert (answer["dry_run"], answer["rooms"], answer["applied"]) == (True, [], [])


def test_sanctions_and_blacklist_in_the_signed_export(
    hs: Homeserver, tmp_path: Path
) -> None:
    """F3: sanctions and blacklist entries are sections of the signed
    export, and the export still verifies."""
    admin, user = hs.register(admin=True), hs.register()
    token = admin.access_token
    sanction = _cli(
        hs,
        token,
        "sanction",
        "user",
        user.user_id,
        "--action",
        "revoke_creation",
        "--reason",
        "export me",
    )
    entry = _cli(hs, token, "blacklist", "add", "user", "@exported:x", "--reason", "r")
    path = tmp_path / "export.jsonl"
    _cli(hs, token, "export", "--sections", "sanctions,blacklist", "-o", str(path))
    records = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = {(r["type"], r.get("sanction_id") or r.get("entry_id")) for r in records}
    assert ("sanctions", sanction["sanction_id"]) in kinds
    assert ("blacklist", entry["entry_id"]) in kinds
    checked = _cli(hs, token, "export-verify", str(path))
    assert checked["ok"] is True

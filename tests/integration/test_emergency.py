"""Emergency measures on a real homeserver (D6): select groups by keyword,
preview with a dry run, then suspend them all at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients, reason_of
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic"})


async def _preview(http: Http, expected: set[str], **body: Any) -> dict[str, Any]:
    """Dry runs until Synapse's room statistics (which the keyword match
    reads) have caught up with the rooms just made."""
    deadline = time.monotonic() + 30
    while True:
        status, answer = await http.post(f"{ADMIN}/emergency", body)
        assert status == 200, answer
        found = {r["room_id"] for r in answer["rooms"]}
        if expected <= found or time.monotonic() > deadline:
            return dict(answer)
        await asyncio.sleep(0.5)


async def test_keyword_selection_dry_run_then_suspend(hs: Homeserver) -> None:
    """D6: a keyword selects groups by name or topic, through the filter's
    normaliser (Traditional characters, inserted spaces); the dry run lists
    them and changes nothing; the real run suspends each (ROOM_SUSPENDED),
    other groups untouched."""
    admin, owner_user = hs.register(admin=True), hs.register()
    http = Http(hs, admin.access_token)
    async with clients(hs, owner_user) as (owner,):
        rooms = {}
        for key, name, topic in (
            ("traditional", "賭博交流群", None),
            ("spaced", "周末活动", "一起 赌 博 吧"),
            ("innocent", "读书会", "好书分享"),
        ):
            created = await owner.room_create(name=name, topic=topic)
            assert isinstance(created, nio.RoomCreateResponse), created
            rooms[key] = created.room_id
        hit = {rooms["traditional"], rooms["spaced"]}
        body = {
            "action": "suspend_posting",
            "duration": "1h",
            "reason": "清理赌博群组",
            "match": {"keywords": ["赌博"]},
        }
        preview = await _preview(http, hit, **body)
        assert preview["dry_run"] is True and preview["applied"] == []
        assert {r["room_id"] for r in preview["rooms"]} == hit
        assert {r["matched_keyword"] for r in preview["rooms"]} == {"赌博"}
        said = await owner.room_send(
            rooms["traditional"], "m.room.message", {"msgtype": "m.text", "body": "x"}
        )
        assert isinstance(said, nio.RoomSendResponse), "a dry run changes nothing"

        status, done = await http.post(f"{ADMIN}/emergency", {**body, "dry_run": False})
        assert status == 200, done
        assert {a["room_id"] for a in done["applied"]} == hit
        assert all(a["sanction_id"].startswith("S") for a in done["applied"])
        for key in ("traditional", "spaced"):
            refused = await owner.room_send(
                rooms[key], "m.room.message", {"msgtype": "m.text", "body": "x"}
            )
            assert await reason_of(refused) == "ROOM_SUSPENDED", key
        untouched = await owner.room_send(
            rooms["innocent"], "m.room.message", {"msgtype": "m.text", "body": "x"}
        )
        assert isinstance(untouched, nio.RoomSendResponse)
    status, page = await http.get(f"{ADMIN}/audit?action=emergency.")
    assert [e["action"] for e in page["entries"]][-1] == "emergency.apply"


async def test_emergency_input_names_the_field(hs: Homeserver) -> None:
    """D6: bad input is a 400 naming the field; selecting by class needs
    the room registry."""
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    for body, field in (
        ({"action": "close", "reason": "x", "match": {}}, "match"),
        ({"action": "close", "reason": "x"}, "match"),
        ({"action": "delete", "reason": "x", "match": {"keywords": ["a"]}}, "action"),
        (
            {"action": "suspend_posting", "reason": "x", "match": {"keywords": ["a"]}},
            "duration",
        ),
        ({"action": "close", "reason": "x", "match": {"keywords": "a"}}, "keywords"),
        (
            {
                "action": "close",
                "reason": "x",
                "match": {"keywords": ["a"]},
                "dry_run": "no",
            },
            "dry_run",
        ),
    ):
        status, answer = await http.post(f"{ADMIN}/emergency", body)
        assert (status, answer.get("field")) == (400, field), (body, answer)

"""Sanctions with the room registry on a real homeserver: a closed group is
listed as closed and its code named in the statement (D2), emergencies
select by class and category (D6), and room classes gate on credit (D1)."""

from __future__ import annotations

from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients, reason_of
from tests.harness.homeserver import Homeserver, User
from tests.harness.notices import dm_notices
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"
CLIENT = "/_synapse/client/groupreg/v1"

CONFIG = {
    "profile": "generic",
    "rooms": {
        "default_class": "medium",
        "classes": {
            "small": {
                "member_cap": 40,
                "create": {"min_credit": 90},
                "categories": ["work", "interest"],
            },
            "medium": {"member_cap": 200, "categories": ["work", "interest"]},
        },
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(CONFIG)


async def _group(hs: Homeserver, user: User, room_class: str, category: str) -> str:
    status, body = await Http(hs, user.access_token).post(
        "/_matrix/client/v3/createRoom",
        {
            "name": f"{room_class}-{category}",
            "preset": "public_chat",
            "org.groupreg.class": room_class,
            "org.groupreg.category": category,
        },
    )
    assert status == 200, body
    return str(body["room_id"])


async def test_closing_lists_the_group_closed_and_names_its_code(
    hs: Homeserver,
) -> None:
    """D2 close + B4: the registry lists the group closed (its code
    retired), and the statement names the registration code."""
    admin, creator = hs.register(admin=True), hs.register()
    room_id = await _group(hs, creator, "small", "work")
    http = Http(hs, admin.access_token)
    status, before = await http.get(f"{ADMIN}/rooms/{room_id}")
    assert status == 200, before
    code = before["code"]
    assert before["status"] == "active" and code
    status, sanction = await http.post(
        f"{ADMIN}/rooms/{room_id}/sanctions", {"action": "close", "reason": "违法"}
    )
    assert status == 200, sanction
    status, after = await http.get(f"{ADMIN}/rooms/{room_id}")
    assert after["status"] == "closed", after
    async with clients(hs, creator) as (client,):
        statement = await dm_notices(hs, client, sanction["sanction_id"])
        assert any(code in n for n in statement), statement


async def test_emergency_by_class_and_category(hs: Homeserver) -> None:
    """D6: select by class and category; a dry run lists, the real run
    suspends only those."""
    admin, owner_user = hs.register(admin=True), hs.register()
    hit = await _group(hs, owner_user, "small", "interest")
    other_category = await _group(hs, owner_user, "small", "work")
    other_class = await _group(hs, owner_user, "medium", "interest")
    http = Http(hs, admin.access_token)
    body: dict[str, Any] = {
        "action": "suspend_posting",
        "duration": "1h",
        "reason": "专项整治",
        "match": {"class": "small", "category": "interest"},
    }
    status, preview = await http.post(f"{ADMIN}/emergency", body)
    assert status == 200, preview
    selected = {r["room_id"] for r in preview["rooms"]}
    assert hit in selected and not {other_category, other_class} & selected
    assert all(r["class"] == "small" and r["code"] for r in preview["rooms"])
    status, done = await http.post(f"{ADMIN}/emergency", {**body, "dry_run": False})
    assert status == 200, done
    async with clients(hs, owner_user) as (client,):
        for room_id, suspended in (
            (hit, True),
            (other_category, False),
            (other_class, False),
        ):
            answer = await client.room_send(
                room_id, "m.room.message", {"msgtype": "m.text", "body": "x"}
            )
            if suspended:
                assert await reason_of(answer) == "ROOM_SUSPENDED"
            else:
                assert isinstance(answer, nio.RoomSendResponse), answer
    status, unknown = await http.post(
        f"{ADMIN}/emergency", {**body, "match": {"class": "galactic"}}
    )
    assert (status, unknown["field"]) == (400, "class")


async def test_room_classes_gate_on_credit(hs: Homeserver) -> None:
    """D1 + B1: a class's min_credit reads the user's current score."""
    admin, user = hs.register(admin=True), hs.register()
    status, sanction = await Http(hs, admin.access_token).post(
        f"{ADMIN}/users/{user.user_id}/sanctions",
        {"action": "lower_credit", "amount": 15, "reason": "广告"},
    )
    assert status == 200, sanction
    status, body = await Http(hs, user.access_token).post(
        "/_matrix/client/v3/createRoom",
        {"name": "x", "org.groupreg.class": "small", "org.groupreg.category": "work"},
    )
    assert (status, body.get("org.groupreg.reason")) == (403, "CLASS_NOT_QUALIFIED")
    await _group(hs, user, "medium", "work")

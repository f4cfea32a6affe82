"""Accountability (B5) and moving a room between classes (B2) in a real
Synapse."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from tests.harness.client import Http
from tests.harness.homeserver import Homeserver, User
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import (
    ADMIN,
    CLIENT,
    ROOM_STATE,
    join,
    new_room,
    put_state,
    reason,
    room_path,
    state,
)

T = TypeVar("T")

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "rooms": {
        "default_class": "standard",
        "classes": {
            "standard": {"member_cap": 6},
            "tiny": {"member_cap": 3},
            "big": {"member_cap": 50, "create": {"approval": True}},
        },
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(CONFIG)


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 15
) -> T:
    """Poll `probe` until `done` holds: the module records roles after the
    event is stored, in the background."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def set_levels(
    hs: Homeserver, owner: User, room_id: str, users: dict[str, int]
) -> None:
    status, levels = await state(hs, owner, room_id, "m.room.power_levels")
    assert status == 200
    levels["users"] = users
    status, body = await put_state(hs, owner, room_id, "m.room.power_levels", levels)
    assert status == 200, body


async def test_creators_and_admins_over_time(hs: Homeserver) -> None:
    """B5: the creator and every admin (power >= 50) are recorded from the
    room's events; the API answers who was responsible at a given moment,
    with role labels; each change is in the audit log."""
    owner, first, second = hs.register(), hs.register(), hs.register()
    admin = hs.register(admin=True)
    room_id = await new_room(hs, owner, preset="public_chat")
    for user in (first, second):
        assert (await join(hs, user, room_id))[0] == 200
    await set_levels(hs, owner, room_id, {first.user_id: 50})
    await set_levels(hs, owner, room_id, {first.user_id: 0, second.user_id: 75})

    http = Http(hs, admin.access_token)
    path = f"{ADMIN}/rooms/{room_path(room_id)}"

    async def history() -> list[dict[str, Any]]:
        status, detail = await http.get(path)
        assert status == 200, detail
        return list(detail["admin_history"])

    rows = await eventually(history, lambda rows: len(rows) == 3)
    by_user = {(r["user_id"], r["role"]): r for r in rows}
    creator = by_user[(owner.user_id, "creator")]
    assert creator["power_level"] is None  # v12: a creator's power has no number
    was_admin = by_user[(first.user_id, "admin")]
    is_admin = by_user[(second.user_id, "admin")]
    assert (was_admin["power_level"], is_admin["power_level"]) == (50, 75)
    assert was_admin["until_ts"] == is_admin["since_ts"]
    assert is_admin["until_ts"] is None

    async def responsible(at: int, token: str) -> dict[str, Any]:
        status, info = await Http(hs, token).get(
            f"{CLIENT}/rooms/{room_path(room_id)}?at={at}"
        )
        assert status == 200, info
        return dict(info)

    then = await responsible(was_admin["since_ts"], first.access_token)
    assert [(a["user_id"], a["role"]) for a in then["admins"]] == [
        (owner.user_id, "creator"),
        (first.user_id, "admin"),
    ]
    assert then["your_role"] == "admin"
    now = await responsible(is_admin["since_ts"], first.access_token)
    assert {a["user_id"] for a in now["admins"]} == {owner.user_id, second.user_id}
    assert now["your_role"] == "member"
    before = await responsible(creator["since_ts"] - 1, owner.access_token)
    assert before["admins"] == [] and before["your_role"] == "member"

    status, page = await http.get(f"{ADMIN}/audit?action=room.&target={room_id}")
    assert status == 200
    actions = [(e["action"], e["details"].get("user_id")) for e in page["entries"]]
    assert ("room.role_granted", owner.user_id) in actions
    assert ("room.role_granted", first.user_id) in actions
    assert ("room.role_revoked", first.user_id) in actions
    assert ("room.role_granted", second.user_id) in actions
    assert all(e["actor"] == owner.user_id for e in page["entries"])


async def test_older_room_versions_record_the_creator_as_admin_too(
    hs: Homeserver,
) -> None:
    """B5: before v12 the creator's power is an ordinary level (100): they
    are both creator and admin, and lose the admin role if demoted."""
    owner, admin = hs.register(), hs.register(admin=True)
    room_id = await new_room(hs, owner, room_version="11")
    http = Http(hs, admin.access_token)

    async def roles() -> set[tuple[str, int | None]]:
        status, detail = await http.get(f"{ADMIN}/rooms/{room_path(room_id)}")
        assert status == 200
        return {(r["role"], r["power_level"]) for r in detail["admin_history"]}

    found = await eventually(roles, lambda r: len(r) == 2)
    assert found == {("creator", None), ("admin", 100)}


async def test_v12_additional_creators_are_creators(hs: Homeserver) -> None:
    """B5: in room version 12, `additional_creators` hold unlimited power
    like the creator; they are recorded as creators."""
    owner, partner = hs.register(), hs.register()
    admin = hs.register(admin=True)
    room_id = await new_room(
        hs, owner, creation_content={"additional_creators": [partner.user_id]}
    )
    http = Http(hs, admin.access_token)

    async def creators() -> set[str]:
        status, detail = await http.get(f"{ADMIN}/rooms/{room_path(room_id)}")
        assert status == 200
        return {r["user_id"] for r in detail["admin_history"] if r["role"] == "creator"}

    found = await eventually(creators, lambda c: len(c) == 2)
    assert found == {owner.user_id, partner.user_id}
    status, detail = await http.get(f"{ADMIN}/rooms/{room_path(room_id)}")
    assert (status, detail["creator"]) == (200, owner.user_id)


async def test_moving_a_room_between_classes(hs: Homeserver) -> None:
    """B2: the creator moves a room; the room must fit the class; a class
    that needs approval queues the move for a server admin, who approves
    or rejects it; the registration state follows."""
    owner, member = hs.register(), hs.register()
    admin = hs.register(admin=True)
    room_id = await new_room(hs, owner, preset="public_chat")
    for user in (member, hs.register(), hs.register()):
        assert (await join(hs, user, room_id))[0] == 200
    move = f"{CLIENT}/rooms/{room_path(room_id)}/class"
    owner_http = Http(hs, owner.access_token)

    status, body = await owner_http.post(move, {"class": "tiny"})
    assert (status, reason(body)) == (403, "CLASS_NOT_QUALIFIED")
    assert "4 members" in body["error"] and "at most 3" in body["error"]
    status, body = await Http(hs, member.access_token).post(move, {"class": "big"})
    assert status == 403 and reason(body) is None
    status, body = await owner_http.post(move, {"class": "huge"})
    assert (status, body["field"], reason(body)) == (400, "class", "CLASS_UNKNOWN")
    status, body = await owner_http.post(move, {"class": "standard"})
    assert (status, body["field"]) == (400, "class")

    status, body = await owner_http.post(move, {"class": "big"})
    assert status == 202 and body["status"] == "pending", body
    first_request = body["request"]["request_id"]
    admin_http = Http(hs, admin.access_token)
    status, queue = await admin_http.get(f"{ADMIN}/class-requests")
    assert first_request in [r["request_id"] for r in queue["requests"]]
    status, body = await admin_http.post(
        f"{ADMIN}/class-requests/{first_request}",
        {"decision": "reject", "note": "not yet"},
    )
    assert (status, body["status"]) == (200, "rejected")
    status, body = await admin_http.post(
        f"{ADMIN}/class-requests/{first_request}", {"decision": "approve"}
    )
    assert status == 409

    status, body = await owner_http.post(move, {"class": "big", "category": "work"})
    assert status == 202
    status, body = await admin_http.post(
        f"{ADMIN}/class-requests/{body['request']['request_id']}",
        {"decision": "approve", "note": "a real community"},
    )
    assert (status, body["status"], body["state_updated"]) == (200, "approved", True)
    status, content = await state(hs, owner, room_id, ROOM_STATE)
    assert (content["class"], content["category"]) == ("big", "work")
    # The new cap holds at once (the cached registry was invalidated).
    for _ in range(3):
        assert (await join(hs, hs.register(), room_id))[0] == 200

    status, page = await admin_http.get(
        f"{ADMIN}/audit?action=room.class_changed&target={room_id}"
    )
    assert [e["details"]["to"] for e in page["entries"]] == ["big"]


async def test_a_room_that_fits_moves_at_once(hs: Homeserver) -> None:
    """B2: a move into a class without approval happens at once, and the
    smaller cap applies to the next join."""
    owner = hs.register()
    room_id = await new_room(hs, owner, preset="public_chat")
    assert (await join(hs, hs.register(), room_id))[0] == 200
    status, body = await Http(hs, owner.access_token).post(
        f"{CLIENT}/rooms/{room_path(room_id)}/class", {"class": "tiny"}
    )
    assert (status, body["status"]) == (200, "moved"), body
    status, content = await state(hs, owner, room_id, ROOM_STATE)
    assert content["class"] == "tiny"
    assert (await join(hs, hs.register(), room_id))[0] == 200
    status, body = await join(hs, hs.register(), room_id)
    assert (status, reason(body)) == (403, "ROOM_FULL")


async def test_an_upgraded_room_keeps_its_registration(hs: Homeserver) -> None:
    """B4: a room upgrade makes a new room without our state; the group
    moves there with its code, class and creator, the old room is marked
    upgraded, and the class's cap holds in the new room."""
    owner, admin = hs.register(), hs.register(admin=True)
    room_id = await new_room(hs, owner, org_groupreg_class="tiny", preset="public_chat")
    status, registration = await state(hs, owner, room_id, ROOM_STATE)
    status, body = await Http(hs, owner.access_token).post(
        f"/_matrix/client/v3/rooms/{room_path(room_id)}/upgrade",
        {"new_version": "12"},
    )
    assert status == 200, body
    new_room_id = body["replacement_room"]

    async def carried() -> Any:
        return (await state(hs, owner, new_room_id, ROOM_STATE))[1]

    content = await eventually(carried, lambda c: c == registration)
    assert content == registration
    http = Http(hs, admin.access_token)
    status, found = await http.get(f"{ADMIN}/rooms?code={registration['code']}")
    assert [r["room_id"] for r in found["rooms"]] == [new_room_id]
    status, old = await http.get(f"{ADMIN}/rooms/{room_path(room_id)}")
    assert (old["status"], old["replaced_by"], old["code"]) == (
        "upgraded",
        new_room_id,
        None,
    )
    for _ in range(2):
        assert (await join(hs, hs.register(), new_room_id))[0] == 200
    status, body = await join(hs, hs.register(), new_room_id)
    assert (status, reason(body)) == (403, "ROOM_FULL")


async def _registry(hs: Homeserver, admin: User, room_id: str) -> dict[str, Any]:
    status, body = await Http(hs, admin.access_token).get(
        f"{ADMIN}/rooms/{room_path(room_id)}"
    )
    assert status == 200, body
    return dict(body)


async def test_a_suspended_admin_can_neither_move_nor_recategorise(
    hs: Homeserver,
) -> None:
    """D3: under suspend_admin the creator's class move and category change
    through the client API are refused (ADMIN_SUSPENDED) and change
    nothing; a server admin's move of that room still publishes its state,
    which then matches the registry (B4)."""
    owner, admin = hs.register(), hs.register(admin=True)
    room_id = await new_room(hs, owner, preset="public_chat")
    status, body = await Http(hs, admin.access_token).post(
        f"{ADMIN}/users/{owner.user_id}/sanctions",
        {"action": "suspend_admin", "duration": "1h", "reason": "test"},
    )
    assert status == 200, body
    owner_http = Http(hs, owner.access_token)
    for method, path, payload in (
        ("POST", "class", {"class": "big"}),
        ("POST", "class", {"class": "tiny"}),
        ("PUT", "category", {"category": "work"}),
    ):
        status, body = await owner_http.request(
            method, f"{CLIENT}/rooms/{room_path(room_id)}/{path}", payload
        )
        assert (status, reason(body)) == (403, "ADMIN_SUSPENDED"), body
    before = await _registry(hs, admin, room_id)
    assert before["class"] == "standard"
    status, queue = await Http(hs, admin.access_token).get(f"{ADMIN}/class-requests")
    assert room_id not in [r["room_id"] for r in queue["requests"]]

    status, body = await Http(hs, admin.access_token).post(
        f"{ADMIN}/rooms/{room_path(room_id)}/class", {"class": "tiny"}
    )
    assert (status, body["state_updated"]) == (200, True), body
    status, content = await state(hs, owner, room_id, ROOM_STATE)
    assert content["class"] == (await _registry(hs, admin, room_id))["class"]
    assert content["class"] == "tiny"


async def test_a_move_nobody_can_publish_changes_nothing(hs: Homeserver) -> None:
    """B2, B4: when no member left can send `org.groupreg.room`, a move is
    refused (ROOM_STATE_UNWRITABLE) and the registry stays as it was, in
    step with the room's state."""
    owner, member, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id = await new_room(hs, owner, preset="public_chat", room_version="10")
    assert (await join(hs, member, room_id))[0] == 200
    status, _ = await Http(hs, owner.access_token).post(
        f"/_matrix/client/v3/rooms/{room_path(room_id)}/leave", {}
    )
    assert status == 200
    status, body = await Http(hs, admin.access_token).post(
        f"{ADMIN}/rooms/{room_path(room_id)}/class", {"class": "tiny"}
    )
    assert (status, reason(body)) == (403, "ROOM_STATE_UNWRITABLE"), body
    assert (await _registry(hs, admin, room_id))["class"] == "standard"
    status, content = await state(hs, member, room_id, ROOM_STATE)
    assert content["class"] == "standard"

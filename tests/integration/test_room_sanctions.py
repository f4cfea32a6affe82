"""Room sanctions on a real homeserver (D2, D5): warn, suspend_posting with
its expiry and early lifting, close; each seen from a matrix-nio client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients, error_body, reason_of
from tests.harness.homeserver import Homeserver, User
from tests.harness.notices import bot_of, dm_notices, notices_in
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"
CLIENT = "/_synapse/client/groupreg/v1"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic", "sanctions": {"expiry_sweep": "1s"}})


async def _room(
    hs: Homeserver, creator: User, *members: User, public: bool = True
) -> str:
    """A group created by `creator` with `members` joined."""
    async with clients(hs, creator, *members) as (owner, *others):
        created = await owner.room_create(
            name="讨论组",
            preset=nio.RoomPreset.public_chat
            if public
            else nio.RoomPreset.private_chat,
            invite=[m.user_id for m in members] if not public else [],
        )
        assert isinstance(created, nio.RoomCreateResponse), created
        for other in others:
            joined = await other.join(created.room_id)
            assert isinstance(joined, nio.JoinResponse), joined
        return str(created.room_id)


async def _say(client: nio.AsyncClient, room_id: str, text: str) -> Any:
    return await client.room_send(
        room_id, "m.room.message", {"msgtype": "m.text", "body": text}
    )


async def _sanction(
    hs: Homeserver, admin: User, room_id: str, **body: Any
) -> dict[str, Any]:
    status, answer = await Http(hs, admin.access_token).post(
        f"{ADMIN}/rooms/{room_id}/sanctions", body
    )
    assert status == 200, answer
    return dict(answer)


async def test_warn_posts_in_the_room_and_tells_the_creator(hs: Homeserver) -> None:
    """D2 warn: the notice bot posts the warning with its rectification
    deadline in the room; D5: the creator's DM gets the statement."""
    admin, creator, member = hs.register(admin=True), hs.register(), hs.register()
    room_id = await _room(hs, creator, member, public=False)
    sanction = await _sanction(
        hs,
        admin,
        room_id,
        action="warn",
        reason="群内传播未经证实的消息",
        deadline="3d",
    )
    assert sanction["sanction_id"].startswith("S")
    assert sanction["deadline_ts"] - sanction["created_ts"] == 3 * 86_400_000
    assert sanction["details"]["room_notice"].startswith("$")
    assert sanction["affected"] == [creator.user_id]
    async with clients(hs, member, creator) as (reader, owner):
        in_room = await notices_in(reader, room_id, bot_of(hs))
        assert any(sanction["sanction_id"] in n and "rectify" in n for n in in_room)
        statement = await dm_notices(hs, owner, sanction["sanction_id"])
        text = next(n for n in statement if sanction["sanction_id"] in n)
        for fact in (
            "warning",
            "群内传播未经证实的消息",
            "Rectify by",
            "Appeal",
            "administrator",
        ):
            assert fact in text, (fact, text)
        # Members can still talk after a warning.
        assert isinstance(await _say(reader, room_id, "ok"), nio.RoomSendResponse)


async def _until_allowed(
    client: nio.AsyncClient, room_id: str, timeout: float = 30
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = await _say(client, room_id, "back again")
        if isinstance(sent, nio.RoomSendResponse):
            return sent
        assert await reason_of(sent) == "ROOM_SUSPENDED"
        await asyncio.sleep(0.5)
    raise AssertionError("the suspension did not lift itself")


async def test_suspend_posting_refuses_then_lifts_itself(hs: Homeserver) -> None:
    """D2 suspend_posting: every event but leaving is refused with
    ROOM_SUSPENDED and a message naming the end; at expiry it lifts itself,
    and the statement and its end reach the creator's DMs (D5)."""
    admin, creator, member, leaver = (
        hs.register(admin=True),
        hs.register(),
        hs.register(),
        hs.register(),
    )
    room_id = await _room(hs, creator, member, leaver)
    sanction = await _sanction(
        hs, admin, room_id, action="suspend_posting", duration="3s", reason="刷屏"
    )
    assert sanction["status"] == "active"
    assert sanction["expires_ts"] - sanction["created_ts"] == 3000
    async with clients(hs, member, creator, leaver) as (talker, owner, goer):
        refused = await _say(talker, room_id, "hello?")
        assert await reason_of(refused) == "ROOM_SUSPENDED"
        assert "suspended until" in (await error_body(refused))["error"]
        topic = await owner.room_put_state(room_id, "m.room.topic", {"topic": "x"})
        assert await reason_of(topic) == "ROOM_SUSPENDED"
        left = await goer.room_leave(room_id)
        assert isinstance(left, nio.RoomLeaveResponse), left
        await _until_allowed(talker, room_id)
        statement = await dm_notices(hs, owner, "has expired")
        assert any("suspension of posting" in n for n in statement)


async def test_lifting_a_suspension_early(hs: Homeserver) -> None:
    """D5: DELETE /sanctions/{id} lifts a suspension at once; the lift is
    audited and stated to the affected."""
    admin, creator = hs.register(admin=True), hs.register()
    room_id = await _room(hs, creator)
    http = Http(hs, admin.access_token)
    sanction = await _sanction(
        hs, admin, room_id, action="suspend_posting", duration="1h", reason="spam"
    )
    sid = sanction["sanction_id"]
    async with clients(hs, creator) as (owner,):
        assert await reason_of(await _say(owner, room_id, "x")) == "ROOM_SUSPENDED"
        status, lifted = await http.delete(f"{ADMIN}/sanctions/{sid}?reason=rectified")
        assert status == 200, lifted
        assert (lifted["status"], lifted["lift_reason"]) == ("lifted", "rectified")
        assert isinstance(await _say(owner, room_id, "x"), nio.RoomSendResponse)
        await dm_notices(hs, owner, "was lifted")
    status, again = await http.delete(f"{ADMIN}/sanctions/{sid}")
    assert (status, again["field"]) == (400, "sanction_id")
    status, page = await http.get(f"{ADMIN}/audit?target={room_id}")
    actions = [e["action"] for e in page["entries"]]
    assert actions[-2:] == ["sanction.suspend_posting", "sanction.lift"]


async def test_close_removes_members_keeps_history_refuses_joins(
    hs: Homeserver,
) -> None:
    """D2 close: members removed, joins and events refused with ROOM_CLOSED,
    history kept for inspection, the closure cannot be lifted."""
    admin, creator, member, outsider = (
        hs.register(admin=True),
        hs.register(),
        hs.register(),
        hs.register(),
    )
    room_id = await _room(hs, creator, member)
    async with clients(hs, creator, member, outsider) as (owner, talker, stranger):
        assert isinstance(await _say(talker, room_id, "证据消息"), nio.RoomSendResponse)
        sanction = await _sanction(
            hs, admin, room_id, action="close", reason="组织赌博"
        )
        assert sorted(sanction["details"]["members_removed"]) == sorted(
            [creator.user_id, member.user_id, bot_of(hs)]
        )
        for client in (owner, talker):
            rooms = await client.joined_rooms()
            assert isinstance(rooms, nio.JoinedRoomsResponse)
            assert room_id not in rooms.rooms
        for client in (talker, stranger):
            refused = await client.join(room_id)
            assert await reason_of(refused) == "ROOM_CLOSED", refused
        await dm_notices(hs, owner, "closure of the group")
    http = Http(hs, admin.access_token)
    status, history = await http.get(
        f"/_synapse/admin/v1/rooms/{room_id}/messages?dir=b&limit=50"
    )
    assert status == 200, history
    bodies = [e["content"].get("body") for e in history["chunk"]]
    assert "证据消息" in bodies
    status, refused = await http.delete(f"{ADMIN}/sanctions/{sanction['sanction_id']}")
    assert (status, refused["field"]) == (400, "sanction_id")
    status, listed = await http.get(f"{ADMIN}/rooms/{room_id}/sanctions?status=active")
    assert [s["action"] for s in listed["sanctions"]] == ["close"]
    status, again = await http.post(
        f"{ADMIN}/rooms/{room_id}/sanctions", {"action": "close", "reason": "again"}
    )
    assert (status, again["field"]) == (400, "action")


async def test_bad_sanction_requests_name_the_field(hs: Homeserver) -> None:
    """Every bad input is a 400 naming the field."""
    admin, creator = hs.register(admin=True), hs.register()
    room_id = await _room(hs, creator)
    http = Http(hs, admin.access_token)
    cases: list[tuple[str, dict[str, Any], str]] = [
        (room_id, {"action": "explode", "reason": "x"}, "action"),
        (room_id, {"action": "suspend_posting", "reason": "x"}, "duration"),
        (
            room_id,
            {"action": "suspend_posting", "reason": "x", "duration": "soon"},
            "duration",
        ),
        (room_id, {"action": "warn"}, "reason"),
        (room_id, {"action": "warn", "reason": "x", "evidence": [1]}, "evidence"),
        ("!nope:" + hs.server_name, {"action": "warn", "reason": "x"}, "room_id"),
    ]
    for target, body, field in cases:
        status, answer = await http.post(f"{ADMIN}/rooms/{target}/sanctions", body)
        assert (status, answer.get("field")) == (400, field), (body, answer)
    status, answer = await http.delete(f"{ADMIN}/sanctions/nonsense")
    assert (status, answer["field"]) == (400, "sanction_id")
    status, answer = await http.delete(f"{ADMIN}/sanctions/S999999")
    assert status == 404
    user = hs.register()
    status, answer = await Http(hs, user.access_token).post(
        f"{ADMIN}/rooms/{room_id}/sanctions", {"action": "warn", "reason": "x"}
    )
    assert status == 403

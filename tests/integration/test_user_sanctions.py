"""User sanctions and credit on a real homeserver (D1, D3, D5): a
suspended admin who created a version 12 room, revoked creation, lowered
credit and the bands it crosses; each seen from a matrix-nio client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients, error_body, reason_of
from tests.harness.homeserver import Homeserver, User
from tests.harness.notices import dm_notices
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"
CLIENT = "/_synapse/client/groupreg/v1"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic", "sanctions": {"expiry_sweep": "1s"}})


async def _sanction(
    hs: Homeserver, admin: User, user: User, **body: Any
) -> dict[str, Any]:
    status, answer = await Http(hs, admin.access_token).post(
        f"{ADMIN}/users/{user.user_id}/sanctions", body
    )
    assert status == 200, answer
    return dict(answer)


async def _say(client: nio.AsyncClient, room_id: str, text: str) -> Any:
    return await client.room_send(
        room_id, "m.room.message", {"msgtype": "m.text", "body": text}
    )


async def _group(client: nio.AsyncClient, *others: nio.AsyncClient) -> str:
    created = await client.room_create(name="工作群", preset=nio.RoomPreset.public_chat)
    assert isinstance(created, nio.RoomCreateResponse), created
    for other in others:
        assert isinstance(await other.join(created.room_id), nio.JoinResponse)
    return str(created.room_id)


async def test_suspended_v12_creator_cannot_administer(hs: Homeserver) -> None:
    """D3 suspend_admin: the creator of a version 12 room (infinite power)
    cannot kick, ban, change power levels, rename the room or redact
    others' messages; everyone, the creator included, can still talk; the
    refusal names ADMIN_SUSPENDED with its end; the statement reaches the
    creator's DMs; lifting restores the rights."""
    admin, creator, member, other = (
        hs.register(admin=True),
        hs.register(),
        hs.register(),
        hs.register(),
    )
    async with clients(hs, creator, member, other) as (owner, talker, bystander):
        room_id = await _group(owner, talker, bystander)
        create = await owner.room_get_state_event(room_id, "m.room.create")
        assert create.content["room_version"] == "12"
        said = await _say(talker, room_id, "一条普通消息")
        assert isinstance(said, nio.RoomSendResponse)
        sanction = await _sanction(
            hs,
            admin,
            creator,
            action="suspend_admin",
            duration="1h",
            reason="滥用管理权限",
        )
        attempts = {
            "kick": await owner.room_kick(room_id, member.user_id),
            "ban": await owner.room_ban(room_id, other.user_id),
            "power levels": await owner.room_put_state(
                room_id,
                "m.room.power_levels",
                {"users": {member.user_id: 100}},
            ),
            "name": await owner.room_put_state(
                room_id, "m.room.name", {"name": "新名"}
            ),
            "redact": await owner.room_redact(room_id, said.event_id),
        }
        for what, answer in attempts.items():
            assert await reason_of(answer) == "ADMIN_SUSPENDED", (what, answer)
        assert (
            "admin rights are suspended until"
            in (await error_body(attempts["kick"]))["error"]
        )
        for client in (owner, talker, bystander):
            assert isinstance(
                await _say(client, room_id, "还能聊天"), nio.RoomSendResponse
            )
        mine = await _say(owner, room_id, "my own")
        assert isinstance(
            await owner.room_redact(room_id, mine.event_id), nio.RoomRedactResponse
        )
        group = await owner.room_create(name="新群")
        assert await reason_of(group) == "ADMIN_SUSPENDED"
        statement = await dm_notices(hs, owner, sanction["sanction_id"])
        assert any("suspension of group admin rights" in n for n in statement)

        status, lifted = await Http(hs, admin.access_token).delete(
            f"{ADMIN}/sanctions/{sanction['sanction_id']}", token=None
        )
        assert status == 200, lifted
        renamed = await owner.room_put_state(room_id, "m.room.name", {"name": "新名"})
        assert isinstance(renamed, nio.RoomPutStateResponse), renamed


async def test_suspended_admin_may_still_open_a_direct_chat(hs: Homeserver) -> None:
    """D3: a suspended admin may open a direct chat (they are its creator)
    but cannot grow it into a group."""
    admin, user, friend, third = (
        hs.register(admin=True),
        hs.register(),
        hs.register(),
        hs.register(),
    )
    await _sanction(hs, admin, user, action="suspend_admin", duration="1h", reason="x")
    async with clients(hs, user) as (client,):
        dm = await client.room_create(
            is_direct=True,
            preset=nio.RoomPreset.trusted_private_chat,
            invite=[friend.user_id],
        )
        assert isinstance(dm, nio.RoomCreateResponse), dm
        assert isinstance(await _say(client, dm.room_id, "hi"), nio.RoomSendResponse)
        grown = await client.room_invite(dm.room_id, third.user_id)
        # The room registry's cap on direct chats (two people, B1/B3) may
        # refuse first; either way the chat stays direct.
        assert await reason_of(grown) in ("ADMIN_SUSPENDED", "ROOM_FULL")


async def _until(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.5)
    raise AssertionError("condition not reached")


async def test_admin_suspension_expires(hs: Homeserver) -> None:
    """D3/D5: a suspension for "3s" ends by itself; its end is stated."""
    admin, user, member = hs.register(admin=True), hs.register(), hs.register()
    async with clients(hs, user, member) as (owner, talker):
        room_id = await _group(owner, talker)
        await _sanction(
            hs, admin, user, action="suspend_admin", duration="3s", reason="x"
        )
        topic = await owner.room_put_state(room_id, "m.room.topic", {"topic": "t"})
        assert await reason_of(topic) == "ADMIN_SUSPENDED"

        async def can_set_topic() -> bool:
            answer = await owner.room_put_state(room_id, "m.room.topic", {"topic": "t"})
            return isinstance(answer, nio.RoomPutStateResponse)

        await _until(can_set_topic)
        await dm_notices(hs, owner, "has expired")


async def test_revoke_creation_allows_direct_chats(hs: Homeserver) -> None:
    """D3 revoke_creation: no new groups (CREATION_REVOKED), direct chats
    still allowed; lifting gives the right back."""
    admin, user, friend = hs.register(admin=True), hs.register(), hs.register()
    sanction = await _sanction(
        hs, admin, user, action="revoke_creation", reason="违规建群"
    )
    assert sanction["expires_ts"] is None
    async with clients(hs, user) as (client,):
        refused = await client.room_create(name="又一个群")
        assert await reason_of(refused) == "CREATION_REVOKED"
        assert "revoked" in (await error_body(refused))["error"]
        dm = await client.room_create(
            is_direct=True,
            preset=nio.RoomPreset.trusted_private_chat,
            invite=[friend.user_id],
        )
        assert isinstance(dm, nio.RoomCreateResponse), dm
        await dm_notices(hs, client, "revocation of the right to create groups")
        status, _ = await Http(hs, admin.access_token).delete(
            f"{ADMIN}/sanctions/{sanction['sanction_id']}?reason=ok"
        )
        assert status == 200
        assert isinstance(await client.room_create(name="ok"), nio.RoomCreateResponse)


async def test_lower_credit_crosses_bands_and_is_restored(hs: Homeserver) -> None:
    """D1/D3 lower_credit: the ledger shows delta, reason, actor and
    evidence; a score in the `poor` band cannot create groups, one in the
    `restricted` band cannot post (CREDIT_TOO_LOW); the user sees their own
    score and history; lifting a lower_credit gives the points back."""
    admin, user = hs.register(admin=True), hs.register()
    http = Http(hs, admin.access_token)
    own = Http(hs, user.access_token)
    status, fresh = await own.get(f"{CLIENT}/credit")
    assert (status, fresh["score"], fresh["band"], fresh["history"]) == (
        200,
        100,
        "good",
        [],
    )
    first = await _sanction(
        hs,
        admin,
        user,
        action="lower_credit",
        amount=45,
        reason="多次发布广告",
        evidence={"event_ids": ["$a", "$b"]},
    )
    assert (first["details"]["credit_before"], first["details"]["credit_after"]) == (
        100,
        55,
    )
    async with clients(hs, user) as (client,):
        room = await client.room_create(name="tryout")
        assert await reason_of(room) == "CREDIT_TOO_LOW"
        dm_room = await client.room_create(is_direct=True, invite=[admin.user_id])
        assert isinstance(dm_room, nio.RoomCreateResponse), dm_room
        assert isinstance(
            await _say(client, dm_room.room_id, "ok"), nio.RoomSendResponse
        )
        second = await _sanction(
            hs, admin, user, action="lower_credit", amount=30, reason="再犯"
        )
        refused = await _say(client, dm_room.room_id, "still here?")
        assert await reason_of(refused) == "CREDIT_TOO_LOW"
        assert "25" in (await error_body(refused))["error"]
        await dm_notices(hs, client, "Credit: 55 -> 25")

        status, view = await own.get(f"{CLIENT}/credit")
        assert (view["score"], view["band"]) == (25, "restricted")
        assert view["next_recovery_ts"] is not None
        latest = view["history"][0]
        assert (latest["delta"], latest["reason"], latest["actor"]) == (
            -30,
            "再犯",
            admin.user_id,
        )
        assert view["history"][1]["evidence"]["event_ids"] == ["$a", "$b"]
        status, admin_view = await http.get(f"{ADMIN}/users/{user.user_id}/credit")
        assert admin_view["score"] == 25

        status, lifted = await http.delete(
            f"{ADMIN}/sanctions/{second['sanction_id']}?reason=appeal upheld"
        )
        assert (status, lifted["details"]["lifted"]["credit_after"]) == (200, 55)
        assert isinstance(
            await _say(client, dm_room.room_id, "back"), nio.RoomSendResponse
        )
    status, view = await own.get(f"{CLIENT}/credit")
    assert view["score"] == 55
    status, standing = await own.get(f"{CLIENT}/status")
    assert (standing["credit"], standing["credit_band"]) == (55, "poor")
    assert view["history"][0]["kind"] == "restore"
    status, mine = await own.get(f"{CLIENT}/sanctions")
    assert [s["action"] for s in mine["sanctions"]] == ["lower_credit", "lower_credit"]


async def test_award_and_bad_input(hs: Homeserver) -> None:
    """D1: admins may award points up to the maximum (taking them is a
    sanction); bad input names the field."""
    admin, user = hs.register(admin=True), hs.register()
    http = Http(hs, admin.access_token)
    status, answer = await http.post(
        f"{ADMIN}/users/{user.user_id}/credit", {"amount": 50, "reason": "志愿者"}
    )
    assert (status, answer["after"]) == (200, 120)
    for body, field in (
        ({"action": "lower_credit", "reason": "x"}, "amount"),
        ({"action": "lower_credit", "reason": "x", "amount": 0}, "amount"),
        ({"action": "suspend_admin", "reason": "x"}, "duration"),
        ({"action": "close", "reason": "x"}, "action"),
    ):
        status, answer = await http.post(
            f"{ADMIN}/users/{user.user_id}/sanctions", body
        )
        assert (status, answer.get("field")) == (400, field), (body, answer)
    status, answer = await http.post(
        f"{ADMIN}/users/@ghost:{hs.server_name}/sanctions",
        {"action": "revoke_creation", "reason": "x"},
    )
    assert (status, answer["field"]) == (400, "user_id")

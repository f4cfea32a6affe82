"""The blacklist on a real homeserver (D4): listed users, rooms and
servers; expiry, removal, statements; the policy-list exchange."""

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


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic"})


async def _list(hs: Homeserver, admin: User, **body: Any) -> dict[str, Any]:
    status, answer = await Http(hs, admin.access_token).post(f"{ADMIN}/blacklist", body)
    assert status == 200, answer
    return dict(answer)


async def _say(client: nio.AsyncClient, room_id: str, text: str = "hi") -> Any:
    return await client.room_send(
        room_id, "m.room.message", {"msgtype": "m.text", "body": text}
    )


async def test_a_listed_user_cannot_create_join_invite_or_send(hs: Homeserver) -> None:
    """D4 user: a listed user can't create, join, invite or send
    (BLACKLISTED, naming their account); nobody can invite them; their DM
    has the statement; removing the entry restores everything."""
    admin, bad, friend = hs.register(admin=True), hs.register(), hs.register()
    async with clients(hs, bad, friend) as (listed, other):
        room = await other.room_create(name="公开群", preset=nio.RoomPreset.public_chat)
        assert isinstance(room, nio.RoomCreateResponse)
        own = await listed.room_create(name="我的群")
        assert isinstance(own, nio.RoomCreateResponse)
        entry = await _list(hs, admin, kind="user", target=bad.user_id, reason="诈骗")
        assert (entry["entry_id"][0], entry["status"], entry["created"]) == (
            "B",
            "active",
            True,
        )
        three_years = 3 * 365 * 86_400_000
        assert entry["expires_ts"] - entry["created_ts"] == three_years

        attempts = {
            "send": await _say(listed, own.room_id),
            "create": await listed.room_create(name="x"),
            "join": await listed.join(room.room_id),
            "invite": await listed.room_invite(own.room_id, friend.user_id),
            "be invited": await other.room_invite(room.room_id, bad.user_id),
        }
        for what, answer in attempts.items():
            assert await reason_of(answer) == "BLACKLISTED", (what, answer)
        assert (await error_body(attempts["send"]))["error"] == (
            "Your account is on the blacklist."
        )
        assert "The invited user" in (await error_body(attempts["be invited"]))["error"]
        assert isinstance(await listed.room_leave(own.room_id), nio.RoomLeaveResponse)
        await dm_notices(hs, listed, entry["entry_id"])

        status, removed = await Http(hs, admin.access_token).delete(
            f"{ADMIN}/blacklist/{entry['entry_id']}?reason=mistaken identity"
        )
        assert (status, removed["status"]) == (200, "removed"), removed
        joined = await listed.join(room.room_id)
        assert isinstance(joined, nio.JoinResponse), joined
        assert isinstance(await _say(listed, room.room_id), nio.RoomSendResponse)
        await dm_notices(hs, listed, "was removed")


async def test_an_entry_expires_by_itself(hs: Homeserver) -> None:
    """D4: an entry with expires_in "3s" stops applying on time."""
    admin, user = hs.register(admin=True), hs.register()
    async with clients(hs, user) as (client,):
        room = await client.room_create(name="r")
        assert isinstance(room, nio.RoomCreateResponse)
        await _list(
            hs, admin, kind="user", target=user.user_id, reason="x", expires_in="3s"
        )
        assert await reason_of(await _say(client, room.room_id)) == "BLACKLISTED"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if isinstance(await _say(client, room.room_id), nio.RoomSendResponse):
                break
            await asyncio.sleep(0.5)
        else:
            raise AssertionError("the entry did not expire")


async def test_a_listed_room_cannot_be_joined(hs: Homeserver) -> None:
    """D4 room: nobody joins a listed room, by its id or its alias; its
    creator is told why."""
    admin, owner_user, joiner = hs.register(admin=True), hs.register(), hs.register()
    async with clients(hs, owner_user, joiner) as (owner, guest):
        room = await owner.room_create(
            name="赌场", alias="casino-1", preset=nio.RoomPreset.public_chat
        )
        assert isinstance(room, nio.RoomCreateResponse)
        entry = await _list(hs, admin, kind="room", target=room.room_id, reason="赌博")
        refused = await guest.join(room.room_id)
        assert await reason_of(refused) == "BLACKLISTED"
        assert (await error_body(refused))["error"] == "This group is on the blacklist."
        await dm_notices(hs, owner, entry["entry_id"])
        second = await owner.room_create(
            name="赌场2", alias="casino-2", preset=nio.RoomPreset.public_chat
        )
        assert isinstance(second, nio.RoomCreateResponse)
        await _list(
            hs, admin, kind="room", target=f"#casino-2:{hs.server_name}", reason="x"
        )
        assert await reason_of(await guest.join(second.room_id)) == "BLACKLISTED"


async def test_users_of_a_listed_server_cannot_be_invited(hs: Homeserver) -> None:
    """D4 server: our users cannot invite a listed server's users (a remote
    user's own invites and joins are in test_federation_blacklist). The
    listed server is a closed loopback port, so nothing leaves the host."""
    admin, user = hs.register(admin=True), hs.register()
    await _list(hs, admin, kind="server", target="localhost:1", reason="spam source")
    async with clients(hs, user) as (client,):
        room = await client.room_create(name="r")
        assert isinstance(room, nio.RoomCreateResponse)
        refused = await client.room_invite(room.room_id, "@someone:localhost:1")
        assert await reason_of(refused) == "BLACKLISTED"
        assert (await error_body(refused))["error"] == (
            "The server localhost:1 is on the blacklist."
        )
        create = await client.room_create(name="x", invite=["@a:localhost:1"])
        assert await reason_of(create) == "BLACKLISTED"


async def test_policy_list_exchange(hs: Homeserver) -> None:
    """D4: import a Draupnir/Mjolnir policy list (m.policy.rule.*, m.ban,
    globs) with a result per rule; export the blacklist in the same
    vocabulary; an imported glob takes effect."""
    admin, spammer = hs.register(admin=True), hs.register(localpart="spambot7")
    http = Http(hs, admin.access_token)
    events = [
        {
            "type": "m.policy.rule.user",
            "state_key": "rule:1",
            "content": {
                "entity": "@spambot*:*",
                "recommendation": "m.ban",
                "reason": "bots",
            },
        },
        {
            "type": "m.policy.rule.server",
            "state_key": "rule:2",
            "content": {"entity": "localhost:2", "recommendation": "m.ban"},
        },
        {
            "type": "m.policy.rule.user",
            "state_key": "rule:3",
            "content": {"entity": "@x:y", "recommendation": "org.example.mute"},
        },
    ]
    status, result = await http.post(
        f"{ADMIN}/blacklist/policy",
        {"events": events, "source": "community-bans", "expires_in": "30d"},
    )
    assert status == 200, result
    assert (result["added"], result["renewed"], result["skipped"]) == (2, 0, 1)
    assert [r["outcome"] for r in result["results"]] == ["added", "added", "skipped"]
    status, again = await http.post(
        f"{ADMIN}/blacklist/policy", {"events": events, "expires_in": "20d"}
    )
    assert (again["added"], again["renewed"]) == (0, 2)
    async with clients(hs, spammer) as (client,):
        refused = await client.room_create(name="spam")
        assert await reason_of(refused) == "BLACKLISTED"
    status, exported = await http.get(f"{ADMIN}/blacklist/policy")
    assert status == 200
    entities = {
        (e["type"], e["content"]["entity"], e["content"]["recommendation"])
        for e in exported["events"]
    }
    assert ("m.policy.rule.user", "@spambot*:*", "m.ban") in entities
    assert ("m.policy.rule.server", "localhost:2", "m.ban") in entities
    status, listed = await http.get(f"{ADMIN}/blacklist?kind=server&status=active")
    sources = {e["target"]: e["source"] for e in listed["entries"]}
    assert sources["localhost:2"] == "policy:community-bans"
    status, soon = await http.get(f"{ADMIN}/blacklist?expiring_within=60d")
    assert {e["target"] for e in soon["entries"]} >= {"localhost:2", "@spambot*:*"}


async def test_bad_blacklist_input_names_the_field(hs: Homeserver) -> None:
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    for body, field in (
        ({"kind": "planet", "target": "x", "reason": "r"}, "kind"),
        ({"kind": "user", "target": "bob", "reason": "r"}, "target"),
        ({"kind": "user", "target": "@b:hs"}, "reason"),
        (
            {"kind": "user", "target": "@b:hs", "reason": "r", "expires_in": "ever"},
            "expires_in",
        ),
        ({"kind": "person", "target": "@nobody:hs", "reason": "r"}, "target"),
    ):
        status, answer = await http.post(f"{ADMIN}/blacklist", body)
        assert (status, answer.get("field")) == (400, field), (body, answer)
    status, answer = await http.post(f"{ADMIN}/blacklist/policy", {"events": "x"})
    assert (status, answer["field"]) == (400, "events")
    status, answer = await http.delete(f"{ADMIN}/blacklist/B999999")
    assert status == 404
    status, answer = await http.get(f"{ADMIN}/blacklist/zzz")
    assert (status, answer["field"]) == (400, "entry_id")

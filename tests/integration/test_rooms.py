"""Room classes, caps, registration codes and room info in a real Synapse
(B1-B4, B6, C5), driven as Element would (matrix-nio) and over plain HTTP
where the module's own createRoom fields are needed."""

from __future__ import annotations

from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients, reason_of
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import (
    ADMIN,
    CLIENT,
    ROOM_STATE,
    create_room,
    invite,
    join,
    new_room,
    put_state,
    reason,
    room_path,
    state,
)

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "language": "bilingual",
    "rooms": {
        "default_class": "standard",
        "created_per_user": 4,
        "joined_per_user": 6,
        "info_required_at": 4,
        "classes": {
            "standard": {"member_cap": 6, "categories": ["work", "other"]},
            "tiny": {"member_cap": 3, "created_per_user": 1, "encryption": False},
            "verified": {"member_cap": 10, "join": {"verified_from": 1}},
            "big": {"member_cap": 50, "create": {"approval": True}},
        },
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(CONFIG)


async def test_plain_create_room_gets_the_default_class_and_a_code(
    hs: Homeserver,
) -> None:
    """B2, B4: a room created as Element creates it (no class field) is in
    the default class, with a code in org.groupreg.room from the start."""
    user = hs.register()
    async with clients(hs, user) as (client,):
        created = await client.room_create(name="Plain")
        assert isinstance(created, nio.RoomCreateResponse), created
        got = await client.room_get_state_event(created.room_id, ROOM_STATE, "")
        assert isinstance(got, nio.RoomGetStateEventResponse), got
    content = got.content
    assert content["class"] == "standard"
    assert content["creator"] == user.user_id
    assert content["category"] is None
    assert content["code"].startswith("G") and len(content["code"]) == 10
    # The state event is among the room's first events: before anyone else
    # could join, directly after the create-time state.
    rows = hs.sql(
        "SELECT code, room_class FROM groupreg_rooms WHERE room_id = ?",
        (created.room_id,),
    )
    assert rows == [(content["code"], "standard")]


async def test_class_and_category_come_from_the_body(hs: Homeserver) -> None:
    """B2: `org.groupreg.class` and `org.groupreg.category` choose."""
    user = hs.register()
    room_id = await new_room(
        hs, user, org_groupreg_class="verified", org_groupreg_category="work"
    )
    status, content = await state(hs, user, room_id, ROOM_STATE)
    assert status == 200
    assert (content["class"], content["category"]) == ("verified", "work")


async def test_unknown_class_and_bad_category(hs: Homeserver) -> None:
    """B2: an unknown class is refused with CLASS_UNKNOWN, naming the
    classes there are; a category the class lacks is a 400 naming the field."""
    user = hs.register()
    status, body = await create_room(hs, user, org_groupreg_class="huge")
    assert (status, reason(body)) == (403, "CLASS_UNKNOWN")
    # (the harness writes homeserver.yaml with sorted keys)
    assert "Available: big, standard, tiny, verified" in body["error"]
    status, body = await create_room(hs, user, org_groupreg_category="gossip")
    assert (status, body["errcode"], body["field"]) == (
        400,
        "M_INVALID_PARAM",
        "org.groupreg.category",
    )


async def test_malformed_invitees_are_synapses_400(hs: Homeserver) -> None:
    """G6: a malformed user id in `invite` is Synapse's 400, not a fault of
    the module's federation check (which would answer MODULE_UNAVAILABLE)."""
    user = hs.register()
    status, body = await create_room(hs, user, invite=["not-a-user-id"])
    assert status == 400 and reason(body) is None, body


async def test_class_needing_approval_cannot_be_created(hs: Homeserver) -> None:
    """B1: a class that needs platform approval is reached only by a move
    an admin approves: creating one is CLASS_NOT_QUALIFIED."""
    user = hs.register()
    status, body = await create_room(hs, user, org_groupreg_class="big")
    assert (status, reason(body)) == (403, "CLASS_NOT_QUALIFIED")
    assert "platform approval" in body["error"]


async def test_direct_chats_have_no_code_and_are_not_counted(hs: Homeserver) -> None:
    """B1, B3: a direct chat is class `direct`, has no code and does not
    count against the creator's groups; the fifth group is CREATE_LIMIT."""
    user, friend = hs.register(), hs.register()
    for _ in range(4):
        await new_room(hs, user)
    async with clients(hs, user) as (client,):
        dm = await client.room_create(
            is_direct=True,
            invite=[friend.user_id],
            preset=nio.RoomPreset.trusted_private_chat,
        )
        assert isinstance(dm, nio.RoomCreateResponse), dm
        got = await client.room_get_state_event(dm.room_id, ROOM_STATE, "")
        assert isinstance(got, nio.RoomGetStateEventResponse)
        assert got.content == {
            "class": "direct",
            "category": None,
            "creator": user.user_id,
        }
        refused = await client.room_create(name="fifth")
        assert await reason_of(refused) == "CREATE_LIMIT"
        assert "(4)" in refused.message
    # A third person cannot make the direct chat a group: it holds two.
    other = hs.register()
    status, body = await invite(hs, user, dm.room_id, other.user_id)
    assert (status, reason(body)) == (403, "ROOM_FULL")


async def test_create_limit_per_class(hs: Homeserver) -> None:
    """B3: at most one `tiny` room per user, and the refusal says so."""
    user = hs.register()
    await new_room(hs, user, org_groupreg_class="tiny")
    status, body = await create_room(hs, user, org_groupreg_class="tiny")
    assert (status, reason(body)) == (403, "CREATE_LIMIT")
    assert "（1 个）" in body["error"] and "(1)" in body["error"]
    await new_room(hs, user, org_groupreg_class="standard")


async def test_room_full_counts_joins_and_invites(hs: Homeserver) -> None:
    """B3, G3: joined + invited count; the refusal names the limit in both
    languages; a member leaving frees a seat."""
    owner, a, b, c = (hs.register() for _ in range(4))
    room_id = await new_room(hs, owner, org_groupreg_class="tiny", preset="public_chat")
    assert (await join(hs, a, room_id))[0] == 200
    status, body = await invite(hs, owner, room_id, b.user_id)
    assert status == 200, body
    async with clients(hs, c) as (client,):
        refused = await client.join(room_id)
        assert await reason_of(refused) == "ROOM_FULL"
        assert refused.message == (
            "该群已满（上限 3 人）。 / This group is full (limit 3)."
        )
    status, body = await invite(hs, owner, room_id, c.user_id)
    assert (status, reason(body)) == (403, "ROOM_FULL")
    async with clients(hs, a, c) as (client_a, client_c):
        assert isinstance(await client_a.room_leave(room_id), nio.RoomLeaveResponse)
        assert isinstance(await client_c.join(room_id), nio.JoinResponse)


async def test_server_admins_are_counted_too(hs: Homeserver) -> None:
    """B3: Synapse lets server admins past user_may_join_room; their joins
    still take a seat, and a full room refuses them as well."""
    owner, admin, user = hs.register(), hs.register(admin=True), hs.register()
    room_id = await new_room(
        hs,
        owner,
        org_groupreg_class="tiny",
        preset="public_chat",
        power_level_content_override={"invite": 0},
    )
    async with clients(hs, admin, user) as (admin_client, user_client):
        assert isinstance(await admin_client.join(room_id), nio.JoinResponse)
        assert isinstance(await user_client.join(room_id), nio.JoinResponse)
        late = hs.register()
        status, body = await join(hs, late, room_id)
        assert (status, reason(body)) == (403, "ROOM_FULL")
        assert isinstance(await user_client.room_leave(room_id), nio.RoomLeaveResponse)
        status, body = await invite(hs, admin, room_id, late.user_id)
        assert status == 200, body
        second = hs.register()
        status, body = await invite(hs, admin, room_id, second.user_id)
        assert (status, reason(body)) == (403, "ROOM_FULL")


async def test_joins_synapse_refuses_hold_no_seat(hs: Homeserver) -> None:
    """B3: a join or invite that Synapse's own auth rules refuse (a banned
    user's join, an invite by a member without invite power) gets Synapse's
    refusal and takes no seat, so it cannot keep others out."""
    owner, member, banned, joiner = (hs.register() for _ in range(4))
    room_id = await new_room(hs, owner, org_groupreg_class="tiny", preset="public_chat")
    assert (await join(hs, member, room_id))[0] == 200
    status, body = await Http(hs, owner.access_token).post(
        f"/_matrix/client/v3/rooms/{room_path(room_id)}/ban",
        {"user_id": banned.user_id},
    )
    assert status == 200, body
    for _ in range(2):
        status, body = await join(hs, banned, room_id)
        assert status == 403 and reason(body) is None, body
        status, body = await invite(hs, member, room_id, hs.register().user_id)
        assert status == 403 and reason(body) is None, body
    assert (await join(hs, joiner, room_id))[0] == 200


async def test_join_limit_per_user(hs: Homeserver) -> None:
    """B3: a user may be in six groups (created ones included); direct
    chats do not count."""
    user, host = hs.register(), hs.register()
    await new_room(hs, user)  # creating joins: one group
    async with clients(hs, user) as (client,):
        dm = await client.room_create(is_direct=True, invite=[host.user_id])
        assert isinstance(dm, nio.RoomCreateResponse)
    rooms = []
    for _ in range(6):
        rooms.append(await new_room(hs, host, preset="public_chat"))
        host = hs.register()  # each host may create four
    for room_id in rooms[:5]:
        status, body = await join(hs, user, room_id)
        assert status == 200, body
    status, body = await join(hs, user, rooms[5])
    assert (status, reason(body)) == (403, "JOIN_LIMIT")
    assert "(6)" in body["error"]


async def test_large_classes_admit_only_verified_joiners(hs: Homeserver) -> None:
    """B1: from `verified_from` members on, joiners need a verified
    identity (nobody has one in this profile)."""
    owner, joiner = hs.register(), hs.register()
    room_id = await new_room(
        hs, owner, org_groupreg_class="verified", preset="public_chat"
    )
    status, body = await join(hs, joiner, room_id)
    assert (status, reason(body)) == (403, "IDENTITY_REQUIRED")
    assert "join this group" in body["error"]


async def test_encryption_refused_where_the_class_forbids_it(hs: Homeserver) -> None:
    """C5: a `tiny` room may not be encrypted, neither in createRoom's
    initial_state nor later; a `standard` one may."""
    user = hs.register()
    algorithm = {"algorithm": "m.megolm.v1.aes-sha2"}
    encryption = {"type": "m.room.encryption", "state_key": "", "content": algorithm}
    status, body = await create_room(
        hs, user, org_groupreg_class="tiny", initial_state=[encryption]
    )
    assert (status, reason(body)) == (403, "ENCRYPTION_FORBIDDEN")
    assert "'tiny'" in body["error"]
    room_id = await new_room(hs, user, org_groupreg_class="tiny")
    status, body = await put_state(hs, user, room_id, "m.room.encryption", algorithm)
    assert (status, reason(body)) == (403, "ENCRYPTION_FORBIDDEN")
    room_id = await new_room(hs, user, initial_state=[encryption])
    status, content = await state(hs, user, room_id, "m.room.encryption")
    assert status == 200 and content["algorithm"] == "m.megolm.v1.aes-sha2"


async def test_registration_state_is_the_modules_alone(hs: Homeserver) -> None:
    """B4: nobody but the module changes org.groupreg.room; a client's own
    version in initial_state is replaced by the module's."""
    user = hs.register()
    forged = {"code": "G000000000", "class": "big", "category": None}
    room_id = await new_room(
        hs,
        user,
        initial_state=[{"type": ROOM_STATE, "state_key": "", "content": forged}],
    )
    status, content = await state(hs, user, room_id, ROOM_STATE)
    assert content["class"] == "standard" and content["code"] != "G000000000"
    for attempt in (
        {**content, "class": "tiny"},
        {**content, "code": "G000000019"},
        {},
    ):
        status, body = await put_state(hs, user, room_id, ROOM_STATE, attempt)
        assert (status, reason(body)) == (403, "REGISTRATION_CODE_PROTECTED")
        assert "cannot be changed" in body["error"]
    status, body = await put_state(hs, user, room_id, ROOM_STATE, content, "x")
    assert (status, reason(body)) == (403, "REGISTRATION_CODE_PROTECTED")
    async with clients(hs, user) as (client,):
        registration = await client.room_get_state_event(room_id, ROOM_STATE, "")
        assert isinstance(registration, nio.RoomGetStateEventResponse)
        events = await client.room_messages(room_id, start="", limit=50)
        assert isinstance(events, nio.RoomMessagesResponse)
        state_ids = [
            e.event_id for e in events.chunk if e.source.get("type") == ROOM_STATE
        ]
        refused = await client.room_redact(room_id, state_ids[0], reason="x")
        assert await reason_of(refused) == "REGISTRATION_CODE_PROTECTED"


async def test_big_groups_need_a_name_and_category(hs: Homeserver) -> None:
    """B6: from 4 members (configured here) no more may join until the
    group has a name and a category; then they may."""
    owner = hs.register()
    room_id = await new_room(hs, owner, preset="public_chat")
    for _ in range(3):
        assert (await join(hs, hs.register(), room_id))[0] == 200
    newcomer = hs.register()
    status, body = await join(hs, newcomer, room_id)
    assert (status, reason(body)) == (403, "ROOM_INFO_REQUIRED")
    assert "4" in body["error"]
    await put_state(hs, owner, room_id, "m.room.name", {"name": "Named"})
    http = Http(hs, owner.access_token)
    status, body = await http.put(
        f"{CLIENT}/rooms/{room_path(room_id)}/category", {"category": "gossip"}
    )
    assert (status, body["field"]) == (400, "category")
    status, body = await http.put(
        f"{CLIENT}/rooms/{room_path(room_id)}/category", {"category": "work"}
    )
    assert status == 200 and body["state_updated"] is True
    status, content = await state(hs, owner, room_id, ROOM_STATE)
    assert content["category"] == "work"
    assert (await join(hs, newcomer, room_id))[0] == 200


async def test_room_info_for_members_and_admins(hs: Homeserver) -> None:
    """B4, B6: members read code, class, category, creator, admins, member
    count and status; outsiders get 403; admins search by code."""
    owner, member, outsider = hs.register(), hs.register(), hs.register()
    admin = hs.register(admin=True)
    room_id = await new_room(hs, owner, preset="public_chat", name="Info")
    await join(hs, member, room_id)
    path = f"{CLIENT}/rooms/{room_path(room_id)}"
    status, info = await Http(hs, member.access_token).get(path)
    assert status == 200, info
    assert info["name"] == "Info" and info["member_count"] == 2
    assert (info["class"], info["status"], info["creator"]) == (
        "standard",
        "active",
        owner.user_id,
    )
    assert info["your_role"] == "member"
    assert [a["role"] for a in info["admins"]] == ["creator"]
    status, body = await Http(hs, outsider.access_token).get(path)
    assert status == 403
    status, body = await Http(hs, member.access_token).get(
        f"{ADMIN}/rooms/{room_path(room_id)}"
    )
    assert status == 403

    http = Http(hs, admin.access_token)
    spaced = f"{info['code'][:5]}-{info['code'][5:]}".lower()
    status, found = await http.get(f"{ADMIN}/rooms?code={spaced}")
    assert status == 200 and [r["room_id"] for r in found["rooms"]] == [room_id]
    assert found["rooms"][0]["member_count"] == 2
    status, body = await http.get(f"{ADMIN}/rooms?code=G0000000170")
    assert (status, body["field"]) == (400, "code")
    status, page = await http.get(f"{ADMIN}/rooms?class=standard&limit=2")
    assert status == 200 and len(page["rooms"]) == 2 and "next_token" in page
    status, detail = await http.get(f"{ADMIN}/rooms/{room_path(room_id)}")
    assert status == 200 and detail["code"] == info["code"]
    assert detail["admin_history"][0]["role"] == "creator"
    status, body = await http.get(f"{ADMIN}/rooms/!nope:x")
    assert status == 404


async def test_refusals_are_audited(hs: Homeserver) -> None:
    """F1: each refusal is a decision in the audit log, with its reason."""
    user, admin = hs.register(), hs.register(admin=True)
    await create_room(hs, user, org_groupreg_class="huge")
    status, page = await Http(hs, admin.access_token).get(
        f"{ADMIN}/audit?action=room.refused&actor={user.user_id}"
    )
    assert status == 200
    assert [e["details"]["reason"] for e in page["entries"]] == ["CLASS_UNKNOWN"]

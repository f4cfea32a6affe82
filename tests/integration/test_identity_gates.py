"""Real-name gates in a real Synapse (A1, A2, A3 a) and a check that cannot
reach its table (G6), driven with matrix-nio as Element would."""

from __future__ import annotations

import asyncio

import nio
import pytest

from tests.harness.client import Http, clients, error_body, reason_of
from tests.harness.homeserver import Homeserver
from tests.harness.identity import (
    CLIENT,
    bind_phone,
    bot_messages,
    cn_config,
    resident_id,
    start,
    verify,
)
from tests.integration.conftest import HomeserverFactory


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return start(homeservers, lambda d: cn_config(d, fail={"identity": "closed"}))


async def _create_room(client: nio.AsyncClient, **kw: object) -> nio.Response:
    return await client.room_create(**kw)


async def _assert_refused(response: nio.Response, what: str) -> None:
    assert isinstance(response, nio.ErrorResponse), f"{what} was allowed: {response}"
    assert response.status_code == "M_FORBIDDEN", response
    assert await reason_of(response) == "IDENTITY_REQUIRED", (what, response)


async def test_unverified_user_is_refused_every_action(hs: Homeserver) -> None:
    """A1: an unverified user may log in and read, but is refused sending
    messages and state, creating rooms (direct chats too), inviting and
    joining, each with IDENTITY_REQUIRED and a message saying how to verify;
    A2: a mainland phone bound as msisdn passes the gate, and unbinding it
    closes it again."""
    admin, user, other = hs.register(admin=True), hs.register(), hs.register()
    await verify(hs, admin, other, resident_id(1))
    async with clients(hs, user, other) as (u, o):
        # Phone-level first, to get the user into a room of their own.
        await bind_phone(hs, admin, user, "8613800138000")
        own = await _create_room(u, name="own room")
        assert isinstance(own, nio.RoomCreateResponse), own
        public = await _create_room(o, visibility=nio.RoomVisibility.public)
        assert isinstance(public, nio.RoomCreateResponse), public
        await bind_phone(hs, admin, user, None)

        await _assert_refused(await _create_room(u), "create_room")
        await _assert_refused(
            await _create_room(u, is_direct=True, invite=[other.user_id]), "direct chat"
        )
        sent = await u.room_send(
            own.room_id, "m.room.message", {"msgtype": "m.text", "body": "hi"}
        )
        await _assert_refused(sent, "send")
        body = (await error_body(sent))["error"]
        assert "验证" in body and "@groupreg:" in body, body
        topic = await u.room_put_state(own.room_id, "m.room.topic", {"topic": "t"})
        await _assert_refused(topic, "state event")
        await _assert_refused(await u.room_invite(own.room_id, other.user_id), "invite")
        await _assert_refused(await u.join(public.room_id), "join")

        # Reading still works.
        sync = await u.sync(timeout=0)
        assert isinstance(sync, nio.SyncResponse), sync


async def test_admin_verification_opens_the_gate(hs: Homeserver) -> None:
    """A1, A3 a: after an admin records a verified identity, the same user
    sends, creates, invites and joins."""
    admin, user, other = hs.register(admin=True), hs.register(), hs.register()
    await verify(hs, admin, other, resident_id(2))
    async with clients(hs, user, other) as (u, o):
        public = await _create_room(o, visibility=nio.RoomVisibility.public)
        assert isinstance(public, nio.RoomCreateResponse)
        await _assert_refused(await u.join(public.room_id), "join")
        status, body = await verify(hs, admin, user, resident_id(3))
        assert status == 200, body
        assert body["level"] == "id" and body["masked_number"].count("*") == 8
        assert isinstance(await u.join(public.room_id), nio.JoinResponse)
        room = await _create_room(u)
        assert isinstance(room, nio.RoomCreateResponse), room
        sent = await u.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "hi"}
        )
        assert isinstance(sent, nio.RoomSendResponse), sent
        assert isinstance(
            await u.room_invite(room.room_id, other.user_id), nio.RoomInviteResponse
        )


async def test_phone_level_needs_a_mainland_mobile(hs: Homeserver) -> None:
    """A2: the phone level comes from Synapse's own msisdn 3PID, and only for
    a mainland mobile number (+86 1[3-9]xxxxxxxxx)."""
    admin, user = hs.register(admin=True), hs.register()
    http = Http(hs, admin.access_token)
    quoted = user.user_id.replace("@", "%40").replace(":", "%3A")
    await bind_phone(hs, admin, user, "14155550123")  # a US number
    _, body = await http.get(f"/_synapse/client/groupreg/admin/v1/identities/{quoted}")
    assert body["level"] == "none"
    await bind_phone(hs, admin, user, "8613912345678")
    _, body = await http.get(f"/_synapse/client/groupreg/admin/v1/identities/{quoted}")
    assert body["level"] == "phone"
    status, mine = await Http(hs, user.access_token).get(f"{CLIENT}/status")
    assert (status, mine["identity_level"]) == (200, "phone")


async def test_refusal_brings_one_verification_link(hs: Homeserver) -> None:
    """A3 b: the first refusal makes the notice bot DM a one-time link to the
    verification page; further refusals while it lives send no other; the
    user may join the bot's chat although joins are gated (bot exempt)."""
    user = hs.register()
    bot = f"@groupreg:{hs.server_name}"
    async with clients(hs, user) as (u,):
        await _assert_refused(await _create_room(u), "create_room")
        _, notices = await bot_messages(u, bot)
        assert (
            len(notices) == 1
            and "/_synapse/client/groupreg/v1/verify#token=" in notices[0]
        )
        for _ in range(3):
            await _assert_refused(await _create_room(u), "create_room")
        await asyncio.sleep(1)
        _, messages = await bot_messages(u, bot)
        assert len(messages) == 1, messages


async def test_broken_table_fails_closed_then_open(hs: Homeserver) -> None:
    """G6: with the identity table gone under a running server, a cold-cache
    user is refused 403 MODULE_UNAVAILABLE (never a 500) when the identity
    check fails closed, and let through when it fails open; both log why.
    (Creating a room also asks the room classes for the creator's level, so
    the `rooms` and `caps` checks are opened with it.)"""
    user = hs.register()
    hs.sql("ALTER TABLE groupreg_identities RENAME TO groupreg_identities_away")
    try:
        async with clients(hs, user) as (u,):
            refused = await _create_room(u)
            assert isinstance(refused, nio.ErrorResponse), refused
            assert await reason_of(refused) == "MODULE_UNAVAILABLE"
        assert "groupreg check 'identity' failed" in hs.log_text()
        assert "failing closed" in hs.log_text()

        assert hs.module_config is not None
        hs.module_config["fail"] = {"identity": "open", "rooms": "open", "caps": "open"}
        hs.write_config()
        hs.restart()
        async with clients(hs, user) as (u,):
            allowed = await _create_room(u)
            assert isinstance(allowed, nio.RoomCreateResponse), allowed
        assert "failing open" in hs.log_text()
    finally:
        hs.sql("ALTER TABLE groupreg_identities_away RENAME TO groupreg_identities")
        assert hs.module_config is not None
        hs.module_config["fail"] = {"identity": "closed"}
        hs.write_config()
        hs.restart()


async def test_grace_period_lets_users_post_and_reminds_them(
    homeservers: HomeserverFactory,
) -> None:
    """H4: until `identity.grace_until` an unverified user may join and post
    (the gates let them through; a class's own qualifications still apply),
    and the notice bot sends their verification link with the day from
    which it is required; once."""
    from tests.harness.dm import bot_notices

    grace = start(
        homeservers,
        lambda d: cn_config(
            d, {"grace_until": "2999-01-01", "grace_reminder_interval": "1d"}
        ),
    )
    admin, user = grace.register(admin=True), grace.register()
    async with clients(grace, admin, user) as (a, u):
        room = await _create_room(a, visibility=nio.RoomVisibility.public)
        assert isinstance(room, nio.RoomCreateResponse), room
        joined = await u.join(room.room_id)
        assert isinstance(joined, nio.JoinResponse), joined
        for n in range(3):
            sent = await u.room_send(
                room.room_id, "m.room.message", {"msgtype": "m.text", "body": f"{n}"}
            )
            assert isinstance(sent, nio.RoomSendResponse), sent
        notices = await bot_notices(grace, u, "2999-01-01")
    reminders = [n for n in notices if "2999-01-01" in n]
    assert len(reminders) == 1, notices
    assert "/_synapse/client/groupreg/v1/verify" in reminders[0]

"""F2: the network log records registration, login (IP, user agent), room
creation, membership changes and message metadata, and purges itself when
retention ends."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory

LOGS = "/_synapse/client/groupreg/admin/v1/logs"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic"})


async def _entries(http: Http, query: str, want: int, timeout: float = 10) -> list[Any]:
    """Entries matching `query`, waiting for at least `want` of them (room
    events reach the log a moment after they are sent)."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = await http.get(f"{LOGS}?{query}&limit=1000")
        assert status == 200, body
        entries: list[Any] = body["entries"]
        if len(entries) >= want or time.monotonic() > deadline:
            return entries
        await asyncio.sleep(0.3)


async def test_login_records_ip_and_user_agent(hs: Homeserver) -> None:
    """F2: a login is logged with the client's address and user agent."""
    user, admin = hs.register(), hs.register(admin=True)
    status, body = await Http(hs).post(
        "/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user.localpart},
            "password": user.password,
            "device_id": "NETLOGTEST",
        },
        headers={"User-Agent": "groupreg-test-agent/1.0"},
    )
    assert status == 200, body
    http = Http(hs, admin.access_token)
    logins = await _entries(http, f"kind=login&user_id={user.user_id}", 1)
    assert len(logins) == 1
    assert logins[0]["ip"] == "127.0.0.1"
    assert logins[0]["user_agent"] == "groupreg-test-agent/1.0"
    assert logins[0]["details"]["device_id"] == body["device_id"] == "NETLOGTEST"
    registrations = await _entries(http, f"kind=registration&user_id={user.user_id}", 1)
    assert len(registrations) == 1


async def test_room_activity_is_logged_without_content(hs: Homeserver) -> None:
    """F2: room creation, join, invite, kick, ban, leave and message metadata
    (event id, room, sender, time), never the message text."""
    owner, guest, other = (hs.register() for _ in range(3))
    admin = hs.register(admin=True)
    async with clients(hs, owner, guest, other) as (a, b, c):
        created = await a.room_create(name="logged")
        assert isinstance(created, nio.RoomCreateResponse), created
        room = created.room_id
        for who, client in ((guest, b), (other, c)):
            assert isinstance(
                await a.room_invite(room, who.user_id), nio.RoomInviteResponse
            )
            assert isinstance(await client.join(room), nio.JoinResponse)
        sent = await b.room_send(
            room, "m.room.message", {"msgtype": "m.text", "body": "secret words"}
        )
        assert isinstance(sent, nio.RoomSendResponse), sent
        assert isinstance(await a.room_kick(room, guest.user_id), nio.RoomKickResponse)
        assert isinstance(await a.room_ban(room, other.user_id), nio.RoomBanResponse)
        assert isinstance(await a.room_leave(room), nio.RoomLeaveResponse)

    http = Http(hs, admin.access_token)
    entries = await _entries(http, f"room_id={room}", 9)
    kinds = [e["kind"] for e in entries]
    for kind in ("room_create", "join", "invite", "message", "kick", "ban", "leave"):
        assert kind in kinds, (kind, kinds)
    message = next(e for e in entries if e["event_id"] == sent.event_id)
    assert message["kind"] == "message"
    assert message["user_id"] == guest.user_id
    assert message["details"] == {"type": "m.room.message"}
    assert "secret words" not in str(entries)
    kick = next(e for e in entries if e["kind"] == "kick")
    assert (kick["user_id"], kick["target"]) == (owner.user_id, guest.user_id)


async def test_network_log_is_for_admins(hs: Homeserver) -> None:
    user = hs.register()
    status, _ = await Http(hs, user.access_token).get(LOGS)
    assert status == 403


async def test_entries_past_retention_are_purged(
    homeservers: HomeserverFactory,
) -> None:
    """F2: retention ends with an automatic purge (here 2 s, checked every 1 s)."""
    hs = homeservers(
        {"profile": "generic", "logs": {"retention": "2s", "purge_interval": "1s"}}
    )
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    status, _ = await Http(hs).post(
        "/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": admin.localpart},
            "password": admin.password,
        },
    )
    assert status == 200
    assert await _entries(http, "kind=login", 1)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not await _entries(http, "kind=login", 0, timeout=0):
            break
        await asyncio.sleep(0.5)
    assert await _entries(http, "kind=login", 0, timeout=0) == []

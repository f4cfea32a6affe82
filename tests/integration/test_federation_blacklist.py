"""D4 servers, with two real homeservers federating over loopback: users
of a blacklisted server can neither invite our users nor join our rooms,
and our users cannot invite them; once the entry goes, all of it works."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.harness.client import Http
from tests.harness.federation import federating_homeserver
from tests.harness.homeserver import Homeserver
from tests.integration.groups import ADMIN, MATRIX, invite, new_room


@pytest.fixture(scope="module")
def servers(backend: str) -> Iterator[tuple[Homeserver, Homeserver]]:
    """`home` blacklists `other`'s server; both federate."""
    made = [
        federating_homeserver({"profile": "generic"}, backend, "home"),
        federating_homeserver({"profile": "generic"}, backend, "other"),
    ]
    try:
        for hs in made:
            hs.start()
        yield made[0], made[1]
    finally:
        for hs in made:
            hs.destroy()


async def _remote_join(
    hs: Homeserver, token: str, room_id: str, via: Homeserver
) -> tuple[int, Any]:
    return await Http(hs, token).post(
        f"{MATRIX}/join/{quote(room_id)}?server_name={quote(via.server_name)}", {}
    )


async def test_a_blacklisted_server_cannot_invite_or_join(
    servers: tuple[Homeserver, Homeserver],
) -> None:
    """D4 server: `other`'s user is refused inviting `home`'s user
    (federated_user_may_invite) and joining `home`'s room (make_join),
    and `home`'s user is refused inviting them; with the entry removed,
    the same invite and join work."""
    home, other = servers
    admin, resident = home.register(admin=True), home.register()
    outsider = other.register()
    status, entry = await Http(home, admin.access_token).post(
        f"{ADMIN}/blacklist",
        {"kind": "server", "target": other.server_name, "reason": "spam source"},
    )
    assert status == 200, entry

    their_room = await new_room(other, outsider, name="outside", preset="public_chat")
    status, refused = await invite(other, outsider, their_room, resident.user_id)
    assert status == 403, refused
    assert refused.get("org.groupreg.reason") == "BLACKLISTED", refused

    our_room = await new_room(home, resident, name="inside", preset="public_chat")
    status, refused = await _remote_join(other, outsider.access_token, our_room, home)
    assert status == 403, refused
    assert refused.get("org.groupreg.reason") == "BLACKLISTED", refused

    status, refused = await invite(home, resident, our_room, outsider.user_id)
    assert (status, refused.get("org.groupreg.reason")) == (403, "BLACKLISTED")

    status, removed = await Http(home, admin.access_token).delete(
        f"{ADMIN}/blacklist/{entry['entry_id']}?reason=resolved"
    )
    assert status == 200, removed
    status, answer = await invite(other, outsider, their_room, resident.user_id)
    assert status == 200, answer
    status, answer = await _remote_join(other, outsider.access_token, our_room, home)
    assert status == 200, answer


async def _joined_everywhere(
    hs: Homeserver, token: str, room_id: str, expected: int
) -> None:
    deadline = time.monotonic() + 30
    count = 0
    while time.monotonic() < deadline:
        status, body = await Http(hs, token).get(
            f"{MATRIX}/rooms/{quote(room_id)}/joined_members"
        )
        count = len(body.get("joined", {})) if status == 200 else 0
        if count >= expected:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{hs.server_name} sees {count} members, not {expected}")


async def _membership(hs: Homeserver, token: str, room_id: str, user_id: str) -> Any:
    status, content = await Http(hs, token).get(
        f"{MATRIX}/rooms/{quote(room_id)}/state/m.room.member/{quote(user_id)}"
    )
    return content.get("membership") if status == 200 else None


async def test_a_listed_server_member_let_in_by_its_own_server_is_removed(
    servers: tuple[Homeserver, Homeserver],
) -> None:
    """D4 server: once a server is in one of our rooms, it builds its users'
    joins itself (no make_join here); a user of a listed server who joins
    that way is removed as soon as the join arrives."""
    home, other = servers
    admin, resident = home.register(admin=True), home.register()
    early, late = other.register(), other.register()
    our_room = await new_room(home, resident, name="mixed", preset="public_chat")
    status, answer = await _remote_join(other, early.access_token, our_room, home)
    assert status == 200, answer
    # Until `other` holds the room's whole state (a partial-state join
    # completes in the background) it still asks us with make_join.
    await _joined_everywhere(other, early.access_token, our_room, 2)
    status, entry = await Http(home, admin.access_token).post(
        f"{ADMIN}/blacklist",
        {"kind": "server", "target": other.server_name, "reason": "spam source"},
    )
    assert status == 200, entry
    try:
        status, answer = await _remote_join(other, late.access_token, our_room, home)
        assert status == 200, answer  # `other` made the join itself
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen = await _membership(
                home, resident.access_token, our_room, late.user_id
            )
            if seen == "leave":
                break
            await asyncio.sleep(0.5)
        assert seen == "leave", seen
        status, audit = await Http(home, admin.access_token).get(
            f"{ADMIN}/audit?action=blacklist.removed"
        )
        assert any(e["details"]["user_id"] == late.user_id for e in audit["entries"])
    finally:
        await Http(home, admin.access_token).delete(
            f"{ADMIN}/blacklist/{entry['entry_id']}?reason=done"
        )

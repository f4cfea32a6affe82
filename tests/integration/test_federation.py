"""B7: two real homeservers federating over loopback. Where a class forbids
federation, remote users are refused (unless their server is allow-listed);
where it allows it, remote members count toward the room's cap (B3)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.harness.client import Http
from tests.harness.federation import federating_homeserver
from tests.harness.homeserver import Homeserver, User
from tests.integration.groups import (
    ADMIN,
    MATRIX,
    invite,
    join,
    new_room,
    reason,
    state,
)

CLASSES: dict[str, Any] = {
    "open": {"member_cap": 3, "federation": True},
    "closed": {"member_cap": 10, "federation": False},
}
# The remote server's own default class is roomy, so that it does not
# refuse its users' joins into `local`'s rooms itself: what is tested is
# what `local` does.
REMOTE_CLASSES: dict[str, Any] = {**CLASSES, "roomy": {"member_cap": 50}}


@pytest.fixture(scope="module")
def servers(backend: str) -> Iterator[tuple[Homeserver, Homeserver]]:
    """`local` allow-lists nobody; `remote` allow-lists `local`."""
    local = federating_homeserver(
        {"profile": "generic", "rooms": {"default_class": "open", "classes": CLASSES}},
        backend,
        "local",
    )
    remote = federating_homeserver(
        {
            "profile": "generic",
            "rooms": {
                "default_class": "roomy",
                "classes": REMOTE_CLASSES,
                "federation_allowlist": [local.server_name],
            },
        },
        backend,
        "remote",
    )
    try:
        local.start()
        remote.start()
        yield local, remote
    finally:
        local.destroy()
        remote.destroy()


async def remote_join(
    hs: Homeserver, user: User, room_id: str, via: Homeserver
) -> tuple[int, Any]:
    """Join a room of another server, naming that server to ask."""
    return await Http(hs, user.access_token).post(
        f"{MATRIX}/join/{quote(room_id)}?server_name={quote(via.server_name)}", {}
    )


async def joined_members(hs: Homeserver, room_id: str, expected: int) -> int:
    """The room's joined + invited members on `hs`, waiting a little for
    federated events to arrive."""
    deadline = time.monotonic() + 15
    while True:
        rows = hs.sql(
            "SELECT COUNT(*) FROM current_state_events WHERE room_id = ?"
            " AND type = 'm.room.member' AND membership IN ('join', 'invite')",
            (room_id,),
        )
        count = int(rows[0][0])
        if count == expected or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.2)


async def test_remote_users_refused_where_federation_is_forbidden(
    servers: tuple[Homeserver, Homeserver],
) -> None:
    """B7: a class without federation is created `m.federate: false`; a
    local user's invite of a remote user is FEDERATION_FORBIDDEN, and the
    remote user cannot join either."""
    local, remote = servers
    owner, stranger = local.register(), remote.register()
    room_id = await new_room(
        local, owner, org_groupreg_class="closed", preset="public_chat"
    )
    status, create = await state(local, owner, room_id, "m.room.create")
    assert status == 200 and create["m.federate"] is False
    status, body = await invite(local, owner, room_id, stranger.user_id)
    assert (status, reason(body)) == (403, "FEDERATION_FORBIDDEN")
    assert remote.server_name in body["error"]
    status, body = await remote_join(remote, stranger, room_id, local)
    assert status == 403, body
    assert reason(body) == "FEDERATION_FORBIDDEN", body
    assert await joined_members(local, room_id, 1) == 1


async def test_allow_listed_servers_may_join_closed_classes(
    servers: tuple[Homeserver, Homeserver],
) -> None:
    """B7: on a server that allow-lists another, rooms of a closed class
    federate, and users of the allow-listed server may be invited and join;
    users of any other server may not."""
    local, remote = servers
    owner, guest = remote.register(), local.register()
    room_id = await new_room(
        remote, owner, org_groupreg_class="closed", preset="public_chat"
    )
    status, create = await state(remote, owner, room_id, "m.room.create")
    assert status == 200 and "m.federate" not in create
    status, body = await invite(remote, owner, room_id, "@someone:elsewhere.invalid")
    assert (status, reason(body)) == (403, "FEDERATION_FORBIDDEN")
    status, body = await remote_join(local, guest, room_id, remote)
    assert status == 200, body
    assert await joined_members(remote, room_id, 2) == 2


async def test_remote_members_count_toward_the_cap(
    servers: tuple[Homeserver, Homeserver],
) -> None:
    """B7, B3: where federation is allowed, remote members take seats: with
    cap 3, the creator, a remote and a local member fill the room, and the
    next local user is refused ROOM_FULL. A remote user whose server is not
    yet in a full room is refused at make_join."""
    local, remote = servers
    owner, neighbour, late_local = (local.register() for _ in range(3))
    visitor, outsider = remote.register(), remote.register()
    room_id = await new_room(local, owner, preset="public_chat")
    status, body = await remote_join(remote, visitor, room_id, local)
    assert status == 200, body
    assert await joined_members(local, room_id, 2) == 2
    assert (await join(local, neighbour, room_id))[0] == 200
    status, body = await join(local, late_local, room_id)
    assert (status, reason(body)) == (403, "ROOM_FULL")

    full_room = await new_room(local, owner, preset="public_chat")
    for user in (neighbour, late_local):
        assert (await join(local, user, full_room))[0] == 200
    status, body = await remote_join(remote, outsider, full_room, local)
    assert status == 403, body
    assert reason(body) == "ROOM_FULL", body
    assert "limit 3" in body["error"]
    assert await joined_members(local, full_room, 3) == 3


async def test_a_server_already_in_the_room_cannot_overfill_it(
    servers: tuple[Homeserver, Homeserver],
) -> None:
    """B7, B3: once a remote server is in a room it builds its users' joins
    itself (no make_join reaches us); a join that breaks the cap is removed
    as soon as it arrives, with the rule and the limit as the reason."""
    local, remote = servers
    owner, neighbour = local.register(), local.register()
    visitor, late_visitor = remote.register(), remote.register()
    room_id = await new_room(local, owner, preset="public_chat")
    status, body = await remote_join(remote, visitor, room_id, local)
    assert status == 200, body
    assert (await join(local, neighbour, room_id))[0] == 200
    assert await joined_members(remote, room_id, 3) == 3
    status, body = await remote_join(remote, late_visitor, room_id, local)
    assert status == 200, body  # the remote server let its user in...
    deadline = time.monotonic() + 20
    membership: Any = None
    while time.monotonic() < deadline:  # ...and the room's server takes them out
        status, membership = await state(
            local, owner, room_id, "m.room.member", late_visitor.user_id
        )
        if status == 200 and membership.get("membership") == "leave":
            break
        await asyncio.sleep(0.2)
    assert membership.get("membership") == "leave", membership
    assert "full (limit 3)" in membership.get("reason", "")
    assert await joined_members(local, room_id, 3) == 3
    admin = local.register(admin=True)
    status, page = await Http(local, admin.access_token).get(
        f"{ADMIN}/audit?action=room.removed&target={room_id}"
    )
    assert [e["details"]["user_id"] for e in page["entries"]] == [late_visitor.user_id]

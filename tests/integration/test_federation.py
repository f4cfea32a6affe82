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
from tests.harness.homeserver import Homeserver, User, free_port
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


@pytest.fixture(scope="module")
def servers(backend: str) -> Iterator[tuple[Homeserver, Homeserver, Homeserver]]:
    """Three servers whose default class forbids federation (so rooms of
    other servers are held to it; rooms that federate are made in class
    `open`): `local` allow-lists nobody; `remote` and `partner` allow-list
    each other."""
    remote_port, partner_port = free_port(), free_port()

    def config(allow: list[str]) -> dict[str, Any]:
        rooms = {"default_class": "closed", "classes": CLASSES}
        return {"profile": "generic", "rooms": {**rooms, "federation_allowlist": allow}}

    made = [
        federating_homeserver(config([]), backend, "local"),
        federating_homeserver(
            config([f"localhost:{partner_port}"]),
            backend,
            "remote",
            federation_port=remote_port,
        ),
        federating_homeserver(
            config([f"localhost:{remote_port}"]),
            backend,
            "partner",
            federation_port=partner_port,
        ),
    ]
    try:
        for hs in made:
            hs.start()
        yield made[0], made[1], made[2]
    finally:
        for hs in made:
            hs.destroy()


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
    servers: tuple[Homeserver, Homeserver, Homeserver],
) -> None:
    """B7: a class without federation is created `m.federate: false`; a
    local user's invite of a remote user is FEDERATION_FORBIDDEN, and the
    remote user cannot join either."""
    local, remote, _partner = servers
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
    servers: tuple[Homeserver, Homeserver, Homeserver],
) -> None:
    """B7: on a server that allow-lists another, rooms of a closed class
    federate, and users of the allow-listed server may be invited and join;
    users of any other server may not."""
    local, remote, partner = servers
    owner, guest = remote.register(), partner.register()
    room_id = await new_room(
        remote, owner, org_groupreg_class="closed", preset="public_chat"
    )
    status, create = await state(remote, owner, room_id, "m.room.create")
    assert status == 200 and "m.federate" not in create
    status, body = await invite(remote, owner, room_id, "@someone:elsewhere.invalid")
    assert (status, reason(body)) == (403, "FEDERATION_FORBIDDEN")
    status, body = await remote_join(partner, guest, room_id, remote)
    assert status == 200, body
    assert await joined_members(remote, room_id, 2) == 2
    stranger = local.register()
    status, body = await invite(remote, owner, room_id, stranger.user_id)
    assert (status, reason(body)) == (403, "FEDERATION_FORBIDDEN")


async def test_remote_members_count_toward_the_cap(
    servers: tuple[Homeserver, Homeserver, Homeserver],
) -> None:
    """B7, B3: where federation is allowed, remote members take seats: with
    cap 3, the creator, a remote and a local member fill the room, and the
    next local user is refused ROOM_FULL. A remote user whose server is not
    yet in a full room is refused at make_join."""
    local, remote, _partner = servers
    owner, neighbour, late_local = (local.register() for _ in range(3))
    visitor, outsider = remote.register(), remote.register()
    room_id = await new_room(
        local, owner, org_groupreg_class="open", preset="public_chat"
    )
    status, body = await remote_join(remote, visitor, room_id, local)
    assert status == 200, body
    assert await joined_members(local, room_id, 2) == 2
    assert (await join(local, neighbour, room_id))[0] == 200
    status, body = await join(local, late_local, room_id)
    assert (status, reason(body)) == (403, "ROOM_FULL")

    full_room = await new_room(
        local, owner, org_groupreg_class="open", preset="public_chat"
    )
    for user in (neighbour, late_local):
        assert (await join(local, user, full_room))[0] == 200
    status, body = await remote_join(remote, outsider, full_room, local)
    assert status == 403, body
    assert reason(body) == "ROOM_FULL", body
    assert "limit 3" in body["error"]
    assert await joined_members(local, full_room, 3) == 3


async def test_a_server_already_in_the_room_cannot_overfill_it(
    servers: tuple[Homeserver, Homeserver, Homeserver],
) -> None:
    """B7, B3: once a remote server is in a room it builds its users' joins
    itself (no make_join reaches us); a join that breaks the cap is removed
    as soon as it arrives, with the rule and the limit as the reason."""
    local, remote, _partner = servers
    owner, neighbour = local.register(), local.register()
    visitor, late_visitor = remote.register(), remote.register()
    room_id = await new_room(
        local, owner, org_groupreg_class="open", preset="public_chat"
    )
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


async def test_invites_from_servers_not_allow_listed_are_refused(
    servers: tuple[Homeserver, Homeserver, Homeserver],
) -> None:
    """B7: a room of another server is held to the default class here; it
    forbids federation, so an invite from a server not on the allow-list is
    refused, while one from an allow-listed server is accepted."""
    local, remote, partner = servers
    host, guest = remote.register(), local.register()
    room_id = await new_room(
        remote, host, org_groupreg_class="open", preset="public_chat"
    )
    status, body = await invite(remote, host, room_id, guest.user_id)
    assert status == 403, body
    assert reason(body) == "FEDERATION_FORBIDDEN", body

    friend = partner.register()
    room_id = await new_room(remote, host, org_groupreg_class="open")
    status, body = await invite(remote, host, room_id, friend.user_id)
    assert status == 200, body


async def test_local_users_stay_out_of_other_servers_rooms(
    servers: tuple[Homeserver, Homeserver, Homeserver],
) -> None:
    """B7: with federation forbidden by the default class and nobody
    allow-listed, a local user may not join a room of another server."""
    local, remote, _partner = servers
    host, wanderer = remote.register(), local.register()
    room_id = await new_room(
        remote, host, org_groupreg_class="open", preset="public_chat"
    )
    status, body = await remote_join(local, wanderer, room_id, remote)
    assert (status, reason(body)) == (403, "FEDERATION_FORBIDDEN")
    assert "another server" in body["error"]

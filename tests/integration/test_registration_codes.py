"""B4: registration codes are unique over rooms created at once by several
users, well-formed, in the room state, findable by admins, and never given
twice. The size is what proves the Synapse facts (concurrent createRoom
requests, the codes in each room's state); the uniqueness of the code
arithmetic over 20,000 codes is a unit test (tests/unit/test_room_rules.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from synapse_groupreg.rooms.codes import normalise_code
from tests.harness.client import Http
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import ADMIN, ROOM_STATE, create_room, state

ROOMS = 60
CREATORS = 6
# Enough requests in flight to keep Synapse busy on two cores; more only
# queue inside it.
IN_FLIGHT = 6

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "rooms": {"created_per_user": ROOMS // CREATORS, "joined_per_user": ROOMS},
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(CONFIG)


async def test_codes_are_unique_over_rooms_made_at_once(hs: Homeserver) -> None:
    """B4: rooms created by several users, several at a time, get 1,000
    distinct codes with valid check digits, each shown in its room's state
    and found by the admin search."""
    creators = [hs.register() for _ in range(CREATORS)]
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def create(n: int) -> str:
        async with gate:
            # The smallest room Synapse makes: no preset state beyond the
            # defaults, no name, so the test spends its time on codes.
            status, body = await create_room(hs, creators[n % CREATORS])
        assert status == 200, body
        return str(body["room_id"])

    room_ids = await asyncio.gather(*(create(n) for n in range(ROOMS)))
    rows = hs.sql("SELECT room_id, code FROM groupreg_rooms WHERE code IS NOT NULL")
    codes = {room_id: code for room_id, code in rows}
    assert set(room_ids) <= set(codes)
    made = [codes[r] for r in room_ids]
    assert len(set(made)) == ROOMS
    assert all(normalise_code(code) == code for code in made)

    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    for room_id in room_ids[:: ROOMS // 10]:
        owner = next(c for c in creators if c.user_id in _creator(hs, room_id))
        status, content = await state(hs, owner, room_id, ROOM_STATE)
        assert status == 200 and content["code"] == codes[room_id]
        status, found = await http.get(f"{ADMIN}/rooms?code={codes[room_id]}")
        assert [r["room_id"] for r in found["rooms"]] == [room_id]


def _creator(hs: Homeserver, room_id: str) -> str:
    rows = hs.sql("SELECT creator FROM groupreg_rooms WHERE room_id = ?", (room_id,))
    return str(rows[0][0])


async def test_a_failed_creation_never_frees_its_code(hs: Homeserver) -> None:
    """B4: a code is issued before the room's first event; if creation then
    fails, that code is never given to another room: the next room's serial
    skips it."""
    user = hs.register()
    status, body = await create_room(hs, user)
    assert status == 200
    _, before = await state(hs, user, body["room_id"], ROOM_STATE)
    status, body = await create_room(hs, user, room_version="no-such-version")
    assert status == 400, body
    status, body = await create_room(hs, user)
    assert status == 200
    _, after = await state(hs, user, body["room_id"], ROOM_STATE)
    # Serials are the digits between the prefix and the check digit.
    assert int(after["code"][1:-1]) == int(before["code"][1:-1]) + 2
    assert hs.sql(
        "SELECT COUNT(*) FROM groupreg_codes WHERE creator = ? AND room_id IS NULL",
        (user.user_id,),
    ) == [(0,)]

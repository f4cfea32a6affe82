"""B4: registration codes are unique over 1,000 rooms, well-formed, in the
room state, findable by admins, and never given twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from synapse_groupreg.rooms.codes import normalise_code
from tests.harness.client import Http
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import ADMIN, ROOM_STATE, create_room, state

ROOMS = 1000
CREATORS = 20
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


async def test_codes_are_unique_over_a_thousand_rooms(hs: Homeserver) -> None:
    """B4: 1,000 rooms created by 20 users, several at a time, get 1,000
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
    """B4: a code is allocated before the room's first event; if creation
    then fails, that code is never given to another room."""
    user = hs.register()
    status, body = await create_room(hs, user, room_version="no-such-version")
    assert status == 400, body
    wasted = hs.sql(
        "SELECT code FROM groupreg_codes WHERE creator = ? AND room_id IS NULL",
        (user.user_id,),
    )
    assert len(wasted) == 1
    status, body = await create_room(hs, user)
    assert status == 200
    status, content = await state(hs, user, body["room_id"], ROOM_STATE)
    assert content["code"] != wasted[0][0]
    assert (
        hs.sql("SELECT room_id FROM groupreg_rooms WHERE code = ?", (wasted[0][0],))
        == []
    )

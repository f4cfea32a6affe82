"""B3: a cap holds under concurrent joins in one Synapse process."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.harness.client import Http
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import (
    ADMIN,
    concurrent_joins,
    join,
    new_room,
    reason,
    room_path,
)

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "rooms": {
        "default_class": "ten",
        "classes": {"ten": {"member_cap": 10}},
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(CONFIG)


async def test_forty_concurrent_joins_into_a_room_of_ten(hs: Homeserver) -> None:
    """B3: 40 users join a room with cap 10 (its creator inside) at once:
    exactly nine get in, the other 31 are refused with ROOM_FULL, no 5xx."""
    owner = hs.register()
    room_id = await new_room(hs, owner, preset="public_chat")
    users = [hs.register() for _ in range(40)]
    outcomes = await concurrent_joins([(hs, user) for user in users], room_id)
    assert outcomes == Counter({"200": 9, "403 ROOM_FULL": 31}), outcomes
    admin = hs.register(admin=True)
    status, info = await Http(hs, admin.access_token).get(
        f"{ADMIN}/rooms/{room_path(room_id)}"
    )
    assert status == 200 and info["member_count"] == 10


async def test_a_broken_cap_check_fails_closed_not_500(hs: Homeserver) -> None:
    """G6: when the cap check cannot run (its table is gone), a join is
    refused with MODULE_UNAVAILABLE (fail closed, the default), never a 5xx;
    once the table is back, joins work again."""
    owner = hs.register()
    room_id = await new_room(hs, owner, preset="public_chat")
    hs.sql("ALTER TABLE groupreg_seats RENAME TO groupreg_seats_away")
    try:
        status, body = await join(hs, hs.register(), room_id)
        assert (status, reason(body)) == (403, "MODULE_UNAVAILABLE"), body
    finally:
        hs.sql("ALTER TABLE groupreg_seats_away RENAME TO groupreg_seats")
    assert (await join(hs, hs.register(), room_id))[0] == 200

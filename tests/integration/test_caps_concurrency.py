"""B3: a cap holds under concurrent joins in one Synapse process."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.harness.client import Http
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import ADMIN, concurrent_joins, new_room, room_path

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

"""G6: when the sanction or blacklist checks cannot decide (their tables
are gone), a message is refused with MODULE_UNAVAILABLE under fail-closed,
let through under fail-open, and never answered with a 500."""

from __future__ import annotations

import nio

from tests.harness.client import clients, reason_of
from tests.integration.conftest import HomeserverFactory


async def test_fail_closed_and_open(homeservers: HomeserverFactory) -> None:
    """G6 for the `sanctions` and `blacklist` checks."""
    hs = homeservers({"profile": "generic"})
    user = hs.register()
    async with clients(hs, user) as (client,):
        room = await client.room_create(name="r")
        assert isinstance(room, nio.RoomCreateResponse)
    # Break the checks' data underneath them; a restart empties the caches,
    # so the next event has to read the database and fails.
    hs.sql("ALTER TABLE groupreg_sanctions RENAME TO groupreg_sanctions_gone")
    hs.sql("ALTER TABLE groupreg_blacklist RENAME TO groupreg_blacklist_gone")
    hs.restart()
    async with clients(hs, user) as (client,):
        refused = await client.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "x"}
        )
        assert await reason_of(refused) == "MODULE_UNAVAILABLE", refused
        assert isinstance(refused, nio.RoomSendError)
        assert refused.status_code == "M_FORBIDDEN"
    log = hs.log_text()
    assert "groupreg check 'blacklist' failed" in log
    hs.module_config = {
        "profile": "generic",
        "fail": {"sanctions": "open", "blacklist": "open"},
    }
    hs.write_config()
    hs.restart()
    async with clients(hs, user) as (client,):
        sent = await client.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "x"}
        )
        assert isinstance(sent, nio.RoomSendResponse), sent

"""Reading what the notice bot wrote, the way a user's client would."""

from __future__ import annotations

import asyncio
import time

import nio

from tests.harness.homeserver import Homeserver


def bot_of(hs: Homeserver) -> str:
    return f"@groupreg:{hs.server_name}"


async def notices_in(client: nio.AsyncClient, room_id: str, sender: str) -> list[str]:
    """Bodies of `sender`'s m.notice events in a room the client can read,
    newest first."""
    messages = await client.room_messages(room_id, start="", limit=100)
    assert isinstance(messages, nio.RoomMessagesResponse), messages
    return [
        e.body
        for e in messages.chunk
        if isinstance(e, nio.RoomMessageNotice) and e.sender == sender
    ]


async def dm_notices(
    hs: Homeserver, client: nio.AsyncClient, expect: str, timeout: float = 30
) -> list[str]:
    """Accept the notice bot's direct chat (as Element would on a click)
    and return its notices, newest first, once one contains `expect`."""
    user_id = client.user_id
    deadline = time.monotonic() + timeout
    bodies: list[str] = []
    while time.monotonic() < deadline:
        rows = hs.sql(
            "SELECT room_id FROM groupreg_notice_rooms WHERE user_id = ?", (user_id,)
        )
        if rows:
            room_id = str(rows[0][0])
            joined = await client.join(room_id)
            assert isinstance(joined, nio.JoinResponse), joined
            bodies = await notices_in(client, room_id, bot_of(hs))
            if any(expect in b for b in bodies):
                return bodies
        await asyncio.sleep(0.3)
    raise AssertionError(f"no notice containing {expect!r} for {user_id}: {bodies}")

"""What the notice bot told a user, read the way Element would: sync, accept
the bot's direct-chat invite, read the room's notices."""

from __future__ import annotations

import asyncio
import time

import nio

from tests.harness.homeserver import Homeserver


def bot_user_id(hs: Homeserver) -> str:
    return f"@groupreg:{hs.server_name}"


async def bot_notices(
    hs: Homeserver, client: nio.AsyncClient, expect: str, timeout: float = 30
) -> list[str]:
    """Sync until the notice bot's direct chat holds a notice containing
    `expect`; answers the bot's notices in the user's rooms, newest first
    within each room."""
    bot = bot_user_id(hs)
    deadline = time.monotonic() + timeout
    bodies: list[str] = []
    while time.monotonic() < deadline:
        sync = await client.sync(timeout=500)
        assert isinstance(sync, nio.SyncResponse), sync
        for room_id, invite in sync.rooms.invite.items():
            inviters = {
                e.sender
                for e in invite.invite_state
                if isinstance(e, nio.InviteMemberEvent) and e.membership == "invite"
            }
            if bot in inviters:
                joined = await client.join(room_id)
                assert isinstance(joined, nio.JoinResponse), joined
        bodies = []
        for room_id in client.rooms:
            messages = await client.room_messages(room_id, start="", limit=50)
            assert isinstance(messages, nio.RoomMessagesResponse), messages
            bodies.extend(
                e.body
                for e in messages.chunk
                if isinstance(e, nio.RoomMessageNotice) and e.sender == bot
            )
        if any(expect in body for body in bodies):
            return bodies
        await asyncio.sleep(0.3)
    raise AssertionError(
        f"no notice containing {expect!r} reached {client.user_id}: {bodies}"
    )

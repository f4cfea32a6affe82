"""Quarantining the media of a closed room or a blacklisted user (C7, D2,
D4) through Synapse's own quarantine (the store calls its admin API
makes, `hs.quarantine_room_media` / `hs.quarantine_user_media`): nobody
can download the files from this server any more, and a copy uploaded
again is quarantined too (Synapse matches quarantined digests)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

Quarantiner = Callable[[str, str], Awaitable[int]]


class MediaQuarantine:
    """Args:
    room: quarantines a room's media (room id, by whom) -> how many.
    user: quarantines a user's uploads (user id, by whom) -> how many.
    """

    def __init__(self, room: Quarantiner, user: Quarantiner) -> None:
        self._room = room
        self._user = user

    async def room(self, room_id: str, by: str) -> dict[str, Any]:
        """What to add to the audit entry of the sanction."""
        return await self._run(self._room, room_id, by)

    async def user(self, user_id: str, by: str) -> dict[str, Any]:
        return await self._run(self._user, user_id, by)

    async def _run(self, step: Quarantiner, target: str, by: str) -> dict[str, Any]:
        try:
            return {"media_quarantined": await step(target, by)}
        except Exception as e:
            # The sanction stands; the audit entry says what did not happen.
            logger.exception("could not quarantine the media of %s", target)
            return {"media_quarantine_error": str(e)}

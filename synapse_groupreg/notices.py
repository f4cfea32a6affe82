"""The notice bot: how the platform speaks to users inside their client.

A local account the module owns (`@groupreg:server` by default) writes
direct messages (statements of reasons, verification links, complaint
outcomes) and notices into rooms it is in. Users see it in Element as an
ordinary direct chat. Its events pass through the module's own checks like
anyone's, so every check exempts `is_bot` senders.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from synapse.types import UserID

from synapse_groupreg import hs
from synapse_groupreg.config import NoticesConfig
from synapse_groupreg.events import MEMBER, MESSAGE
from synapse_groupreg.store.notices import NoticeStore

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)

# Memberships in which an existing DM room still reaches the user.
_REACHABLE = ("join", "invite")


class Notices:
    def __init__(
        self, api: ModuleApi, store: NoticeStore, config: NoticesConfig
    ) -> None:
        self._api = api
        self._store = store
        self._config = config
        self.bot_user_id = api.get_qualified_user_id(config.bot_localpart)
        self._bot_ready = False
        self._per_user = hs.linearizer(api, "groupreg_notices")

    def is_bot(self, user_id: str) -> bool:
        return user_id == self.bot_user_id

    async def ensure_bot(self) -> None:
        """Register the bot account if it does not exist yet, and bring it
        back if it was deactivated (`groupreg uninstall` does that, and an
        operator who loads the module again wants a clean start). Idempotent."""
        if self._bot_ready:
            return
        if await hs.user_deactivated(self._api, self.bot_user_id):
            await hs.reactivate(self._api, self.bot_user_id)
            await self._api.set_displayname(
                UserID.from_string(self.bot_user_id), self._config.display_name
            )
            logger.info("reactivated the notice bot %s", self.bot_user_id)
        elif await self._api.check_user_exists(self.bot_user_id) is None:
            try:
                await self._api.register_user(
                    self._config.bot_localpart, self._config.display_name
                )
                logger.info("registered the notice bot %s", self.bot_user_id)
            except Exception:
                # Another process may have registered it in the meantime.
                if await self._api.check_user_exists(self.bot_user_id) is None:
                    raise
        self._bot_ready = True

    async def send_dm(self, user_id: str, text: str, html: str | None = None) -> str:
        """Send `text` to `user_id` in the bot's direct chat with them,
        opening (or reopening) that chat when needed. Returns the event id."""
        await self.ensure_bot()
        async with self._per_user.queue(user_id):
            room_id = await self._store.dm_room(user_id)
            if room_id is None or not await self._reaches(room_id, user_id):
                room_id = await self._open_dm(user_id)
            return await self.send_to_room(room_id, text, html)

    async def send_to_room(
        self,
        room_id: str,
        text: str,
        html: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Send an `m.notice` into a room the bot is a member of; `extra`
        adds fields to its content (machine-readable facts beside the text)."""
        content: dict[str, Any] = {**(extra or {}), "msgtype": "m.notice", "body": text}
        if html is not None:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = html
        event = await self._api.create_and_send_event_into_room(
            {
                "type": MESSAGE,
                "room_id": room_id,
                "sender": self.bot_user_id,
                "content": content,
            }
        )
        return str(event.event_id)

    async def _reaches(self, room_id: str, user_id: str) -> bool:
        state = await self._api.get_room_state(
            room_id, [(MEMBER, user_id), (MEMBER, self.bot_user_id)]
        )
        user = state.get((MEMBER, user_id))
        bot = state.get((MEMBER, self.bot_user_id))
        return (
            user is not None
            and user.membership in _REACHABLE
            and bot is not None
            and bot.membership == "join"
        )

    async def _open_dm(self, user_id: str) -> str:
        room_id, _ = await self._api.create_room(
            self.bot_user_id,
            {
                "preset": "trusted_private_chat",
                "is_direct": True,
                "invite": [user_id],
            },
            ratelimit=False,
        )
        await self._store.set_dm_room(
            user_id, room_id, self._api.get_current_time_msec()
        )
        logger.info("opened a notice chat with %s in %s", user_id, room_id)
        return room_id

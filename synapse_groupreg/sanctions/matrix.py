"""What room sanctions do in Matrix: find who answers for a room, bring the
notice bot in to post, remove the members of a closed room.

The notice bot posts in a room only as a member. Public rooms it joins; for
the others a local member entitled to invite (the creator first, then the
admins by power) invites it, and it joins. The checks let events about the
bot's own membership through, so this works in suspended and closed rooms
too; other concerns' checks must let the bot through as well (it is
`Notices.is_bot`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from synapse_groupreg import hs

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)

CREATE = ("m.room.create", "")
POWER = ("m.room.power_levels", "")
JOIN_RULES = ("m.room.join_rules", "")
NAME = ("m.room.name", "")
MEMBER = "m.room.member"

#: B5: admins are members with power level 50 or more (and v12 creators).
ADMIN_POWER = 50


@attrs.frozen(slots=True)
class RoomFacts:
    """Who answers for a room (B5) and what to call it."""

    room_id: str
    name: str | None
    #: The creator and, in room version 12, the additional creators.
    creators: tuple[str, ...]
    #: Users with power level >= 50, highest first.
    admins: tuple[str, ...]

    @property
    def responsible(self) -> tuple[str, ...]:
        """Creators then admins, each once."""
        seen: dict[str, None] = {}
        for user_id in (*self.creators, *self.admins):
            seen.setdefault(user_id, None)
        return tuple(seen)


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class RoomActions:
    def __init__(self, api: ModuleApi, bot_user_id: str) -> None:
        self._api = api
        self._bot = bot_user_id

    async def exists(self, room_id: str) -> bool:
        try:
            state = await self._api.get_room_state(room_id, [CREATE])
        except Exception:
            return False
        return CREATE in state

    async def facts(self, room_id: str) -> RoomFacts:
        state = await self._api.get_room_state(room_id, [CREATE, POWER, NAME])
        create = state.get(CREATE)
        creators: list[str] = []
        if create is not None:
            creators.append(create.sender)
            extra = create.content.get("additional_creators")
            if isinstance(extra, Iterable) and not isinstance(extra, str):
                creators.extend(str(u) for u in extra if isinstance(u, str))
        power = state.get(POWER)
        users = power.content.get("users") if power is not None else None
        ranked = sorted(
            (
                (level, user_id)
                for user_id, level in (dict(users) if users else {}).items()
                if _int(level, 0) >= ADMIN_POWER
            ),
            key=lambda p: (-_int(p[0], 0), p[1]),
        )
        name_event = state.get(NAME)
        name = name_event.content.get("name") if name_event is not None else None
        return RoomFacts(
            room_id=room_id,
            name=str(name) if isinstance(name, str) and name else None,
            creators=tuple(creators),
            admins=tuple(u for _, u in ranked),
        )

    def local(self, user_ids: Iterable[str]) -> list[str]:
        return [u for u in user_ids if self._api.is_mine(u) and u != self._bot]

    async def ensure_bot_in_room(self, room_id: str) -> bool:
        """Bring the notice bot into the room; False if nobody could."""
        state = await self._api.get_room_state(
            room_id, [(MEMBER, self._bot), JOIN_RULES]
        )
        own = state.get((MEMBER, self._bot))
        membership = own.membership if own is not None else None
        if membership == "join":
            return True
        if membership == "ban":
            return False
        rules = state.get(JOIN_RULES)
        public = rules is not None and rules.content.get("join_rule") == "public"
        if (
            membership != "invite"
            and not public
            and not await self._invite_bot(room_id)
        ):
            return False
        try:
            await self._api.update_room_membership(
                self._bot, self._bot, room_id, "join"
            )
        except Exception as e:
            logger.warning("the notice bot could not join %s: %s", room_id, e)
            return False
        return True

    async def _invite_bot(self, room_id: str) -> bool:
        facts = await self.facts(room_id)
        candidates = self.local(facts.responsible)
        if not candidates:
            return False
        members = await self._api.get_room_state(
            room_id, [(MEMBER, u) for u in candidates]
        )
        for inviter in candidates:
            event = members.get((MEMBER, inviter))
            if event is None or event.membership != "join":
                continue
            try:
                await self._api.update_room_membership(
                    inviter, self._bot, room_id, "invite"
                )
                return True
            except Exception as e:
                logger.info(
                    "%s could not invite the notice bot into %s: %s",
                    inviter,
                    room_id,
                    e,
                )
        return False

    async def remove_members(self, room_id: str) -> tuple[list[str], list[str]]:
        """D2 close: every local member leaves; the history stays."""
        removed, failed = await hs.remove_local_members(self._api, room_id, self._bot)
        try:
            directory = self._api.public_room_list_manager
            if await directory.room_is_in_public_room_list(room_id):
                await directory.remove_room_from_public_room_list(room_id)
        except Exception as e:
            logger.warning("could not take %s off the room directory: %s", room_id, e)
        return removed, failed

"""The rooms as Matrix has them: the one adapter between the module's rules
and a room's Matrix state.

Who answers for a room (B5) is read here and nowhere else: its creators
(the create event's sender and, in room version 12, `additional_creators`,
whose power no later event can lower) and its admins (members whose power
level is at least `rooms.admin_power_level`). The same adapter publishes
the registry's facts as `org.groupreg.room`, removes members the rules do
not admit, brings the notice bot into rooms, and removes the members of a
closed room.

The module has no account of its own in users' rooms, so a state update or
a removal is sent in the name of a joined local member with the power to
send it: the creators first, then members by power level. Whatever
happens, the registry stays the authority; a room nobody with power is
left in keeps its old state event, and the failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from synapse.api.errors import SynapseError

from synapse_groupreg import hs
from synapse_groupreg.events import (
    CREATE,
    ENCRYPTION,
    JOIN_RULES,
    MEMBER,
    NAME,
    POWER_LEVELS,
    ROOM_STATE,
    state_key_pair,
)
from synapse_groupreg.rooms.powers import creators_of, ranked_users
from synapse_groupreg.rooms.registry import row_state
from synapse_groupreg.store.rooms import RoomRow

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)

_CREATE = state_key_pair(CREATE)
_POWER = state_key_pair(POWER_LEVELS)
_NAME = state_key_pair(NAME)
_ENCRYPTION = state_key_pair(ENCRYPTION)
_JOIN_RULES = state_key_pair(JOIN_RULES)
StateMap = Mapping[tuple[str, str], "EventBase"]


@attrs.frozen(slots=True)
class RoomFacts:
    """Who answers for a room (B5) and what to call it."""

    room_id: str
    name: str | None
    #: The creator and, in room version 12, the additional creators.
    creators: tuple[str, ...]
    #: Users with power level >= `rooms.admin_power_level`, highest first.
    admins: tuple[str, ...]

    @property
    def responsible(self) -> tuple[str, ...]:
        """Creators then admins, each once."""
        return tuple(dict.fromkeys((*self.creators, *self.admins)))


class MatrixRooms:
    """The rooms' Matrix state, read and written through the module API.

    Args:
        admin_level: `rooms.admin_power_level`, the power from which a
            member is an admin (B5).
        bot_user_id: the notice bot, never counted among a room's people.
    """

    def __init__(self, api: ModuleApi, admin_level: int, bot_user_id: str) -> None:
        self._api = api
        self.admin_level = admin_level
        self._bot = bot_user_id

    # -- reading ------------------------------------------------------------

    async def state(self, room_id: str) -> StateMap:
        """The room's whole current state."""
        state: StateMap = await self._api.get_room_state(room_id)
        return state

    async def state_of(self, room_id: str, keys: Iterable[tuple[str, str]]) -> StateMap:
        """The room's current state events of these (type, state key)."""
        state: StateMap = await self._api.get_room_state(room_id, list(keys))
        return state

    async def event(self, event_id: str) -> EventBase | None:
        return await hs.event(self._api, event_id)

    async def exists(self, room_id: str) -> bool:
        try:
            state = await self._api.get_room_state(room_id, [_CREATE])
        except Exception:
            return False
        return _CREATE in state

    async def facts(self, room_id: str) -> RoomFacts:
        state = await self._api.get_room_state(room_id, [_CREATE, _POWER, _NAME])
        return RoomFacts(
            room_id=room_id,
            name=_name(state),
            creators=creators_of(state.get(_CREATE)),
            admins=tuple(
                u
                for u, level in ranked_users(state.get(_POWER))
                if level >= self.admin_level
            ),
        )

    async def membership(self, room_id: str, user_id: str) -> str | None:
        state = await self._api.get_room_state(room_id, [(MEMBER, user_id)])
        event = state.get((MEMBER, user_id))
        return str(event.membership) if event is not None else None

    async def name_and_encryption(self, room_id: str) -> tuple[str | None, bool]:
        state = await self._api.get_room_state(room_id, [_NAME, _ENCRYPTION])
        return _name(state), _ENCRYPTION in state

    async def encrypted(self, room_id: str) -> bool:
        return (await self.name_and_encryption(room_id))[1]

    def local(self, user_ids: Iterable[str]) -> list[str]:
        """The local people among `user_ids` (never the notice bot)."""
        return [u for u in user_ids if self._api.is_mine(u) and u != self._bot]

    # -- acting for the room ---------------------------------------------------

    async def publish(self, room: RoomRow) -> str | None:
        """Send the registry's facts as `org.groupreg.room`; the member it
        was sent as, or None if no member with the power to send it could."""
        sent = await self.send_state(
            room.room_id, ROOM_STATE, row_state(room), room.creator
        )
        if sent is None:
            logger.warning(
                "nobody left in %s can update %s; the registry has the new facts",
                room.room_id,
                ROOM_STATE,
            )
            return None
        return sent[0]

    async def send_state(
        self,
        room_id: str,
        event_type: str,
        content: dict[str, Any],
        creator: str | None = None,
    ) -> tuple[str, str] | None:
        """Send a state event (state key "") as a joined local member with
        the power to: (the member, the event id), or None if nobody could."""
        for sender in await self._senders(room_id, creator):
            try:
                event = await self._api.create_and_send_event_into_room(
                    {
                        "type": event_type,
                        "room_id": room_id,
                        "sender": sender,
                        "state_key": "",
                        "content": content,
                    }
                )
                return sender, str(event.event_id)
            except SynapseError as e:
                logger.info(
                    "could not send %s in %s as %s: %s", event_type, room_id, sender, e
                )
        return None

    async def join_rules(self, room_id: str) -> tuple[EventBase | None, Any]:
        """The room's `m.room.join_rules` event and its room version."""
        state = await self._api.get_room_state(room_id, [_JOIN_RULES, _CREATE])
        create = state.get(_CREATE)
        version = create.room_version if create is not None else None
        return state.get(_JOIN_RULES), version

    async def registration_state(self, room_id: str) -> dict[str, Any] | None:
        """The room's `org.groupreg.room` content, or None if it has none."""
        state = await self._api.get_room_state(room_id, [(ROOM_STATE, "")])
        event = state.get((ROOM_STATE, ""))
        if event is None:
            return None
        return {k: event.content.get(k) for k in event.content}

    async def remove(self, room_id: str, user_id: str, reason: str) -> bool:
        """Remove (kick, or withdraw the invite of) a member the rules do not
        admit, giving `reason`; False if no member with power could."""
        for sender in await self._senders(room_id, None):
            try:
                await self._api.update_room_membership(
                    sender, user_id, room_id, "leave", {"reason": reason}
                )
                return True
            except SynapseError as e:
                logger.info(
                    "could not remove %s from %s as %s: %s", user_id, room_id, sender, e
                )
        logger.warning("nobody in %s can remove %s", room_id, user_id)
        return False

    async def _senders(self, room_id: str, creator: str | None) -> list[str]:
        """Joined local members who may act for the room, most powerful
        first: the creator(s), then by power level (at most three)."""
        state = await self._api.get_room_state(room_id, [_CREATE, _POWER])
        candidates = [creator] if creator is not None else []
        candidates.extend(creators_of(state.get(_CREATE)))
        candidates.extend(u for u, _ in ranked_users(state.get(_POWER)))
        senders: list[str] = []
        for user_id in dict.fromkeys(candidates):
            if not self._api.is_mine(user_id):
                continue
            if await self.membership(room_id, user_id) == "join":
                senders.append(user_id)
            if len(senders) == 3:
                break
        return senders

    async def ensure_bot_in_room(self, room_id: str) -> bool:
        """Bring the notice bot into the room; False if nobody could. Public
        rooms it joins; for the others a joined local member entitled to
        invite (the creators first, then the admins by power) invites it.
        The checks let events about the bot's own membership through, so
        this works in suspended and closed rooms too."""
        state = await self._api.get_room_state(
            room_id, [(MEMBER, self._bot), _JOIN_RULES]
        )
        own = state.get((MEMBER, self._bot))
        membership = own.membership if own is not None else None
        if membership == "join":
            return True
        if membership == "ban":
            return False
        rules = state.get(_JOIN_RULES)
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


def _name(state: StateMap) -> str | None:
    event = state.get(_NAME)
    name = event.content.get("name") if event is not None else None
    return name if isinstance(name, str) and name else None

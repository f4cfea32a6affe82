"""The rooms' own Matrix state, as the registry's HTTP routes need it: who is
a member, whether the room is encrypted, and publishing the registry's facts
as the `org.groupreg.room` state event after a change.

The module has no account of its own in users' rooms, so a state update is
sent in the name of a member who has the power to send it: the creator
first, then the room's admins by power. Whatever happens, the registry
stays the authority; a room nobody with power is left in keeps its old
state event, and the failure is logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from synapse.api.errors import SynapseError

from synapse_groupreg.rooms.registry import ROOM_STATE, row_state
from synapse_groupreg.store.rooms import RoomRow

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)

_CREATE = ("m.room.create", "")
_POWER = ("m.room.power_levels", "")
_NAME = ("m.room.name", "")
_ENCRYPTION = ("m.room.encryption", "")


class RoomState:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api

    async def membership(self, room_id: str, user_id: str) -> str | None:
        state = await self._api.get_room_state(room_id, [("m.room.member", user_id)])
        event = state.get(("m.room.member", user_id))
        return str(event.membership) if event is not None else None

    async def name_and_encryption(self, room_id: str) -> tuple[str | None, bool]:
        state = await self._api.get_room_state(room_id, [_NAME, _ENCRYPTION])
        name_event = state.get(_NAME)
        name = name_event.content.get("name") if name_event is not None else None
        return (name if isinstance(name, str) and name else None), (
            _ENCRYPTION in state
        )

    async def encrypted(self, room_id: str) -> bool:
        return (await self.name_and_encryption(room_id))[1]

    async def publish(self, room: RoomRow) -> bool:
        """Send the registry's facts as `org.groupreg.room`; False if no
        member with the power to send it could."""
        for sender in await self._senders(room.room_id, room.creator):
            try:
                await self._api.create_and_send_event_into_room(
                    {
                        "type": ROOM_STATE,
                        "room_id": room.room_id,
                        "sender": sender,
                        "state_key": "",
                        "content": row_state(room),
                    }
                )
                return True
            except SynapseError as e:
                logger.info(
                    "could not update %s in %s as %s: %s",
                    ROOM_STATE,
                    room.room_id,
                    sender,
                    e,
                )
        logger.warning(
            "nobody left in %s can update %s; the registry has the new facts",
            room.room_id,
            ROOM_STATE,
        )
        return False

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
        first: the creator(s), then by power level."""
        state = await self._api.get_room_state(room_id, [_CREATE, _POWER])
        candidates: list[str] = [creator] if creator is not None else []
        create = state.get(_CREATE)
        if create is not None:
            candidates.append(str(create.sender))
            extra = create.content.get("additional_creators")
            if isinstance(extra, list | tuple):
                candidates.extend(str(u) for u in extra)
        power = state.get(_POWER)
        users: Any = power.content.get("users") if power is not None else None
        try:
            levels = [(str(u), int(level)) for u, level in (users or {}).items()]
        except (AttributeError, TypeError, ValueError):
            levels = []  # a malformed power-levels event names nobody
        candidates.extend(u for u, _ in sorted(levels, key=lambda kv: -kv[1]))
        senders: list[str] = []
        for user_id in dict.fromkeys(candidates):
            if not self._api.is_mine(user_id):
                continue
            if await self.membership(room_id, user_id) == "join":
                senders.append(user_id)
            if len(senders) == 3:
                break
        return senders

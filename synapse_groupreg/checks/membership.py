"""Joins and invites (B1 join rules, B3 caps, B6 room info, B7 federation).

`check_event_allowed` sees every membership event created on this server:
joins and invites of ordinary users, of server admins (whom Synapse lets
past `user_may_join_room`), and remote users' joins at make_join, before the
remote server signs them. So caps are enforced there, for everyone: a
newcomer reserves a seat in the database (store/seats.py) or is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from synapse_groupreg import hs
from synapse_groupreg.config.rooms import DIRECT_MEMBER_CAP, class_name
from synapse_groupreg.identity.levels import IdentityLevel
from synapse_groupreg.reasons import Refusal
from synapse_groupreg.rooms.caps import SeatRules
from synapse_groupreg.rooms.classes import federation_refusal, server_of
from synapse_groupreg.services import Services

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.module_api import ModuleApi

MEMBER = "m.room.member"
SEATED = ("join", "invite")


def _content(event: Any, key: str) -> Any:
    return event.content.get(key) if event is not None else None


class Membership:
    def __init__(self, api: ModuleApi, services: Services) -> None:
        self._api = api
        self._s = services
        self._config = services.config.rooms

    async def decide(
        self, event: EventBase, state: Mapping[tuple[str, str], EventBase]
    ) -> Refusal | None:
        """Whether this join or invite may take a seat (and take it)."""
        membership = event.content.get("membership")
        target = event.state_key
        if membership not in SEATED or target is None:
            return None
        previous = _content(state.get((MEMBER, target)), "membership")
        if previous in SEATED:
            return None  # an invitee joining, or a profile change: same seat
        create = state.get(("m.room.create", ""))
        if create is not None and create.sender == target and len(state) == 1:
            return None  # the creator's own join, the room's second event
        if self._s.notices.is_bot(target):
            return None
        return await self._judge(event, target, membership, state, True)

    async def recheck(
        self, event: EventBase, state: Mapping[tuple[str, str], EventBase]
    ) -> Refusal | None:
        """Judge a join or invite that is already in the room because it
        came over federation from a server that is itself in the room: that
        server built the event, so no check of ours ran before. `state` is
        the room's state now. Nothing is reserved: the member is seated."""
        membership = event.content.get("membership")
        target = event.state_key
        if membership not in SEATED or target is None or self._s.notices.is_bot(target):
            return None
        return await self._judge(event, target, membership, state, False)

    async def _judge(
        self,
        event: EventBase,
        target: str,
        membership: str,
        state: Mapping[tuple[str, str], EventBase],
        reserve: bool,
    ) -> Refusal | None:
        room_id = event.room_id
        room = await self._s.rooms.room(room_id)
        is_local = self._api.is_mine(target)
        room_class = self._s.rooms.class_of(room)
        if not is_local and not self._config.admits_server(
            room_class, server_of(target)
        ):
            return federation_refusal(class_name(room_class), target)
        if reserve and not hs.passes_auth_rules(event, state.values()):
            # Synapse will refuse it with its own reason (a ban, no invite
            # power, an invite-only room): a seat held for it would only
            # keep others out until it expired.
            return None

        verified_from = room_class.join_verified_from if room_class else None
        joiner_verified = True
        if membership == "join" and verified_from is not None and room_class:
            level = (
                await self._s.identity_levels.level_of(target)
                if is_local
                else IdentityLevel.NONE
            )
            joiner_verified = level.at_least(room_class.join_identity)
        counts_joined = (
            membership == "join"
            and is_local
            and room_class is not None
            and not await self._api.is_user_admin(target)
        )
        has_name = bool(_content(state.get(("m.room.name", "")), "name"))
        rules = SeatRules(
            member_cap=(
                DIRECT_MEMBER_CAP if room_class is None else room_class.member_cap
            ),
            info_required_at=(
                None if room_class is None else self._config.info_required_at
            ),
            has_info=has_name and room is not None and room.category is not None,
            verified_from=verified_from,
            joiner_verified=joiner_verified,
            joined_limit=self._config.joined_per_user if counts_joined else None,
            bot_name=self._s.config.notices.display_name,
        )
        return await self._s.caps.admit(room_id, target, membership, rules, reserve)

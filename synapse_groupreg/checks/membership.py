"""Joins and invites (B1 join rules, B3 caps, B6 room info, B7 federation).

The member stage sees every membership event created on this server:
joins and invites of ordinary users, of server admins (whom Synapse lets
past `user_may_join_room`), and remote users' joins at make_join, before
the remote server signs them. So caps are enforced there, for everyone: a
newcomer reserves a seat in the database (store/seats.py) or is refused.
A membership that arrived over federation already seated is judged the
same way, without reserving (the dispatcher removes it on a refusal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synapse_groupreg import hs
from synapse_groupreg.config.rooms import DIRECT_MEMBER_CAP, RoomsConfig, class_name
from synapse_groupreg.dispatch import EventFacts
from synapse_groupreg.events import CREATE, MEMBER, NAME, SEATED, state_key_pair
from synapse_groupreg.identity.levels import IdentityLevel
from synapse_groupreg.reasons import Refusal
from synapse_groupreg.rooms.caps import Caps, SeatRules
from synapse_groupreg.rooms.classes import federation_refusal, server_of
from synapse_groupreg.rooms.registry import RoomRegistry
from synapse_groupreg.standing import IdentityLevels

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

_CREATE = state_key_pair(CREATE)
_NAME = state_key_pair(NAME)


def _content(event: Any, key: str) -> Any:
    return event.content.get(key) if event is not None else None


class Membership:
    def __init__(
        self,
        api: ModuleApi,
        config: RoomsConfig,
        registry: RoomRegistry,
        caps: Caps,
        identity_levels: IdentityLevels,
        bot_name: str,
    ) -> None:
        self._api = api
        self._config = config
        self._registry = registry
        self._caps = caps
        self._levels = identity_levels
        self._bot_name = bot_name

    async def decide(self, facts: EventFacts) -> Refusal | None:
        """Whether this join or invite may take a seat (and take it), or,
        for a member already seated over federation, keep it."""
        membership = facts.membership
        target = facts.state_key
        if membership == "knock" and target == facts.sender and not facts.seated:
            # A knock takes no seat, but it asks for one: judged as the join
            # it asks for (class, identity, cap), without reserving.
            return await self._judge(facts, target, "join", reserve=False)
        if membership not in SEATED or target is None:
            return None
        state = await facts.state()
        if not facts.seated:
            previous = _content(state.get((MEMBER, target)), "membership")
            if previous in SEATED:
                return None  # an invitee joining, or a profile change: same seat
            create = state.get(_CREATE)
            if create is not None and create.sender == target and len(state) == 1:
                return None  # the creator's own join, the room's second event
        return await self._judge(facts, target, membership, not facts.seated)

    async def _judge(
        self, facts: EventFacts, target: str, membership: str, reserve: bool
    ) -> Refusal | None:
        room = await facts.room()
        state = await facts.state()
        is_local = self._api.is_mine(target)
        room_class = self._registry.class_of(room)
        if not is_local and not self._config.admits_server(
            room_class, server_of(target)
        ):
            return federation_refusal(class_name(room_class), target)
        if reserve and not hs.passes_auth_rules(facts.event, state.values()):
            # Synapse will refuse it with its own reason (a ban, no invite
            # power, an invite-only room): a seat held for it would only
            # keep others out until it expired.
            return None

        verified_from = room_class.join_verified_from if room_class else None
        joiner_verified = True
        if membership == "join" and verified_from is not None and room_class:
            level = (
                await self._levels.level_of(target) if is_local else IdentityLevel.NONE
            )
            joiner_verified = level.at_least(room_class.join_identity)
        counts_joined = (
            membership == "join"
            and is_local
            and room_class is not None
            and not await self._api.is_user_admin(target)
        )
        has_name = bool(_content(state.get(_NAME), "name"))
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
            bot_name=self._bot_name,
        )
        return await self._caps.admit(facts.room_id, target, membership, rules, reserve)

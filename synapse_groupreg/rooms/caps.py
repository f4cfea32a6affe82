"""Caps (B3, B6, B1 join rules): when a room, or a user, has no room left.

The rules are pure functions of counts; `Caps` takes the counts under the
store's lock and reserves the seat or the creation in the same transaction,
so the answer holds across processes (see store/seats.py).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from synapse_groupreg.config.rooms import RoomClass, RoomsConfig
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.rooms import IssuedCode
from synapse_groupreg.store.seats import CreationCounts, SeatCounts, SeatStore

#: What IDENTITY_REQUIRED says the user tried (A1's message, reused for B1's
#: verified joiners).
JOIN_ACTION = ("加入该群", "join this group")


@attrs.frozen(slots=True)
class SeatRules:
    """The limits a newcomer to one room is held to."""

    member_cap: int
    #: B6: from this many members on, name and category must be set.
    info_required_at: int | None
    has_info: bool
    #: B1: from this many members on, joiners must be verified.
    verified_from: int | None
    joiner_verified: bool
    #: B3: the newcomer's own join cap (None: not counted).
    joined_limit: int | None
    #: Named in IDENTITY_REQUIRED: who sends the verification link.
    bot_name: str


def seat_refusal(rules: SeatRules, counts: SeatCounts) -> Refusal | None:
    """Whether one more member fits."""
    if counts.members >= rules.member_cap:
        return Refusal(Reason.ROOM_FULL, {"limit": rules.member_cap})
    if (
        rules.info_required_at is not None
        and counts.members >= rules.info_required_at
        and not rules.has_info
    ):
        return Refusal(Reason.ROOM_INFO_REQUIRED, {"threshold": rules.info_required_at})
    if (
        rules.verified_from is not None
        and counts.members >= rules.verified_from
        and not rules.joiner_verified
    ):
        return Refusal(
            Reason.IDENTITY_REQUIRED, {"action": JOIN_ACTION, "bot": rules.bot_name}
        )
    if (
        rules.joined_limit is not None
        and counts.joined is not None
        and counts.joined >= rules.joined_limit
    ):
        return Refusal(Reason.JOIN_LIMIT, {"limit": rules.joined_limit})
    return None


def creation_cap_refusal(
    config: RoomsConfig, room_class: RoomClass, counts: CreationCounts
) -> Refusal | None:
    """Whether the creator may make one more group of `room_class` (and,
    since creating a room joins it, be in one more group)."""
    if counts.created >= config.created_per_user:
        return Refusal(Reason.CREATE_LIMIT, {"limit": config.created_per_user})
    per_class = room_class.created_per_user
    if per_class is not None and counts.created_in_class >= per_class:
        return Refusal(Reason.CREATE_LIMIT, {"limit": per_class})
    if counts.joined >= config.joined_per_user:
        return Refusal(Reason.JOIN_LIMIT, {"limit": config.joined_per_user})
    return None


class Caps:
    def __init__(
        self, config: RoomsConfig, store: SeatStore, now_ms: Callable[[], int]
    ) -> None:
        self._config = config
        self._store = store
        self._now_ms = now_ms

    async def admit(
        self,
        room_id: str,
        user_id: str,
        membership: str,
        rules: SeatRules,
        reserve: bool = True,
    ) -> Refusal | None:
        """Reserve a seat for `user_id`'s join or invite, or say why not
        (`reserve=False`: only say, for a member already seated)."""
        now = self._now_ms()
        return await self._store.reserve_seat(
            room_id,
            user_id,
            membership,
            rules.joined_limit is not None,
            now,
            now + self._config.seat_hold_ms if reserve else None,
            lambda counts: seat_refusal(rules, counts),
        )

    async def admit_creation(
        self, code: IssuedCode, room_class: RoomClass
    ) -> Refusal | None:
        """Count the room being created (by its code) against its creator's
        caps, or say why it cannot be."""
        now = self._now_ms()
        return await self._store.reserve_creation(
            code,
            now,
            now + self._config.seat_hold_ms,
            lambda counts: creation_cap_refusal(self._config, room_class, counts),
        )

    async def release(self, room_id: str, user_id: str, left_ts: int) -> None:
        """The user left at `left_ts`: a seat reserved before that (which
        ends before `left_ts` + the hold) must not count again; one reserved
        since, for a new join, stays."""
        await self._store.release(room_id, user_id, left_ts + self._config.seat_hold_ms)

    async def purge_expired(self) -> int:
        return await self._store.purge_expired(self._now_ms())

"""Who a room's events make responsible for it (B5), read from the events
themselves: pure, for the Matrix adapter, the registry and accountability.

Creators are the create event's sender and, in rooms whose version gives
creators their own power (MSC4289, room version 12), the
`additional_creators` it names. Admins are users whose power level is at
least `rooms.admin_power_level`. `Powers` answers what a user may do now
(the mutes' hierarchy, the limits' exemption of admins): there, creators
stand above every level only where the room version says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs


def power_level(value: Any) -> int | None:
    """A power level as Matrix allows it (an integer, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def creators_of(create: Any) -> tuple[str, ...]:
    """The room's creators: the create event's sender, and in rooms whose
    version gives creators their own power (MSC4289, room version 12) the
    `additional_creators` it names."""
    if create is None:
        return ()
    creators = [str(create.sender)]
    room_version = getattr(create, "room_version", None)
    if room_version is not None and room_version.msc4289_creator_power_enabled:
        extra = create.content.get("additional_creators")
        if isinstance(extra, Iterable) and not isinstance(extra, str):
            creators.extend(str(u) for u in extra if isinstance(u, str))
    return tuple(dict.fromkeys(creators))


def ranked_users(power: Any) -> list[tuple[str, int]]:
    """The users a power-levels event names, highest first (ties by id);
    malformed entries name nobody."""
    users: Any = power.content.get("users") if power is not None else None
    if not isinstance(users, Mapping):
        try:
            users = dict(users or {})
        except (TypeError, ValueError):
            return []
    levels = [
        (str(user_id), level)
        for user_id, raw in users.items()
        if (level := power_level(raw)) is not None
    ]
    return sorted(levels, key=lambda kv: (-kv[1], kv[0]))


def admins_at(users: Mapping[str, object], admin_level: int) -> dict[str, int]:
    """The admins a power-levels `users` map names: level at least
    `admin_level` (B5)."""
    admins: dict[str, int] = {}
    for user_id, raw in users.items():
        level = power_level(raw)
        if level is not None and level >= admin_level:
            admins[str(user_id)] = level
    return admins


@attrs.frozen(slots=True)
class Powers:
    """The power of a room's users as its create and power-levels events
    give it; creators of room version 12 rooms above every level."""

    creators: frozenset[str]
    users: Mapping[str, int]
    default: int

    def of(self, user_id: str) -> float:
        if user_id in self.creators:
            return math.inf
        return self.users.get(user_id, self.default)

    @classmethod
    def read(cls, create: Any, power: Any) -> Powers:
        version = getattr(create, "room_version", None)
        creator_power = version is not None and version.msc4289_creator_power_enabled
        content = power.content if power is not None else {}
        users = {
            user_id: level
            for user_id, level in ranked_users(power)
            if not creator_power or user_id not in creators_of(create)
        }
        return cls(
            frozenset(creators_of(create)) if creator_power else frozenset(),
            users,
            power_level(content.get("users_default")) or 0,
        )

"""Timed mutes (B8), the pure rules: durations, the index of mutes in force,
who may mute whom, and what a muted member may still do.

A group's admins (power level at least `rooms.admin_power_level`) and its
creators in room version 12 (whose power no event can lower, MSC4289) mute
members below their own power; platform moderators mute anyone. A mute of
the whole group silences everyone but its admins and the exempt speakers
it names. Expiry is a stored time compared with the clock, so a mute ends
by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from synapse_groupreg.events import (
    ENCRYPTED,
    MESSAGE,
    NAME,
    REACTION,
    TOPIC,
)
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.mutes import ALL, MuteRow

#: Mutes last from one second to thirty days (DingTalk offers 5 min-30 d).
MIN_DURATION_MS = 1000
MAX_DURATION_MS = 30 * 86_400_000
#: How many exempt speakers one mute of the whole group names at most.
MAX_EXEMPT = 100
#: The longest reason kept.
MAX_REASON = 500

#: Who decided a mute, as members read it (never which admin).
BY_ADMINS = ("群管理员", "the group's admins")
BY_PLATFORM = ("平台", "the platform")

_UNITS_MS = {
    "s": 1000,
    "sec": 1000,
    "秒": 1000,
    "m": 60_000,
    "min": 60_000,
    "分": 60_000,
    "分钟": 60_000,
    "h": 3_600_000,
    "小时": 3_600_000,
    "时": 3_600_000,
    "d": 86_400_000,
    "天": 86_400_000,
    "日": 86_400_000,
    "w": 7 * 86_400_000,
    "周": 7 * 86_400_000,
}
_DURATION = re.compile(r"^(\d{1,7})\s*([a-z\u4e00-\u9fff]+)$")

#: State events that speak to the room: a muted member may not send them
#: either. Other state (power levels, join rules, the registration) is an
#: act of administration, governed by power levels and sanctions.
_SPEAKING_STATE = frozenset({NAME, TOPIC, "m.room.avatar", "m.room.pinned_events"})
#: Events a muted member may still send: redactions (taking back what they
#: said is never refused).
_ALLOWED = frozenset({"m.room.redaction"})
#: Messages and reactions, for docs and tests.
SPEECH = (MESSAGE, ENCRYPTED, REACTION, "m.sticker")


class InvalidMute(ValueError):
    """A mute asked for with a bad field: a 400 naming `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_duration(value: object) -> int:
    """A mute's length in milliseconds: seconds as an integer, or text such
    as "90s", "30m", "1h", "7d", "2w", "30分钟", "1小时", "3天".

    Raises:
        InvalidMute: naming `duration`, for anything else, or a length
            outside one second to thirty days.
    """
    if isinstance(value, bool):
        raise InvalidMute("duration", "'duration' must be a length such as '1h'")
    if isinstance(value, int):
        ms = value * 1000
    elif isinstance(value, str):
        match = _DURATION.match(value.strip().lower())
        unit = _UNITS_MS.get(match.group(2)) if match else None
        if match is None or unit is None:
            raise InvalidMute(
                "duration",
                f"{value[:40]!r} is not a length of time; write a number and a "
                "unit: s, m, h, d or w (e.g. '30m', '1h', '7d'), or 分钟, 小时, 天",
            )
        ms = int(match.group(1)) * unit
    else:
        raise InvalidMute("duration", "'duration' must be a length such as '1h'")
    if not MIN_DURATION_MS <= ms <= MAX_DURATION_MS:
        raise InvalidMute(
            "duration", "a mute lasts from 1 second ('1s') to 30 days ('30d')"
        )
    return ms


def silences(event_type: str, is_state: bool) -> bool:
    """Whether a mute refuses an event of this type."""
    if is_state:
        return event_type in _SPEAKING_STATE
    return event_type not in _ALLOWED


def decided_by(row: MuteRow) -> tuple[str, str]:
    return BY_PLATFORM if row.platform else BY_ADMINS


class MutesInForce:
    """The mutes in force, by room and target: one dict lookup per event for
    rooms without a mute."""

    __slots__ = ("_rooms",)

    def __init__(self, rows: Iterable[MuteRow]) -> None:
        rooms: dict[str, dict[str, MuteRow]] = {}
        for row in rows:  # ordered by id: a later mute replaces an earlier one
            rooms.setdefault(row.room_id, {})[row.target] = row
        self._rooms = rooms

    def of_room(self, room_id: str) -> Mapping[str, MuteRow] | None:
        return self._rooms.get(room_id)

    def rooms(self) -> Iterable[str]:
        return self._rooms.keys()


@attrs.frozen(slots=True)
class Silence:
    """The mute that applies to a sender, before a mute of the whole group
    asks whether they are one of its admins (which needs the room's state)."""

    row: MuteRow

    @property
    def whole_group(self) -> bool:
        return self.row.whole_group


def silence_of(room: Mapping[str, MuteRow], sender: str, now_ms: int) -> Silence | None:
    """The sender's own mute if in force, else the group's if in force and
    the sender is not exempt from it."""
    own = room.get(sender)
    if own is not None and own.active_at(now_ms):
        return Silence(own)
    group = room.get(ALL)
    if group is not None and group.active_at(now_ms) and sender not in group.exempt:
        return Silence(group)
    return None


def refusal_of(row: MuteRow, display_time: str) -> Refusal:
    """MEMBER_MUTED or ROOM_MUTED: until when, and whose decision."""
    reason = Reason.ROOM_MUTED if row.whole_group else Reason.MEMBER_MUTED
    return Refusal(reason, {"until": display_time, "by": decided_by(row)})


# -- who may mute whom ---------------------------------------------------------


class Actor:
    """Who is muting or lifting a mute: a platform moderator, or a member
    with the power they hold in the room."""

    __slots__ = ("platform", "power", "user_id")

    def __init__(self, user_id: str, platform: bool, power: float) -> None:
        self.user_id = user_id
        self.platform = platform
        self.power = power


def authority_refusal(actor: Actor, admin_level: int) -> Refusal | None:
    """MUTE_NOT_ALLOWED unless the actor is a platform moderator or one of
    the group's admins."""
    if actor.platform or actor.power >= admin_level:
        return None
    return Refusal(Reason.MUTE_NOT_ALLOWED, {"level": admin_level})


def target_refusal(
    actor: Actor, target: str, target_power: float, in_force: MuteRow | None
) -> Refusal | None:
    """What stops this actor from muting (or unmuting) `target`: a mute the
    platform decided (MUTE_BY_PLATFORM, for group admins), or a target at or
    above the actor's own power (MUTE_PROTECTED)."""
    if actor.platform:
        return None
    if in_force is not None and in_force.platform:
        return Refusal(Reason.MUTE_BY_PLATFORM)
    if target != ALL and target_power >= actor.power:
        return Refusal(Reason.MUTE_PROTECTED, {"target": target})
    return None

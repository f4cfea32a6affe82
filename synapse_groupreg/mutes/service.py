"""Timed mutes (B8): muting a member or the whole group, lifting a mute,
and the statements that tell the people concerned.

The client API (http/mutes.py) and the room commands (mutes/commands.py)
both come here, so a mute typed in Element and one sent by a script obey
the same rules, leave the same audit entry and send the same statement.
The per-event check (checks/mutes.py) reads `in_force` only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.config.rooms import DIRECT
from synapse_groupreg.events import CREATE, POWER_LEVELS, state_key_pair
from synapse_groupreg.mutes.model import (
    MAX_EXEMPT,
    MAX_REASON,
    Actor,
    InvalidMute,
    MutesInForce,
    authority_refusal,
    decided_by,
    target_refusal,
)
from synapse_groupreg.notices import Notices
from synapse_groupreg.reasons import Refusal
from synapse_groupreg.rooms.powers import Powers
from synapse_groupreg.sanctions.statements import Statements, display_duration
from synapse_groupreg.store.mutes import ALL, MuteRow, MuteStore, NewMute

if TYPE_CHECKING:
    from synapse_groupreg.matrix import MatrixRooms
    from synapse_groupreg.rooms.registry import RoomRegistry
    from synapse_groupreg.sanctions.service import SanctionService

logger = logging.getLogger(__name__)

_CREATE = state_key_pair(CREATE)
_POWER = state_key_pair(POWER_LEVELS)


class MuteRefused(Exception):
    """The rules refuse this mute or lift (a 403 with the refusal)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason.value)
        self.refusal = refusal


class NotMuted(Exception):
    """No mute of that target is in force (a 404)."""


@attrs.frozen(slots=True)
class MuteOrder:
    room_id: str
    #: A user id, or ALL for the whole group.
    target: str
    duration_ms: int
    reason: str
    #: Who may still speak under a mute of the whole group.
    exempt: tuple[str, ...]
    actor: str
    #: The actor acts as a platform moderator (module role), not as one of
    #: the group's admins.
    platform: bool


def valid_user_id(field: str, value: object) -> str:
    if (
        not isinstance(value, str)
        or not value.startswith("@")
        or ":" not in value
        or len(value) > 255
        or any(c.isspace() for c in value)
    ):
        raise InvalidMute(field, f"'{field}' must be a user id such as @name:server")
    return value


def check_reason(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidMute("reason", "'reason' must be text")
    if len(value) > MAX_REASON:
        raise InvalidMute("reason", f"'reason' is longer than {MAX_REASON} characters")
    return value.strip()


def check_exempt(values: Sequence[object]) -> tuple[str, ...]:
    if len(values) > MAX_EXEMPT:
        raise InvalidMute("exempt", f"at most {MAX_EXEMPT} exempt speakers")
    return tuple(dict.fromkeys(valid_user_id("exempt", v) for v in values))


class Mutes:
    """Args:
    admin_level: `rooms.admin_power_level`.
    is_bot: the notice bot, which nobody mutes.
    """

    def __init__(
        self,
        store: MuteStore,
        matrix: MatrixRooms,
        registry: RoomRegistry,
        sanctions: SanctionService,
        audit: AuditLog,
        notices: Notices,
        statements: Statements,
        admin_level: int,
        now_ms: Callable[[], int],
    ) -> None:
        self._store = store
        self._matrix = matrix
        self._registry = registry
        self._sanctions = sanctions
        self._audit = audit
        self._notices = notices
        self.statements = statements
        self.admin_level = admin_level
        self.now_ms = now_ms
        self._index = MutesInForce(())
        self._index_rows: tuple[MuteRow, ...] | None = None

    # -- the per-event path ------------------------------------------------------

    async def in_force(self) -> MutesInForce:
        """The mutes in force, rebuilt only when the cached rows changed."""
        rows = await self._store.get_in_force()
        if rows is not self._index_rows:
            self._index = MutesInForce(rows)
            self._index_rows = rows
        return self._index

    async def powers(self, room_id: str) -> Powers:
        state = await self._matrix.state_of(room_id, [_CREATE, _POWER])
        return Powers.read(state.get(_CREATE), state.get(_POWER))

    # -- reading -----------------------------------------------------------------

    async def listing(self, room_id: str) -> list[MuteRow]:
        """The room's mutes in force now, oldest first."""
        room = (await self.in_force()).of_room(room_id) or {}
        now = self.now_ms()
        return sorted(
            (row for row in room.values() if row.active_at(now)), key=lambda r: r.id
        )

    async def history(self, room_id: str, start: int, limit: int) -> Sequence[MuteRow]:
        return await self._store.history(room_id, start, limit)

    def to_json(self, row: MuteRow, with_actor: bool = False) -> dict[str, Any]:
        """A mute as the API answers it; members never learn which admin
        muted (`by` says whose decision), moderators do (`with_actor`)."""
        answer: dict[str, Any] = {
            "mute_id": row.id,
            "room_id": row.room_id,
            "user_id": None if row.whole_group else row.target,
            "all": row.whole_group,
            "exempt": list(row.exempt),
            "reason": row.reason,
            "by": "platform" if row.platform else "group_admins",
            "created_ts": row.created_ts,
            "until_ts": row.until_ts,
            "until": self.statements.time(row.until_ts),
        }
        if with_actor:
            answer.update(
                actor=row.actor, lifted_ts=row.lifted_ts, lifted_by=row.lifted_by
            )
        return answer

    # -- acting ------------------------------------------------------------------

    async def mute(self, order: MuteOrder) -> MuteRow:
        """Put a mute in force (replacing the one on the same target).

        Raises:
            InvalidMute: a bad field (400).
            MuteRefused: the rules refuse it (403).
        """
        room_id = order.room_id
        actor, powers = await self._actor(room_id, order.actor, order.platform)
        target = order.target
        if target != ALL:
            valid_user_id("user_id", target)
            if self._notices.is_bot(target):
                raise InvalidMute("user_id", "the notice bot cannot be muted")
            if target == order.actor:
                raise InvalidMute("user_id", "you cannot mute yourself")
            if await self._matrix.membership(room_id, target) is None:
                raise InvalidMute(
                    "user_id", f"{target} has never been a member of this room"
                )
        in_force = ((await self.in_force()).of_room(room_id) or {}).get(target)
        if in_force is not None and not in_force.active_at(self.now_ms()):
            in_force = None
        refusal = target_refusal(actor, target, powers.of(target), in_force)
        if refusal is not None:
            raise MuteRefused(refusal)
        now = self.now_ms()
        row, replaced = await self._store.replace(
            NewMute(
                room_id=room_id,
                target=target,
                platform=order.platform,
                actor=order.actor,
                reason=order.reason,
                exempt=order.exempt if target == ALL else (),
                created_ts=now,
                until_ts=now + order.duration_ms,
            )
        )
        await self._audit.record(
            order.actor,
            "mute.add",
            room_id,
            {
                "mute_id": row.id,
                "user_id": None if row.whole_group else target,
                "all": row.whole_group,
                "until_ts": row.until_ts,
                "duration_ms": order.duration_ms,
                "platform": order.platform,
                "reason": order.reason,
                "exempt": list(row.exempt),
                "replaced": replaced.id if replaced is not None else None,
            },
        )
        await self._tell(row, self._muted_text(row, await self._where(room_id)))
        return row

    async def lift(
        self, room_id: str, target: str, actor_id: str, platform: bool
    ) -> MuteRow:
        """Lift the mute in force on `target` (a user id or ALL) now.

        Raises:
            NotMuted: none is in force (404).
            MuteRefused: the rules refuse it (403).
        """
        actor, powers = await self._actor(room_id, actor_id, platform)
        now = self.now_ms()
        row = ((await self.in_force()).of_room(room_id) or {}).get(target)
        if row is None or not row.active_at(now):
            raise NotMuted(target)
        refusal = target_refusal(actor, target, powers.of(target), row)
        if refusal is not None:
            raise MuteRefused(refusal)
        lifted = await self._store.lift(row.id, actor_id, now)
        if lifted is None:
            raise NotMuted(target)
        await self._audit.record(
            actor_id,
            "mute.lift",
            room_id,
            {
                "mute_id": lifted.id,
                "user_id": None if lifted.whole_group else target,
                "all": lifted.whole_group,
                "platform": platform,
            },
        )
        await self._tell(lifted, self._lifted_text(lifted, await self._where(room_id)))
        return lifted

    async def _actor(
        self, room_id: str, user_id: str, platform: bool
    ) -> tuple[Actor, Powers]:
        """The actor and the room's powers; MuteRefused unless they may
        mute here (D3: a suspended admin's admin acts are refused)."""
        room = await self._registry.room(room_id)
        if room is not None and room.room_class == DIRECT:
            raise InvalidMute("room_id", "a direct chat is not a group: nobody mutes")
        powers = await self.powers(room_id)
        actor = Actor(user_id, platform, powers.of(user_id))
        refusal = authority_refusal(actor, self.admin_level)
        if refusal is None and not platform:
            refusal = await self._sanctions.admin_act_refusal(user_id)
        if refusal is not None:
            raise MuteRefused(refusal)
        return actor, powers

    # -- statements ----------------------------------------------------------------

    async def _where(self, room_id: str) -> tuple[str, str]:
        """The group as statements name it: its name and code."""
        name, _ = await self._matrix.name_and_encryption(room_id)
        room = await self._registry.room(room_id)
        code = room.code if room is not None and room.code else None
        label = name or room_id
        if code:
            return f"“{label}”（{code}）", f"'{label}' ({code})"
        return f"“{label}”", f"'{label}'"

    def _muted_text(self, row: MuteRow, where: tuple[str, str]) -> str:
        say = self.statements.say
        until = self.statements.time(row.until_ts)
        zh_by, en_by = decided_by(row)
        zh_len, en_len = display_duration(row.until_ts - row.created_ts)
        zh_reason = f"原因：{row.reason}。" if row.reason else ""
        en_reason = f" Reason: {row.reason}." if row.reason else ""
        if row.whole_group:
            return say(
                f"本群已开启全员禁言 {zh_len}，至 {until} 解除（{zh_by}的决定）。"
                f"{zh_reason}其间只有群管理员和指定成员可以发言。",
                f"Everyone in this group is muted for {en_len}, until {until}, by "
                f"decision of {en_by}.{en_reason} Until then only its admins and "
                "the members they named may post.",
            )
        return say(
            f"您在群{where[0]}中被禁言 {zh_len}，至 {until} 解除（{zh_by}的决定）。"
            f"{zh_reason}禁言期间您仍可阅读消息；退出后重新加入不会解除禁言。",
            f"You are muted in the group {where[1]} for {en_len}, until {until}, "
            f"by decision of {en_by}.{en_reason} You can still read it; leaving "
            "and joining again does not end the mute.",
        )

    def _lifted_text(self, row: MuteRow, where: tuple[str, str]) -> str:
        if row.whole_group:
            return self.statements.say(
                "本群的全员禁言已解除。",
                "The mute of everyone in this group is lifted.",
            )
        return self.statements.say(
            f"您在群{where[0]}中的禁言已解除。",
            f"Your mute in the group {where[1]} is lifted.",
        )

    async def _tell(self, row: MuteRow, text: str) -> None:
        """A member's mute goes to them in a direct message; the whole
        group's into the room. A failure is logged: the mute stands."""
        try:
            if row.whole_group:
                if await self._matrix.ensure_bot_in_room(row.room_id):
                    await self._notices.send_to_room(row.room_id, text)
            elif self._matrix.local([row.target]):
                await self._notices.send_dm(row.target, text)
        except Exception:
            logger.exception("could not tell %s about mute %d", row.target, row.id)

"""Join waves (B9): a burst of joins turns a group to knocking for a while.

The background-tasks process sees every stored event of every worker once
(`on_new_event`, dispatcher.py), so it alone counts joins: per group, over
`rooms.limits_window`. When a group of a class with `joins_per_minute`
receives more joins than that within the window, its join rule becomes
`knock` (`restricted` becomes `knock_restricted`; a room version without
knocking gets `invite`), sent as a member with the power to
(`MatrixRooms.send_state`); the wave is recorded (`groupreg_join_waves`),
audited (`room.join_wave`) and the notice bot tells the group's admins in
the room. A job restores the previous rule once `join_cooldown` has
passed, but only if the join rule is still the one the wave set: an admin
who changed it meanwhile has the last word. Either way the end is audited
(`room.join_wave_ended`).

Synapse facts relied on (1.163):
- A member event's `unsigned.replaces_state` names the state event it
  replaces (synapse/state/__init__.py, `compute_event_context`), so a
  profile change (join after join) is told from a new join by reading the
  event it replaces.
- `RoomVersion.knock_join_rule` and `knock_restricted_join_rule` say which
  join rules a room version accepts (synapse/api/room_versions.py); the
  auth rules refuse the others (synapse/event_auth.py,
  `_is_membership_change_allowed`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config import Language
from synapse_groupreg.config.rooms import RoomsConfig
from synapse_groupreg.events import JOIN_RULES
from synapse_groupreg.limits.counting import Window
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.notices import Notices
from synapse_groupreg.sanctions.statements import display_duration
from synapse_groupreg.store.join_waves import JoinWave, JoinWaveStore

logger = logging.getLogger(__name__)

#: The machine-readable facts beside a join-wave notice's text.
NOTICE_FIELD = "org.groupreg.join_wave"


def wave_rule(previous: str, room_version: Any) -> str:
    """The join rule a wave sets in place of `previous`."""
    knock = room_version is None or bool(getattr(room_version, "knock_join_rule", 0))
    if previous in ("restricted", "knock_restricted") and getattr(
        room_version, "knock_restricted_join_rule", False
    ):
        return "knock_restricted"
    return "knock" if knock else "invite"


class JoinWaves:
    def __init__(
        self,
        config: RoomsConfig,
        store: JoinWaveStore,
        matrix: MatrixRooms,
        notices: Notices,
        audit: AuditLog,
        language: Language,
        now_ms: Callable[[], int],
    ) -> None:
        self._config = config
        self._store = store
        self._matrix = matrix
        self._notices = notices
        self._audit = audit
        self._language = language
        self._now_ms = now_ms
        self._joins = Window(config.limits_window_ms)
        #: Rooms with a wave in force (loaded at start, kept by this process).
        self._active: set[str] | None = None

    async def _active_rooms(self) -> set[str]:
        if self._active is None:
            self._active = {w.room_id for w in await self._store.open_waves()}
        return self._active

    async def joined(self, room_id: str, room_class: str) -> None:
        """A member joined a group of `room_class`: count, and start a wave
        when there were too many."""
        limits = self._config.classes[room_class].limits
        limit = limits.joins_per_minute
        if limit is None:
            return
        now = self._now_ms()
        # Remember one more than the limit: the join that goes over it.
        self._joins.add(room_id, limit + 1, now)
        count = self._joins.count(room_id, now)
        if count <= limit or room_id in await self._active_rooms():
            return
        self._joins.forget(room_id)
        await self._start(room_id, count, limit, limits.join_cooldown_ms, now)

    async def _start(
        self, room_id: str, joins: int, limit: int, cooldown_ms: int, now: int
    ) -> None:
        event, version = await self._matrix.join_rules(room_id)
        previous: dict[str, Any] = (
            {k: event.content.get(k) for k in event.content} if event else {}
        )
        before = previous.get("join_rule")
        before = before if isinstance(before, str) else "invite"
        if before in ("knock", "knock_restricted", "invite", "private"):
            return  # nobody joins without being let in already
        rule = wave_rule(before, version)
        content = {**previous, "join_rule": rule}
        sent = await self._matrix.send_state(room_id, JOIN_RULES, content)
        if sent is None:
            logger.warning(
                "join wave in %s: nobody could change the join rule", room_id
            )
            return
        sender, event_id = sent
        ends = now + cooldown_ms
        wave_id = await self._store.start(
            room_id, now, ends, joins, json.dumps(previous), rule, event_id
        )
        (await self._active_rooms()).add(room_id)
        await self._audit.record(
            SYSTEM,
            "room.join_wave",
            room_id,
            {
                "wave_id": wave_id,
                "joins": joins,
                "limit": limit,
                "window_ms": self._joins.window_ms,
                "previous_rule": before,
                "join_rule": rule,
                "until_ts": ends,
                "sent_as": sender,
            },
        )
        zh_window, en_window = display_duration(self._joins.window_ms)
        zh_for, en_for = display_duration(cooldown_ms)
        text = self._language.pick(
            f"【群管理】{zh_window}内有 {joins} 人加入本群，"
            f"超过本群类别的上限（{limit} 人），"
            f"本群已改为“申请加入”（{rule}），{zh_for}后自动恢复。"
            "群管理员请审核加入申请。",
            f"[Group governance] {joins} people joined this group within "
            f"{en_window}, more than its class allows ({limit}). The group now "
            f"asks newcomers to knock ({rule}) and returns to '{before}' in "
            f"{en_for}. Admins: please review the requests.",
            "\n",
        )
        await self._notify(
            room_id,
            text,
            {"wave_id": wave_id, "join_rule": rule, "until_ts": ends, "joins": joins},
        )

    async def _notify(self, room_id: str, text: str, facts: dict[str, Any]) -> None:
        try:
            if await self._matrix.ensure_bot_in_room(room_id):
                await self._notices.send_to_room(
                    room_id, text, extra={NOTICE_FIELD: facts}
                )
        except Exception:
            logger.exception("join wave in %s: the admins' notice failed", room_id)

    async def end_due(self) -> None:
        """The job: end the waves whose cool-down is over."""
        now = self._now_ms()
        for wave in await self._store.open_waves():
            if wave.ends_ts > now:
                continue
            try:
                await self._end(wave, now)
            except Exception:
                logger.exception("could not end join wave %s", wave.wave_id)

    async def _end(self, wave: JoinWave, now: int) -> None:
        event, _ = await self._matrix.join_rules(wave.room_id)
        previous: dict[str, Any] = json.loads(wave.previous_rule)
        outcome = "changed"
        if event is not None and str(event.event_id) == wave.event_id:
            sent = await self._matrix.send_state(wave.room_id, JOIN_RULES, previous)
            outcome = "restored" if sent is not None else "failed"
        if not await self._store.end(wave.wave_id, now, outcome):
            return
        (await self._active_rooms()).discard(wave.room_id)
        await self._audit.record(
            SYSTEM,
            "room.join_wave_ended",
            wave.room_id,
            {
                "wave_id": wave.wave_id,
                "outcome": outcome,
                "join_rule": previous.get("join_rule"),
            },
        )
        if outcome == "restored":
            text = self._language.pick(
                f"【群管理】加入高峰的冷却期已过，本群已恢复原加入方式"
                f"（{previous.get('join_rule')}）。",
                "[Group governance] The join wave's cool-down is over: the group"
                f" is back to '{previous.get('join_rule')}'.",
                "\n",
            )
            await self._notify(
                wave.room_id, text, {"wave_id": wave.wave_id, "ended": outcome}
            )

    def prune(self) -> None:
        self._joins.prune(self._now_ms())

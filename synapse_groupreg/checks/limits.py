"""Flood and join-wave limits (B9) and credit-driven limits (D7).

- Event stage (`check_event_for_spam`): a local member's message in a
  group whose class sets `messages_per_minute` or `mentions_per_message`
  (FLOOD_LIMIT, MENTION_LIMIT: not for the group's admins), and a user
  whose credit band sets `rate_limits.messages_per_minute`
  (CREDIT_RATE_LIMIT). State events and redactions are not counted.
- Reaction to stored events (background-tasks process): joins counted per
  group, a join wave turning it to knocking (limits/waves.py).
- Synapse's own limiters: the band's invite rate and upload limits
  (limits/bands.py), registered by the dispatcher as `Hooks`.

The per-message path stays in memory: the room's registration is one
cached read (and none when no class sets a message limit), the credit
band one cached head (and none when no band sets a rate); the room's
state, to tell a group admin, is read only when a limit would refuse.
Counters are per process (limits/counting.py).
"""

from __future__ import annotations

from collections.abc import Callable

from synapse_groupreg.config.rooms import ClassLimits, RoomsConfig
from synapse_groupreg.credit import CreditLedger
from synapse_groupreg.dispatch import Contribution, EventFacts, Reactions, Rule, Stage
from synapse_groupreg.events import (
    CREATE,
    MEMBER,
    POWER_LEVELS,
    REDACTION,
    state_key_pair,
)
from synapse_groupreg.jobs import Job
from synapse_groupreg.limits.decide import Limiter
from synapse_groupreg.limits.waves import JoinWaves
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.reasons import Refusal
from synapse_groupreg.rooms.powers import Powers, creators_of

CHECK = "limits"
_CREATE = state_key_pair(CREATE)
_POWER = state_key_pair(POWER_LEVELS)
#: How often the counters forget senders who went quiet.
_PRUNE_MS = 60_000


class LimitChecks:
    def __init__(
        self,
        config: RoomsConfig,
        credit: CreditLedger,
        waves: JoinWaves,
        matrix: MatrixRooms,
        is_bot: Callable[[str], bool],
        now_ms: Callable[[], int],
        bands_rate: bool,
    ) -> None:
        self._is_bot = is_bot
        self._config = config
        self._credit = credit
        self._waves = waves
        self._matrix = matrix
        self._now_ms = now_ms
        self._limiter = Limiter(config.limits_window_ms)
        self._classes_rate = any(
            c.limits.messages_per_minute is not None
            or c.limits.mentions_per_message is not None
            for c in config.classes.values()
        )
        self._classes_joins = any(
            c.limits.joins_per_minute is not None for c in config.classes.values()
        )
        self._bands_rate = bands_rate

    def rules(self) -> Contribution:
        if not (self._classes_rate or self._bands_rate):
            return {}
        return {Stage.EVENT: (Rule("limits.event", CHECK, self._event),)}

    def reactions(self) -> Reactions:
        if not self._classes_joins:
            return Reactions()
        return Reactions(new_event=(self._stored,))

    def jobs(self) -> list[Job]:
        jobs = [Job("groupreg_limits_prune", self._prune, _PRUNE_MS, everywhere=True)]
        if self._classes_joins:
            cooldowns = [
                c.limits.join_cooldown_ms
                for c in self._config.classes.values()
                if c.limits.joins_per_minute is not None
            ]
            # A quarter of the shortest cool-down, between 1 s and a minute.
            every = max(1_000, min(60_000, min(cooldowns) // 4))
            jobs.append(Job("groupreg_join_wave_end", self._waves.end_due, every))
        return jobs

    async def _prune(self) -> None:
        self._limiter.prune(self._now_ms())
        self._waves.prune()

    async def _class_limits(self, facts: EventFacts) -> ClassLimits | None:
        room = await facts.room()
        if room is None:
            return None  # a direct chat or an unregistered room: no limits
        room_class = self._config.classes.get(room.room_class)
        if room_class is None or not room_class.limits.on:
            return None
        return room_class.limits

    async def _event(self, facts: EventFacts) -> Refusal | None:
        if facts.is_state or facts.type == REDACTION:
            return None
        limits = await self._class_limits(facts) if self._classes_rate else None
        band = await self._credit.band_of(facts.sender) if self._bands_rate else None
        if limits is None and band is None:
            return None

        async def is_admin() -> bool:
            return await self._group_admin(facts)

        return await self._limiter.decide(
            facts.room_id,
            facts.sender,
            facts.event.content,
            limits,
            band,
            is_admin,
            self._now_ms(),
        )

    async def _group_admin(self, facts: EventFacts) -> bool:
        """A creator of the room (the create event's sender, in any room
        version), or power >= `rooms.admin_power_level` (B5)."""
        state = await facts.state()
        create = state.get(_CREATE)
        if facts.sender in creators_of(create):
            return True
        powers = Powers.read(create, state.get(_POWER))
        return powers.of(facts.sender) >= self._config.admin_power_level

    async def _stored(self, facts: EventFacts) -> None:
        """A join to a group whose class limits joins (not the bot's, not a
        profile change: the event it replaces was a join already)."""
        if facts.type != MEMBER or facts.membership != "join":
            return
        room = await facts.room()
        if room is None:
            return
        room_class = self._config.classes.get(room.room_class)
        if room_class is None or room_class.limits.joins_per_minute is None:
            return
        if self._is_bot(facts.state_key or ""):
            return
        replaces = facts.event.unsigned.get("replaces_state")
        if isinstance(replaces, str):
            before = await self._matrix.event(replaces)
            if before is not None and before.membership == "join":
                return
        await self._waves.joined(facts.room_id, room.room_class)

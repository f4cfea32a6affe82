"""Timed mutes (B8) at the event stage (`check_event_for_spam`): a muted
member's messages, reactions and speaking state events (name, topic,
avatar, pins) are refused with MEMBER_MUTED; under a mute of the whole
group, ROOM_MUTED for everyone but its admins and exempt speakers.
Redactions pass: taking back what one said is never refused. Events from
other servers are judged too (a refusal soft-fails them).

A room without a mute costs one dict lookup on an in-memory index; only a
sender under a mute of the whole group, not named exempt, costs a read of
the room's create and power-levels events (are they one of its admins?).
"""

from __future__ import annotations

from synapse_groupreg.dispatch import Contribution, EventFacts, Rule, Stage
from synapse_groupreg.mutes.model import refusal_of, silence_of, silences
from synapse_groupreg.mutes.service import Mutes
from synapse_groupreg.reasons import Refusal

#: Fail and enforcement modes are the rooms check's: mutes are group
#: admins' decisions about their groups (B8, with B5's accountability).
CHECK = "rooms"


class MuteChecks:
    def __init__(self, mutes: Mutes) -> None:
        self._mutes = mutes

    def rules(self) -> Contribution:
        return {Stage.EVENT: (Rule("mutes.event", CHECK, self._event, remote=True),)}

    async def _event(self, facts: EventFacts) -> Refusal | None:
        room = (await self._mutes.in_force()).of_room(facts.room_id)
        if room is None or not silences(facts.type, facts.is_state):
            return None
        silence = silence_of(room, facts.sender, self._mutes.now_ms())
        if silence is None:
            return None
        if silence.whole_group:
            powers = await self._mutes.powers(facts.room_id)
            if powers.of(facts.sender) >= self._mutes.admin_level:
                return None
        return refusal_of(
            silence.row, self._mutes.statements.time(silence.row.until_ts)
        )

"""Enforcing sanctions and credit bands (D1, D2, D3).

- A closed or suspended room refuses events (the event stage: messages and
  state; the member stage: joins, invites, kicks, knocks), joins (the join
  stage, before a remote join is attempted) and other servers' invites.
- A suspended admin's admin acts are refused: power levels and other state
  events, redactions of others' events (event stage), kicks and bans
  (member stage); revoked creation refuses new groups (create stage) and
  growing a direct chat opened meanwhile into a group.
- Credit bands gate posting, admin acts and creating groups.

Everything on the per-event path is in memory when warm: the sanctions in
force are one cached set, the credit head one cached entry per user, and
expiry is compared with the clock in the pure rules
(sanctions/enforcement.py). Only users under a restriction pay for reading
the room's state (its creator and members).
"""

from __future__ import annotations

import attrs

from synapse_groupreg.credit import CreditLedger
from synapse_groupreg.dispatch import (
    Contribution,
    CreationFacts,
    EventFacts,
    JoinFacts,
    Rule,
    Stage,
)
from synapse_groupreg.events import CREATE, MEMBER, REDACTION, SEATED, state_key_pair
from synapse_groupreg.reasons import Refusal
from synapse_groupreg.sanctions import enforcement as rules
from synapse_groupreg.sanctions.service import SanctionService

CHECK = "sanctions"
_CREATE = state_key_pair(CREATE)


def act_of(facts: EventFacts) -> rules.EventFacts:
    """The pure rules' view of an event."""
    return rules.EventFacts(
        event_type=facts.type,
        sender=facts.sender,
        room_id=facts.room_id,
        state_key=facts.state_key,
        membership=facts.membership,
    )


async def with_room(act: rules.EventFacts, facts: EventFacts) -> rules.EventFacts:
    """Add who created the room, when, and how many are in it: only for
    users under a restriction, as counting members walks the state."""
    event = facts.event
    if facts.type == CREATE:
        return attrs.evolve(
            act, creator=facts.sender, created_ts=event.origin_server_ts, members=0
        )
    state = await facts.state()
    create = state.get(_CREATE)
    members = sum(
        1
        for (kind, _), member in state.items()
        if kind == MEMBER and member.membership in SEATED
    )
    return attrs.evolve(
        act,
        creator=create.sender if create is not None else None,
        created_ts=create.origin_server_ts if create is not None else None,
        members=members,
    )


class SanctionChecks:
    def __init__(self, sanctions: SanctionService, credit: CreditLedger) -> None:
        self._sanctions = sanctions
        self._credit = credit
        self._time = sanctions.statements.time
        # Bands that deny nothing need no score on the per-event path.
        self._bands_gate = any(b.denies for b in credit.config.bands)

    def rules(self) -> Contribution:
        return {
            Stage.CREATE: (Rule("sanctions.create", CHECK, self._create),),
            Stage.JOIN: (Rule("sanctions.join", CHECK, self._join),),
            Stage.REMOTE_INVITE: (
                Rule(
                    "sanctions.remote_invite", CHECK, self._remote_invite, remote=True
                ),
            ),
            Stage.EVENT: (Rule("sanctions.event", CHECK, self._event),),
            Stage.MEMBER: (Rule("sanctions.member", CHECK, self._event, remote=True),),
        }

    async def _event(self, facts: EventFacts) -> Refusal | None:
        index = await self._sanctions.in_force()
        now = self._sanctions.now_ms()
        act = act_of(facts)
        refusal = rules.room_refusal(index, act, now, self._time)
        if refusal is not None or not facts.local:
            return refusal
        restricted = index.restricts_creation(facts.sender)
        band, score = None, 0
        if self._bands_gate:
            score, band = await self._credit.band_of(facts.sender)
        denies_admin = band is not None and not band.allows("admin")
        if facts.type == REDACTION and (restricted or denies_admin):
            act = attrs.evolve(act, redacted_sender=await facts.redacted_sender())
        if restricted or (denies_admin and rules.is_admin_action(act)):
            act = await with_room(act, facts)
        if restricted:
            refusal = rules.admin_refusal(
                index, act, now, self._time
            ) or rules.revoked_chat_growth(index, act, now)
            if refusal is not None:
                return refusal
        if band is not None:
            gate = rules.credit_gate_of(act)
            if gate is not None:
                return rules.credit_refusal(self._credit.config, score, band, gate)
        return None

    async def _create(self, facts: CreationFacts) -> Refusal | None:
        index = await self._sanctions.in_force()
        direct = rules.is_direct_request(facts.request)
        refusal = rules.creation_refusal(
            index, facts.user_id, direct, self._sanctions.now_ms(), self._time
        )
        if refusal is None and self._bands_gate and not direct:
            score, band = await self._credit.band_of(facts.user_id)
            refusal = rules.credit_refusal(
                self._credit.config, score, band, "create_groups"
            )
        return refusal

    async def _join(self, facts: JoinFacts) -> Refusal | None:
        """D2: no joins to a closed or suspended group (also refused at the
        member stage; here before a remote join is attempted)."""
        return await self._room(facts.user_id, facts.room_id)

    async def _remote_invite(self, facts: EventFacts) -> Refusal | None:
        """D2: no invites from other servers into a closed or suspended
        group."""
        return await self._room(facts.sender, facts.room_id)

    async def _room(self, user_id: str, room_id: str) -> Refusal | None:
        index = await self._sanctions.in_force()
        act = rules.EventFacts(MEMBER, user_id, room_id, user_id, "join")
        return rules.room_refusal(index, act, self._sanctions.now_ms(), self._time)

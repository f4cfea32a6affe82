"""Enforcing sanctions and credit bands on every event (D1, D2, D3).

`check_event_allowed` sees every locally created event, createRoom's own
included, and raising `SynapseError` from it reaches the client with our
message (synapse/module_api/callbacks/third_party_event_rules_callbacks.py,
`check_event_allowed`: SynapseError is re-raised, anything else becomes a
500). It also sees a remote user's join at make_join (synapse/handlers/
federation.py `on_make_join_request` builds it with `create_new_client_event`,
which calls the callback in synapse/handlers/message.py). The spam-checker
callbacks refuse earlier, with the same message, where Synapse asks them:
room creation and joins.

Everything on the per-event path is in memory when warm: the sanctions in
force are one cached set, the credit head one cached entry per user, and
expiry is compared with the clock here.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import attrs
from synapse.api.errors import Codes
from synapse.module_api import NOT_SPAM, EventBase, ModuleApi, StateMap

from synapse_groupreg import hs
from synapse_groupreg.reasons import Refusal, to_spam_result, to_synapse_error
from synapse_groupreg.sanctions.enforcement import (
    CREATE,
    MEMBER,
    REDACTION,
    EventFacts,
    admin_refusal,
    creation_refusal,
    credit_gate_of,
    credit_refusal,
    is_admin_action,
    is_direct_request,
    revoked_chat_growth,
    room_refusal,
)
from synapse_groupreg.services import Services

CHECK = "sanctions"
SpamAnswer = Literal["NOT_SPAM"] | tuple[Codes, dict[str, str]]


def register(api: ModuleApi, services: Services) -> None:
    checks = SanctionChecks(api, services)
    api.register_third_party_rules_callbacks(
        check_event_allowed=checks.check_event_allowed
    )
    api.register_spam_checker_callbacks(
        user_may_create_room=checks.user_may_create_room,
        user_may_join_room=checks.user_may_join_room,
        federated_user_may_invite=checks.federated_user_may_invite,
    )
    if api.should_run_background_tasks():
        api.looping_background_call(
            services.sanctions.announce_expiries,
            services.config.sanctions.expiry_sweep_ms,
        )


def base_facts(event: EventBase) -> EventFacts:
    membership = event.content.get("membership") if event.type == MEMBER else None
    return EventFacts(
        event_type=event.type,
        sender=event.sender,
        room_id=event.room_id,
        state_key=event.get_state_key(),
        membership=membership if isinstance(membership, str) else None,
    )


def with_room(facts: EventFacts, event: EventBase, state: StateMap[Any]) -> EventFacts:
    """Add who created the room, when, and how many are in it: only for
    users under a restriction, as counting members walks the state."""
    creator: str | None = event.sender
    created_ts: int | None = event.origin_server_ts
    if event.type != CREATE:
        create = state.get((CREATE, ""))
        creator = create.sender if create is not None else None
        created_ts = create.origin_server_ts if create is not None else None
    members = sum(
        1
        for (kind, _), member in state.items()
        if kind == MEMBER and member.membership in ("join", "invite")
    )
    return attrs.evolve(facts, creator=creator, created_ts=created_ts, members=members)


class SanctionChecks:
    def __init__(self, api: ModuleApi, services: Services) -> None:
        self._api = api
        self._sanctions = services.sanctions
        self._credit = services.credit_ledger
        self._notices = services.notices
        self._guard = services.guard
        self._meter = services.guard.meter(CHECK)
        self._language = services.config.language
        self._time = services.sanctions.statements.time
        # Bands that deny nothing need no score on the per-event path.
        self._bands_gate = any(b.denies for b in services.config.credit.bands)

    def _spam(self, refusal: Refusal | None) -> SpamAnswer:
        if refusal is None:
            return NOT_SPAM
        return to_spam_result(refusal, self._language)

    async def check_event_allowed(
        self, event: EventBase, state: StateMap[Any]
    ) -> tuple[bool, dict[str, Any] | None]:
        if self._notices.is_bot(event.sender):
            return True, None
        started = time.perf_counter()
        try:
            refusal = await self._event_refusal(event, state)
        except Exception as e:
            refusal = self._guard.failed(CHECK, e)
        self._meter.done(started, refusal)
        if refusal is not None:
            raise to_synapse_error(refusal, self._language)
        return True, None

    async def _event_refusal(
        self, event: EventBase, state: StateMap[Any]
    ) -> Refusal | None:
        facts = base_facts(event)
        if facts.is_membership and self._notices.is_bot(facts.state_key or ""):
            return None  # the platform bringing its bot in
        index = await self._sanctions.in_force()
        now = self._sanctions.now_ms()
        refusal = room_refusal(index, facts, now, self._time)
        if refusal is not None or not self._api.is_mine(facts.sender):
            return refusal
        restricted = index.restricts_creation(facts.sender)
        band, score = None, 0
        if self._bands_gate:
            score, band = await self._credit.band_of(facts.sender)
        denies_admin = band is not None and not band.allows("admin")
        if facts.event_type == REDACTION and (restricted or denies_admin):
            redacts = event.redacts
            if redacts:
                facts = attrs.evolve(
                    facts, redacted_sender=await hs.event_sender(self._api, redacts)
                )
        if restricted or (denies_admin and is_admin_action(facts)):
            facts = with_room(facts, event, state)
        if restricted:
            refusal = admin_refusal(index, facts, now, self._time) or (
                revoked_chat_growth(index, facts, now)
            )
            if refusal is not None:
                return refusal
        if band is not None:
            gate = credit_gate_of(facts)
            if gate is not None:
                return credit_refusal(self._credit.config, score, band, gate)
        return None

    async def user_may_create_room(
        self, user_id: str, room_config: dict[str, Any]
    ) -> SpamAnswer:
        if self._notices.is_bot(user_id):
            return NOT_SPAM
        started = time.perf_counter()
        try:
            index = await self._sanctions.in_force()
            direct = is_direct_request(room_config)
            refusal = creation_refusal(
                index, user_id, direct, self._sanctions.now_ms(), self._time
            )
            if refusal is None and self._bands_gate and not direct:
                score, band = await self._credit.band_of(user_id)
                refusal = credit_refusal(
                    self._credit.config, score, band, "create_groups"
                )
        except Exception as e:
            refusal = self._guard.failed(CHECK, e)
        return self._spam(self._meter.done(started, refusal))

    async def user_may_join_room(
        self, user_id: str, room_id: str, is_invited: bool
    ) -> SpamAnswer:
        """D2: no joins to a closed or suspended group (also refused as an
        event; here it is refused before a remote join is attempted)."""
        return await self._room_answer(user_id, room_id)

    async def federated_user_may_invite(self, event: EventBase) -> SpamAnswer:
        """D2: no invites from other servers into a closed or suspended group."""
        return await self._room_answer(event.sender, event.room_id)

    async def _room_answer(self, user_id: str, room_id: str) -> SpamAnswer:
        if self._notices.is_bot(user_id):
            return NOT_SPAM
        started = time.perf_counter()
        try:
            index = await self._sanctions.in_force()
            facts = EventFacts(MEMBER, user_id, room_id, user_id, "join")
            refusal = room_refusal(index, facts, self._sanctions.now_ms(), self._time)
        except Exception as e:
            refusal = self._guard.failed(CHECK, e)
        return self._spam(self._meter.done(started, refusal))

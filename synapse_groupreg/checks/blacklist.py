"""Enforcing the blacklist (D4): a listed user (or any account of a listed
person, or any user of a listed server) cannot create, join, invite or
send; a listed user or server cannot be invited; a listed room cannot be
joined.

The member stage (`check_event_allowed`) sees every membership event
created here, and a remote user's join at make_join (synapse/handlers/
federation.py, `on_make_join_request` -> `create_new_client_event`); a
remote user's invite reaches the remote-invite stage
(`federated_user_may_invite`, `on_invite_request`). So a listed server's
users can neither join our rooms nor invite our users. The create, join
and invite stages refuse before any event is built, with the same message.
A remote user whose own server is already in the room joins without
make_join here; the dispatcher rechecks such arrivals against the member
stage and removes a listed member (audit `blacklist.removed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from synapse_groupreg.blacklist.model import BlacklistIndex, refusal_for
from synapse_groupreg.blacklist.service import Blacklist
from synapse_groupreg.dispatch import (
    Contribution,
    CreationFacts,
    EventFacts,
    InviteFacts,
    JoinFacts,
    Rule,
    Stage,
)
from synapse_groupreg.dispatch.facts import StateMap
from synapse_groupreg.events import CANONICAL_ALIAS, MEMBER, state_key_pair
from synapse_groupreg.reasons import Refusal

CHECK = "blacklist"
_CANONICAL_ALIAS = state_key_pair(CANONICAL_ALIAS)


def aliases_of(state: StateMap) -> list[str]:
    event = state.get(_CANONICAL_ALIAS)
    if event is None:
        return []
    found: list[str] = []
    alias = event.content.get("alias")
    if isinstance(alias, str):
        found.append(alias)
    alt = event.content.get("alt_aliases")
    if isinstance(alt, Iterable) and not isinstance(alt, str):
        found.extend(a for a in alt if isinstance(a, str))
    return found


def invite_refusal(
    index: BlacklistIndex,
    inviter: str,
    invitee: str,
    room_id: str,
    aliases: Iterable[str],
    now_ms: int,
) -> Refusal | None:
    for user_id, who in ((inviter, "self"), (invitee, "invitee")):
        listed = index.user(user_id, now_ms)
        if listed is not None:
            return refusal_for(listed, who)
    listed = index.room(room_id, aliases, now_ms)
    return refusal_for(listed, "room") if listed is not None else None


class BlacklistChecks:
    def __init__(self, blacklist: Blacklist, is_bot: Any) -> None:
        self._blacklist = blacklist
        self._is_bot = is_bot

    def rules(self) -> Contribution:
        return {
            Stage.CREATE: (Rule("blacklist.create", CHECK, self._create),),
            Stage.JOIN: (Rule("blacklist.join", CHECK, self._join),),
            Stage.INVITE: (Rule("blacklist.invite", CHECK, self._invite),),
            Stage.REMOTE_INVITE: (
                Rule(
                    "blacklist.remote_invite", CHECK, self._remote_invite, remote=True
                ),
            ),
            Stage.EVENT: (Rule("blacklist.event", CHECK, self._event),),
            Stage.MEMBER: (
                Rule(
                    "blacklist.member",
                    CHECK,
                    self._member,
                    remote=True,
                    removal="blacklist.removed",
                ),
            ),
        }

    async def _listed_index(self) -> BlacklistIndex | None:
        index = await self._blacklist.index()
        return index if index.size else None

    async def _create(self, facts: CreationFacts) -> Refusal | None:
        index = await self._listed_index()
        if index is None:
            return None
        now = self._blacklist.now_ms()
        listed = index.user(facts.user_id, now)
        if listed is not None:
            return refusal_for(listed, "self")
        invites = facts.request.get("invite") or []
        for invitee in invites if isinstance(invites, list) else []:
            if isinstance(invitee, str):
                listed = index.user(invitee, now)
                if listed is not None:
                    return refusal_for(listed, "invitee")
        return None

    async def _join(self, facts: JoinFacts) -> Refusal | None:
        index = await self._listed_index()
        if index is None:
            return None
        now = self._blacklist.now_ms()
        # An invited user's join is decided at the member stage, which sees
        # who invited them: the notice bot's invite to read a statement
        # must be accepted.
        listed = None if facts.is_invited else index.user(facts.user_id, now)
        if listed is not None:
            return refusal_for(listed, "self")
        room = index.room(facts.room_id, (), now)
        return refusal_for(room, "room") if room is not None else None

    async def _invite(self, facts: InviteFacts) -> Refusal | None:
        index = await self._listed_index()
        if index is None:
            return None
        return invite_refusal(
            index,
            facts.inviter,
            facts.invitee,
            facts.room_id,
            (),
            self._blacklist.now_ms(),
        )

    async def _remote_invite(self, facts: EventFacts) -> Refusal | None:
        """D4: a user of a listed server (or a listed user) cannot invite
        our users; nor can anyone invite a listed user or into a listed
        room."""
        index = await self._listed_index()
        if index is None:
            return None
        return invite_refusal(
            index,
            facts.sender,
            facts.state_key or "",
            facts.room_id,
            (),
            self._blacklist.now_ms(),
        )

    async def _event(self, facts: EventFacts) -> Refusal | None:
        index = await self._listed_index()
        if index is None:
            return None
        listed = index.user(facts.sender, self._blacklist.now_ms())
        return refusal_for(listed, "self") if listed is not None else None

    async def _member(self, facts: EventFacts) -> Refusal | None:
        index = await self._listed_index()
        if index is None:
            return None
        sender, state_key, membership = facts.sender, facts.state_key, facts.membership
        if membership == "leave" and state_key == sender:
            return None  # leaving is always allowed
        state = await facts.state()
        if (
            membership == "join"
            and state_key == sender
            and self._bot_invited(state, sender)
        ):
            return None  # reading the platform's statement is always allowed
        now = self._blacklist.now_ms()
        listed = index.user(sender, now)
        if listed is not None:
            return refusal_for(listed, "self")
        if membership == "invite" and state_key:
            return invite_refusal(
                index, sender, state_key, facts.room_id, aliases_of(state), now
            )
        if membership in ("join", "knock") and state_key == sender:
            listed = index.room(facts.room_id, aliases_of(state), now)
            if listed is not None:
                return refusal_for(listed, "room")
        return None

    def _bot_invited(self, state: StateMap, user_id: str) -> bool:
        member = state.get((MEMBER, user_id))
        return (
            member is not None
            and member.membership == "invite"
            and self._is_bot(member.sender)
        )

"""Enforcing the blacklist (D4): a listed user (or any account of a listed
person, or any user of a listed server) cannot create, join, invite or
send; a listed user or server cannot be invited; a listed room cannot be
joined.

Local events go through `check_event_allowed`, whose SynapseError reaches
the client (synapse/module_api/callbacks/third_party_event_rules_callbacks.py).
A remote user's join reaches it at make_join (synapse/handlers/federation.py,
`on_make_join_request` -> `create_new_client_event`), and a remote user's
invite reaches `federated_user_may_invite` (`on_invite_request`), so a
listed server's users can neither join our rooms nor invite our users. The
spam-checker callbacks refuse room creation, joins and invites before any
event is built, with the same message. A remote user whose own server is
already in the room joins without make_join here; `on_new_event` removes
such a member if listed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any, Literal

from synapse.api.errors import Codes
from synapse.module_api import NOT_SPAM, EventBase, ModuleApi, StateMap

from synapse_groupreg.audit import SYSTEM
from synapse_groupreg.blacklist.model import BlacklistIndex, refusal_for
from synapse_groupreg.reasons import (
    Refusal,
    message,
    to_spam_result,
    to_synapse_error,
)
from synapse_groupreg.services import Services

logger = logging.getLogger(__name__)

CHECK = "blacklist"
MEMBER = "m.room.member"
CANONICAL_ALIAS = ("m.room.canonical_alias", "")
SpamAnswer = Literal["NOT_SPAM"] | tuple[Codes, dict[str, str]]


def register(api: ModuleApi, services: Services) -> None:
    checks = BlacklistChecks(services)
    api.register_third_party_rules_callbacks(
        check_event_allowed=checks.check_event_allowed,
        on_new_event=checks.on_new_event,
    )
    api.register_spam_checker_callbacks(
        user_may_create_room=checks.user_may_create_room,
        user_may_join_room=checks.user_may_join_room,
        user_may_invite=checks.user_may_invite,
        federated_user_may_invite=checks.federated_user_may_invite,
    )


def aliases_of(state: StateMap[Any]) -> list[str]:
    event = state.get(CANONICAL_ALIAS)
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
    def __init__(self, services: Services) -> None:
        self._services = services
        self._api = services.api
        self._blacklist = services.blacklist
        self._notices = services.notices
        self._guard = services.guard
        self._meter = services.guard.meter(CHECK)
        self._language = services.config.language

    def _spam(self, started: float, refusal: Refusal | None) -> SpamAnswer:
        self._meter.done(started, refusal)
        if refusal is None:
            return NOT_SPAM
        return to_spam_result(refusal, self._language)

    async def check_event_allowed(
        self, event: EventBase, state: StateMap[Any]
    ) -> tuple[bool, dict[str, Any] | None]:
        sender = event.sender
        if self._notices.is_bot(sender):
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
        index = await self._blacklist.index()
        if index.size == 0:
            return None
        now = self._blacklist.now_ms()
        sender = event.sender
        state_key = event.get_state_key()
        membership = event.content.get("membership") if event.type == MEMBER else None
        if membership is not None and self._notices.is_bot(state_key or ""):
            return None
        if membership == "leave" and state_key == sender:
            return None  # leaving is always allowed
        if (
            membership == "join"
            and state_key == sender
            and self._bot_invited(state, sender)
        ):
            return None  # reading the platform's statement is always allowed
        listed = index.user(sender, now)
        if listed is not None:
            return refusal_for(listed, "self")
        if membership == "invite" and state_key:
            return invite_refusal(
                index, sender, state_key, event.room_id, aliases_of(state), now
            )
        if membership in ("join", "knock") and state_key == sender:
            listed = index.room(event.room_id, aliases_of(state), now)
            if listed is not None:
                return refusal_for(listed, "room")
        return None

    async def on_new_event(self, event: EventBase, state: StateMap[Any]) -> None:
        """A remote user's join that never passed make_join here: a server
        already in the room builds its users' joins itself and sends them
        over (`RoomMemberHandler._should_perform_remote_join` on its side).
        A listed user (or a user of a listed server) who arrives that way
        is removed at once, on the one process that runs background tasks."""
        if event.type != MEMBER or event.content.get("membership") != "join":
            return
        member = event.get_state_key()
        if member is None or not self._api.should_run_background_tasks():
            return
        try:
            if self._api.is_mine(member):
                return  # made here: check_event_allowed judged it
            index = await self._blacklist.index()
            listed = index.user(member, self._blacklist.now_ms())
            if listed is None:
                return
            text = message(refusal_for(listed, "self"), self._language)
            removed = await self._services.room_state.remove(
                event.room_id, member, text
            )
            await self._services.audit.record(
                SYSTEM,
                "blacklist.removed",
                event.room_id,
                {
                    "user_id": member,
                    "event_id": event.event_id,
                    "entry_id": f"B{listed.entry_id}",
                    "removed": removed,
                },
            )
        except Exception:
            logger.exception("could not remove blacklisted %s", member)

    def _bot_invited(self, state: StateMap[Any], user_id: str) -> bool:
        member = state.get((MEMBER, user_id))
        return (
            member is not None
            and member.membership == "invite"
            and self._notices.is_bot(member.sender)
        )

    async def user_may_create_room(
        self, user_id: str, room_config: dict[str, Any]
    ) -> SpamAnswer:
        started = time.perf_counter()
        try:
            refusal = await self._creation_refusal(user_id, room_config)
        except Exception as e:
            refusal = self._guard.failed(CHECK, e)
        return self._spam(started, refusal)

    async def _creation_refusal(
        self, user_id: str, room_config: dict[str, Any]
    ) -> Refusal | None:
        if self._notices.is_bot(user_id):
            return None
        index = await self._blacklist.index()
        now = self._blacklist.now_ms()
        listed = index.user(user_id, now)
        if listed is not None:
            return refusal_for(listed, "self")
        invites = room_config.get("invite") or []
        for invitee in invites if isinstance(invites, list) else []:
            if isinstance(invitee, str):
                listed = index.user(invitee, now)
                if listed is not None:
                    return refusal_for(listed, "invitee")
        return None

    async def user_may_join_room(
        self, user_id: str, room_id: str, is_invited: bool
    ) -> SpamAnswer:
        started = time.perf_counter()
        try:
            refusal = None
            if not self._notices.is_bot(user_id):
                index = await self._blacklist.index()
                now = self._blacklist.now_ms()
                # An invited user's join is decided by check_event_allowed,
                # which sees who invited them: the notice bot's invite to
                # read a statement must be accepted.
                listed = None if is_invited else index.user(user_id, now)
                refusal = refusal_for(listed, "self") if listed else None
                if refusal is None:
                    room = index.room(room_id, (), now)
                    refusal = refusal_for(room, "room") if room else None
        except Exception as e:
            refusal = self._guard.failed(CHECK, e)
        return self._spam(started, refusal)

    async def user_may_invite(
        self, inviter: str, invitee: str, room_id: str
    ) -> SpamAnswer:
        started = time.perf_counter()
        try:
            refusal = None
            if not self._notices.is_bot(inviter) and not self._notices.is_bot(invitee):
                index = await self._blacklist.index()
                refusal = invite_refusal(
                    index, inviter, invitee, room_id, (), self._blacklist.now_ms()
                )
        except Exception as e:
            refusal = self._guard.failed(CHECK, e)
        return self._spam(started, refusal)

    async def federated_user_may_invite(self, event: EventBase) -> SpamAnswer:
        """D4: a user of a listed server (or a listed user) cannot invite
        our users; nor can anyone invite a listed user or into a listed room."""
        started = time.perf_counter()
        try:
            index = await self._blacklist.index()
            refusal = invite_refusal(
                index,
                event.sender,
                event.get_state_key() or "",
                event.room_id,
                (),
                self._blacklist.now_ms(),
            )
        except Exception as e:
            refusal = self._guard.failed(CHECK, e)
        return self._spam(started, refusal)

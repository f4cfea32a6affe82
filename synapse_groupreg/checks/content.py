"""Callbacks of the prohibited-content filter (C1, C2).

Which callback sees what (Synapse 1.163):

- `check_event_for_spam` runs for every non-membership event a local user
  sends through the client API (`handlers/message.py`,
  `_create_and_send_nonmember_event_locked`), after `check_event_allowed`;
  its refusal tuple becomes the 403 body. It also runs on every event
  received over federation (`federation/federation_base.py`,
  `_check_sigs_and_hash`): there a refusal makes Synapse *soft-fail* the
  event (kept, redacted, never shown to local users, not used as a
  prev_event). That is how remote prohibited content is handled.
- `check_event_allowed` runs for every event created on this server,
  membership events and `createRoom`'s own events included
  (`handlers/message.py`, `create_event`); a `SynapseError` it raises
  reaches the client (`third_party_event_rules_callbacks.py`). It is the
  only callback that sees display names in local member events and the
  name and topic events createRoom writes, so local *state* events are
  scanned here and `check_event_for_spam` leaves them alone: each event is
  scanned once.
- `on_create_room` gets the createRoom body before anything is written
  (`handlers/room.py`, `create_room`), for server admins too, and a
  `SynapseError` it raises reaches the client; so a prohibited name, topic
  or alias is refused without leaving half a room behind. (The spam
  checker's `user_may_create_room` is skipped for admins.)
- `user_may_create_room_alias` covers `PUT /directory/room/{alias}` and
  createRoom's `room_alias_name` (`handlers/directory.py`,
  `create_association`), for admins too.
- `check_username_for_spam` hides users whose display name is prohibited
  from user-directory searches; `on_profile_update` records such a name.
  Synapse gives modules no way to refuse a change of the global profile,
  so those two and the member-event check are what can be done.

Every callback exempts the notice bot, and answers `guard.failed` when
something breaks, so a fault is never a 500 (G6).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from synapse.module_api import NOT_SPAM

from synapse_groupreg.content.extract import (
    ALIAS,
    DISPLAYNAME,
    alias_localpart,
    create_room_texts,
    message_texts,
    state_texts,
)
from synapse_groupreg.reasons import Decision, to_spam_result, to_synapse_error
from synapse_groupreg.services import Services

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.module_api import ModuleApi, ProfileInfo, Requester, UserProfile
    from synapse.types import RoomAlias, StateMap

logger = logging.getLogger(__name__)

CHECK = "content"


class ContentChecks:
    def __init__(self, api: ModuleApi, services: Services) -> None:
        assert services.content is not None
        self._api = api
        self._s = services
        self._filter = services.content.filter
        self._language = services.config.language
        self._is_bot = services.notices.is_bot
        self._meter = services.guard.meter(CHECK)

    def register(self) -> None:
        self._api.register_spam_checker_callbacks(
            check_event_for_spam=self.check_event_for_spam,
            user_may_create_room_alias=self.user_may_create_room_alias,
            check_username_for_spam=self.check_username_for_spam,
        )
        self._api.register_third_party_rules_callbacks(
            check_event_allowed=self.check_event_allowed,
            on_create_room=self.on_create_room,
            on_profile_update=self.on_profile_update,
        )

    # -- events ---------------------------------------------------------------

    async def check_event_for_spam(self, event: EventBase) -> Any:
        """Non-state events of local users; every event from other servers."""
        sender = event.sender
        started = time.perf_counter()
        try:
            local = self._api.is_mine(sender)
            if (local and event.is_state()) or self._is_bot(sender):
                return NOT_SPAM
            if event.is_state():
                texts = state_texts(event.type, event.state_key, sender, event.content)
            else:
                texts = message_texts(event.type, event.content)
            decision = self._filter.check(
                texts, sender, event.room_id, event.event_id, event.type
            )
        except Exception as e:
            decision = self._s.guard.failed(CHECK, e)
        self._meter.done(started, decision)
        if decision is None:
            return NOT_SPAM
        return to_spam_result(decision, self._language)

    async def check_event_allowed(
        self, event: EventBase, state: StateMap[EventBase]
    ) -> tuple[bool, None]:
        """State events of local users: names, topics, aliases, display names."""
        if not event.is_state():
            return True, None
        started = time.perf_counter()
        try:
            sender = event.sender
            if not self._api.is_mine(sender) or self._is_bot(sender):
                return True, None
            texts = state_texts(event.type, event.state_key, sender, event.content)
            decision = self._filter.check(
                texts, sender, event.room_id, event.event_id, event.type
            )
        except Exception as e:
            decision = self._s.guard.failed(CHECK, e)
        self._meter.done(started, decision)
        if decision is not None:
            raise to_synapse_error(decision, self._language)
        return True, None

    # -- rooms and aliases ------------------------------------------------------

    async def on_create_room(
        self, requester: Requester, room_config: dict[str, Any], is_admin: bool
    ) -> None:
        """The createRoom body, before anything is written."""
        user_id = requester.user.to_string()
        try:
            if self._is_bot(user_id):
                return
            # Reviews are recorded when the room's events are checked, with
            # their event ids; here only a refusal matters.
            decision: Decision = self._filter.check(
                create_room_texts(room_config), user_id, record_reviews=False
            )
        except Exception as e:
            decision = self._s.guard.failed(CHECK, e)
        if decision is not None:
            raise to_synapse_error(decision, self._language)

    async def user_may_create_room_alias(
        self, user_id: str, room_alias: RoomAlias
    ) -> Any:
        alias = room_alias.to_string()
        try:
            if self._is_bot(user_id):
                return NOT_SPAM
            decision: Decision = self._filter.check(
                [(ALIAS, alias_localpart(alias))], user_id, subject=alias
            )
        except Exception as e:
            decision = self._s.guard.failed(CHECK, e)
        return (
            NOT_SPAM if decision is None else to_spam_result(decision, self._language)
        )

    # -- profiles -----------------------------------------------------------------

    async def check_username_for_spam(
        self, user_profile: UserProfile, requester_id: str
    ) -> bool:
        """True hides the user from directory searches."""
        name = user_profile.get("display_name")
        if not name:
            return False
        try:
            return self._filter.blocks([(DISPLAYNAME, name)])
        except Exception as e:
            # Hiding a user is the closed answer; showing them the open one.
            return self._s.guard.failed(CHECK, e) is not None

    async def on_profile_update(
        self,
        user_id: str,
        new_profile: ProfileInfo,
        by_admin: bool,
        deactivation: bool,
    ) -> None:
        """Record a prohibited global display name. It cannot be refused
        here (Synapse ignores what this callback says), but every member
        event that would carry it into a room is refused."""
        name = new_profile.display_name
        if deactivation or not name or self._is_bot(user_id):
            return
        if not self._api.is_mine(user_id):
            return
        self._filter.check([(DISPLAYNAME, name)], user_id, subject="profile")


def register(api: ModuleApi, services: Services) -> None:
    if services.content is None or not services.config.content.enabled:
        return
    ContentChecks(api, services).register()

"""Per-action gates on a user's standing: real-name (A1) and covenant (A9).

Which Synapse callback carries which action (Synapse 1.163):

- `send`: `check_event_for_spam`, which `EventCreationHandler.
  create_and_send_nonmember_event` calls for every local non-membership
  event, state events and redactions included (synapse/handlers/message.py).
  The events of `createRoom` itself do not pass through it, so a gated
  `send` never breaks a room creation that `create_room` allowed. It also
  runs for remote events (where a refusal soft-fails), so only local
  senders are judged.
- `create_room`: `user_may_create_room`; `invite`: `user_may_invite`;
  `join`: `user_may_join_room` (spamchecker_callbacks.py). Synapse skips
  the create and join callbacks for server admins; the gates exempt them
  from the other two as well, so the rule is the same for every action.

Direct chats are rooms like any other and take the same gates. The notice
bot is exempt, and so is a user's join to a room the bot invited them to
(its direct chat with them): that is where the verification link waits.

Only a user about to be refused pays for the exemption lookups; a user who
passes costs one cached read.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from synapse.module_api import NOT_SPAM

from synapse_groupreg.config.identity import Action
from synapse_groupreg.reasons import Decision, Refusal, to_spam_result
from synapse_groupreg.services import Services

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.module_api import ModuleApi


class ActionGate:
    """Refuses the configured actions to users whose standing falls short.

    Args:
        check: the check's name for its fail mode (`fail:` in the config).
        actions: the actions this gate covers.
        passes: whether the user's standing is enough (cached, cheap).
        refusal: the refusal for a user who falls short.
    """

    def __init__(
        self,
        api: ModuleApi,
        services: Services,
        check: str,
        actions: frozenset[Action],
        passes: Callable[[str], Awaitable[bool]],
        refusal: Callable[[str, Action], Refusal],
    ) -> None:
        self._api = api
        self._s = services
        self._check = check
        self._actions = actions
        self._passes = passes
        self._refusal = refusal

    async def decide(
        self, user_id: str, action: Action, room_id: str | None = None
    ) -> Decision:
        """None to allow, else the refusal."""
        if action not in self._actions or self._s.notices.is_bot(user_id):
            return None
        started = time.perf_counter()
        decision: Decision
        try:
            exempt = await self._passes(user_id) or await self._api.is_user_admin(
                user_id
            )
            if not exempt and action is Action.JOIN and room_id is not None:
                exempt = await self._join_exempt(user_id, room_id)
            decision = None if exempt else self._refusal(user_id, action)
        except Exception as e:
            decision = self._s.guard.failed(self._check, e)
        return self._s.guard.meter(self._check).done(started, decision)

    async def _join_exempt(self, user_id: str, room_id: str) -> bool:
        """A join that lets nobody into a group: to a room the notice bot
        invited the user to (its direct chat), or to a room the user is in
        already (a no-op join). Read from the room state, not the bot's room
        table: the invite reaches the user before `Notices` records it."""
        state = await self._api.get_room_state(room_id, [("m.room.member", user_id)])
        member = state.get(("m.room.member", user_id))
        if member is None:
            return False
        return member.membership == "join" or (
            member.membership == "invite" and self._s.notices.is_bot(member.sender)
        )

    def _answer(self, decision: Decision) -> Any:
        if decision is None:
            return NOT_SPAM
        return to_spam_result(decision, self._s.config.language)

    async def check_event_for_spam(self, event: EventBase) -> Any:
        if not self._api.is_mine(event.sender):
            return NOT_SPAM
        return self._answer(await self.decide(event.sender, Action.SEND))

    async def user_may_create_room(
        self, user_id: str, room_config: dict[str, Any]
    ) -> Any:
        return self._answer(await self.decide(user_id, Action.CREATE_ROOM))

    async def user_may_invite(self, inviter: str, invitee: str, room_id: str) -> Any:
        return self._answer(await self.decide(inviter, Action.INVITE))

    async def user_may_join_room(
        self, user_id: str, room_id: str, is_invited: bool
    ) -> Any:
        return self._answer(await self.decide(user_id, Action.JOIN, room_id))

    def register(self) -> None:
        self._api.register_spam_checker_callbacks(
            check_event_for_spam=self.check_event_for_spam,
            user_may_create_room=self.user_may_create_room,
            user_may_invite=self.user_may_invite,
            user_may_join_room=self.user_may_join_room,
        )

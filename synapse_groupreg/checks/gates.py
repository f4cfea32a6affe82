"""Per-action gates on a user's standing: real-name (A1) and covenant (A9).

Which stage carries which action (Synapse 1.163):

- `send`: the event stage (`check_event_for_spam`), which `EventCreation
  Handler.create_and_send_nonmember_event` runs for every local
  non-membership event, state events and redactions included
  (synapse/handlers/message.py). The events of `createRoom` itself do not
  pass through it, so a gated `send` never breaks a room creation that the
  create stage allowed. Remote senders are not judged.
- `create_room`: the create stage (`user_may_create_room`); `invite`: the
  invite stage (`user_may_invite`); `join`: the join stage
  (`user_may_join_room`). Synapse skips these for server admins; the gate
  exempts them from `send` as well, so the rule is the same for every
  action.
- a knock is a way in too, gated as `join`: Synapse asks no spam checker
  about knocks (`RoomMemberHandler.update_membership_locked` calls
  `user_may_join_room` for joins only, synapse/handlers/room_member.py),
  so the gate judges a local user's own knock event at the member stage.

Direct chats are rooms like any other and take the same gates. The notice
bot is exempt (the dispatcher lets it through), and so is a user's join to
a room the bot invited them to (its direct chat with them): that is where
the verification link waits.

Only a user about to be refused pays for the exemption lookups; a user who
passes costs one cached read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from synapse_groupreg.config.identity import Action
from synapse_groupreg.dispatch import (
    Contribution,
    CreationFacts,
    EventFacts,
    InviteFacts,
    JoinFacts,
    Rule,
    Stage,
)
from synapse_groupreg.events import MEMBER
from synapse_groupreg.reasons import Refusal

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

#: Whether a user's standing is enough (cached, cheap when warm).
Passes = Callable[[str], Awaitable[bool]]
#: The refusal for a user who falls short of the gate for an action.
RefusalFor = Callable[[str, Action], Refusal]


class ActionGate:
    """Refuses the configured actions to users whose standing falls short.

    Args:
        check: the check's name (`fail:`, `enforcement:`, metrics).
        actions: the actions this gate covers.
        passes: whether the user's standing is enough.
        refusal: the refusal for a user who falls short.
        is_bot: the notice bot (whose invites to its own chat are exempt).
    """

    def __init__(
        self,
        api: ModuleApi,
        check: str,
        actions: frozenset[Action],
        passes: Passes,
        refusal: RefusalFor,
        is_bot: Callable[[str], bool],
    ) -> None:
        self._api = api
        self._check = check
        self._actions = actions
        self._passes = passes
        self._refusal = refusal
        self._is_bot = is_bot

    async def _decide(
        self, user_id: str, action: Action, join_room: str | None = None
    ) -> Refusal | None:
        if await self._passes(user_id) or await self._api.is_user_admin(user_id):
            return None
        if join_room is not None and await self._join_exempt(user_id, join_room):
            return None
        return self._refusal(user_id, action)

    async def _join_exempt(self, user_id: str, room_id: str) -> bool:
        """A join that lets nobody into a group: to a room the notice bot
        invited the user to (its direct chat), or to a room the user is in
        already (a no-op join). Read from the room state, not the bot's room
        table: the invite reaches the user before `Notices` records it."""
        state = await self._api.get_room_state(room_id, [(MEMBER, user_id)])
        member = state.get((MEMBER, user_id))
        if member is None:
            return False
        return member.membership == "join" or (
            member.membership == "invite" and self._is_bot(member.sender)
        )

    async def _send(self, facts: EventFacts) -> Refusal | None:
        return await self._decide(facts.sender, Action.SEND)

    async def _create(self, facts: CreationFacts) -> Refusal | None:
        return await self._decide(facts.user_id, Action.CREATE_ROOM)

    async def _invite(self, facts: InviteFacts) -> Refusal | None:
        return await self._decide(facts.inviter, Action.INVITE)

    async def _join(self, facts: JoinFacts) -> Refusal | None:
        return await self._decide(facts.user_id, Action.JOIN, facts.room_id)

    async def _knock(self, facts: EventFacts) -> Refusal | None:
        if facts.membership != "knock" or facts.state_key != facts.sender:
            return None
        return await self._decide(facts.sender, Action.JOIN)

    def rules(self) -> Contribution:
        """The gate's rule at the stage of each configured action."""
        by_action = {
            Action.SEND: (Stage.EVENT, self._send),
            Action.CREATE_ROOM: (Stage.CREATE, self._create),
            Action.INVITE: (Stage.INVITE, self._invite),
            Action.JOIN: (Stage.JOIN, self._join),
        }
        contribution: dict[Stage, list[Rule[object]]] = {}
        for action, (stage, decide) in by_action.items():
            if action in self._actions:
                rule: Rule[object] = Rule(
                    f"{self._check}.{action.value}",
                    self._check,
                    decide,  # type: ignore[arg-type]
                )
                contribution.setdefault(stage, []).append(rule)
        if Action.JOIN in self._actions:
            knock: Rule[object] = Rule(
                f"{self._check}.knock",
                self._check,
                self._knock,  # type: ignore[arg-type]
            )
            contribution.setdefault(Stage.MEMBER, []).append(knock)
        return contribution

"""Rules of the prohibited-content filter (C1, C2).

Which stage sees what (Synapse 1.163):

- The event stage (`check_event_for_spam`) runs for every non-membership
  event a local user sends through the client API, state events included
  (`handlers/message.py`, `_create_and_send_nonmember_event_locked`); its
  refusal tuple becomes the 403 body. It also runs on every event received
  over federation (`federation/federation_base.py`, `_check_sigs_and_hash`):
  there a refusal makes Synapse *soft-fail* the event (kept, redacted,
  never shown to local users, not used as a prev_event). That is how
  remote prohibited content is handled.
- The member stage (`check_event_allowed` for `m.room.member`) is the only
  one that sees display names in local member events.
- The create-request stage (`on_create_room`) gets the createRoom body
  before anything is written (`handlers/room.py`, `create_room`), for
  server admins too, so a prohibited name, topic or alias is refused
  without leaving half a room behind: createRoom's own events do not pass
  the event stage.
- The alias stage (`user_may_create_room_alias`) covers `PUT
  /directory/room/{alias}` and createRoom's `room_alias_name`
  (`handlers/directory.py`, `create_association`), for admins too.
- The directory stage (`check_username_for_spam`) hides users whose display
  name is prohibited from user-directory searches; `on_profile_update`
  records such a name. Synapse gives modules no way to refuse a change of
  the global profile, so those two and the member-event check are what can
  be done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from synapse_groupreg.content.extract import (
    ALIAS,
    DISPLAYNAME,
    alias_localpart,
    create_room_texts,
    message_texts,
    state_texts,
)
from synapse_groupreg.content.filter import ContentFilter
from synapse_groupreg.dispatch import (
    AliasFacts,
    Contribution,
    CreationFacts,
    EventFacts,
    ProfileFacts,
    Reactions,
    Rule,
    Stage,
)
from synapse_groupreg.reasons import Refusal

if TYPE_CHECKING:
    from synapse.module_api import ProfileInfo

CHECK = "content"


class ContentChecks:
    def __init__(
        self,
        content_filter: ContentFilter,
        is_mine: Callable[[str], bool],
        is_bot: Callable[[str], bool],
    ) -> None:
        self._filter = content_filter
        self._is_mine = is_mine
        self._is_bot = is_bot

    def rules(self) -> Contribution:
        return {
            Stage.CREATE_REQUEST: (Rule("content.create", CHECK, self._create),),
            Stage.EVENT: (Rule("content.event", CHECK, self._event, remote=True),),
            Stage.MEMBER: (Rule("content.member", CHECK, self._member),),
            Stage.ALIAS: (Rule("content.alias", CHECK, self._alias),),
            Stage.DIRECTORY: (
                Rule("content.directory", CHECK, self._directory, remote=True),
            ),
        }

    def reactions(self) -> Reactions:
        return Reactions(profile_update=(self.on_profile_update,))

    async def _event(self, facts: EventFacts) -> Refusal | None:
        """Non-membership events of local users; every event from other
        servers."""
        event = facts.event
        if facts.is_state:
            texts = state_texts(
                facts.type, facts.state_key or "", facts.sender, event.content
            )
        else:
            texts = message_texts(facts.type, event.content)
        return self._filter.check(
            texts, facts.sender, facts.room_id, event.event_id, facts.type
        )

    async def _member(self, facts: EventFacts) -> Refusal | None:
        """Display names in local member events."""
        event = facts.event
        texts = state_texts(
            facts.type, facts.state_key or "", facts.sender, event.content
        )
        return self._filter.check(
            texts, facts.sender, facts.room_id, event.event_id, facts.type
        )

    async def _create(self, facts: CreationFacts) -> Refusal | None:
        """The createRoom body, before anything is written. Reviews are
        recorded when the room's events are checked, with their event ids;
        here only a refusal matters."""
        return self._filter.check(
            create_room_texts(facts.request), facts.user_id, record_reviews=False
        )

    async def _alias(self, facts: AliasFacts) -> Refusal | None:
        return self._filter.check(
            [(ALIAS, alias_localpart(facts.alias))], facts.user_id, subject=facts.alias
        )

    async def _directory(self, facts: ProfileFacts) -> Refusal | None:
        """A refusal hides the user from directory searches; nothing is
        recorded (directory searches ask about the same names again and
        again)."""
        name = facts.display_name
        if not name:
            return None
        return self._filter.blocked([(DISPLAYNAME, name)])

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
        if not self._is_mine(user_id):
            return
        refusal = self._filter.check([(DISPLAYNAME, name)], user_id, subject="profile")
        if refusal is not None and refusal.then is not None:
            await refusal.then()

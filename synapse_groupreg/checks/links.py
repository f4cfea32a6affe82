"""Rules of the link lists (C8), at the event stage (`check_event_for_spam`):
every message and state event local users send, and every event from
other servers (a refusal soft-fails it, as for keywords).

A message without a dot costs one `in` test per dot-like character; one
with a dot, a regular-expression pass. The room's class is read (one
cached registration) only when a link was found and some class has an
allow list.
"""

from __future__ import annotations

from synapse_groupreg.content.extract import link_texts, state_texts
from synapse_groupreg.dispatch import Contribution, EventFacts, Rule, Stage
from synapse_groupreg.links.check import LinkFilter, links_in
from synapse_groupreg.reasons import Refusal

#: Fail and enforcement modes are the content filter's: one concern (Art. 10).
CHECK = "content"


class LinkChecks:
    def __init__(self, links: LinkFilter) -> None:
        self._links = links

    def rules(self) -> Contribution:
        return {Stage.EVENT: (Rule("links.event", CHECK, self._event, remote=True),)}

    async def _event(self, facts: EventFacts) -> Refusal | None:
        event = facts.event
        if facts.is_state:
            texts = state_texts(
                facts.type, facts.state_key or "", facts.sender, event.content
            )
        else:
            texts = link_texts(facts.type, event.content)
        found = links_in(texts)
        if not found:
            return None
        room_class = None
        if self._links.allow:
            room = await facts.room()
            room_class = room.room_class if room is not None else None
        return self._links.check(
            found, facts.sender, facts.room_id, event.event_id, facts.type, room_class
        )

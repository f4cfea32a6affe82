"""Emergency measures (D6): suspend or close many groups at once, chosen by
room class, category or a keyword in their name or topic, with a dry run
that lists what would be hit.

Each room is sanctioned through `SanctionService.apply`, so every one gets
its notice, statements and audit entry like a single sanction would.
Keywords are matched with the content filter's normaliser and automaton
(full-width, case, Traditional Chinese and inserted separators all fold), in
a thread, as a server may hold many rooms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import attrs

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.keywords import Action, Category, KeywordSet
from synapse_groupreg.sanctions.model import ROOM, InvalidSanction, SanctionOrder
from synapse_groupreg.sanctions.registry import RegisteredRoom, SelectionUnavailable
from synapse_groupreg.sanctions.service import SanctionService
from synapse_groupreg.store.room_texts import RoomText, RoomTextStore

T = TypeVar("T")
InThread = Callable[..., Awaitable[Any]]
#: A content-filter category's (words, exceptions), None if there is none.
CategoryWords = Callable[[str], Awaitable[tuple[list[str], list[str]] | None]]

ACTIONS = ("suspend_posting", "close")
_BATCH = 2000


@attrs.frozen(slots=True)
class EmergencyOrder:
    action: str
    reason: str
    actor: str
    duration_ms: int | None = None
    room_class: str | None = None
    category: str | None = None
    keywords: tuple[str, ...] = ()
    #: A content-filter category whose words (and exceptions) select rooms.
    keyword_category: str | None = None
    dry_run: bool = True


@attrs.frozen(slots=True)
class Hit:
    """A room the measure selects, and why."""

    room_id: str
    name: str | None = None
    room_class: str | None = None
    category: str | None = None
    code: str | None = None
    keyword: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "name": self.name,
            "class": self.room_class,
            "category": self.category,
            "code": self.code,
            "matched_keyword": self.keyword,
        }


def keyword_hits(
    keywords: Sequence[str], rooms: Sequence[RoomText], exceptions: Sequence[str] = ()
) -> list[Hit]:
    """Rooms whose name, topic or alias holds one of the keywords, outside
    the exceptions (pure, CPU-bound: run in a thread)."""
    matcher = KeywordSet.build(
        [Category("emergency", Action.BLOCK, 0, tuple(keywords), tuple(exceptions))]
    )
    hits = []
    for room in rooms:
        texts = [t for t in (room.name, room.topic, room.alias) if t]
        found = matcher.scan(*texts)
        if found:
            keyword = keywords[found.hits[0].word_index]
            hits.append(Hit(room.room_id, name=room.name, keyword=keyword))
    return hits


class Emergency:
    def __init__(
        self,
        sanctions: SanctionService,
        texts: RoomTextStore,
        audit: AuditLog,
        in_thread: InThread,
        category_words: CategoryWords | None,
    ) -> None:
        """`category_words`: a content-filter category's words and
        exceptions, to select rooms by (None while the filter is off)."""
        self._sanctions = sanctions
        self._texts = texts
        self._audit = audit
        self._in_thread = in_thread
        self.category_words = category_words

    async def select(self, order: EmergencyOrder) -> list[Hit]:
        """The rooms the order hits: the intersection of its criteria,
        open rooms only.

        Raises:
            InvalidSanction: naming the field at fault.
        """
        if not (
            order.room_class
            or order.category
            or order.keywords
            or order.keyword_category
        ):
            raise InvalidSanction(
                "match",
                "give at least one of 'class', 'category', 'keywords' and "
                "'keyword_category'",
            )
        selected: dict[str, Hit] | None = None
        if order.room_class or order.category:
            try:
                registered = await self._sanctions.registry.select(
                    order.room_class, order.category
                )
            except SelectionUnavailable as e:
                field = "class" if order.room_class else "category"
                raise InvalidSanction(field, str(e)) from None
            selected = {r.room_id: _hit(r) for r in registered}
        words, exceptions = await self._words(order)
        if words:
            matched = await self._keyword_rooms(words, exceptions)
            if selected is None:
                selected = {h.room_id: h for h in matched}
            else:
                by_room = {h.room_id: h for h in matched}
                selected = {
                    room_id: attrs.evolve(
                        hit,
                        keyword=by_room[room_id].keyword,
                        name=by_room[room_id].name,
                    )
                    for room_id, hit in selected.items()
                    if room_id in by_room
                }
        assert selected is not None
        index = await self._sanctions.in_force()
        return [h for h in selected.values() if not index.room_closed(h.room_id)]

    async def _words(self, order: EmergencyOrder) -> tuple[list[str], list[str]]:
        """The keywords to match: those given, and a filter category's."""
        if any(not k.strip() for k in order.keywords):
            raise InvalidSanction("keywords", "keywords must not be empty")
        words: list[str] = list(order.keywords)
        exceptions: list[str] = []
        if order.keyword_category is not None:
            if self.category_words is None:
                raise InvalidSanction(
                    "keyword_category", "the content filter is off on this server"
                )
            found = await self.category_words(order.keyword_category)
            if found is None:
                raise InvalidSanction(
                    "keyword_category",
                    f"there is no keyword category '{order.keyword_category}'",
                )
            words.extend(found[0])
            exceptions.extend(found[1])
            if not words:
                raise InvalidSanction(
                    "keyword_category",
                    f"the category '{order.keyword_category}' lists no words",
                )
        return words, exceptions

    async def _keyword_rooms(
        self, keywords: Sequence[str], exceptions: Sequence[str]
    ) -> list[Hit]:
        hits: list[Hit] = []
        after = ""
        while True:
            rooms = await self._texts.local_rooms(after, _BATCH)
            if not rooms:
                return hits
            found: list[Hit] = await self._in_thread(
                keyword_hits, list(keywords), rooms, list(exceptions)
            )
            hits.extend(found)
            after = rooms[-1].room_id

    async def run(self, order: EmergencyOrder) -> dict[str, Any]:
        """Preview (dry run) or apply the measure; every run is audited."""
        if order.action not in ACTIONS:
            raise InvalidSanction(
                "action", f"'action' must be one of: {', '.join(ACTIONS)}"
            )
        if order.action == "suspend_posting" and not order.duration_ms:
            raise InvalidSanction("duration", "'suspend_posting' needs a duration")
        if not order.reason.strip():
            raise InvalidSanction("reason", "'reason' must state the facts")
        hits = await self.select(order)
        applied: list[dict[str, Any]] = []
        if not order.dry_run:
            for hit in hits:
                applied.append(await self._apply(order, hit))
        answer = {
            "dry_run": order.dry_run,
            "action": order.action,
            "rooms": [h.to_json() for h in hits],
            "applied": applied,
        }
        await self._audit.record(
            order.actor,
            "emergency.preview" if order.dry_run else "emergency.apply",
            order.action,
            {
                "reason": order.reason,
                "class": order.room_class,
                "category": order.category,
                "keywords": list(order.keywords),
                "keyword_category": order.keyword_category,
                "rooms": [h.room_id for h in hits],
                "sanctions": [a.get("sanction_id") for a in applied],
            },
        )
        return answer

    async def _apply(self, order: EmergencyOrder, hit: Hit) -> dict[str, Any]:
        try:
            sanction = await self._sanctions.apply(
                SanctionOrder(
                    scope=ROOM,
                    target=hit.room_id,
                    action=order.action,
                    reason=order.reason,
                    actor=order.actor,
                    duration_ms=order.duration_ms,
                    evidence={
                        "emergency": True,
                        "class": order.room_class,
                        "category": order.category,
                        "matched_keyword": hit.keyword,
                        "keyword_category": order.keyword_category,
                    },
                )
            )
        except InvalidSanction as e:
            return {"room_id": hit.room_id, "error": e.message}
        return {"room_id": hit.room_id, "sanction_id": sanction.sanction_id}


def _hit(room: RegisteredRoom) -> Hit:
    return Hit(
        room.room_id,
        room_class=room.room_class,
        category=room.category,
        code=room.code,
    )

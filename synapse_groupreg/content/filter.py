"""The decision on what a user publishes (C1, C2): refuse, allow, or allow
and record for review.

Synchronous and database-free: it reads the current `Snapshot` (one
attribute) and scans each text once (normalise + one automaton pass, about
4 µs for a 50-character message with 10k keywords, bench/filter.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

import attrs

from synapse_groupreg.config.content import Labels
from synapse_groupreg.content.extract import DISPLAYNAME, FIELD_LABELS, Text
from synapse_groupreg.content.hits import HitLog
from synapse_groupreg.content.lists import KeywordLists, Snapshot
from synapse_groupreg.keywords import Hit
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.content_hits import HitRow

#: A prohibited display name is recorded once per this time (see `_record`).
NAME_REPEAT_MS = 3600_000


class ContentFilter:
    """Scans texts against the lists and records what it finds.

    Args:
        lists: the current lists (swapped in the background).
        hits: where refusals and review records go.
        now_ms: the clock.
    """

    def __init__(
        self, lists: KeywordLists, hits: HitLog, now_ms: Callable[[], int]
    ) -> None:
        self._lists = lists
        self._hits = hits
        self._now_ms = now_ms
        self._names_seen: dict[tuple[str, str, str, str], int] = {}

    def check(
        self,
        texts: Sequence[Text],
        sender: str,
        room_id: str | None = None,
        event_id: str | None = None,
        event_type: str | None = None,
        subject: str | None = None,
        record_reviews: bool = True,
    ) -> Refusal | None:
        """Refusal for the first `block` category found, else None.

        The refusal's `then` records the block (without the event: it will
        not exist), so a refusal that is only observed (H4) is not recorded
        and costs no credit. Review categories are recorded with the event
        when nothing blocks and `record_reviews` is set (callers that see
        the event later say no).
        """
        if not texts:
            return None
        snapshot = self._lists.snapshot
        keywords = snapshot.keywords
        reviews: list[tuple[str, Hit]] = []
        for field, text in texts:
            result = keywords.scan(text)
            if not result:
                continue
            block = result.first_block
            if block is not None:
                row = self._row(
                    snapshot, block, field, sender, room_id, None, event_type, subject
                )

                refusal = prohibited(snapshot.labels, block.category, field)
                return attrs.evolve(refusal, then=self._recorder(row))
            reviews.extend((field, hit) for hit in result.reviews)
        if record_reviews and reviews:
            seen: set[str] = set()
            for field, hit in reviews:
                if hit.category not in seen:
                    seen.add(hit.category)
                    self._record(
                        self._row(snapshot, hit, field, sender, room_id, event_id,
                                  event_type, subject)
                    )  # fmt: skip
        return None

    def _recorder(self, row: HitRow) -> Callable[[], Awaitable[None]]:
        async def record() -> None:
            self._record(row)

        return record

    def _record(self, row: HitRow) -> None:
        """Queue a hit; a display name is recorded once an hour.

        One change of a global display name makes Synapse write a member
        event into every room the user is in; each is refused, but it is
        one act, and must cost one record and one penalty, not one per room.
        """
        if row.field == DISPLAYNAME:
            key = (row.user_id, row.category, row.keyword, row.action)
            last = self._names_seen.get(key)
            if last is not None and row.ts - last < NAME_REPEAT_MS:
                return
            if len(self._names_seen) >= 10_000:
                self._names_seen.clear()  # a bound, not a cache policy
            self._names_seen[key] = row.ts
        self._hits.add(row)

    def blocks(self, texts: Sequence[Text]) -> bool:
        """Whether any text has a `block` category; records nothing (for
        lookups such as the user directory, asked many times over)."""
        return self.blocked(texts) is not None

    def blocked(self, texts: Sequence[Text]) -> Refusal | None:
        """The refusal for the first text with a `block` category, recording
        nothing."""
        snapshot = self._lists.snapshot
        for field, text in texts:
            block = snapshot.keywords.first_block(text)
            if block is not None:
                return prohibited(snapshot.labels, block.category, field)
        return None

    def _row(
        self,
        snapshot: Snapshot,
        hit: Hit,
        field: str,
        sender: str,
        room_id: str | None,
        event_id: str | None,
        event_type: str | None,
        subject: str | None,
    ) -> HitRow:
        category = next(
            c for c in snapshot.keywords.categories if c.name == hit.category
        )
        return HitRow(
            ts=self._now_ms(),
            user_id=sender,
            room_id=room_id,
            event_id=event_id,
            event_type=event_type,
            field=field,
            subject=subject,
            category=hit.category,
            action=hit.action.value,
            credit_penalty=hit.credit_penalty,
            keyword=category.words[hit.word_index],
            list_version=snapshot.version,
        )


def prohibited(labels: Mapping[str, Labels], category: str, field: str) -> Refusal:
    """PROHIBITED_CONTENT naming the category and where it was found, in
    both languages (the catalogue picks); never the word itself."""
    label = labels.get(category) or Labels(category, category)
    where_zh, where_en = FIELD_LABELS.get(field, ("内容", "the content"))
    return Refusal(
        Reason.PROHIBITED_CONTENT,
        {"category": (f"{label.zh}，位置：{where_zh}", f"{label.en}, in {where_en}")},
    )

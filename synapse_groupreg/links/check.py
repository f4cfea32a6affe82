"""The decision on the links in what a user publishes (C8): refuse a link
to a listed domain (or, in a class with an allow list, to any other), or
allow it and record it for review, like a keyword hit (content/filter.py).

Cheap for texts without links: `hosts` answers at once for a text with no
dot, and a text with dots costs one regular-expression pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

import attrs

from synapse_groupreg.content.catalogue import Catalogue
from synapse_groupreg.content.extract import Text
from synapse_groupreg.content.hits import HitLog
from synapse_groupreg.links.lists import LinkSnapshot, allowed
from synapse_groupreg.links.normalise import hosts
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.content_hits import HitRow

#: The hit record's category for a link outside a class's allow list.
NOT_ALLOWED = "not_allowed"


@attrs.frozen(slots=True)
class Found:
    """A host found in one field of the content."""

    field: str
    host: str


def links_in(texts: Sequence[Text]) -> list[Found]:
    return [Found(field, host) for field, text in texts for host in hosts(text)]


class LinkFilter:
    def __init__(
        self,
        lists: Catalogue[LinkSnapshot],
        hits: HitLog,
        allow: Mapping[str, frozenset[str]],
        now_ms: Callable[[], int],
    ) -> None:
        self._lists = lists
        self._hits = hits
        self.allow = allow
        self._now_ms = now_ms

    def check(
        self,
        found: Sequence[Found],
        sender: str,
        room_id: str | None,
        event_id: str | None,
        event_type: str | None,
        room_class: str | None,
    ) -> Refusal | None:
        """PROHIBITED_LINK for the first link a `block` list covers, or that
        the room class's allow list does not; review records otherwise."""
        if not found:
            return None
        snapshot = self._lists.snapshot

        def row(
            field: str, category: str, action: str, penalty: int, entry: str
        ) -> HitRow:
            return HitRow(
                ts=self._now_ms(), user_id=sender, room_id=room_id,
                event_id=event_id if action != "block" else None,
                event_type=event_type, field=field, subject=None,
                category=category, action=action, credit_penalty=penalty,
                keyword=entry, list_version=snapshot.version,
            )  # fmt: skip

        reviews: dict[str, HitRow] = {}
        for item in found:
            match = snapshot.match((item.host,))
            if match is None:
                continue
            c = match.category
            hit = row(item.field, c.name, c.action, c.credit_penalty, match.domain)
            if c.action == "block":
                refusal = Refusal(
                    Reason.PROHIBITED_LINK,
                    {
                        "category": (
                            f"被禁止的网站（{c.label_zh}）",
                            f"a prohibited site ({c.label_en})",
                        )
                    },
                )
                return attrs.evolve(refusal, then=self._recorder(hit))
            reviews.setdefault(c.name, hit)
        allow = self.allow.get(room_class) if room_class is not None else None
        if allow is not None:
            for item in found:
                if not allowed(item.host, allow):
                    hit = row(item.field, NOT_ALLOWED, "block", 0, item.host)
                    refusal = Refusal(
                        Reason.PROHIBITED_LINK,
                        {
                            "category": (
                                f"“{room_class}”类群组允许的网站以外",
                                f"a site outside those '{room_class}' groups allow",
                            )
                        },
                    )
                    return attrs.evolve(refusal, then=self._recorder(hit))
        for hit in reviews.values():
            self._hits.add(hit)
        return None

    def _recorder(self, row: HitRow) -> Callable[[], Awaitable[None]]:
        async def record() -> None:
            self._hits.add(row)

        return record

"""The keyword lists as every process holds them, and the admin's changes (C4).

Each process keeps one `Snapshot`: the list version, the compiled
`KeywordSet` and the categories' user-facing labels. The per-message path
reads `lists.snapshot` (one attribute read) and never the database.

A change goes: admin API -> one transaction that also adds one to the list
version -> the changing process rebuilds at once; every other process polls
the version every `content.reload_interval` (one single-row read) and
rebuilds when it moved (`content.reloading.Reloader`, shared with the media
and link lists). Building a 10k-word set takes about 20 ms (100k:
0.5 s), done in Synapse's thread pool, then swapped in by one assignment:
a message scanned meanwhile sees the old set or the new one, never a mix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import attrs

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.config.content import (
    MAX_ENTRIES,
    Labels,
)
from synapse_groupreg.content.entries import (
    ImportResult,
    ListError,
    category_row,
    check_entries,
    check_name,
    decode_lines,
    line_numbers,
    list_change,
    settings_change,
)
from synapse_groupreg.content.reloading import Reloaded, Reloader, ToThread
from synapse_groupreg.keywords import (
    Category,
    KeywordSet,
    normalise,
    parse_word_file,
)
from synapse_groupreg.store.keywords import (
    EXCEPTION,
    WORD,
    CategoryCounts,
    CategoryLists,
    KeywordStore,
)

logger = logging.getLogger(__name__)


@attrs.frozen(slots=True)
class Snapshot:
    """What the checks read: one immutable object, swapped as a whole."""

    version: int
    keywords: KeywordSet
    labels: Mapping[str, Labels]

    @classmethod
    def build(cls, version: int, categories: Sequence[CategoryLists]) -> Snapshot:
        """Compile the lists; pure and CPU-bound, so callers run it in a thread."""
        keywords = KeywordSet.build(
            Category(
                c.row.name, c.row.action, c.row.credit_penalty, c.words, c.exceptions
            )
            for c in categories
        )
        labels = {
            c.row.name: Labels(c.row.label_zh, c.row.label_en) for c in categories
        }
        return cls(version, keywords, labels)


class KeywordLists(Reloaded[Snapshot]):
    """The lists: the current snapshot, reloads, and admin changes.

    Args:
        store: the lists' SQL.
        audit: where every change is recorded (F1).
        to_thread: `ModuleApi.defer_to_thread`.
        now_ms: the clock.
    """

    def __init__(
        self,
        store: KeywordStore,
        audit: AuditLog,
        to_thread: ToThread,
        now_ms: Callable[[], int],
        initial: Snapshot,
    ) -> None:
        self._store = store
        self._audit = audit
        self._now_ms = now_ms
        self._reloader: Reloader[Snapshot, list[CategoryLists]] = Reloader(
            "keyword lists",
            store.version,
            store.load_all,
            Snapshot.build,
            to_thread,
            initial,
        )

    # -- reading ------------------------------------------------------------

    async def overview(self) -> tuple[int, list[CategoryCounts]]:
        return await self._store.counts()

    async def get(self, name: str) -> tuple[int, CategoryLists | None]:
        return await self._store.get(name)

    # -- changing -------------------------------------------------------------

    async def put(
        self,
        admin: str,
        name: str,
        action: str | None,
        credit_penalty: int | None,
        labels: Labels | None,
        words: Sequence[str] | None,
        exceptions: Sequence[str] | None,
    ) -> tuple[int, CategoryLists, bool]:
        """Create a category or change it; a field given as None is kept.

        Returns:
            The new version, the category now, and whether it was created.

        Raises:
            ListError: a bad name or entry, or a new category without action
                or credit_penalty.
        """
        check_name(name)
        if words is not None:
            check_entries("words", words)
        if exceptions is not None:
            check_entries("exceptions", exceptions)
        _, current = await self._store.get(name)
        base = current.row if current is not None else None
        row = category_row(
            name, action, credit_penalty, labels, base, admin, self._now_ms()
        )
        version, before, after = await self._store.put(row, words, exceptions)
        details = settings_change(
            version, before.row if before else None, row, labels is not None
        )
        old_words = before.words if before else ()
        old_exceptions = before.exceptions if before else ()
        if words is not None or before is None:
            details["words"] = list_change(old_words, after.words)
        if exceptions is not None or before is None:
            details["exceptions"] = list_change(old_exceptions, after.exceptions)
        await self._audit.record(admin, "keywords.put", name, details)
        await self.reload()
        return version, after, before is None

    async def delete(self, admin: str, name: str) -> int | None:
        """Remove a category; None if it does not exist."""
        check_name(name)
        deleted = await self._store.delete(name)
        if deleted is None:
            return None
        version, before = deleted
        await self._audit.record(
            admin,
            "keywords.delete",
            name,
            {
                "version": version,
                "action": before.row.action,
                "credit_penalty": before.row.credit_penalty,
                "words": list_change(before.words, ()),
                "exceptions": list_change(before.exceptions, ()),
            },
        )
        await self.reload()
        return version

    async def import_file(
        self, admin: str, name: str, kind: str, raw: bytes, replace: bool
    ) -> ImportResult | None:
        """Add (or with `replace`, set) one list from an uploaded file.

        The file is UTF-8, one entry a line, '#' comment lines. Every bad
        line is reported with its number and the rest is stored: a typo on
        line 9,000 does not cost the other 8,999. An entry already in the
        list is reported too and not stored twice. None if the category
        does not exist.
        """
        check_name(name)
        text, errors = decode_lines(raw)
        entries, parse_errors = parse_word_file(text)
        errors += parse_errors
        _, current = await self._store.get(name)
        if current is None:
            return None
        existing = current.words if kind == WORD else current.exceptions
        if not replace:
            held = {normalise(e) for e in existing}
            line_of = line_numbers(text)
            fresh = []
            for entry in entries:
                if normalise(entry) in held:
                    errors.append(
                        (
                            line_of[entry],
                            "is already in the list (same once normalised)",
                        )
                    )
                else:
                    fresh.append(entry)
            entries = fresh
        total = len(entries) + (0 if replace else len(existing))
        if total > MAX_ENTRIES:
            raise ListError(
                "body", f"the list would hold {total} entries; at most {MAX_ENTRIES}"
            )
        now = self._now_ms()
        if replace:
            row = attrs.evolve(current.row, updated_ts=now, updated_by=admin)
            version, before, after = await self._store.put(
                row,
                entries if kind == WORD else None,
                entries if kind == EXCEPTION else None,
            )
            assert before is not None
        else:
            appended = await self._store.append(name, kind, entries, (now, admin))
            if appended is None:
                return None
            version, after = appended
            before = current
        old = before.words if kind == WORD else before.exceptions
        new = after.words if kind == WORD else after.exceptions
        details = {
            "version": version,
            "kind": kind,
            "replace": replace,
            "lines_rejected": len(errors),
            "list": list_change(old, new),
        }
        await self._audit.record(admin, "keywords.import", name, details)
        await self.reload()
        return ImportResult(name, kind, len(entries), len(new), sorted(errors), version)

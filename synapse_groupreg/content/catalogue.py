"""Category lists of other things than words: media hashes (C7) and link
domains (C8). One `Catalogue` per family, over the shared list tables
(store/lists.py) and the shared reload mechanism (content/reloading.py):
the current snapshot, the admin's changes and their audit entries.

A family says which kinds of entry its categories hold, how an entry is
checked and written (lower-case hex, ASCII domains), and how its lists
compile into what the checks read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.config.content import Labels
from synapse_groupreg.content.entries import (
    ListError,
    category_row,
    check_name,
    list_change,
    settings_change,
)
from synapse_groupreg.content.reloading import Reloaded, Reloader, ToThread, Versioned
from synapse_groupreg.store.lists import CategoryEntries, CategorySizes, ListStore

S = TypeVar("S", bound=Versioned)

#: Checks one entry of a kind and writes it in the stored form; raises
#: ValueError with the reason (it is shown after the entry).
Normalise = Callable[[str], str]


@attrs.frozen(slots=True)
class Family(Generic[S]):
    """What a family of lists is made of."""

    #: The store's family and the audit actions' prefix ("media", "links").
    name: str
    #: Per kind of entry (the body field), how an entry is checked.
    kinds: Mapping[str, Normalise]
    #: Compiles every category into the snapshot the checks read.
    build: Callable[[int, Sequence[CategoryEntries]], S]
    #: The most entries one kind of one category may hold.
    max_entries: int


class Catalogue(Reloaded[S]):
    """One family's lists: the snapshot every check reads, and changes."""

    def __init__(
        self,
        family: Family[S],
        store: ListStore,
        audit: AuditLog,
        to_thread: ToThread,
        now_ms: Callable[[], int],
        initial: S,
    ) -> None:
        self.family = family
        self._store = store
        self._audit = audit
        self._now_ms = now_ms
        name = family.name
        self._reloader: Reloader[S, list[CategoryEntries]] = Reloader(
            f"{name} lists",
            lambda: store.version(name),
            lambda: store.load_all(name),
            family.build,
            to_thread,
            initial,
        )

    # -- reading ----------------------------------------------------------------

    async def overview(self) -> tuple[int, list[CategorySizes]]:
        return await self._store.sizes(self.family.name)

    async def get(self, name: str) -> tuple[int, CategoryEntries | None]:
        return await self._store.get(self.family.name, name)

    # -- changing ---------------------------------------------------------------

    def normalised(self, kind: str, entries: Sequence[str]) -> tuple[str, ...]:
        """The entries of one kind in stored form, duplicates dropped.

        Raises:
            ListError: naming the field and every bad entry by index.
        """
        if len(entries) > self.family.max_entries:
            raise ListError(
                kind,
                f"'{kind}' has {len(entries)} entries; at most "
                f"{self.family.max_entries}",
            )
        normalise = self.family.kinds[kind]
        out: dict[str, None] = {}
        problems: list[tuple[int, str]] = []
        for index, entry in enumerate(entries):
            try:
                out[normalise(entry)] = None
            except ValueError as e:
                problems.append((index, str(e)))
        if problems:
            index, message = problems[0]
            raise ListError(
                kind,
                f"'{kind}' entry {index} ({entries[index]!r}) {message}"
                + (f"; {len(problems) - 1} more problems" if len(problems) > 1 else ""),
                problems,
            )
        return tuple(out)

    async def put(
        self,
        admin: str,
        name: str,
        action: str | None,
        credit_penalty: int | None,
        labels: Labels | None,
        entries: Mapping[str, Sequence[str]],
    ) -> tuple[int, CategoryEntries, bool]:
        """Create a category or change it; a field given as None, and a kind
        absent from `entries`, is kept; a kind given replaces the old list.

        Returns:
            The new version, the category now, and whether it was created.

        Raises:
            ListError: a bad name or entry, or a new category without action
                or credit_penalty.
        """
        check_name(name)
        clean = {kind: self.normalised(kind, v) for kind, v in entries.items()}
        _, current = await self.get(name)
        base = current.row if current is not None else None
        row = category_row(
            name, action, credit_penalty, labels, base, admin, self._now_ms()
        )
        version, before, after = await self._store.put(self.family.name, row, clean)
        details = settings_change(
            version, before.row if before else None, row, labels is not None
        )
        for kind in self.family.kinds:
            if kind in clean or before is None:
                old = before.of(kind) if before is not None else ()
                details[kind] = list_change(old, after.of(kind))
        await self._audit.record(admin, f"{self.family.name}.put", name, details)
        await self.reload()
        return version, after, before is None

    async def delete(self, admin: str, name: str) -> int | None:
        """Remove a category; None if it does not exist."""
        check_name(name)
        deleted = await self._store.delete(self.family.name, name)
        if deleted is None:
            return None
        version, before = deleted
        details: dict[str, Any] = {
            "version": version,
            "action": before.row.action,
            "credit_penalty": before.row.credit_penalty,
        }
        for kind in self.family.kinds:
            details[kind] = list_change(before.of(kind), ())
        await self._audit.record(admin, f"{self.family.name}.delete", name, details)
        await self.reload()
        return version

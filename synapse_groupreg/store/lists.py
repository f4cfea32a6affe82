"""SQL for the category lists that are not keyword lists: media hashes (C7)
and link domains (C8), one set of tables for every *family* of lists.

A family ("media", "links") has categories (the same row as a keyword
category: action, credit penalty, labels), each with entries of the
family's kinds ("sha256" and "phash"; "domain"), and one version that
every change adds one to in its transaction. Each process polls its
families' versions and reloads when one moved, as the keyword lists do
(store/keywords.py): the same mechanism, over tables any new family can
use without a migration of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, cast

import attrs

from synapse_groupreg.store.database import Connection, Cursor, Database, Migration
from synapse_groupreg.store.keywords import CategoryRow

MIGRATIONS = (
    Migration(
        "lists",
        1,
        (
            """
            CREATE TABLE groupreg_list_categories (
                family TEXT NOT NULL,             -- 'media' (C7) or 'links' (C8)
                name TEXT NOT NULL,               -- e.g. 'gambling'; [a-z0-9_]
                action TEXT NOT NULL,             -- 'block' or 'review'
                credit_penalty INTEGER NOT NULL,  -- points a hit costs (D1)
                label_zh TEXT NOT NULL,           -- the name users read, zh-Hans
                label_en TEXT NOT NULL,           -- the name users read, English
                updated_ts BIGINT NOT NULL,       -- last change, ms since the epoch
                updated_by TEXT NOT NULL,         -- admin user id
                PRIMARY KEY (family, name)
            )
            """,
            """
            CREATE TABLE groupreg_list_entries (
                family TEXT NOT NULL,    -- groupreg_list_categories.family
                category TEXT NOT NULL,  -- groupreg_list_categories.name
                kind TEXT NOT NULL,      -- 'sha256', 'phash' (media); 'domains' (links)
                entry TEXT NOT NULL,     -- normalised: lower-case hex, ASCII domain
                PRIMARY KEY (family, category, kind, entry)
            )
            """,
            # One row per family; every change adds one in its transaction.
            """
            CREATE TABLE groupreg_list_versions (
                family TEXT PRIMARY KEY,
                version BIGINT NOT NULL
            )
            """,
            "INSERT INTO groupreg_list_versions (family, version) VALUES ('media', 0)",
            "INSERT INTO groupreg_list_versions (family, version) VALUES ('links', 0)",
        ),
    ),
)

MEDIA = "media"
LINKS = "links"


@attrs.frozen(slots=True)
class CategoryEntries:
    """A category with its entries, kind by kind, sorted."""

    row: CategoryRow
    entries: Mapping[str, tuple[str, ...]]

    def of(self, kind: str) -> tuple[str, ...]:
        return self.entries.get(kind, ())


@attrs.frozen(slots=True)
class CategorySizes:
    row: CategoryRow
    #: Entries per kind.
    sizes: Mapping[str, int]


class _BatchCursor(Cursor, Protocol):
    # Synapse's LoggingTransaction: execute_batch on PostgreSQL,
    # executemany on SQLite.
    def execute_batch(self, sql: str, args: Iterable[Sequence[Any]]) -> None: ...


_COLUMNS = "name, action, credit_penalty, label_zh, label_en, updated_ts, updated_by"


def _row(r: Sequence[Any]) -> CategoryRow:
    return CategoryRow(
        str(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4]), int(r[5]), str(r[6])
    )


def _version(txn: Cursor, family: str) -> int:
    txn.execute(
        "SELECT version FROM groupreg_list_versions WHERE family = ?", (family,)
    )
    found = txn.fetchone()
    return int(found[0]) if found else 0


def _bump(txn: Cursor, family: str) -> int:
    txn.execute(
        "UPDATE groupreg_list_versions SET version = version + 1 WHERE family = ?",
        (family,),
    )
    return _version(txn, family)


def _category(txn: Cursor, family: str, name: str) -> CategoryEntries | None:
    txn.execute(
        f"SELECT {_COLUMNS} FROM groupreg_list_categories"
        " WHERE family = ? AND name = ?",
        (family, name),
    )
    found = txn.fetchone()
    if found is None:
        return None
    txn.execute(
        "SELECT kind, entry FROM groupreg_list_entries"
        " WHERE family = ? AND category = ? ORDER BY kind, entry",
        (family, name),
    )
    entries: dict[str, list[str]] = {}
    for kind, entry in txn.fetchall():
        entries.setdefault(str(kind), []).append(str(entry))
    return CategoryEntries(_row(found), {k: tuple(v) for k, v in entries.items()})


def load_all(txn: Cursor, family: str) -> tuple[int, list[CategoryEntries]]:
    """`ListStore.load_all` in a transaction (also the start-up connection's)."""
    version = _version(txn, family)
    txn.execute(
        f"SELECT {_COLUMNS} FROM groupreg_list_categories WHERE family = ?"
        " ORDER BY name",
        (family,),
    )
    rows = [_row(r) for r in txn.fetchall()]
    txn.execute(
        "SELECT category, kind, entry FROM groupreg_list_entries"
        " WHERE family = ? ORDER BY category, kind, entry",
        (family,),
    )
    entries: dict[str, dict[str, list[str]]] = {}
    for category, kind, entry in txn.fetchall():
        entries.setdefault(str(category), {}).setdefault(str(kind), []).append(
            str(entry)
        )
    return version, [
        CategoryEntries(r, {k: tuple(v) for k, v in entries.get(r.name, {}).items()})
        for r in rows
    ]


def load_at_start(
    conn: Connection, families: Sequence[str]
) -> dict[str, tuple[int, list[CategoryEntries]]]:
    """Every family's lists on the start-up connection."""
    cur = conn.cursor()
    try:
        return {family: load_all(cur, family) for family in families}
    finally:
        conn.commit()


class ListStore:
    """The lists of every family; each method names the family."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def version(self, family: str) -> int:
        """What each process polls: one single-row read."""
        return await self._db.run("list_version", lambda txn: _version(txn, family))

    async def load_all(self, family: str) -> tuple[int, list[CategoryEntries]]:
        """The version and every category with its entries, in one snapshot."""
        return await self._db.run("list_load_all", lambda txn: load_all(txn, family))

    async def sizes(self, family: str) -> tuple[int, list[CategorySizes]]:
        def txn_fn(txn: Cursor) -> tuple[int, list[CategorySizes]]:
            version = _version(txn, family)
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_list_categories WHERE family = ?"
                " ORDER BY name",
                (family,),
            )
            rows = [_row(r) for r in txn.fetchall()]
            txn.execute(
                "SELECT category, kind, COUNT(*) FROM groupreg_list_entries"
                " WHERE family = ? GROUP BY category, kind",
                (family,),
            )
            sizes: dict[str, dict[str, int]] = {}
            for category, kind, count in txn.fetchall():
                sizes.setdefault(str(category), {})[str(kind)] = int(count)
            return version, [CategorySizes(r, sizes.get(r.name, {})) for r in rows]

        return await self._db.run("list_sizes", txn_fn)

    async def get(self, family: str, name: str) -> tuple[int, CategoryEntries | None]:
        def txn_fn(txn: Cursor) -> tuple[int, CategoryEntries | None]:
            return _version(txn, family), _category(txn, family, name)

        return await self._db.run("list_get", txn_fn)

    async def put(
        self,
        family: str,
        row: CategoryRow,
        entries: Mapping[str, Sequence[str]],
    ) -> tuple[int, CategoryEntries | None, CategoryEntries]:
        """Create or change a category; each kind in `entries` is replaced
        whole (entries already normalised and unique), the others kept.

        Returns:
            The new version, the category before (None if new) and after.
        """

        def txn_fn(
            txn: Cursor,
        ) -> tuple[int, CategoryEntries | None, CategoryEntries]:
            # The version row first: it serialises writers on PostgreSQL.
            version = _bump(txn, family)
            before = _category(txn, family, row.name)
            txn.execute(
                "DELETE FROM groupreg_list_categories WHERE family = ? AND name = ?",
                (family, row.name),
            )
            txn.execute(
                f"INSERT INTO groupreg_list_categories (family, {_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (family, *attrs.astuple(row)),
            )
            for kind, values in entries.items():
                txn.execute(
                    "DELETE FROM groupreg_list_entries"
                    " WHERE family = ? AND category = ? AND kind = ?",
                    (family, row.name, kind),
                )
                cast(_BatchCursor, txn).execute_batch(
                    "INSERT INTO groupreg_list_entries (family, category, kind, entry)"
                    " VALUES (?, ?, ?, ?)",
                    [(family, row.name, kind, v) for v in values],
                )
            after = _category(txn, family, row.name)
            assert after is not None
            return version, before, after

        return await self._db.run("list_put", txn_fn)

    async def delete(
        self, family: str, name: str
    ) -> tuple[int, CategoryEntries] | None:
        """Remove a category and its entries; None if there was none."""

        def txn_fn(txn: Cursor) -> tuple[int, CategoryEntries] | None:
            before = _category(txn, family, name)
            if before is None:
                return None
            version = _bump(txn, family)
            txn.execute(
                "DELETE FROM groupreg_list_entries WHERE family = ? AND category = ?",
                (family, name),
            )
            txn.execute(
                "DELETE FROM groupreg_list_categories WHERE family = ? AND name = ?",
                (family, name),
            )
            return version, before

        return await self._db.run("list_delete", txn_fn)

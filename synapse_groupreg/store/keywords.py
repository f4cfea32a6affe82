"""SQL for the prohibited-content lists (C4): categories, their entries, the
list version every process polls, and the seeds already planted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, cast

import attrs

from synapse_groupreg.store.database import Connection, Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "keywords",
        1,
        (
            """
            CREATE TABLE groupreg_keyword_categories (
                name TEXT PRIMARY KEY,            -- e.g. 'gambling'; [a-z0-9_]
                action TEXT NOT NULL,             -- 'block' or 'review' (C2)
                credit_penalty INTEGER NOT NULL,  -- points a hit costs (D1)
                label_zh TEXT NOT NULL,           -- the name users read, zh-Hans
                label_en TEXT NOT NULL,           -- the name users read, English
                updated_ts BIGINT NOT NULL,       -- last change, ms since the epoch
                updated_by TEXT NOT NULL          -- admin user id, or 'system'
            )
            """,
            """
            CREATE TABLE groupreg_keyword_entries (
                category TEXT NOT NULL,   -- groupreg_keyword_categories.name
                kind TEXT NOT NULL,       -- 'word', or 'exception' (C6)
                position INTEGER NOT NULL,-- order the admin gave; lists load in it
                entry TEXT NOT NULL,      -- as the admin wrote it (not normalised)
                PRIMARY KEY (category, kind, position)
            )
            """,
            # One row. Every change to the lists adds one in the same
            # transaction; each process polls it and rebuilds on a change.
            "CREATE TABLE groupreg_keyword_version (version BIGINT NOT NULL)",
            "INSERT INTO groupreg_keyword_version (version) VALUES (0)",
            """
            CREATE TABLE groupreg_keyword_seeds (
                name TEXT PRIMARY KEY,     -- a category the config seeded once
                seeded_ts BIGINT NOT NULL  -- so deleting it through the API sticks
            )
            """,
        ),
    ),
)

WORD = "word"
EXCEPTION = "exception"


@attrs.frozen(slots=True)
class CategoryRow:
    name: str
    action: str
    credit_penalty: int
    label_zh: str
    label_en: str
    updated_ts: int
    updated_by: str


@attrs.frozen(slots=True)
class CategoryLists:
    """A category with its lists, in the admin's order."""

    row: CategoryRow
    words: tuple[str, ...]
    exceptions: tuple[str, ...]


@attrs.frozen(slots=True)
class CategoryCounts:
    row: CategoryRow
    words: int
    exceptions: int


class _BatchCursor(Cursor, Protocol):
    # Synapse's LoggingTransaction: psycopg2's execute_batch on PostgreSQL,
    # executemany on SQLite; a 100k-word list in one round trip per page.
    def execute_batch(self, sql: str, args: Iterable[Sequence[Any]]) -> None: ...


_CATEGORY_COLUMNS = (
    "name, action, credit_penalty, label_zh, label_en, updated_ts, updated_by"
)


def _category(row: tuple[Any, ...]) -> CategoryRow:
    return CategoryRow(
        str(row[0]),
        str(row[1]),
        int(row[2]),
        str(row[3]),
        str(row[4]),
        int(row[5]),
        str(row[6]),
    )


def _bump(txn: Cursor) -> int:
    txn.execute("UPDATE groupreg_keyword_version SET version = version + 1")
    return read_version(txn)


def read_version(txn: Cursor) -> int:
    txn.execute("SELECT version FROM groupreg_keyword_version")
    row = txn.fetchone()
    return int(row[0]) if row else 0


def load_all(txn: Cursor) -> tuple[int, list[CategoryLists]]:
    """The version and every category with its lists, in one snapshot."""
    version = read_version(txn)
    txn.execute(f"SELECT {_CATEGORY_COLUMNS} FROM groupreg_keyword_categories")
    rows = {r.name: r for r in map(_category, txn.fetchall())}
    txn.execute(
        "SELECT category, kind, entry FROM groupreg_keyword_entries"
        " ORDER BY category, kind, position"
    )
    lists: dict[tuple[str, str], list[str]] = {}
    for category, kind, entry in txn.fetchall():
        lists.setdefault((str(category), str(kind)), []).append(str(entry))
    out = [
        CategoryLists(
            row,
            tuple(lists.get((name, WORD), ())),
            tuple(lists.get((name, EXCEPTION), ())),
        )
        for name, row in sorted(rows.items())
    ]
    return version, out


def _replace_entries(
    txn: Cursor, category: str, kind: str, entries: Sequence[str], start: int = 0
) -> None:
    if start == 0:
        txn.execute(
            "DELETE FROM groupreg_keyword_entries WHERE category = ? AND kind = ?",
            (category, kind),
        )
    cast(_BatchCursor, txn).execute_batch(
        "INSERT INTO groupreg_keyword_entries (category, kind, position, entry)"
        " VALUES (?, ?, ?, ?)",
        [(category, kind, start + i, e) for i, e in enumerate(entries)],
    )


def _upsert_category(txn: Cursor, row: CategoryRow) -> None:
    txn.execute("DELETE FROM groupreg_keyword_categories WHERE name = ?", (row.name,))
    txn.execute(
        f"INSERT INTO groupreg_keyword_categories ({_CATEGORY_COLUMNS})"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        attrs.astuple(row),
    )


def _lists_of(txn: Cursor, name: str) -> CategoryLists | None:
    txn.execute(
        f"SELECT {_CATEGORY_COLUMNS} FROM groupreg_keyword_categories WHERE name = ?",
        (name,),
    )
    found = txn.fetchone()
    if found is None:
        return None
    txn.execute(
        "SELECT kind, entry FROM groupreg_keyword_entries WHERE category = ?"
        " ORDER BY kind, position",
        (name,),
    )
    entries = txn.fetchall()
    return CategoryLists(
        _category(found),
        tuple(str(e) for k, e in entries if k == WORD),
        tuple(str(e) for k, e in entries if k == EXCEPTION),
    )


class KeywordStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def version(self) -> int:
        """The list version: what each process polls (one tiny read)."""
        return await self._db.run("keyword_version", read_version)

    async def load_all(self) -> tuple[int, list[CategoryLists]]:
        return await self._db.run("keyword_load_all", load_all)

    async def counts(self) -> tuple[int, list[CategoryCounts]]:
        def txn_fn(txn: Cursor) -> tuple[int, list[CategoryCounts]]:
            version = read_version(txn)
            txn.execute(
                f"SELECT {_CATEGORY_COLUMNS} FROM groupreg_keyword_categories"
                " ORDER BY name"
            )
            rows = [_category(r) for r in txn.fetchall()]
            txn.execute(
                "SELECT category, kind, COUNT(*) FROM groupreg_keyword_entries"
                " GROUP BY category, kind"
            )
            counts = {(str(c), str(k)): int(n) for c, k, n in txn.fetchall()}
            return version, [
                CategoryCounts(
                    r, counts.get((r.name, WORD), 0), counts.get((r.name, EXCEPTION), 0)
                )
                for r in rows
            ]

        return await self._db.run("keyword_counts", txn_fn)

    async def get(self, name: str) -> tuple[int, CategoryLists | None]:
        def txn_fn(txn: Cursor) -> tuple[int, CategoryLists | None]:
            return read_version(txn), _lists_of(txn, name)

        return await self._db.run("keyword_get", txn_fn)

    async def put(
        self,
        row: CategoryRow,
        words: Sequence[str] | None,
        exceptions: Sequence[str] | None,
    ) -> tuple[int, CategoryLists | None, CategoryLists]:
        """Create or change a category; a list given as None is kept.

        Returns:
            The new version, the category before (None if new) and after.
        """

        def txn_fn(txn: Cursor) -> tuple[int, CategoryLists | None, CategoryLists]:
            # The version row first: it serialises writers on PostgreSQL
            # before this transaction reads anything it will change.
            version = _bump(txn)
            before = _lists_of(txn, row.name)
            _upsert_category(txn, row)
            if words is not None:
                _replace_entries(txn, row.name, WORD, words)
            if exceptions is not None:
                _replace_entries(txn, row.name, EXCEPTION, exceptions)
            after = _lists_of(txn, row.name)
            assert after is not None
            return version, before, after

        return await self._db.run("keyword_put", txn_fn)

    async def append(
        self, name: str, kind: str, entries: Sequence[str], updated: tuple[int, str]
    ) -> tuple[int, CategoryLists] | None:
        """Add entries at the end of one list; None if the category is unknown.

        The caller has removed entries already present (read with `get`);
        `updated` is (ts, admin) for the category row.
        """

        def txn_fn(txn: Cursor) -> tuple[int, CategoryLists] | None:
            version = _bump(txn)
            txn.execute(
                "UPDATE groupreg_keyword_categories SET updated_ts = ?, updated_by = ?"
                " WHERE name = ?",
                (*updated, name),
            )
            if txn.rowcount == 0:
                return None
            txn.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM groupreg_keyword_entries"
                " WHERE category = ? AND kind = ?",
                (name, kind),
            )
            found = txn.fetchone()
            start = int(found[0]) if found else 0
            if entries:
                _replace_entries(txn, name, kind, entries, start=start)
            after = _lists_of(txn, name)
            assert after is not None
            return version, after

        return await self._db.run("keyword_append", txn_fn)

    async def delete(self, name: str) -> tuple[int, CategoryLists] | None:
        """Remove a category and its lists; None if there was none."""

        def txn_fn(txn: Cursor) -> tuple[int, CategoryLists] | None:
            version = _bump(txn)
            before = _lists_of(txn, name)
            if before is None:
                # Nothing changed: undo the bump so no process rebuilds.
                txn.execute("UPDATE groupreg_keyword_version SET version = version - 1")
                return None
            txn.execute(
                "DELETE FROM groupreg_keyword_entries WHERE category = ?", (name,)
            )
            txn.execute(
                "DELETE FROM groupreg_keyword_categories WHERE name = ?", (name,)
            )
            return version, before

        return await self._db.run("keyword_delete", txn_fn)


def plant_seeds(
    conn: Connection, engine: str, seeds: Sequence[CategoryLists], now_ms: int
) -> tuple[list[str], list[CategoryLists]]:
    """At start-up: create the seeded categories this database has never had.

    Runs on the start-up connection, before any callback, like the schema
    migrations; a table lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) makes
    several processes starting at once plant each seed once.

    Returns:
        The names planted now, and the database's version of every seed
        that was already there (so the caller can say when they differ).
    """
    cur = cast(_BatchCursor, conn.cursor())
    if engine == "sqlite":
        cur.execute("BEGIN IMMEDIATE")
    else:
        cur.execute("LOCK TABLE groupreg_keyword_seeds IN EXCLUSIVE MODE")
    try:
        result = plant_seeds_txn(cur, seeds, now_ms)
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return result


def plant_seeds_txn(
    cur: Cursor, seeds: Sequence[CategoryLists], now_ms: int
) -> tuple[list[str], list[CategoryLists]]:
    """`plant_seeds` inside a transaction that serialises planters."""
    cur.execute("SELECT name FROM groupreg_keyword_seeds")
    seeded = {str(r[0]) for r in cur.fetchall()}
    planted: list[str] = []
    existing: list[CategoryLists] = []
    for seed in seeds:
        if seed.row.name in seeded:
            current = _lists_of(cur, seed.row.name)
            if current is not None:
                existing.append(current)
            continue
        cur.execute(
            "INSERT INTO groupreg_keyword_seeds (name, seeded_ts) VALUES (?, ?)",
            (seed.row.name, now_ms),
        )
        # A category an admin created before it was a seed is left as is.
        if _lists_of(cur, seed.row.name) is not None:
            continue
        _upsert_category(cur, seed.row)
        _replace_entries(cur, seed.row.name, WORD, seed.words)
        _replace_entries(cur, seed.row.name, EXCEPTION, seed.exceptions)
        planted.append(seed.row.name)
    if planted:
        _bump(cur)
    return planted, existing


def load_at_start(conn: Connection) -> tuple[int, list[CategoryLists]]:
    """`load_all` on the start-up connection."""
    cur = conn.cursor()
    try:
        return load_all(cur)
    finally:
        conn.commit()

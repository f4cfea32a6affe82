"""Removing the module's data from Synapse's database (H6), for the
`groupreg uninstall` command, which runs on a plain DB-API connection while
the module is not loaded.

The module's tables are found by name (every table it makes starts with
`groupreg_`), so tables added by later versions are removed too. Identity
data is erased before anything is dropped: every `*_ct` column (the
encrypted names and document numbers) is set to NULL and committed, with
SQLite's `secure_delete` on so the freed pages are overwritten, not merely
unlinked; if a later step fails, no identity data is left behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

PREFIX = "groupreg_"


@attrs.frozen(slots=True)
class Table:
    name: str
    rows: int
    #: Columns holding encrypted identity data (`*_ct`).
    identity_columns: tuple[str, ...]


def _tables(conn: Any, engine: str) -> list[str]:
    cur = conn.cursor()
    if engine == "sqlite":
        cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?",
            (PREFIX + "%",),
        )
    else:
        cur.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name LIKE %s",
            (PREFIX + "%",),
        )
    return sorted(str(r[0]) for r in cur.fetchall())


def _columns(conn: Any, engine: str, table: str) -> list[str]:
    cur = conn.cursor()
    if engine == "sqlite":
        cur.execute(f"PRAGMA table_info({table})")
        return [str(r[1]) for r in cur.fetchall()]
    cur.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    )
    return [str(r[0]) for r in cur.fetchall()]


def inventory(conn: Any, engine: str) -> list[Table]:
    """Every table of the module, its rows and its identity columns."""
    found = []
    for name in _tables(conn, engine):
        cur = conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {name}")
        rows = int(cur.fetchone()[0])
        identity = tuple(c for c in _columns(conn, engine, name) if c.endswith("_ct"))
        found.append(Table(name, rows, identity))
    conn.rollback()
    return found


def identity_rows(conn: Any, tables: Sequence[Table]) -> int:
    """Rows that still hold encrypted identity data."""
    total = 0
    for table in tables:
        if not table.identity_columns:
            continue
        held = " OR ".join(f"{c} IS NOT NULL" for c in table.identity_columns)
        cur = conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {table.name} WHERE {held}")
        total += int(cur.fetchone()[0])
    conn.rollback()
    return total


def erase_identity(conn: Any, engine: str, tables: Sequence[Table]) -> int:
    """Set every identity column to NULL and commit; returns rows erased."""
    if engine == "sqlite":
        conn.execute("PRAGMA secure_delete = ON")
    erased = 0
    for table in tables:
        if not table.identity_columns:
            continue
        sets = ", ".join(f"{c} = NULL" for c in table.identity_columns)
        held = " OR ".join(f"{c} IS NOT NULL" for c in table.identity_columns)
        cur = conn.cursor()
        cur.execute(f"UPDATE {table.name} SET {sets} WHERE {held}")
        erased += max(cur.rowcount, 0)
    conn.commit()
    return erased


def drop_tables(conn: Any, engine: str, tables: Sequence[Table]) -> None:
    """Drop the module's tables (their indexes go with them) in one
    transaction; on SQLite, then reclaim the freed pages."""
    cur = conn.cursor()
    for table in tables:
        cur.execute(f"DROP TABLE IF EXISTS {table.name}")
    conn.commit()
    if engine == "sqlite":
        old = conn.isolation_level
        conn.isolation_level = None  # VACUUM cannot run inside a transaction
        try:
            conn.execute("VACUUM")
        finally:
            conn.isolation_level = old


def rooms_with_registration_state(conn: Any) -> int:
    """Rooms whose current state holds `org.groupreg.room` (it stays: room
    state cannot be deleted in Matrix)."""
    cur = conn.cursor()
    cur.execute(
        "SELECT COUNT(*) FROM current_state_events WHERE type = 'org.groupreg.room'"
    )
    count = int(cur.fetchone()[0])
    conn.rollback()
    return count

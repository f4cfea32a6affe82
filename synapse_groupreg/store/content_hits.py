"""SQL for content hits: each refusal and each review record of the
prohibited-content filter (C2).

Review records are what the complaint queue (E1) turns into cases; block
records are what sanctions count ("three refusals in a day") and what credit
penalties cite as evidence (D1). The table is for admins only: `keyword`
holds the listed entry that matched, which users are never shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "content_hits",
        1,
        (
            """
            CREATE TABLE groupreg_content_hits (
                id {id},
                ts BIGINT NOT NULL,          -- when the check ran, ms since the epoch
                user_id TEXT NOT NULL,       -- who published it (the event's sender)
                room_id TEXT,                -- where; NULL for a new alias or room
                event_id TEXT,               -- the event allowed for review; NULL
                                             -- for a refusal (no event exists)
                event_type TEXT,             -- e.g. m.room.message; NULL if no event
                field TEXT NOT NULL,         -- what matched: body, name, displayname...
                subject TEXT,                -- what was published when it is not an
                                             -- event: the room alias
                category TEXT NOT NULL,      -- the keyword category
                action TEXT NOT NULL,        -- 'block' (refused) or 'review' (allowed)
                credit_penalty INTEGER NOT NULL,  -- the category's penalty then
                keyword TEXT NOT NULL,       -- the listed entry that matched (admins)
                list_version BIGINT NOT NULL -- the list version that matched
            )
            """,
            "CREATE INDEX groupreg_content_hits_user ON groupreg_content_hits"
            " (user_id, ts)",
            "CREATE INDEX groupreg_content_hits_action ON groupreg_content_hits"
            " (action, id)",
            "CREATE INDEX groupreg_content_hits_ts ON groupreg_content_hits (ts)",
        ),
    ),
)


@attrs.frozen(slots=True)
class HitRow:
    """One hit as stored; `id` is 0 before it is written."""

    ts: int
    user_id: str
    room_id: str | None
    event_id: str | None
    event_type: str | None
    field: str
    subject: str | None
    category: str
    action: str
    credit_penalty: int
    keyword: str
    list_version: int
    id: int = 0

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


_COLUMNS = (
    "ts, user_id, room_id, event_id, event_type, field, subject, category,"
    " action, credit_penalty, keyword, list_version"
)


def _row(r: tuple[Any, ...]) -> HitRow:
    return HitRow(
        ts=int(r[1]),
        user_id=str(r[2]),
        room_id=r[3],
        event_id=r[4],
        event_type=r[5],
        field=str(r[6]),
        subject=r[7],
        category=str(r[8]),
        action=str(r[9]),
        credit_penalty=int(r[10]),
        keyword=str(r[11]),
        list_version=int(r[12]),
        id=int(r[0]),
    )


class _BatchCursor(Cursor, Protocol):
    def execute_batch(self, sql: str, args: Sequence[Sequence[Any]]) -> None: ...


class ContentHitStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, hits: Sequence[HitRow]) -> None:
        """Write a batch of hits in one transaction."""

        def txn_fn(txn: Cursor) -> None:
            cast(_BatchCursor, txn).execute_batch(
                f"INSERT INTO groupreg_content_hits ({_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [attrs.astuple(h)[:-1] for h in hits],
            )

        await self._db.run("content_hits_add", txn_fn)

    async def page(
        self,
        after_id: int,
        limit: int,
        user_id: str | None = None,
        action: str | None = None,
        category: str | None = None,
        since_ts: int | None = None,
    ) -> list[HitRow]:
        """Hits with id > after_id, oldest first, optionally filtered.

        The complaint queue reads review records with this as a cursor
        (`action='review'`, `after_id` = the last id it turned into a case).
        """
        clauses = ["id > ?"]
        args: list[object] = [after_id]
        for column, value in (
            ("user_id", user_id),
            ("action", action),
            ("category", category),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if since_ts is not None:
            clauses.append("ts >= ?")
            args.append(since_ts)

        def txn_fn(txn: Cursor) -> list[HitRow]:
            txn.execute(
                f"SELECT id, {_COLUMNS} FROM groupreg_content_hits"
                f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
                (*args, limit),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("content_hits_page", txn_fn)

    async def count_for_user(
        self, user_id: str, since_ts: int, action: str = "block"
    ) -> int:
        """How many hits of `action` a user had since `since_ts`: what
        sanctions' thresholds read (D1, D3)."""

        def txn_fn(txn: Cursor) -> int:
            txn.execute(
                "SELECT COUNT(*) FROM groupreg_content_hits"
                " WHERE user_id = ? AND ts >= ? AND action = ?",
                (user_id, since_ts, action),
            )
            found = txn.fetchone()
            return int(found[0]) if found else 0

        return await self._db.run("content_hits_count", txn_fn)

    async def purge_before(self, ts: int) -> int:
        """Delete hits older than `ts` (retention); returns how many."""

        def txn_fn(txn: Cursor) -> int:
            txn.execute("DELETE FROM groupreg_content_hits WHERE ts < ?", (ts,))
            return txn.rowcount

        return await self._db.run("content_hits_purge", txn_fn)

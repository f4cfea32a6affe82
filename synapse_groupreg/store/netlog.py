"""SQL for the network log (F2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "netlog",
        1,
        (
            """
            CREATE TABLE groupreg_network_log (
                id {id},
                ts BIGINT NOT NULL,      -- when it happened, ms since the epoch
                kind TEXT NOT NULL,      -- registration, login, room_create, join, ...
                user_id TEXT NOT NULL,   -- who acted (the sender, for events)
                room_id TEXT,            -- the room, for room events
                event_id TEXT UNIQUE,    -- the event; UNIQUE makes replays harmless
                target TEXT,             -- whom a membership change was about
                ip TEXT,                 -- client address, for registration and login
                user_agent TEXT,
                details TEXT NOT NULL    -- canonical JSON: event type, device id, ...
            )
            """,
            "CREATE INDEX groupreg_netlog_ts ON groupreg_network_log (ts)",
            "CREATE INDEX groupreg_netlog_user ON groupreg_network_log (user_id, ts)",
            "CREATE INDEX groupreg_netlog_room ON groupreg_network_log (room_id, ts)",
        ),
    ),
)


@attrs.frozen(slots=True)
class NetworkLogRow:
    ts: int
    kind: str
    user_id: str
    room_id: str | None
    event_id: str | None
    target: str | None
    ip: str | None
    user_agent: str | None
    details: str


_COLUMNS = "ts, kind, user_id, room_id, event_id, target, ip, user_agent, details"


class NetworkLogStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, rows: Sequence[NetworkLogRow]) -> None:
        """Insert a batch; an event already logged is skipped, not an error."""

        def txn_fn(txn: Cursor) -> None:
            for row in rows:
                txn.execute(
                    f"INSERT INTO groupreg_network_log ({_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (event_id) DO NOTHING",
                    attrs.astuple(row),
                )

        await self._db.run("netlog_insert", txn_fn)

    async def purge_before(self, ts: int, batch: int = 5000) -> int:
        """Delete entries older than `ts`, a batch per transaction; returns
        how many went."""
        total = 0
        while True:

            def txn_fn(txn: Cursor) -> int:
                txn.execute(
                    "DELETE FROM groupreg_network_log WHERE id IN ("
                    " SELECT id FROM groupreg_network_log WHERE ts < ? LIMIT ?)",
                    (ts, batch),
                )
                return txn.rowcount

            deleted = await self._db.run("netlog_purge", txn_fn)
            total += deleted
            if deleted < batch:
                return total

    async def page(
        self,
        from_id: int,
        limit: int,
        user_id: str | None = None,
        room_id: str | None = None,
        kind: str | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[tuple[int, NetworkLogRow]]:
        clauses: list[str] = ["id >= ?"]
        args: list[Any] = [from_id]
        for column, op, value in (
            ("user_id", "=", user_id),
            ("room_id", "=", room_id),
            ("kind", "=", kind),
            ("ts", ">=", since),
            ("ts", "<", until),
        ):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                args.append(value)

        def txn_fn(txn: Cursor) -> list[tuple[int, NetworkLogRow]]:
            txn.execute(
                f"SELECT id, {_COLUMNS} FROM groupreg_network_log"
                f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
                (*args, limit),
            )
            return [(int(r[0]), NetworkLogRow(*r[1:])) for r in txn.fetchall()]

        return await self._db.run("netlog_page", txn_fn)

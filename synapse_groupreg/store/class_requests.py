"""SQL for requests to move a room to another class that wait for a server
admin's approval (B2)."""

from __future__ import annotations

from typing import Any

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "class_requests",
        1,
        (
            """
            CREATE TABLE groupreg_class_requests (
                request_id {id},
                room_id TEXT NOT NULL,
                requester TEXT NOT NULL,
                from_class TEXT NOT NULL,
                to_class TEXT NOT NULL,
                category TEXT,              -- the category asked for with the move
                requested_ts BIGINT NOT NULL,
                status TEXT NOT NULL,       -- pending, approved, rejected, superseded
                decided_by TEXT,            -- the server admin who decided
                decided_ts BIGINT,
                note TEXT                   -- the admin's reason
            )
            """,
            "CREATE INDEX groupreg_class_requests_status"
            " ON groupreg_class_requests (status, request_id)",
            "CREATE INDEX groupreg_class_requests_room"
            " ON groupreg_class_requests (room_id, status)",
        ),
    ),
)

PENDING = "pending"


@attrs.frozen(slots=True)
class ClassRequest:
    request_id: int
    room_id: str
    requester: str
    from_class: str
    to_class: str
    category: str | None
    requested_ts: int
    status: str
    decided_by: str | None
    decided_ts: int | None
    note: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "room_id": self.room_id,
            "requester": self.requester,
            "from_class": self.from_class,
            "to_class": self.to_class,
            "category": self.category,
            "requested_ts": self.requested_ts,
            "status": self.status,
            "decided_by": self.decided_by,
            "decided_ts": self.decided_ts,
            "note": self.note,
        }


_REQUEST_COLUMNS = (
    "request_id, room_id, requester, from_class, to_class, category,"
    " requested_ts, status, decided_by, decided_ts, note"
)


def _request(t: tuple[Any, ...]) -> ClassRequest:
    return ClassRequest(*t)


class ClassRequestStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_request(
        self,
        room_id: str,
        requester: str,
        from_class: str,
        to_class: str,
        category: str | None,
        now_ms: int,
    ) -> ClassRequest:
        """Queue a move for approval; an earlier pending request of the same
        room is superseded (one question per room at a time)."""

        def txn_fn(txn: Cursor) -> ClassRequest:
            txn.execute(
                "UPDATE groupreg_class_requests SET status = 'superseded',"
                " decided_ts = ? WHERE room_id = ? AND status = ?",
                (now_ms, room_id, PENDING),
            )
            txn.execute(
                "INSERT INTO groupreg_class_requests"
                " (room_id, requester, from_class, to_class, category,"
                " requested_ts, status) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " RETURNING request_id",
                (room_id, requester, from_class, to_class, category, now_ms, PENDING),
            )
            row = txn.fetchone()
            assert row is not None
            return ClassRequest(
                int(row[0]),
                room_id,
                requester,
                from_class,
                to_class,
                category,
                now_ms,
                PENDING,
                None,
                None,
                None,
            )

        return await self._db.run("add_class_request", txn_fn)

    async def request(self, request_id: int) -> ClassRequest | None:
        def txn_fn(txn: Cursor) -> ClassRequest | None:
            txn.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM groupreg_class_requests"
                " WHERE request_id = ?",
                (request_id,),
            )
            row = txn.fetchone()
            return _request(row) if row else None

        return await self._db.run("class_request", txn_fn)

    async def requests(
        self, status: str | None, start: int, limit: int
    ) -> list[ClassRequest]:
        where, args = ("WHERE status = ? ", [status]) if status else ("", [])

        def txn_fn(txn: Cursor) -> list[ClassRequest]:
            txn.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM groupreg_class_requests {where}"
                "ORDER BY request_id LIMIT ? OFFSET ?",
                (*args, limit, start),
            )
            return [_request(r) for r in txn.fetchall()]

        return await self._db.run("class_requests", txn_fn)

    async def decide_request(
        self, request_id: int, status: str, decided_by: str, note: str | None, now: int
    ) -> bool:
        """Record a decision; False if the request was no longer pending."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_class_requests SET status = ?, decided_by = ?,"
                " decided_ts = ?, note = ? WHERE request_id = ? AND status = ?",
                (status, decided_by, now, note, request_id, PENDING),
            )
            return txn.rowcount == 1

        return await self._db.run("decide_class_request", txn_fn)

    async def reopen_request(self, request_id: int) -> None:
        """Put an approved request back to pending (its move could not be
        published, so nothing changed)."""

        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "UPDATE groupreg_class_requests SET status = ?, decided_by = NULL,"
                " decided_ts = NULL, note = NULL WHERE request_id = ? AND status = ?",
                (PENDING, request_id, "approved"),
            )

        await self._db.run("reopen_class_request", txn_fn)

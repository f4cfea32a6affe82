"""SQL for identity reveal requests (A6, G7): who asked to read whose
plaintext identity and why, who approved or refused, when it was read."""

from __future__ import annotations

import json
from typing import Any

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "reveals",
        1,
        (
            """
            CREATE TABLE groupreg_reveal_requests (
                id {id},
                user_id TEXT NOT NULL,        -- whose identity is asked for
                requester TEXT NOT NULL,      -- the identity officer who asked
                reason TEXT NOT NULL,         -- why, as the requester wrote it
                status TEXT NOT NULL,         -- pending approved refused read expired
                approvals_needed INTEGER NOT NULL, -- other officers who must approve
                approvers TEXT NOT NULL,      -- JSON list of those who did, in order
                statement INTEGER NOT NULL,   -- 1: tell the person once it is read
                created_ts BIGINT NOT NULL,
                decided_ts BIGINT,            -- when approved (at the last) or refused
                refused_by TEXT,
                refusal TEXT,                 -- the refusing officer's reason
                read_ts BIGINT,               -- when the requester read the plaintext
                expired_ts BIGINT             -- when it lapsed unread
            )
            """,
            "CREATE INDEX groupreg_reveal_requester"
            " ON groupreg_reveal_requests (requester, created_ts)",
            "CREATE INDEX groupreg_reveal_status"
            " ON groupreg_reveal_requests (status, id)",
            "CREATE INDEX groupreg_reveal_user"
            " ON groupreg_reveal_requests (user_id, id)",
        ),
    ),
)

PENDING = "pending"
APPROVED = "approved"
REFUSED = "refused"
READ = "read"
EXPIRED = "expired"
STATUSES = (PENDING, APPROVED, REFUSED, READ, EXPIRED)


@attrs.frozen(slots=True)
class RevealRow:
    id: int
    user_id: str
    requester: str
    reason: str
    status: str
    approvals_needed: int
    approvers: tuple[str, ...]
    statement: bool
    created_ts: int
    decided_ts: int | None
    refused_by: str | None
    refusal: str | None
    read_ts: int | None
    expired_ts: int | None


_COLUMNS = (
    "id, user_id, requester, reason, status, approvals_needed, approvers,"
    " statement, created_ts, decided_ts, refused_by, refusal, read_ts, expired_ts"
)


def _row(t: tuple[Any, ...]) -> RevealRow:
    values = list(t)
    values[6] = tuple(json.loads(values[6]))
    values[7] = bool(values[7])
    return RevealRow(*values)


class RevealStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        user_id: str,
        requester: str,
        reason: str,
        approvals_needed: int,
        statement: bool,
        now_ms: int,
        status: str = PENDING,
    ) -> RevealRow:
        def txn_fn(txn: Cursor) -> RevealRow:
            txn.execute(
                "INSERT INTO groupreg_reveal_requests (user_id, requester, reason,"
                " status, approvals_needed, approvers, statement, created_ts,"
                " read_ts) VALUES (?, ?, ?, ?, ?, '[]', ?, ?, ?)"
                f" RETURNING {_COLUMNS}",
                (
                    user_id,
                    requester,
                    reason,
                    status,
                    approvals_needed,
                    1 if statement else 0,
                    now_ms,
                    now_ms if status == READ else None,
                ),
            )
            row = txn.fetchone()
            assert row is not None
            return _row(row)

        return await self._db.run("reveal_create", txn_fn)

    async def get(self, request_id: int) -> RevealRow | None:
        def txn_fn(txn: Cursor) -> RevealRow | None:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_reveal_requests WHERE id = ?",
                (request_id,),
            )
            row = txn.fetchone()
            return _row(row) if row else None

        return await self._db.run("reveal_get", txn_fn)

    async def count_since(self, requester: str, since_ms: int) -> tuple[int, int]:
        """(requests `requester` made since `since_ms`, the oldest one's time)."""

        def txn_fn(txn: Cursor) -> tuple[int, int]:
            txn.execute(
                "SELECT COUNT(*), MIN(created_ts) FROM groupreg_reveal_requests"
                " WHERE requester = ? AND created_ts >= ?",
                (requester, since_ms),
            )
            row = txn.fetchone()
            assert row is not None
            return int(row[0]), int(row[1] or 0)

        return await self._db.run("reveal_count", txn_fn)

    async def approve(
        self, row: RevealRow, officer: str, now_ms: int
    ) -> RevealRow | None:
        """Add `officer` to the approvers of a request still as `row` shows
        it (compare and set); it becomes approved with the last approval.
        None when someone changed it in the meantime."""
        approvers = (*row.approvers, officer)
        status = APPROVED if len(approvers) >= row.approvals_needed else PENDING

        def txn_fn(txn: Cursor) -> RevealRow | None:
            txn.execute(
                "UPDATE groupreg_reveal_requests SET approvers = ?, status = ?,"
                " decided_ts = ? WHERE id = ? AND status = ? AND approvers = ?"
                f" RETURNING {_COLUMNS}",
                (
                    json.dumps(list(approvers)),
                    status,
                    now_ms if status == APPROVED else None,
                    row.id,
                    PENDING,
                    json.dumps(list(row.approvers)),
                ),
            )
            found = txn.fetchone()
            return _row(found) if found else None

        return await self._db.run("reveal_approve", txn_fn)

    async def refuse(
        self, request_id: int, officer: str, refusal: str, now_ms: int
    ) -> RevealRow | None:
        def txn_fn(txn: Cursor) -> RevealRow | None:
            txn.execute(
                "UPDATE groupreg_reveal_requests SET status = ?, refused_by = ?,"
                " refusal = ?, decided_ts = ? WHERE id = ? AND status = ?"
                f" RETURNING {_COLUMNS}",
                (REFUSED, officer, refusal, now_ms, request_id, PENDING),
            )
            found = txn.fetchone()
            return _row(found) if found else None

        return await self._db.run("reveal_refuse", txn_fn)

    async def claim_read(
        self, request_id: int, requester: str, approved_after: int, now_ms: int
    ) -> RevealRow | None:
        """Mark an approved request read, once: of two concurrent reads only
        one gets the row back."""

        def txn_fn(txn: Cursor) -> RevealRow | None:
            txn.execute(
                "UPDATE groupreg_reveal_requests SET status = ?, read_ts = ?"
                " WHERE id = ? AND status = ? AND requester = ? AND decided_ts >= ?"
                f" RETURNING {_COLUMNS}",
                (READ, now_ms, request_id, APPROVED, requester, approved_after),
            )
            found = txn.fetchone()
            return _row(found) if found else None

        return await self._db.run("reveal_claim_read", txn_fn)

    async def expire(
        self, pending_before: int, approved_before: int, now_ms: int
    ) -> list[RevealRow]:
        """Lapse requests that waited too long for approval, or for their
        read after approval; returns those that lapsed now."""

        def txn_fn(txn: Cursor) -> list[RevealRow]:
            txn.execute(
                "UPDATE groupreg_reveal_requests SET status = ?, expired_ts = ?"
                " WHERE (status = ? AND created_ts < ?)"
                " OR (status = ? AND decided_ts < ?)"
                f" RETURNING {_COLUMNS}",
                (EXPIRED, now_ms, PENDING, pending_before, APPROVED, approved_before),
            )
            return sorted((_row(r) for r in txn.fetchall()), key=lambda r: r.id)

        return await self._db.run("reveal_expire", txn_fn)

    async def page(
        self,
        from_id: int,
        limit: int,
        status: tuple[str, ...] = (),
        requester: str | None = None,
        user_id: str | None = None,
    ) -> list[RevealRow]:
        """Newest first, from id `from_id` down (0: the newest)."""
        clauses: list[str] = []
        args: list[object] = []
        if from_id:
            clauses.append("id <= ?")
            args.append(from_id)
        if status:
            clauses.append(f"status IN ({', '.join('?' for _ in status)})")
            args.extend(status)
        for column, value in (("requester", requester), ("user_id", user_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""

        def txn_fn(txn: Cursor) -> list[RevealRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_reveal_requests{where}"
                " ORDER BY id DESC LIMIT ?",
                (*args, limit),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("reveal_page", txn_fn)

"""SQL for the outcome notices owed to reporters (E3): claimed before
sending so each goes out at most once, retried when delivery fails."""

from __future__ import annotations

from typing import Any

from synapse_groupreg.store.complaint_rows import NoticeDue
from synapse_groupreg.store.database import Cursor, Database


class OutcomeNoticeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def notices_due(
        self,
        max_attempts: int,
        stale_before_ms: int,
        limit: int,
        case_id: int | None = None,
        created_before_ms: int | None = None,
    ) -> list[NoticeDue]:
        """Notices not yet delivered, not being sent (or whose sender died),
        of one case or of all (those made before `created_before_ms`)."""
        only_case = "" if case_id is None else " AND case_id = ?"
        args: tuple[Any, ...] = (max_attempts, stale_before_ms)
        if case_id is not None:
            args += (case_id,)
        if created_before_ms is not None:
            only_case += " AND created_ts < ?"
            args += (created_before_ms,)

        def txn_fn(txn: Cursor) -> list[NoticeDue]:
            txn.execute(
                "SELECT case_id, user_id, attempts FROM groupreg_complaint_notices"
                " WHERE sent_ts IS NULL AND attempts < ?"
                f" AND (claimed_ts IS NULL OR claimed_ts < ?){only_case}"
                " ORDER BY created_ts LIMIT ?",
                (*args, limit),
            )
            return [NoticeDue(int(c), str(u), int(a)) for c, u, a in txn.fetchall()]

        return await self._db.run("complaint_notices_due", txn_fn)

    async def claim_notice(
        self, case_id: int, user_id: str, now_ms: int, stale_before_ms: int
    ) -> bool:
        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_complaint_notices SET claimed_ts = ?"
                " WHERE case_id = ? AND user_id = ? AND sent_ts IS NULL"
                " AND (claimed_ts IS NULL OR claimed_ts < ?)",
                (now_ms, case_id, user_id, stale_before_ms),
            )
            return txn.rowcount == 1

        return await self._db.run("complaint_claim_notice", txn_fn)

    async def notice_done(
        self, case_id: int, user_id: str, sent_ts: int | None
    ) -> None:
        """Record a delivery (`sent_ts`) or a failure (None: try again later)."""

        def txn_fn(txn: Cursor) -> None:
            if sent_ts is not None:
                txn.execute(
                    "UPDATE groupreg_complaint_notices SET sent_ts = ?"
                    " WHERE case_id = ? AND user_id = ?",
                    (sent_ts, case_id, user_id),
                )
            else:
                txn.execute(
                    "UPDATE groupreg_complaint_notices SET claimed_ts = NULL,"
                    " attempts = attempts + 1 WHERE case_id = ? AND user_id = ?",
                    (case_id, user_id),
                )

        await self._db.run("complaint_notice_done", txn_fn)

    async def notices_of(self, case_id: int) -> list[dict[str, Any]]:
        def txn_fn(txn: Cursor) -> list[dict[str, Any]]:
            txn.execute(
                "SELECT user_id, sent_ts, attempts FROM groupreg_complaint_notices"
                " WHERE case_id = ? ORDER BY user_id",
                (case_id,),
            )
            return [
                {"user_id": u, "sent_ts": s, "attempts": int(a)}
                for u, s, a in txn.fetchall()
            ]

        return await self._db.run("complaint_notices_of", txn_fn)

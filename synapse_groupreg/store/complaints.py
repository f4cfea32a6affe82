"""SQL for complaint cases (E1-E4): the tables of cases, the reports folded
into them, the intake marks and the outcome notices owed to reporters; and
the workflow's reads and writes.

Intake (opening a case or folding a report into one) lives in
`store/complaint_intake.py`, the notices in `store/complaint_notices.py`,
the row types in `store/complaint_rows.py`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from synapse_groupreg.store.complaint_rows import (
    CASE_COLUMNS,
    OVERDUE_SQL,
    REPORT_COLUMNS,
    CaseCounts,
    CaseFilter,
    CaseRow,
    ReportRow,
    case_row,
    report_row,
)
from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "complaints",
        1,
        (
            """
            CREATE TABLE groupreg_complaint_cases (
                id {id},
                kind TEXT NOT NULL,         -- complaint | appeal
                source TEXT NOT NULL,       -- the first report's door: event_report,
                                            -- room_report, user_report, api,
                                            -- content, appeal
                target_type TEXT NOT NULL,  -- event | room | user | sanction
                target TEXT NOT NULL,       -- event, room, user or sanction id
                room_id TEXT,               -- the room of a reported event
                subject TEXT,               -- whom it is about: the event's sender,
                                            -- the reported user, the room's creator
                category TEXT NOT NULL,
                status TEXT NOT NULL,       -- received | triaged | decided | closed
                held INTEGER NOT NULL,      -- 1: opened over its reporter's rate:
                                            -- no deadlines until a report within it
                created_ts BIGINT NOT NULL, -- when the first report was made
                ack_due_ts BIGINT,          -- acknowledge by (NULL while held)
                decide_due_ts BIGINT,       -- decide by (NULL while held)
                assignee TEXT,              -- the admin handling it
                acknowledged_ts BIGINT,     -- first triaged or assigned
                claimed_by TEXT,            -- the admin whose decision is being
                claimed_ts BIGINT,          -- applied: no two decide at once
                decided_ts BIGINT,
                decided_by TEXT,
                outcome TEXT,
                note TEXT,                  -- the decision's reasons (to reporters)
                sanctions TEXT NOT NULL,    -- JSON list of the sanctions applied
                                            -- (for an appeal: reversed)
                closed_ts BIGINT,
                closed_by TEXT,
                evidence TEXT NOT NULL      -- JSON facts captured at intake
            )
            """,
            "CREATE INDEX groupreg_complaint_cases_target"
            " ON groupreg_complaint_cases (target_type, target, status)",
            "CREATE INDEX groupreg_complaint_cases_status"
            " ON groupreg_complaint_cases (status, id)",
            """
            CREATE TABLE groupreg_complaint_reports (
                id {id},
                case_id BIGINT NOT NULL,    -- the case it opened or joined
                reporter TEXT NOT NULL,     -- a user id, or 'system' (content filter)
                source TEXT NOT NULL,       -- its door, as a case's source
                source_id BIGINT,           -- its row in Synapse's report table or
                                            -- in the content filter's hits
                ts BIGINT NOT NULL,         -- when it was made, ms since the epoch
                reason TEXT,                -- the reporter's own words
                held INTEGER NOT NULL,      -- 1: made over the reporter's rate
                details TEXT NOT NULL       -- JSON: e.g. an event report's score
            )
            """,
            "CREATE INDEX groupreg_complaint_reports_reporter"
            " ON groupreg_complaint_reports (reporter, ts)",
            "CREATE INDEX groupreg_complaint_reports_case"
            " ON groupreg_complaint_reports (case_id)",
            """
            CREATE TABLE groupreg_complaint_marks (
                source TEXT PRIMARY KEY,    -- a table reports are read from
                last_id BIGINT NOT NULL     -- every row up to it has been taken in
            )
            """,
            """
            CREATE TABLE groupreg_complaint_notices (
                case_id BIGINT NOT NULL,
                user_id TEXT NOT NULL,      -- a reporter owed the outcome
                created_ts BIGINT NOT NULL,
                claimed_ts BIGINT,          -- being sent: set before sending, so
                                            -- it goes out at most once
                sent_ts BIGINT,             -- when the notice bot delivered it
                attempts INTEGER NOT NULL,  -- failed deliveries so far
                PRIMARY KEY (case_id, user_id)
            )
            """,
        ),
    ),
)


class ComplaintStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- reads ------------------------------------------------------------------

    async def get(self, case_id: int) -> CaseRow | None:
        def txn_fn(txn: Cursor) -> CaseRow | None:
            txn.execute(
                f"SELECT {CASE_COLUMNS} FROM groupreg_complaint_cases WHERE id = ?",
                (case_id,),
            )
            found = txn.fetchone()
            return case_row(found) if found else None

        return await self._db.run("complaint_get", txn_fn)

    async def reports(self, case_id: int) -> list[ReportRow]:
        def txn_fn(txn: Cursor) -> list[ReportRow]:
            txn.execute(
                f"SELECT {REPORT_COLUMNS} FROM groupreg_complaint_reports"
                " WHERE case_id = ? ORDER BY id",
                (case_id,),
            )
            return [report_row(r) for r in txn.fetchall()]

        return await self._db.run("complaint_reports", txn_fn)

    async def page(
        self, where: CaseFilter, from_id: int, limit: int, now_ms: int
    ) -> list[CaseRow]:
        """Cases with id >= from_id, oldest first."""
        clauses = ["id >= ?"]
        args: list[Any] = [from_id]
        if where.statuses is not None:
            clauses.append(f"status IN ({', '.join('?' for _ in where.statuses)})")
            args.extend(where.statuses)
        for column, value in (
            ("kind", where.kind),
            ("category", where.category),
            ("assignee", where.assignee),
            ("target", where.target),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if where.overdue is not None:
            clauses.append(OVERDUE_SQL if where.overdue else f"NOT {OVERDUE_SQL}")
            args.extend((now_ms, now_ms))
        if where.held is not None:
            clauses.append("held = ?")
            args.append(int(where.held))

        def txn_fn(txn: Cursor) -> list[CaseRow]:
            txn.execute(
                f"SELECT {CASE_COLUMNS} FROM groupreg_complaint_cases"
                f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
                (*args, limit),
            )
            return [case_row(r) for r in txn.fetchall()]

        return await self._db.run("complaint_page", txn_fn)

    async def of_reporter(
        self, reporter: str, from_id: int, limit: int
    ) -> list[tuple[ReportRow, CaseRow]]:
        """A user's own reports with their cases, oldest first; `from_id`
        counts report ids."""

        def txn_fn(txn: Cursor) -> list[tuple[ReportRow, CaseRow]]:
            report_cols = ", ".join(f"r.{c.strip()}" for c in REPORT_COLUMNS.split(","))
            case_cols = ", ".join(f"c.{c.strip()}" for c in CASE_COLUMNS.split(","))
            txn.execute(
                f"SELECT {report_cols}, {case_cols}"
                " FROM groupreg_complaint_reports AS r"
                " JOIN groupreg_complaint_cases AS c ON c.id = r.case_id"
                " WHERE r.reporter = ? AND r.id >= ? ORDER BY r.id LIMIT ?",
                (reporter, from_id, limit),
            )
            width = len(REPORT_COLUMNS.split(","))
            return [
                (report_row(r[:width]), case_row(r[width:])) for r in txn.fetchall()
            ]

        return await self._db.run("complaint_of_reporter", txn_fn)

    async def latest_for_target(
        self, kind: str, target_type: str, target: str
    ) -> CaseRow | None:
        """The newest case of a target (an appeal's sanction, for instance)."""

        def txn_fn(txn: Cursor) -> CaseRow | None:
            txn.execute(
                f"SELECT {CASE_COLUMNS} FROM groupreg_complaint_cases"
                " WHERE kind = ? AND target_type = ? AND target = ?"
                " ORDER BY id DESC LIMIT 1",
                (kind, target_type, target),
            )
            found = txn.fetchone()
            return case_row(found) if found else None

        return await self._db.run("complaint_latest_for_target", txn_fn)

    async def counts(self, now_ms: int) -> CaseCounts:
        """Open and overdue cases by kind; both use the status index."""

        def txn_fn(txn: Cursor) -> CaseCounts:
            txn.execute(
                "SELECT kind, COUNT(*) FROM groupreg_complaint_cases"
                " WHERE status IN ('received', 'triaged') GROUP BY kind"
            )
            open_ = {str(k): int(n) for k, n in txn.fetchall()}
            txn.execute(
                "SELECT kind, COUNT(*) FROM groupreg_complaint_cases"
                f" WHERE status IN ('received', 'triaged') AND {OVERDUE_SQL}"
                " GROUP BY kind",
                (now_ms, now_ms),
            )
            overdue = {str(k): int(n) for k, n in txn.fetchall()}
            return CaseCounts(open_, overdue)

        return await self._db.run("complaint_counts", txn_fn)

    async def created_between(
        self, after_id: int, limit: int, since: int | None, until: int | None
    ) -> list[CaseRow]:
        """Cases by id, created in [since, until) (for exports, F3)."""
        clauses = ["id > ?"]
        args: list[Any] = [after_id]
        if since is not None:
            clauses.append("created_ts >= ?")
            args.append(since)
        if until is not None:
            clauses.append("created_ts < ?")
            args.append(until)

        def txn_fn(txn: Cursor) -> list[CaseRow]:
            txn.execute(
                f"SELECT {CASE_COLUMNS} FROM groupreg_complaint_cases"
                f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
                (*args, limit),
            )
            return [case_row(r) for r in txn.fetchall()]

        return await self._db.run("complaint_export", txn_fn)

    # -- workflow ---------------------------------------------------------------

    async def assign(self, case_id: int, assignee: str, now_ms: int) -> CaseRow | None:
        """Give an open case to an admin; the first assignment acknowledges
        it. None when the case is not open."""

        def txn_fn(txn: Cursor) -> CaseRow | None:
            txn.execute(
                "UPDATE groupreg_complaint_cases SET status = 'triaged',"
                " assignee = ?, acknowledged_ts = COALESCE(acknowledged_ts, ?)"
                " WHERE id = ? AND status IN ('received', 'triaged')",
                (assignee, now_ms, case_id),
            )
            if txn.rowcount != 1:
                return None
            txn.execute(
                f"SELECT {CASE_COLUMNS} FROM groupreg_complaint_cases WHERE id = ?",
                (case_id,),
            )
            found = txn.fetchone()
            return case_row(found) if found else None

        return await self._db.run("complaint_assign", txn_fn)

    async def claim_decision(
        self, case_id: int, actor: str, now_ms: int, stale_before_ms: int
    ) -> bool:
        """Reserve an open case for one admin's decision; False if it is not
        open or another decision is being applied (claims older than
        `stale_before_ms` are taken over: their process died)."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_complaint_cases SET claimed_by = ?, claimed_ts = ?"
                " WHERE id = ? AND status IN ('received', 'triaged')"
                " AND (claimed_ts IS NULL OR claimed_ts < ?)",
                (actor, now_ms, case_id, stale_before_ms),
            )
            return txn.rowcount == 1

        return await self._db.run("complaint_claim", txn_fn)

    async def release_claim(self, case_id: int) -> None:
        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "UPDATE groupreg_complaint_cases SET claimed_by = NULL,"
                " claimed_ts = NULL WHERE id = ?",
                (case_id,),
            )

        await self._db.run("complaint_release", txn_fn)

    async def record_decision(
        self,
        case_id: int,
        actor: str,
        outcome: str,
        note: str,
        sanctions: Sequence[dict[str, Any]],
        notify: Sequence[str],
        now_ms: int,
    ) -> CaseRow:
        """Mark a claimed case decided and owe each of `notify` the outcome."""

        def txn_fn(txn: Cursor) -> CaseRow:
            txn.execute(
                "UPDATE groupreg_complaint_cases SET status = 'decided',"
                " decided_ts = ?, decided_by = ?, outcome = ?, note = ?,"
                " sanctions = ?, acknowledged_ts = COALESCE(acknowledged_ts, ?),"
                " claimed_by = NULL, claimed_ts = NULL WHERE id = ?",
                (
                    now_ms,
                    actor,
                    outcome,
                    note,
                    json.dumps(list(sanctions)),
                    now_ms,
                    case_id,
                ),
            )
            for user_id in notify:
                txn.execute(
                    "INSERT INTO groupreg_complaint_notices"
                    " (case_id, user_id, created_ts, attempts) VALUES (?, ?, ?, 0)",
                    (case_id, user_id, now_ms),
                )
            txn.execute(
                f"SELECT {CASE_COLUMNS} FROM groupreg_complaint_cases WHERE id = ?",
                (case_id,),
            )
            found = txn.fetchone()
            assert found is not None
            return case_row(found)

        return await self._db.run("complaint_decide", txn_fn)

    async def close(self, case_id: int, actor: str, now_ms: int) -> CaseRow | None:
        """Close a decided case; None when it is not decided."""

        def txn_fn(txn: Cursor) -> CaseRow | None:
            txn.execute(
                "UPDATE groupreg_complaint_cases SET status = 'closed',"
                " closed_ts = ?, closed_by = ? WHERE id = ? AND status = 'decided'",
                (now_ms, actor, case_id),
            )
            if txn.rowcount != 1:
                return None
            txn.execute(
                f"SELECT {CASE_COLUMNS} FROM groupreg_complaint_cases WHERE id = ?",
                (case_id,),
            )
            found = txn.fetchone()
            return case_row(found) if found else None

        return await self._db.run("complaint_close", txn_fn)

    async def report_counts(
        self, case_ids: Sequence[int]
    ) -> dict[int, tuple[int, int]]:
        """(reports, distinct reporters) of each case."""
        if not case_ids:
            return {}

        def txn_fn(txn: Cursor) -> dict[int, tuple[int, int]]:
            txn.execute(
                "SELECT case_id, COUNT(*), COUNT(DISTINCT reporter)"
                " FROM groupreg_complaint_reports"
                f" WHERE case_id IN ({', '.join('?' for _ in case_ids)})"
                " GROUP BY case_id",
                tuple(case_ids),
            )
            return {int(c): (int(n), int(d)) for c, n, d in txn.fetchall()}

        return await self._db.run("complaint_report_counts", txn_fn)

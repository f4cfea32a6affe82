"""SQL for complaint intake (E1): opening a case or folding a report into
the open case of its target, and collecting reports from polled tables.

Synapse writes the reports of its own endpoints to tables and tells nobody
(there is no module callback; the readers are in `synapse_reports.py`), so
the background instance reads each table past a high-water mark, kept in
`groupreg_complaint_marks`. The mark moves in the same transaction that
opens the cases, so each report is taken in exactly once, across restarts
and crashes alike. Any other table of reports (the content filter's review
records) is read the same way through a `ReportSource`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

import attrs

from synapse_groupreg.store.database import Cursor, Database

logger = logging.getLogger(__name__)

_CASES = "groupreg_complaint_cases"


@attrs.frozen(slots=True)
class NewReport:
    """One report, from whichever door it came in."""

    kind: str  # complaint | appeal
    source: str
    target_type: str
    target: str
    category: str
    reporter: str
    ts: int
    reason: str | None = None
    room_id: str | None = None
    subject: str | None = None
    evidence: Mapping[str, Any] = attrs.field(factory=dict)
    details: Mapping[str, Any] = attrs.field(factory=dict)
    source_id: int | None = None
    #: Counts toward, and is bound by, the reporter's rate (people are;
    #: the content filter and appeals are not).
    rated: bool = True


@attrs.frozen(slots=True)
class OpenCase:
    """The open case a new report of the same target would fold into."""

    id: int
    held: bool


@attrs.frozen(slots=True)
class IntakePlan:
    """What to do with a report (decided by `complaints.model.plan_intake`)."""

    action: Literal["open", "fold", "refuse"]
    #: The report is over its reporter's rate (a case it opens is held).
    over_rate: bool = False
    #: Folding a report within rate into a held case starts its deadlines.
    release_hold: bool = False
    ack_due_ts: int | None = None
    decide_due_ts: int | None = None


class IntakePolicy(Protocol):
    """The rules intake follows, handed in by the complaint service."""

    @property
    def rate_window_ms(self) -> int: ...

    def plan(
        self, report: NewReport, open_case: OpenCase | None, recent: int
    ) -> IntakePlan: ...

    def advance_mark(
        self, mark: int, rows: Sequence[tuple[int, int]], now_ms: int
    ) -> int: ...


@attrs.frozen(slots=True)
class IntakeResult:
    report: NewReport
    plan: IntakePlan
    #: The case opened or folded into; None when refused.
    case_id: int | None


@attrs.frozen(slots=True)
class SourceRow:
    """A row of a polled table: its id and time, and the report it is
    (None for rows that are no report, e.g. a content filter refusal:
    the mark still moves over them)."""

    id: int
    ts: int
    report: NewReport | None


@attrs.frozen(slots=True)
class ReportSource:
    """A table read past a mark: `fetch(txn, after_id, limit, category)`
    answers its rows by ascending id."""

    name: str
    table: str
    fetch: Callable[[Cursor, int, int, str], list[SourceRow]]


class IntakeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def intake(self, report: NewReport, policy: IntakePolicy) -> IntakeResult:
        """Open a case for `report` or fold it into its target's open case."""

        def txn_fn(txn: Cursor) -> IntakeResult:
            self._db.lock_table(txn, _CASES)
            return self._intake(txn, report, policy)

        return await self._db.run("complaint_intake", txn_fn)

    async def collect(
        self,
        source: ReportSource,
        policy: IntakePolicy,
        category: str,
        now_ms: int,
        batch: int = 100,
    ) -> tuple[list[IntakeResult], bool]:
        """Take in the next batch of `source`'s rows past its mark; answers
        the results and whether more rows may be waiting."""

        def txn_fn(txn: Cursor) -> tuple[list[IntakeResult], bool]:
            # First statement: it serialises collectors and intake on every
            # process, and the snapshot starts after it (REPEATABLE READ).
            self._db.lock_table(txn, _CASES)
            txn.execute(
                "SELECT last_id FROM groupreg_complaint_marks WHERE source = ?",
                (source.name,),
            )
            found = txn.fetchone()
            txn.execute(f"SELECT MIN(id), MAX(id) FROM {source.table}")
            bounds = txn.fetchone()
            if bounds is None or bounds[0] is None:
                return [], False  # nothing reported yet
            bottom, top = int(bounds[0]), int(bounds[1])
            # The first run starts at the oldest row: ids need not start at 1
            # (Synapse's first report on a new server is number 2).
            mark = int(found[0]) if found else bottom - 1
            if top < mark:
                # Synapse numbers reports from MAX(id) at start-up, so after
                # the newest reports were deleted it hands their ids out
                # again: follow it down rather than skip the new ones.
                logger.warning(
                    "%s: newest id %d is below the intake mark %d (reports "
                    "deleted?); continuing from %d",
                    source.table,
                    top,
                    mark,
                    top,
                )
                mark = top
            rows = source.fetch(txn, mark, batch, category)
            new_mark = policy.advance_mark(mark, [(r.id, r.ts) for r in rows], now_ms)
            results = [
                self._intake(txn, r.report, policy)
                for r in rows
                if r.id <= new_mark and r.report is not None
            ]
            if found is None or new_mark != int(found[0]):
                txn.execute(
                    "INSERT INTO groupreg_complaint_marks (source, last_id)"
                    " VALUES (?, ?) ON CONFLICT (source)"
                    " DO UPDATE SET last_id = excluded.last_id",
                    (source.name, new_mark),
                )
            return results, len(rows) == batch and new_mark == rows[-1].id

        return await self._db.run(f"complaint_collect_{source.name}", txn_fn)

    def _intake(
        self, txn: Cursor, report: NewReport, policy: IntakePolicy
    ) -> IntakeResult:
        txn.execute(
            f"SELECT id, held FROM {_CASES} WHERE target_type = ? AND target = ?"
            " AND kind = ? AND status IN ('received', 'triaged')"
            " ORDER BY id LIMIT 1",
            (report.target_type, report.target, report.kind),
        )
        found = txn.fetchone()
        open_case = OpenCase(int(found[0]), bool(found[1])) if found else None
        recent = 0
        if report.rated:
            txn.execute(
                "SELECT COUNT(*) FROM groupreg_complaint_reports"
                " WHERE reporter = ? AND ts > ? AND held = 0",
                (report.reporter, report.ts - policy.rate_window_ms),
            )
            counted = txn.fetchone()
            recent = int(counted[0]) if counted else 0
        plan = policy.plan(report, open_case, recent)
        if plan.action == "refuse":
            return IntakeResult(report, plan, None)
        if plan.action == "fold":
            assert open_case is not None
            case_id = open_case.id
            if plan.release_hold:
                txn.execute(
                    f"UPDATE {_CASES} SET held = 0, ack_due_ts = ?, decide_due_ts = ?"
                    " WHERE id = ?",
                    (plan.ack_due_ts, plan.decide_due_ts, case_id),
                )
        else:
            txn.execute(
                f"INSERT INTO {_CASES} (kind, source, target_type, target, room_id,"
                " subject, category, status, held, created_ts, ack_due_ts,"
                " decide_due_ts, sanctions, evidence)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?, '[]', ?)",
                (
                    report.kind,
                    report.source,
                    report.target_type,
                    report.target,
                    report.room_id,
                    report.subject,
                    report.category,
                    int(plan.over_rate),
                    report.ts,
                    plan.ack_due_ts,
                    plan.decide_due_ts,
                    json.dumps(dict(report.evidence)),
                ),
            )
            txn.execute(
                f"SELECT MAX(id) FROM {_CASES} WHERE target_type = ? AND target = ?",
                (report.target_type, report.target),
            )
            new_row = txn.fetchone()
            assert new_row is not None
            case_id = int(new_row[0])
        txn.execute(
            "INSERT INTO groupreg_complaint_reports (case_id, reporter, source,"
            " source_id, ts, reason, held, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                case_id,
                report.reporter,
                report.source,
                report.source_id,
                report.ts,
                report.reason,
                int(plan.over_rate),
                json.dumps(dict(report.details)),
            ),
        )
        return IntakeResult(report, plan, case_id)

"""The rows of the complaint tables as the rest of the module reads them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs


@attrs.frozen(slots=True)
class CaseRow:
    id: int
    kind: str
    source: str
    target_type: str
    target: str
    room_id: str | None
    subject: str | None
    category: str
    status: str
    held: bool
    created_ts: int
    ack_due_ts: int | None
    decide_due_ts: int | None
    assignee: str | None
    acknowledged_ts: int | None
    decided_ts: int | None
    decided_by: str | None
    outcome: str | None
    note: str | None
    sanctions: list[dict[str, Any]]
    closed_ts: int | None
    closed_by: str | None
    evidence: dict[str, Any]


CASE_COLUMNS = (
    "id, kind, source, target_type, target, room_id, subject, category, status,"
    " held, created_ts, ack_due_ts, decide_due_ts, assignee, acknowledged_ts,"
    " decided_ts, decided_by, outcome, note, sanctions, closed_ts, closed_by,"
    " evidence"
)


def case_row(r: Sequence[Any]) -> CaseRow:
    return CaseRow(
        id=int(r[0]),
        kind=str(r[1]),
        source=str(r[2]),
        target_type=str(r[3]),
        target=str(r[4]),
        room_id=r[5],
        subject=r[6],
        category=str(r[7]),
        status=str(r[8]),
        held=bool(r[9]),
        created_ts=int(r[10]),
        ack_due_ts=r[11],
        decide_due_ts=r[12],
        assignee=r[13],
        acknowledged_ts=r[14],
        decided_ts=r[15],
        decided_by=r[16],
        outcome=r[17],
        note=r[18],
        sanctions=json.loads(r[19]),
        closed_ts=r[20],
        closed_by=r[21],
        evidence=json.loads(r[22]),
    )


@attrs.frozen(slots=True)
class ReportRow:
    id: int
    case_id: int
    reporter: str
    source: str
    source_id: int | None
    ts: int
    reason: str | None
    held: bool
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "reporter": self.reporter,
            "source": self.source,
            "source_id": self.source_id,
            "ts": self.ts,
            "reason": self.reason,
            "held": self.held,
            "details": self.details,
        }


REPORT_COLUMNS = "id, case_id, reporter, source, source_id, ts, reason, held, details"


def report_row(r: Sequence[Any]) -> ReportRow:
    return ReportRow(
        id=int(r[0]),
        case_id=int(r[1]),
        reporter=str(r[2]),
        source=str(r[3]),
        source_id=None if r[4] is None else int(r[4]),
        ts=int(r[5]),
        reason=r[6],
        held=bool(r[7]),
        details=json.loads(r[8]),
    )


@attrs.frozen(slots=True)
class CaseFilter:
    """What an admin's list asks for; None means any."""

    statuses: tuple[str, ...] | None = None
    kind: str | None = None
    category: str | None = None
    assignee: str | None = None
    target: str | None = None
    #: True: only overdue cases; False: only cases on time.
    overdue: bool | None = None
    held: bool | None = None


#: A case misses a deadline while it is still before the step that meets it.
OVERDUE_SQL = (
    "((status = 'received' AND ack_due_ts < ?)"
    " OR (status IN ('received', 'triaged') AND decide_due_ts < ?))"
)


@attrs.frozen(slots=True)
class NoticeDue:
    case_id: int
    user_id: str
    attempts: int


@attrs.frozen(slots=True)
class CaseCounts:
    """Open and overdue cases by kind (the Prometheus gauges, G4)."""

    open: dict[str, int]
    overdue: dict[str, int]

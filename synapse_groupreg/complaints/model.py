"""The complaint workflow's pure rules (E1-E4): case ids, the state
machine, deadline arithmetic, intake (open, fold, hold, refuse) and the
high-water mark over Synapse's report tables.

Nothing here touches the database or Synapse, so each rule is unit-tested
on its own (tests/unit/test_complaints_model.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from synapse_groupreg.config.complaints import ComplaintsConfig, Deadlines
from synapse_groupreg.store.complaint_intake import IntakePlan, NewReport, OpenCase
from synapse_groupreg.store.complaint_rows import CaseRow, ReportRow

RECEIVED, TRIAGED, DECIDED, CLOSED = "received", "triaged", "decided", "closed"
STATUSES = (RECEIVED, TRIAGED, DECIDED, CLOSED)
OPEN = (RECEIVED, TRIAGED)

COMPLAINT, APPEAL = "complaint", "appeal"
KINDS = (COMPLAINT, APPEAL)

#: What a complaint may be about (docs/openapi.yaml: `target_type`).
TARGET_TYPES = ("event", "room", "user")

#: A complaint's outcomes: a violation was found (sanctions may follow),
#: none was, or the complaint cannot be acted on (spam, unclear, duplicate).
COMPLAINT_OUTCOMES = ("violation", "no_violation", "invalid")
#: An appeal's outcomes: the sanction is reversed, or it stands.
APPEAL_OUTCOMES = ("reversed", "upheld")

#: The reporter recorded for reports nobody made by hand (content filter).
SYSTEM_REPORTER = "system"

#: Sources whose reports can be refused at the door; Synapse's own report
#: endpoints have already answered the user by the time the module reads
#: them, so an over-rate report from there is held instead.
REFUSABLE_SOURCES = ("api",)

#: How long a hole in a report table's ids is waited on. Synapse numbers a
#: report before inserting it (IdGenerator in storage/util/id_generators.py),
#: so a later id can commit first; a hole older than this is a report that
#: was deleted or never written.
GAP_GRACE_MS = 30_000

_CASE_PREFIX = "C"


class WorkflowError(Exception):
    """A step the case's status does not allow (HTTP 409)."""


def format_case_id(case_id: int) -> str:
    """Case ids read `C17` wherever people see them."""
    return f"{_CASE_PREFIX}{case_id}"


def parse_case_id(text: str) -> int | None:
    """17 from `C17` (or `17`); None if it is no case id."""
    digits = text[1:] if text[:1] in ("C", "c") else text
    ok = digits.isascii() and digits.isdigit() and len(digits) < 19
    return int(digits) if ok else None


# -- the state machine ---------------------------------------------------------

#: (status, step) -> the status after it. Assignment acknowledges a case;
#: a decision may come straight from `received` (it acknowledges too).
_TRANSITIONS = {
    (RECEIVED, "assign"): TRIAGED,
    (TRIAGED, "assign"): TRIAGED,
    (RECEIVED, "decide"): DECIDED,
    (TRIAGED, "decide"): DECIDED,
    (DECIDED, "close"): CLOSED,
}

_STEP_NEEDS = {
    "assign": "only an open case (received or triaged) can be assigned",
    "decide": "only an open case (received or triaged) can be decided",
    "close": "only a decided case can be closed; decide it first",
}


def next_status(case_label: str, status: str, step: str) -> str:
    """The status after `step`.

    Raises:
        WorkflowError: the step is not allowed from `status`, saying why.
    """
    after = _TRANSITIONS.get((status, step))
    if after is None:
        raise WorkflowError(f"{case_label} is {status}; {_STEP_NEEDS[step]}")
    return after


def outcomes_for(kind: str) -> tuple[str, ...]:
    return APPEAL_OUTCOMES if kind == APPEAL else COMPLAINT_OUTCOMES


# -- deadlines -----------------------------------------------------------------


def due_times(start_ts: int, deadlines: Deadlines) -> tuple[int, int]:
    """When a case opened at `start_ts` must be acknowledged and decided."""
    return start_ts + deadlines.acknowledge_ms, start_ts + deadlines.decide_ms


def missed_deadlines(
    status: str, ack_due_ts: int | None, decide_due_ts: int | None, now_ms: int
) -> list[str]:
    """The deadlines a case has missed at `now_ms`: `acknowledge` while it
    waits for triage past its time, `decide` while it waits for a decision.
    A held case has no deadlines; a decided one has met them."""
    missed = []
    if status == RECEIVED and ack_due_ts is not None and now_ms > ack_due_ts:
        missed.append("acknowledge")
    if status in OPEN and decide_due_ts is not None and now_ms > decide_due_ts:
        missed.append("decide")
    return missed


def human_duration(ms: int) -> str:
    """`86400000` -> `1d`: the largest unit that divides it."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


# -- intake ----------------------------------------------------------------------


def plan_intake(
    report: NewReport,
    open_case: OpenCase | None,
    recent: int,
    rate_reports: int,
    deadlines: Deadlines,
) -> IntakePlan:
    """What becomes of a report, given its target's open case (if any) and
    how many reports within rate its reporter made in the window.

    - The same target reported again while its case is open folds into
      that case: one case, two reporters.
    - Over the rate, the module's own endpoint refuses; a report that
      Synapse already accepted is still kept (every report becomes a case,
      E1) but its case is held: no deadlines, so a flood cannot bury the
      queue's real work or its overdue alarms.
    - A report within rate folded into a held case starts its deadlines.
    """
    over_rate = report.rated and recent >= rate_reports
    if over_rate and report.source in REFUSABLE_SOURCES:
        return IntakePlan("refuse", over_rate=True)
    ack_due, decide_due = due_times(report.ts, deadlines)
    if open_case is not None:
        if open_case.held and not over_rate:
            return IntakePlan(
                "fold",
                release_hold=True,
                ack_due_ts=ack_due,
                decide_due_ts=decide_due,
            )
        return IntakePlan("fold", over_rate=over_rate)
    if over_rate:
        return IntakePlan("open", over_rate=True)
    return IntakePlan("open", ack_due_ts=ack_due, decide_due_ts=decide_due)


def advance_mark(
    mark: int, rows: Sequence[tuple[int, int]], now_ms: int, grace_ms: int
) -> int:
    """How far the high-water mark over a report table may move.

    `rows` are the (id, ts) of rows past `mark`, by id. The mark moves over
    consecutive ids; at a hole it stops while the row after the hole is
    younger than `grace_ms` (the missing report may still be committing),
    and moves on once it is older (the missing report is gone for good).
    """
    expected = mark + 1
    for row_id, ts in rows:
        if row_id != expected and now_ms - ts < grace_ms:
            break
        mark = row_id
        expected = row_id + 1
    return mark


@attrs.frozen(slots=True)
class IntakeRules:
    """The intake policy the store follows, from the configuration."""

    config: ComplaintsConfig
    grace_ms: int = GAP_GRACE_MS

    @property
    def rate_window_ms(self) -> int:
        return self.config.rate_window_ms

    def deadlines_of(self, kind: str, category: str) -> Deadlines:
        if kind == APPEAL:
            return self.config.appeal_deadlines
        return self.config.deadlines_for(category)

    def plan(
        self, report: NewReport, open_case: OpenCase | None, recent: int
    ) -> IntakePlan:
        return plan_intake(
            report,
            open_case,
            recent,
            self.config.rate_reports,
            self.deadlines_of(report.kind, report.category),
        )

    def advance_mark(
        self, mark: int, rows: Sequence[tuple[int, int]], now_ms: int
    ) -> int:
        return advance_mark(mark, rows, now_ms, self.grace_ms)


# -- views -------------------------------------------------------------------------


def case_json(
    row: CaseRow, now_ms: int, counts: tuple[int, int] | None = None
) -> dict[str, Any]:
    """A case as admins see it; `counts` is (reports, distinct reporters)."""
    view: dict[str, Any] = {
        "case_id": format_case_id(row.id),
        "kind": row.kind,
        "source": row.source,
        "target_type": row.target_type,
        "target": row.target,
        "room_id": row.room_id,
        "subject": row.subject,
        "category": row.category,
        "status": row.status,
        "held": row.held,
        "created_ts": row.created_ts,
        "acknowledge_by": row.ack_due_ts,
        "decide_by": row.decide_due_ts,
        "overdue": missed_deadlines(
            row.status, row.ack_due_ts, row.decide_due_ts, now_ms
        ),
        "assignee": row.assignee,
        "acknowledged_ts": row.acknowledged_ts,
        "decided_ts": row.decided_ts,
        "decided_by": row.decided_by,
        "outcome": row.outcome,
        "note": row.note,
        "sanctions": row.sanctions,
        "closed_ts": row.closed_ts,
        "closed_by": row.closed_by,
    }
    if counts is not None:
        view["reports"], view["reporters"] = counts
    return view


def own_json(report: ReportRow, row: CaseRow) -> dict[str, Any]:
    """A reporter's view of their report and its case: no other reporters,
    no assignee, no evidence."""
    decided = row.status in (DECIDED, CLOSED)
    return {
        "case_id": format_case_id(row.id),
        "kind": row.kind,
        "target_type": row.target_type,
        "target": row.target,
        "category": row.category,
        "reported_ts": report.ts,
        "description": report.reason,
        "status": row.status,
        "outcome": row.outcome if decided else None,
        "decided_ts": row.decided_ts if decided else None,
        "note": row.note if decided else None,
    }


def distinct_people(reports: Sequence[ReportRow]) -> list[str]:
    """The people who reported, in the order they first did (the content
    filter is nobody to notify)."""
    seen: dict[str, None] = {}
    for report in reports:
        if report.reporter != SYSTEM_REPORTER:
            seen.setdefault(report.reporter, None)
    return list(seen)


#: A clock, milliseconds since the epoch.
Clock = Callable[[], int]

"""The complaint workflow's pure rules: the state machine (E2), deadline
arithmetic (E2), intake folding, holding and refusing (E1), and the
high-water mark over Synapse's report tables (E1)."""

from __future__ import annotations

import pytest

from synapse_groupreg.complaints.model import (
    GAP_GRACE_MS,
    WorkflowError,
    advance_mark,
    due_times,
    format_case_id,
    human_duration,
    missed_deadlines,
    next_status,
    outcomes_for,
    parse_case_id,
    plan_intake,
)
from synapse_groupreg.complaints.texts import outcome_notice
from synapse_groupreg.config import Language
from synapse_groupreg.config.complaints import Deadlines
from synapse_groupreg.store.complaint_intake import NewReport, OpenCase
from synapse_groupreg.store.complaint_rows import CaseRow

HOUR = 3_600_000
DEADLINES = Deadlines(acknowledge_ms=24 * HOUR, decide_ms=7 * 24 * HOUR)


def _report(source: str = "event_report", rated: bool = True) -> NewReport:
    return NewReport(
        kind="complaint",
        source=source,
        target_type="event",
        target="$e",
        category="other",
        reporter="@a:hs",
        ts=1_000_000,
        rated=rated,
    )


# -- state machine ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "step", "after"),
    [
        ("received", "assign", "triaged"),
        ("triaged", "assign", "triaged"),
        ("received", "decide", "decided"),
        ("triaged", "decide", "decided"),
        ("decided", "close", "closed"),
    ],
)
def test_allowed_steps(status: str, step: str, after: str) -> None:
    """E2: received → triaged → decided → closed; assignment acknowledges,
    a decision may come straight from received."""
    assert next_status("C1", status, step) == after


@pytest.mark.parametrize(
    ("status", "step", "says"),
    [
        ("decided", "decide", "only an open case (received or triaged) can be decided"),
        ("closed", "decide", "C1 is closed"),
        ("decided", "assign", "can be assigned"),
        ("closed", "assign", "can be assigned"),
        ("received", "close", "only a decided case can be closed; decide it first"),
        ("triaged", "close", "decide it first"),
        ("closed", "close", "C1 is closed"),
    ],
)
def test_refused_steps_say_why(status: str, step: str, says: str) -> None:
    """E2: a step the status does not allow is refused with the reason."""
    with pytest.raises(WorkflowError) as caught:
        next_status("C1", status, step)
    assert says in str(caught.value)


def test_outcomes_depend_on_the_kind() -> None:
    """E3, E4: complaints find a violation or not; appeals reverse or uphold."""
    assert outcomes_for("complaint") == ("violation", "no_violation", "invalid")
    assert outcomes_for("appeal") == ("reversed", "upheld")


def test_case_ids_round_trip() -> None:
    assert format_case_id(17) == "C17"
    assert parse_case_id("C17") == parse_case_id("c17") == parse_case_id("17") == 17
    for bad in ("", "C", "S17", "C1x", "C" + "9" * 30):
        assert parse_case_id(bad) is None


# -- deadlines ----------------------------------------------------------------


def test_due_times_count_from_the_report() -> None:
    """E2: acknowledge within 24 h and decide within 7 days by default."""
    assert due_times(1000, DEADLINES) == (1000 + 24 * HOUR, 1000 + 168 * HOUR)


def test_missed_deadlines_follow_the_status() -> None:
    """E2: a case is overdue for acknowledgement only while received, for a
    decision while received or triaged; decided and held cases are not."""
    ack, decide = 100, 200
    assert missed_deadlines("received", ack, decide, 100) == []
    assert missed_deadlines("received", ack, decide, 101) == ["acknowledge"]
    assert missed_deadlines("received", ack, decide, 201) == ["acknowledge", "decide"]
    assert missed_deadlines("triaged", ack, decide, 150) == []
    assert missed_deadlines("triaged", ack, decide, 201) == ["decide"]
    assert missed_deadlines("decided", ack, decide, 10_000) == []
    assert missed_deadlines("closed", ack, decide, 10_000) == []
    assert missed_deadlines("received", None, None, 10_000) == []


def test_human_durations() -> None:
    assert human_duration(86_400_000) == "1d"
    assert human_duration(3 * HOUR) == "3h"
    assert human_duration(90_000) == "90s"
    assert human_duration(30_000) == "30s"
    assert human_duration(1500) == "1500ms"


# -- intake -------------------------------------------------------------------


def test_a_new_target_opens_a_case_with_deadlines() -> None:
    """E1, E2: the first report of a target opens a case, deadlines running."""
    plan = plan_intake(_report(), None, recent=0, rate_reports=5, deadlines=DEADLINES)
    assert plan.action == "open"
    assert not plan.over_rate
    assert (plan.ack_due_ts, plan.decide_due_ts) == due_times(1_000_000, DEADLINES)


def test_the_same_target_folds_into_its_open_case() -> None:
    """E1 (folding): a second report of an open case's target joins it."""
    open_case = OpenCase(7, held=False)
    plan = plan_intake(_report(), open_case, 1, rate_reports=5, deadlines=DEADLINES)
    assert plan.action == "fold"
    assert not plan.release_hold
    assert plan.ack_due_ts is None


def test_over_rate_the_modules_endpoint_refuses() -> None:
    """E1 (flood): the module's own endpoint refuses a reporter over the rate."""
    plan = plan_intake(
        _report("api"), None, recent=5, rate_reports=5, deadlines=DEADLINES
    )
    assert plan.action == "refuse"


def test_over_rate_a_synapse_report_is_kept_but_held() -> None:
    """E1: a report Synapse already accepted still becomes a case, held
    without deadlines so a flood does not bury the queue."""
    plan = plan_intake(_report(), None, recent=5, rate_reports=5, deadlines=DEADLINES)
    assert plan.action == "open"
    assert plan.over_rate
    assert (plan.ack_due_ts, plan.decide_due_ts) == (None, None)


def test_a_report_within_rate_releases_a_held_case() -> None:
    """E1, E2: when someone within their rate reports a held case's target,
    its deadlines start."""
    plan = plan_intake(
        _report(), OpenCase(7, held=True), recent=0, rate_reports=5, deadlines=DEADLINES
    )
    assert plan.action == "fold"
    assert plan.release_hold
    assert plan.decide_due_ts == 1_000_000 + DEADLINES.decide_ms
    still_held = plan_intake(
        _report(), OpenCase(7, held=True), recent=9, rate_reports=5, deadlines=DEADLINES
    )
    assert (still_held.action, still_held.release_hold) == ("fold", False)


def test_unrated_reports_are_never_over_the_rate() -> None:
    """E1: the content filter's reports are not bound by a person's rate."""
    plan = plan_intake(
        _report("content", rated=False),
        None,
        recent=99,
        rate_reports=1,
        deadlines=DEADLINES,
    )
    assert (plan.action, plan.over_rate) == ("open", False)


# -- the high-water mark ------------------------------------------------------


def test_the_mark_moves_over_consecutive_ids() -> None:
    """E1 (exactly once): rows 4, 5, 6 after mark 3 are all taken."""
    now = 10 * GAP_GRACE_MS
    assert advance_mark(3, [(4, now), (5, now), (6, now)], now, GAP_GRACE_MS) == 6


def test_the_mark_waits_at_a_young_hole() -> None:
    """E1: Synapse numbers a report before inserting it, so id 5 may still
    be committing when id 6 is visible; the mark waits for it."""
    now = 10 * GAP_GRACE_MS
    assert advance_mark(3, [(4, now), (6, now)], now, GAP_GRACE_MS) == 4
    assert advance_mark(3, [(5, now)], now, GAP_GRACE_MS) == 3


def test_the_mark_passes_an_old_hole() -> None:
    """E1: a hole older than the grace is a deleted or failed report."""
    now = 10 * GAP_GRACE_MS
    old = now - GAP_GRACE_MS
    assert advance_mark(3, [(4, now), (6, old), (7, now)], now, GAP_GRACE_MS) == 7
    assert advance_mark(3, [], now, GAP_GRACE_MS) == 3


# -- notices ------------------------------------------------------------------


def decided_case(kind: str, outcome: str, target_type: str, target: str) -> CaseRow:
    return CaseRow(
        id=3,
        kind=kind,
        source="api",
        target_type=target_type,
        target=target,
        room_id=None,
        subject=None,
        category="other",
        status="decided",
        held=False,
        created_ts=0,
        ack_due_ts=None,
        decide_due_ts=None,
        assignee=None,
        acknowledged_ts=None,
        decided_ts=1,
        decided_by="@admin:hs",
        outcome=outcome,
        note="已核实 / verified",
        sanctions=[],
        closed_ts=None,
        closed_by=None,
        evidence={},
    )


def test_outcome_notices_in_each_language() -> None:
    """E3, G3: the reporter reads the case, the outcome and the reasons."""
    case = decided_case("complaint", "violation", "event", "$ev")
    en = outcome_notice(case, "C3", Language.EN)
    assert "complaint C3 about message $ev" in en
    assert "a violation was found" in en and "verified" in en
    zh = outcome_notice(case, "C3", Language.ZH_HANS)
    assert "C3" in zh and "投诉属实" in zh and "已核实" in zh
    both = outcome_notice(case, "C3", Language.BILINGUAL)
    assert "投诉属实" in both and "a violation was found" in both


def test_appeal_notice_names_the_sanction() -> None:
    """E4: the appellant reads whether the sanction was reversed."""
    case = decided_case("appeal", "reversed", "sanction", "S9")
    text = outcome_notice(case, "C3", Language.EN)
    assert "appeal C3 against sanction S9" in text
    assert "reversed" in text

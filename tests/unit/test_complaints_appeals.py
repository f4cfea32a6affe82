"""E4: who may appeal a sanction and when; an appeal is a case of its own."""

from __future__ import annotations

import attrs
import pytest

from synapse_groupreg.complaints.appeals import appeal_report, check_appeal
from synapse_groupreg.complaints.errors import InvalidRequest, Refused
from synapse_groupreg.complaints.sanctions import SanctionFacts
from tests.unit.test_complaints_model import decided_case

FACTS = SanctionFacts(
    sanction_id="S4",
    action="lower_credit",
    target="@bob:hs",
    created_ts=1000,
    status="done",
    affected=("@bob:hs",),
    appeal_until_ts=5000,
    appeal_until_text="1970-01-01 08:00",
)


def _reason(error: Refused) -> str:
    return error.refusal.reason.value


def test_the_affected_may_appeal_within_the_window() -> None:
    """E4: whoever received the statement may appeal until the window ends."""
    assert check_appeal("S4", FACTS, "@bob:hs", 5000, None) is FACTS


def test_an_unknown_sanction_names_the_field() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_appeal("S99", None, "@bob:hs", 2000, None)
    assert caught.value.field == "sanction_id"
    assert "'S99'" in caught.value.message


def test_only_the_affected_may_appeal() -> None:
    """E4: a sanction is appealed by those it affected, nobody else."""
    with pytest.raises(Refused) as caught:
        check_appeal("S4", FACTS, "@eve:hs", 2000, None)
    assert _reason(caught.value) == "APPEAL_NOT_AFFECTED"


def test_the_window_closes() -> None:
    """E4: 180 days by default; after it, APPEAL_WINDOW_CLOSED with the date
    the statement of reasons announced."""
    with pytest.raises(Refused) as caught:
        check_appeal("S4", FACTS, "@bob:hs", 5001, None)
    assert _reason(caught.value) == "APPEAL_WINDOW_CLOSED"
    assert caught.value.refusal.params["until"] == "1970-01-01 08:00"


def test_an_open_appeal_takes_more_but_a_decided_one_is_final() -> None:
    """E4: while the appeal is open a second one joins it (folding); once
    decided, the sanction cannot be appealed again."""
    decided = decided_case("appeal", "upheld", "sanction", "S4")
    open_case = attrs.evolve(decided, status="triaged", outcome=None)
    assert check_appeal("S4", FACTS, "@bob:hs", 2000, open_case) is FACTS
    with pytest.raises(Refused) as caught:
        check_appeal("S4", FACTS, "@bob:hs", 2000, decided)
    assert _reason(caught.value) == "APPEAL_ALREADY_DECIDED"
    assert caught.value.refusal.params["case_id"] == "C3"


def test_an_appeal_is_an_unrated_case_about_the_sanction() -> None:
    """E4: the appeal report targets the sanction, in the appeal category
    (its own deadlines), and is not bound by the complaint rate."""
    report = appeal_report(FACTS, "@bob:hs", "it was a joke", 3000)
    assert (report.kind, report.target_type, report.target) == (
        "appeal",
        "sanction",
        "S4",
    )
    assert (report.category, report.rated, report.reason) == (
        "appeal",
        False,
        "it was a joke",
    )
    assert report.evidence["sanction"]["action"] == "lower_credit"

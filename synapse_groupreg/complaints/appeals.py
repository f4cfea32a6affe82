"""Who may appeal a sanction, and when (E4): pure rules.

Those a sanction affected (who received its statement of reasons) may
appeal it until its appeal window closes (`sanctions.appeal.window`, 180
days by default, the same date the statement announced), once: while an
appeal is open a second one joins it, and after an appeal was decided the
sanction cannot be appealed again.
"""

from __future__ import annotations

from synapse_groupreg.complaints.errors import InvalidRequest, Refused
from synapse_groupreg.complaints.model import APPEAL, OPEN, format_case_id
from synapse_groupreg.complaints.sanctions import SanctionFacts
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.complaint_intake import NewReport
from synapse_groupreg.store.complaint_rows import CaseRow


def check_appeal(
    sanction_id: str,
    facts: SanctionFacts | None,
    user_id: str,
    now_ms: int,
    latest: CaseRow | None,
) -> SanctionFacts:
    """The sanction, if `user_id` may appeal it now; `latest` is the newest
    appeal case about it.

    Raises:
        InvalidRequest: there is no such sanction.
        Refused: APPEAL_NOT_AFFECTED, APPEAL_WINDOW_CLOSED or
            APPEAL_ALREADY_DECIDED.
    """
    if facts is None:
        raise InvalidRequest(
            "sanction_id", f"there is no sanction {sanction_id!r} on this server"
        )
    if user_id not in facts.affected:
        raise Refused(
            Refusal(Reason.APPEAL_NOT_AFFECTED, {"sanction_id": facts.sanction_id})
        )
    if now_ms > facts.appeal_until_ts:
        raise Refused(
            Refusal(
                Reason.APPEAL_WINDOW_CLOSED,
                {"sanction_id": facts.sanction_id, "until": facts.appeal_until_text},
            )
        )
    if latest is not None and latest.status not in OPEN:
        raise Refused(
            Refusal(
                Reason.APPEAL_ALREADY_DECIDED,
                {
                    "sanction_id": facts.sanction_id,
                    "case_id": format_case_id(latest.id),
                    "outcome": latest.outcome or "",
                },
            )
        )
    return facts


def appeal_report(
    facts: SanctionFacts, user_id: str, text: str, now_ms: int
) -> NewReport:
    """The appeal as a report: a case of kind `appeal` about the sanction,
    in its own category (its own deadlines), not bound by a reporter's rate
    (one appeal per sanction and person is its own limit)."""
    return NewReport(
        kind=APPEAL,
        source="appeal",
        target_type="sanction",
        target=facts.sanction_id,
        category="appeal",
        reporter=user_id,
        ts=now_ms,
        reason=text,
        subject=facts.target,
        evidence={"sanction": facts.to_json()},
        rated=False,
    )

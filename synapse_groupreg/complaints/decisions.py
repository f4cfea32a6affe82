"""Deciding a case (E3, E4) and telling the reporters.

A decision on a complaint may apply sanctions through the sanctions
concern, which sends the affected their statement of reasons; a decision on
an appeal may reverse the appealed sanction, which lifts it and gives back
the credit it took. The reporters (or appellants) receive the outcome from
the notice bot. Each step is recorded in the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import attrs

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.complaints.errors import InvalidRequest, WorkflowError
from synapse_groupreg.complaints.model import (
    APPEAL,
    Clock,
    distinct_people,
    format_case_id,
    next_status,
    outcomes_for,
)
from synapse_groupreg.complaints.sanctions import (
    NEEDS_AMOUNT,
    NEEDS_DURATION,
    ROOM_ACTIONS,
    USER_ACTIONS,
    SanctionFacts,
    SanctionGateway,
    SanctionRefused,
    SanctionRequest,
    scope_of,
)
from synapse_groupreg.complaints.texts import outcome_notice
from synapse_groupreg.config import Language
from synapse_groupreg.store.complaint_notices import OutcomeNoticeStore
from synapse_groupreg.store.complaint_rows import CaseRow
from synapse_groupreg.store.complaints import ComplaintStore

logger = logging.getLogger(__name__)

#: A decision claim or a notice claim older than this belongs to a process
#: that died while holding it; another may take over.
CLAIM_STALE_MS = 5 * 60_000
#: The background retry leaves a decision's own notices this long to the
#: decision, which delivers them at once and answers whom it reached.
OWN_DELIVERY_MS = 10_000
#: Failed deliveries of an outcome notice before the module gives up (the
#: case's `notices` show it to admins).
MAX_NOTICE_ATTEMPTS = 5


class Notifier(Protocol):
    async def send_dm(
        self, user_id: str, text: str, html: str | None = None
    ) -> str: ...


@attrs.frozen(slots=True)
class SanctionSpec:
    """One entry of a decision's `sanctions`, as the admin wrote it; a
    missing target is taken from the case."""

    action: str
    target: str | None = None
    reason: str | None = None
    duration_ms: int | None = None
    deadline_ms: int | None = None
    amount: int | None = None


@attrs.frozen(slots=True)
class DecisionResult:
    case: CaseRow
    #: Sanctions after the first that the sanctions concern refused; the
    #: decision stands with those it applied.
    sanction_errors: list[dict[str, Any]]
    notified: list[str]
    notify_failed: list[str]


def _applied(facts: SanctionFacts, **extra: Any) -> dict[str, Any]:
    return {
        "sanction_id": facts.sanction_id,
        "action": facts.action,
        "target": facts.target,
        **extra,
    }


class DecisionDesk:
    def __init__(
        self,
        cases: ComplaintStore,
        outcome_notices: OutcomeNoticeStore,
        audit: AuditLog,
        notifier: Notifier,
        language: Language,
        now_ms: Clock,
        sanctions: SanctionGateway | None,
    ) -> None:
        self._cases = cases
        self._notices = outcome_notices
        self._audit = audit
        self._notifier = notifier
        self._language = language
        self._now_ms = now_ms
        self._sanctions = sanctions

    async def decide(
        self,
        case: CaseRow,
        actor: str,
        outcome: str,
        specs: Sequence[SanctionSpec],
        note: str,
        record_violation: bool = True,
    ) -> DecisionResult:
        """Decide an open case. With the outcome `violation`, `specs` are
        applied and, unless `record_violation` is off, the violation is
        recorded against the subject of a message or user complaint.

        Raises:
            WorkflowError: the case is not open, or another admin is
                deciding it right now.
            InvalidRequest: naming the field at fault; nothing was applied.
        """
        label = format_case_id(case.id)
        next_status(label, case.status, "decide")
        allowed = outcomes_for(case.kind)
        if outcome not in allowed:
            raise InvalidRequest(
                "outcome",
                f"'outcome' of {'an appeal' if case.kind == APPEAL else 'a complaint'}"
                f" must be one of: {', '.join(allowed)}",
            )
        if specs and outcome != "violation":
            raise InvalidRequest(
                "sanctions",
                "an appeal's decision applies no new sanctions; 'reversed' lifts "
                "the appealed one"
                if case.kind == APPEAL
                else "sanctions go with the outcome 'violation'",
            )
        requests = [self._resolve(case, spec, i, note) for i, spec in enumerate(specs)]
        reversal = case.kind == APPEAL and outcome == "reversed"
        gateway = self._sanctions
        if (requests or reversal) and gateway is None:
            raise InvalidRequest(
                "outcome" if reversal else "sanctions",
                "sanctions are not available on this server (the sanctions "
                "concern is not loaded); decide without them",
            )
        now = self._now_ms()
        if not await self._cases.claim_decision(
            case.id, actor, now, now - CLAIM_STALE_MS
        ):
            fresh = await self._cases.get(case.id)
            next_status(label, fresh.status if fresh else "closed", "decide")
            raise WorkflowError(f"{label} is being decided by another admin right now")

        applied: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        try:
            if reversal:
                assert gateway is not None
                try:
                    facts = await gateway.reverse(case.target, actor, note)
                except SanctionRefused as e:
                    raise InvalidRequest("outcome", e.message) from None
                applied.append(_applied(facts, reversed=True))
            evidence = {
                "case_id": label,
                "target_type": case.target_type,
                "target": case.target,
                "category": case.category,
            }
            for i, request in enumerate(requests):
                assert gateway is not None
                try:
                    facts = await gateway.apply(request, actor, evidence)
                except SanctionRefused as e:
                    field, message = f"sanctions[{i}].{e.field}", e.message
                except Exception as e:
                    logger.exception("%s: sanction %d failed", label, i)
                    field, message = f"sanctions[{i}]", f"{type(e).__name__}: {e}"
                else:
                    applied.append(_applied(facts))
                    continue
                if not applied:
                    raise InvalidRequest(field, message)
                errors.append({"index": i, "field": field, "error": message})
            if outcome == "violation" and record_violation:
                applied.extend(await self._record_violation(case, evidence, errors))
        except BaseException:
            await self._cases.release_claim(case.id)
            raise

        notify = distinct_people(await self._cases.reports(case.id))
        row = await self._cases.record_decision(
            case.id, actor, outcome, note, applied, notify, self._now_ms()
        )
        await self._audit.record(
            actor,
            f"{case.kind}.decide",
            label,
            {
                "outcome": outcome,
                "note": note,
                "sanctions": applied,
                "sanction_errors": errors,
                "notify": notify,
            },
        )
        notified, failed = await self.deliver(case.id)
        return DecisionResult(row, errors, notified, failed)

    async def _record_violation(
        self,
        case: CaseRow,
        evidence: dict[str, Any],
        errors: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Record the violation an upheld complaint found against its
        subject: the sender of a message, or the user reported. A review
        record of the content filter is a violation of its keyword category
        with that category's penalty (the filter leaves review hits to a
        human, C2); anything else is `complaint_upheld`, priced in
        `credit.penalties`. Answers the sanctions that followed."""
        subject = case.subject
        if self._sanctions is None or case.target_type not in ("event", "user"):
            return []
        if subject is None or not subject.startswith("@"):
            return []
        kind, penalty = "complaint_upheld", None
        hit = case.evidence.get("content_hit")
        if case.source == "content" and isinstance(hit, dict):
            kind = f"prohibited_content:{hit.get('category', case.category)}"
            penalty = hit.get("credit_penalty")
        try:
            followed = await self._sanctions.record_violation(
                subject, kind, evidence, case.room_id, penalty
            )
        except Exception as e:
            logger.exception("%s: recording the violation failed", evidence["case_id"])
            errors.append({"index": None, "field": "record_violation", "error": str(e)})
            return []
        return [_applied(facts, automatic=True, violation=kind) for facts in followed]

    def _resolve(
        self, case: CaseRow, spec: SanctionSpec, index: int, note: str
    ) -> SanctionRequest:
        """The sanction a spec asks for, with its target taken from the case
        where the admin named none.

        Raises:
            InvalidRequest: naming `sanctions[i].<field>`.
        """
        field = f"sanctions[{index}]"
        actions = (*ROOM_ACTIONS, *USER_ACTIONS)
        if spec.action not in actions:
            raise InvalidRequest(
                f"{field}.action",
                f"'{field}.action' must be one of: {', '.join(actions)}",
            )
        scope = scope_of(spec.action)
        target = spec.target
        if target is None:
            if scope == "room":
                target = (
                    case.room_id
                    if case.target_type == "event"
                    else case.target
                    if case.target_type == "room"
                    else None
                )
            elif case.target_type in ("event", "user"):
                target = case.subject
        if target is None:
            raise InvalidRequest(
                f"{field}.target",
                f"this case is about a {case.target_type}; name the {scope} to "
                f"sanction in '{field}.target'",
            )
        sigil = "!" if scope == "room" else "@"
        # Room v12 room ids carry no server part; user ids always do.
        if not target.startswith(sigil) or (scope == "user" and ":" not in target):
            raise InvalidRequest(
                f"{field}.target",
                f"'{field}.target' must be a {scope} id starting with '{sigil}' "
                f"for '{spec.action}'",
            )
        if spec.action in NEEDS_DURATION and spec.duration_ms is None:
            raise InvalidRequest(
                f"{field}.duration",
                f"'{spec.action}' needs a 'duration' such as '24h' or '7d'",
            )
        if spec.action in NEEDS_AMOUNT and spec.amount is None:
            raise InvalidRequest(
                f"{field}.amount", f"'{spec.action}' needs an 'amount' of credit points"
            )
        return SanctionRequest(
            action=spec.action,
            target=target,
            reason=spec.reason or note,
            duration_ms=spec.duration_ms,
            deadline_ms=spec.deadline_ms,
            amount=spec.amount,
        )

    async def deliver(self, case_id: int | None = None) -> tuple[list[str], list[str]]:
        """Send the outcome notices owed (of one case, or of all); each goes
        out at most once, claimed before it is sent. Answers who was
        reached and who could not be."""
        now = self._now_ms()
        due = await self._notices.notices_due(
            MAX_NOTICE_ATTEMPTS,
            now - CLAIM_STALE_MS,
            50,
            case_id,
            created_before_ms=None if case_id is not None else now - OWN_DELIVERY_MS,
        )
        sent: list[str] = []
        failed: list[str] = []
        cases: dict[int, CaseRow | None] = {}
        for notice in due:
            if notice.case_id not in cases:
                cases[notice.case_id] = await self._cases.get(notice.case_id)
            case = cases[notice.case_id]
            if case is None or not await self._notices.claim_notice(
                notice.case_id, notice.user_id, now, now - CLAIM_STALE_MS
            ):
                continue
            text = outcome_notice(case, format_case_id(case.id), self._language)
            try:
                await self._notifier.send_dm(notice.user_id, text)
            except Exception as e:
                logger.warning(
                    "outcome of %s to %s failed (attempt %d): %s",
                    format_case_id(case.id),
                    notice.user_id,
                    notice.attempts + 1,
                    e,
                )
                await self._notices.notice_done(notice.case_id, notice.user_id, None)
                failed.append(notice.user_id)
                continue
            await self._notices.notice_done(
                notice.case_id, notice.user_id, self._now_ms()
            )
            sent.append(notice.user_id)
        return sent, failed

"""The complaint channel (E1-E4): intake from every door, the admins'
queue, assignment and closing, appeals. Decisions live in `decisions.py`.

Every report becomes a case or joins the open case of its target. People
report through Element (Synapse's report endpoints, collected by
`collect`), through the module's `POST /v1/complaints`, and the content
filter's `review` hits arrive through `open_case`. Appeals against
sanctions are cases too, decided by a human like any other.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.complaints.appeals import appeal_report, check_appeal
from synapse_groupreg.complaints.decisions import (
    DecisionDesk,
    DecisionResult,
    Notifier,
    SanctionSpec,
)
from synapse_groupreg.complaints.errors import (
    CaseNotFound,
    InvalidRequest,
    Refused,
    WorkflowError,
)
from synapse_groupreg.complaints.model import (
    APPEAL,
    COMPLAINT,
    SYSTEM_REPORTER,
    TARGET_TYPES,
    Clock,
    IntakeRules,
    case_json,
    format_case_id,
    human_duration,
    next_status,
    own_json,
    parse_case_id,
)
from synapse_groupreg.complaints.sanctions import SanctionGateway
from synapse_groupreg.config import Language
from synapse_groupreg.config.complaints import ComplaintsConfig
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.complaint_intake import (
    IntakeResult,
    IntakeStore,
    NewReport,
    ReportSource,
)
from synapse_groupreg.store.complaint_notices import OutcomeNoticeStore
from synapse_groupreg.store.complaint_rows import CaseCounts, CaseFilter, CaseRow
from synapse_groupreg.store.complaints import ComplaintStore
from synapse_groupreg.store.content_reports import CONTENT_SOURCE
from synapse_groupreg.store.synapse_reports import SYNAPSE_SOURCES

logger = logging.getLogger(__name__)

#: Sources a caller of `open_case` may name (Synapse's own reports come in
#: through `collect`, appeals through `appeal`).
OPEN_CASE_SOURCES = ("api", "content")


class ComplaintService:
    """Args:
    config: the `complaints:` section.
    cases, intake, outcome_notices: the SQL behind it.
    audit: where every opening, assignment and decision is recorded.
    notifier: the notice bot, which tells reporters the outcome.
    language: the language of those messages.
    now_ms: the clock.
    sanctions: the sanctions concern, None until it is loaded.
    """

    def __init__(
        self,
        config: ComplaintsConfig,
        cases: ComplaintStore,
        intake: IntakeStore,
        outcome_notices: OutcomeNoticeStore,
        audit: AuditLog,
        notifier: Notifier,
        language: Language,
        now_ms: Clock,
        sanctions: SanctionGateway | None = None,
    ) -> None:
        self.config = config
        self.rules = IntakeRules(config)
        self._cases = cases
        self._intake = intake
        self._notices = outcome_notices
        self._audit = audit
        self._now_ms = now_ms
        self.sanctions = sanctions
        self.sources: list[ReportSource] = [*SYNAPSE_SOURCES, CONTENT_SOURCE]
        self._desk = DecisionDesk(
            cases, outcome_notices, audit, notifier, language, now_ms, sanctions
        )

    def now_ms(self) -> int:
        return self._now_ms()

    # -- intake -------------------------------------------------------------------

    async def open_case(
        self,
        source: str,
        target_type: str,
        target: str,
        category: str,
        reporter: str,
        evidence: Mapping[str, Any] | None = None,
        *,
        reason: str | None = None,
        room_id: str | None = None,
        subject: str | None = None,
        ts: int | None = None,
        source_id: int | None = None,
    ) -> IntakeResult:
        """Open a case, or fold the report into its target's open case.

        The intake every door but Synapse's own shares; the content filter
        calls it with source `content` and reporter `system` for a `review`
        hit. People (any other reporter) are bound by the rate.

        Raises:
            InvalidRequest: an unknown source or target type.
            Refused: COMPLAINT_LIMIT, the reporter is over the rate.
        """
        if source not in OPEN_CASE_SOURCES:
            raise InvalidRequest(
                "source", f"'source' must be one of: {', '.join(OPEN_CASE_SOURCES)}"
            )
        if target_type not in TARGET_TYPES:
            raise InvalidRequest(
                "target_type",
                f"'target_type' must be one of: {', '.join(TARGET_TYPES)}",
            )
        report = NewReport(
            kind=COMPLAINT,
            source=source,
            target_type=target_type,
            target=target,
            category=category,
            reporter=reporter,
            ts=ts if ts is not None else self._now_ms(),
            reason=reason,
            room_id=room_id,
            subject=subject,
            evidence=dict(evidence or {}),
            source_id=source_id,
            rated=reporter != SYSTEM_REPORTER,
        )
        result = await self._intake.intake(report, self.rules)
        if result.case_id is None:
            raise Refused(
                Refusal(
                    Reason.COMPLAINT_LIMIT,
                    {
                        "limit": self.config.rate_reports,
                        "window": human_duration(self.config.rate_window_ms),
                    },
                )
            )
        await self._record_intake(result)
        return result

    async def collect(self) -> int:
        """Take in what arrived in Synapse's report tables (and any other
        polled source) since the last run; answers how many reports."""
        taken = 0
        for source in self.sources:
            more = True
            while more:
                results, more = await self._intake.collect(
                    source, self.rules, self.config.report_category, self._now_ms()
                )
                for result in results:
                    await self._record_intake(result)
                taken += len(results)
        return taken

    async def _record_intake(self, result: IntakeResult) -> None:
        report, plan = result.report, result.plan
        assert result.case_id is not None
        action = "open" if plan.action == "open" else "fold"
        actor = SYSTEM if report.reporter == SYSTEM_REPORTER else report.reporter
        await self._audit.record(
            actor,
            f"{report.kind}.{action}",
            format_case_id(result.case_id),
            {
                "source": report.source,
                "source_id": report.source_id,
                "target_type": report.target_type,
                "target": report.target,
                "category": report.category,
                "held": plan.over_rate,
                "released_hold": plan.release_hold,
            },
        )

    # -- appeals (E4) ---------------------------------------------------------------

    async def appeal(self, user_id: str, sanction_id: str, text: str) -> IntakeResult:
        """Appeal a sanction: a case of kind `appeal`, decided by an admin.

        Raises:
            InvalidRequest: no such sanction.
            Refused: the caller is not affected by it, the window has
                closed, or an appeal of it was already decided.
        """
        facts = await self.sanctions.find(sanction_id) if self.sanctions else None
        latest = (
            await self._cases.latest_for_target(APPEAL, "sanction", facts.sanction_id)
            if facts is not None
            else None
        )
        now = self._now_ms()
        facts = check_appeal(sanction_id, facts, user_id, now, latest)
        result = await self._intake.intake(
            appeal_report(facts, user_id, text, now), self.rules
        )
        await self._record_intake(result)
        return result

    # -- the queue --------------------------------------------------------------------

    async def case(self, label: str) -> CaseRow:
        """Raises: CaseNotFound."""
        case_id = parse_case_id(label)
        row = await self._cases.get(case_id) if case_id is not None else None
        if row is None:
            raise CaseNotFound(f"case {label!r} not found")
        return row

    async def page(
        self, where: CaseFilter, from_id: int, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        now = self._now_ms()
        rows = await self._cases.page(where, from_id, limit + 1, now)
        more = len(rows) > limit
        rows = rows[:limit]
        counts = await self._cases.report_counts([r.id for r in rows])
        views = [case_json(r, now, counts.get(r.id, (0, 0))) for r in rows]
        return views, (rows[-1].id + 1 if more else None)

    async def detail(self, label: str) -> dict[str, Any]:
        """A case with its reports, evidence, owed notices and audit trail."""
        row = await self.case(label)
        reports = await self._cases.reports(row.id)
        view = case_json(
            row, self._now_ms(), (len(reports), len({r.reporter for r in reports}))
        )
        view["evidence"] = row.evidence
        view["report_list"] = [r.to_json() for r in reports]
        view["notices"] = await self._notices.notices_of(row.id)
        trail = await self._audit.entries(1, 200, target=format_case_id(row.id))
        view["history"] = [
            {"ts": e.ts, "actor": e.actor, "action": e.action, "details": e.details}
            for e in trail
        ]
        return view

    async def own(
        self, user_id: str, from_id: int, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """The caller's own complaints and appeals, with their outcomes."""
        pairs = await self._cases.of_reporter(user_id, from_id, limit + 1)
        more = len(pairs) > limit
        pairs = pairs[:limit]
        views = [own_json(report, case) for report, case in pairs]
        return views, (pairs[-1][0].id + 1 if more else None)

    # -- workflow -------------------------------------------------------------------

    async def assign(self, label: str, assignee: str, actor: str) -> CaseRow:
        """Give a case to an admin; the first assignment acknowledges it.

        Raises:
            CaseNotFound, WorkflowError.
        """
        row = await self.case(label)
        next_status(format_case_id(row.id), row.status, "assign")
        updated = await self._cases.assign(row.id, assignee, self._now_ms())
        if updated is None:
            raise WorkflowError(
                f"{format_case_id(row.id)} was decided while it was being "
                "assigned; read it again"
            )
        await self._audit.record(
            actor,
            f"{row.kind}.assign",
            format_case_id(row.id),
            {"assignee": assignee, "previous": row.assignee},
        )
        return updated

    async def decide(
        self,
        label: str,
        actor: str,
        outcome: str,
        sanctions: list[SanctionSpec],
        note: str,
        record_violation: bool = True,
    ) -> DecisionResult:
        """Decide a case (E3, E4); see `DecisionDesk.decide`.

        Raises:
            CaseNotFound, WorkflowError, InvalidRequest.
        """
        return await self._desk.decide(
            await self.case(label), actor, outcome, sanctions, note, record_violation
        )

    async def deliver_notices(self) -> int:
        """Retry outcome notices that could not be delivered (background)."""
        sent, _ = await self._desk.deliver()
        return len(sent)

    async def counts(self) -> CaseCounts:
        return await self._cases.counts(self._now_ms())

    async def close(self, label: str, actor: str, note: str | None) -> CaseRow:
        """Close a decided case.

        Raises:
            CaseNotFound, WorkflowError.
        """
        row = await self.case(label)
        next_status(format_case_id(row.id), row.status, "close")
        closed = await self._cases.close(row.id, actor, self._now_ms())
        if closed is None:
            raise WorkflowError(
                f"{format_case_id(row.id)} was closed by someone else meanwhile"
            )
        await self._audit.record(
            actor, f"{row.kind}.close", format_case_id(row.id), {"note": note}
        )
        return closed

    # -- records -----------------------------------------------------------------

    async def records(
        self, since: int | None, until: int | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every case opened in a time range with its reports (export, F3)."""
        after = 0
        now = self._now_ms()
        while True:
            rows = await self._cases.created_between(after, 500, since, until)
            for row in rows:
                view = case_json(row, now)
                view["evidence"] = row.evidence
                view["report_list"] = [
                    r.to_json() for r in await self._cases.reports(row.id)
                ]
                yield view
            if len(rows) < 500:
                return
            after = rows[-1].id

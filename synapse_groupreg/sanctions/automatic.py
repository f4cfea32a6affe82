"""Automatic consequences (D1, D5): violations, their credit penalties, and
the threshold rules that turn repeated violations or low credit into
sanctions, all applied through `SanctionService.apply` (so each carries its
statement of reasons and audit entry, marked automated).

The entry point for other concerns is `Violations.record_violation`: the
content filter calls it for each blocked message, the complaint workflow for
each upheld complaint.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from synapse_groupreg.audit import SYSTEM
from synapse_groupreg.config.credit import CreditConfig
from synapse_groupreg.config.sanctions import AutomaticRule
from synapse_groupreg.credit import CreditChange
from synapse_groupreg.sanctions.model import (
    ROOM,
    USER,
    InvalidSanction,
    Sanction,
    SanctionOrder,
)
from synapse_groupreg.sanctions.service import SanctionService
from synapse_groupreg.sanctions.statements import display_duration
from synapse_groupreg.store.violations import ViolationRow, ViolationStore

logger = logging.getLogger(__name__)


@attrs.frozen(slots=True)
class ViolationOutcome:
    """What recording a violation led to."""

    violation: ViolationRow
    sanctions: tuple[Sanction, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.violation.to_json(),
            "sanctions": [s.to_json() for s in self.sanctions],
        }


class Violations:
    def __init__(
        self,
        credit: CreditConfig,
        rules: tuple[AutomaticRule, ...],
        store: ViolationStore,
        sanctions: SanctionService,
        now_ms: Callable[[], int],
    ) -> None:
        self._credit = credit
        self._rules = rules
        self._store = store
        self._sanctions = sanctions
        self._now_ms = now_ms
        self._say = sanctions.statements.say
        sanctions.on_credit_change(self._after_credit_change)

    async def record_violation(
        self,
        user_id: str,
        kind: str,
        evidence: Mapping[str, Any],
        *,
        room_id: str | None = None,
        penalty: int | None = None,
    ) -> ViolationOutcome:
        """Record one violation and apply what follows from it.

        Args:
            user_id: who committed it (a local user; for others it is only
                recorded).
            kind: the violation class, optionally with a detail after ':'
                (`prohibited_content:gambling`); penalties and rules match
                the class too.
            evidence: JSON facts (event id, category, case id), kept with
                the violation and the sanctions it leads to.
            room_id: where, for per-room rules.
            penalty: points to take, overriding `credit.penalties` (the
                filter passes its keyword category's `credit_penalty`).

        Returns:
            The violation, and the sanctions it led to: its own penalty
            (a lower_credit), then those of threshold rules it completed.
        """
        now = self._now_ms()
        violation = await self._store.record(
            user_id, room_id, kind, now, dict(evidence)
        )
        applied: list[Sanction] = []
        points = penalty if penalty is not None else self._credit.penalty_for(kind)
        if points > 0:
            sanction = await self._apply(
                SanctionOrder(
                    scope=USER,
                    target=user_id,
                    action="lower_credit",
                    reason=self._say(f"违规：{kind}", f"Violation: {kind}"),
                    actor=SYSTEM,
                    automated=True,
                    amount=points,
                    evidence={
                        **evidence,
                        "violation_id": violation.id,
                        "automatic_rule": f"penalty:{kind}",
                    },
                )
            )
            if sanction is not None:
                await self._store.set_sanction(violation.id, sanction.id)
                applied.append(sanction)
        for rule in self._rules:
            if not rule.counts(kind):
                continue
            subject = room_id if rule.per == ROOM else user_id
            if subject is None:
                continue
            try:
                sanction = await self._fire(rule, subject, now)
            except Exception:
                logger.exception("automatic rule %s failed for %s", rule.name, subject)
                continue
            if sanction is not None:
                applied.append(sanction)
        return ViolationOutcome(violation, tuple(applied))

    async def _fire(
        self, rule: AutomaticRule, subject: str, now: int
    ) -> Sanction | None:
        assert rule.violation is not None
        fired = await self._store.fire_if_due(
            rule.name,
            "room_id" if rule.per == ROOM else "user_id",
            subject,
            rule.violation,
            rule.count,
            now - rule.within_ms,
            now,
        )
        if fired is None:
            return None
        firing_id, counted = fired
        zh_window, en_window = display_duration(rule.within_ms)
        sanction = await self._apply(
            SanctionOrder(
                scope=rule.per,
                target=subject,
                action=rule.action,
                reason=self._say(
                    f"{zh_window}内 {len(counted)} 次违规（{rule.violation}）",
                    f"{len(counted)} violations ({rule.violation}) within {en_window}",
                ),
                actor=SYSTEM,
                automated=True,
                duration_ms=rule.duration_ms,
                amount=rule.amount,
                evidence={"automatic_rule": rule.name, "violation_ids": counted},
            )
        )
        if sanction is not None:
            await self._store.set_firing_sanction(firing_id, sanction.id)
        return sanction

    async def _after_credit_change(self, change: CreditChange) -> None:
        """`credit_below` rules: a score that falls under the threshold
        applies the rule's sanction (once per crossing)."""
        for rule in self._rules:
            threshold = rule.credit_below
            if threshold is None or not change.after < threshold <= change.before:
                continue
            index = await self._sanctions.in_force()
            now = self._now_ms()
            already = (
                index.admin_suspension(change.user_id, now)
                if rule.action == "suspend_admin"
                else index.creation_revocation(change.user_id, now)
            )
            if already is not None:
                continue
            await self._apply(
                SanctionOrder(
                    scope=USER,
                    target=change.user_id,
                    action=rule.action,
                    reason=self._say(
                        f"信用分降至 {change.after}，低于 {threshold}",
                        f"Credit fell to {change.after}, below {threshold}",
                    ),
                    actor=SYSTEM,
                    automated=True,
                    duration_ms=rule.duration_ms,
                    evidence={"automatic_rule": rule.name, "credit": change.after},
                )
            )

    async def _apply(self, order: SanctionOrder) -> Sanction | None:
        try:
            return await self._sanctions.apply(order)
        except InvalidSanction as e:
            # A remote user, a room gone: the violation stays on record.
            logger.info(
                "automatic %s on %s not applied: %s", order.action, order.target, e
            )
            return None

    async def page(
        self, user_id: str | None, room_id: str | None, from_id: int, limit: int
    ) -> tuple[list[ViolationRow], int | None]:
        rows = await self._store.page(user_id, room_id, from_id, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (rows[-1].id + 1 if more else None)


class FilterViolations:
    """The content filter's credit hook (`content.hits.CreditPenalties`):
    each refused publication is a violation `prohibited_content:<category>`
    whose penalty is the category's `credit_penalty`, and which counts
    toward the threshold rules."""

    def __init__(self, violations: Violations) -> None:
        self._violations = violations

    async def penalise(
        self, user_id: str, points: int, reason: str, evidence: Mapping[str, Any]
    ) -> None:
        category = evidence.get("category")
        kind = f"prohibited_content:{category}" if category else "prohibited_content"
        room_id = evidence.get("room_id")
        await self._violations.record_violation(
            user_id,
            kind,
            {**evidence, "filter": reason},
            room_id=room_id if isinstance(room_id, str) else None,
            penalty=points,
        )

"""The complaint workflow's way into the sanctions concern (D1-D5, E3, E4):
`SanctionGateway` over `SanctionService` and `Violations`.

Decisions apply sanctions as the admin who decided (not automated), with
the case as evidence; an upheld complaint about a message or a user is
also a violation of its subject, which costs credit and counts toward the
threshold rules; a reversed appeal lifts the sanction as a reversal, which
gives back the credit it took. Each of those sends the affected their
statement and writes its audit entry inside the sanctions concern.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synapse_groupreg.complaints.sanctions import (
    SanctionFacts,
    SanctionRefused,
    SanctionRequest,
)
from synapse_groupreg.sanctions.automatic import Violations
from synapse_groupreg.sanctions.model import (
    InvalidSanction,
    Sanction,
    SanctionOrder,
    parse_id,
)
from synapse_groupreg.sanctions.service import SanctionService

#: The sanctions service names a target by its kind; a decision's sanction
#: calls it `target` whatever it is.
_FIELDS = {"user_id": "target", "room_id": "target"}


class DisciplineGateway:
    """Args:
    sanctions: the one path every sanction takes.
    violations: violations and their automatic consequences.
    appeal_window_ms: `sanctions.appeal.window`, how long after a sanction
        an appeal is accepted (the same window its statement announces).
    """

    def __init__(
        self,
        sanctions: SanctionService,
        violations: Violations,
        appeal_window_ms: int,
    ) -> None:
        self._sanctions = sanctions
        self._violations = violations
        self._appeal_window_ms = appeal_window_ms

    def _facts(self, sanction: Sanction) -> SanctionFacts:
        row = sanction.row
        appeal_until = row.created_ts + self._appeal_window_ms
        return SanctionFacts(
            sanction_id=sanction.sanction_id,
            action=row.action,
            target=row.target,
            created_ts=row.created_ts,
            status=sanction.status,
            affected=tuple(sanction.affected),
            appeal_until_ts=appeal_until,
            appeal_until_text=self._sanctions.statements.time(appeal_until),
        )

    async def apply(
        self, request: SanctionRequest, actor: str, evidence: Mapping[str, Any]
    ) -> SanctionFacts:
        order = SanctionOrder(
            scope=request.scope,
            target=request.target,
            action=request.action,
            reason=request.reason,
            actor=actor,
            automated=False,
            duration_ms=request.duration_ms,
            deadline_ms=request.deadline_ms,
            amount=request.amount,
            evidence=dict(evidence),
        )
        try:
            sanction = await self._sanctions.apply(order)
        except InvalidSanction as e:
            raise SanctionRefused(_FIELDS.get(e.field, e.field), e.message) from None
        return self._facts(sanction)

    async def reverse(self, sanction_id: str, actor: str, reason: str) -> SanctionFacts:
        number = parse_id(sanction_id)
        if number is None:
            raise SanctionRefused("sanction_id", f"{sanction_id!r} is no sanction id")
        try:
            sanction = await self._sanctions.reverse(number, actor, reason)
        except LookupError:
            raise SanctionRefused(
                "sanction_id", f"there is no sanction {sanction_id}"
            ) from None
        except InvalidSanction as e:
            raise SanctionRefused(e.field, e.message) from None
        return self._facts(sanction)

    async def find(self, sanction_id: str) -> SanctionFacts | None:
        number = parse_id(sanction_id)
        if number is None:
            return None
        sanction = await self._sanctions.get(number)
        return self._facts(sanction) if sanction is not None else None

    async def record_violation(
        self,
        user_id: str,
        kind: str,
        evidence: Mapping[str, Any],
        room_id: str | None,
        penalty: int | None,
    ) -> list[SanctionFacts]:
        outcome = await self._violations.record_violation(
            user_id, kind, evidence, room_id=room_id, penalty=penalty
        )
        return [self._facts(s) for s in outcome.sanctions]

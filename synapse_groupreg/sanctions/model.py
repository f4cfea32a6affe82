"""What a sanction is, as the service, the API and the complaint workflow
see it (D2, D3, D5)."""

from __future__ import annotations

from typing import Any

import attrs

from synapse_groupreg.config.sanctions import ROOM_ACTIONS, USER_ACTIONS
from synapse_groupreg.store.sanctions import SanctionRow

ROOM = "room"
USER = "user"

#: Actions that last (and may have an expiry); the others act once.
LASTING = ("suspend_posting", "close", "suspend_admin", "revoke_creation")
#: Actions that must be given a duration.
NEEDS_DURATION = ("suspend_posting", "suspend_admin")
#: A closed group stays closed: its members are gone and its code retired.
NOT_LIFTABLE = ("close",)

__all__ = [
    "LASTING",
    "NEEDS_DURATION",
    "NOT_LIFTABLE",
    "ROOM",
    "ROOM_ACTIONS",
    "USER",
    "USER_ACTIONS",
    "InvalidSanction",
    "Sanction",
    "SanctionOrder",
    "format_id",
    "parse_id",
]


class InvalidSanction(Exception):
    """A sanction cannot be applied or lifted as asked; `field` names the
    request field to blame (the HTTP layer answers 400 naming it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def format_id(sanction_id: int) -> str:
    """Sanction ids read `S17` wherever people see them."""
    return f"S{sanction_id}"


def parse_id(text: str) -> int | None:
    """17 from `S17` (or `17`); None if it is no sanction id."""
    digits = text[1:] if text[:1] in ("S", "s") else text
    ok = digits.isascii() and digits.isdigit() and len(digits) < 19
    return int(digits) if ok else None


@attrs.frozen(slots=True)
class SanctionOrder:
    """A sanction to apply: what an admin, a threshold or a complaint
    decision asks for. `duration_ms` and `deadline_ms` are relative."""

    scope: str
    target: str
    action: str
    reason: str
    actor: str
    automated: bool = False
    duration_ms: int | None = None
    deadline_ms: int | None = None
    amount: int | None = None
    #: The rule cited; None cites the configured rule of the action.
    rule: str | None = None
    evidence: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(slots=True)
class Sanction:
    """A sanction as recorded, with its state at `now`."""

    row: SanctionRow
    status: str  # active | expired | lifted | done
    affected: tuple[str, ...] = ()

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def sanction_id(self) -> str:
        return format_id(self.row.id)

    @classmethod
    def at(
        cls, row: SanctionRow, now_ms: int, affected: tuple[str, ...] = ()
    ) -> Sanction:
        if row.lifted_ts is not None:
            status = "lifted"
        elif row.action not in LASTING:
            status = "done"
        elif row.expires_ts is not None and now_ms >= row.expires_ts:
            status = "expired"
        else:
            status = "active"
        return cls(row, status, affected)

    def to_json(self) -> dict[str, Any]:
        row = self.row
        return {
            "sanction_id": self.sanction_id,
            "scope": row.scope,
            "target": row.target,
            "action": row.action,
            "status": self.status,
            "reason": row.reason,
            "rule": row.rule,
            "automated": row.automated,
            "actor": row.actor,
            "created_ts": row.created_ts,
            "expires_ts": row.expires_ts,
            "deadline_ts": row.deadline_ts,
            "amount": row.amount,
            "evidence": row.evidence,
            "details": row.details,
            "lifted_ts": row.lifted_ts,
            "lifted_by": row.lifted_by,
            "lift_reason": row.lift_reason,
            "reversed": row.reversed,
            "affected": list(self.affected),
        }

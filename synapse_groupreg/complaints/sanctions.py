"""What the complaint workflow needs of the sanctions concern (D1-D5).

A decision applies sanctions and records the violation it found; an
appeal's reversal lifts a sanction. All of it goes through the one path
every sanction takes (statements of reasons, credit, audit), so the
complaint code only names what it wants done. This protocol is that
contract; `complaints/discipline.py` adapts the sanctions service to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from synapse_groupreg.config.sanctions import ROOM_ACTIONS, USER_ACTIONS
from synapse_groupreg.sanctions.model import NEEDS_DURATION

__all__ = [
    "NEEDS_AMOUNT",
    "NEEDS_DURATION",
    "ROOM_ACTIONS",
    "USER_ACTIONS",
    "SanctionFacts",
    "SanctionGateway",
    "SanctionRefused",
    "SanctionRequest",
    "scope_of",
]

#: The action that needs an amount (credit points).
NEEDS_AMOUNT = ("lower_credit",)


def scope_of(action: str) -> str:
    return "room" if action in ROOM_ACTIONS else "user"


@attrs.frozen(slots=True)
class SanctionRequest:
    """One sanction a decision asks for, its target resolved."""

    action: str
    target: str
    reason: str
    duration_ms: int | None = None
    deadline_ms: int | None = None
    amount: int | None = None

    @property
    def scope(self) -> str:
        return scope_of(self.action)


@attrs.frozen(slots=True)
class SanctionFacts:
    """A sanction as the complaint workflow sees it."""

    sanction_id: str  # "S17"
    action: str
    target: str
    created_ts: int
    status: str
    #: Who received its statement of reasons: who may appeal it.
    affected: tuple[str, ...]
    #: The last moment an appeal is accepted (E4: 180 days by default),
    #: and that moment as its statement of reasons showed it.
    appeal_until_ts: int
    appeal_until_text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "sanction_id": self.sanction_id,
            "action": self.action,
            "target": self.target,
            "created_ts": self.created_ts,
            "status": self.status,
        }


class SanctionRefused(Exception):
    """The sanctions concern refused; `field` names the request field at
    fault (`target`, `duration`, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SanctionGateway(Protocol):
    async def apply(
        self, request: SanctionRequest, actor: str, evidence: Mapping[str, Any]
    ) -> SanctionFacts:
        """Apply a sanction; the sanctions concern sends the statement of
        reasons to those affected.

        Raises:
            SanctionRefused: it cannot be applied as asked.
        """
        ...

    async def reverse(self, sanction_id: str, actor: str, reason: str) -> SanctionFacts:
        """Lift a sanction on appeal and give back what it took (credit).

        Raises:
            SanctionRefused: it cannot be reversed (a closure, or ended).
        """
        ...

    async def find(self, sanction_id: str) -> SanctionFacts | None: ...

    async def record_violation(
        self,
        user_id: str,
        kind: str,
        evidence: Mapping[str, Any],
        room_id: str | None,
        penalty: int | None,
    ) -> list[SanctionFacts]:
        """Record that `user_id` committed a violation of class `kind`; the
        sanctions concern charges its credit penalty (`penalty`, or the
        configured one for the class) and fires any threshold rule it
        completes. Answers the sanctions that followed."""
        ...

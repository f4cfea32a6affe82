"""How the complaint service says no; the HTTP layer turns each into the
answer the API promises (400 naming the field, 403 with a reason, 404, 409)."""

from __future__ import annotations

from synapse_groupreg.complaints.model import WorkflowError
from synapse_groupreg.reasons import Refusal

__all__ = ["CaseNotFound", "InvalidRequest", "Refused", "WorkflowError"]


class CaseNotFound(LookupError):
    """No case by that id (HTTP 404)."""


class InvalidRequest(ValueError):
    """Bad input; `field` names the request field (HTTP 400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Refused(Exception):
    """A rule refused the request (HTTP 403 with the refusal's reason)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason.value)
        self.refusal = refusal

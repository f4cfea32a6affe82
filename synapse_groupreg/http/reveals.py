"""Four-eyes identity reveal over HTTP (A6, G7), `/admin/v1/identities/...`.

`POST /identities/{user_id}/reveal` (in `http/identity.py`) asks; another
identity officer approves or refuses here; the requester then reads the
plaintext once with `GET /identities/reveals/{request_id}`. Every step is
audited by the service (`governance/reveals.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from synapse.api.errors import Codes, SynapseError

from synapse_groupreg.governance.reveals import (
    NotPending,
    Outcome,
    RevealRefused,
    RevealService,
)
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import JsonDict, Request, Route, invalid_param, paged
from synapse_groupreg.identity.service import Revealed
from synapse_groupreg.reasons import to_synapse_error
from synapse_groupreg.services import Services
from synapse_groupreg.store.reveals import STATUSES, RevealRow

Answer = tuple[int, JsonDict]
Handler = Callable[["RevealsApi", Request], Awaitable[Answer]]


def plaintext_json(revealed: Revealed) -> JsonDict:
    return {
        "name": revealed.name,
        "document_type": revealed.document_type,
        "document_number": revealed.document_number,
    }


def _answer_errors(handler: Handler) -> Handler:
    """The service's refusals as the API answers them."""

    async def wrapped(self: RevealsApi, request: Request) -> Answer:
        try:
            return await handler(self, request)
        except RevealRefused as e:
            raise to_synapse_error(
                e.refusal, self._s.config.language, e.fields
            ) from None
        except NotPending as e:
            raise SynapseError(
                409,
                f"Reveal request {e.row.id} is {e.row.status}, no longer pending",
                Codes.BAD_STATE,
                additional_fields={"status": e.row.status},
            ) from None
        except LookupError:
            raise SynapseError(404, "No such reveal request", Codes.NOT_FOUND) from None

    return wrapped


class RevealsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        # Before http/identity.py's routes: "{user_id}" would match "reveals".
        base = "/admin/v1/identities/reveals"
        officer = Role.IDENTITY_OFFICER
        return [
            Route("GET", base, officer, self.listing),
            Route("GET", f"{base}/{{request_id}}", officer, self.one),
            Route("POST", f"{base}/{{request_id}}/approve", officer, self.approve),
            Route("POST", f"{base}/{{request_id}}/refuse", officer, self.refuse),
        ]

    def _service(self) -> RevealService:
        governance = self._s.governance
        if governance.reveals is None:
            raise SynapseError(
                404, "Real-name identity is off on this server", Codes.NOT_FOUND
            )
        return governance.reveals

    def _request_id(self, request: Request) -> int:
        return request.path_id("request_id")

    def to_json(self, outcome: Outcome) -> JsonDict:
        return request_json(self._service(), outcome)

    @_answer_errors
    async def listing(self, request: Request) -> Answer:
        """Requests, newest first: `status` (comma-separated), `mine=true`
        (the caller's own), `user_id` (whose identity)."""
        service = self._service()
        start, limit = request.page()
        status_text = request.query("status")
        status: tuple[str, ...] = ()
        if status_text:
            status = tuple(s.strip() for s in status_text.split(",") if s.strip())
            for one in status:
                if one not in STATUSES:
                    raise invalid_param(
                        "status", f"'status' must be among: {', '.join(STATUSES)}"
                    )
        mine = request.query("mine")
        if mine not in (None, "true", "false"):
            raise invalid_param("mine", "'mine' must be true or false")
        rows = await service.page(
            start,
            limit + 1,
            status,
            requester=request.user_id if mine == "true" else None,
            user_id=request.query("user_id"),
        )
        more = len(rows) > limit
        rows = rows[:limit]
        items = [request_json(service, Outcome(r)) for r in rows]
        return 200, paged("requests", items, rows[-1].id - 1 if more else None)

    @_answer_errors
    async def one(self, request: Request) -> Answer:
        """The request; its requester reads the plaintext once, approved
        and in time (the answer then holds `identity`)."""
        outcome = await self._service().read(self._request_id(request), request.user_id)
        return 200, self.to_json(outcome)

    @_answer_errors
    async def approve(self, request: Request) -> Answer:
        outcome = await self._service().approve(
            self._request_id(request), request.user_id
        )
        return 200, self.to_json(outcome)

    @_answer_errors
    async def refuse(self, request: Request) -> Answer:
        reason = request.json().required_string("reason").strip()
        if not reason:
            raise invalid_param("reason", "'reason' must say why it is refused")
        outcome = await self._service().refuse(
            self._request_id(request), request.user_id, reason
        )
        return 200, self.to_json(outcome)


def request_json(service: RevealService, outcome: Outcome) -> JsonDict:
    row: RevealRow = outcome.row
    answer: dict[str, Any] = {
        "request_id": row.id,
        "user_id": row.user_id,
        "requester": row.requester,
        "reason": row.reason,
        "status": row.status,
        "approvals_needed": row.approvals_needed,
        "approvers": list(row.approvers),
        "statement": row.statement and service.config.notify_subject,
        "created_ts": row.created_ts,
        "decided_ts": row.decided_ts,
        "refused_by": row.refused_by,
        "refusal": row.refusal,
        "read_ts": row.read_ts,
        "expired_ts": row.expired_ts,
        "expires_ts": service.deadline(row),
    }
    if outcome.revealed is not None:
        answer["identity"] = plaintext_json(outcome.revealed)
    return answer

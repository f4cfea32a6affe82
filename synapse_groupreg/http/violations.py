"""Violations over HTTP: record one (tools, tests, other servers' reports
turned into decisions) and list them (D1, D5 automatic consequences)."""

from __future__ import annotations

from typing import Any

from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import Request, Route, invalid_param, paged
from synapse_groupreg.http.sanctions import object_field
from synapse_groupreg.services import Services

Answer = tuple[int, dict[str, Any]]


class ViolationsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/admin/v1/violations", Role.MODERATOR, self.record),
            Route("GET", "/admin/v1/violations", Role.MODERATOR, self.listing),
        ]

    async def record(self, request: Request) -> Answer:
        """Record a violation; its penalty and any threshold it completes
        apply as automated sanctions."""
        body = request.json()
        user_id = body.required_string("user_id")
        if not user_id.startswith("@") or ":" not in user_id:
            raise invalid_param("user_id", f"'{user_id}' is not a user id")
        kind = body.required_string("kind")
        if not kind.strip():
            raise invalid_param("kind", "'kind' must name the violation class")
        room_id = body.string("room_id", required=False)
        if room_id is not None and not room_id.startswith("!"):
            raise invalid_param("room_id", f"'{room_id}' is not a room id")
        penalty = body.integer(
            "penalty", required=False, minimum=0, maximum=self._s.config.credit.maximum
        )
        evidence = object_field(body, "evidence")
        outcome = await self._s.violations.record_violation(
            user_id, kind, evidence, room_id=room_id, penalty=penalty
        )
        await self._s.audit.record(
            request.user_id,
            "violation.record",
            user_id,
            {
                "violation_id": outcome.violation.id,
                "kind": kind,
                "room_id": room_id,
                "sanctions": [s.sanction_id for s in outcome.sanctions],
            },
        )
        return 200, outcome.to_json()

    async def listing(self, request: Request) -> Answer:
        start, limit = request.page()
        rows, next_from = await self._s.violations.page(
            request.query("user_id"), request.query("room_id"), start, limit
        )
        return 200, paged("violations", [r.to_json() for r in rows], next_from)

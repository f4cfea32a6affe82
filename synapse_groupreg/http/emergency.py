"""Emergency measures over HTTP (D6): POST /admin/v1/emergency."""

from __future__ import annotations

from typing import Any

from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import Body, Request, Route, invalid_param
from synapse_groupreg.http.sanctions import duration_field
from synapse_groupreg.sanctions.emergency import ACTIONS, EmergencyOrder
from synapse_groupreg.sanctions.model import InvalidSanction
from synapse_groupreg.services import Services


class EmergencyApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [Route("POST", "/admin/v1/emergency", Role.MODERATOR, self.run)]

    async def run(self, request: Request) -> tuple[int, dict[str, Any]]:
        """Suspend or close every open group matching a class, category or
        keywords; a dry run (the default) only lists them."""
        body = request.json()
        action = body.required_string("action", ACTIONS)
        raw_match = body.value.get("match")
        if not isinstance(raw_match, dict):
            raise invalid_param("match", "'match' must be an object")
        match = Body(raw_match)
        dry_run = body.flag("dry_run", True)
        order = EmergencyOrder(
            action=action,
            reason=body.required_string("reason"),
            actor=request.user_id,
            duration_ms=duration_field(body, "duration"),
            room_class=match.string("class", required=False),
            category=match.string("category", required=False),
            keywords=tuple(match.string_list("keywords", required=False) or ()),
            keyword_category=match.string("keyword_category", required=False),
            dry_run=dry_run,
        )
        try:
            answer = await self._s.emergency.run(order)
        except InvalidSanction as e:
            raise invalid_param(e.field, e.message) from None
        return 200, answer

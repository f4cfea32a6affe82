"""The admin API, `/_synapse/client/groupreg/admin/v1` (server admins only)."""

from __future__ import annotations

from typing import Any

from synapse_groupreg.http.base import Request, Route, paged
from synapse_groupreg.services import Services


class AdminApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/admin/v1/audit", "admin", self.audit),
            Route("GET", "/admin/v1/audit/verify", "admin", self.audit_verify),
        ]

    async def audit(self, request: Request) -> tuple[int, dict[str, Any]]:
        """Entries from `from` (a seq), oldest first; filter by actor,
        action (or an action prefix ending in '.') and target."""
        start, limit = request.page()
        entries = await self._s.audit.entries(
            max(start, 1),
            limit + 1,
            actor=request.query("actor"),
            action=request.query("action"),
            target=request.query("target"),
        )
        more = len(entries) > limit
        entries = entries[:limit]
        return 200, paged(
            "entries",
            [e.to_json() for e in entries],
            entries[-1].seq + 1 if more else None,
        )

    async def audit_verify(self, request: Request) -> tuple[int, dict[str, Any]]:
        """Recompute the whole chain; `first_bad` names the first broken entry."""
        result = await self._s.audit.verify()
        return 200, result.to_json()

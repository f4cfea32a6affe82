"""The admin API, `/_synapse/client/groupreg/admin/v1` (server admins only)."""

from __future__ import annotations

from typing import Any

from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import Request, Route, invalid_param, paged
from synapse_groupreg.services import Services


class AdminApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/admin/v1/audit", Role.AUDITOR, self.audit),
            Route("GET", "/admin/v1/audit/verify", Role.AUDITOR, self.audit_verify),
            Route("POST", "/admin/v1/notices", Role.MODERATOR, self.send_notice),
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
        """Recompute the whole chain and check it against every signed
        checkpoint in every copy (F1); `problems` names each thing found,
        `first_bad` the earliest entry concerned."""
        verdict = await self._s.governance.checkpoints.verify()
        return 200, verdict.to_json()

    async def send_notice(self, request: Request) -> tuple[int, dict[str, Any]]:
        """Have the notice bot write to a user (direct chat) or a room it is in."""
        body = request.json()
        text = body.required_string("body")
        user_id = body.string("user_id", required=False)
        room_id = body.string("room_id", required=False)
        if (user_id is None) == (room_id is None):
            raise invalid_param(
                "user_id", "give exactly one of 'user_id' and 'room_id'"
            )
        notices = self._s.notices
        if user_id is not None:
            event_id = await notices.send_dm(user_id, text)
        else:
            assert room_id is not None
            event_id = await notices.send_to_room(room_id, text)
        await self._s.audit.record(
            request.user_id,
            "notice.send",
            user_id or room_id or "",
            {"event_id": event_id},
        )
        return 200, {"event_id": event_id}

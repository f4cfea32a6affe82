"""Records for inspection (F2): the network log, read by server admins."""

from __future__ import annotations

import json
from typing import Any

from synapse.api.errors import Codes, SynapseError

from synapse_groupreg.http.base import Request, Route, paged
from synapse_groupreg.services import Services


class RecordsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [Route("GET", "/admin/v1/logs", "admin", self.network_log)]

    async def network_log(self, request: Request) -> tuple[int, dict[str, Any]]:
        """Network log entries, oldest first, filtered by user, room, kind
        and time (`since` inclusive, `until` exclusive, ms)."""
        if self._s.netlog is None:
            raise SynapseError(
                404, "The network log is off (logs.network)", Codes.NOT_FOUND
            )
        await self._s.netlog.flush()
        start, limit = request.page()
        rows = await self._s.store.netlog.page(
            start,
            limit + 1,
            user_id=request.query("user_id"),
            room_id=request.query("room_id"),
            kind=request.query("kind"),
            since=request.query_int("since", 0) or None,
            until=request.query_int("until", 0) or None,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        entries = [
            {
                "id": entry_id,
                "ts": row.ts,
                "kind": row.kind,
                "user_id": row.user_id,
                "room_id": row.room_id,
                "event_id": row.event_id,
                "target": row.target,
                "ip": row.ip,
                "user_agent": row.user_agent,
                "details": json.loads(row.details),
            }
            for entry_id, row in rows
        ]
        return 200, paged("entries", entries, rows[-1][0] + 1 if more else None)

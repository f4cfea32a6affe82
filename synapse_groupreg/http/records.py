"""Records for inspection (F2): the network log, read by server admins."""

from __future__ import annotations

from typing import Any

from synapse.api.errors import Codes, SynapseError

from synapse_groupreg import __version__, hs
from synapse_groupreg.export import ExportHeader, build_export, parse_sections
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import RawBody, Request, Route, invalid_param, paged
from synapse_groupreg.netlog import entry_json
from synapse_groupreg.services import Services


class RecordsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/admin/v1/logs", Role.AUDITOR, self.network_log),
            Route("GET", "/admin/v1/export", Role.AUDITOR, self.export),
        ]

    async def export(self, request: Request) -> tuple[int, RawBody]:
        """Signed JSONL of the sections asked for (all by default), F3."""
        try:
            sections = parse_sections(request.query("sections"), list(self._s.exports))
        except ValueError as e:
            raise invalid_param("sections", str(e)) from None
        since = request.query_int("since", 0) or None
        until = request.query_int("until", 0) or None
        now = self._s.api.get_current_time_msec()
        header = ExportHeader(
            server_name=self._s.api.server_name,
            generated_ts=now,
            sections=sections,
            since=since,
            until=until,
            module_version=__version__,
            audit_head=await self._s.audit.head(),
        )
        document = await build_export(
            header, self._s.exports, hs.signing_key(self._s.api)
        )
        await self._s.audit.record(
            request.user_id,
            "export.download",
            ",".join(sections),
            {"since": since, "until": until, "bytes": len(document)},
        )
        return 200, RawBody(
            document, "application/jsonl", f"groupreg-export-{now}.jsonl"
        )

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
        entries = [entry_json(entry_id, row) for entry_id, row in rows]
        return 200, paged("entries", entries, rows[-1][0] + 1 if more else None)

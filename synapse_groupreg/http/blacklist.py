"""The blacklist over HTTP (D4): list, add (or renew), remove, and exchange
as a Matrix policy list with Draupnir and Mjolnir operators."""

from __future__ import annotations

from typing import Any

from synapse_groupreg.blacklist.model import KINDS, InvalidEntry
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http import parse
from synapse_groupreg.http.base import Request, Route, invalid_param, not_found, paged
from synapse_groupreg.http.sanctions import duration_field
from synapse_groupreg.services import Services
from synapse_groupreg.store.blacklist import EntryFilter

Answer = tuple[int, dict[str, Any]]


class BlacklistApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        # The policy routes come first: `policy` is no entry id.
        return [
            Route(
                "GET", "/admin/v1/blacklist/policy", Role.MODERATOR, self.export_policy
            ),
            Route(
                "POST", "/admin/v1/blacklist/policy", Role.MODERATOR, self.import_policy
            ),
            Route("GET", "/admin/v1/blacklist", Role.MODERATOR, self.listing),
            Route("POST", "/admin/v1/blacklist", Role.MODERATOR, self.add),
            Route("GET", "/admin/v1/blacklist/{entry_id}", Role.MODERATOR, self.one),
            Route(
                "DELETE", "/admin/v1/blacklist/{entry_id}", Role.MODERATOR, self.remove
            ),
        ]

    async def add(self, request: Request) -> Answer:
        """List a user, person, room or server; listing it again renews it."""
        body = request.json()
        kind = body.required_string("kind", KINDS)
        target = body.required_string("target")
        reason = body.required_string("reason")
        expires_in = duration_field(body, "expires_in")
        try:
            entry, created = await self._s.blacklist.add(
                kind, target, reason, request.user_id, expires_in
            )
        except InvalidEntry as e:
            raise invalid_param(e.field, e.message) from None
        return 200, {**entry, "created": created}

    def _entry_id(self, request: Request) -> int:
        return request.path_id("entry_id", "B")

    async def one(self, request: Request) -> Answer:
        entry_id = self._entry_id(request)
        entry = await self._s.blacklist.get(entry_id)
        if entry is None:
            raise not_found(f"blacklist entry B{entry_id}")
        return 200, entry

    async def remove(self, request: Request) -> Answer:
        entry_id = self._entry_id(request)
        reason = request.query("reason")
        if request.body_bytes().strip():
            reason = request.json().string("reason", required=False) or reason
        try:
            entry = await self._s.blacklist.remove(
                entry_id,
                request.user_id,
                reason or f"removed by the server administrator {request.user_id}",
            )
        except LookupError:
            raise not_found(f"blacklist entry B{entry_id} in force") from None
        return 200, entry

    async def listing(self, request: Request) -> Answer:
        """Entries, oldest first; `expiring_within=30d` lists those due for
        review (in force, ending within that time)."""
        kind = request.query("kind")
        if kind is not None and kind not in KINDS:
            raise invalid_param("kind", f"'kind' must be one of: {', '.join(KINDS)}")
        status = request.query("status")
        if status not in (None, "active", "ended"):
            raise invalid_param("status", "'status' must be one of: active, ended")
        within = request.query("expiring_within")
        expiring_before = None
        if within is not None:
            expiring_before = self._s.blacklist.now_ms() + parse.parse_duration(
                "expiring_within", within
            )
        where = EntryFilter(
            kind=kind,
            target=request.query("target"),
            status=status,
            expiring_before=expiring_before,
        )
        start, limit = request.page()
        entries, next_from = await self._s.blacklist.page(where, start, limit)
        return 200, paged("entries", entries, next_from)

    async def export_policy(self, request: Request) -> Answer:
        """The entries in force as m.policy.rule.* state events (m.ban)."""
        answer = await self._s.blacklist.export_policy()
        await self._s.audit.record(
            request.user_id,
            "blacklist.export",
            "policy",
            {"rules": len(answer["events"])},
        )
        return 200, answer

    async def import_policy(self, request: Request) -> Answer:
        """Import a policy list's ban rules (the state events of its room)."""
        body = request.json()
        events = body.value.get("events")
        if not isinstance(events, list):
            raise invalid_param("events", "'events' must be a list of state events")
        source = body.string("source", required=False) or "import"
        expires_in = duration_field(body, "expires_in")
        answer = await self._s.blacklist.import_policy(
            events, request.user_id, source, expires_in
        )
        await self._s.audit.record(
            request.user_id,
            "blacklist.import",
            f"policy:{source}",
            {k: answer[k] for k in ("added", "renewed", "skipped")},
        )
        return 200, answer

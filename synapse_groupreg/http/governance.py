"""Who governs (G7) and the audit log's anchors (F1) over HTTP.

`GET /admin/v1/me` tells any signed-in user which module roles they hold
(the console shows only what those allow); `GET /admin/v1/roles` shows an
owner who holds which; `/admin/v1/audit/checkpoints` lists the signed
checkpoints of the audit chain and lets an auditor anchor the head now.
"""

from __future__ import annotations

from typing import Any

from signedjson.key import encode_verify_key_base64

from synapse_groupreg.audit import AuditEntry
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import JsonDict, Request, Route, paged
from synapse_groupreg.services import Services

Answer = tuple[int, JsonDict]


class GovernanceApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        checkpoints = "/admin/v1/audit/checkpoints"
        return [
            Route("GET", "/admin/v1/me", "user", self.me),
            Route("GET", "/admin/v1/roles", Role.OWNER, self.roles),
            Route("GET", checkpoints, Role.AUDITOR, self.checkpoints),
            Route("POST", checkpoints, Role.AUDITOR, self.checkpoint_now),
        ]

    async def me(self, request: Request) -> Answer:
        """The caller's roles and what this server has switched on."""
        caller = request.caller
        assert caller is not None
        config = self._s.config
        return 200, {
            "user_id": caller.user_id,
            "server_admin": caller.is_admin,
            "roles": sorted(r.value for r in caller.roles),
            "roles_configured": self._s.governance.roles.configured,
            "features": {
                "real_name": config.real_name,
                "reveal_approvals": (
                    config.identity.reveal.approvals if config.real_name else None
                ),
                "complaints": config.complaints.enabled,
                "network_log": config.logs.network,
            },
        }

    async def roles(self, request: Request) -> Answer:
        """Who holds which role, and since which start (G7)."""
        policy = self._s.governance.roles
        since = await self._s.governance.grants.granted_since()
        holders = {
            role: [
                {"user_id": user, "since_ts": since.get((user, role))} for user in users
            ]
            for role, users in policy.holders().items()
        }
        return 200, {
            "configured": policy.configured,
            "holders": holders,
            "server_admins_hold_all": not policy.configured,
        }

    async def checkpoints(self, request: Request) -> Answer:
        """Signed checkpoints, newest first; `from` is a checkpoint number."""
        start, limit = request.page()
        service = self._s.governance.checkpoints
        found = await service.newest(limit + 1, before_n=start + 1 if start else None)
        more = len(found) > limit
        found = found[:limit]
        return 200, {
            **paged(
                "checkpoints",
                [c.to_json() for c in found],
                found[-1].n - 1 if more else None,
            ),
            "key_id": service.key_id,
            "verify_keys": {
                key_id: encode_verify_key_base64(key)
                for key_id, key in sorted(service.verify_keys.items())
            },
            "interval_ms": service.config.interval_ms,
        }

    async def checkpoint_now(self, request: Request) -> Answer:
        """Sign the chain's head now (an auditor anchoring before a review).
        The request itself is audited after it, so the next checkpoint
        covers it."""
        service = self._s.governance.checkpoints
        made = await service.write()
        written = made is not None
        if made is None:
            newest = await service.newest(1)
            made = newest[0] if newest else None
        entry: AuditEntry = await self._s.audit.record(
            request.user_id,
            "audit.checkpoint",
            str(made.n) if made is not None else "",
            {"written": written, "seq": made.seq if made is not None else 0},
        )
        answer: dict[str, Any] = {
            "written": written,
            "checkpoint": made.to_json() if made is not None else None,
            "audit_seq": entry.seq,
        }
        return 200, answer

"""Adopting an existing server, as its operator follows it (H1, H3, H4):
`GET /admin/v1/adoption` answers the progress, the report of what
enforcement would change, the refusals checks in observe mode would have
made, and the enforcement modes in force."""

from __future__ import annotations

from datetime import date
from typing import Any

from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import Request, Route
from synapse_groupreg.services import Services


class AdoptionApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [Route("GET", "/admin/v1/adoption", Role.AUDITOR, self.adoption)]

    async def adoption(self, request: Request) -> tuple[int, dict[str, Any]]:
        adoption = self._s.adoption
        config = self._s.config
        await adoption.observations.flush()
        now = self._s.api.get_current_time_msec()
        today = date.fromtimestamp(now / 1000)
        return 200, {
            "enabled": config.adoption.enabled,
            "classes": config.adoption.classes.value,
            "encrypted_rooms": config.adoption.encrypted_rooms.value,
            "progress": await adoption.job.progress(),
            "last_pass": adoption.job.last_pass or None,
            "enforcement": {
                check: mode.value
                for check, mode in config.enforcement.per_check.items()
            },
            "identity_grace_until": (
                config.identity.grace_until.isoformat()
                if config.identity.grace_until is not None
                else None
            ),
            "report": await adoption.report.build(today),
            "observed": await adoption.report.observed(),
        }

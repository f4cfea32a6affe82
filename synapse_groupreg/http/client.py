"""The client API, `/_synapse/client/groupreg/v1` (any logged-in user)."""

from __future__ import annotations

from typing import Any

from synapse_groupreg import __version__
from synapse_groupreg.http.base import Request, Route
from synapse_groupreg.services import Services


class ClientApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [Route("GET", "/v1/status", "user", self.status)]

    async def status(self, request: Request) -> tuple[int, dict[str, Any]]:
        """The module's version and profile, and the caller's standing."""
        score, band = await self._s.credit.band_of(request.user_id)
        return 200, {
            "version": __version__,
            "profile": self._s.config.profile.value,
            "user_id": request.user_id,
            "credit": score,
            "credit_band": band.name,
            "identity_level": (
                await self._s.identity_levels.level_of(request.user_id)
            ).value,
        }

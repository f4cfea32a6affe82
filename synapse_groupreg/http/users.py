"""One user as a moderator sees them (G2 console, D1-D4):
`GET /admin/v1/users/{user_id}`. Their identity level (never the identity:
that is the identity officer's, A6), whether the account exists, and the
blacklist entries that apply to them, by account and by person. Credit,
sanctions and complaints have routes of their own."""

from __future__ import annotations

from typing import Any

from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import JsonDict, Request, Route, invalid_param
from synapse_groupreg.services import Services
from synapse_groupreg.store.blacklist import EntryFilter


class UsersApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [Route("GET", "/admin/v1/users/{user_id}", Role.MODERATOR, self.one)]

    async def one(self, request: Request) -> tuple[int, JsonDict]:
        user_id = request.params["user_id"]
        if not user_id.startswith("@") or ":" not in user_id:
            raise invalid_param(
                "user_id", "'user_id' must be a user id ('@name:server')"
            )
        api = self._s.api
        local = api.is_mine(user_id)
        exists = local and await api.check_user_exists(user_id) is not None
        entries: list[dict[str, Any]] = []
        targets = [("user", user_id)]
        if self._s.identity is not None and exists:
            person = await self._s.identity.person_hash_of(user_id)
            if person is not None:
                targets.append(("person", person))
        for kind, target in targets:
            found, _ = await self._s.blacklist.page(
                EntryFilter(kind=kind, target=target), 0, 100
            )
            entries.extend(found)
        return 200, {
            "user_id": user_id,
            "local": local,
            "exists": exists,
            "bot": self._s.notices.is_bot(user_id),
            "level": (await self._s.identity_levels.level_of(user_id)).value,
            "real_name": self._s.config.real_name,
            "blacklist": entries,
        }

"""Timed mutes over HTTP (B8).

Client API, for a group's admins and platform moderators (the module role
`moderator`, which server admins hold while no roles are configured):
mute a member or the whole group, list the mutes in force, lift one. The
group's members may list them too. Admin API: a room's whole mute history,
with who muted, for moderators.
"""

from __future__ import annotations

import logging
from typing import Any

from synapse.api.errors import Codes, SynapseError

from synapse_groupreg.governance.roles import Role, covers
from synapse_groupreg.http.base import (
    Request,
    Route,
    invalid_param,
    not_found,
    paged,
)
from synapse_groupreg.mutes.model import InvalidMute, parse_duration
from synapse_groupreg.mutes.service import (
    MuteOrder,
    MuteRefused,
    NotMuted,
    check_exempt,
    check_reason,
)
from synapse_groupreg.reasons import to_synapse_error
from synapse_groupreg.services import Services
from synapse_groupreg.store.mutes import ALL

JsonDict = dict[str, Any]
logger = logging.getLogger(__name__)


def _invalid(e: InvalidMute) -> SynapseError:
    return invalid_param(e.field, e.message)


class MutesApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/rooms/{room_id}/mutes", "user", self.list_mutes),
            Route("POST", "/v1/rooms/{room_id}/mutes", "user", self.add_mute),
            Route(
                "DELETE", "/v1/rooms/{room_id}/mutes/{target}", "user", self.lift_mute
            ),
            Route(
                "GET", "/admin/v1/rooms/{room_id}/mutes", Role.MODERATOR, self.history
            ),
        ]

    def _platform(self, request: Request) -> bool:
        assert request.caller is not None
        return covers(request.caller.roles, Role.MODERATOR)

    async def _room(self, request: Request, platform: bool) -> str:
        """The room of the path: one the caller is joined to, or for a
        platform moderator any room this server has (403 / 404 otherwise,
        so outsiders learn nothing about which rooms exist)."""
        room_id = request.params["room_id"]
        membership = await self._s.matrix.membership(room_id, request.user_id)
        if membership == "join":
            return room_id
        if platform:
            if await self._s.matrix.exists(room_id):
                return room_id
            raise not_found("Room")
        raise SynapseError(403, "You are not a member of this room", Codes.FORBIDDEN)

    async def _refused(self, request: Request, room_id: str, e: MuteRefused) -> Any:
        try:
            await self._s.rooms.record_refusal(request.user_id, room_id, e.refusal)
        except Exception:
            logger.exception("could not audit a refusal of %s", request.user_id)
        return to_synapse_error(e.refusal, self._s.config.language)

    async def list_mutes(self, request: Request) -> tuple[int, JsonDict]:
        room_id = await self._room(request, self._platform(request))
        mutes = self._s.mutes
        return 200, {"mutes": [mutes.to_json(r) for r in await mutes.listing(room_id)]}

    async def add_mute(self, request: Request) -> tuple[int, JsonDict]:
        """`{user_id | all: true, duration, exempt?, reason?}`."""
        platform = self._platform(request)
        room_id = await self._room(request, platform)
        body = request.json()
        whole = body.flag("all", False)
        user_id = body.string("user_id", required=False)
        if whole == (user_id is not None):
            raise invalid_param("user_id", "give either 'user_id' or 'all': true")
        exempt = body.string_list("exempt", required=False) or []
        if exempt and not whole:
            raise invalid_param("exempt", "'exempt' goes with 'all': true")
        raw_duration = body.value.get("duration")
        if raw_duration is None:
            raise SynapseError(
                400,
                "'duration' is required",
                Codes.MISSING_PARAM,
                additional_fields={"field": "duration"},
            )
        try:
            order = MuteOrder(
                room_id=room_id,
                target=ALL if whole else str(user_id),
                duration_ms=parse_duration(raw_duration),
                reason=check_reason(body.value.get("reason")),
                exempt=check_exempt(exempt),
                actor=request.user_id,
                platform=platform,
            )
            row = await self._s.mutes.mute(order)
        except InvalidMute as e:
            raise _invalid(e) from None
        except MuteRefused as e:
            raise await self._refused(request, room_id, e) from None
        return 200, {"mute": self._s.mutes.to_json(row)}

    async def lift_mute(self, request: Request) -> tuple[int, JsonDict]:
        """`target`: a user id, or `all` for the mute of the whole group."""
        platform = self._platform(request)
        room_id = await self._room(request, platform)
        raw = request.params["target"]
        target = ALL if raw == "all" else raw
        try:
            row = await self._s.mutes.lift(room_id, target, request.user_id, platform)
        except InvalidMute as e:
            raise _invalid(e) from None
        except MuteRefused as e:
            raise await self._refused(request, room_id, e) from None
        except NotMuted:
            raise not_found("Mute in force") from None
        return 200, {"lifted": self._s.mutes.to_json(row)}

    async def history(self, request: Request) -> tuple[int, JsonDict]:
        """Every mute of the room, newest first, with who muted and lifted."""
        room_id = request.params["room_id"]
        start, limit = request.page()
        rows = await self._s.mutes.history(room_id, start, limit + 1)
        more = len(rows) > limit
        return 200, paged(
            "mutes",
            [self._s.mutes.to_json(r, with_actor=True) for r in rows[:limit]],
            start + limit if more else None,
        )

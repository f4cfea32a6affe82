"""The room registry over HTTP (B2, B4, B5, B6).

Client API: a member reads their group's registration (code, class,
category, creator, admins, member count, status); the creator asks to move
it to another class; the creator or an admin declares its category.
Admin API: the registry, searchable by code, and the queue of moves that
wait for approval.
"""

from __future__ import annotations

import logging
from typing import Any

from synapse.api.errors import Codes, SynapseError

from synapse_groupreg.config.rooms import DIRECT
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import (
    Request,
    Route,
    invalid_param,
    not_found,
    paged,
)
from synapse_groupreg.reasons import Reason, Refusal, to_synapse_error
from synapse_groupreg.rooms import codes
from synapse_groupreg.rooms.accountability import MEMBER, Accountability
from synapse_groupreg.rooms.classes import InvalidField
from synapse_groupreg.rooms.moves import MoveOutcome, Unpublished
from synapse_groupreg.services import Services
from synapse_groupreg.store.class_requests import ClassRequest
from synapse_groupreg.store.rooms import ACTIVE, RegistrySearch, RoomRow

_STATUSES = ("active", "closed", "upgraded")
_REQUEST_STATUSES = ("pending", "approved", "rejected", "superseded")
JsonDict = dict[str, Any]

logger = logging.getLogger(__name__)


class RoomsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/rooms/{room_id}", "user", self.room_info),
            Route("POST", "/v1/rooms/{room_id}/class", "user", self.ask_move),
            Route("PUT", "/v1/rooms/{room_id}/category", "user", self.set_category),
            Route("GET", "/admin/v1/rooms", Role.MODERATOR, self.admin_rooms),
            Route("GET", "/admin/v1/rooms/{room_id}", Role.MODERATOR, self.admin_room),
            Route(
                "POST",
                "/admin/v1/rooms/{room_id}/class",
                Role.MODERATOR,
                self.admin_move,
            ),
            Route(
                "GET", "/admin/v1/class-requests", Role.MODERATOR, self.class_requests
            ),
            Route(
                "POST",
                "/admin/v1/class-requests/{request_id}",
                Role.MODERATOR,
                self.decide_request,
            ),
        ]

    # -- helpers --------------------------------------------------------------

    def _invalid(self, e: InvalidField) -> SynapseError:
        if e.reason is Reason.CLASS_UNKNOWN:
            allowed = ", ".join(self._s.config.rooms.class_names())
            return invalid_param(
                e.field, f"'{e.field}' must be one of: {allowed}", e.reason.value
            )
        return invalid_param(e.field, e.message)

    async def _refuse(self, actor: str, room_id: str, refusal: Refusal) -> SynapseError:
        try:
            await self._s.rooms.record_refusal(actor, room_id, refusal)
        except Exception:
            logger.exception("could not audit a refusal of %s", actor)
        return to_synapse_error(refusal, self._s.config.language)

    async def _not_suspended(self, actor: str, room_id: str) -> None:
        """D3: a suspended admin's admin acts through this API are refused
        as their admin events are."""
        refusal = await self._s.sanctions.admin_act_refusal(actor)
        if refusal is not None:
            raise await self._refuse(actor, room_id, refusal)

    async def _unpublished(self, actor: str, room_id: str) -> SynapseError:
        return await self._refuse(actor, room_id, Refusal(Reason.ROOM_STATE_UNWRITABLE))

    async def _registered(self, room_id: str) -> RoomRow:
        room = await self._s.rooms.room(room_id)
        if room is None:
            raise not_found("Registered room")
        return room

    async def _member_room(self, request: Request) -> RoomRow:
        """The room of the path, if the caller is joined to it (403 either
        way otherwise, so outsiders learn nothing about which rooms exist)."""
        room_id = request.params["room_id"]
        membership = await self._s.matrix.membership(room_id, request.user_id)
        if membership != "join":
            raise SynapseError(
                403, "You are not a member of this room", Codes.FORBIDDEN
            )
        return await self._registered(room_id)

    async def _info(
        self, room: RoomRow, request: Request, history: bool = False
    ) -> JsonDict:
        at = request.query_int("at", default=0, minimum=0) or None
        name, encrypted = await self._s.matrix.name_and_encryption(room.room_id)
        counts = await self._s.rooms.member_counts([room.room_id])
        roles: Accountability = self._s.roles
        when = at if at is not None else self._s.rooms.now_ms()
        holders = await roles.responsible_at(room.room_id, when)
        info: JsonDict = {
            **room.to_json(),
            "name": name,
            "encrypted": encrypted,
            "member_count": counts.get(room.room_id, 0),
            "at": when,
            "admins": [h.to_json() for h in holders],
            "your_role": roles.role_of(request.user_id, holders),
        }
        if history:
            info["admin_history"] = [
                h.to_json() for h in await roles.history(room.room_id)
            ]
        return info

    # -- client API -----------------------------------------------------------

    async def room_info(self, request: Request) -> tuple[int, JsonDict]:
        """B6: the group's registration as its members see it; `at` (ms)
        answers who was responsible then (B5)."""
        room = await self._member_room(request)
        return 200, await self._info(room, request)

    async def ask_move(self, request: Request) -> tuple[int, JsonDict]:
        """B2: the creator asks to move the group to another class."""
        room = await self._member_room(request)
        body = request.json()
        target = body.required_string("class")
        category = body.string("category", required=False)
        if room.creator != request.user_id:
            raise SynapseError(
                403, "Only the group's creator may ask to move it", Codes.FORBIDDEN
            )
        await self._not_suspended(request.user_id, room.room_id)
        if room.room_class == DIRECT:
            raise invalid_param("class", "a direct chat has no class to move")
        if room.status != ACTIVE:
            raise await self._refuse(
                request.user_id, room.room_id, Refusal(Reason.ROOM_CLOSED)
            )
        encrypted = await self._s.matrix.encrypted(room.room_id)
        try:
            outcome = await self._s.moves.request_move(
                room, request.user_id, target, category, encrypted
            )
        except InvalidField as e:
            raise self._invalid(e) from None
        except Unpublished:
            raise await self._unpublished(request.user_id, room.room_id) from None
        if isinstance(outcome, Refusal):
            raise await self._refuse(request.user_id, room.room_id, outcome)
        return await self._outcome(outcome)

    async def admin_move(self, request: Request) -> tuple[int, JsonDict]:
        """B2, H2: a server admin moves a group to another class; the room
        must fit it (members, encryption, other servers)."""
        room = await self._registered(request.params["room_id"])
        body = request.json()
        target = body.required_string("class")
        category = body.string("category", required=False)
        if room.room_class == DIRECT:
            raise invalid_param("class", "a direct chat has no class to move")
        if room.status != ACTIVE:
            raise await self._refuse(
                request.user_id, room.room_id, Refusal(Reason.ROOM_CLOSED)
            )
        encrypted = await self._s.matrix.encrypted(room.room_id)
        try:
            outcome = await self._s.moves.admin_move(
                room, request.user_id, target, category, encrypted
            )
        except InvalidField as e:
            raise self._invalid(e) from None
        except Unpublished:
            raise await self._unpublished(request.user_id, room.room_id) from None
        if isinstance(outcome, Refusal):
            raise await self._refuse(request.user_id, room.room_id, outcome)
        return await self._outcome(outcome)

    async def _outcome(self, outcome: MoveOutcome) -> tuple[int, JsonDict]:
        if not outcome.moved:
            assert outcome.request is not None
            return 202, {
                "status": outcome.request.status,
                "request": outcome.request.to_json(),
            }
        # The move published the room's state, or did not happen (B4).
        return 200, {
            "status": "moved",
            "room": outcome.room.to_json(),
            "state_updated": True,
        }

    async def set_category(self, request: Request) -> tuple[int, JsonDict]:
        """B6: the creator or an admin declares the group's category."""
        room = await self._member_room(request)
        category = request.json().required_string("category")
        holders = await self._s.roles.responsible_at(
            room.room_id, self._s.rooms.now_ms()
        )
        if self._s.roles.role_of(request.user_id, holders) == MEMBER:
            raise SynapseError(
                403,
                "Only the group's creator or an admin may set its category",
                Codes.FORBIDDEN,
            )
        await self._not_suspended(request.user_id, room.room_id)
        try:
            updated = await self._s.moves.set_category(room, category, request.user_id)
        except InvalidField as e:
            raise self._invalid(e) from None
        except Unpublished:
            raise await self._unpublished(request.user_id, room.room_id) from None
        return 200, {"room": updated.to_json(), "state_updated": True}

    # -- admin API ------------------------------------------------------------

    async def admin_rooms(self, request: Request) -> tuple[int, JsonDict]:
        """B4: the registry with each room's name; `code` finds one room by
        its registration code; `q` searches codes, names and room ids,
        `user` the rooms a user created or is in. Direct chats and the
        notice bot's rooms are left out unless `all=true`."""
        start, limit = request.page()
        code = request.query("code")
        if code is not None:
            try:
                found = await self._s.rooms.find_by_code(code)
            except InvalidField as e:
                raise self._invalid(e) from None
            listed = []
            if found is not None:
                name, _ = await self._s.matrix.name_and_encryption(found.room_id)
                listed.append((found, name))
            more = False
        else:
            status = request.query("status")
            if status is not None and status not in _STATUSES:
                raise invalid_param("status", f"'status' must be one of: {_STATUSES}")
            show_all = request.query("all")
            if show_all not in (None, "true", "false"):
                raise invalid_param("all", "'all' must be true or false")
            text = (request.query("q") or "").strip() or None
            where = RegistrySearch(
                room_class=request.query("class"),
                status=status,
                creator=request.query("creator"),
                text=text,
                code=codes.normalise_code(text) if text else None,
                user=(request.query("user") or "").strip() or None,
                include_direct=show_all == "true",
                direct_class=DIRECT,
                exclude_creators=(
                    () if show_all == "true" else (self._s.notices.bot_user_id,)
                ),
            )
            listed = await self._s.rooms.search(start, limit + 1, where)
            more = len(listed) > limit
            listed = listed[:limit]
        counts = await self._s.rooms.member_counts([r.room_id for r, _ in listed])
        items = [
            {**r.to_json(), "name": name, "member_count": counts.get(r.room_id, 0)}
            for r, name in listed
        ]
        return 200, paged("rooms", items, start + limit if more else None)

    async def admin_room(self, request: Request) -> tuple[int, JsonDict]:
        """B5, B6: one room with its whole admin history."""
        room = await self._registered(request.params["room_id"])
        return 200, await self._info(room, request, history=True)

    async def class_requests(self, request: Request) -> tuple[int, JsonDict]:
        """B2: moves waiting for approval (or decided, by `status`)."""
        start, limit = request.page()
        status = request.query("status") or "pending"
        if status not in _REQUEST_STATUSES:
            raise invalid_param(
                "status", f"'status' must be one of: {', '.join(_REQUEST_STATUSES)}"
            )
        found = await self._s.moves.requests(status, start, limit + 1)
        more = len(found) > limit
        return 200, paged(
            "requests",
            [r.to_json() for r in found[:limit]],
            start + limit if more else None,
        )

    async def decide_request(self, request: Request) -> tuple[int, JsonDict]:
        """B2: approve (and move the room) or reject a queued move."""
        request_id = request.path_id("request_id")
        body = request.json()
        decision = body.required_string("decision", ("approve", "reject"))
        note = body.string("note", required=False)
        queued: ClassRequest | None = await self._s.moves.request(request_id)
        if queued is None:
            raise not_found("Class request")
        encrypted = await self._s.matrix.encrypted(queued.room_id)
        try:
            outcome = await self._s.moves.decide(
                queued, decision == "approve", request.user_id, note, encrypted
            )
        except Unpublished:
            raise await self._unpublished(request.user_id, queued.room_id) from None
        if outcome is None:
            raise SynapseError(
                409, "The request is no longer pending", Codes.INVALID_PARAM
            )
        if isinstance(outcome, Refusal):
            raise await self._refuse(request.user_id, queued.room_id, outcome)
        if not outcome.moved:
            return 200, {"status": "rejected"}
        return 200, {
            "status": "approved",
            "room": outcome.room.to_json(),
            "state_updated": True,
        }

"""Sanctions and credit over HTTP (D1, D2, D3, D5).

Admin: POST /admin/v1/rooms/{room_id}/sanctions, POST /admin/v1/users/
{user_id}/sanctions, DELETE /admin/v1/sanctions/{sanction_id}, listings,
GET/POST /admin/v1/users/{user_id}/credit. Client: GET /v1/credit and
GET /v1/sanctions (the caller's own).
"""

from __future__ import annotations

from typing import Any

from synapse_groupreg.config.sanctions import ROOM_ACTIONS, USER_ACTIONS
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http import parse
from synapse_groupreg.http.base import (
    Body,
    Request,
    Route,
    invalid_param,
    not_found,
    paged,
)
from synapse_groupreg.sanctions.model import (
    ROOM,
    USER,
    InvalidSanction,
    Sanction,
    SanctionOrder,
)
from synapse_groupreg.services import Services
from synapse_groupreg.store.sanctions import SanctionFilter

Answer = tuple[int, dict[str, Any]]


def duration_field(body: Body, field: str) -> int | None:
    """A duration such as "3s", "24h" or "7d", or 400 naming the field."""
    text = body.string(field, required=False)
    if text is None:
        return None
    value = parse.parse_duration(field, text)
    if value <= 0:
        raise invalid_param(field, f"'{field}' must be longer than 0")
    return value


def object_field(body: Body, field: str) -> dict[str, Any]:
    value = body.value.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_param(field, f"'{field}' must be a JSON object")
    return dict(value)


def _check_id(value: str, sigil: str, field: str) -> str:
    # Room ids of version 12 rooms have no server part; user ids always do.
    if not value.startswith(sigil) or (sigil == "@" and ":" not in value):
        raise invalid_param(field, f"'{value}' is not a valid {field}")
    return value


class SanctionsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        return [
            Route(
                "POST", "/admin/v1/rooms/{room_id}/sanctions", Role.MODERATOR, self.room
            ),
            Route(
                "GET",
                "/admin/v1/rooms/{room_id}/sanctions",
                Role.MODERATOR,
                self.of_room,
            ),
            Route(
                "POST", "/admin/v1/users/{user_id}/sanctions", Role.MODERATOR, self.user
            ),
            Route(
                "GET",
                "/admin/v1/users/{user_id}/sanctions",
                Role.MODERATOR,
                self.of_user,
            ),
            Route("GET", "/admin/v1/sanctions", Role.MODERATOR, self.listing),
            Route("GET", "/admin/v1/sanctions/{sanction_id}", Role.MODERATOR, self.one),
            Route(
                "DELETE", "/admin/v1/sanctions/{sanction_id}", Role.MODERATOR, self.lift
            ),
            Route(
                "GET",
                "/admin/v1/users/{user_id}/credit",
                Role.MODERATOR,
                self.credit_of,
            ),
            Route(
                "POST", "/admin/v1/users/{user_id}/credit", Role.MODERATOR, self.award
            ),
            Route("GET", "/v1/credit", "user", self.own_credit),
            Route("GET", "/v1/sanctions", "user", self.own_sanctions),
        ]

    # -- applying ---------------------------------------------------------------

    async def _apply(self, order: SanctionOrder) -> Answer:
        try:
            sanction = await self._s.sanctions.apply(order)
        except InvalidSanction as e:
            raise invalid_param(e.field, e.message) from None
        return 200, sanction.to_json()

    async def room(self, request: Request) -> Answer:
        """D2: warn, suspend_posting or close a group."""
        room_id = _check_id(request.params["room_id"], "!", "room_id")
        body = request.json()
        action = body.required_string("action", ROOM_ACTIONS)
        order = SanctionOrder(
            scope=ROOM,
            target=room_id,
            action=action,
            reason=body.required_string("reason"),
            actor=request.user_id,
            duration_ms=duration_field(body, "duration"),
            deadline_ms=duration_field(body, "deadline"),
            rule=body.string("rule", required=False),
            evidence=object_field(body, "evidence"),
        )
        return await self._apply(order)

    async def user(self, request: Request) -> Answer:
        """D3: lower_credit, suspend_admin or revoke_creation."""
        user_id = _check_id(request.params["user_id"], "@", "user_id")
        body = request.json()
        action = body.required_string("action", USER_ACTIONS)
        order = SanctionOrder(
            scope=USER,
            target=user_id,
            action=action,
            reason=body.required_string("reason"),
            actor=request.user_id,
            duration_ms=duration_field(body, "duration"),
            amount=body.integer("amount", required=False, minimum=1),
            rule=body.string("rule", required=False),
            evidence=object_field(body, "evidence"),
        )
        return await self._apply(order)

    async def lift(self, request: Request) -> Answer:
        """D5: lift a sanction early (any but close)."""
        sanction_id = self._sanction_id(request)
        reason = request.query("reason")
        if request.body_bytes().strip():
            reason = request.json().string("reason", required=False) or reason
        try:
            sanction = await self._s.sanctions.lift(
                sanction_id,
                request.user_id,
                reason or f"lifted by the server administrator {request.user_id}",
            )
        except LookupError:
            raise not_found(f"sanction S{sanction_id}") from None
        except InvalidSanction as e:
            raise invalid_param(e.field, e.message) from None
        return 200, sanction.to_json()

    # -- reading ----------------------------------------------------------------

    def _sanction_id(self, request: Request) -> int:
        return request.path_id("sanction_id", "S")

    async def one(self, request: Request) -> Answer:
        sanction_id = self._sanction_id(request)
        sanction = await self._s.sanctions.get(sanction_id)
        if sanction is None:
            raise not_found(f"sanction S{sanction_id}")
        return 200, sanction.to_json()

    async def _page(self, request: Request, where: SanctionFilter) -> Answer:
        start, limit = request.page()
        found, next_from = await self._s.sanctions.page(where, start, limit)
        return 200, paged("sanctions", [s.to_json() for s in found], next_from)

    def _status(self, request: Request) -> str | None:
        status = request.query("status")
        if status not in (None, "active", "ended"):
            raise invalid_param("status", "'status' must be one of: active, ended")
        return status

    async def listing(self, request: Request) -> Answer:
        """Every sanction, oldest first; filter by scope, target, action, status."""
        scope = request.query("scope")
        if scope not in (None, ROOM, USER):
            raise invalid_param("scope", "'scope' must be one of: room, user")
        action = request.query("action")
        if action is not None and action not in (*ROOM_ACTIONS, *USER_ACTIONS):
            raise invalid_param("action", f"'{action}' is not a sanction action")
        where = SanctionFilter(
            scope=scope,
            target=request.query("target"),
            action=action,
            status=self._status(request),
        )
        return await self._page(request, where)

    async def of_room(self, request: Request) -> Answer:
        room_id = _check_id(request.params["room_id"], "!", "room_id")
        where = SanctionFilter(ROOM, room_id, status=self._status(request))
        return await self._page(request, where)

    async def of_user(self, request: Request) -> Answer:
        user_id = _check_id(request.params["user_id"], "@", "user_id")
        where = SanctionFilter(USER, user_id, status=self._status(request))
        return await self._page(request, where)

    async def own_sanctions(self, request: Request) -> Answer:
        """The caller's sanctions and those of groups they answer for."""
        where = SanctionFilter(affected=request.user_id, status=self._status(request))
        start, limit = request.page()
        found, next_from = await self._s.sanctions.page(where, start, limit)
        return 200, paged("sanctions", [_public(s) for s in found], next_from)

    # -- credit -------------------------------------------------------------------

    async def _credit(self, request: Request, user_id: str) -> Answer:
        before = request.query_int("from", 0)
        limit = request.query_int("limit", 100, minimum=1, maximum=1000)
        view = await self._s.credit.view(user_id, before or None, limit)
        return 200, view.to_json()

    async def own_credit(self, request: Request) -> Answer:
        """D1: the caller's score, band and history."""
        return await self._credit(request, request.user_id)

    async def credit_of(self, request: Request) -> Answer:
        user_id = _check_id(request.params["user_id"], "@", "user_id")
        return await self._credit(request, user_id)

    async def award(self, request: Request) -> Answer:
        """D1: give points (up to the maximum); taking them is a lower_credit
        sanction, so that it carries a statement of reasons."""
        user_id = _check_id(request.params["user_id"], "@", "user_id")
        body = request.json()
        amount = body.integer(
            "amount", minimum=1, maximum=self._s.config.credit.maximum
        )
        assert amount is not None
        reason = body.required_string("reason")
        change = await self._s.credit.award(
            user_id, amount, reason, request.user_id, object_field(body, "evidence")
        )
        await self._s.audit.record(
            request.user_id,
            "credit.award",
            user_id,
            {
                "amount": amount,
                "before": change.before,
                "after": change.after,
                "reason": reason,
            },
        )
        return 200, {"user_id": user_id, "before": change.before, "after": change.after}


def _public(sanction: Sanction) -> dict[str, Any]:
    """What an affected user sees: everything but who else was told."""
    answer = sanction.to_json()
    answer.pop("affected", None)
    answer.pop("details", None)
    return answer

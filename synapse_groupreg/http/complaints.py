"""The complaint channel's routes (E1-E4).

Client API: a user files a complaint with a category, lists their own
complaints and appeals with outcomes, and appeals a sanction. Admin API:
the queue (filter by status, overdue, kind, ...), one case in full,
assignment, the decision and closing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from synapse.api.errors import Codes, SynapseError

from synapse_groupreg import hs
from synapse_groupreg.complaints.decisions import DecisionResult, SanctionSpec
from synapse_groupreg.complaints.errors import (
    CaseNotFound,
    InvalidRequest,
    Refused,
    WorkflowError,
)
from synapse_groupreg.complaints.model import (
    KINDS,
    STATUSES,
    TARGET_TYPES,
    case_json,
    format_case_id,
)
from synapse_groupreg.complaints.service import ComplaintService
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http import parse
from synapse_groupreg.http.base import (
    Body,
    Request,
    Route,
    invalid_param,
    paged,
)
from synapse_groupreg.reasons import to_synapse_error
from synapse_groupreg.services import Services
from synapse_groupreg.store.complaint_intake import IntakeResult
from synapse_groupreg.store.complaint_rows import CaseFilter

Answer = tuple[int, dict[str, Any]]

#: Longest description or appeal text accepted (Synapse caps a report's
#: reason at 1000 characters; a written complaint may say more).
MAX_TEXT = 4000

_SIGILS = {"event": "$", "room": "!", "user": "@"}
_SANCTION_FIELDS = ("action", "target", "reason", "duration", "deadline", "amount")


Handler = Callable[["ComplaintsApi", Request], Awaitable[Answer]]


def _answer_errors(handler: Handler) -> Handler:
    """Turn the complaint service's refusals into the answers the API documents."""

    async def wrapped(self: ComplaintsApi, request: Request) -> Answer:
        try:
            return await handler(self, request)
        except InvalidRequest as e:
            raise invalid_param(e.field, e.message) from None
        except CaseNotFound as e:
            raise SynapseError(404, str(e), Codes.NOT_FOUND) from None
        except WorkflowError as e:
            raise SynapseError(409, str(e), Codes.BAD_STATE) from None
        except Refused as e:
            raise to_synapse_error(e.refusal, self._s.config.language) from None

    return wrapped


def _text(body: Body, field: str, required: bool) -> str | None:
    value = body.string(field, required)
    if value is None:
        return None
    if required and not value.strip():
        raise invalid_param(field, f"'{field}' must not be empty")
    if len(value) > MAX_TEXT:
        raise invalid_param(field, f"'{field}' must be at most {MAX_TEXT} characters")
    return value


def _intake_answer(result: IntakeResult) -> Answer:
    assert result.case_id is not None
    return 200, {
        "case_id": format_case_id(result.case_id),
        "folded": result.plan.action == "fold",
    }


def _duration(value: object, field: str) -> int:
    if not isinstance(value, str):
        raise invalid_param(field, f"'{field}' must be a duration such as '24h'")
    return parse.parse_duration(field, value)


def parse_sanctions(value: object) -> list[SanctionSpec]:
    """The `sanctions` list of a decision, each error naming `sanctions[i].x`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_param("sanctions", "'sanctions' must be a list of objects")
    specs = []
    for i, item in enumerate(value):
        field = f"sanctions[{i}]"
        if not isinstance(item, Mapping):
            raise invalid_param(field, f"'{field}' must be an object")
        for key in item:
            if key not in _SANCTION_FIELDS:
                raise invalid_param(
                    f"{field}.{key}",
                    f"unknown field '{field}.{key}'; allowed: "
                    + ", ".join(_SANCTION_FIELDS),
                )
        strings: dict[str, str | None] = {}
        for key in ("action", "target", "reason"):
            text = item.get(key)
            if text is not None and not isinstance(text, str):
                raise invalid_param(
                    f"{field}.{key}", f"'{field}.{key}' must be a string"
                )
            strings[key] = text
        action = strings["action"]
        if action is None:
            raise SynapseError(
                400,
                f"'{field}.action' is required",
                Codes.MISSING_PARAM,
                additional_fields={"field": f"{field}.action"},
            )
        amount = item.get("amount")
        if amount is not None and (
            isinstance(amount, bool) or not isinstance(amount, int) or amount < 1
        ):
            raise invalid_param(
                f"{field}.amount", f"'{field}.amount' must be a positive integer"
            )
        specs.append(
            SanctionSpec(
                action=action,
                target=strings["target"],
                reason=strings["reason"],
                duration_ms=None
                if item.get("duration") is None
                else _duration(item["duration"], f"{field}.duration"),
                deadline_ms=None
                if item.get("deadline") is None
                else _duration(item["deadline"], f"{field}.deadline"),
                amount=amount,
            )
        )
    return specs


def _flag(request: Request, name: str) -> bool | None:
    text = request.query(name)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise invalid_param(name, f"'{name}' must be true or false")
    return text == "true"


class ComplaintsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        case = "/admin/v1/complaints/{case_id}"
        return [
            Route("POST", "/v1/complaints", "user", self.complain),
            Route("GET", "/v1/complaints", "user", self.own),
            Route("POST", "/v1/appeals", "user", self.appeal),
            Route("GET", "/admin/v1/complaints", Role.MODERATOR, self.queue),
            Route("GET", case, Role.MODERATOR, self.one),
            Route("POST", f"{case}/assign", Role.MODERATOR, self.assign),
            Route("POST", f"{case}/decision", Role.MODERATOR, self.decide),
            Route("POST", f"{case}/close", Role.MODERATOR, self.close),
        ]

    @property
    def _complaints(self) -> ComplaintService:
        if self._s.complaints is None:
            raise SynapseError(
                404,
                "The complaint channel is off on this server (complaints.enabled)",
                Codes.NOT_FOUND,
            )
        return self._s.complaints

    # -- client API -----------------------------------------------------------------

    @_answer_errors
    async def complain(self, request: Request) -> Answer:
        """File a complaint about an event, a room or a user (E1)."""
        complaints = self._complaints
        body = request.json()
        target_type = body.required_string("target_type", TARGET_TYPES)
        target = body.required_string("target")
        category = body.required_string("category", list(complaints.config.categories))
        description = _text(body, "description", required=False)
        sigil = _SIGILS[target_type]
        # Event ids and room v12 room ids carry no server part; user ids do.
        if not target.startswith(sigil) or (
            target_type == "user" and ":" not in target
        ):
            raise invalid_param(
                "target", f"'target' must be a {target_type} id starting with '{sigil}'"
            )
        facts = await self._target_facts(request.user_id, target_type, target)
        result = await complaints.open_case(
            "api",
            target_type,
            target,
            category,
            request.user_id,
            facts.get("evidence"),
            reason=description,
            room_id=facts.get("room_id"),
            subject=facts.get("subject"),
        )
        return _intake_answer(result)

    async def _target_facts(
        self, user_id: str, target_type: str, target: str
    ) -> dict[str, Any]:
        """Check the target exists (and, for an event, that the caller can
        see it, as Synapse's own report endpoint does); gather evidence."""
        api = self._s.api
        facts_store = self._s.store.synapse_facts
        if target_type == "event":
            event = await facts_store.event_facts(target)
            if event is None or not await hs.can_see_event(
                api, user_id, event["room_id"], target
            ):
                raise invalid_param("target", "no such event, or you cannot see it")
            room_id = event.pop("room_id")
            return {
                "room_id": room_id,
                "subject": event.get("sender"),
                "evidence": {"event": event},
            }
        if target_type == "room":
            known, creator = await facts_store.room_creator(target)
            if not known:
                raise invalid_param("target", f"this server knows no room {target}")
            return {
                "room_id": target,
                "subject": creator,
                "evidence": {"room": {"creator": creator}} if creator else {},
            }
        if api.is_mine(target) and await api.check_user_exists(target) is None:
            raise invalid_param("target", f"there is no user {target} on this server")
        return {"subject": target}

    @_answer_errors
    async def own(self, request: Request) -> Answer:
        """The caller's own complaints and appeals, with outcomes (E1, E3)."""
        start, limit = request.page()
        views, next_from = await self._complaints.own(request.user_id, start, limit)
        return 200, paged("complaints", views, next_from)

    @_answer_errors
    async def appeal(self, request: Request) -> Answer:
        """Appeal a sanction (E4)."""
        complaints = self._complaints
        body = request.json()
        sanction_id = body.required_string("sanction_id")
        text = _text(body, "text", required=True)
        assert text is not None
        result = await complaints.appeal(request.user_id, sanction_id, text)
        return _intake_answer(result)

    # -- admin API ------------------------------------------------------------------

    @_answer_errors
    async def queue(self, request: Request) -> Answer:
        """Cases, oldest first, filtered (E2)."""
        statuses = None
        status_text = request.query("status")
        if status_text is not None:
            statuses = tuple(s.strip() for s in status_text.split(",") if s.strip())
            for status in statuses:
                if status not in STATUSES:
                    raise invalid_param(
                        "status",
                        f"'status' values must be among: {', '.join(STATUSES)}",
                    )
        kind = request.query("kind")
        if kind is not None and kind not in KINDS:
            raise invalid_param("kind", f"'kind' must be one of: {', '.join(KINDS)}")
        where = CaseFilter(
            statuses=statuses,
            kind=kind,
            category=request.query("category"),
            assignee=request.query("assignee"),
            target=request.query("target"),
            overdue=_flag(request, "overdue"),
            held=_flag(request, "held"),
        )
        start, limit = request.page()
        views, next_from = await self._complaints.page(where, start, limit)
        return 200, paged("cases", views, next_from)

    @_answer_errors
    async def one(self, request: Request) -> Answer:
        """One case with its reports, evidence, notices and history, and
        the group's registration (code, class, creator) where it has one."""
        detail = await self._complaints.detail(request.params["case_id"])
        room_id = detail.get("room_id")
        if room_id:
            group = await self._s.rooms.room(room_id)
            detail["group"] = group.to_json() if group is not None else None
        return 200, detail

    @_answer_errors
    async def assign(self, request: Request) -> Answer:
        """Give a case to an admin (the caller by default); acknowledges it."""
        body = request.json()
        assignee = body.string("assignee", required=False) or request.user_id
        if not await self._s.api.is_user_admin(assignee):
            raise invalid_param(
                "assignee", f"{assignee} is not a server admin of this server"
            )
        complaints = self._complaints
        row = await complaints.assign(
            request.params["case_id"], assignee, request.user_id
        )
        return 200, case_json(row, complaints.now_ms())

    @_answer_errors
    async def decide(self, request: Request) -> Answer:
        """Decide a case: outcome, sanctions, reasons (E3, E4)."""
        body = request.json()
        outcome = body.required_string("outcome")
        note = _text(body, "note", required=True)
        assert note is not None
        specs = parse_sanctions(body.value.get("sanctions"))
        record_violation = body.flag("record_violation", True)
        complaints = self._complaints
        result: DecisionResult = await complaints.decide(
            request.params["case_id"],
            request.user_id,
            outcome,
            specs,
            note,
            record_violation,
        )
        return 200, {
            "case": case_json(result.case, complaints.now_ms()),
            "sanction_errors": result.sanction_errors,
            "notified": result.notified,
            "notify_failed": result.notify_failed,
        }

    @_answer_errors
    async def close(self, request: Request) -> Answer:
        """Close a decided case."""
        body = request.json()
        note = _text(body, "note", required=False)
        complaints = self._complaints
        row = await complaints.close(request.params["case_id"], request.user_id, note)
        return 200, case_json(row, complaints.now_ms())

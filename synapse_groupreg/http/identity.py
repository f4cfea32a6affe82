"""The identity admin API (A3, A6, A7), `/admin/v1/identities/...`.

Every answer shows masked forms only, but for `reveal`; every call is an
identity access and leaves an audit entry (F1).
"""

from __future__ import annotations

from typing import Any

from synapse.api.errors import Codes, SynapseError

from synapse_groupreg.governance.reveals import RevealRefused
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import (
    JsonDict,
    Request,
    Route,
    invalid_param,
    not_found,
    paged,
)
from synapse_groupreg.http.reveals import plaintext_json, request_json
from synapse_groupreg.identity.documents import (
    IdentityInputError,
    InvalidDocument,
)
from synapse_groupreg.identity.importer import (
    ImportFormatError,
    ImportRow,
    parse_json,
    parse_upload,
)
from synapse_groupreg.identity.names import InvalidName
from synapse_groupreg.identity.selfservice import SelfService
from synapse_groupreg.identity.service import IdentityService, NotFound, Vetoed
from synapse_groupreg.reasons import REASON_FIELD, Reason, to_synapse_error
from synapse_groupreg.services import Services
from synapse_groupreg.store.identity import LimitReached

VERIFY_METHODS = ("admin", "import")

#: The largest JSON import (10,000 rows of a few hundred bytes).
_MAX_IMPORT_BYTES = 16 * 1024 * 1024


def input_error_fields(e: IdentityInputError) -> JsonDict:
    """The field at fault, the problem code and the reason (A4)."""
    if isinstance(e, InvalidName):
        return {"field": "name", "problem": e.problem}
    field = (
        "document_type"
        if isinstance(e, InvalidDocument) and e.problem == "unknown_type"
        else "document_number"
    )
    return {"field": field, "problem": e.problem, REASON_FIELD: "INVALID_DOCUMENT"}


def input_error(e: IdentityInputError) -> SynapseError:
    """400 naming the field and the problem; never the value (A5)."""
    return SynapseError(
        400, e.message, Codes.INVALID_PARAM, additional_fields=input_error_fields(e)
    )


def limit_message(e: LimitReached | Vetoed, limit: int) -> tuple[str, str]:
    """(reason, message) of a refused verification."""
    if isinstance(e, LimitReached):
        return Reason.PERSON_LIMIT.value, (
            f"This document already verifies {e.held} accounts; one person may"
            f" hold at most {limit} (identity.max_accounts_per_person)"
        )
    return Reason.BLACKLISTED.value, str(e)


def refusal_error(e: LimitReached | Vetoed, limit: int) -> SynapseError:
    reason, message = limit_message(e, limit)
    return SynapseError(
        403, message, Codes.FORBIDDEN, additional_fields={REASON_FIELD: reason}
    )


class IdentityAdminApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    def routes(self) -> list[Route]:
        base = "/admin/v1/identities"
        # Fixed paths first: "{user_id}" would match "pending" too.
        return [
            Route("GET", f"{base}/pending", Role.IDENTITY_OFFICER, self.pending),
            Route(
                "POST",
                f"{base}/pending/{{submission_id}}/approve",
                Role.IDENTITY_OFFICER,
                self.approve,
            ),
            Route(
                "POST",
                f"{base}/pending/{{submission_id}}/reject",
                Role.IDENTITY_OFFICER,
                self.reject,
            ),
            Route("GET", f"{base}/keys", Role.OWNER, self.keys),
            Route(
                "POST", f"{base}/import", Role.IDENTITY_OFFICER, self.import_identities
            ),
            Route("PUT", f"{base}/{{user_id}}", Role.IDENTITY_OFFICER, self.put),
            Route("GET", f"{base}/{{user_id}}", Role.IDENTITY_OFFICER, self.get),
            Route(
                "POST", f"{base}/{{user_id}}/reveal", Role.IDENTITY_OFFICER, self.reveal
            ),
            Route(
                "POST",
                f"{base}/{{user_id}}/guardian_consent",
                Role.IDENTITY_OFFICER,
                self.guardian_consent,
            ),
        ]

    # -- helpers ----------------------------------------------------------------

    def _identity(self) -> IdentityService:
        if self._s.identity is None:
            raise SynapseError(
                404, "Real-name identity is off on this server", Codes.NOT_FOUND
            )
        return self._s.identity

    def _selfservice(self) -> SelfService:
        self._identity()
        assert self._s.selfservice is not None
        return self._s.selfservice

    async def _local_user(self, request: Request) -> str:
        user_id = request.params["user_id"]
        if not await self._identity().local_user_exists(user_id):
            raise not_found("Local user")
        return user_id

    def _submission_id(self, request: Request) -> int:
        return request.path_id("submission_id")

    # -- routes --------------------------------------------------------------------

    async def put(self, request: Request) -> tuple[int, JsonDict]:
        """Verify a user with a document an admin has checked (A3 a)."""
        identity = self._identity()
        user_id = await self._local_user(request)
        body = request.json()
        name = body.required_string("name")
        document_type = body.required_string("document_type")
        number = body.required_string("document_number")
        method = body.string("method", required=False, choices=VERIFY_METHODS)
        try:
            recorded = await identity.verify(
                user_id, name, document_type, number, method or "admin", request.user_id
            )
        except IdentityInputError as e:
            raise input_error(e) from None
        except (LimitReached, Vetoed) as e:
            raise refusal_error(e, identity.config.max_accounts_per_person) from None
        return 200, {**recorded.view.to_json(), "changed": recorded.changed}

    async def get(self, request: Request) -> tuple[int, JsonDict]:
        """The masked identity, level, method and time (A6)."""
        identity = self._identity()
        user_id = await self._local_user(request)
        view = await identity.view(user_id, request.user_id)
        return 200, view.to_json()

    async def reveal(self, request: Request) -> tuple[int, JsonDict]:
        """Ask for the plaintext, with a reason (A6). With four eyes
        (`identity.reveal.approvals` > 0) 202 and a request another identity
        officer decides; with none, 200 and the plaintext. Audited either way."""
        self._identity()
        user_id = await self._local_user(request)
        body = request.json()
        reason = body.required_string("reason").strip()
        if not reason:
            raise invalid_param(
                "reason", "'reason' must say why the plaintext is needed"
            )
        statement = body.flag("statement", True)
        service = self._s.governance.reveals
        assert service is not None  # real-name is on
        try:
            outcome = await service.request(user_id, request.user_id, reason, statement)
        except NotFound:
            raise not_found("Identity") from None
        except RevealRefused as e:
            raise to_synapse_error(
                e.refusal, self._s.config.language, e.fields
            ) from None
        if outcome.revealed is None:
            return 202, request_json(service, outcome)
        return 200, {
            "user_id": user_id,
            **plaintext_json(outcome.revealed),
            "request_id": outcome.row.id,
        }

    async def guardian_consent(self, request: Request) -> tuple[int, JsonDict]:
        """Record a guardian's consent for a minor (A7)."""
        identity = self._identity()
        user_id = await self._local_user(request)
        reference = request.json().required_string("reference").strip()
        if not reference:
            raise invalid_param(
                "reference", "'reference' must identify the guardian's signed consent"
            )
        try:
            view = await identity.record_guardian_consent(
                user_id, request.user_id, reference
            )
        except NotFound:
            raise invalid_param(
                "user_id", "this user has no identity waiting for a guardian's consent"
            ) from None
        return 200, view.to_json()

    async def import_identities(self, request: Request) -> tuple[int, JsonDict]:
        """CSV (Content-Type: text/csv) or JSON; a result per row (A3 a)."""
        identity = self._identity()
        content_type = request.header("Content-Type") or "application/json"
        try:
            if content_type.split(";")[0].strip().lower() == "text/csv":
                rows = parse_upload(content_type, request.upload())
            else:
                rows = parse_json(request.json_value(max_bytes=_MAX_IMPORT_BYTES))
        except ImportFormatError as e:
            raise SynapseError(400, str(e), Codes.BAD_JSON) from None
        results = [
            await self._import_row(identity, row, request.user_id) for row in rows
        ]
        counts: dict[str, int] = {}
        for result in results:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
        await self._s.audit.record(request.user_id, "identity.import", "", counts)
        return 200, {"results": results, "counts": counts}

    async def _import_row(
        self, identity: IdentityService, row: ImportRow, actor: str
    ) -> JsonDict:
        result: JsonDict = {"row": row.row}
        if row.fields is None:
            assert row.problem is not None
            field, message = row.problem
            return {**result, "status": "error", "field": field, "error": message}
        user_id = row.fields["user_id"]
        result["user_id"] = user_id
        if not await identity.local_user_exists(user_id):
            return {
                **result,
                "status": "error",
                "field": "user_id",
                "error": "no such local user",
            }
        try:
            recorded = await identity.verify(
                user_id,
                row.fields["name"],
                row.fields["document_type"],
                row.fields["document_number"],
                row.fields["method"],
                actor,
            )
        except IdentityInputError as e:
            fields = input_error_fields(e)
            reason = fields.pop(REASON_FIELD, None)
            extra = {"reason": reason} if reason else {}
            return {**result, "status": "error", **fields, **extra, "error": e.message}
        except (LimitReached, Vetoed) as e:
            limit = identity.config.max_accounts_per_person
            reason, message = limit_message(e, limit)
            return {
                **result,
                "status": "error",
                "field": "document_number",
                "reason": reason,
                "error": message,
            }
        return {
            **result,
            "status": "verified" if recorded.changed else "unchanged",
            "level": recorded.view.level.value,
            "guardian_required": recorded.view.status == "guardian_required",
        }

    async def pending(self, request: Request) -> tuple[int, JsonDict]:
        """Self-service submissions waiting for a person (A3 b)."""
        selfservice = self._selfservice()
        start, limit = request.page()
        views = await selfservice.pending(start, limit + 1, request.user_id)
        more = len(views) > limit
        views = views[:limit]
        items: list[dict[str, Any]] = [
            {
                "id": v.id,
                "user_id": v.user_id,
                "why": v.why,
                "document_type": v.document_type,
                "masked_name": v.masked_name,
                "masked_number": v.masked_number,
                "created_ts": v.created_ts,
            }
            for v in views
        ]
        return 200, paged("submissions", items, views[-1].id + 1 if more else None)

    async def approve(self, request: Request) -> tuple[int, JsonDict]:
        selfservice = self._selfservice()
        submission_id = self._submission_id(request)
        try:
            await selfservice.approve(submission_id, request.user_id)
        except NotFound:
            raise not_found("Pending submission") from None
        except IdentityInputError as e:
            raise input_error(e) from None
        except (LimitReached, Vetoed) as e:
            limit = self._identity().config.max_accounts_per_person
            raise refusal_error(e, limit) from None
        return 200, {"id": submission_id, "status": "approved"}

    async def reject(self, request: Request) -> tuple[int, JsonDict]:
        selfservice = self._selfservice()
        submission_id = self._submission_id(request)
        reason = request.json().required_string("reason").strip()
        if not reason:
            raise invalid_param("reason", "'reason' must tell the user why")
        try:
            await selfservice.reject(submission_id, request.user_id, reason)
        except NotFound:
            raise not_found("Pending submission") from None
        return 200, {"id": submission_id, "status": "rejected"}

    async def keys(self, request: Request) -> tuple[int, JsonDict]:
        """Rows per encryption key: an old key may go once it has none."""
        identity = self._identity()
        status = await identity.maintenance.key_status()
        await self._s.audit.record(request.user_id, "identity.key_status", "", {})
        return 200, status

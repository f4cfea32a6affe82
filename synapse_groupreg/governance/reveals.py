"""Four-eyes identity reveal (A6, G7).

An identity officer asks to read a person's plaintext identity, with a
reason; `identity.reveal.approvals` other identity officers approve (or one
refuses); then the requester reads it once, within `read_within`. Every
step is audited; a request that waits too long, or an approval nobody reads
in time, lapses. With `approvals: 0` the request is the read (one step, as
before). A per-officer rate limit holds either way. When configured, the
notice bot tells the person their identity was read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config import Language
from synapse_groupreg.config.identity import RevealConfig
from synapse_groupreg.identity.selfservice import localise
from synapse_groupreg.identity.service import IdentityService, NotFound, Revealed
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.reveals import (
    APPROVED,
    PENDING,
    READ,
    RevealRow,
    RevealStore,
)

logger = logging.getLogger(__name__)


class RevealRefused(Exception):
    """A rule refused the step (403 with the refusal's reason)."""

    def __init__(self, refusal: Refusal, **fields: Any) -> None:
        super().__init__(refusal.reason.value)
        self.refusal = refusal
        self.fields = fields


class NotPending(Exception):
    """The request is past the step asked for (409, with its status)."""

    def __init__(self, row: RevealRow) -> None:
        super().__init__(f"reveal request {row.id} is {row.status}")
        self.row = row


@attrs.frozen(slots=True)
class Outcome:
    """A request's state after a step; `revealed` only on the one read."""

    row: RevealRow
    revealed: Revealed | None = None


def _statement(when: str, reason: str) -> tuple[str, str]:
    return (
        f"通知：您的实名身份信息（姓名和证件号码）已于 {when} "
        f"被本服务器的身份专员查阅。查阅理由：{reason}。如有疑问，请联系本服务器的管理人员。",
        f"Notice: your real-name identity (name and document number) was read"
        f" on {when} by an identity officer of this server. The reason given:"
        f" {reason}. Contact this server's staff if you have questions.",
    )


class RevealService:
    """Args:
    config: `identity.reveal`.
    store: the requests.
    identity: decrypts and audits the read itself.
    audit: the audit log.
    language: of the statement to the person.
    now_ms: the clock.
    tell: the notice bot's direct message, for the statement.
    format_time: ms since the epoch -> the text the statement shows.
    """

    def __init__(
        self,
        config: RevealConfig,
        store: RevealStore,
        identity: IdentityService,
        audit: AuditLog,
        language: Language,
        now_ms: Callable[[], int],
        tell: Callable[[str, str], Awaitable[str]],
        format_time: Callable[[int], str],
    ) -> None:
        self.config = config
        self._store = store
        self._identity = identity
        self._audit = audit
        self._language = language
        self._now_ms = now_ms
        self._tell = tell
        self._format_time = format_time

    @property
    def four_eyes(self) -> bool:
        return self.config.approvals > 0

    # -- the steps ---------------------------------------------------------------

    async def request(
        self, user_id: str, officer: str, reason: str, statement: bool = True
    ) -> Outcome:
        """Ask for `user_id`'s plaintext; with no approvals needed, read it.

        Raises:
            NotFound: no identity to reveal (or it was erased).
            RevealRefused: REVEAL_LIMIT, the officer's rate is spent.
        """
        if not await self._identity.has_plaintext(user_id):
            raise NotFound(user_id)
        now = self._now_ms()
        window_start = now - self.config.rate_window_ms
        made, oldest = await self._store.count_since(officer, window_start)
        if made >= self.config.rate_count:
            retry = oldest + self.config.rate_window_ms - now
            raise RevealRefused(
                Refusal(
                    Reason.REVEAL_LIMIT,
                    {
                        "limit": self.config.rate_count,
                        "window": self.config.rate_window_ms // 3_600_000 or 1,
                    },
                ),
                retry_after_ms=max(retry, 0),
            )
        if not self.four_eyes:
            row = await self._store.create(
                user_id, officer, reason, 0, statement, now, status=READ
            )
            revealed = await self._identity.reveal(
                user_id, officer, reason, {"request_id": row.id}
            )
            await self._tell_subject(row)
            return Outcome(row, revealed)
        row = await self._store.create(
            user_id, officer, reason, self.config.approvals, statement, now
        )
        await self._audit.record(
            officer,
            "identity.reveal.request",
            user_id,
            {
                "request_id": row.id,
                "reason": reason,
                "approvals_needed": row.approvals_needed,
                "statement": statement,
            },
        )
        return Outcome(row)

    async def approve(self, request_id: int, officer: str) -> Outcome:
        """Another identity officer approves.

        Raises:
            LookupError: no such request.
            RevealRefused: SECOND_OFFICER_REQUIRED (the requester, or an
                officer who already approved it).
            NotPending: it was decided, read or has lapsed.
        """
        for _ in range(3):
            row = await self._pending(request_id)
            if officer == row.requester or officer in row.approvers:
                raise RevealRefused(
                    Refusal(
                        Reason.SECOND_OFFICER_REQUIRED,
                        {"request_id": request_id, "requester": row.requester},
                    )
                )
            updated = await self._store.approve(row, officer, self._now_ms())
            if updated is None:
                continue  # someone else decided in the meantime: look again
            await self._audit.record(
                officer,
                "identity.reveal.approve",
                row.user_id,
                {
                    "request_id": row.id,
                    "approvals": len(updated.approvers),
                    "approvals_needed": updated.approvals_needed,
                    "status": updated.status,
                },
            )
            return Outcome(updated)
        raise NotPending(await self._get(request_id))

    async def refuse(self, request_id: int, officer: str, note: str) -> Outcome:
        """An identity officer refuses (the requester may withdraw it so).

        Raises:
            LookupError, NotPending: as for `approve`.
        """
        row = await self._pending(request_id)
        updated = await self._store.refuse(row.id, officer, note, self._now_ms())
        if updated is None:
            raise NotPending(await self._get(request_id))
        await self._audit.record(
            officer,
            "identity.reveal.refuse",
            row.user_id,
            {
                "request_id": row.id,
                "reason": note,
                "withdrawn": officer == row.requester,
            },
        )
        return Outcome(updated)

    async def read(self, request_id: int, officer: str) -> Outcome:
        """The request; for its requester, once, approved and in time, with
        the plaintext (audited as `identity.reveal` before decryption).

        Raises:
            LookupError: no such request.
        """
        await self.expire_due()
        row = await self._get(request_id)
        if row.status != APPROVED or row.requester != officer:
            return Outcome(row)
        assert row.decided_ts is not None
        claimed = await self._store.claim_read(
            row.id,
            officer,
            self._now_ms() - self.config.read_within_ms,
            self._now_ms(),
        )
        if claimed is None:
            return Outcome(await self._get(request_id))
        try:
            revealed = await self._identity.reveal(
                row.user_id,
                officer,
                row.reason,
                {"request_id": row.id, "approved_by": list(row.approvers)},
            )
        except NotFound:
            # Erased (A8) between approval and read: nothing to show.
            return Outcome(claimed)
        await self._tell_subject(claimed)
        return Outcome(claimed, revealed)

    async def expire_due(self) -> int:
        """Lapse what waited too long; each lapse is audited. Returns how many."""
        now = self._now_ms()
        lapsed = await self._store.expire(
            now - self.config.decide_within_ms, now - self.config.read_within_ms, now
        )
        for row in lapsed:
            await self._audit.record(
                SYSTEM,
                "identity.reveal.expire",
                row.user_id,
                {
                    "request_id": row.id,
                    "was": APPROVED if row.decided_ts is not None else PENDING,
                },
            )
        return len(lapsed)

    async def run(self) -> None:
        """The background job."""
        try:
            await self.expire_due()
        except Exception:
            logger.exception("identity reveal requests: the expiry sweep failed")

    # -- reading -------------------------------------------------------------------

    async def page(
        self,
        from_id: int,
        limit: int,
        status: tuple[str, ...] = (),
        requester: str | None = None,
        user_id: str | None = None,
    ) -> list[RevealRow]:
        await self.expire_due()
        return await self._store.page(from_id, limit, status, requester, user_id)

    def deadline(self, row: RevealRow) -> int | None:
        """When the request lapses, if it still can."""
        if row.status == PENDING:
            return row.created_ts + self.config.decide_within_ms
        if row.status == APPROVED and row.decided_ts is not None:
            return row.decided_ts + self.config.read_within_ms
        return None

    # -- helpers ---------------------------------------------------------------------

    async def _get(self, request_id: int) -> RevealRow:
        row = await self._store.get(request_id)
        if row is None:
            raise LookupError(request_id)
        return row

    async def _pending(self, request_id: int) -> RevealRow:
        await self.expire_due()
        row = await self._get(request_id)
        if row.status != PENDING:
            raise NotPending(row)
        return row

    async def _tell_subject(self, row: RevealRow) -> None:
        if not (self.config.notify_subject and row.statement):
            return
        when = self._format_time(row.read_ts or self._now_ms())
        try:
            await self._tell(
                row.user_id, localise(_statement(when, row.reason), self._language)
            )
        except Exception:
            logger.exception("reveal %d: the statement to the person failed", row.id)
            return
        await self._audit.record(
            SYSTEM, "identity.reveal.statement", row.user_id, {"request_id": row.id}
        )

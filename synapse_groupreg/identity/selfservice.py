"""Self-service verification (A3 b): the one-time link the notice bot
sends, the submission from the page, the provider's verdict or a manual
review.

A link is offered the first time an unverified user is refused, and not
again while it is alive. Its token is random; only its sha256 is stored.
A provider's "mismatch" lets the user correct a typo on the same link (up
to `max_attempts`); a provider that cannot decide never loses the user's
submission: it waits for a person instead.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import date

import attrs

from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config import Language
from synapse_groupreg.config.identity import SelfServiceConfig
from synapse_groupreg.identity.documents import (
    DocumentType,
    mask,
    mask_name,
    validate_document,
)
from synapse_groupreg.identity.fields import NAME_FIELD, NUMBER_FIELD
from synapse_groupreg.identity.names import normalise_name
from synapse_groupreg.identity.provider import (
    ProviderRequest,
    ProviderUnavailable,
    Verdict,
    build_request,
)
from synapse_groupreg.identity.service import IdentityService, NotFound
from synapse_groupreg.store.verification import (
    LinkRow,
    SubmissionRow,
    VerificationStore,
)

logger = logging.getLogger(__name__)

VERIFY_PATH = "_synapse/client/groupreg/v1/verify"
#: How long the page's form stays usable once its link was opened.
FORM_LIFETIME_MS = 30 * 60 * 1000

#: Sends the provider's request, answers its verdict.
AskProvider = Callable[[ProviderRequest], Awaitable[Verdict]]
#: Sends a direct message from the notice bot: (user_id, text).
SendDm = Callable[[str, str], Awaitable[object]]


class LinkProblem(Exception):
    """The link cannot be used: `problem` is unknown, expired or used."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class Outcome(str, enum.Enum):
    VERIFIED = "verified"
    REVIEW = "review"
    MISMATCH = "mismatch"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def localise(texts: tuple[str, str], language: Language) -> str:
    return language.pick(*texts, joiner="\n\n")


def _link_text(url: str, hours: int) -> tuple[str, str]:
    return (
        f"您好！根据实名制要求，发布信息前需要完成身份验证。请打开以下链接完成验证"
        f"（{hours} 小时内有效，仅可使用一次）：\n{url}",
        f"Hello! Real-name rules require you to verify your identity before"
        f" you can post. Open this link to verify (valid for {hours} hours,"
        f" once):\n{url}",
    )


def _reminder_text(url: str, hours: int, until: date) -> tuple[str, str]:
    day = until.isoformat()
    return (
        f"您好！根据实名制要求，自 {day} 起，完成身份验证后才能发言、建群、邀请和"
        f"加入群组。请现在打开以下链接完成验证（{hours} 小时内有效，仅可使用一次）："
        f"\n{url}",
        f"Hello! From {day}, real-name rules require you to verify your identity"
        f" before you can post, create or join groups, or invite people. Verify"
        f" now with this link (valid for {hours} hours, once):\n{url}",
    )


_APPROVED = (
    "您的身份验证已通过审核，现在可以正常发布信息了。",
    "Your identity verification was approved: you can post now.",
)


def _rejected(reason: str) -> tuple[str, str]:
    return (
        f"您的身份验证未通过审核：{reason}。您下次发言时会收到新的验证链接。",
        f"Your identity verification was not approved: {reason}. You will get"
        " a new verification link the next time you try to post.",
    )


@attrs.frozen(slots=True)
class PendingView:
    """A submission as the review queue shows it (masked, A6)."""

    id: int
    user_id: str
    why: str
    document_type: str
    masked_name: str | None
    masked_number: str | None
    created_ts: int


class SelfService:
    def __init__(
        self,
        config: SelfServiceConfig,
        identity: IdentityService,
        store: VerificationStore,
        audit: AuditLog,
        language: Language,
        public_baseurl: str,
        now_ms: Callable[[], int],
        send_dm: SendDm,
        ask_provider: AskProvider,
    ) -> None:
        self.config = config
        self._identity = identity
        self._store = store
        self._audit = audit
        self._language = language
        self._baseurl = (
            public_baseurl if public_baseurl.endswith("/") else (public_baseurl + "/")
        )
        self._now_ms = now_ms
        self._send_dm = send_dm
        self._ask_provider = ask_provider

    # -- links ------------------------------------------------------------------

    async def offer_link(self, user_id: str) -> bool:
        """DM the user a fresh link unless one is still alive or their last
        submission still waits for review; True if sent."""
        if not self.config.enabled:
            return False
        now = self._now_ms()
        if await self._store.live_link(user_id, now) is not None:
            return False
        if await self._store.has_pending(user_id):
            return False
        await self._send_link(user_id, now, _link_text, "identity.link_sent")
        return True

    async def remind(self, user_id: str, until: date, interval_ms: int) -> bool:
        """H4, during the grace period: DM the user a fresh link with the day
        from which verification is required, unless they were sent one
        within `interval_ms` or their submission waits for review; True if
        sent."""
        if not self.config.enabled:
            return False
        now = self._now_ms()
        latest = await self._store.latest_link_ts(user_id)
        if latest is not None and now - latest < interval_ms:
            return False
        if await self._store.has_pending(user_id):
            return False

        def text(url: str, hours: int) -> tuple[str, str]:
            return _reminder_text(url, hours, until)

        await self._send_link(user_id, now, text, "identity.reminder_sent")
        return True

    async def _send_link(
        self,
        user_id: str,
        now: int,
        text: Callable[[str, int], tuple[str, str]],
        action: str,
    ) -> None:
        token = secrets.token_urlsafe(32)
        await self._store.add_link(
            LinkRow(
                token_hash(token),
                user_id,
                now,
                now + self.config.link_lifetime_ms,
                None,
                0,
            )
        )
        # The token travels in the fragment, which browsers never send: no
        # access log or proxy sees it; the page posts it (http/verify.py).
        url = (
            self._baseurl + VERIFY_PATH + "#" + urllib.parse.urlencode({"token": token})
        )
        hours = max(1, self.config.link_lifetime_ms // 3_600_000)
        await self._send_dm(user_id, localise(text(url, hours), self._language))
        await self._audit.record(SYSTEM, action, user_id, {})

    async def bind(self, token: str) -> str:
        """Open the link: its token is spent, and the page gets a token of
        its own for the form, valid `FORM_LIFETIME_MS` (at most until the
        link would have expired). Whoever opens the link first holds it.

        Raises:
            LinkProblem: unknown, expired or used.
        """
        link = await self.open(token)
        form_token = secrets.token_urlsafe(32)
        now = self._now_ms()
        expires = min(link.expires_ts, now + FORM_LIFETIME_MS)
        if not await self._store.rebind_link(
            link.token_hash, token_hash(form_token), expires, now
        ):
            raise LinkProblem("used")
        return form_token

    async def open(self, token: str) -> LinkRow:
        """The link behind a token, if it can still be used.

        Raises:
            LinkProblem: unknown, expired or used.
        """
        link = await self._store.link(token_hash(token))
        if link is None:
            raise LinkProblem("unknown")
        if link.used_ts is not None:
            raise LinkProblem("used")
        if link.expires_ts <= self._now_ms():
            raise LinkProblem("expired")
        return link

    # -- submissions ---------------------------------------------------------------

    async def submit(
        self, token: str, name: str, document_type: str, document_number: str
    ) -> Outcome:
        """Check a submission from the page and act on it.

        Raises:
            LinkProblem: the link cannot be used (any more).
            InvalidName, InvalidDocument: the input is wrong; the link stays.
            LimitReached, Vetoed: from the identity service.
        """
        link = await self.open(token)
        user_id = link.user_id
        clean_name = normalise_name(name)
        document = validate_document(
            document_type, document_number, self._identity.today()
        )
        provider = self.config.provider
        if document.type is DocumentType.PASSPORT:
            why = "passport"
        elif provider is None:
            why = "no_provider"
        else:
            request = build_request(
                provider.secret,
                clean_name,
                document.type.value,
                document.number,
                self._now_ms(),
            )
            try:
                verdict = await self._ask_provider(request)
            except ProviderUnavailable as e:
                logger.warning(
                    "identity provider could not decide for %s: %s", user_id, e
                )
                why = "provider_unavailable"
            else:
                if verdict is Verdict.MISMATCH:
                    attempts = await self._store.count_attempt(link.token_hash)
                    await self._audit.record(
                        SYSTEM, "identity.provider_mismatch", user_id, {}
                    )
                    if attempts >= self.config.max_attempts:
                        await self._store.spend_link(link.token_hash, self._now_ms())
                    return Outcome.MISMATCH
                await self._identity.verify(
                    user_id,
                    clean_name,
                    document.type.value,
                    document.number,
                    "self_service",
                    SYSTEM,
                )
                await self._store.spend_link(link.token_hash, self._now_ms())
                return Outcome.VERIFIED
        vault = self._identity.vault
        submission_id = await self._store.add_submission(
            user_id,
            why,
            document.type.value,
            vault.encrypt(clean_name, field=NAME_FIELD, user_id=user_id),
            vault.encrypt(document.number, field=NUMBER_FIELD, user_id=user_id),
            vault.current_key_id,
            self._now_ms(),
        )
        await self._store.spend_link(link.token_hash, self._now_ms())
        await self._audit.record(
            SYSTEM,
            "identity.submission_queued",
            user_id,
            {"submission_id": submission_id, "why": why},
        )
        return Outcome.REVIEW

    # -- manual review ----------------------------------------------------------------

    async def pending(self, from_id: int, limit: int, actor: str) -> list[PendingView]:
        rows = await self._store.pending(from_id, limit)
        await self._audit.record(
            actor, "identity.pending_list", "", {"count": len(rows)}
        )
        return [self._pending_view(r) for r in rows]

    def _pending_view(self, row: SubmissionRow) -> PendingView:
        vault = self._identity.vault
        masked_name = masked_number = None
        if row.name_ct is not None and row.number_ct is not None:
            uid = row.user_id
            masked_name = mask_name(
                vault.decrypt(row.name_ct, field=NAME_FIELD, user_id=uid)
            )
            masked_number = mask(
                row.document_type,
                vault.decrypt(row.number_ct, field=NUMBER_FIELD, user_id=uid),
            )
        return PendingView(
            row.id,
            row.user_id,
            row.why,
            row.document_type,
            masked_name,
            masked_number,
            row.created_ts,
        )

    async def approve(self, submission_id: int, actor: str) -> None:
        """A person checked the document: verify the user with it.

        Raises:
            NotFound: no pending submission with that id.
            LimitReached, Vetoed: from the identity service (the submission
                stays pending).
        """
        row = await self._store.submission(submission_id)
        if row is None or row.status != "pending" or row.name_ct is None:
            raise NotFound(str(submission_id))
        assert row.number_ct is not None
        vault, uid = self._identity.vault, row.user_id
        await self._identity.verify(
            uid,
            vault.decrypt(row.name_ct, field=NAME_FIELD, user_id=uid),
            row.document_type,
            vault.decrypt(row.number_ct, field=NUMBER_FIELD, user_id=uid),
            "review",
            actor,
        )
        await self._store.decide(submission_id, "approved", actor, self._now_ms())
        await self._audit.record(
            actor, "identity.review_approve", uid, {"submission_id": submission_id}
        )
        await self._send_dm(uid, localise(_APPROVED, self._language))

    async def reject(self, submission_id: int, actor: str, reason: str) -> None:
        """Raises:
        NotFound: no pending submission with that id."""
        row = await self._store.submission(submission_id)
        if row is None or row.status != "pending":
            raise NotFound(str(submission_id))
        await self._store.decide(submission_id, "rejected", actor, self._now_ms())
        await self._audit.record(
            actor,
            "identity.review_reject",
            row.user_id,
            {"submission_id": submission_id, "reason": reason},
        )
        await self._send_dm(row.user_id, localise(_rejected(reason), self._language))

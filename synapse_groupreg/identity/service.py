"""The identity service: levels, verification, masked views, reveal,
guardians, erasure and re-encryption (A1, A2, A6, A7, A8).

Every identity access goes through here and is audited; the plaintext
leaves only through `reveal` (audited, with the admin's reason) and never
reaches a log line, an audit detail or an error message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

import attrs

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.config.identity import IdentityConfig
from synapse_groupreg.identity.documents import (
    is_minor_under,
    mask,
    mask_name,
    validate_document,
)
from synapse_groupreg.identity.fields import NAME_FIELD, NUMBER_FIELD, decrypt_row
from synapse_groupreg.identity.levels import IdentityLevel
from synapse_groupreg.identity.maintenance import IdentityMaintenance
from synapse_groupreg.identity.names import normalise_name
from synapse_groupreg.identity.vault import Vault
from synapse_groupreg.store.identity import (
    IdentityRow,
    IdentityStore,
    LimitReached,
    Standing,
)
from synapse_groupreg.store.verification import VerificationStore

logger = logging.getLogger(__name__)

#: How an identity was established.
METHODS = ("admin", "import", "self_service", "review")
#: `hold(person_hash) -> True` keeps an erased account's person hash (A8).
HashHold = Callable[[str], Awaitable[bool]]
#: `veto(person_hash) -> message or None` refuses a verification (D4).
VerificationVeto = Callable[[str], Awaitable[str | None]]


class Vetoed(Exception):
    """Another concern (the person blacklist) refuses this person."""


class NotFound(Exception):
    pass


@attrs.frozen(slots=True)
class IdentityView:
    """What an admin sees (A6): masked forms, never the plaintext."""

    user_id: str
    level: IdentityLevel
    status: str | None
    method: str | None
    document_type: str | None
    masked_name: str | None
    masked_number: str | None
    verified_ts: int | None
    verified_by: str | None
    guardian_ts: int | None
    erased_ts: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "level": self.level.value,
            "status": self.status,
            "method": self.method,
            "document_type": self.document_type,
            "masked_name": self.masked_name,
            "masked_number": self.masked_number,
            "verified_ts": self.verified_ts,
            "verified_by": self.verified_by,
            "guardian_required": self.status == "guardian_required",
            "guardian_ts": self.guardian_ts,
            "erased_ts": self.erased_ts,
        }


@attrs.frozen(slots=True, repr=False)
class Revealed:
    name: str
    document_type: str
    document_number: str

    def __repr__(self) -> str:
        return "Revealed(<identity plaintext>)"


@attrs.frozen(slots=True)
class Recorded:
    """The outcome of a verification: `changed` is False for a repeat."""

    changed: bool
    view: IdentityView


def level_of_standing(config: IdentityConfig, standing: Standing) -> IdentityLevel:
    """A2: `id` with a verified document, `phone` with a mainland mobile
    number bound (where `identity.phone_level` allows), else `none`."""
    if standing.identity_status == "verified":
        return IdentityLevel.ID
    if config.phone_level and standing.has_mainland_mobile:
        return IdentityLevel.PHONE
    return IdentityLevel.NONE


class IdentityService:
    """Args:
    config: the `identity:` section.
    vault: encryption keys and the person-hash secret.
    store, verification: the tables.
    audit: the audit log.
    now_ms, today: the clock.
    invalidate: drops a user's cached standing in every process.
    local_user_exists: whether a user id names an account of this server.
    vetoes: checks run before any verification; a message refuses it (D4: a
        blacklisted person cannot verify a new account).
    holds: reasons to keep a person hash after erasure (A8: the blacklist
        answers True while a person entry names the hash).
    """

    def __init__(
        self,
        config: IdentityConfig,
        vault: Vault,
        store: IdentityStore,
        verification: VerificationStore,
        audit: AuditLog,
        now_ms: Callable[[], int],
        today: Callable[[], date],
        invalidate: Callable[[str], Awaitable[None]],
        local_user_exists: Callable[[str], Awaitable[bool]],
        vetoes: Sequence[VerificationVeto] = (),
        holds: Sequence[HashHold] = (),
    ) -> None:
        self.config = config
        self.vault = vault
        self._store = store
        self._verification = verification
        self._audit = audit
        self._now_ms = now_ms
        self._today = today
        self._invalidate = invalidate
        self.local_user_exists = local_user_exists
        #: Re-encryption and minors coming of age, for the background job.
        self.maintenance = IdentityMaintenance(
            vault,
            store,
            verification,
            audit,
            today,
            invalidate,
            config.guardian_age,
        )
        self._holds = tuple(holds)
        self._vetoes = tuple(vetoes)

    def today(self) -> date:
        return self._today()

    # -- levels (the per-message path) ------------------------------------------

    async def level_of(self, user_id: str) -> IdentityLevel:
        """The user's level; served from the cache when warm (no database)."""
        return level_of_standing(self.config, await self._store.get_standing(user_id))

    async def passes_gate(self, user_id: str) -> bool:
        level = await self.level_of(user_id)
        return level.at_least(self.config.gate_level)

    async def person_hash_of(self, user_id: str) -> str | None:
        """The keyed hash of the user's document (for the blacklist, D4):
        also of an erased account while a hold kept it; None otherwise."""
        row = await self._store.get(user_id)
        return row.person_hash if row is not None else None

    async def accounts_of(self, person_hash: str) -> list[str]:
        """The accounts verified with the document of `person_hash` (for the
        blacklist, D4: a listed person's accounts are listed with them)."""
        return await self._store.accounts_of_person(person_hash)

    async def invalidate(self, user_id: str) -> None:
        """Forget the cached standing (a 3PID was added or removed)."""
        await self._invalidate(user_id)

    # -- verification ---------------------------------------------------------

    async def verify(
        self,
        user_id: str,
        name: str,
        document_type: str,
        document_number: str,
        method: str,
        actor: str,
    ) -> Recorded:
        """Record a verified identity for a local user.

        Raises:
            InvalidName, InvalidDocument: the input is not acceptable.
            LimitReached: the person holds too many accounts already (A6).
            Vetoed: another concern refuses the person.
        """
        assert method in METHODS, method
        clean_name = normalise_name(name)
        today = self._today()
        document = validate_document(document_type, document_number, today)
        person_hash = self.vault.person_hash(document.type, document.number)
        for veto in self._vetoes:
            refusal = await veto(person_hash)
            if refusal is not None:
                raise Vetoed(refusal)
        previous = await self._store.get(user_id)
        guardian_ts = (
            previous.guardian_ts
            if previous is not None and previous.person_hash == person_hash
            else None
        )
        minor = document.birth_date is not None and is_minor_under(
            document.birth_date, today, self.config.guardian_age
        )
        status = "guardian_required" if minor and guardian_ts is None else "verified"
        row = IdentityRow(
            user_id=user_id,
            status=status,
            method=method,
            document_type=document.type.value,
            person_hash=person_hash,
            name_ct=self.vault.encrypt(clean_name, field=NAME_FIELD, user_id=user_id),
            number_ct=self.vault.encrypt(
                document.number, field=NUMBER_FIELD, user_id=user_id
            ),
            key_id=self.vault.current_key_id,
            verified_ts=self._now_ms(),
            verified_by=actor,
            guardian_ts=guardian_ts,
            erased_ts=None,
        )
        try:
            changed = await self._store.record(row, self.config.max_accounts_per_person)
        except LimitReached:
            await self._audit.record(
                actor,
                "identity.refused",
                user_id,
                {"why": "person_limit", "method": method},
            )
            raise
        if changed:
            await self._invalidate(user_id)
            await self._audit.record(
                actor,
                "identity.verify",
                user_id,
                {
                    "method": method,
                    "document_type": row.document_type,
                    "status": status,
                },
            )
        view = await self._view(user_id)
        assert view is not None
        return Recorded(changed, view)

    async def record_guardian_consent(
        self, user_id: str, actor: str, reference: str
    ) -> IdentityView:
        """A7: a guardian consented for a minor; the identity counts now.

        Raises:
            NotFound: the user has no identity waiting for a guardian.
        """
        row = await self._store.get(user_id)
        if row is None or row.status != "guardian_required":
            raise NotFound(user_id)
        await self._store.set_status(user_id, "verified", guardian_ts=self._now_ms())
        await self._invalidate(user_id)
        await self._audit.record(
            actor, "identity.guardian_consent", user_id, {"reference": reference}
        )
        view = await self._view(user_id)
        assert view is not None
        return view

    # -- what admins see ---------------------------------------------------------

    async def view(self, user_id: str, actor: str) -> IdentityView:
        """The masked identity (A6), audited as an identity access."""
        view = await self._view(user_id)
        if view is None:
            view = IdentityView(user_id, await self.level_of(user_id), *([None] * 9))
        await self._audit.record(actor, "identity.view", user_id, {})
        return view

    async def _view(self, user_id: str) -> IdentityView | None:
        row = await self._store.get(user_id)
        if row is None:
            return None
        masked_name = masked_number = None
        if row.name_ct is not None and row.number_ct is not None:
            name, number = self._decrypt(row)
            masked_name = mask_name(name)
            masked_number = mask(row.document_type, number)
        return IdentityView(
            user_id=user_id,
            level=await self.level_of(user_id),
            status=row.status,
            method=row.method,
            document_type=row.document_type,
            masked_name=masked_name,
            masked_number=masked_number,
            verified_ts=row.verified_ts,
            verified_by=row.verified_by,
            guardian_ts=row.guardian_ts,
            erased_ts=row.erased_ts,
        )

    def _decrypt(self, row: IdentityRow) -> tuple[str, str]:
        return decrypt_row(self.vault, row)

    async def has_plaintext(self, user_id: str) -> bool:
        """Whether there is a name and number to reveal (not erased)."""
        row = await self._store.get(user_id)
        return row is not None and row.name_ct is not None and row.number_ct is not None

    async def reveal(
        self,
        user_id: str,
        actor: str,
        reason: str,
        details: dict[str, Any] | None = None,
    ) -> Revealed:
        """The plaintext, for an officer who gave a reason (A6); audited
        first, so no reveal can happen without its entry. `details` adds to
        the entry (the reveal request and its approvers, G7).

        Raises:
            NotFound: no identity, or it was erased.
        """
        row = await self._store.get(user_id)
        if row is None or row.name_ct is None or row.number_ct is None:
            raise NotFound(user_id)
        await self._audit.record(
            actor,
            "identity.reveal",
            user_id,
            {
                "reason": reason,
                "fields": ["name", "document_number"],
                **(details or {}),
            },
        )
        name, number = self._decrypt(row)
        return Revealed(name, row.document_type, number)

    # -- erasure (A8) -------------------------------------------------------------

    async def erase(self, user_id: str, actor: str) -> None:
        """Delete the user's identity plaintext; keep the person hash only
        while a hold (the blacklist) needs it."""
        row = await self._store.get(user_id)
        keep = False
        if row is not None and row.person_hash is not None:
            for hold in self._holds:
                if await hold(row.person_hash):
                    keep = True
                    break
        erased = await self._store.erase(user_id, keep, self._now_ms())
        await self._verification.erase_submissions_of(user_id)
        await self._verification.delete_links_of(user_id)
        await self._invalidate(user_id)
        if erased:
            await self._audit.record(
                actor, "identity.erase", user_id, {"hash_kept": keep}
            )

    async def release_person_hash(self, person_hash: str, actor: str) -> None:
        """The last hold on `person_hash` ended: forget it on erased rows."""
        for user_id in await self._store.release_hash(person_hash):
            await self._audit.record(actor, "identity.hash_released", user_id, {})

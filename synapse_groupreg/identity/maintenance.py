"""Identity maintenance on the background-tasks instance: re-encryption
after a key rotation (A6) and minors who come of age (A7)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.identity.documents import (
    InvalidDocument,
    is_minor_under,
    validate_document,
)
from synapse_groupreg.identity.fields import NAME_FIELD, NUMBER_FIELD, decrypt_row
from synapse_groupreg.identity.vault import Vault
from synapse_groupreg.store.identity import IdentityStore
from synapse_groupreg.store.verification import VerificationStore

logger = logging.getLogger(__name__)


class IdentityMaintenance:
    def __init__(
        self,
        vault: Vault,
        store: IdentityStore,
        verification: VerificationStore,
        audit: AuditLog,
        today: Callable[[], date],
        invalidate: Callable[[str], Awaitable[None]],
        guardian_age: int,
    ) -> None:
        self.vault = vault
        self._store = store
        self._verification = verification
        self._audit = audit
        self._today = today
        self._invalidate = invalidate
        self._guardian_age = guardian_age

    async def run(self) -> None:
        await self.reencrypt()
        await self.promote_grown_minors()

    async def reencrypt(self, batch: int = 200) -> int:
        """Move every ciphertext under the current key (A6 key rotation).
        Returns how many rows were re-encrypted."""
        vault, key_id = self.vault, self.vault.current_key_id
        moved = 0
        while True:
            rows = await self._store.not_under_key(key_id, batch)
            for row in rows:
                assert row.name_ct is not None and row.number_ct is not None
                assert row.key_id is not None
                uid = row.user_id
                if await self._store.replace_ciphertexts(
                    uid,
                    row.key_id,
                    vault.reencrypt(row.name_ct, field=NAME_FIELD, user_id=uid),
                    vault.reencrypt(row.number_ct, field=NUMBER_FIELD, user_id=uid),
                    key_id,
                ):
                    moved += 1
            submissions = await self._verification.not_under_key(key_id, batch)
            for sub in submissions:
                assert sub.name_ct is not None and sub.number_ct is not None
                assert sub.key_id is not None
                uid = sub.user_id
                if await self._verification.replace_ciphertexts(
                    sub.id,
                    sub.key_id,
                    vault.reencrypt(sub.name_ct, field=NAME_FIELD, user_id=uid),
                    vault.reencrypt(sub.number_ct, field=NUMBER_FIELD, user_id=uid),
                    key_id,
                ):
                    moved += 1
            if len(rows) < batch and len(submissions) < batch:
                break
        if moved:
            logger.info("re-encrypted %d identity rows under key %s", moved, key_id)
            await self._audit.record(
                SYSTEM, "identity.reencrypt", key_id, {"rows": moved}
            )
        return moved

    async def key_status(self) -> dict[str, Any]:
        """Rows per key, so an operator knows when an old key can go."""
        counts = await self._store.count_by_key()
        for key_id, n in (await self._verification.count_by_key()).items():
            counts[key_id] = counts.get(key_id, 0) + n
        return {
            "current_key_id": self.vault.current_key_id,
            "key_ids": list(self.vault.key_ids),
            "rows_by_key": counts,
        }

    async def promote_grown_minors(self) -> int:
        """A7: identities waiting for a guardian whose holder has reached
        the age count from that day on."""
        today, promoted = self._today(), 0
        for row in await self._store.users_with_status("guardian_required"):
            if row.number_ct is None:
                continue
            _, number = decrypt_row(self.vault, row)
            try:
                born = validate_document(row.document_type, number, today).birth_date
            except InvalidDocument:
                continue
            if born is None or is_minor_under(born, today, self._guardian_age):
                continue
            await self._store.set_status(row.user_id, "verified")
            await self._invalidate(row.user_id)
            await self._audit.record(
                SYSTEM, "identity.guardian_age_reached", row.user_id
            )
            promoted += 1
        return promoted

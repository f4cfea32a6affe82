"""SQL for verified identities (A2, A6, A7, A8).

Names and document numbers are stored only as ciphertexts made by
`identity.vault.Vault`; the person hash is a keyed hash, useless without the
key file. Masked forms are not stored: they are computed from the plaintext
when an admin asks, so erasing the ciphertexts erases everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from synapse.util.caches.descriptors import cached

from synapse_groupreg.identity.documents import IdentityInputError, normalise_phone
from synapse_groupreg.store.database import (
    CachedStore,
    Cursor,
    Migration,
    blob,
)

if TYPE_CHECKING:
    pass

MIGRATIONS = (
    Migration(
        "identity",
        1,
        (
            """
            CREATE TABLE groupreg_identities (
                user_id TEXT PRIMARY KEY,     -- the local Matrix user
                status TEXT NOT NULL,         -- verified | guardian_required | erased
                method TEXT NOT NULL,         -- admin | import | self_service | review
                document_type TEXT NOT NULL,  -- documents.DocumentType value
                person_hash TEXT,             -- keyed hash of (type, number); NULL
                                              -- once erased, unless a hold keeps it
                name_ct {bytes},              -- encrypted real name; NULL once erased
                number_ct {bytes},            -- encrypted normalised number; likewise
                key_id TEXT,                  -- key both ciphertexts are under
                verified_ts BIGINT NOT NULL,  -- when the identity was recorded
                verified_by TEXT NOT NULL,    -- admin user id, or 'system'
                guardian_ts BIGINT,           -- when a guardian's consent was recorded
                erased_ts BIGINT              -- when the plaintext was erased (A8)
            )
            """,
            "CREATE INDEX groupreg_identities_person ON groupreg_identities"
            " (person_hash)",
            "CREATE INDEX groupreg_identities_key ON groupreg_identities (key_id)",
        ),
    ),
)

#: Statuses whose account counts toward the per-person limit (A6).
LIVE_STATUSES = ("verified", "guardian_required")


@attrs.frozen(slots=True)
class IdentityRow:
    user_id: str
    status: str
    method: str
    document_type: str
    person_hash: str | None
    name_ct: bytes | None
    number_ct: bytes | None
    key_id: str | None
    verified_ts: int
    verified_by: str
    guardian_ts: int | None
    erased_ts: int | None


@attrs.frozen(slots=True)
class Standing:
    """What the per-message gate needs, cached per user (A1, A2)."""

    #: The identity row's status, None when there is none.
    identity_status: str | None
    #: Whether a mainland mobile number is bound as an msisdn 3PID (A2).
    #: Only the answer is cached, never the number.
    has_mainland_mobile: bool


_COLUMNS = (
    "user_id, status, method, document_type, person_hash, name_ct, number_ct,"
    " key_id, verified_ts, verified_by, guardian_ts, erased_ts"
)


def _row(t: tuple[Any, ...]) -> IdentityRow:
    values = list(t)
    for i in (5, 6):  # PostgreSQL hands BYTEA back as memoryview
        if values[i] is not None:
            values[i] = bytes(values[i])
    return IdentityRow(*values)


def is_mainland_mobile(msisdn: str) -> bool:
    """Whether a 3PID address (Synapse keeps msisdns as digits without '+',
    e.g. 8613800138000) is a mainland mobile number."""
    try:
        normalise_phone("+" + msisdn)
    except IdentityInputError:
        return False
    return True


class LimitReached(Exception):
    """The person already holds the most accounts allowed (A6)."""

    def __init__(self, held: int) -> None:
        super().__init__(f"the person already holds {held} verified accounts")
        self.held = held


class IdentityStore(CachedStore):
    """The identities table, and the cached standing read on every message.

    Args:
        db: the module's database (with Synapse's caches).
    """

    CACHED = ("standing",)

    async def invalidate_standing(self, user_id: str) -> None:
        """Drop the user's cached standing in every process."""
        await self._invalidate(self.standing, (user_id,))

    async def get_standing(self, user_id: str) -> Standing:
        """The cached standing: no database when warm."""
        # Without Synapse's mypy plugin, mypy cannot bind `self` on a
        # `@cached` method; the call is right at run time.
        this: Any = self
        result: Standing = await this.standing(user_id)
        return result

    @cached(max_entries=100_000)
    async def standing(self, user_id: str) -> Standing:
        """Cached until a write invalidates it (`api.invalidate_cache`);
        registered with `api.register_cached_function` so the invalidation
        reaches every worker."""

        def txn_fn(txn: Cursor) -> Standing:
            txn.execute(
                "SELECT status FROM groupreg_identities WHERE user_id = ?", (user_id,)
            )
            row = txn.fetchone()
            # Synapse's own 3PID table is the truth about bound phone numbers;
            # copying them into ours would only make a second plaintext copy.
            txn.execute(
                "SELECT address FROM user_threepids WHERE user_id = ?"
                " AND medium = 'msisdn'",
                (user_id,),
            )
            mobile = any(is_mainland_mobile(str(r[0])) for r in txn.fetchall())
            return Standing(str(row[0]) if row else None, mobile)

        return await self._db.run("identity_standing", txn_fn)

    async def get(self, user_id: str) -> IdentityRow | None:
        def txn_fn(txn: Cursor) -> IdentityRow | None:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_identities WHERE user_id = ?",
                (user_id,),
            )
            row = txn.fetchone()
            return _row(row) if row else None

        return await self._db.run("identity_get", txn_fn)

    async def accounts_of_person(self, person_hash: str) -> list[str]:
        """The live accounts verified with the document of this hash (D4: a
        blacklisted person's accounts are blocked with them)."""
        placeholders = ", ".join("?" for _ in LIVE_STATUSES)

        def txn_fn(txn: Cursor) -> list[str]:
            txn.execute(
                "SELECT user_id FROM groupreg_identities WHERE person_hash = ?"
                f" AND status IN ({placeholders}) ORDER BY user_id",
                (person_hash, *LIVE_STATUSES),
            )
            return [str(r[0]) for r in txn.fetchall()]

        return await self._db.run("identity_accounts_of_person", txn_fn)

    async def record(self, row: IdentityRow, max_per_person: int) -> bool:
        """Insert or replace `row.user_id`'s identity.

        Returns False (and writes nothing) when the user already has exactly
        this person's identity in force: imports are idempotent.

        Raises:
            LimitReached: when the person already holds `max_per_person`
                other live accounts. Writers are serialised, so two
                verifications racing for the last place cannot both win.
        """

        def txn_fn(txn: Cursor) -> bool:
            self._db.lock_table(txn, "groupreg_identities")
            txn.execute(
                "SELECT person_hash, status FROM groupreg_identities WHERE user_id = ?",
                (row.user_id,),
            )
            current = txn.fetchone()
            if current is not None and (current[0], current[1]) == (
                row.person_hash,
                row.status,
            ):
                return False
            placeholders = ", ".join("?" for _ in LIVE_STATUSES)
            txn.execute(
                "SELECT COUNT(*) FROM groupreg_identities WHERE person_hash = ?"
                f" AND user_id != ? AND status IN ({placeholders})",
                (row.person_hash, row.user_id, *LIVE_STATUSES),
            )
            counted = txn.fetchone()
            held = int(counted[0]) if counted else 0
            if held >= max_per_person:
                raise LimitReached(held)
            txn.execute(
                "DELETE FROM groupreg_identities WHERE user_id = ?", (row.user_id,)
            )
            txn.execute(
                f"INSERT INTO groupreg_identities ({_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *attrs.astuple(row)[:5],
                    blob(row.name_ct),
                    blob(row.number_ct),
                    *attrs.astuple(row)[7:],
                ),
            )
            return True

        return await self._db.run("identity_record", txn_fn)

    async def set_status(
        self, user_id: str, status: str, guardian_ts: int | None = None
    ) -> None:
        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "UPDATE groupreg_identities SET status = ?,"
                " guardian_ts = COALESCE(?, guardian_ts) WHERE user_id = ?",
                (status, guardian_ts, user_id),
            )

        await self._db.run("identity_set_status", txn_fn)

    async def erase(self, user_id: str, keep_hash: bool, now_ms: int) -> bool:
        """Delete the plaintext's ciphertexts (A8); the person hash too
        unless `keep_hash`. Returns whether there was anything to erase."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_identities SET status = 'erased', name_ct = NULL,"
                " number_ct = NULL, key_id = NULL, erased_ts = ?,"
                " person_hash = CASE WHEN ? THEN person_hash ELSE NULL END"
                " WHERE user_id = ? AND status != 'erased'",
                (now_ms, keep_hash, user_id),
            )
            return txn.rowcount > 0

        return await self._db.run("identity_erase", txn_fn)

    async def release_hash(self, person_hash: str) -> list[str]:
        """Forget `person_hash` on erased rows (a blacklist entry that held
        it has ended); returns the users whose rows changed."""

        def txn_fn(txn: Cursor) -> list[str]:
            txn.execute(
                "SELECT user_id FROM groupreg_identities"
                " WHERE person_hash = ? AND status = 'erased'",
                (person_hash,),
            )
            users = [str(r[0]) for r in txn.fetchall()]
            txn.execute(
                "UPDATE groupreg_identities SET person_hash = NULL"
                " WHERE person_hash = ? AND status = 'erased'",
                (person_hash,),
            )
            return users

        return await self._db.run("identity_release_hash", txn_fn)

    async def users_with_status(self, status: str) -> list[IdentityRow]:
        def txn_fn(txn: Cursor) -> list[IdentityRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_identities WHERE status = ?",
                (status,),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("identity_by_status", txn_fn)

    async def count_by_key(self) -> dict[str, int]:
        def txn_fn(txn: Cursor) -> dict[str, int]:
            txn.execute(
                "SELECT key_id, COUNT(*) FROM groupreg_identities"
                " WHERE key_id IS NOT NULL GROUP BY key_id"
            )
            return {str(r[0]): int(r[1]) for r in txn.fetchall()}

        return await self._db.run("identity_count_by_key", txn_fn)

    async def not_under_key(self, key_id: str, limit: int) -> list[IdentityRow]:
        """Rows whose ciphertexts are under another key than `key_id`."""

        def txn_fn(txn: Cursor) -> list[IdentityRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_identities"
                " WHERE key_id IS NOT NULL AND key_id != ? ORDER BY user_id LIMIT ?",
                (key_id, limit),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("identity_not_under_key", txn_fn)

    async def replace_ciphertexts(
        self,
        user_id: str,
        old_key_id: str,
        name_ct: bytes,
        number_ct: bytes,
        key_id: str,
    ) -> bool:
        """Swap in re-encrypted ciphertexts, unless the row changed meanwhile."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_identities SET name_ct = ?, number_ct = ?,"
                " key_id = ? WHERE user_id = ? AND key_id = ?",
                (blob(name_ct), blob(number_ct), key_id, user_id, old_key_id),
            )
            return txn.rowcount > 0

        return await self._db.run("identity_replace_ciphertexts", txn_fn)

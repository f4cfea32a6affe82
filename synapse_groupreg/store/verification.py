"""SQL for self-service verification (A3 b): one-time links and the
submissions waiting for manual review."""

from __future__ import annotations

from typing import Any

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration, blob

MIGRATIONS = (
    Migration(
        "verification",
        1,
        (
            """
            CREATE TABLE groupreg_verify_links (
                token_hash TEXT PRIMARY KEY,  -- sha256 of the link's token; the
                                              -- token itself is only in the DM
                user_id TEXT NOT NULL,        -- whom the link verifies
                created_ts BIGINT NOT NULL,
                expires_ts BIGINT NOT NULL,
                used_ts BIGINT,               -- set when a submission spends it
                attempts INTEGER NOT NULL     -- submissions the provider refused
            )
            """,
            "CREATE INDEX groupreg_verify_links_user ON groupreg_verify_links"
            " (user_id, expires_ts)",
            """
            CREATE TABLE groupreg_identity_submissions (
                id {id},
                user_id TEXT NOT NULL,        -- who submitted
                status TEXT NOT NULL,         -- pending | approved | rejected
                why TEXT NOT NULL,            -- why a person must look: no_provider,
                                              -- passport, provider_unavailable
                document_type TEXT NOT NULL,
                name_ct {bytes},              -- encrypted; NULL once decided
                number_ct {bytes},            -- encrypted; NULL once decided
                key_id TEXT,
                created_ts BIGINT NOT NULL,
                decided_ts BIGINT,
                decided_by TEXT
            )
            """,
            "CREATE INDEX groupreg_identity_submissions_status"
            " ON groupreg_identity_submissions (status, id)",
        ),
    ),
)


@attrs.frozen(slots=True)
class LinkRow:
    token_hash: str
    user_id: str
    created_ts: int
    expires_ts: int
    used_ts: int | None
    attempts: int


@attrs.frozen(slots=True)
class SubmissionRow:
    id: int
    user_id: str
    status: str
    why: str
    document_type: str
    name_ct: bytes | None
    number_ct: bytes | None
    key_id: str | None
    created_ts: int
    decided_ts: int | None
    decided_by: str | None


_LINK_COLUMNS = "token_hash, user_id, created_ts, expires_ts, used_ts, attempts"
_SUBMISSION_COLUMNS = (
    "id, user_id, status, why, document_type, name_ct, number_ct, key_id,"
    " created_ts, decided_ts, decided_by"
)


def _submission(t: tuple[Any, ...]) -> SubmissionRow:
    values = list(t)
    for i in (5, 6):  # PostgreSQL hands BYTEA back as memoryview
        if values[i] is not None:
            values[i] = bytes(values[i])
    return SubmissionRow(*values)


class VerificationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- links ----------------------------------------------------------------

    async def live_link(self, user_id: str, now_ms: int) -> LinkRow | None:
        """The user's newest unexpired, unspent link, if any."""

        def txn_fn(txn: Cursor) -> LinkRow | None:
            txn.execute(
                f"SELECT {_LINK_COLUMNS} FROM groupreg_verify_links"
                " WHERE user_id = ? AND expires_ts > ? AND used_ts IS NULL"
                " ORDER BY expires_ts DESC LIMIT 1",
                (user_id, now_ms),
            )
            row = txn.fetchone()
            return LinkRow(*row) if row else None

        return await self._db.run("verify_live_link", txn_fn)

    async def latest_link_ts(self, user_id: str) -> int | None:
        """When the user was last sent a link, if ever."""

        def txn_fn(txn: Cursor) -> int | None:
            txn.execute(
                "SELECT MAX(created_ts) FROM groupreg_verify_links WHERE user_id = ?",
                (user_id,),
            )
            row = txn.fetchone()
            return int(row[0]) if row and row[0] is not None else None

        return await self._db.run("verify_latest_link", txn_fn)

    async def add_link(self, link: LinkRow) -> None:
        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                f"INSERT INTO groupreg_verify_links ({_LINK_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?)",
                attrs.astuple(link),
            )

        await self._db.run("verify_add_link", txn_fn)

    async def link(self, token_hash: str) -> LinkRow | None:
        def txn_fn(txn: Cursor) -> LinkRow | None:
            txn.execute(
                f"SELECT {_LINK_COLUMNS} FROM groupreg_verify_links"
                " WHERE token_hash = ?",
                (token_hash,),
            )
            row = txn.fetchone()
            return LinkRow(*row) if row else None

        return await self._db.run("verify_link", txn_fn)

    async def rebind_link(
        self, token_hash: str, new_hash: str, expires_ts: int, now_ms: int
    ) -> bool:
        """Replace a live link's token by the page's own (the link's token
        is spent on opening); False if it was not live any more."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_verify_links SET token_hash = ?, expires_ts = ?"
                " WHERE token_hash = ? AND used_ts IS NULL AND expires_ts > ?",
                (new_hash, expires_ts, token_hash, now_ms),
            )
            return txn.rowcount > 0

        return await self._db.run("verify_rebind_link", txn_fn)

    async def spend_link(self, token_hash: str, now_ms: int) -> bool:
        """Mark a link used; False if it was already used (a double submit)."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_verify_links SET used_ts = ?"
                " WHERE token_hash = ? AND used_ts IS NULL",
                (now_ms, token_hash),
            )
            return txn.rowcount > 0

        return await self._db.run("verify_spend_link", txn_fn)

    async def count_attempt(self, token_hash: str) -> int:
        """One more refused submission on this link; returns the new count."""

        def txn_fn(txn: Cursor) -> int:
            txn.execute(
                "UPDATE groupreg_verify_links SET attempts = attempts + 1"
                " WHERE token_hash = ?",
                (token_hash,),
            )
            txn.execute(
                "SELECT attempts FROM groupreg_verify_links WHERE token_hash = ?",
                (token_hash,),
            )
            row = txn.fetchone()
            return int(row[0]) if row else 0

        return await self._db.run("verify_count_attempt", txn_fn)

    async def delete_links_of(self, user_id: str) -> None:
        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "DELETE FROM groupreg_verify_links WHERE user_id = ?", (user_id,)
            )

        await self._db.run("verify_delete_links", txn_fn)

    # -- submissions ------------------------------------------------------------

    async def add_submission(
        self,
        user_id: str,
        why: str,
        document_type: str,
        name_ct: bytes,
        number_ct: bytes,
        key_id: str,
        now_ms: int,
    ) -> int:
        def txn_fn(txn: Cursor) -> int:
            # A newer submission replaces the user's pending one: reviewers
            # look at what the user said last.
            txn.execute(
                "DELETE FROM groupreg_identity_submissions"
                " WHERE user_id = ? AND status = 'pending'",
                (user_id,),
            )
            txn.execute(
                "INSERT INTO groupreg_identity_submissions (user_id, status, why,"
                " document_type, name_ct, number_ct, key_id, created_ts)"
                " VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    why,
                    document_type,
                    blob(name_ct),
                    blob(number_ct),
                    key_id,
                    now_ms,
                ),
            )
            txn.execute(
                "SELECT id FROM groupreg_identity_submissions"
                " WHERE user_id = ? AND status = 'pending'",
                (user_id,),
            )
            row = txn.fetchone()
            assert row is not None
            return int(row[0])

        return await self._db.run("verify_add_submission", txn_fn)

    async def has_pending(self, user_id: str) -> bool:
        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "SELECT 1 FROM groupreg_identity_submissions"
                " WHERE user_id = ? AND status = 'pending'",
                (user_id,),
            )
            return txn.fetchone() is not None

        return await self._db.run("verify_has_pending", txn_fn)

    async def submission(self, submission_id: int) -> SubmissionRow | None:
        def txn_fn(txn: Cursor) -> SubmissionRow | None:
            txn.execute(
                f"SELECT {_SUBMISSION_COLUMNS} FROM groupreg_identity_submissions"
                " WHERE id = ?",
                (submission_id,),
            )
            row = txn.fetchone()
            return _submission(row) if row else None

        return await self._db.run("verify_submission", txn_fn)

    async def pending(self, from_id: int, limit: int) -> list[SubmissionRow]:
        def txn_fn(txn: Cursor) -> list[SubmissionRow]:
            txn.execute(
                f"SELECT {_SUBMISSION_COLUMNS} FROM groupreg_identity_submissions"
                " WHERE status = 'pending' AND id >= ? ORDER BY id LIMIT ?",
                (from_id, limit),
            )
            return [_submission(r) for r in txn.fetchall()]

        return await self._db.run("verify_pending", txn_fn)

    async def decide(
        self, submission_id: int, status: str, actor: str, now_ms: int
    ) -> bool:
        """Close a pending submission and erase its ciphertexts: once decided,
        the identity row (if any) is the only copy. False if not pending."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_identity_submissions SET status = ?,"
                " decided_ts = ?, decided_by = ?, name_ct = NULL, number_ct = NULL,"
                " key_id = NULL WHERE id = ? AND status = 'pending'",
                (status, now_ms, actor, submission_id),
            )
            return txn.rowcount > 0

        return await self._db.run("verify_decide", txn_fn)

    async def erase_submissions_of(self, user_id: str) -> None:
        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "DELETE FROM groupreg_identity_submissions WHERE user_id = ?",
                (user_id,),
            )

        await self._db.run("verify_erase_submissions", txn_fn)

    async def count_by_key(self) -> dict[str, int]:
        def txn_fn(txn: Cursor) -> dict[str, int]:
            txn.execute(
                "SELECT key_id, COUNT(*) FROM groupreg_identity_submissions"
                " WHERE key_id IS NOT NULL GROUP BY key_id"
            )
            return {str(r[0]): int(r[1]) for r in txn.fetchall()}

        return await self._db.run("verify_count_by_key", txn_fn)

    async def not_under_key(self, key_id: str, limit: int) -> list[SubmissionRow]:
        def txn_fn(txn: Cursor) -> list[SubmissionRow]:
            txn.execute(
                f"SELECT {_SUBMISSION_COLUMNS} FROM groupreg_identity_submissions"
                " WHERE key_id IS NOT NULL AND key_id != ? ORDER BY id LIMIT ?",
                (key_id, limit),
            )
            return [_submission(r) for r in txn.fetchall()]

        return await self._db.run("verify_not_under_key", txn_fn)

    async def replace_ciphertexts(
        self,
        submission_id: int,
        old_key_id: str,
        name_ct: bytes,
        number_ct: bytes,
        key_id: str,
    ) -> bool:
        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_identity_submissions SET name_ct = ?,"
                " number_ct = ?, key_id = ? WHERE id = ? AND key_id = ?",
                (blob(name_ct), blob(number_ct), key_id, submission_id, old_key_id),
            )
            return txn.rowcount > 0

        return await self._db.run("verify_replace_ciphertexts", txn_fn)

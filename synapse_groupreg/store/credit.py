"""SQL for the credit ledger (D1).

One row per change of a user's score. Recovery is not written down: it is
computed from the last violation's time whenever the score is read, so it
cannot drift or be missed by a stopped job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from synapse.util.caches.descriptors import cached

from synapse_groupreg.store.database import (
    CachedStore,
    Cursor,
    Migration,
    warm_read,
)

if TYPE_CHECKING:
    pass

MIGRATIONS = (
    Migration(
        "credit",
        1,
        (
            """
            CREATE TABLE groupreg_credit_ledger (
                id {id},
                user_id TEXT NOT NULL,    -- whose score changed
                ts BIGINT NOT NULL,       -- when, ms since the epoch
                kind TEXT NOT NULL,       -- penalty | award | restore
                delta INTEGER NOT NULL,   -- points asked for (the range may clamp)
                score_after INTEGER NOT NULL,  -- the score just after, recovery in
                reason TEXT NOT NULL,     -- why, as the user reads it
                actor TEXT NOT NULL,      -- admin user id, or 'system'
                evidence TEXT NOT NULL,   -- JSON: event, violation or case ids
                sanction_id BIGINT,       -- the lower_credit sanction of a penalty
                reversed_ts BIGINT        -- when a penalty was reversed (lift, appeal)
            )
            """,
            "CREATE INDEX groupreg_credit_ledger_user ON groupreg_credit_ledger"
            " (user_id, id)",
            "CREATE INDEX groupreg_credit_ledger_sanction ON groupreg_credit_ledger"
            " (sanction_id)",
        ),
    ),
)

PENALTY = "penalty"
AWARD = "award"
RESTORE = "restore"


@attrs.frozen(slots=True)
class LedgerRow:
    id: int
    user_id: str
    ts: int
    kind: str
    delta: int
    score_after: int
    reason: str
    actor: str
    evidence: dict[str, Any]
    sanction_id: int | None
    reversed_ts: int | None


@attrs.frozen(slots=True)
class LedgerHead:
    """What the score needs: the last entry's score and time, and the time
    of the last violation that still counts."""

    score: int
    as_of: int
    last_violation: int | None


#: The new entry's fields, computed from the head inside the transaction.
MakeEntry = Callable[[LedgerHead | None, Sequence[LedgerRow]], "NewEntry | None"]


@attrs.frozen(slots=True)
class NewEntry:
    kind: str
    delta: int
    score_after: int
    reason: str
    actor: str
    evidence: dict[str, Any]
    sanction_id: int | None


_COLUMNS = (
    "id, user_id, ts, kind, delta, score_after, reason, actor, evidence,"
    " sanction_id, reversed_ts"
)


def _row(t: tuple[Any, ...]) -> LedgerRow:
    values = list(t)
    values[8] = json.loads(values[8])
    return LedgerRow(*values)


def _head(txn: Cursor, user_id: str) -> LedgerHead | None:
    txn.execute(
        "SELECT score_after, ts FROM groupreg_credit_ledger WHERE user_id = ?"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )
    last = txn.fetchone()
    if last is None:
        return None
    txn.execute(
        "SELECT MAX(ts) FROM groupreg_credit_ledger"
        " WHERE user_id = ? AND kind = ? AND reversed_ts IS NULL",
        (user_id, PENALTY),
    )
    violation = txn.fetchone()
    last_violation = violation[0] if violation else None
    return LedgerHead(
        int(last[0]),
        int(last[1]),
        int(last_violation) if last_violation is not None else None,
    )


def _insert(txn: Cursor, user_id: str, now_ms: int, entry: NewEntry) -> LedgerRow:
    txn.execute(
        "INSERT INTO groupreg_credit_ledger (user_id, ts, kind, delta,"
        " score_after, reason, actor, evidence, sanction_id)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (
            user_id,
            now_ms,
            entry.kind,
            entry.delta,
            entry.score_after,
            entry.reason,
            entry.actor,
            json.dumps(entry.evidence, sort_keys=True),
            entry.sanction_id,
        ),
    )
    row = txn.fetchone()
    assert row is not None
    return _row(row)


class CreditStore(CachedStore):
    """The ledger, and each user's head cached for the per-message path.

    Args:
        db: the module's database.
        server_name, clock: what Synapse's `@cached` needs on its object.
        invalidate: `ModuleApi.invalidate_cache`, which reaches every worker.
    """

    CACHED = ("credit_head",)

    async def get_head(self, user_id: str) -> LedgerHead | None:
        """The cached head: no database when warm."""
        # Without Synapse's mypy plugin, mypy cannot bind `self` on a
        # `@cached` method; the call is right at run time.
        this: Any = self
        # A user with no ledger caches None, which is a hit too.
        head: LedgerHead | None = await warm_read(this.credit_head, user_id)
        return head

    @cached(max_entries=100_000)
    async def credit_head(self, user_id: str) -> LedgerHead | None:
        """Cached until a write for this user invalidates it on every worker."""
        return await self._db.run("credit_head", _head, user_id)

    async def append(
        self, user_id: str, now_ms: int, make: MakeEntry
    ) -> tuple[LedgerHead | None, LedgerRow | None]:
        """Append the entry `make(head, history)` computes; returns the head
        before and the row written (None when `make` declines).

        `history` is the user's whole ledger, oldest first, for changes that
        replay it (a reversal). Writers are serialised on the table, so two
        processes never compute from the same head.
        """

        def txn_fn(txn: Cursor) -> tuple[LedgerHead | None, LedgerRow | None]:
            self._db.lock_table(txn, "groupreg_credit_ledger")
            head = _head(txn, user_id)
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_credit_ledger WHERE user_id = ?"
                " ORDER BY id",
                (user_id,),
            )
            history = [_row(r) for r in txn.fetchall()]
            entry = make(head, history)
            if entry is None:
                return head, None
            return head, _insert(txn, user_id, now_ms, entry)

        result = await self._db.run("credit_append", txn_fn)
        await self._invalidate(self.credit_head, (user_id,))
        return result

    async def reverse(
        self, sanction_id: int, now_ms: int, make: MakeEntry
    ) -> LedgerRow | None:
        """Mark the penalty of `sanction_id` reversed, then append the entry
        `make(head, history)` computes from the ledger as it now reads.
        None, and nothing written, if there is no such penalty or it was
        reversed already."""

        def txn_fn(txn: Cursor) -> LedgerRow | None:
            self._db.lock_table(txn, "groupreg_credit_ledger")
            txn.execute(
                "SELECT user_id FROM groupreg_credit_ledger"
                " WHERE sanction_id = ? AND kind = ? AND reversed_ts IS NULL",
                (sanction_id, PENALTY),
            )
            found = txn.fetchone()
            if found is None:
                return None
            user_id = str(found[0])
            head = _head(txn, user_id)
            txn.execute(
                "UPDATE groupreg_credit_ledger SET reversed_ts = ?"
                " WHERE sanction_id = ? AND kind = ?",
                (now_ms, sanction_id, PENALTY),
            )
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_credit_ledger WHERE user_id = ?"
                " ORDER BY id",
                (user_id,),
            )
            history = [_row(r) for r in txn.fetchall()]
            entry = make(head, history)
            assert entry is not None, "a reversal is always recorded"
            return _insert(txn, user_id, now_ms, entry)

        row = await self._db.run("credit_reverse", txn_fn)
        if row is not None:
            await self._invalidate(self.credit_head, (row.user_id,))
        return row

    async def history(
        self, user_id: str, before_id: int | None, limit: int
    ) -> list[LedgerRow]:
        """The user's entries, newest first, from just below `before_id`."""

        def txn_fn(txn: Cursor) -> list[LedgerRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_credit_ledger"
                " WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                (user_id, before_id if before_id is not None else 2**62, limit),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("credit_history", txn_fn)

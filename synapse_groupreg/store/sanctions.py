"""SQL for sanctions on rooms and users (D2, D3, D5).

A sanction is never deleted: lifting it records when, by whom and why, and
an expiry is a stored time compared with the clock when it matters, so a
sanction ends by itself without any job running.
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
    Database,
    Migration,
    warm_read,
)

if TYPE_CHECKING:
    pass

MIGRATIONS = (
    Migration(
        "sanctions",
        1,
        (
            """
            CREATE TABLE groupreg_sanctions (
                id {id},
                scope TEXT NOT NULL,        -- room | user
                target TEXT NOT NULL,       -- the room id or user id
                action TEXT NOT NULL,       -- warn | suspend_posting | close |
                                            -- lower_credit | suspend_admin |
                                            -- revoke_creation
                reason TEXT NOT NULL,       -- the facts, as the affected read them
                rule TEXT NOT NULL,         -- the rule cited
                automated INTEGER NOT NULL, -- 1 when a threshold decided, not a person
                actor TEXT NOT NULL,        -- admin user id, or 'system'
                created_ts BIGINT NOT NULL, -- when it took effect
                expires_ts BIGINT,          -- when it ends by itself; NULL: no end
                deadline_ts BIGINT,         -- warn: the rectification deadline
                amount INTEGER,             -- lower_credit: points asked for
                evidence TEXT NOT NULL,     -- JSON: event ids, case ids, violations
                details TEXT NOT NULL,      -- JSON: what the effects did
                lifted_ts BIGINT,           -- when it was lifted early
                lifted_by TEXT,             -- who lifted it
                lift_reason TEXT,           -- why
                reversed INTEGER NOT NULL DEFAULT 0,  -- 1: lifted on appeal
                expiry_noticed_ts BIGINT    -- when its end was announced
            )
            """,
            "CREATE INDEX groupreg_sanctions_target ON groupreg_sanctions"
            " (scope, target, id)",
            "CREATE INDEX groupreg_sanctions_open ON groupreg_sanctions"
            " (lifted_ts, expires_ts)",
            """
            CREATE TABLE groupreg_sanction_affected (
                sanction_id BIGINT NOT NULL,  -- the sanction
                user_id TEXT NOT NULL,        -- someone it was stated to
                PRIMARY KEY (sanction_id, user_id)
            )
            """,
            "CREATE INDEX groupreg_sanction_affected_user ON"
            " groupreg_sanction_affected (user_id, sanction_id)",
        ),
    ),
)

#: The actions the per-event checks enforce; warnings and credit changes
#: act once, when applied.
ENFORCED = ("suspend_posting", "close", "suspend_admin", "revoke_creation")


@attrs.frozen(slots=True)
class SanctionRow:
    id: int
    scope: str
    target: str
    action: str
    reason: str
    rule: str
    automated: bool
    actor: str
    created_ts: int
    expires_ts: int | None
    deadline_ts: int | None
    amount: int | None
    evidence: dict[str, Any]
    details: dict[str, Any]
    lifted_ts: int | None
    lifted_by: str | None
    lift_reason: str | None
    reversed: bool
    expiry_noticed_ts: int | None

    def active_at(self, now_ms: int) -> bool:
        return self.lifted_ts is None and (
            self.expires_ts is None or now_ms < self.expires_ts
        )


@attrs.frozen(slots=True)
class NewSanction:
    scope: str
    target: str
    action: str
    reason: str
    rule: str
    automated: bool
    actor: str
    created_ts: int
    expires_ts: int | None
    deadline_ts: int | None
    amount: int | None
    evidence: dict[str, Any]


_COLUMNS = (
    "id, scope, target, action, reason, rule, automated, actor, created_ts,"
    " expires_ts, deadline_ts, amount, evidence, details, lifted_ts, lifted_by,"
    " lift_reason, reversed, expiry_noticed_ts"
)


def _row(t: tuple[Any, ...]) -> SanctionRow:
    v = list(t)
    v[6] = bool(v[6])
    v[12] = json.loads(v[12])
    v[13] = json.loads(v[13])
    v[17] = bool(v[17])
    return SanctionRow(*v)


@attrs.frozen(slots=True)
class SanctionFilter:
    scope: str | None = None
    target: str | None = None
    action: str | None = None
    #: active (in force) | ended (lifted, expired, or a one-off action
    #: already done) | None for all
    status: str | None = None
    #: sanctions stated to this user (their own, their rooms')
    affected: str | None = None
    #: created in [since, until) (ms), for exports
    since: int | None = None
    until: int | None = None


class SanctionStore(CachedStore):
    """Sanctions, and the ones in force cached for the per-event checks.

    Args:
        db: the module's database.
        server_name, clock: what Synapse's `@cached` needs on its object.
        invalidate: `ModuleApi.invalidate_cache`, which reaches every worker.
    """

    CACHED = ("sanctions_in_force",)

    def __init__(self, db: Database, now_ms: Callable[[], int]) -> None:
        super().__init__(db)
        self._now_ms = now_ms

    # -- the per-event path ---------------------------------------------------

    async def get_in_force(self) -> tuple[SanctionRow, ...]:
        """Every enforced sanction not lifted nor expired when loaded; the
        same tuple object until a write invalidates it."""
        this: Any = self  # mypy cannot bind `self` on `@cached` methods
        rows: tuple[SanctionRow, ...] = await warm_read(this.sanctions_in_force)
        return rows

    @cached()
    async def sanctions_in_force(self) -> tuple[SanctionRow, ...]:
        """Cached as one entry: sanctions in force are few, and one entry
        means one query per write per worker instead of one per room."""
        now = self._now_ms()
        marks = ", ".join("?" for _ in ENFORCED)

        def txn_fn(txn: Cursor) -> tuple[SanctionRow, ...]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_sanctions"
                f" WHERE lifted_ts IS NULL AND action IN ({marks})"
                " AND (expires_ts IS NULL OR expires_ts > ?) ORDER BY id",
                (*ENFORCED, now),
            )
            return tuple(_row(r) for r in txn.fetchall())

        return await self._db.run("sanctions_in_force", txn_fn)

    async def _changed(self) -> None:
        await self._invalidate(self.sanctions_in_force, ())

    # -- writes -----------------------------------------------------------------

    async def insert(self, new: NewSanction) -> SanctionRow:
        def txn_fn(txn: Cursor) -> SanctionRow:
            txn.execute(
                "INSERT INTO groupreg_sanctions (scope, target, action, reason,"
                " rule, automated, actor, created_ts, expires_ts, deadline_ts,"
                " amount, evidence, details)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')"
                # Synapse needs SQLite 3.37.2 or later, which has RETURNING.
                f" RETURNING {_COLUMNS}",
                (
                    new.scope,
                    new.target,
                    new.action,
                    new.reason,
                    new.rule,
                    int(new.automated),
                    new.actor,
                    new.created_ts,
                    new.expires_ts,
                    new.deadline_ts,
                    new.amount,
                    json.dumps(new.evidence, sort_keys=True),
                ),
            )
            row = txn.fetchone()
            assert row is not None
            return _row(row)

        row = await self._db.run("sanction_insert", txn_fn)
        if row.action in ENFORCED:
            await self._changed()
        return row

    async def add_details(self, sanction_id: int, details: dict[str, Any]) -> None:
        """Merge what the effects did into the sanction's details."""

        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "SELECT details FROM groupreg_sanctions WHERE id = ?", (sanction_id,)
            )
            found = txn.fetchone()
            merged = {**json.loads(found[0]), **details} if found else details
            txn.execute(
                "UPDATE groupreg_sanctions SET details = ? WHERE id = ?",
                (json.dumps(merged, sort_keys=True), sanction_id),
            )

        await self._db.run("sanction_details", txn_fn)

    async def add_affected(self, sanction_id: int, user_ids: Sequence[str]) -> None:
        def txn_fn(txn: Cursor) -> None:
            for user_id in sorted(set(user_ids)):
                txn.execute(
                    "SELECT 1 FROM groupreg_sanction_affected"
                    " WHERE sanction_id = ? AND user_id = ?",
                    (sanction_id, user_id),
                )
                if txn.fetchone() is None:
                    txn.execute(
                        "INSERT INTO groupreg_sanction_affected (sanction_id, user_id)"
                        " VALUES (?, ?)",
                        (sanction_id, user_id),
                    )

        await self._db.run("sanction_affected", txn_fn)

    async def lift(
        self, sanction_id: int, now_ms: int, actor: str, reason: str, reversed_: bool
    ) -> SanctionRow | None:
        """Mark the sanction lifted; None if it was not in force."""

        def txn_fn(txn: Cursor) -> SanctionRow | None:
            txn.execute(
                "UPDATE groupreg_sanctions SET lifted_ts = ?, lifted_by = ?,"
                " lift_reason = ?, reversed = ?"
                " WHERE id = ? AND lifted_ts IS NULL"
                " AND (expires_ts IS NULL OR expires_ts > ?)",
                (now_ms, actor, reason, int(reversed_), sanction_id, now_ms),
            )
            if txn.rowcount != 1:
                return None
            return _get(txn, sanction_id)

        row = await self._db.run("sanction_lift", txn_fn)
        if row is not None and row.action in ENFORCED:
            await self._changed()
        return row

    async def claim_expired(self, now_ms: int, limit: int) -> list[SanctionRow]:
        """Sanctions that ended by expiry and were not announced yet, marked
        announced in the same transaction so one process announces each."""

        def txn_fn(txn: Cursor) -> list[SanctionRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_sanctions"
                " WHERE lifted_ts IS NULL AND expiry_noticed_ts IS NULL"
                " AND expires_ts IS NOT NULL AND expires_ts <= ?"
                " ORDER BY expires_ts LIMIT ?",
                (now_ms, limit),
            )
            rows = [_row(r) for r in txn.fetchall()]
            for row in rows:
                txn.execute(
                    "UPDATE groupreg_sanctions SET expiry_noticed_ts = ?"
                    " WHERE id = ? AND expiry_noticed_ts IS NULL",
                    (now_ms, row.id),
                )
            return rows

        return await self._db.run("sanctions_claim_expired", txn_fn)

    # -- reads ----------------------------------------------------------------

    async def get(self, sanction_id: int) -> SanctionRow | None:
        return await self._db.run("sanction_get", _get, sanction_id)

    async def affected(self, sanction_id: int) -> list[str]:
        def txn_fn(txn: Cursor) -> list[str]:
            txn.execute(
                "SELECT user_id FROM groupreg_sanction_affected"
                " WHERE sanction_id = ? ORDER BY user_id",
                (sanction_id,),
            )
            return [str(r[0]) for r in txn.fetchall()]

        return await self._db.run("sanction_affected_list", txn_fn)

    async def page(
        self, where: SanctionFilter, from_id: int, limit: int, now_ms: int
    ) -> list[SanctionRow]:
        """Sanctions with id >= from_id, oldest first."""
        clauses = ["id >= ?"]
        args: list[object] = [from_id]
        for column, value in (
            ("scope", where.scope),
            ("target", where.target),
            ("action", where.action),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        # A one-off action (warn, lower_credit) is done once applied: only
        # lasting ones are ever in force.
        lasting = ", ".join("?" for _ in ENFORCED)
        if where.status == "active":
            clauses.append(
                f"action IN ({lasting}) AND lifted_ts IS NULL"
                " AND (expires_ts IS NULL OR expires_ts > ?)"
            )
            args.extend((*ENFORCED, now_ms))
        elif where.status == "ended":
            clauses.append(
                f"(action NOT IN ({lasting}) OR lifted_ts IS NOT NULL"
                " OR (expires_ts IS NOT NULL AND expires_ts <= ?))"
            )
            args.extend((*ENFORCED, now_ms))
        if where.since is not None:
            clauses.append("created_ts >= ?")
            args.append(where.since)
        if where.until is not None:
            clauses.append("created_ts < ?")
            args.append(where.until)
        if where.affected is not None:
            clauses.append(
                "((scope = 'user' AND target = ?) OR id IN (SELECT sanction_id"
                " FROM groupreg_sanction_affected WHERE user_id = ?))"
            )
            args.extend((where.affected, where.affected))

        def txn_fn(txn: Cursor) -> list[SanctionRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_sanctions"
                f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
                (*args, limit),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("sanctions_page", txn_fn)


def _get(txn: Cursor, sanction_id: int) -> SanctionRow | None:
    txn.execute(
        f"SELECT {_COLUMNS} FROM groupreg_sanctions WHERE id = ?", (sanction_id,)
    )
    row = txn.fetchone()
    return _row(row) if row else None

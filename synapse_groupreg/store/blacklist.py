"""SQL for the blacklist (黑名单, D4).

Entries are never deleted: removal records when, by whom and why, and
expiry is a stored time the checks compare with the clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
        "blacklist",
        1,
        (
            """
            CREATE TABLE groupreg_blacklist (
                id {id},
                kind TEXT NOT NULL,         -- user | person | room | server
                target TEXT NOT NULL,       -- user id, person hash, room id or
                                            -- alias, server name; or a glob
                reason TEXT NOT NULL,       -- why, as the listed read it
                actor TEXT NOT NULL,        -- admin user id, or 'system'
                source TEXT NOT NULL,       -- 'admin', or 'policy:<list>' when imported
                created_ts BIGINT NOT NULL,
                expires_ts BIGINT NOT NULL, -- when it stops applying (default 3 years)
                linked_users TEXT NOT NULL, -- JSON: a person's verified accounts
                removed_ts BIGINT,          -- when it was removed early
                removed_by TEXT,
                remove_reason TEXT
            )
            """,
            "CREATE INDEX groupreg_blacklist_target ON groupreg_blacklist"
            " (kind, target)",
            "CREATE INDEX groupreg_blacklist_open ON groupreg_blacklist"
            " (removed_ts, expires_ts)",
        ),
    ),
)


@attrs.frozen(slots=True)
class BlacklistRow:
    id: int
    kind: str
    target: str
    reason: str
    actor: str
    source: str
    created_ts: int
    expires_ts: int | None
    linked_users: tuple[str, ...]
    removed_ts: int | None
    removed_by: str | None
    remove_reason: str | None

    def active_at(self, now_ms: int) -> bool:
        return self.removed_ts is None and (
            self.expires_ts is None or now_ms < self.expires_ts
        )


@attrs.frozen(slots=True)
class NewEntry:
    kind: str
    target: str
    reason: str
    actor: str
    source: str
    created_ts: int
    expires_ts: int
    linked_users: tuple[str, ...] = ()


_COLUMNS = (
    "id, kind, target, reason, actor, source, created_ts, expires_ts,"
    " linked_users, removed_ts, removed_by, remove_reason"
)


def _row(t: tuple[Any, ...]) -> BlacklistRow:
    v = list(t)
    v[8] = tuple(json.loads(v[8]))
    return BlacklistRow(*v)


@attrs.frozen(slots=True)
class EntryFilter:
    kind: str | None = None
    target: str | None = None
    #: active | ended (removed or expired) | None for all
    status: str | None = None
    #: active entries expiring before this time (for review)
    expiring_before: int | None = None
    #: created in [since, until), for exports
    since: int | None = None
    until: int | None = None


class BlacklistStore(CachedStore):
    """The blacklist, and the entries in force cached for the checks.

    Args:
        db: the module's database.
        server_name, clock: what Synapse's `@cached` needs on its object.
        invalidate: `ModuleApi.invalidate_cache`, which reaches every worker.
        now_ms: the clock.
    """

    CACHED = ("blacklist_in_force",)

    def __init__(self, db: Database, now_ms: Callable[[], int]) -> None:
        super().__init__(db)
        self._now_ms = now_ms

    async def get_in_force(self) -> tuple[BlacklistRow, ...]:
        this: Any = self  # mypy cannot bind `self` on `@cached` methods
        rows: tuple[BlacklistRow, ...] = await warm_read(this.blacklist_in_force)
        return rows

    @cached()
    async def blacklist_in_force(self) -> tuple[BlacklistRow, ...]:
        """Cached as one entry: globs must all be tried anyway, so the whole
        list lives in memory; one query per write per worker."""
        now = self._now_ms()

        def txn_fn(txn: Cursor) -> tuple[BlacklistRow, ...]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_blacklist"
                " WHERE removed_ts IS NULL AND expires_ts > ? ORDER BY id",
                (now,),
            )
            return tuple(_row(r) for r in txn.fetchall())

        return await self._db.run("blacklist_in_force", txn_fn)

    async def _changed(self) -> None:
        await self._invalidate(self.blacklist_in_force, ())

    async def add(self, new: NewEntry) -> tuple[BlacklistRow, bool]:
        """Add an entry, or renew the one in force for the same kind and
        target (new reason and expiry). Returns (row, created)."""

        def txn_fn(txn: Cursor) -> tuple[BlacklistRow, bool]:
            self._db.lock_table(txn, "groupreg_blacklist")
            txn.execute(
                "SELECT id FROM groupreg_blacklist WHERE kind = ? AND target = ?"
                " AND removed_ts IS NULL AND expires_ts > ? ORDER BY id DESC LIMIT 1",
                (new.kind, new.target, new.created_ts),
            )
            found = txn.fetchone()
            if found is not None:
                txn.execute(
                    "UPDATE groupreg_blacklist SET reason = ?, actor = ?,"
                    " expires_ts = ?, linked_users = ? WHERE id = ?",
                    (
                        new.reason,
                        new.actor,
                        new.expires_ts,
                        json.dumps(sorted(new.linked_users)),
                        found[0],
                    ),
                )
                row = _get(txn, int(found[0]))
                assert row is not None
                return row, False
            txn.execute(
                "INSERT INTO groupreg_blacklist (kind, target, reason, actor, source,"
                " created_ts, expires_ts, linked_users)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                (
                    new.kind,
                    new.target,
                    new.reason,
                    new.actor,
                    new.source,
                    new.created_ts,
                    new.expires_ts,
                    json.dumps(sorted(new.linked_users)),
                ),
            )
            created = txn.fetchone()
            assert created is not None
            return _row(created), True

        result = await self._db.run("blacklist_add", txn_fn)
        await self._changed()
        return result

    async def remove(
        self, entry_id: int, now_ms: int, actor: str, reason: str
    ) -> BlacklistRow | None:
        """Remove an entry in force; None if there is none by that id."""

        def txn_fn(txn: Cursor) -> BlacklistRow | None:
            txn.execute(
                "UPDATE groupreg_blacklist SET removed_ts = ?, removed_by = ?,"
                " remove_reason = ? WHERE id = ? AND removed_ts IS NULL"
                " AND expires_ts > ?",
                (now_ms, actor, reason, entry_id, now_ms),
            )
            if txn.rowcount != 1:
                return None
            return _get(txn, entry_id)

        row = await self._db.run("blacklist_remove", txn_fn)
        if row is not None:
            await self._changed()
        return row

    async def get(self, entry_id: int) -> BlacklistRow | None:
        return await self._db.run("blacklist_get", _get, entry_id)

    async def person_listed(self, person_hash: str, now_ms: int) -> bool:
        """Whether a person entry in force names the hash. Read from the
        database rather than the cache: verification and erasure ask it
        rarely, and must not act on a stale answer."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "SELECT 1 FROM groupreg_blacklist WHERE kind = 'person'"
                " AND target = ? AND removed_ts IS NULL AND expires_ts > ?",
                (person_hash, now_ms),
            )
            return txn.fetchone() is not None

        return await self._db.run("blacklist_person_listed", txn_fn)

    async def page(
        self, where: EntryFilter, from_id: int, limit: int, now_ms: int
    ) -> list[BlacklistRow]:
        clauses = ["id >= ?"]
        args: list[object] = [from_id]
        for column, value in (("kind", where.kind), ("target", where.target)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if where.status == "active" or where.expiring_before is not None:
            clauses.append("removed_ts IS NULL AND expires_ts > ?")
            args.append(now_ms)
        elif where.status == "ended":
            clauses.append("(removed_ts IS NOT NULL OR expires_ts <= ?)")
            args.append(now_ms)
        if where.expiring_before is not None:
            clauses.append("expires_ts < ?")
            args.append(where.expiring_before)
        if where.since is not None:
            clauses.append("created_ts >= ?")
            args.append(where.since)
        if where.until is not None:
            clauses.append("created_ts < ?")
            args.append(where.until)

        def txn_fn(txn: Cursor) -> list[BlacklistRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_blacklist"
                f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
                (*args, limit),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("blacklist_page", txn_fn)


def _get(txn: Cursor, entry_id: int) -> BlacklistRow | None:
    txn.execute(f"SELECT {_COLUMNS} FROM groupreg_blacklist WHERE id = ?", (entry_id,))
    row = txn.fetchone()
    return _row(row) if row else None

"""SQL for timed mutes (B8): a member of one group, or the whole group with
exempt speakers, silenced until a stored time.

A mute is never deleted: lifting it early records when and by whom, and a
new mute of the same member (or of the whole group) replaces the one in
force, which is recorded as lifted by whoever replaced it. The mutes in
force are one cached entry, read by the per-event check from memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from synapse.util.caches.descriptors import cached

from synapse_groupreg.store.database import (
    CachedStore,
    Cursor,
    Database,
    Migration,
    warm_read,
)

#: The target of a mute of the whole group.
ALL = "*"

MIGRATIONS = (
    Migration(
        "mutes",
        1,
        (
            """
            CREATE TABLE groupreg_mutes (
                id {id},
                room_id TEXT NOT NULL,
                target TEXT NOT NULL,       -- a user id, or '*' for the whole group
                platform INTEGER NOT NULL,  -- 1: a platform moderator's decision
                actor TEXT NOT NULL,        -- who muted (never shown to members)
                reason TEXT NOT NULL,
                exempt TEXT NOT NULL,       -- JSON: who may speak under a '*' mute
                created_ts BIGINT NOT NULL,
                until_ts BIGINT NOT NULL,   -- when it ends by itself
                lifted_ts BIGINT,           -- when it was lifted or replaced
                lifted_by TEXT
            )
            """,
            "CREATE INDEX groupreg_mutes_room ON groupreg_mutes (room_id, target, id)",
            "CREATE INDEX groupreg_mutes_open ON groupreg_mutes (lifted_ts, until_ts)",
        ),
    ),
)


@attrs.frozen(slots=True)
class MuteRow:
    id: int
    room_id: str
    target: str
    platform: bool
    actor: str
    reason: str
    exempt: tuple[str, ...]
    created_ts: int
    until_ts: int
    lifted_ts: int | None
    lifted_by: str | None

    @property
    def whole_group(self) -> bool:
        return self.target == ALL

    def active_at(self, now_ms: int) -> bool:
        return self.lifted_ts is None and now_ms < self.until_ts


@attrs.frozen(slots=True)
class NewMute:
    room_id: str
    target: str
    platform: bool
    actor: str
    reason: str
    exempt: tuple[str, ...]
    created_ts: int
    until_ts: int


_COLUMNS = (
    "id, room_id, target, platform, actor, reason, exempt, created_ts,"
    " until_ts, lifted_ts, lifted_by"
)


def _row(t: tuple[Any, ...]) -> MuteRow:
    v = list(t)
    v[3] = bool(v[3])
    v[6] = tuple(json.loads(v[6]))
    return MuteRow(*v)


class MuteStore(CachedStore):
    """Mutes, and the ones in force cached for the per-event check."""

    CACHED = ("mutes_in_force",)

    def __init__(self, db: Database, now_ms: Callable[[], int]) -> None:
        super().__init__(db)
        self._now_ms = now_ms

    async def get_in_force(self) -> tuple[MuteRow, ...]:
        """Every mute neither lifted nor over when loaded; the same tuple
        object until a write invalidates it (expiry is the reader's clock)."""
        this: Any = self  # mypy cannot bind `self` on `@cached` methods
        rows: tuple[MuteRow, ...] = await warm_read(this.mutes_in_force)
        return rows

    @cached()
    async def mutes_in_force(self) -> tuple[MuteRow, ...]:
        """One entry for all rooms: mutes in force are few next to rooms."""
        now = self._now_ms()

        def txn_fn(txn: Cursor) -> tuple[MuteRow, ...]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_mutes"
                " WHERE lifted_ts IS NULL AND until_ts > ? ORDER BY id",
                (now,),
            )
            return tuple(_row(r) for r in txn.fetchall())

        return await self._db.run("mutes_in_force", txn_fn)

    async def _changed(self) -> None:
        await self._invalidate(self.mutes_in_force, ())

    async def replace(self, new: NewMute) -> tuple[MuteRow, MuteRow | None]:
        """Put `new` in force, ending the one in force on the same target
        (recorded as lifted by `new.actor`); returns (new row, replaced)."""

        def txn_fn(txn: Cursor) -> tuple[MuteRow, MuteRow | None]:
            self._db.lock_table(txn, "groupreg_mutes")
            replaced = _open(txn, new.room_id, new.target, new.created_ts)
            if replaced is not None:
                txn.execute(
                    "UPDATE groupreg_mutes SET lifted_ts = ?, lifted_by = ?"
                    " WHERE id = ?",
                    (new.created_ts, new.actor, replaced.id),
                )
            txn.execute(
                "INSERT INTO groupreg_mutes (room_id, target, platform, actor,"
                " reason, exempt, created_ts, until_ts)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                (
                    new.room_id,
                    new.target,
                    int(new.platform),
                    new.actor,
                    new.reason,
                    json.dumps(list(new.exempt)),
                    new.created_ts,
                    new.until_ts,
                ),
            )
            row = txn.fetchone()
            assert row is not None
            return _row(row), replaced

        result = await self._db.run("mute_replace", txn_fn)
        await self._changed()
        return result

    async def lift(self, mute_id: int, actor: str, now_ms: int) -> MuteRow | None:
        """End mute `mute_id` now; None if it was no longer in force."""

        def txn_fn(txn: Cursor) -> MuteRow | None:
            txn.execute(
                "UPDATE groupreg_mutes SET lifted_ts = ?, lifted_by = ?"
                " WHERE id = ? AND lifted_ts IS NULL AND until_ts > ?"
                f" RETURNING {_COLUMNS}",
                (now_ms, actor, mute_id, now_ms),
            )
            row = txn.fetchone()
            return _row(row) if row is not None else None

        lifted = await self._db.run("mute_lift", txn_fn)
        if lifted is not None:
            await self._changed()
        return lifted

    async def history(self, room_id: str, start: int, limit: int) -> Sequence[MuteRow]:
        """The room's mutes, newest first (ended ones included)."""

        def txn_fn(txn: Cursor) -> list[MuteRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_mutes WHERE room_id = ?"
                " ORDER BY id DESC LIMIT ? OFFSET ?",
                (room_id, limit, start),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("mute_history", txn_fn)


def _open(txn: Cursor, room_id: str, target: str, now_ms: int) -> MuteRow | None:
    txn.execute(
        f"SELECT {_COLUMNS} FROM groupreg_mutes WHERE room_id = ? AND target = ?"
        " AND lifted_ts IS NULL AND until_ts > ? ORDER BY id DESC LIMIT 1",
        (room_id, target, now_ms),
    )
    row = txn.fetchone()
    return _row(row) if row is not None else None

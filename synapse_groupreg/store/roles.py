"""SQL for accountability (B5): who created each group and who administered
it when.

Every process sees every event (`on_new_event` runs on all workers), so each
event is recorded at most once: the first process to insert its id into
`groupreg_role_events` records it, the others find it there and stop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "roles",
        1,
        (
            """
            CREATE TABLE groupreg_room_roles (
                room_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                role TEXT NOT NULL,          -- 'creator' or 'admin'
                power_level BIGINT,          -- NULL for creators of v12 rooms,
                                             -- whose power has no number
                since_ts BIGINT NOT NULL,    -- origin_server_ts of the event
                since_event TEXT NOT NULL,   -- the event that gave the role
                until_ts BIGINT,             -- NULL while the role lasts
                until_event TEXT             -- the event that took it away
            )
            """,
            "CREATE INDEX groupreg_room_roles_room"
            " ON groupreg_room_roles (room_id, since_ts)",
            """
            CREATE TABLE groupreg_role_events (
                event_id TEXT PRIMARY KEY,   -- a create or power-levels event recorded
                room_id TEXT NOT NULL,
                stream_ordering BIGINT NOT NULL  -- its place in the server's stream
            )
            """,
            "CREATE INDEX groupreg_role_events_room"
            " ON groupreg_role_events (room_id, stream_ordering)",
        ),
    ),
)

CREATOR = "creator"
ADMIN = "admin"
#: The table a writer locks first (PostgreSQL: before its first query).
LOCKED = "groupreg_room_roles"


@attrs.frozen(slots=True)
class RoleRow:
    room_id: str
    user_id: str
    role: str
    power_level: int | None
    since_ts: int
    since_event: str
    until_ts: int | None
    until_event: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "role": self.role,
            "power_level": self.power_level,
            "since_ts": self.since_ts,
            "since_event": self.since_event,
            "until_ts": self.until_ts,
            "until_event": self.until_event,
        }


@attrs.frozen(slots=True)
class RoleChange:
    user_id: str
    role: str
    #: 'granted', 'revoked', or 'changed' (a new power level, still an admin)
    change: str
    power_level: int | None


_COLUMNS = (
    "room_id, user_id, role, power_level, since_ts, since_event, until_ts, until_event"
)


class RoleStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        room_id: str,
        event_id: str,
        stream_ordering: int,
        ts: int,
        role: str,
        holders: Mapping[str, int | None],
    ) -> list[RoleChange] | None:
        """Record that after `event_id` the users holding `role` in the room
        are `holders` (user id -> power level). Returns the changes, or None
        when the event was already recorded (by this or another process).
        An event older than one already recorded for the room changes
        nothing: it arrived late and history is already past it."""

        def txn_fn(txn: Cursor) -> list[RoleChange] | None:
            self._db.lock_table(txn, LOCKED)
            return self.record_txn(
                txn, room_id, event_id, stream_ordering, ts, role, holders
            )

        return await self._db.run("record_roles", txn_fn)

    def record_txn(
        self,
        txn: Cursor,
        room_id: str,
        event_id: str,
        stream_ordering: int,
        ts: int,
        role: str,
        holders: Mapping[str, int | None],
    ) -> list[RoleChange] | None:
        """`record` inside a transaction that has locked `LOCKED` first."""
        txn.execute(
            "INSERT INTO groupreg_role_events (event_id, room_id, stream_ordering)"
            " VALUES (?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
            (event_id, room_id, stream_ordering),
        )
        if txn.rowcount != 1:
            return None
        txn.execute(
            "SELECT MAX(stream_ordering) FROM groupreg_role_events"
            " WHERE room_id = ? AND event_id <> ?",
            (room_id, event_id),
        )
        latest = txn.fetchone()
        newest = latest[0] if latest is not None else None
        if role == ADMIN and newest is not None and int(newest) > stream_ordering:
            return []
        txn.execute(
            "SELECT user_id, power_level FROM groupreg_room_roles"
            " WHERE room_id = ? AND role = ? AND until_ts IS NULL",
            (room_id, role),
        )
        current = {str(r[0]): r[1] for r in txn.fetchall()}
        changes: list[RoleChange] = []
        for user_id, level in current.items():
            if user_id in holders and holders[user_id] == level:
                continue
            txn.execute(
                "UPDATE groupreg_room_roles SET until_ts = ?, until_event = ?"
                " WHERE room_id = ? AND user_id = ? AND role = ?"
                " AND until_ts IS NULL",
                (ts, event_id, room_id, user_id, role),
            )
            if user_id not in holders:
                changes.append(RoleChange(user_id, role, "revoked", level))
        for user_id, level in holders.items():
            if user_id in current and current[user_id] == level:
                continue
            txn.execute(
                f"INSERT INTO groupreg_room_roles ({_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                (room_id, user_id, role, level, ts, event_id),
            )
            change = "changed" if user_id in current else "granted"
            changes.append(RoleChange(user_id, role, change, level))
        return changes

    async def history(self, room_id: str) -> list[RoleRow]:
        """Every role anyone held in the room, in the order they got it."""

        def txn_fn(txn: Cursor) -> list[RoleRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_room_roles WHERE room_id = ?"
                " ORDER BY since_ts, role, user_id",
                (room_id,),
            )
            return [RoleRow(*r) for r in txn.fetchall()]

        return await self._db.run("role_history", txn_fn)

    async def holders_at(self, room_id: str, at_ts: int) -> list[RoleRow]:
        """The roles held at `at_ts` (ms): given at or before it, not yet
        taken away."""

        def txn_fn(txn: Cursor) -> list[RoleRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_room_roles WHERE room_id = ?"
                " AND since_ts <= ? AND (until_ts IS NULL OR until_ts > ?)"
                " ORDER BY role DESC, since_ts, user_id",
                (room_id, at_ts, at_ts),
            )
            return [RoleRow(*r) for r in txn.fetchall()]

        return await self._db.run("role_holders_at", txn_fn)

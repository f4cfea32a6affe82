"""SQL for join waves (B9): a group turned to knocking for a cool-down."""

from __future__ import annotations

from typing import Any

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "join_waves",
        1,
        (
            """
            CREATE TABLE groupreg_join_waves (
                wave_id {id},
                room_id TEXT NOT NULL,
                started_ts BIGINT NOT NULL,
                ends_ts BIGINT NOT NULL,     -- when the cool-down is over
                joins INTEGER NOT NULL,      -- joins in the window that set it off
                previous_rule TEXT NOT NULL, -- join_rules content before (JSON)
                applied_rule TEXT NOT NULL,  -- the join rule the wave set (knock, ...)
                event_id TEXT NOT NULL,      -- the join_rules event the wave sent
                ended_ts BIGINT,             -- NULL while the wave lasts
                outcome TEXT                 -- restored, changed, failed
            )
            """,
            "CREATE INDEX groupreg_join_waves_open"
            " ON groupreg_join_waves (ended_ts, ends_ts)",
            "CREATE INDEX groupreg_join_waves_room ON groupreg_join_waves (room_id)",
        ),
    ),
)

_COLUMNS = (
    "wave_id, room_id, started_ts, ends_ts, joins, previous_rule, applied_rule,"
    " event_id, ended_ts, outcome"
)


@attrs.frozen(slots=True)
class JoinWave:
    wave_id: int
    room_id: str
    started_ts: int
    ends_ts: int
    joins: int
    previous_rule: str
    applied_rule: str
    event_id: str
    ended_ts: int | None
    outcome: str | None

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


class JoinWaveStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def start(
        self,
        room_id: str,
        now: int,
        ends: int,
        joins: int,
        previous_rule: str,
        applied_rule: str,
        event_id: str,
    ) -> int:
        def txn_fn(txn: Cursor) -> int:
            txn.execute(
                "INSERT INTO groupreg_join_waves (room_id, started_ts, ends_ts,"
                " joins, previous_rule, applied_rule, event_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING wave_id",
                (room_id, now, ends, joins, previous_rule, applied_rule, event_id),
            )
            row = txn.fetchone()
            assert row is not None
            return int(row[0])

        return await self._db.run("join_wave_start", txn_fn)

    async def open_waves(self) -> list[JoinWave]:
        """Waves not ended yet, oldest first."""

        def txn_fn(txn: Cursor) -> list[JoinWave]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_join_waves"
                " WHERE ended_ts IS NULL ORDER BY wave_id"
            )
            return [JoinWave(*row) for row in txn.fetchall()]

        return await self._db.run("join_waves_open", txn_fn)

    async def end(self, wave_id: int, now: int, outcome: str) -> bool:
        """Close a wave; False if another process closed it first."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_join_waves SET ended_ts = ?, outcome = ?"
                " WHERE wave_id = ? AND ended_ts IS NULL",
                (now, outcome, wave_id),
            )
            return txn.rowcount == 1

        return await self._db.run("join_wave_end", txn_fn)

    async def of_room(self, room_id: str) -> list[JoinWave]:
        def txn_fn(txn: Cursor) -> list[JoinWave]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_join_waves WHERE room_id = ?"
                " ORDER BY wave_id",
                (room_id,),
            )
            return [JoinWave(*row) for row in txn.fetchall()]

        return await self._db.run("join_waves_of_room", txn_fn)

"""SQL for the notice bot's direct-message rooms."""

from __future__ import annotations

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "notices",
        1,
        (
            """
            CREATE TABLE groupreg_notice_rooms (
                user_id TEXT PRIMARY KEY,  -- the local user the bot writes to
                room_id TEXT NOT NULL,     -- the bot's direct-message room with them
                created_ts BIGINT NOT NULL
            )
            """,
        ),
    ),
)


class NoticeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def dm_room(self, user_id: str) -> str | None:
        def txn_fn(txn: Cursor) -> str | None:
            txn.execute(
                "SELECT room_id FROM groupreg_notice_rooms WHERE user_id = ?",
                (user_id,),
            )
            row = txn.fetchone()
            return str(row[0]) if row else None

        return await self._db.run("notice_dm_room", txn_fn)

    async def set_dm_room(self, user_id: str, room_id: str, now_ms: int) -> None:
        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "DELETE FROM groupreg_notice_rooms WHERE user_id = ?", (user_id,)
            )
            txn.execute(
                "INSERT INTO groupreg_notice_rooms (user_id, room_id, created_ts)"
                " VALUES (?, ?, ?)",
                (user_id, room_id, now_ms),
            )

        await self._db.run("notice_set_dm_room", txn_fn)

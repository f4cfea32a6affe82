"""Reading room names and topics from Synapse's own room statistics, for
emergency measures that select rooms by keyword (D6).

`room_stats_state` holds each room's current name, topic and canonical
alias, kept by Synapse's stats handler; `room_stats_current` says how many
of our users are in it. Read only; the module owns neither table.
"""

from __future__ import annotations

import attrs

from synapse_groupreg.store.database import Cursor, Database


@attrs.frozen(slots=True)
class RoomText:
    room_id: str
    name: str | None
    topic: str | None
    alias: str | None


class RoomTextStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def local_rooms(self, after: str, limit: int) -> list[RoomText]:
        """Rooms with at least one of our users, by room id after `after`."""

        def txn_fn(txn: Cursor) -> list[RoomText]:
            txn.execute(
                "SELECT s.room_id, s.name, s.topic, s.canonical_alias"
                " FROM room_stats_state AS s"
                " JOIN room_stats_current AS c ON c.room_id = s.room_id"
                " WHERE c.local_users_in_room > 0 AND s.room_id > ?"
                " ORDER BY s.room_id LIMIT ?",
                (after, limit),
            )
            return [RoomText(*row) for row in txn.fetchall()]

        return await self._db.run("room_texts", txn_fn)

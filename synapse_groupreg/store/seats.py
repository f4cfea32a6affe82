"""SQL for cap accounting (B3): seats reserved for joins and invites, and the
counts that caps are checked against.

Members are counted from Synapse's own current state, which the event
persister updates in the same transaction as it stores each membership
event, so a count is never behind what has happened:

- `current_state_events (room_id, type, state_key, membership)`: the
  room's current membership, local and remote users alike;
- `local_current_membership (room_id, user_id, membership)`: the rooms each
  local user is in.

(Both exist with these columns since Synapse's schema 72, the oldest full
schema of the 1.163 wheel.)

A check that admits a member cannot wait for the event to be stored, and
two processes may admit at once. So admission reserves a seat here, in a
transaction that first locks this table: every process's admissions are
serialised by the database, whatever worker they run on. A reservation
counts while its user is not (yet) seated in Synapse's state and until it
expires (a join that failed after the check). Once the member is seated it
is redundant; it is deleted when they leave, so that it cannot count again,
and expired ones are purged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration
from synapse_groupreg.store.rooms import IssuedCode

MIGRATIONS = (
    Migration(
        "seats",
        1,
        (
            """
            CREATE TABLE groupreg_seats (
                room_id TEXT NOT NULL,
                user_id TEXT NOT NULL,      -- who the seat is held for
                membership TEXT NOT NULL,   -- 'join' or 'invite'
                held_until BIGINT NOT NULL, -- ms; the seat is free after this
                PRIMARY KEY (room_id, user_id)
            )
            """,
            "CREATE INDEX groupreg_seats_user ON groupreg_seats (user_id)",
        ),
    ),
)

#: Memberships that occupy a seat (B3: joined + invited).
SEATED = ("join", "invite")
_DIRECT = "direct"

T = TypeVar("T")


@attrs.frozen(slots=True)
class SeatCounts:
    """What a join or invite is judged on, counted under the lock."""

    #: Members of the room, joined or invited, other than the newcomer, plus
    #: live reservations of others.
    members: int
    #: Groups the newcomer has joined or holds a join seat in, other than
    #: this one (None when not asked: invites, remote users).
    joined: int | None


@attrs.frozen(slots=True)
class CreationCounts:
    """What a room creation is judged on, counted under the lock."""

    #: Active groups (not direct chats) the creator made, plus creations in
    #: progress.
    created: int
    #: The same, in the class being created.
    created_in_class: int
    #: Groups the creator has joined or holds a join seat in.
    joined: int


_MEMBERS = (
    "SELECT COUNT(*) FROM current_state_events"
    " WHERE room_id = ? AND type = 'm.room.member' AND state_key <> ?"
    " AND membership IN ('join', 'invite')"
)
_OTHER_SEATS = (
    "SELECT COUNT(*) FROM groupreg_seats s"
    " WHERE s.room_id = ? AND s.user_id <> ? AND s.held_until > ?"
    " AND NOT EXISTS (SELECT 1 FROM current_state_events c"
    "  WHERE c.room_id = s.room_id AND c.type = 'm.room.member'"
    "  AND c.state_key = s.user_id AND c.membership IN ('join', 'invite'))"
)
_JOINED = (
    "SELECT COUNT(*) FROM local_current_membership m"
    " WHERE m.user_id = ? AND m.membership = 'join' AND m.room_id <> ?"
    " AND NOT EXISTS (SELECT 1 FROM groupreg_rooms r"
    f"  WHERE r.room_id = m.room_id AND r.room_class = '{_DIRECT}')"
)
_JOIN_SEATS = (
    "SELECT COUNT(*) FROM groupreg_seats s"
    " WHERE s.user_id = ? AND s.membership = 'join' AND s.room_id <> ?"
    " AND s.held_until > ?"
    " AND NOT EXISTS (SELECT 1 FROM local_current_membership m"
    "  WHERE m.room_id = s.room_id AND m.user_id = s.user_id"
    "  AND m.membership = 'join')"
    " AND NOT EXISTS (SELECT 1 FROM groupreg_rooms r"
    f"  WHERE r.room_id = s.room_id AND r.room_class = '{_DIRECT}')"
)


def _count(txn: Cursor, sql: str, args: tuple[object, ...]) -> int:
    txn.execute(sql, args)
    row = txn.fetchone()
    return int(row[0]) if row else 0


class SeatStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _joined(self, txn: Cursor, user_id: str, room_id: str, now_ms: int) -> int:
        return _count(txn, _JOINED, (user_id, room_id)) + _count(
            txn, _JOIN_SEATS, (user_id, room_id, now_ms)
        )

    async def reserve_seat(
        self,
        room_id: str,
        user_id: str,
        membership: str,
        count_joined: bool,
        now_ms: int,
        held_until: int | None,
        decide: Callable[[SeatCounts], T | None],
    ) -> T | None:
        """Count under the lock, ask `decide`, and reserve the seat until
        `held_until` unless it answered something (a refusal); None only
        counts. Returns the answer."""

        def txn_fn(txn: Cursor) -> T | None:
            self._db.lock_table(txn, "groupreg_seats")
            members = _count(txn, _MEMBERS, (room_id, user_id)) + _count(
                txn, _OTHER_SEATS, (room_id, user_id, now_ms)
            )
            joined = (
                self._joined(txn, user_id, room_id, now_ms) if count_joined else None
            )
            answer = decide(SeatCounts(members, joined))
            if answer is not None or held_until is None:
                return answer
            txn.execute(
                "DELETE FROM groupreg_seats WHERE room_id = ? AND user_id = ?",
                (room_id, user_id),
            )
            txn.execute(
                "INSERT INTO groupreg_seats (room_id, user_id, membership, held_until)"
                " VALUES (?, ?, ?, ?)",
                (room_id, user_id, membership, held_until),
            )
            return None

        return await self._db.run("reserve_seat", txn_fn)

    async def reserve_creation(
        self,
        code: IssuedCode,
        now_ms: int,
        held_until: int,
        decide: Callable[[CreationCounts], T | None],
    ) -> T | None:
        """The same for a room being created: its code counts against the
        creator's caps from now until the room is registered or the hold
        expires (the code's row is written here, reserved for its creator)."""
        creator, room_class = code.creator, code.room_class

        def txn_fn(txn: Cursor) -> T | None:
            self._db.lock_table(txn, "groupreg_seats")
            created = _count(
                txn,
                "SELECT COUNT(*) FROM groupreg_rooms"
                " WHERE creator = ? AND status = 'active' AND room_class <> ?",
                (creator, _DIRECT),
            ) + _count(
                txn,
                "SELECT COUNT(*) FROM groupreg_codes WHERE creator = ?"
                " AND room_class <> ? AND room_id IS NULL AND held_until > ?"
                " AND code <> ?",
                (creator, _DIRECT, now_ms, code.code),
            )
            in_class = _count(
                txn,
                "SELECT COUNT(*) FROM groupreg_rooms"
                " WHERE creator = ? AND status = 'active' AND room_class = ?",
                (creator, room_class),
            ) + _count(
                txn,
                "SELECT COUNT(*) FROM groupreg_codes WHERE creator = ?"
                " AND room_class = ? AND room_id IS NULL AND held_until > ?"
                " AND code <> ?",
                (creator, room_class, now_ms, code.code),
            )
            joined = self._joined(txn, creator, "", now_ms)
            answer = decide(CreationCounts(created, in_class, joined))
            if answer is not None:
                return answer
            txn.execute(
                "INSERT INTO groupreg_codes (serial, code, creator, room_class,"
                " category, allocated_ts, held_until) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (code) DO UPDATE SET held_until = excluded.held_until",
                (
                    code.serial,
                    code.code,
                    creator,
                    room_class,
                    code.category,
                    code.issued_ts,
                    held_until,
                ),
            )
            return None

        return await self._db.run("reserve_creation", txn_fn)

    async def release(self, room_id: str, user_id: str, made_before: int) -> None:
        """Drop the user's reservation in the room if it ends before
        `made_before` (one made for a later join is kept)."""

        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "DELETE FROM groupreg_seats WHERE room_id = ? AND user_id = ?"
                " AND held_until <= ?",
                (room_id, user_id, made_before),
            )

        await self._db.run("release_seat", txn_fn)

    async def purge_expired(self, now_ms: int) -> int:
        def txn_fn(txn: Cursor) -> int:
            txn.execute("DELETE FROM groupreg_seats WHERE held_until <= ?", (now_ms,))
            return txn.rowcount

        return await self._db.run("purge_seats", txn_fn)

    async def members(self, room_id: str) -> list[str]:
        """Users joined to or invited into the room, local and remote."""

        def txn_fn(txn: Cursor) -> list[str]:
            txn.execute(
                "SELECT state_key FROM current_state_events"
                " WHERE room_id = ? AND type = 'm.room.member'"
                " AND membership IN ('join', 'invite')",
                (room_id,),
            )
            return [str(r[0]) for r in txn.fetchall()]

        return await self._db.run("room_members", txn_fn)

    async def member_counts(self, room_ids: list[str]) -> dict[str, int]:
        """Joined + invited members of each room (for listings)."""
        if not room_ids:
            return {}
        marks = ", ".join("?" for _ in room_ids)

        def txn_fn(txn: Cursor) -> dict[str, int]:
            txn.execute(
                "SELECT room_id, COUNT(*) FROM current_state_events"
                f" WHERE room_id IN ({marks}) AND type = 'm.room.member'"
                " AND membership IN ('join', 'invite') GROUP BY room_id",
                tuple(room_ids),
            )
            return {str(r[0]): int(r[1]) for r in txn.fetchall()}

        return await self._db.run("member_counts", txn_fn)

"""SQL for the room registry (B1, B4, B6): registration codes and the rooms
they were given to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import attrs
from synapse.util.caches.descriptors import cached

from synapse_groupreg.store.database import CachedStore, Cursor, Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "rooms",
        1,
        (
            """
            CREATE TABLE groupreg_codes (
                serial {id},                -- never reused: the number inside the code
                code TEXT UNIQUE,           -- prefix + serial + check digit
                creator TEXT NOT NULL,      -- who asked for the room
                room_class TEXT NOT NULL,   -- the class asked for
                category TEXT,              -- the category asked for, if any
                allocated_ts BIGINT NOT NULL,
                held_until BIGINT,          -- counts against the creator's caps until
                                            -- then while the room is being created
                room_id TEXT UNIQUE,        -- the room that got it; NULL while being
                                            -- created, or if creation failed
                retired_ts BIGINT           -- when its room was closed
            )
            """,
            "CREATE INDEX groupreg_codes_creator"
            " ON groupreg_codes (creator, held_until)",
            """
            CREATE TABLE groupreg_rooms (
                room_id TEXT PRIMARY KEY,
                code TEXT UNIQUE,           -- NULL for direct chats, which have none,
                                            -- and for rooms replaced by an upgrade
                room_class TEXT NOT NULL,   -- a configured class, or 'direct'
                category TEXT,              -- NULL until someone sets one
                creator TEXT NOT NULL,      -- the sender of m.room.create (of the
                                            -- first room, across upgrades)
                created_ts BIGINT NOT NULL,
                status TEXT NOT NULL,       -- 'active', 'closed' or 'upgraded'
                status_ts BIGINT NOT NULL,  -- when the status last changed
                replaced_by TEXT            -- the room an upgrade moved the group to
            )
            """,
            "CREATE INDEX groupreg_rooms_creator ON groupreg_rooms (creator, status)",
            "CREATE INDEX groupreg_rooms_class ON groupreg_rooms (room_class, status)",
        ),
    ),
    Migration(
        "rooms",
        2,
        (
            # Serial numbers are handed out in blocks, one block per process
            # at a time, so creating a room costs no transaction for its
            # code: block b holds serials (b-1)*SERIAL_BLOCK+1 .. b*SERIAL_BLOCK.
            """
            CREATE TABLE groupreg_code_blocks (
                block {id},                 -- never reused, like the serials in it
                instance TEXT NOT NULL,     -- the Synapse process that took it
                taken_ts BIGINT NOT NULL
            )
            """,
            # Codes allocated one by one before blocks existed keep their
            # serials: the first block starts after the highest of them.
            "INSERT INTO groupreg_code_blocks (block, instance, taken_ts)"
            " SELECT m, 'before blocks', 0 FROM"
            " (SELECT (MAX(serial) + 15) / 16 AS m FROM groupreg_codes) AS t"
            " WHERE m IS NOT NULL",
            "{resync_blocks}",
        ),
    ),
)

MIGRATIONS += (
    Migration(
        "rooms",
        3,
        (
            # H1: when a room that existed before the module was registered
            # (NULL for rooms registered at their creation).
            "ALTER TABLE groupreg_rooms ADD COLUMN adopted_ts BIGINT",
            # H3: 1 for a room encrypted before adoption whose class forbids
            # encryption, kept working as an exception.
            "ALTER TABLE groupreg_rooms ADD COLUMN encryption_exception"
            " SMALLINT NOT NULL DEFAULT 0",
        ),
    ),
)

#: Serials in one block (the `16` in the migration above).
SERIAL_BLOCK = 16

ACTIVE = "active"
CLOSED = "closed"
#: The group moved to another room by a room upgrade (`replaced_by`).
UPGRADED = "upgraded"


@attrs.frozen(slots=True)
class RoomRow:
    """A registered room. Cached and shared: never mutate."""

    room_id: str
    code: str | None
    room_class: str
    category: str | None
    creator: str
    created_ts: int
    status: str
    status_ts: int
    replaced_by: str | None = None
    #: When the room was adopted (it existed before the module), or None.
    adopted_ts: int | None = None
    #: Encrypted before adoption in a class without encryption, kept (H3).
    encryption_exception: bool = attrs.field(default=False, converter=bool)

    def to_json(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "code": self.code,
            "class": self.room_class,
            "category": self.category,
            "creator": self.creator,
            "created_ts": self.created_ts,
            "status": self.status,
            "status_ts": self.status_ts,
            "replaced_by": self.replaced_by,
            "adopted_ts": self.adopted_ts,
            "encryption_exception": self.encryption_exception,
        }


@attrs.frozen(slots=True)
class IssuedCode:
    """A code handed out for a room about to be created, before its room
    exists (the creator's reservation of it is a row of `groupreg_codes`)."""

    serial: int
    code: str
    creator: str
    room_class: str
    category: str | None
    issued_ts: int


_ROOM_COLUMNS = (
    "room_id, code, room_class, category, creator, created_ts, status, status_ts,"
    " replaced_by, adopted_ts, encryption_exception"
)
_ROOM_VALUES = ", ".join("?" for _ in _ROOM_COLUMNS.split(","))


def _room(t: tuple[Any, ...]) -> RoomRow:
    return RoomRow(*t)


def _values(row: RoomRow) -> tuple[Any, ...]:
    values = attrs.astuple(row)
    return (*values[:-1], int(row.encryption_exception))


def _like_escape(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


@attrs.frozen(slots=True)
class RegistrySearch:
    """What the registry's list is narrowed to (all optional)."""

    room_class: str | None = None
    status: str | None = None
    creator: str | None = None
    #: A code (normalised, when the text is one), part of a name, or a room id.
    text: str | None = None
    code: str | None = None
    #: Rooms this user created or is joined to.
    user: str | None = None
    #: Direct chats are hidden unless asked for.
    include_direct: bool = False
    direct_class: str = "direct"
    #: Rooms these users created are hidden (the notice bot's chats).
    exclude_creators: tuple[str, ...] = ()


class RoomStore(CachedStore):
    """The registry's tables. `room()` is read on every membership check and
    cached in every process; each write that changes it invalidates it on
    all workers."""

    CACHED = ("_cached_room",)

    async def _forget(self, room_id: str) -> None:
        await self._invalidate(self._cached_room, (room_id,))

    # -- codes --------------------------------------------------------------

    async def take_serial_block(self, instance: str, now_ms: int) -> range:
        """A fresh block of serial numbers for this process to hand out. The
        block number comes from the table's own sequence, which neither
        engine ever hands out twice, so no serial is ever given twice."""

        def txn_fn(txn: Cursor) -> int:
            txn.execute(
                "INSERT INTO groupreg_code_blocks (instance, taken_ts)"
                " VALUES (?, ?) RETURNING block",
                (instance, now_ms),
            )
            row = txn.fetchone()
            assert row is not None
            return int(row[0])

        block = await self._db.run("take_serial_block", txn_fn)
        return range((block - 1) * SERIAL_BLOCK + 1, block * SERIAL_BLOCK + 1)

    # -- rooms --------------------------------------------------------------

    def register_txn(
        self,
        txn: Cursor,
        room_id: str,
        code: IssuedCode | None,
        room_class: str,
        category: str | None,
        creator: str,
        now_ms: int,
        adopted_from_ts: int | None = None,
        encryption_exception: bool = False,
    ) -> RoomRow | None:
        """Register a new room inside `txn`, binding its code (the creator's
        reservation of it, or a new row for creations nobody reserved: server
        admins', adopted rooms'). `adopted_from_ts`: the room existed before,
        created then (H1). None if the code is not free for it (given to another room
        or another creator). The caller invalidates `room` for `room_id`."""
        if code is not None:
            txn.execute(
                "UPDATE groupreg_codes SET room_id = ?, held_until = NULL"
                " WHERE code = ? AND room_id IS NULL AND creator = ?",
                (room_id, code.code, creator),
            )
            if txn.rowcount != 1:
                txn.execute("SELECT 1 FROM groupreg_codes WHERE code = ?", (code.code,))
                if txn.fetchone() is not None:
                    return None
                txn.execute(
                    "INSERT INTO groupreg_codes (serial, code, creator, room_class,"
                    " category, allocated_ts, room_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        code.serial,
                        code.code,
                        creator,
                        code.room_class,
                        code.category,
                        code.issued_ts,
                        room_id,
                    ),
                )
        txn.execute("SELECT 1 FROM groupreg_rooms WHERE room_id = ?", (room_id,))
        if txn.fetchone() is not None:
            return None
        row = RoomRow(
            room_id,
            code.code if code is not None else None,
            room_class,
            category,
            creator,
            now_ms if adopted_from_ts is None else adopted_from_ts,
            ACTIVE,
            now_ms,
            adopted_ts=None if adopted_from_ts is None else now_ms,
            encryption_exception=encryption_exception,
        )
        txn.execute(
            f"INSERT INTO groupreg_rooms ({_ROOM_COLUMNS}) VALUES ({_ROOM_VALUES})",
            _values(row),
        )
        return row

    async def registered(self, row: RoomRow) -> None:
        """After `register_txn` committed: every process forgets what it knew
        of the room (nothing, or that it was not registered), and this one
        knows it at once."""
        await self._forget(row.room_id)
        self._cached_room.prefill((row.room_id,), row)

    async def room(self, room_id: str) -> RoomRow | None:
        """The registered room, from this process's cache when warm."""
        # Synapse types @cached methods through its own mypy plugin; seen
        # without it, the cached function is called like the plain method.
        lookup = cast(Callable[[str], Awaitable[RoomRow | None]], self._cached_room)
        return await lookup(room_id)

    @cached()
    async def _cached_room(self, room_id: str) -> RoomRow | None:
        def txn_fn(txn: Cursor) -> RoomRow | None:
            txn.execute(
                f"SELECT {_ROOM_COLUMNS} FROM groupreg_rooms WHERE room_id = ?",
                (room_id,),
            )
            row = txn.fetchone()
            return _room(row) if row else None

        return await self._db.run("room", txn_fn)

    async def room_by_code(self, code: str) -> RoomRow | None:
        def txn_fn(txn: Cursor) -> RoomRow | None:
            txn.execute(
                f"SELECT {_ROOM_COLUMNS} FROM groupreg_rooms WHERE code = ?", (code,)
            )
            row = txn.fetchone()
            return _room(row) if row else None

        return await self._db.run("room_by_code", txn_fn)

    async def rooms(
        self,
        start: int,
        limit: int,
        room_class: str | None = None,
        status: str | None = None,
        creator: str | None = None,
    ) -> list[RoomRow]:
        """Registered rooms, oldest first, from offset `start`."""
        clauses: list[str] = []
        args: list[object] = []
        for column, value in (
            ("room_class", room_class),
            ("status", status),
            ("creator", creator),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""

        def txn_fn(txn: Cursor) -> list[RoomRow]:
            txn.execute(
                f"SELECT {_ROOM_COLUMNS} FROM groupreg_rooms{where}"
                " ORDER BY created_ts, room_id LIMIT ? OFFSET ?",
                (*args, limit, start),
            )
            return [_room(r) for r in txn.fetchall()]

        return await self._db.run("rooms", txn_fn)

    async def search(
        self,
        start: int,
        limit: int,
        where: RegistrySearch,
    ) -> list[tuple[RoomRow, str | None]]:
        """Registered rooms with their current name (Synapse's own
        `room_stats_state`), oldest first, from offset `start`, as the
        console's registry filters them (B4)."""
        clauses: list[str] = []
        args: list[object] = []
        for column, value in (
            ("r.room_class", where.room_class),
            ("r.status", where.status),
            ("r.creator", where.creator),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if not where.include_direct:
            clauses.append("r.room_class <> ?")
            args.append(where.direct_class)
        for creator in where.exclude_creators:
            clauses.append("r.creator <> ?")
            args.append(creator)
        if where.text:
            pattern = "%" + _like_escape(where.text.lower()) + "%"
            text_clauses = ["lower(COALESCE(s.name, '')) LIKE ? ESCAPE '!'"]
            args.append(pattern)
            if where.code is not None:
                text_clauses.append("r.code = ?")
                args.append(where.code)
            text_clauses.append("r.room_id = ?")
            args.append(where.text)
            clauses.append(f"({' OR '.join(text_clauses)})")
        if where.user:
            clauses.append(
                "(r.creator = ? OR r.room_id IN (SELECT m.room_id FROM"
                " local_current_membership AS m WHERE m.user_id = ?"
                " AND m.membership = 'join'))"
            )
            args.extend((where.user, where.user))
        sql_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        columns = ", ".join(f"r.{c.strip()}" for c in _ROOM_COLUMNS.split(","))

        def txn_fn(txn: Cursor) -> list[tuple[RoomRow, str | None]]:
            txn.execute(
                f"SELECT {columns}, s.name FROM groupreg_rooms AS r"
                " LEFT JOIN room_stats_state AS s ON s.room_id = r.room_id"
                f"{sql_where} ORDER BY r.created_ts, r.room_id LIMIT ? OFFSET ?",
                (*args, limit, start),
            )
            return [(_room(t[:-1]), t[-1]) for t in txn.fetchall()]

        return await self._db.run("rooms_search", txn_fn)

    async def set_class(
        self, room_id: str, room_class: str, category: str | None
    ) -> None:
        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "UPDATE groupreg_rooms SET room_class = ?, category = ?"
                " WHERE room_id = ?",
                (room_class, category, room_id),
            )

        await self._db.run("set_room_class", txn_fn)
        await self._forget(room_id)

    async def carry_over(
        self, old_room_id: str, new_room_id: str, now_ms: int
    ) -> RoomRow | None:
        """Move an active group's registration (code, class, category,
        creator) to the room that replaced it in an upgrade; the old room is
        marked upgraded. None if the old room is not an active registered
        group or the new one is registered already."""

        def txn_fn(txn: Cursor) -> RoomRow | None:
            txn.execute(
                f"SELECT {_ROOM_COLUMNS} FROM groupreg_rooms WHERE room_id = ?",
                (old_room_id,),
            )
            found = txn.fetchone()
            if found is None or _room(found).status != ACTIVE:
                return None
            old = _room(found)
            txn.execute(
                "SELECT 1 FROM groupreg_rooms WHERE room_id = ?", (new_room_id,)
            )
            if txn.fetchone() is not None:
                return None
            txn.execute(
                "UPDATE groupreg_rooms SET status = ?, status_ts = ?, code = NULL,"
                " replaced_by = ? WHERE room_id = ?",
                (UPGRADED, now_ms, new_room_id, old_room_id),
            )
            new = attrs.evolve(
                old, room_id=new_room_id, created_ts=now_ms, status_ts=now_ms
            )
            txn.execute(
                f"INSERT INTO groupreg_rooms ({_ROOM_COLUMNS}) VALUES ({_ROOM_VALUES})",
                _values(new),
            )
            if old.code is not None:
                txn.execute(
                    "UPDATE groupreg_codes SET room_id = ? WHERE code = ?",
                    (new_room_id, old.code),
                )
            return new

        new = await self._db.run("carry_over_room", txn_fn)
        if new is not None:
            await self._forget(old_room_id)
            await self._forget(new_room_id)
        return new

    async def close(self, room_id: str, now_ms: int) -> bool:
        """Mark a room closed and retire its code (D2 will call this). The
        code is never given again in any case; retiring records when it
        stopped naming a living group. False if it was not active."""

        def txn_fn(txn: Cursor) -> bool:
            txn.execute(
                "UPDATE groupreg_rooms SET status = ?, status_ts = ?"
                " WHERE room_id = ? AND status = ?",
                (CLOSED, now_ms, room_id, ACTIVE),
            )
            if txn.rowcount != 1:
                return False
            txn.execute(
                "UPDATE groupreg_codes SET retired_ts = ? WHERE room_id = ?",
                (now_ms, room_id),
            )
            return True

        closed = await self._db.run("close_room", txn_fn)
        await self._forget(room_id)
        return closed

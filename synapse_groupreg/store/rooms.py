"""SQL for the room registry (B1, B4, B6): registration codes and the rooms
they were given to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import attrs
from synapse.util.caches.descriptors import cached

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
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
)

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
        }


@attrs.frozen(slots=True)
class CodeRow:
    """A code as allocated, before or after its room exists."""

    serial: int
    code: str
    creator: str
    room_class: str
    category: str | None
    allocated_ts: int
    room_id: str | None


_ROOM_COLUMNS = (
    "room_id, code, room_class, category, creator, created_ts, status, status_ts,"
    " replaced_by"
)


def _room(t: tuple[Any, ...]) -> RoomRow:
    return RoomRow(*t)


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


class RoomStore:
    """The registry's tables. `room()` is read on every membership check and
    cached in every process; each write that changes it invalidates it on
    all workers."""

    def __init__(self, db: Database) -> None:
        if db.caches is None:
            raise ValueError("the room registry needs Synapse's caches")
        self._db = db
        # @cached reads these two attributes from the object it caches on.
        self.server_name = db.caches.server_name
        self.clock = db.caches.clock
        db.caches.register(self._cached_room)

    async def _invalidate(self, room_id: str) -> None:
        assert self._db.caches is not None
        await self._db.caches.invalidate(self._cached_room, (room_id,))

    # -- codes --------------------------------------------------------------

    async def allocate_code(
        self,
        make_code: Callable[[int], str],
        creator: str,
        room_class: str,
        category: str | None,
        now_ms: int,
    ) -> str:
        """Take the next serial number and make a code of it with `make_code`.
        The serial comes from the table's own sequence, which neither engine
        ever hands out twice, even after rows are deleted."""

        def txn_fn(txn: Cursor) -> str:
            txn.execute(
                "INSERT INTO groupreg_codes"
                " (creator, room_class, category, allocated_ts)"
                " VALUES (?, ?, ?, ?) RETURNING serial",
                (creator, room_class, category, now_ms),
            )
            row = txn.fetchone()
            assert row is not None
            serial = int(row[0])
            code = make_code(serial)
            txn.execute(
                "UPDATE groupreg_codes SET code = ? WHERE serial = ?", (code, serial)
            )
            return code

        return await self._db.run("allocate_code", txn_fn)

    async def code(self, code: str) -> CodeRow | None:
        def txn_fn(txn: Cursor) -> CodeRow | None:
            txn.execute(
                "SELECT serial, code, creator, room_class, category, allocated_ts,"
                " room_id FROM groupreg_codes WHERE code = ?",
                (code,),
            )
            row = txn.fetchone()
            return CodeRow(*row) if row else None

        return await self._db.run("code", txn_fn)

    # -- rooms --------------------------------------------------------------

    async def register(
        self,
        room_id: str,
        code: str | None,
        room_class: str,
        category: str | None,
        creator: str,
        now_ms: int,
    ) -> RoomRow | None:
        """Register a new room, binding its code. None if the code is not
        free for it (unknown, already given to a room, or another creator's)."""

        def txn_fn(txn: Cursor) -> RoomRow | None:
            if code is not None:
                txn.execute(
                    "UPDATE groupreg_codes SET room_id = ?, held_until = NULL"
                    " WHERE code = ? AND room_id IS NULL AND creator = ?",
                    (room_id, code, creator),
                )
                if txn.rowcount != 1:
                    return None
            row = RoomRow(
                room_id, code, room_class, category, creator, now_ms, ACTIVE, now_ms
            )
            txn.execute(
                f"INSERT INTO groupreg_rooms ({_ROOM_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                attrs.astuple(row),
            )
            return row

        row = await self._db.run("register_room", txn_fn)
        if row is not None:
            await self._invalidate(room_id)
        return row

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
        await self._invalidate(room_id)

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
                f"INSERT INTO groupreg_rooms ({_ROOM_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                attrs.astuple(new),
            )
            if old.code is not None:
                txn.execute(
                    "UPDATE groupreg_codes SET room_id = ? WHERE code = ?",
                    (new_room_id, old.code),
                )
            return new

        new = await self._db.run("carry_over_room", txn_fn)
        if new is not None:
            await self._invalidate(old_room_id)
            await self._invalidate(new_room_id)
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
        await self._invalidate(room_id)
        return closed

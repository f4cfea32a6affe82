"""SQL for adopting an existing server (H1-H5): what adoption did with each
room, what it still has to do, the report of what enforcement would change
(read from Synapse's own tables), and the refusals of checks in observe
mode.

Synapse tables read (columns present since schema 72, the oldest full
schema of the 1.163 wheel): `current_state_events (room_id, type,
state_key, event_id, membership)`, `events (event_id, sender,
origin_server_ts)`, `users (name, deactivated, is_guest, appservice_id,
admin, consent_version)`, `user_threepids (user_id, medium, address)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "adoption",
        1,
        (
            """
            CREATE TABLE groupreg_adoption (
                room_id TEXT PRIMARY KEY,
                state TEXT NOT NULL,        -- 'registered', 'skipped' (not a room of
                                            -- this server's users), 'failed'
                detail TEXT NOT NULL,       -- JSON: class, members, why skipped/failed
                attempts INTEGER NOT NULL,  -- failures so far
                ts BIGINT NOT NULL,         -- when the state was last set
                retry_ts BIGINT             -- a failed room is tried again from then
            )
            """,
            "CREATE INDEX groupreg_adoption_state ON groupreg_adoption (state)",
            """
            CREATE TABLE groupreg_observed (
                check_name TEXT NOT NULL,   -- the check in observe mode
                reason TEXT NOT NULL,       -- the refusal it would have given
                count BIGINT NOT NULL,      -- how many times, every process summed
                first_ts BIGINT NOT NULL,
                last_ts BIGINT NOT NULL,
                last_actor TEXT NOT NULL,   -- who it would have refused last
                last_target TEXT NOT NULL,  -- in which room (or '' for none)
                PRIMARY KEY (check_name, reason)
            )
            """,
        ),
    ),
)

REGISTERED = "registered"
SKIPPED = "skipped"
FAILED = "failed"

#: Local accounts that are people: not deactivated, guests or bridged users.
_PEOPLE = (
    "SELECT name, admin, consent_version FROM users"
    " WHERE deactivated = 0 AND is_guest = 0 AND appservice_id IS NULL"
)


@attrs.frozen(slots=True)
class UnknownRoom:
    """A room with a create event that the registry does not know."""

    room_id: str
    creator: str
    created_ts: int


@attrs.frozen(slots=True)
class Person:
    """A local account as the report judges it."""

    user_id: str
    admin: bool
    consent_version: str | None
    identity_status: str | None
    msisdns: tuple[str, ...]


@attrs.frozen(slots=True)
class Observation:
    check: str
    reason: str
    count: int
    first_ts: int
    last_ts: int
    last_actor: str
    last_target: str

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


class AdoptionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- what is left to adopt --------------------------------------------------

    async def unknown_rooms(
        self, limit: int, created_before: int, now_ms: int
    ) -> list[UnknownRoom]:
        """Rooms with a create event the registry does not know, oldest id
        first, created before `created_before` (a room being created right
        now registers itself) and not skipped, nor failed and waiting."""

        def txn_fn(txn: Cursor) -> list[UnknownRoom]:
            txn.execute(
                "SELECT c.room_id, e.sender, e.origin_server_ts"
                " FROM current_state_events c JOIN events e ON e.event_id = c.event_id"
                " WHERE c.type = 'm.room.create' AND c.state_key = ''"
                " AND e.origin_server_ts < ?"
                " AND NOT EXISTS (SELECT 1 FROM groupreg_rooms g"
                "  WHERE g.room_id = c.room_id)"
                " AND NOT EXISTS (SELECT 1 FROM groupreg_adoption a"
                "  WHERE a.room_id = c.room_id AND (a.state = ?"
                "  OR (a.state = ? AND a.retry_ts > ?)))"
                " ORDER BY c.room_id LIMIT ?",
                (created_before, SKIPPED, FAILED, now_ms, limit),
            )
            return [
                UnknownRoom(str(r[0]), str(r[1]), int(r[2])) for r in txn.fetchall()
            ]

        return await self._db.run("adoption_unknown_rooms", txn_fn)

    async def record(self, room_id: str, state: str, detail: str, now_ms: int) -> None:
        """The room was registered or skipped."""

        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "INSERT INTO groupreg_adoption"
                " (room_id, state, detail, attempts, ts, retry_ts)"
                " VALUES (?, ?, ?, 0, ?, NULL) ON CONFLICT (room_id) DO UPDATE SET"
                " state = excluded.state, detail = excluded.detail,"
                " ts = excluded.ts, retry_ts = NULL",
                (room_id, state, detail, now_ms),
            )

        await self._db.run("adoption_record", txn_fn)

    async def record_failure(
        self, room_id: str, detail: str, now_ms: int, first_wait_ms: int
    ) -> int:
        """A failed attempt: the room waits `first_wait_ms`, doubled for each
        failure before (up to 256 times). Returns the failures so far."""

        def txn_fn(txn: Cursor) -> int:
            txn.execute(
                "SELECT attempts FROM groupreg_adoption WHERE room_id = ?", (room_id,)
            )
            row = txn.fetchone()
            attempts = (int(row[0]) if row else 0) + 1
            retry = now_ms + first_wait_ms * 2 ** min(attempts - 1, 8)
            txn.execute(
                "INSERT INTO groupreg_adoption"
                " (room_id, state, detail, attempts, ts, retry_ts)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (room_id) DO UPDATE SET"
                " state = excluded.state, detail = excluded.detail,"
                " attempts = excluded.attempts, ts = excluded.ts,"
                " retry_ts = excluded.retry_ts",
                (room_id, FAILED, detail, attempts, now_ms, retry),
            )
            return attempts

        return await self._db.run("adoption_failure", txn_fn)

    async def progress(self, created_before: int, now_ms: int) -> dict[str, int]:
        """Rooms adopted, skipped, failed, and still to do."""

        def txn_fn(txn: Cursor) -> dict[str, int]:
            txn.execute("SELECT state, COUNT(*) FROM groupreg_adoption GROUP BY state")
            counts = {str(r[0]): int(r[1]) for r in txn.fetchall()}
            txn.execute(
                "SELECT COUNT(*) FROM current_state_events c"
                " JOIN events e ON e.event_id = c.event_id"
                " WHERE c.type = 'm.room.create' AND c.state_key = ''"
                " AND NOT EXISTS (SELECT 1 FROM groupreg_rooms g"
                "  WHERE g.room_id = c.room_id)"
                " AND NOT EXISTS (SELECT 1 FROM groupreg_adoption a"
                "  WHERE a.room_id = c.room_id AND a.state = ?)",
                (SKIPPED,),
            )
            row = txn.fetchone()
            pending = int(row[0]) if row else 0
            return {
                REGISTERED: counts.get(REGISTERED, 0),
                SKIPPED: counts.get(SKIPPED, 0),
                FAILED: counts.get(FAILED, 0),
                "pending": pending,
            }

        return await self._db.run("adoption_progress", txn_fn)

    async def failures(self, limit: int) -> list[tuple[str, str, int]]:
        """(room_id, detail, attempts) of rooms adoption could not take."""

        def txn_fn(txn: Cursor) -> list[tuple[str, str, int]]:
            txn.execute(
                "SELECT room_id, detail, attempts FROM groupreg_adoption"
                " WHERE state = ? ORDER BY ts DESC LIMIT ?",
                (FAILED, limit),
            )
            return [(str(r[0]), str(r[1]), int(r[2])) for r in txn.fetchall()]

        return await self._db.run("adoption_failures", txn_fn)

    async def registered_rooms(self, after: str, limit: int) -> list[str]:
        """Active registered rooms (for repair), in id order after `after`."""

        def txn_fn(txn: Cursor) -> list[str]:
            txn.execute(
                "SELECT room_id FROM groupreg_rooms WHERE status = 'active'"
                " AND room_id > ? ORDER BY room_id LIMIT ?",
                (after, limit),
            )
            return [str(r[0]) for r in txn.fetchall()]

        return await self._db.run("adoption_registered_rooms", txn_fn)

    # -- the report (H3) ------------------------------------------------------------

    async def room_sizes(self) -> list[tuple[str, str, int]]:
        """(room_id, class, members joined or invited) of active rooms."""

        def txn_fn(txn: Cursor) -> list[tuple[str, str, int]]:
            txn.execute(
                "SELECT r.room_id, r.room_class, COUNT(c.state_key)"
                " FROM groupreg_rooms r LEFT JOIN current_state_events c"
                " ON c.room_id = r.room_id AND c.type = 'm.room.member'"
                " AND c.membership IN ('join', 'invite')"
                " WHERE r.status = 'active' GROUP BY r.room_id, r.room_class"
            )
            return [(str(r[0]), str(r[1]), int(r[2])) for r in txn.fetchall()]

        return await self._db.run("adoption_room_sizes", txn_fn)

    async def encrypted_rooms(self) -> list[tuple[str, str, bool]]:
        """(room_id, class, kept as an exception) of active encrypted rooms."""

        def txn_fn(txn: Cursor) -> list[tuple[str, str, bool]]:
            txn.execute(
                "SELECT r.room_id, r.room_class, r.encryption_exception"
                " FROM groupreg_rooms r JOIN current_state_events c"
                " ON c.room_id = r.room_id AND c.type = 'm.room.encryption'"
                " AND c.state_key = '' WHERE r.status = 'active'"
            )
            return [(str(r[0]), str(r[1]), bool(r[2])) for r in txn.fetchall()]

        return await self._db.run("adoption_encrypted_rooms", txn_fn)

    async def remote_members(self, server_name: str) -> list[tuple[str, str, int]]:
        """(room_id, class, members of other servers) of active rooms that
        have any."""

        def txn_fn(txn: Cursor) -> list[tuple[str, str, int]]:
            txn.execute(
                "SELECT r.room_id, r.room_class, COUNT(*) FROM groupreg_rooms r"
                " JOIN current_state_events c ON c.room_id = r.room_id"
                " AND c.type = 'm.room.member' AND c.membership IN ('join', 'invite')"
                " AND c.state_key NOT LIKE ?"
                " WHERE r.status = 'active' GROUP BY r.room_id, r.room_class",
                (f"%:{server_name}",),
            )
            return [(str(r[0]), str(r[1]), int(r[2])) for r in txn.fetchall()]

        return await self._db.run("adoption_remote_members", txn_fn)

    async def creators_gone(self) -> list[tuple[str, str]]:
        """(room_id, creator) of active rooms whose local creator is
        deactivated."""

        def txn_fn(txn: Cursor) -> list[tuple[str, str]]:
            txn.execute(
                "SELECT r.room_id, r.creator FROM groupreg_rooms r"
                " JOIN users u ON u.name = r.creator"
                " WHERE r.status = 'active' AND u.deactivated = 1"
            )
            return [(str(r[0]), str(r[1])) for r in txn.fetchall()]

        return await self._db.run("adoption_creators_gone", txn_fn)

    async def people(self) -> list[Person]:
        """Every local account that is a person, with what the gates read."""

        def txn_fn(txn: Cursor) -> list[Person]:
            txn.execute(_PEOPLE)
            users = [(str(r[0]), bool(r[1]), r[2]) for r in txn.fetchall()]
            txn.execute("SELECT user_id, status FROM groupreg_identities")
            identities = {str(r[0]): str(r[1]) for r in txn.fetchall()}
            txn.execute(
                "SELECT user_id, address FROM user_threepids WHERE medium = 'msisdn'"
            )
            phones: dict[str, list[str]] = {}
            for user_id, address in txn.fetchall():
                phones.setdefault(str(user_id), []).append(str(address))
            return [
                Person(
                    name,
                    admin,
                    None if consent is None else str(consent),
                    identities.get(name),
                    tuple(phones.get(name, ())),
                )
                for name, admin, consent in users
            ]

        return await self._db.run("adoption_people", txn_fn)

    # -- observe mode (H4) --------------------------------------------------------

    async def add_observations(
        self, counts: Mapping[tuple[str, str], tuple[int, int, int, str, str]]
    ) -> None:
        """Add buffered counts: (check, reason) -> (count, first_ts, last_ts,
        last actor, last target)."""

        def txn_fn(txn: Cursor) -> None:
            for (check, reason), (n, first, last, actor, target) in counts.items():
                txn.execute(
                    "INSERT INTO groupreg_observed (check_name, reason, count,"
                    " first_ts, last_ts, last_actor, last_target)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (check_name, reason) DO UPDATE SET"
                    " count = groupreg_observed.count + excluded.count,"
                    " last_ts = excluded.last_ts, last_actor = excluded.last_actor,"
                    " last_target = excluded.last_target",
                    (check, reason, n, first, last, actor, target),
                )

        await self._db.run("observed_add", txn_fn)

    async def observations(self) -> list[Observation]:
        def txn_fn(txn: Cursor) -> list[Observation]:
            txn.execute(
                "SELECT check_name, reason, count, first_ts, last_ts, last_actor,"
                " last_target FROM groupreg_observed ORDER BY count DESC"
            )
            return [
                Observation(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4]),
                            str(r[5]), str(r[6]))
                for r in txn.fetchall()
            ]  # fmt: skip

        return await self._db.run("observed_list", txn_fn)

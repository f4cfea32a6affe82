"""SQL for the module roles last recorded (G7): what the audit log was told,
so a change of `roles:` in homeserver.yaml is audited once, at the next start."""

from __future__ import annotations

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "role_grants",
        1,
        (
            """
            CREATE TABLE groupreg_role_grants (
                user_id TEXT NOT NULL,     -- who holds it
                role TEXT NOT NULL,        -- a governance.roles.Role value
                granted_ts BIGINT NOT NULL, -- the start at which it was first seen
                PRIMARY KEY (user_id, role)
            )
            """,
            """
            CREATE TABLE groupreg_role_mode (
                id INTEGER PRIMARY KEY,    -- always 1: one row
                mode TEXT NOT NULL         -- 'configured' or 'server_admins'
            )
            """,
        ),
    ),
)

Pairs = frozenset[tuple[str, str]]


class RoleGrantStore:
    """Written only by the background-tasks instance, at start-up."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def recorded(self) -> tuple[Pairs, str | None]:
        """The grants and the mode the audit log was last told of."""

        def txn_fn(txn: Cursor) -> tuple[Pairs, str | None]:
            txn.execute("SELECT user_id, role FROM groupreg_role_grants")
            pairs = frozenset((str(u), str(r)) for u, r in txn.fetchall())
            txn.execute("SELECT mode FROM groupreg_role_mode WHERE id = 1")
            row = txn.fetchone()
            return pairs, (str(row[0]) if row else None)

        return await self._db.run("role_grants_recorded", txn_fn)

    async def record(self, pairs: Pairs, mode: str, now_ms: int) -> None:
        """Make `pairs` and `mode` the recorded state."""

        def txn_fn(txn: Cursor) -> None:
            txn.execute("SELECT user_id, role FROM groupreg_role_grants")
            old = frozenset((str(u), str(r)) for u, r in txn.fetchall())
            for user_id, role in old - pairs:
                txn.execute(
                    "DELETE FROM groupreg_role_grants WHERE user_id = ? AND role = ?",
                    (user_id, role),
                )
            for user_id, role in pairs - old:
                txn.execute(
                    "INSERT INTO groupreg_role_grants (user_id, role, granted_ts)"
                    " VALUES (?, ?, ?)",
                    (user_id, role, now_ms),
                )
            txn.execute("DELETE FROM groupreg_role_mode")
            txn.execute(
                "INSERT INTO groupreg_role_mode (id, mode) VALUES (1, ?)", (mode,)
            )

        await self._db.run("role_grants_record", txn_fn)

    async def granted_since(self) -> dict[tuple[str, str], int]:
        """When each recorded grant was first seen."""

        def txn_fn(txn: Cursor) -> dict[tuple[str, str], int]:
            txn.execute("SELECT user_id, role, granted_ts FROM groupreg_role_grants")
            return {(str(u), str(r)): int(t) for u, r, t in txn.fetchall()}

        return await self._db.run("role_grants_since", txn_fn)

"""SQL for the hash-chained audit log (F1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "audit",
        1,
        (
            """
            CREATE TABLE groupreg_audit_log (
                seq BIGINT PRIMARY KEY,   -- position in the chain: 1, 2, 3, no gaps
                ts BIGINT NOT NULL,       -- when it was recorded, ms since the epoch
                actor TEXT NOT NULL,      -- user id, or 'system' when automated
                action TEXT NOT NULL,     -- dotted name, e.g. 'identity.reveal'
                target TEXT NOT NULL,     -- what it was done to: user, room, case id
                details TEXT NOT NULL,    -- canonical JSON of the facts
                prev_hash TEXT NOT NULL,  -- hash of entry seq-1, '' for the first
                hash TEXT NOT NULL        -- sha256 over prev_hash and this entry
            )
            """,
            "CREATE INDEX groupreg_audit_target ON groupreg_audit_log (target, seq)",
            "CREATE INDEX groupreg_audit_action ON groupreg_audit_log (action, seq)",
        ),
    ),
)


@attrs.frozen(slots=True)
class AuditRow:
    seq: int
    ts: int
    actor: str
    action: str
    target: str
    details: str
    prev_hash: str
    hash: str


_COLUMNS = "seq, ts, actor, action, target, details, prev_hash, hash"
#: The table an appender locks: entries from every process take turns.
LOCKED = "groupreg_audit_log"


def _row(t: tuple[Any, ...]) -> AuditRow:
    return AuditRow(*t)


class AuditStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(
        self,
        make_row: Callable[[int, str], AuditRow],
    ) -> AuditRow:
        """Append the row `make_row(seq, prev_hash)` at the head of the chain.

        Writers from every process are serialised by a table lock, so two
        entries never claim the same position.
        """

        def txn_fn(txn: Cursor) -> AuditRow:
            self._db.lock_table(txn, LOCKED)
            return self.append_txn(txn, make_row)

        return await self._db.run("audit_append", txn_fn)

    @staticmethod
    def append_txn(txn: Cursor, make_row: Callable[[int, str], AuditRow]) -> AuditRow:
        """`append` inside a transaction that has locked `LOCKED` (first,
        and after any other table it locks)."""
        txn.execute(
            "SELECT seq, hash FROM groupreg_audit_log ORDER BY seq DESC LIMIT 1"
        )
        head = txn.fetchone()
        seq, prev_hash = (int(head[0]) + 1, str(head[1])) if head else (1, "")
        row = make_row(seq, prev_hash)
        txn.execute(
            f"INSERT INTO groupreg_audit_log ({_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            attrs.astuple(row),
        )
        return row

    async def page(
        self,
        from_seq: int,
        limit: int,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[AuditRow]:
        """Entries with seq >= from_seq, oldest first, optionally filtered
        (`since` inclusive and `until` exclusive are times in ms).

        `action` matches a whole name or a prefix ending in '.' ('identity.').
        """
        clauses: list[str] = ["seq >= ?"]
        args: list[object] = [from_seq]
        for column, op, value in (
            ("actor", "=", actor),
            ("target", "=", target),
            ("ts", ">=", since),
            ("ts", "<", until),
        ):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                args.append(value)
        if action is not None:
            if action.endswith("."):
                clauses.append("substr(action, 1, ?) = ?")
                args.extend((len(action), action))
            else:
                clauses.append("action = ?")
                args.append(action)

        def txn_fn(txn: Cursor) -> list[AuditRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_audit_log"
                f" WHERE {' AND '.join(clauses)} ORDER BY seq LIMIT ?",
                (*args, limit),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("audit_page", txn_fn)

    async def last(self, count: int) -> list[AuditRow]:
        """The newest `count` entries, newest first."""

        def txn_fn(txn: Cursor) -> list[AuditRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_audit_log ORDER BY seq DESC LIMIT ?",
                (count,),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("audit_last", txn_fn)

    async def walk(self, visit: Callable[[AuditRow], None], batch: int = 2000) -> None:
        """Call `visit` on every entry in chain order, a batch at a time."""
        after = 0
        while True:

            def txn_fn(txn: Cursor, after: int = after) -> list[AuditRow]:
                txn.execute(
                    f"SELECT {_COLUMNS} FROM groupreg_audit_log"
                    " WHERE seq > ? ORDER BY seq LIMIT ?",
                    (after, batch),
                )
                return [_row(r) for r in txn.fetchall()]

            rows = await self._db.run("audit_walk", txn_fn)
            for row in rows:
                visit(row)
            if len(rows) < batch:
                return
            after = rows[-1].seq

"""SQL for the signed checkpoints of the audit chain (F1). The database
copy is one of several: the append-only file and the room hold the others."""

from __future__ import annotations

from collections.abc import Callable

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "audit_checkpoints",
        1,
        (
            """
            CREATE TABLE groupreg_audit_checkpoints (
                n BIGINT PRIMARY KEY,  -- checkpoint number: 1, 2, 3, no gaps
                seq BIGINT NOT NULL,   -- the audit entry it anchors
                ts BIGINT NOT NULL,    -- when it was signed, ms since the epoch
                body TEXT NOT NULL     -- the signed canonical JSON, the truth
            )
            """,
        ),
    ),
)

#: (seq, hash) of the audit chain's newest entry.
Head = tuple[int, str]


class CheckpointStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(
        self,
        make: Callable[[str | None, Head | None], tuple[int, int, int, str] | None],
    ) -> str | None:
        """Call `make(last_body, head)` with the newest checkpoint's body and
        the chain's head, read in one transaction that writers of other
        processes wait for; store the (n, seq, ts, body) it answers (None:
        nothing to write). Returns the stored body."""

        def txn_fn(txn: Cursor) -> str | None:
            self._db.lock_table(txn, "groupreg_audit_checkpoints")
            txn.execute(
                "SELECT body FROM groupreg_audit_checkpoints ORDER BY n DESC LIMIT 1"
            )
            last = txn.fetchone()
            txn.execute(
                "SELECT seq, hash FROM groupreg_audit_log ORDER BY seq DESC LIMIT 1"
            )
            head = txn.fetchone()
            made = make(
                str(last[0]) if last else None,
                (int(head[0]), str(head[1])) if head else None,
            )
            if made is None:
                return None
            txn.execute(
                "INSERT INTO groupreg_audit_checkpoints (n, seq, ts, body)"
                " VALUES (?, ?, ?, ?)",
                made,
            )
            return made[3]

        return await self._db.run("checkpoint_append", txn_fn)

    async def bodies(self, after_n: int = 0, limit: int | None = None) -> list[str]:
        """Bodies of checkpoints numbered above `after_n`, oldest first."""

        def txn_fn(txn: Cursor) -> list[str]:
            sql = "SELECT body FROM groupreg_audit_checkpoints WHERE n > ? ORDER BY n"
            if limit is None:
                txn.execute(sql, (after_n,))
            else:
                txn.execute(sql + " LIMIT ?", (after_n, limit))
            return [str(r[0]) for r in txn.fetchall()]

        return await self._db.run("checkpoint_bodies", txn_fn)

    async def newest(self, limit: int, before_n: int | None = None) -> list[str]:
        """Bodies of the newest checkpoints (below `before_n`), newest first."""

        def txn_fn(txn: Cursor) -> list[str]:
            if before_n is None:
                txn.execute(
                    "SELECT body FROM groupreg_audit_checkpoints"
                    " ORDER BY n DESC LIMIT ?",
                    (limit,),
                )
            else:
                txn.execute(
                    "SELECT body FROM groupreg_audit_checkpoints WHERE n < ?"
                    " ORDER BY n DESC LIMIT ?",
                    (before_n, limit),
                )
            return [str(r[0]) for r in txn.fetchall()]

        return await self._db.run("checkpoint_newest", txn_fn)

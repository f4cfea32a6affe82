"""SQL for violations and the threshold rules they trip (D1, D5 automatic).

A violation is one recorded breach (a blocked message, an upheld
complaint). A threshold rule fires when enough of them gather in its window
since it last fired for the same user or room; each firing is a row, so a
rule fires once per batch, on every worker alike.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from synapse_groupreg.store.database import Cursor, Database, Migration

MIGRATIONS = (
    Migration(
        "violations",
        1,
        (
            """
            CREATE TABLE groupreg_violations (
                id {id},
                user_id TEXT NOT NULL,   -- who committed it
                room_id TEXT,            -- where, when in a room
                kind TEXT NOT NULL,      -- class, or class:detail
                                         -- (prohibited_content:gambling)
                ts BIGINT NOT NULL,      -- when, ms since the epoch
                evidence TEXT NOT NULL,  -- JSON: event id, category, case id
                sanction_id BIGINT       -- the lower_credit its penalty became
            )
            """,
            "CREATE INDEX groupreg_violations_user ON groupreg_violations"
            " (user_id, ts)",
            "CREATE INDEX groupreg_violations_room ON groupreg_violations"
            " (room_id, ts)",
            """
            CREATE TABLE groupreg_rule_firings (
                id {id},
                rule TEXT NOT NULL,      -- the automatic rule's name
                subject TEXT NOT NULL,   -- user id or room id
                ts BIGINT NOT NULL,      -- when it fired
                sanction_id BIGINT       -- the sanction it applied
            )
            """,
            "CREATE INDEX groupreg_rule_firings_subject ON groupreg_rule_firings"
            " (rule, subject, ts)",
        ),
    ),
)


@attrs.frozen(slots=True)
class ViolationRow:
    id: int
    user_id: str
    room_id: str | None
    kind: str
    ts: int
    evidence: dict[str, Any]
    sanction_id: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "violation_id": self.id,
            "user_id": self.user_id,
            "room_id": self.room_id,
            "kind": self.kind,
            "ts": self.ts,
            "evidence": self.evidence,
            "sanction_id": f"S{self.sanction_id}" if self.sanction_id else None,
        }


_COLUMNS = "id, user_id, room_id, kind, ts, evidence, sanction_id"


def _row(t: tuple[Any, ...]) -> ViolationRow:
    v = list(t)
    v[5] = json.loads(v[5])
    return ViolationRow(*v)


def _kind_clause(kind: str) -> tuple[str, tuple[object, ...]]:
    """Matches a kind and every `kind:detail` below it."""
    prefix = kind + ":"
    return "(kind = ? OR substr(kind, 1, ?) = ?)", (kind, len(prefix), prefix)


class ViolationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        user_id: str,
        room_id: str | None,
        kind: str,
        ts: int,
        evidence: dict[str, Any],
    ) -> ViolationRow:
        def txn_fn(txn: Cursor) -> ViolationRow:
            txn.execute(
                "INSERT INTO groupreg_violations (user_id, room_id, kind, ts, evidence)"
                f" VALUES (?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                (user_id, room_id, kind, ts, json.dumps(evidence, sort_keys=True)),
            )
            row = txn.fetchone()
            assert row is not None
            return _row(row)

        return await self._db.run("violation_record", txn_fn)

    async def set_sanction(self, violation_id: int, sanction_id: int) -> None:
        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "UPDATE groupreg_violations SET sanction_id = ? WHERE id = ?",
                (sanction_id, violation_id),
            )

        await self._db.run("violation_sanction", txn_fn)

    async def fire_if_due(
        self,
        rule: str,
        subject_column: str,
        subject: str,
        kind: str,
        count: int,
        window_start: int,
        now_ms: int,
    ) -> tuple[int, list[int]] | None:
        """Fire `rule` for `subject` when `count` violations of `kind` lie in
        the window and after its last firing; returns (firing id, the
        violations counted) or None. Firings are serialised on their table,
        so concurrent violations fire a rule once."""
        assert subject_column in ("user_id", "room_id")
        clause, args = _kind_clause(kind)

        def txn_fn(txn: Cursor) -> tuple[int, list[int]] | None:
            self._db.lock_table(txn, "groupreg_rule_firings")
            txn.execute(
                "SELECT MAX(ts) FROM groupreg_rule_firings"
                " WHERE rule = ? AND subject = ?",
                (rule, subject),
            )
            last = txn.fetchone()
            since = window_start
            if last is not None and last[0] is not None:
                since = max(since, int(last[0]) + 1)
            txn.execute(
                f"SELECT id FROM groupreg_violations WHERE {subject_column} = ?"
                f" AND {clause} AND ts >= ? ORDER BY id",
                (subject, *args, since),
            )
            counted = [int(r[0]) for r in txn.fetchall()]
            if len(counted) < count:
                return None
            txn.execute(
                "INSERT INTO groupreg_rule_firings (rule, subject, ts)"
                " VALUES (?, ?, ?) RETURNING id",
                (rule, subject, now_ms),
            )
            fired = txn.fetchone()
            assert fired is not None
            return int(fired[0]), counted

        return await self._db.run("rule_fire", txn_fn)

    async def set_firing_sanction(self, firing_id: int, sanction_id: int) -> None:
        def txn_fn(txn: Cursor) -> None:
            txn.execute(
                "UPDATE groupreg_rule_firings SET sanction_id = ? WHERE id = ?",
                (sanction_id, firing_id),
            )

        await self._db.run("rule_firing_sanction", txn_fn)

    async def page(
        self, user_id: str | None, room_id: str | None, from_id: int, limit: int
    ) -> list[ViolationRow]:
        clauses = ["id >= ?"]
        args: list[object] = [from_id]
        for column, value in (("user_id", user_id), ("room_id", room_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)

        def txn_fn(txn: Cursor) -> list[ViolationRow]:
            txn.execute(
                f"SELECT {_COLUMNS} FROM groupreg_violations"
                f" WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
                (*args, limit),
            )
            return [_row(r) for r in txn.fetchall()]

        return await self._db.run("violations_page", txn_fn)

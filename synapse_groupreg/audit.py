"""The audit log: every decision, sanction, admin action and identity access (F1).

Entries form a hash chain: each entry's hash covers its own fields and the
hash of the entry before it, so changing, removing or reordering any entry
breaks every hash after it, and `verify` names the first entry that no
longer fits. Enforcement code calls `record`; it never formats rows itself.

What the chain cannot show alone is an entry changed with every hash after
it recomputed, or the removal of entries at the very end: whoever can write
the database can do both. Signed checkpoints of the head, kept outside the
database too, show both (`governance/anchoring.py`); `/audit/verify` checks
the chain against them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import attrs

from synapse_groupreg.store.audit import AuditRow, AuditStore

#: The actor recorded for decisions nobody made by hand.
SYSTEM = "system"


def canonical_json(value: object) -> str:
    """One spelling per value, so a hash can be recomputed byte for byte."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    prev_hash: str,
    seq: int,
    ts: int,
    actor: str,
    action: str,
    target: str,
    details: str,
) -> str:
    body = canonical_json([seq, ts, actor, action, target, details])
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@attrs.frozen(slots=True)
class AuditEntry:
    seq: int
    ts: int
    actor: str
    action: str
    target: str
    details: Mapping[str, Any]
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "details": dict(self.details),
            "hash": self.hash,
        }


@attrs.frozen(slots=True)
class Verification:
    """What `verify` found: `first_bad` is the seq of the first entry that
    was altered, is missing or is out of place (None when all is well)."""

    ok: bool
    entries: int
    first_bad: int | None
    problem: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_bad": self.first_bad,
            "problem": self.problem,
        }


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        target=row.target,
        details=json.loads(row.details),
        hash=row.hash,
    )


class AuditLog:
    """Record and read the chain.

    Args:
        store: the SQL behind it.
        now_ms: the clock, milliseconds since the epoch.
    """

    def __init__(self, store: AuditStore, now_ms: Callable[[], int]) -> None:
        self._store = store
        self._now_ms = now_ms

    async def record(
        self,
        actor: str,
        action: str,
        target: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry. `details` must be JSON and must never hold
        identity plaintext (A5): record masked forms or hashes instead."""
        return _entry(
            await self._store.append(self.row(actor, action, target, details))
        )

    def row(
        self,
        actor: str,
        action: str,
        target: str,
        details: Mapping[str, Any] | None = None,
    ) -> Callable[[int, str], AuditRow]:
        """An entry to append inside another store's transaction (with
        `AuditStore.append_txn`), so a change and its record commit together."""
        details_json = canonical_json(dict(details or {}))
        ts = self._now_ms()

        def make_row(seq: int, prev_hash: str) -> AuditRow:
            digest = entry_hash(prev_hash, seq, ts, actor, action, target, details_json)
            return AuditRow(
                seq, ts, actor, action, target, details_json, prev_hash, digest
            )

        return make_row

    async def entries(
        self,
        from_seq: int,
        limit: int,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[AuditEntry]:
        rows = await self._store.page(from_seq, limit, actor, action, target)
        return [_entry(r) for r in rows]

    async def records(
        self, since: int | None, until: int | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every entry in a time range, oldest first (for exports, F3)."""
        start = 1
        while True:
            rows = await self._store.page(start, 1000, since=since, until=until)
            for row in rows:
                yield {**_entry(row).to_json(), "prev_hash": row.prev_hash}
            if len(rows) < 1000:
                return
            start = rows[-1].seq + 1

    async def head(self) -> dict[str, Any]:
        """The newest entry's seq and hash: the chain's anchor in exports."""
        rows = await self._store.last(1)
        return (
            {"seq": rows[0].seq, "hash": rows[0].hash}
            if rows
            else {"seq": 0, "hash": ""}
        )

    async def verify(self) -> Verification:
        """Walk the whole chain, recompute every hash, count every entry."""
        check = ChainCheck()
        await self._store.walk(check.visit)
        return Verification(
            ok=check.first_bad is None,
            entries=check.count,
            first_bad=check.first_bad,
            problem=check.problem,
        )


class ChainCheck:
    """Visits rows in seq order and remembers the first that breaks the chain."""

    def __init__(self) -> None:
        self.count = 0
        self.first_bad: int | None = None
        self.problem: str | None = None
        self._expected_seq = 1
        self._prev_hash = ""

    def visit(self, row: AuditRow) -> None:
        self.count += 1
        if self.first_bad is None:
            problem = self._problem(row)
            if problem is not None:
                seq = self._expected_seq if problem == "missing entry" else row.seq
                self.first_bad, self.problem = seq, problem
        self._expected_seq = row.seq + 1
        self._prev_hash = row.hash

    def _problem(self, row: AuditRow) -> str | None:
        if row.seq != self._expected_seq:
            return "missing entry"
        if row.prev_hash != self._prev_hash:
            return "does not follow the entry before it"
        digest = entry_hash(
            row.prev_hash,
            row.seq,
            row.ts,
            row.actor,
            row.action,
            row.target,
            row.details,
        )
        if digest != row.hash:
            return "altered: its hash does not match its contents"
        return None

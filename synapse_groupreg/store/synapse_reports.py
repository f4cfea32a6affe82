"""SQL reading Synapse's own report tables (E1).

Synapse 1.163 stores what its report endpoints receive (rest/client/
reporting.py: `POST /rooms/{room}/report/{event}`, `/rooms/{room}/report`,
`/users/{user}/report`, which Element's Report button calls) in
`event_reports`, `room_reports` and `user_reports`, written only by the
main process, and tells no module. These readers turn their rows into
reports for the complaint intake, with the evidence at hand: the reported
event's sender, type and content (kept with the case, since a redaction
later empties the event) and a reported room's creator.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from synapse_groupreg.store.complaint_intake import NewReport, ReportSource, SourceRow
from synapse_groupreg.store.database import Cursor, Database


def event_facts(row: Sequence[Any]) -> dict[str, Any]:
    """Evidence of a reported event from Synapse's `events` and `event_json`:
    kept with the case, since a redaction later empties the event."""
    event_id, sender, event_type, raw_json = row
    if sender is None:
        return {}
    facts: dict[str, Any] = {"event_id": event_id, "type": event_type, "sender": sender}
    if raw_json:
        try:
            parsed = json.loads(raw_json)
        except ValueError:
            parsed = {}
        facts["origin_server_ts"] = parsed.get("origin_server_ts")
        facts["content"] = parsed.get("content", {})
    return facts


def _fetch_event_reports(
    txn: Cursor, after_id: int, limit: int, category: str
) -> list[SourceRow]:
    # Columns as Synapse 1.163 writes them (storage/databases/main/room.py,
    # add_event_report): id, received_ts, room_id, event_id, user_id, reason,
    # content (the request body: reason and score).
    txn.execute(
        "SELECT r.id, r.received_ts, r.room_id, r.event_id, r.user_id, r.reason,"
        " r.content, e.sender, e.type, j.json FROM event_reports AS r"
        " LEFT JOIN events AS e ON e.event_id = r.event_id"
        " LEFT JOIN event_json AS j ON j.event_id = r.event_id"
        " WHERE r.id > ? ORDER BY r.id LIMIT ?",
        (after_id, limit),
    )
    out = []
    for row in txn.fetchall():
        rid, ts, room_id, event_id, user_id, reason, content, sender, etype, raw = row
        try:
            body = json.loads(content) if content else {}
        except ValueError:
            body = {}
        score = body.get("score") if isinstance(body, dict) else None
        facts = event_facts((event_id, sender, etype, raw))
        report = NewReport(
            kind="complaint",
            source="event_report",
            target_type="event",
            target=str(event_id),
            category=category,
            reporter=str(user_id),
            ts=int(ts),
            reason=reason,
            room_id=str(room_id),
            subject=sender,
            evidence={"event": facts} if facts else {},
            details={"score": score} if score is not None else {},
            source_id=int(rid),
        )
        out.append(SourceRow(int(rid), int(ts), report))
    return out


def _fetch_room_reports(
    txn: Cursor, after_id: int, limit: int, category: str
) -> list[SourceRow]:
    # room_reports (schema delta 85/06): id, received_ts, room_id, user_id, reason.
    txn.execute(
        "SELECT r.id, r.received_ts, r.room_id, r.user_id, r.reason, rooms.creator"
        " FROM room_reports AS r LEFT JOIN rooms ON rooms.room_id = r.room_id"
        " WHERE r.id > ? ORDER BY r.id LIMIT ?",
        (after_id, limit),
    )
    return [
        SourceRow(
            int(rid),
            int(ts),
            NewReport(
                kind="complaint",
                source="room_report",
                target_type="room",
                target=str(room_id),
                category=category,
                reporter=str(user_id),
                ts=int(ts),
                reason=reason,
                room_id=str(room_id),
                subject=creator,
                evidence={"room": {"creator": creator}} if creator else {},
                source_id=int(rid),
            ),
        )
        for rid, ts, room_id, user_id, reason, creator in txn.fetchall()
    ]


def _fetch_user_reports(
    txn: Cursor, after_id: int, limit: int, category: str
) -> list[SourceRow]:
    # user_reports (schema delta 92/07): id, received_ts, target_user_id,
    # user_id, reason.
    txn.execute(
        "SELECT id, received_ts, target_user_id, user_id, reason FROM user_reports"
        " WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    )
    return [
        SourceRow(
            int(rid),
            int(ts),
            NewReport(
                kind="complaint",
                source="user_report",
                target_type="user",
                target=str(target),
                category=category,
                reporter=str(user_id),
                ts=int(ts),
                reason=reason,
                subject=str(target),
                source_id=int(rid),
            ),
        )
        for rid, ts, target, user_id, reason in txn.fetchall()
    ]


#: Synapse's own report tables, in the order they are read.
SYNAPSE_SOURCES = (
    ReportSource("event_reports", "event_reports", _fetch_event_reports),
    ReportSource("room_reports", "room_reports", _fetch_room_reports),
    ReportSource("user_reports", "user_reports", _fetch_user_reports),
)


class SynapseFactsStore:
    """What the complaint endpoint checks in Synapse's tables before it
    accepts a complaint, and keeps as evidence."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def event_facts(self, event_id: str) -> dict[str, Any] | None:
        """The room, sender, type and content of an event this server has."""

        def txn_fn(txn: Cursor) -> dict[str, Any] | None:
            txn.execute(
                "SELECT e.event_id, e.sender, e.type, j.json, e.room_id"
                " FROM events AS e LEFT JOIN event_json AS j"
                " ON j.event_id = e.event_id WHERE e.event_id = ?",
                (event_id,),
            )
            found = txn.fetchone()
            if found is None:
                return None
            return {**event_facts(found[:4]), "room_id": found[4]}

        return await self._db.run("complaint_event_facts", txn_fn)

    async def room_creator(self, room_id: str) -> tuple[bool, str | None]:
        """Whether this server knows the room, and who created it."""

        def txn_fn(txn: Cursor) -> tuple[bool, str | None]:
            txn.execute("SELECT creator FROM rooms WHERE room_id = ?", (room_id,))
            found = txn.fetchone()
            return (found is not None, found[0] if found else None)

        return await self._db.run("complaint_room_creator", txn_fn)

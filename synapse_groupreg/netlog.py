"""The network log (F2): who registered, logged in, created, joined, left,
invited, kicked, banned and posted, when and from where.

Entries are gathered in memory where they happen and written in batches, so
recording one costs a list append on the request path, never a database
round trip. Retention ends with an automatic purge (default 190 days, at
least 180 in the `cn` profile). Message entries hold metadata only (event
id, room, sender, time, type), never content.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from synapse_groupreg.audit import canonical_json
from synapse_groupreg.events import CREATE, ENCRYPTED, MEMBER, MESSAGE
from synapse_groupreg.store.netlog import NetworkLogRow, NetworkLogStore

logger = logging.getLogger(__name__)

#: Memberships and what the log calls them, keyed by (membership, acted on
#: oneself); a leave by someone else is a kick.
_MEMBERSHIP_KINDS: Mapping[tuple[str, bool], str] = {
    ("join", True): "join",
    ("leave", True): "leave",
    ("leave", False): "kick",
    ("invite", False): "invite",
    ("ban", False): "ban",
    ("knock", True): "knock",
}

#: A bound on memory if the database is unreachable for a long time: the
#: oldest entries are dropped first, and the drop is logged.
MAX_BUFFERED = 100_000


def kind_of_event(
    event_type: str, sender: str, state_key: str | None, membership: str | None
) -> str:
    """The log's name for an event."""
    if event_type == CREATE:
        return "room_create"
    if event_type == MEMBER and membership is not None:
        own = state_key == sender
        return _MEMBERSHIP_KINDS.get((membership, own), f"member_{membership}")
    return "message" if event_type in (MESSAGE, ENCRYPTED, "m.sticker") else "event"


def entry_json(entry_id: int, row: NetworkLogRow) -> dict[str, Any]:
    """An entry as the admin API and exports show it."""
    return {
        "id": entry_id,
        "ts": row.ts,
        "kind": row.kind,
        "user_id": row.user_id,
        "room_id": row.room_id,
        "event_id": row.event_id,
        "target": row.target,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "details": json.loads(row.details),
    }


class NetworkLog:
    """Buffers entries and writes them in batches.

    Args:
        store: the SQL behind it.
        now_ms: the clock.
        retention_ms: how long entries are kept.
    """

    def __init__(
        self, store: NetworkLogStore, now_ms: Callable[[], int], retention_ms: int
    ) -> None:
        self._store = store
        self._now_ms = now_ms
        self._retention_ms = retention_ms
        self._buffer: list[NetworkLogRow] = []
        #: Registration request info (user agent, IP) by localpart, from the
        #: spam check that runs just before the account is created.
        self._pending_registrations: dict[str, tuple[str | None, str | None]] = {}

    def record(
        self,
        kind: str,
        user_id: str,
        *,
        ts: int | None = None,
        room_id: str | None = None,
        event_id: str | None = None,
        target: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue one entry (no I/O)."""
        if len(self._buffer) >= MAX_BUFFERED:
            logger.error("network log buffer full: dropping the oldest entry")
            del self._buffer[0]
        self._buffer.append(
            NetworkLogRow(
                ts if ts is not None else self._now_ms(),
                kind,
                user_id,
                room_id,
                event_id,
                target,
                ip,
                user_agent,
                canonical_json(dict(details or {})),
            )
        )

    def expect_registration(
        self, localpart: str, user_agent: str | None, ip: str | None
    ) -> None:
        """Remember where a registration came from until it completes."""
        if len(self._pending_registrations) > 10_000:
            self._pending_registrations.clear()
        self._pending_registrations[localpart] = (user_agent, ip)

    def registered(self, user_id: str) -> None:
        localpart = user_id[1:].split(":", 1)[0]
        user_agent, ip = self._pending_registrations.pop(localpart, (None, None))
        self.record("registration", user_id, ip=ip, user_agent=user_agent)

    async def flush(self) -> None:
        """Write what is buffered; on failure keep it for the next flush."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        try:
            await self._store.insert(batch)
        except Exception:
            logger.exception(
                "could not write %d network log entries; will retry", len(batch)
            )
            self._buffer[:0] = batch

    async def records(
        self, since: int | None, until: int | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every entry in a time range, oldest first (for exports, F3)."""
        await self.flush()
        start = 0
        while True:
            rows = await self._store.page(start, 1000, since=since, until=until)
            for entry_id, row in rows:
                yield entry_json(entry_id, row)
            if len(rows) < 1000:
                return
            start = rows[-1][0] + 1

    async def purge(self) -> int:
        """Remove entries whose retention has ended."""
        removed = await self._store.purge_before(self._now_ms() - self._retention_ms)
        if removed:
            logger.info("network log: purged %d entries past retention", removed)
        return removed

"""Hits of the filter: refusals and review records, and the credit hook (C2).

The check appends a hit to an in-memory buffer (no database on the message
path); a looping call in each process writes the buffer in one transaction
every second. A process that stops loses at most that second's records; the
refusals themselves happened regardless.

After writing, block hits of local users go to the credit penalty hook.
Review hits carry the category's penalty in their record but are not
penalised here: a human decides them through the complaint queue (E3).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from synapse_groupreg.store.content_hits import ContentHitStore, HitRow

logger = logging.getLogger(__name__)

#: What the buffer may hold while the database is unreachable; past this the
#: oldest records are dropped (and the drop is logged) rather than memory.
MAX_BUFFERED = 10_000


#: Fields of hits nobody is charged for: media from another server and URL
#: previews were not written by the local user whose request fetched them
#: (media/check.py).
UNCHARGED_FIELDS = frozenset({"remote_media", "url_preview"})


class CreditPenalties(Protocol):
    """What the credit system (D1) provides to charge a filter hit.

    The credit concern implements it and `module.py` hands it to `HitLog`;
    until then it is None and hits are recorded without a charge.
    """

    async def penalise(
        self, user_id: str, points: int, reason: str, evidence: Mapping[str, Any]
    ) -> None: ...


class HitLog:
    """Buffers hits from the checks and writes them in batches.

    Args:
        store: the hits' SQL.
        is_local: whether a user id is of this server (only they are charged).
        penalties: the credit hook, None until credit exists.
    """

    def __init__(
        self,
        store: ContentHitStore,
        is_local: Callable[[str], bool],
        penalties: CreditPenalties | None = None,
    ) -> None:
        self._store = store
        self._is_local = is_local
        self.penalties = penalties
        self._buffer: list[HitRow] = []

    def add(self, hit: HitRow) -> None:
        """Queue a hit: a list append, safe on the message path."""
        self._buffer.append(hit)

    async def flush(self) -> None:
        """Write what is buffered (the looping call), then charge penalties."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        try:
            await self._store.add(batch)
        except Exception:
            # Keep them for the next round, but never without bound.
            self._buffer[:0] = batch
            dropped = len(self._buffer) - MAX_BUFFERED
            if dropped > 0:
                del self._buffer[:dropped]
                logger.error("content hits: dropped %d unwritten records", dropped)
            raise
        await self._charge(batch)

    async def _charge(self, batch: list[HitRow]) -> None:
        """The credit hook (D1): each refusal costs the category's penalty,
        and counts toward the violation thresholds even when that is 0."""
        if self.penalties is None:
            return
        for hit in batch:
            if hit.action != "block" or hit.field in UNCHARGED_FIELDS:
                continue
            if not hit.user_id or not self._is_local(hit.user_id):
                continue
            try:
                await self.penalties.penalise(
                    hit.user_id,
                    hit.credit_penalty,
                    f"prohibited content: {hit.category}",
                    {
                        "category": hit.category,
                        "field": hit.field,
                        "room_id": hit.room_id,
                        "event_type": hit.event_type,
                        "ts": hit.ts,
                    },
                )
            except Exception:
                logger.exception(
                    "content hits: credit penalty for %s failed", hit.user_id
                )

    # -- what sanctions and complaints read ---------------------------------

    async def blocks_since(self, user_id: str, since_ts: int) -> int:
        """How many of a user's publications were refused since `since_ts`
        (D1/D3 thresholds such as "three in a day"). Includes this process's
        unwritten hits; other processes' arrive within a second."""
        await self.flush()
        return await self._store.count_for_user(user_id, since_ts, "block")

    async def page(
        self,
        after_id: int,
        limit: int,
        user_id: str | None = None,
        action: str | None = None,
        category: str | None = None,
        since_ts: int | None = None,
    ) -> list[HitRow]:
        """Hits after `after_id`, oldest first: the complaint queue reads
        review records this way (`action="review"`), as a cursor."""
        await self.flush()
        return await self._store.page(
            after_id, limit, user_id, action, category, since_ts
        )

    async def purge(self, now_ms: int, retention_ms: int) -> None:
        purged = await self._store.purge_before(now_ms - retention_ms)
        if purged:
            logger.info("content hits: purged %d records past retention", purged)

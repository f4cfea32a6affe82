"""What checks in observe mode would have refused (H4), counted.

The dispatcher notes each observed refusal here, in memory (no database on
the request path); every process adds its counts to the table every few
seconds, so the admin API shows the sum over all workers, by check and
reason, with when and whom it last concerned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from synapse_groupreg.reasons import Refusal
from synapse_groupreg.store.adoption import AdoptionStore

logger = logging.getLogger(__name__)

#: How often each process writes its counts.
FLUSH_INTERVAL_MS = 2000

Counts = dict[tuple[str, str], tuple[int, int, int, str, str]]


class ObservationLog:
    def __init__(self, store: AdoptionStore, now_ms: Callable[[], int]) -> None:
        self._store = store
        self._now_ms = now_ms
        self._buffer: Counts = {}

    def note(self, check: str, refusal: Refusal, actor: str, target: str) -> None:
        key = (check, refusal.reason.value)
        now = self._now_ms()
        count, first, _, _, _ = self._buffer.get(key, (0, now, now, "", ""))
        self._buffer[key] = (count + 1, first, now, actor, target)

    async def flush(self) -> None:
        counts, self._buffer = self._buffer, {}
        if not counts:
            return
        try:
            await self._store.add_observations(counts)
        except Exception:
            logger.exception("could not write observed refusals; keeping them")
            for key, (n, first, last, actor, target) in counts.items():
                more, earlier, later, a, t = self._buffer.get(
                    key, (0, first, last, actor, target)
                )
                self._buffer[key] = (
                    n + more,
                    min(first, earlier),
                    max(last, later),
                    a,
                    t,
                )

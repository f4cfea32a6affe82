"""Sliding windows over actions, held in memory (B9, D7).

A `Window` remembers, per key, the times of at most `limit` recent
actions: an action is allowed while fewer than `limit` lie within the last
`window_ms`, and the time of the oldest says when the next one will be. A
key costs a deque of at most `limit` integers; `prune` drops keys whose
actions all lie outside the window, so memory follows the active senders.

Each process counts what it sees: with several event-sending workers a
member's messages are counted by the worker that takes each request.
"""

from __future__ import annotations

import collections
from collections.abc import Hashable


class Window:
    """Actions per key within the last `window_ms`."""

    __slots__ = ("_keys", "window_ms")

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self._keys: dict[Hashable, collections.deque[int]] = {}

    def retry_at(self, key: Hashable, limit: int, now: int) -> int | None:
        """None if one more action is allowed now; otherwise the time (ms)
        from which it will be. Records nothing."""
        times = self._keys.get(key)
        if times is None or len(times) < limit:
            return None
        # The oldest of the last `limit` actions: once it leaves the window,
        # there is room for one more.
        oldest = times[-limit]
        if oldest <= now - self.window_ms:
            return None
        return oldest + self.window_ms

    def add(self, key: Hashable, limit: int, now: int) -> None:
        """Record one action (keeping the last `limit`)."""
        times = self._keys.get(key)
        if times is None or times.maxlen != limit:
            times = collections.deque(times or (), maxlen=limit)
            self._keys[key] = times
        times.append(now)

    def count(self, key: Hashable, now: int) -> int:
        """How many recorded actions lie within the window now."""
        cutoff = now - self.window_ms
        return sum(1 for t in self._keys.get(key, ()) if t > cutoff)

    def forget(self, key: Hashable) -> None:
        self._keys.pop(key, None)

    def prune(self, now: int) -> int:
        """Drop keys with no action within the window; how many were left."""
        cutoff = now - self.window_ms
        stale = [
            k for k, times in self._keys.items() if not times or times[-1] <= cutoff
        ]
        for key in stale:
            del self._keys[key]
        return len(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

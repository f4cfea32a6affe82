"""Finding a perceptual hash within a Hamming distance among many (C7).

Multi-index hashing: each 64-bit hash is cut into four bands of 16 bits and
filed under each band's value. If two hashes differ in at most `d` bits,
some band differs in at most `d // 4` (pigeonhole), so looking up every
value within `d // 4` bits of each of the query's four bands finds every
candidate; each is then compared whole. With 100k hashes and d = 8 that is
548 dictionary lookups and a few hundred comparisons instead of 100k
(bench/media.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

V = TypeVar("V")

_BANDS = 4
_BAND_BITS = 16
_BAND_MASK = (1 << _BAND_BITS) - 1
#: The largest distance the index answers for (d // 4 = 4: 2,517 lookups per band).
MAX_DISTANCE = 19


def _flips(radius: int) -> tuple[int, ...]:
    """Every 16-bit mask with at most `radius` bits set."""
    masks = [0]
    for bits in range(1, radius + 1):
        for chosen in itertools.combinations(range(_BAND_BITS), bits):
            mask = 0
            for bit in chosen:
                mask |= 1 << bit
            masks.append(mask)
    return tuple(masks)


class HammingIndex(Generic[V]):
    """Hashes with a value each (their category); `nearest` answers the
    closest within `max_distance`, or None."""

    def __init__(self, items: Iterable[tuple[int, V]], max_distance: int) -> None:
        if not 0 <= max_distance <= MAX_DISTANCE:
            raise ValueError(f"max_distance must be 0-{MAX_DISTANCE}")
        self.max_distance = max_distance
        self._hashes: list[int] = []
        self._values: list[V] = []
        self._bands: list[dict[int, list[int]]] = [{} for _ in range(_BANDS)]
        self._flips = _flips(max_distance // _BANDS)
        for value_hash, value in items:
            position = len(self._hashes)
            self._hashes.append(value_hash)
            self._values.append(value)
            for band, table in enumerate(self._bands):
                key = (value_hash >> (band * _BAND_BITS)) & _BAND_MASK
                table.setdefault(key, []).append(position)

    def __len__(self) -> int:
        return len(self._hashes)

    def nearest(self, query: int) -> tuple[int, V, int] | None:
        """(listed hash, its value, distance) of the closest hash within
        the distance; the first listed wins a tie."""
        best: tuple[int, int] | None = None  # (distance, position)
        seen: set[int] = set()
        hashes, limit = self._hashes, self.max_distance
        for band, table in enumerate(self._bands):
            key = (query >> (band * _BAND_BITS)) & _BAND_MASK
            for flip in self._flips:
                bucket = table.get(key ^ flip)
                if bucket is None:
                    continue
                for position in bucket:
                    if position in seen:
                        continue
                    seen.add(position)
                    distance = (query ^ hashes[position]).bit_count()
                    if distance <= limit and (
                        best is None or (distance, position) < best
                    ):
                        best = (distance, position)
        if best is None:
            return None
        distance, position = best
        return hashes[position], self._values[position], distance

    def brute_nearest(self, query: int) -> tuple[int, V, int] | None:
        """The same answer by comparing every hash (tests and bench)."""
        found: Sequence[tuple[int, int]] = sorted(
            ((query ^ h).bit_count(), i)
            for i, h in enumerate(self._hashes)
            if (query ^ h).bit_count() <= self.max_distance
        )
        if not found:
            return None
        distance, position = found[0]
        return self._hashes[position], self._values[position], distance

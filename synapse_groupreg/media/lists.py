"""The media lists as every process holds them (C7): a set of SHA-256
digests and a Hamming index of perceptual hashes, each naming its
category."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import attrs

from synapse_groupreg.content.catalogue import Family
from synapse_groupreg.media.hashing import PHASH, SHA256, FileHashes, parse_phash
from synapse_groupreg.media.index import HammingIndex
from synapse_groupreg.store.keywords import CategoryRow
from synapse_groupreg.store.lists import MEDIA, CategoryEntries

SHA256_KIND = "sha256"
PHASH_KIND = "phash"
#: The most hashes of one kind one category may hold (100k are measured in
#: bench/media.py: a 12 MB index built in about a second).
MAX_HASHES = 500_000


@attrs.frozen(slots=True)
class MediaMatch:
    category: CategoryRow
    #: "sha256:<hex>" or "phash:<hex>", what matched.
    entry: str
    #: Bits apart (0 for a digest).
    distance: int


@attrs.frozen(slots=True, repr=False)
class MediaSnapshot:
    version: int
    digests: Mapping[str, str]
    phashes: HammingIndex[str]
    categories: Mapping[str, CategoryRow]

    def __repr__(self) -> str:
        return (
            f"MediaSnapshot(version={self.version}, digests={len(self.digests)},"
            f" phashes={len(self.phashes)}, categories={len(self.categories)})"
        )

    @property
    def empty(self) -> bool:
        return not self.digests and not len(self.phashes)

    def match(self, hashes: FileHashes) -> MediaMatch | None:
        """The listed digest, else the nearest listed perceptual hash of
        any of the file's (its central parts)."""
        category = self.digests.get(hashes.sha256)
        if category is not None:
            return MediaMatch(
                self.categories[category], f"{SHA256_KIND}:{hashes.sha256}", 0
            )
        best: tuple[int, str, int] | None = None
        for probe in hashes.phashes:
            found = self.phashes.nearest(probe)
            if found is not None and (best is None or found[2] < best[2]):
                best = found
                if found[2] == 0:
                    break
        if best is None:
            return None
        listed, category, distance = best
        return MediaMatch(
            self.categories[category], f"{PHASH_KIND}:{listed:016x}", distance
        )

    @classmethod
    def build(
        cls, max_distance: int, version: int, categories: Sequence[CategoryEntries]
    ) -> MediaSnapshot:
        """Pure and CPU-bound (100k hashes: about a second), run in a thread.
        A hash in two categories belongs to the first by name."""
        digests: dict[str, str] = {}
        phashes: dict[int, str] = {}
        for c in categories:
            for digest in c.of(SHA256_KIND):
                digests.setdefault(digest, c.row.name)
            for value in c.of(PHASH_KIND):
                phashes.setdefault(parse_phash(value), c.row.name)
        return cls(
            version,
            digests,
            HammingIndex(phashes.items(), max_distance),
            {c.row.name: c.row for c in categories},
        )


def _sha256(entry: str) -> str:
    value = entry.strip().lower()
    if not SHA256.match(value):
        raise ValueError("is not a SHA-256 digest (64 hex digits)")
    return value


def _phash(entry: str) -> str:
    value = entry.strip().lower()
    if not PHASH.match(value):
        raise ValueError("is not a perceptual hash (16 hex digits)")
    return value


def media_family(max_distance: int) -> Family[MediaSnapshot]:
    return Family(
        MEDIA,
        {SHA256_KIND: _sha256, PHASH_KIND: _phash},
        partial(MediaSnapshot.build, max_distance),
        MAX_HASHES,
    )

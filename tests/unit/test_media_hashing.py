"""C7: the perceptual hash finds resized, recompressed and lightly cropped
copies of a listed picture and tells unrelated pictures apart; the Hamming
index answers what comparing every hash would; the snapshot's match."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import pytest
from PIL import Image

from synapse_groupreg.media import hashing
from synapse_groupreg.media.hashing import (
    FileHashes,
    hamming,
    hash_file,
    image_phashes,
    listed_phash,
    phash_pixels,
)
from synapse_groupreg.media.index import HammingIndex
from synapse_groupreg.media.lists import MediaSnapshot, media_family
from synapse_groupreg.store.keywords import CategoryRow
from synapse_groupreg.store.lists import CategoryEntries
from tests.support.pictures import cropped, encoded, picture

MAX_DISTANCE = 8


def _distance(listed: bytes, candidate: bytes) -> int:
    value = listed_phash(io.BytesIO(listed))
    assert value is not None
    probes = image_phashes(io.BytesIO(candidate))
    return min(hamming(value, p) for p in probes)


@pytest.mark.parametrize("seed", [1, 5, 9])
def test_near_duplicates_are_within_the_distance(seed: int) -> None:
    """C7: resized, recompressed, re-encoded and lightly cropped copies."""
    original = picture(seed)
    listed = encoded(original, quality=95)
    copies = {
        "half size": encoded(original.resize((400, 300)), quality=85),
        "recompressed q30": encoded(original, quality=30),
        "as PNG": encoded(original, "PNG"),
        "twice the size": encoded(original.resize((1600, 1200)), quality=80),
        "3% off each side": encoded(cropped(original, 0.03, 0.03, 0.03, 0.03)),
        "5% off each side": encoded(cropped(original, 0.05, 0.05, 0.05, 0.05)),
        "4% off two sides": encoded(cropped(original, 0.04, 0.04, 0, 0)),
        "resized and cropped": encoded(
            cropped(original, 0.02, 0.02, 0.02, 0.02).resize((500, 380)), quality=60
        ),
    }
    for name, copy in copies.items():
        assert _distance(listed, copy) <= MAX_DISTANCE, name


def test_unrelated_pictures_are_far_apart() -> None:
    listed = [encoded(picture(seed)) for seed in range(20, 32)]
    for i, a in enumerate(listed):
        for b in listed[i + 1 :]:
            assert _distance(a, b) > 2 * MAX_DISTANCE


def test_a_file_that_is_not_a_picture_has_only_its_digest(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"not a picture")
    hashes = hash_file(str(path))
    assert hashes.phashes == ()
    assert hashes.sha256 == hashlib.sha256(b"not a picture").hexdigest()


def test_a_picture_without_shape_has_no_perceptual_hash() -> None:
    """One colour: its bits would be rounding noise, alike for all such."""
    assert phash_pixels([128] * 1024) is None
    assert listed_phash(io.BytesIO(encoded(Image.new("RGB", (64, 64), "red")))) is None
    with pytest.raises(ValueError):
        phash_pixels([0] * 10)


def test_the_index_answers_as_comparing_every_hash() -> None:
    """Multi-index hashing finds every hash within the distance."""
    r = random.Random(7)
    listed = [r.getrandbits(64) for _ in range(3000)]
    for distance in (0, 3, 8, 12):
        index = HammingIndex(((h, i) for i, h in enumerate(listed)), distance)
        for _ in range(200):
            base = r.choice(listed)
            query = base
            for bit in r.sample(range(64), r.randrange(0, distance + 3)):
                query ^= 1 << bit
            assert index.nearest(query) == index.brute_nearest(query)
        far = r.getrandbits(64)
        assert index.nearest(far) == index.brute_nearest(far)


def test_the_snapshot_matches_digests_then_the_nearest_picture() -> None:
    row = CategoryRow("banned", "block", 20, "违禁图片", "banned pictures", 0, "a")
    listed_hash = 0x0F0F_0F0F_0F0F_0F0F
    snapshot = MediaSnapshot.build(
        MAX_DISTANCE,
        3,
        [
            CategoryEntries(
                row, {"sha256": ("ab" * 32,), "phash": (f"{listed_hash:016x}",)}
            )
        ],
    )
    by_digest = snapshot.match(FileHashes("ab" * 32, ()))
    assert by_digest is not None and by_digest.distance == 0
    near = snapshot.match(FileHashes("cd" * 32, (listed_hash ^ 0b111, 12345)))
    assert near is not None
    assert (near.category.name, near.distance) == ("banned", 3)
    assert near.entry == f"phash:{listed_hash:016x}"
    assert snapshot.match(FileHashes("cd" * 32, (listed_hash ^ 0x1FF,))) is None


def test_entries_are_checked_and_written_one_way() -> None:
    family = media_family(MAX_DISTANCE)
    assert family.kinds["sha256"](" " + "AB" * 32) == "ab" * 32
    assert family.kinds["phash"]("00FF00FF00FF00FF") == "00ff00ff00ff00ff"
    for kind, bad in (("sha256", "ab" * 31), ("phash", "xyz"), ("phash", "0" * 17)):
        with pytest.raises(ValueError):
            family.kinds[kind](bad)


def test_a_huge_picture_is_matched_by_digest_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Decoding a picture of more pixels than Synapse thumbnails would cost
    more than the upload (a small PNG can hold a huge picture)."""
    data = encoded(picture(3), "PNG")  # 800 x 600
    assert image_phashes(io.BytesIO(data)) != ()
    monkeypatch.setattr(hashing, "MAX_PIXELS", 800 * 600 - 1)
    assert image_phashes(io.BytesIO(data)) == ()

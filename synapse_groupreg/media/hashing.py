"""The two hashes of a file (C7): SHA-256 of its bytes, and a perceptual
hash of the picture when it is an image.

The perceptual hash is our own DCT hash ("pHash"): the picture reduced to
32 x 32 grey levels, its two-dimensional DCT-II, the 8 x 8 lowest
frequencies, one bit per coefficient (above the median of the 63 that are
not the mean). Resizing and recompressing change high frequencies and
leave the low ones, so near-duplicates land a few bits apart. Two
unrelated pictures differ in about half of the 64 bits.

Cropping scales and shifts the picture, which a DCT hash does not forgive
(3% off each side costs about 12 bits). So a listed hash is the hash of
the picture's central 90% (`listed_phash`), and a file is checked with
the hashes of its central 90% to 100% in steps (`probe_phashes`): one of
them covers the listed region again when up to 5% was cut from each side
(0 bits on centred crops, 2-8 on crops from one or two sides,
tests/unit/test_media_hashing.py).

Pure and CPU-bound: callers run `hash_file` in a thread. Pillow is
Synapse's own dependency; it is imported here only.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from typing import IO, Any

import attrs

#: The side of the reduced picture the DCT runs over.
_SIDE = 32
#: The side of the block of low frequencies that make the hash.
_LOW = 8
#: cos((2x + 1) u pi / 2N) for the low frequencies u and every x.
_COS: tuple[tuple[float, ...], ...] = tuple(
    tuple(math.cos((2 * x + 1) * u * math.pi / (2 * _SIDE)) for x in range(_SIDE))
    for u in range(_LOW)
)
#: Below this largest low-frequency coefficient a picture has no shape to
#: hash (a gradient of one grey level across the picture is about 300).
_FLAT = 64.0
#: Files are read in pieces of this size (the digest never holds a file whole).
_CHUNK = 1 << 20
#: A picture is decoded at about this size at most before reduction: JPEG
#: decodes straight to a fraction of its size (Pillow's draft mode), so a
#: 10 MB photograph costs a fraction of a full decode.
_DRAFT = 256

#: Pictures larger than this (after JPEG's reduced decoding) are matched by
#: digest only: decoding them would cost more than the upload. Synapse's own
#: default `max_image_pixels`, above which it makes no thumbnails either.
MAX_PIXELS = 32_000_000

SHA256 = re.compile(r"^[0-9a-f]{64}$")
PHASH = re.compile(r"^[0-9a-f]{16}$")


#: The central part of a picture a listed hash covers.
LISTED_FRACTION = 0.9
#: The central parts of a file the check hashes (the first is the listed one).
PROBE_FRACTIONS = (0.9, 0.92, 0.94, 0.96, 0.98, 1.0)


@attrs.frozen(slots=True)
class FileHashes:
    """What the check needs of one file."""

    sha256: str
    #: The hashes of the picture's central parts (`PROBE_FRACTIONS`), empty
    #: when the file is not an image Pillow reads.
    phashes: tuple[int, ...]


def phash_hex(value: int) -> str:
    """A perceptual hash as the lists write it: 16 lower-case hex digits."""
    return f"{value:016x}"


def parse_phash(text: str) -> int:
    """A listed perceptual hash (16 hex digits) as a number."""
    return int(text, 16)


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits differ."""
    return (a ^ b).bit_count()


def phash_pixels(pixels: Sequence[int]) -> int | None:
    """The hash of a 32 x 32 grey picture given row by row (1,024 values);
    None for a picture without shape (one colour, or nearly), whose bits
    would be rounding noise, the same for every such picture."""
    if len(pixels) != _SIDE * _SIDE:
        raise ValueError(f"expected {_SIDE * _SIDE} pixels, got {len(pixels)}")
    # Separable DCT-II, low frequencies only: rows first, then columns.
    rows = []
    for y in range(_SIDE):
        row = pixels[y * _SIDE : (y + 1) * _SIDE]
        rows.append([sum(p * c for p, c in zip(row, cu, strict=True)) for cu in _COS])
    coefficients = [
        sum(rows[y][u] * cv[y] for y in range(_SIDE))
        for cv in _COS
        for u in range(_LOW)
    ]
    if max(abs(c) for c in coefficients[1:]) < _FLAT:
        return None
    ordered = sorted(coefficients[1:])  # the mean (0, 0) says nothing of shape
    median = (ordered[31] + ordered[32]) / 2
    value = 0
    for coefficient in coefficients:
        value = (value << 1) | (coefficient > median)
    return value


def phash_image(image: Any, fraction: float = 1.0) -> int | None:
    """The hash of the central `fraction` of a Pillow image (any mode)."""
    from PIL import Image

    width, height = image.size
    margin_x, margin_y = width * (1 - fraction) / 2, height * (1 - fraction) / 2
    grey = image.convert("L").resize(
        (_SIDE, _SIDE),
        Image.Resampling.BOX,
        box=(margin_x, margin_y, width - margin_x, height - margin_y),
    )
    return phash_pixels(list(grey.tobytes()))


def _open(file: IO[bytes]) -> Any:
    """The first frame of the picture in `file`, decoded small."""
    from PIL import Image

    image = Image.open(file)
    image.draft("RGB", (_DRAFT, _DRAFT))
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise ValueError(f"{width} x {height} pixels: too large to decode")
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animation: its first frame
    image.load()
    return image


def image_phashes(
    file: IO[bytes], fractions: Sequence[float] = PROBE_FRACTIONS
) -> tuple[int, ...]:
    """The hashes of the central `fractions` of the image in `file`; empty
    if it is not a picture Pillow reads (or would be a decompression bomb)."""
    try:
        with _open(file) as image:
            found = (phash_image(image, f) for f in fractions)
            return tuple(h for h in found if h is not None)
    except Exception:  # Pillow raises many kinds for files it cannot read
        return ()


def listed_phash(file: IO[bytes]) -> int | None:
    """The hash a list holds for the image in `file` (its central 90%), or
    None if it is not a picture (or one without shape)."""
    found = image_phashes(file, (LISTED_FRACTION,))
    return found[0] if found else None


def hash_file(path: str, fractions: Sequence[float] = PROBE_FRACTIONS) -> FileHashes:
    """SHA-256 of the file at `path`, and its perceptual hashes if an image."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
        f.seek(0)
        phashes = image_phashes(f, fractions)
    return FileHashes(digest.hexdigest(), phashes)

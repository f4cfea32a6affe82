"""Test pictures: deterministic, with enough shape for a perceptual hash,
and the near-duplicates C7 must catch (resized, recompressed, cropped)."""

from __future__ import annotations

import io
import random
from typing import Any

from PIL import Image, ImageDraw, ImageFilter


def picture(seed: int, size: tuple[int, int] = (800, 600)) -> Any:
    """Blurred ellipses and rectangles on a background, from `seed`."""
    r = random.Random(seed)
    image = Image.new("RGB", size, tuple(r.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(12):
        x0, y0 = r.randrange(width), r.randrange(height)
        box = [x0, y0, x0 + r.randrange(width // 16, width // 2),
               y0 + r.randrange(height // 12, height // 2)]  # fmt: skip
        fill = tuple(r.randrange(256) for _ in range(3))
        (draw.ellipse if r.random() < 0.5 else draw.rectangle)(box, fill=fill)
    return image.filter(ImageFilter.GaussianBlur(max(2, width // 400)))


def encoded(image: Any, fmt: str = "JPEG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def cropped(image: Any, left: float, top: float, right: float, bottom: float) -> Any:
    """Cut the given fractions off each side."""
    width, height = image.size
    return image.crop(
        (
            int(width * left),
            int(height * top),
            int(width * (1 - right)),
            int(height * (1 - bottom)),
        )
    )

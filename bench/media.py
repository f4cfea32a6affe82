"""Benchmark the media lists (C7) and the link lists (C8).

Media: with 100k SHA-256 digests and 100k perceptual hashes listed, the
check's cost per upload of a 1 MB and a 10 MB picture (JPEG and PNG):
SHA-256, decoding, six DCT hashes and the lookups, all in Synapse's thread
pool, beside what Synapse itself does for the same upload (writes
the file while computing its SHA-256, then decodes it for thumbnails:
synapse/media/media_repository.py, `create_or_update_content`,
`_generate_thumbnails`), printed as a ratio. Also the index against
comparing every hash, and the lists' build time.

Links: per message, the link check (find and normalise hosts, match 100k
listed domains) for messages without a link, with one, and long ones,
beside the keyword filter's scan of the same message (10k keywords) and
against the 13 ms of CPU Synapse spends per message (docs/architecture.md,
bench/content_cost.py), as ratios. Timings are printed, never asserted.

    .venv/bin/python bench/media.py            # about a minute
    .venv/bin/python bench/media.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from synapse_groupreg.content.extract import link_texts
from synapse_groupreg.keywords import Category, KeywordSet
from synapse_groupreg.links.check import links_in
from synapse_groupreg.links.lists import LinkSnapshot
from synapse_groupreg.media.hashing import PROBE_FRACTIONS, hash_file
from synapse_groupreg.media.lists import MediaSnapshot
from synapse_groupreg.store.keywords import CategoryRow
from synapse_groupreg.store.lists import CategoryEntries

SEED = 20171008
#: Synapse's CPU per message on the test machine (bench/content_cost.py).
SYNAPSE_MESSAGE_MS = 13.0
#: The thumbnail sizes of Synapse's default `thumbnail_sizes`.
THUMBNAILS = ((32, 32, "crop"), (96, 96, "crop"), (320, 240, "scale"),
              (640, 480, "scale"), (800, 600, "scale"))  # fmt: skip


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of `fn` over `repeat` runs."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def photograph(size: tuple[int, int], rng: random.Random) -> Any:
    """Shapes with grain: compresses like a photograph, not like a drawing."""
    image = Image.new("RGB", size, (rng.randrange(256), 90, 160))
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(40):
        x, y = rng.randrange(w), rng.randrange(h)
        draw.ellipse([x, y, x + rng.randrange(w // 3), y + rng.randrange(h // 3)],
                     fill=tuple(rng.randrange(256) for _ in range(3)))  # fmt: skip
    image = image.filter(ImageFilter.GaussianBlur(3))
    noise = Image.effect_noise(size, 40).convert("RGB")
    return Image.blend(image, noise, 0.25)


def sized_file(folder: Path, target: int, fmt: str, rng: random.Random) -> Path:
    """A picture file of about `target` bytes."""
    side = 600
    while True:
        image = photograph((side * 4 // 3, side), rng)
        out = io.BytesIO()
        image.save(out, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
        if out.tell() >= target * 0.9 or side > 8000:
            path = folder / f"{target // 1_000_000}MB.{fmt.lower()}"
            path.write_bytes(out.getvalue())
            return path
        side = int(side * (target / out.tell()) ** 0.5 * 1.05)


def synapse_upload(path: Path, folder: Path) -> None:
    """What Synapse does with an image upload: stream it to disk while
    hashing, then decode it once per thumbnail size and write each."""
    digest = hashlib.sha256()
    with open(path, "rb") as source, open(folder / "stored", "wb") as out:
        while chunk := source.read(1 << 16):
            digest.update(chunk)
            out.write(chunk)
    for width, height, method in THUMBNAILS:
        with Image.open(folder / "stored") as source:
            source.draft("RGB", (width, height))  # Synapse's thumbnailer does too
            image = source.convert("RGB")
            if method == "crop":
                image = image.resize((width, height))
            else:
                image.thumbnail((width, height))
            image.save(folder / f"t{width}", "JPEG", quality=80)


def check_file(snapshot: MediaSnapshot, path: Path) -> object:
    """The check: hashing (the thread's part) and the lookups."""
    return snapshot.match(hash_file(str(path), PROBE_FRACTIONS))


def media_lists(n: int, rng: random.Random) -> MediaSnapshot:
    row = CategoryRow("banned", "block", 20, "违禁", "banned", 0, "bench")
    entries = {
        "sha256": tuple(f"{rng.getrandbits(256):064x}" for _ in range(n)),
        "phash": tuple(f"{rng.getrandbits(64):016x}" for _ in range(n)),
    }
    return MediaSnapshot.build(8, 1, [CategoryEntries(row, entries)])


def bench_media(quick: bool) -> None:
    rng = random.Random(SEED)
    n = 10_000 if quick else 100_000
    started = time.perf_counter()
    snapshot = media_lists(n, rng)
    build = time.perf_counter() - started
    print(f"\nMedia lists: {n:,} SHA-256 + {n:,} perceptual hashes listed; "
          f"built in {build:.2f} s")  # fmt: skip
    queries = [rng.getrandbits(64) for _ in range(200)]
    index = snapshot.phashes
    mih = timed(lambda: [index.nearest(q) for q in queries], 3) / len(queries)
    brute = timed(lambda: [index.brute_nearest(q) for q in queries[:5]], 1) / 5
    print(f"  nearest perceptual hash within 8 bits: index {mih * 1e6:.0f} us, "
          f"every hash compared {brute * 1e3:.1f} ms ({brute / mih:.0f}x)")  # fmt: skip
    print()
    print(f"  {'file':<12}{'bytes':>12}{'check ms':>11}{'of which lookup':>17}"
          f"{'Synapse ms':>12}{'ratio':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sizes = (1_000_000,) if quick else (1_000_000, 10_000_000)
        for target in sizes:
            for fmt in ("JPEG", "PNG"):
                path = sized_file(folder, target, fmt, rng)
                repeat = 3 if quick else 5
                hashes = hash_file(str(path), PROBE_FRACTIONS)
                check = timed(partial(check_file, snapshot, path), repeat)
                lookup = timed(partial(snapshot.match, hashes), 20)
                synapse = timed(partial(synapse_upload, path, folder), repeat)
                print(f"  {path.name:<12}{os.path.getsize(path):>12,}"
                      f"{check * 1e3:>11.1f}{lookup * 1e6:>14.0f} us"
                      f"{synapse * 1e3:>12.1f}{check / synapse:>8.2f}")  # fmt: skip
    print("  check: SHA-256, decode at reduced size, six DCT hashes and the lookups,")
    print("  all in the thread pool; Synapse: store + SHA-256 + thumbnails.")


MESSAGES = {
    "short, no link": "好的，明天上午十点开会，记得带上周的报告。",
    "short, with dot": "ok. see you at 3.30 then.",
    "one link": "请看 https://docs.example.org/plan/2026?ref=chat 里的安排。",
    "one IP link": "登录 http://203.0.113.9:8080/login 领取奖品",
    "500 chars, 2 links": (
        "关于下周的发布计划，请大家先阅读文档 https://wiki.example.com/release "
        "然后在表格 docs.example.net/sheet 里填写各自的进度。" * 6
    )[:500],
}


def bench_links(quick: bool) -> None:
    rng = random.Random(SEED + 1)
    n = 10_000 if quick else 100_000
    domains = tuple(
        f"{''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(10))}.com"
        for _ in range(n)
    )
    row = CategoryRow("gambling", "block", 15, "赌博", "gambling", 0, "bench")
    snapshot = LinkSnapshot.build(1, [CategoryEntries(row, {"domains": domains})])
    words = tuple(
        "".join(rng.choice("赌博彩票开奖六合彩百家乐网站投注平台") for _ in range(4))
        for _ in range(10_000)
    )
    keywords = KeywordSet.build(
        [Category("gambling", "block", 15, tuple(dict.fromkeys(words)), ())]
    )
    print(f"\nLink lists: {n:,} domains listed; keyword filter with 10k words "
          "for comparison")  # fmt: skip
    print(f"  {'message':<22}{'links us':>10}{'keywords us':>13}"
          f"{'links/keywords':>16}{'of Synapse':>12}")  # fmt: skip
    repeat = 2000 if quick else 20000
    for name, text in MESSAGES.items():
        content = {"msgtype": "m.text", "body": text}

        def link_check(c: dict[str, str] = content) -> object:
            return snapshot.match(
                f.host for f in links_in(link_texts("m.room.message", c))
            )

        def keyword_check(t: str = text) -> object:
            return keywords.scan(t)

        links_s = timed(lambda: [link_check() for _ in range(repeat // 100)], 100)
        words_s = timed(lambda: [keyword_check() for _ in range(repeat // 100)], 100)
        per_link, per_word = links_s / (repeat // 100), words_s / (repeat // 100)
        print(f"  {name:<22}{per_link * 1e6:>10.1f}{per_word * 1e6:>13.1f}"
              f"{per_link / per_word:>16.2f}"
              f"{per_link * 1e3 / SYNAPSE_MESSAGE_MS:>11.3%}")  # fmt: skip
    print(f"  'of Synapse': the link check against {SYNAPSE_MESSAGE_MS:.0f} ms of "
          "Synapse's CPU per message.")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    bench_media(args.quick)
    bench_links(args.quick)


if __name__ == "__main__":
    main()

"""Benchmark the prohibited-content filter (C2, C3, C6) against the alternatives.

Prints one table: for 1k, 10k and 100k keywords (half Chinese, half English)
and messages of 50, 500 and 2,000 characters (mixed Chinese and English), the
cost of our check (``KeywordSet.scan``: normalise + match) per message, beside
Python ``re`` alternation, naive substring search and pyahocorasick on raw
text (no normalisation) over characters and over UTF-8 bytes. Timings are
printed, never asserted.

    .venv/bin/python bench/filter.py            # about a minute
    .venv/bin/python bench/filter.py --quick    # a few seconds, for a smoke run
"""

from __future__ import annotations

import argparse
import gc
import html.parser
import random
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence

import ahocorasick

from synapse_groupreg.keywords import Category, KeywordSet, normalise, strip_html

SEED = 20171008  # the Provisions' day in force; any fixed seed will do
CATEGORIES = (
    "pornography",
    "violence_terror",
    "rumour_fraud",
    "pyramid_selling",
    "gambling",
)
_ENGLISH_WORDS = (
    "the meeting report budget team please send update project customer order "
    "price today tomorrow schedule review design release market sales office "
    "invoice account payment delivery shipping quality support service online "
    "mobile version feature issue question answer thanks great good check"
)
ENGLISH = _ENGLISH_WORDS.split()
CHINESE_PUNCTUATION = "，。！？、；：“”（）"


def common_hanzi() -> list[str]:
    """GB2312 level-1 Hanzi: the 3,755 most common Simplified characters."""
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def english_word(rng: random.Random) -> str:
    """A pronounceable made-up word of 2-3 syllables, like a brand or slang."""
    onsets = [*"bcdfgklmnprstvz", "br", "cr", "dr", "fl", "gr", "pl", "sk", "st", "tr"]
    codas = ["", "", "", "n", "r", "s", "t", "x", "ck", "ng", "sh"]
    return "".join(
        rng.choice(onsets) + rng.choice("aeiouy") + rng.choice(codas)
        for _ in range(rng.randint(2, 3))
    )


def keyword_list(rng: random.Random, hanzi: list[str], count: int) -> list[str]:
    """Half Chinese words of 2-4 characters, half English words or pairs."""
    words: set[str] = set()
    while len(words) < count:
        if len(words) % 2:
            words.add("".join(rng.choices(hanzi, k=rng.randint(2, 4))))
        elif rng.random() < 0.5:
            words.add(english_word(rng))
        else:
            words.add(f"{english_word(rng)} {rng.choice(ENGLISH)}")
    return sorted(words)


def message(rng: random.Random, hanzi: list[str], length: int) -> str:
    """Chinese clauses with punctuation, and English phrases, ~70% Chinese."""
    parts: list[str] = []
    size = 0
    while size < length:
        if rng.random() < 0.7:
            clause = "".join(rng.choices(hanzi, k=rng.randint(4, 14)))
            clause += rng.choice(CHINESE_PUNCTUATION)
        else:
            clause = " ".join(rng.choices(ENGLISH, k=rng.randint(2, 6))) + ". "
        parts.append(clause)
        size += len(clause)
    return "".join(parts)[:length]


def build_set(
    rng: random.Random, hanzi: list[str], words: Sequence[str]
) -> tuple[KeywordSet, float, float]:
    """Build our set over ``words``; return it, seconds and MB allocated.

    Words go round-robin into the five categories; each gets exceptions for
    1% of its words (the word inside a longer phrase, as 开奖 in 公开奖励).
    """
    categories = []
    for i, name in enumerate(CATEGORIES):
        own = words[i :: len(CATEGORIES)]
        exceptions = [
            rng.choice(hanzi) + word + rng.choice(hanzi)
            for word in own[: len(own) // 100]
        ]
        categories.append(Category(name, "block", 10, own, exceptions))
    gc.collect()
    started = time.perf_counter()
    built = KeywordSet.build(categories)
    seconds = time.perf_counter() - started
    # A second build under tracemalloc: tracing slows building about 2.5x.
    del built
    gc.collect()
    tracemalloc.start()
    built = KeywordSet.build(categories)
    megabytes = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    return built, seconds, megabytes


def raw_automaton(words: Sequence[str], as_bytes: bool) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
    for word in words:
        automaton.add_word(word.encode().decode("latin-1") if as_bytes else word, word)
    automaton.make_automaton()
    return automaton


def timed(
    check: Callable[[str], object], messages: Sequence[str], budget: float
) -> list[float]:
    """Per-message µs of ``check``, cycling messages until ``budget`` seconds."""
    samples: list[float] = []
    clock = time.perf_counter_ns
    for text in messages[:10]:  # warm caches before the clock runs
        check(text)
    gc.collect()
    gc.disable()
    try:
        deadline = time.perf_counter() + budget
        while time.perf_counter() < deadline or len(samples) < 20:
            for text in messages:
                started = clock()
                check(text)
                samples.append((clock() - started) / 1000)
                if len(samples) >= 20 and time.perf_counter() > deadline:
                    break
    finally:
        gc.enable()
    return samples


def p99(samples: list[float]) -> str:
    if len(samples) < 100:
        return "n<100"
    return f"{statistics.quantiles(samples, n=100)[98]:.1f}"


def median(samples: list[float]) -> str:
    value = statistics.median(samples)
    return f"{value:.1f}" if value < 10_000 else f"{value:.0f}"


def html_numbers(rng: random.Random, hanzi: list[str]) -> str:
    """One line: strip_html against html.parser on a 1 kB formatted_body."""
    body = "".join(
        f"<p>{message(rng, hanzi, 40)}<b>{message(rng, hanzi, 10)}</b> &amp; "
        f'<a href="https://example.org/{i}">link</a></p>'
        for i in range(6)
    )

    class Text(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    def by_parser(text: str) -> str:
        parser = Text()
        parser.feed(text)
        parser.close()
        return "".join(parser.parts)

    ours = statistics.median(timed(strip_html, [body], 0.2))
    parsed = statistics.median(timed(by_parser, [body], 0.2))
    size = len(body.encode())
    return (
        f"strip_html on a {size}-byte formatted_body: regex + unescape "
        f"{ours:.1f} µs, html.parser {parsed:.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small budgets, 1k/10k only"
    )
    args = parser.parse_args()
    budget = 0.05 if args.quick else 0.4
    slow_budget = 0.05 if args.quick else 0.25  # re and substring: ms per call
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)

    rng = random.Random(SEED)
    hanzi = common_hanzi()
    corpora = {n: [message(rng, hanzi, n) for _ in range(100)] for n in (50, 500, 2000)}
    header = (
        "keywords", "chars", "hit %", "ours med", "ours p99", "ours MB/s",
        "normalise", "re med", "substr med", "ac chars", "ac bytes", "ours/floor",
        "build ms", "build MB",
    )  # fmt: skip
    rows: list[tuple[str, ...]] = []
    for count in sizes:
        words = keyword_list(rng, hanzi, count)
        ours, build_seconds, build_mb = build_set(rng, hanzi, words)
        pattern = re.compile("|".join(map(re.escape, words)))
        by_char = raw_automaton(words, as_bytes=False)
        by_byte = raw_automaton(words, as_bytes=True)

        def by_char_scan(
            text: str, automaton: ahocorasick.Automaton = by_char
        ) -> object:
            return list(automaton.iter(text))

        def by_byte_scan(
            text: str, automaton: ahocorasick.Automaton = by_byte
        ) -> object:
            return list(automaton.iter(text.encode().decode("latin-1")))

        def substring(text: str, words: list[str] = words) -> bool:
            return any(w in text for w in words)

        for length, clean in corpora.items():
            # One message in ten carries a listed word, spaced out (C3).
            messages = [
                m
                if i % 10
                else m[: length // 2] + " ".join(rng.choice(words)) + m[length // 2 :]
                for i, m in enumerate(clean)
            ]
            hit_share = sum(1 for m in messages if ours.scan(m)) / len(messages)
            mean_bytes = statistics.mean(len(m.encode()) for m in messages)
            scan = timed(ours.scan, messages, budget)
            floor = statistics.median(timed(by_byte_scan, messages, budget))
            scan_median = statistics.median(scan)
            rows.append(
                (
                    f"{count // 1000}k",
                    str(length),
                    f"{hit_share:.0%}",
                    median(scan),
                    p99(scan),
                    f"{mean_bytes / scan_median:.0f}",
                    median(timed(normalise, messages, budget)),
                    median(timed(pattern.search, messages, slow_budget)),
                    median(timed(substring, messages, slow_budget)),
                    median(timed(by_char_scan, messages, budget)),
                    f"{floor:.1f}",
                    f"{scan_median / floor:.1f}x",
                    f"{build_seconds * 1000:.0f}",
                    f"{build_mb:.1f}",
                )
            )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                cell.rjust(width) for cell, width in zip(row, widths, strict=True)
            )
        )
    print(
        "µs per message (median, p99) unless named. ours = KeywordSet.scan (normalise"
        " + match);\nhit % = messages where ours finds a category; re, substr, "
        "ac chars and ac bytes match raw\ntext (no normalisation); floor = ac bytes, "
        "pyahocorasick over the raw UTF-8 bytes.\nMB/s counts UTF-8 input bytes. "
        "build = KeywordSet.build, MB traced by tracemalloc."
    )
    print(html_numbers(rng, hanzi))


if __name__ == "__main__":
    main()

"""The prohibited-content check's own cost per message inside Synapse (C1, C2).

Starts one homeserver (SQLite, generic profile, metrics on), loads a 10k
keyword list through the admin API (half Chinese, half English, generated
by bench/filter.py's seeded generator), and sends messages of 50, 500 and
2,000 characters (mixed Chinese and English, also bench/filter.py's; only
messages no keyword hits, so each is scanned in full and sent). Synapse
wraps every spam-checker callback in `Measure`, which counts the calls and
their wall time by name (`synapse_util_metrics_block_count`,
`..._block_time_seconds`, `..._block_ru_utime_seconds` and `_stime_`);
the difference before and after each batch, divided by the calls, is what
our `check_event_for_spam` costs the reactor per message: text extraction,
normalisation, matching and Synapse's return handling. Wall time includes
moments the process was not on a CPU (other processes, other threads
holding the GIL); thread CPU time (user + system, `getrusage`) does not,
and is the steadier number on a shared machine. Beside them, the same scan
timed outside Synapse (`KeywordSet.scan`, as bench/filter.py does).

`load_keywords` is also bench/send.py's setup for its 10k-keyword variant.
Timings are printed, never asserted.

    .venv/bin/python bench/content_cost.py [--messages 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.filter import CATEGORIES, SEED, common_hanzi, keyword_list, message
from synapse_groupreg.keywords import Category, KeywordSet
from tests.harness.homeserver import Homeserver, free_port

ADMIN = "/_synapse/client/groupreg/admin/v1"
CALLBACK = "synapse_groupreg.checks.content.ContentChecks.check_event_for_spam"
#: Messages bench/send.py sends; the list must let them all through.
SEND_PY_MESSAGES = [f"bench message {i}: " + "你好 hello " * 8 for i in range(5000)]


def keyword_categories(count: int) -> list[Category]:
    """`count` keywords from bench/filter.py's generator, round-robin over
    its five categories, each with exceptions for 1% of its words (a word
    inside a longer phrase, as 开奖 inside 公开奖励), all `block`."""
    rng = random.Random(SEED)
    hanzi = common_hanzi()
    words = keyword_list(rng, hanzi, count)
    categories = []
    for i, name in enumerate(CATEGORIES):
        own = words[i :: len(CATEGORIES)]
        exceptions = [
            rng.choice(hanzi) + word + rng.choice(hanzi)
            for word in own[: len(own) // 100]
        ]
        categories.append(Category(name, "block", 10, own, exceptions))
    return categories


def _call(hs: Homeserver, token: str, method: str, path: str, body: object) -> Any:
    request = urllib.request.Request(
        hs.base_url + path, data=json.dumps(body).encode(), method=method
    )
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=120) as r:
        return json.loads(r.read())


def load_keywords(
    hs: Homeserver, count: int = 10_000, keep_clean: list[str] | None = None
) -> KeywordSet:
    """Load `count` keywords into `hs` through the admin API, leaving out
    the few random words that would hit `keep_clean` (default: the messages
    bench/send.py sends). Returns the same set, compiled here."""
    clean = SEND_PY_MESSAGES if keep_clean is None else keep_clean
    categories = keyword_categories(count)
    local = KeywordSet.build(categories)
    hit = {(h.category, h.word_index) for text in clean for h in local.scan(text).hits}
    admin = hs.register(admin=True)
    kept: list[Category] = []
    for category in categories:
        words = [
            w for i, w in enumerate(category.words) if (category.name, i) not in hit
        ]
        kept.append(Category(category.name, "block", 10, words, category.exceptions))
        _call(
            hs,
            admin.access_token,
            "PUT",
            f"{ADMIN}/keywords/{category.name}",
            {
                "action": "block",
                "credit_penalty": 10,
                "words": words,
                "exceptions": list(category.exceptions),
            },
        )
    return KeywordSet.build(kept)


_METRIC = re.compile(r"^(\w+)\{([^}]*)\}\s+([0-9.eE+-]+)$")


def _callback_metrics(metrics_url: str) -> dict[str, float]:
    """Synapse's Measure counters for our callback: count, time, user CPU."""
    with urllib.request.urlopen(metrics_url, timeout=30) as r:
        text = r.read().decode()
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = _METRIC.match(line)
        if match and f'block_name="{CALLBACK}"' in match.group(2):
            found[match.group(1)] = float(match.group(3))
    return found


def _send(hs: Homeserver, token: str, room_id: str, body: str) -> None:
    _call(
        hs,
        token,
        "PUT",
        f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}",
        {"msgtype": "m.text", "body": body},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300, help="per size and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(SEED + 1)
    hanzi = common_hanzi()
    corpora = {n: [message(rng, hanzi, n) for _ in range(400)] for n in (50, 500, 2000)}

    hs = Homeserver({"profile": "generic"}, "sqlite", name="bench-cost")
    metrics_port = free_port()
    listeners = hs.synapse_config()["listeners"]
    listeners.append(
        {"type": "metrics", "port": metrics_port, "bind_addresses": ["127.0.0.1"]}
    )
    hs.extra_config.update({"enable_metrics": True, "listeners": listeners})
    hs.write_config()
    metrics_url = f"http://127.0.0.1:{metrics_port}/_synapse/metrics"
    hs.start()
    try:
        local = load_keywords(hs, 10_000, keep_clean=SEND_PY_MESSAGES)
        clean = {
            n: [m for m in texts if not local.scan(m)] for n, texts in corpora.items()
        }
        user = hs.register()
        room_id = _call(
            hs, user.access_token, "POST", "/_matrix/client/v3/createRoom", {}
        )["room_id"]
        for text in clean[50][:20]:  # warm up
            _send(hs, user.access_token, room_id, text)

        results: dict[int, list[tuple[float, float]]] = {n: [] for n in clean}
        for _ in range(args.rounds):
            for length, texts in clean.items():
                before = _callback_metrics(metrics_url)
                for i in range(args.messages):
                    _send(hs, user.access_token, room_id, texts[i % len(texts)])
                after = _callback_metrics(metrics_url)
                calls = after["synapse_util_metrics_block_count_total"] - before.get(
                    "synapse_util_metrics_block_count_total", 0
                )
                wall = after["synapse_util_metrics_block_time_seconds_total"] - (
                    before.get("synapse_util_metrics_block_time_seconds_total", 0)
                )
                cpu = sum(
                    after[name] - before.get(name, 0)
                    for name in (
                        "synapse_util_metrics_block_ru_utime_seconds_total",
                        "synapse_util_metrics_block_ru_stime_seconds_total",
                    )
                )
                results[length].append((wall / calls * 1e6, cpu / calls * 1e6))
    finally:
        hs.destroy()

    print(
        f"check_event_for_spam inside Synapse, 10k keywords, {args.rounds} rounds "
        f"of {args.messages} messages per size (SQLite)"
    )
    header = ("chars", "wall µs (median round)", "rounds min-max",
              "thread CPU µs", "scan alone µs")  # fmt: skip
    rows = []
    for length, samples in results.items():
        walls = [w for w, _ in samples]
        cpus = [c for _, c in samples]
        texts = clean[length]
        started = time.perf_counter()
        for _ in range(20):
            for text in texts:
                local.scan(text)
        alone = (time.perf_counter() - started) / (20 * len(texts)) * 1e6
        rows.append(
            (
                str(length),
                f"{statistics.median(walls):.1f}",
                f"{min(walls):.1f}-{max(walls):.1f}",
                f"{statistics.median(cpus):.1f}",
                f"{alone:.1f}",
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()

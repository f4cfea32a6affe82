"""The in-process cost of the limits' decision per message (B9, D7).

Times `Limiter.decide` (limits/decide.py), what the event-stage rule
`limits.event` runs once it has the room's class and the sender's band
(two warm cached reads, measured by bench/sanctions.py and
bench/rooms_check.py), for a plain message with every limit on and none
reached: the mention count, the per-member window in the room, the
per-user window of the band. `--senders` members post round-robin, so the
windows hold that many keys. Timings are printed, never asserted;
bench/bigroom.py --limits measures the whole path through Synapse.

    .venv/bin/python bench/limits.py [--messages 200000] [--senders 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synapse_groupreg.config.credit import BandLimits, CreditBand
from synapse_groupreg.config.rooms import ClassLimits
from synapse_groupreg.limits.decide import Limiter

LIMITS = ClassLimits(
    messages_per_minute=20, mentions_per_message=10, joins_per_minute=30
)
BAND = CreditBand("all", 0, frozenset(), BandLimits(messages_per_minute=30))
PLAIN = {"msgtype": "m.text", "body": "一条普通的消息 a plain message"}
MENTIONS = {
    "msgtype": "m.text",
    "body": "@alice:example.org @bob:example.org see this",
    "m.mentions": {"user_ids": ["@alice:example.org", "@bob:example.org"]},
}


async def _admin() -> bool:
    return False


async def run(messages: int, senders: int, content: object) -> float:
    """Microseconds per decision: every sender stays under its limits (a
    minute holds at most 20 of anyone's messages: the clock advances)."""
    limiter = Limiter(60_000)
    users = [f"@user{i}:example.org" for i in range(senders)]
    started = time.perf_counter()
    for i in range(messages):
        # Each sender's messages 3.2 s apart: 18.75 a minute, under 20.
        now = (i // senders) * 3_200 + i % senders
        refusal = await limiter.decide(
            "!room:example.org", users[i % senders], content, LIMITS, (100, BAND),
            _admin, now,
        )  # fmt: skip
        if refusal is not None:
            raise RuntimeError(f"refused: {refusal}")
    return (time.perf_counter() - started) / messages * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--senders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, content in (("plain", PLAIN), ("two mentions", MENTIONS)):
        samples = [
            asyncio.run(run(args.messages, args.senders, content))
            for _ in range(args.repeat)
        ]
        print(
            f"{name:>13}: {statistics.median(samples):.2f} µs per message "
            f"(median of {args.repeat}; min {min(samples):.2f}), "
            f"{args.senders} senders"
        )


if __name__ == "__main__":
    main()

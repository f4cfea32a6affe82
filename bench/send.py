"""Messages per second through Synapse, without the module and with it.

Starts real homeservers side by side in one run (SQLite, and PostgreSQL when
reachable), each with a fresh database, and sends `m.room.message` events
over HTTP the way a client does:

- sequential: one request at a time (latency-bound, what one user feels);
- saturated: `--concurrency` requests in flight (CPU-bound, what the server
  can take).

Variants are measured in alternating rounds so drift on the machine hits
them alike; the table shows the median round and the ratio to "without".
Timings are printed, never asserted.

    .venv/bin/python bench/send.py [--messages 400] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness import databases
from tests.harness.homeserver import Homeserver, User

#: What each variant loads; `setup` prepares the sender (e.g. verification).
Variant = tuple[str, Mapping[str, Any] | None, Callable[[Homeserver, User], None]]


def _nothing(hs: Homeserver, user: User) -> None:
    pass


VARIANTS: list[Variant] = [
    ("without module", None, _nothing),
    ("generic profile", {"profile": "generic"}, _nothing),
]


def _with_10k_keywords(hs: Homeserver, user: User) -> None:
    """C1-C3: 10k keywords (bench/filter.py's generator) through the admin API."""
    from bench.content_cost import load_keywords

    load_keywords(hs, 10_000)


VARIANTS.append(
    (
        "generic, content off",
        {"profile": "generic", "content": {"enabled": False}},
        _nothing,
    )
)
VARIANTS.append(("generic + 10k keywords", {"profile": "generic"}, _with_10k_keywords))


async def _send_many(
    session: aiohttp.ClientSession,
    hs: Homeserver,
    user: User,
    room_id: str,
    count: int,
    concurrency: int,
) -> float:
    """Send `count` messages with `concurrency` in flight; returns msg/s."""
    headers = {"Authorization": f"Bearer {user.access_token}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            url = (
                f"{hs.base_url}/_matrix/client/v3/rooms/{room_id}/send/"
                f"m.room.message/{uuid.uuid4().hex}"
            )
            body = {
                "msgtype": "m.text",
                "body": f"bench message {i}: " + "你好 hello " * 8,
            }
            async with session.put(url, json=body, headers=headers) as r:
                if r.status != 200:
                    raise RuntimeError(f"send failed: {r.status} {await r.text()}")

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - start)


async def _create_room(
    session: aiohttp.ClientSession, hs: Homeserver, user: User
) -> str:
    async with session.post(
        f"{hs.base_url}/_matrix/client/v3/createRoom",
        json={"name": "bench"},
        headers={"Authorization": f"Bearer {user.access_token}"},
    ) as r:
        body = await r.json()
        if r.status != 200:
            raise RuntimeError(f"createRoom failed: {r.status} {body}")
        return str(body["room_id"])


async def measure(backend: str, args: argparse.Namespace) -> list[list[str]]:
    servers: list[tuple[str, Homeserver, User, str]] = []
    try:
        async with aiohttp.ClientSession() as session:
            for name, module_config, setup in VARIANTS:
                hs = Homeserver(module_config, backend, name="bench").start()
                user = hs.register()
                setup(hs, user)
                room_id = await _create_room(session, hs, user)
                await _send_many(session, hs, user, room_id, args.warmup, 1)
                servers.append((name, hs, user, room_id))

            results: dict[str, dict[str, list[float]]] = {
                name: {"seq": [], "sat": []} for name, *_ in servers
            }
            for _ in range(args.rounds):
                for name, hs, user, room_id in servers:
                    results[name]["seq"].append(
                        await _send_many(session, hs, user, room_id, args.messages, 1)
                    )
                    results[name]["sat"].append(
                        await _send_many(
                            session, hs, user, room_id, args.messages, args.concurrency
                        )
                    )
    finally:
        for _, hs, _, _ in servers:
            hs.destroy()

    base_seq = statistics.median(results[VARIANTS[0][0]]["seq"])
    base_sat = statistics.median(results[VARIANTS[0][0]]["sat"])
    rows = []
    for name, *_ in servers:
        seq = statistics.median(results[name]["seq"])
        sat = statistics.median(results[name]["sat"])
        rows.append(
            [
                backend,
                name,
                f"{seq:.1f}",
                f"{seq / base_seq:.2f}",
                f"{sat:.1f}",
                f"{sat / base_sat:.2f}",
            ]
        )
    return rows


def print_table(rows: list[list[str]], concurrency: int) -> None:
    header = [
        "database",
        "variant",
        "sequential msg/s",
        "ratio",
        f"saturated ({concurrency} in flight) msg/s",
        "ratio",
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400, help="per round and mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="100 messages, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.rounds, args.warmup = 100, 1, 20
    rows: list[list[str]] = []
    for backend in databases.backends():
        rows.extend(asyncio.run(measure(backend, args)))
    print_table(rows, args.concurrency)


if __name__ == "__main__":
    main()

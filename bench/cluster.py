"""Messages per second on the large-server topology, without the module and
with it, in one run.

Starts two clusters of deploy/topology.py side by side (main, two event
persisters, background, sync, client reader, federation sender, each on its
own PostgreSQL database, Redis, nginx in front): one plain Synapse, one with
the module in the `generic` profile. 20 senders, each a user of its own in
one of four rooms, send through nginx at once (one request in flight each),
so the sends are spread over both event persisters as the routing says.
Rounds alternate between the two clusters so the machine's drift hits both
alike; the table shows the median round, the ratio to plain Synapse, and
the median and 95th-percentile latency of a send. Timings are printed,
never asserted.

    .venv/bin/python bench/cluster.py [--messages 25] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import attrs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.homeserver import User
from tests.harness.topology import Cluster, skip_reason

SENDERS = 20
ROOMS = 4


@attrs.define
class Setup:
    name: str
    cluster: Cluster
    #: (sender, room id) pairs.
    senders: list[tuple[User, str]]
    rates: list[float] = attrs.field(factory=list)
    latencies: list[float] = attrs.field(factory=list)


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, token: str, body: Any
) -> Any:
    async with session.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}
    ) as r:
        answer = await r.json(content_type=None)
        if r.status != 200:
            raise RuntimeError(f"{method} {url}: {r.status} {answer}")
        return answer


async def prepare(
    session: aiohttp.ClientSession, cluster: Cluster
) -> list[tuple[User, str]]:
    """Four rooms, twenty senders joined to them (five each), through the
    proxy."""
    front = cluster.front.base_url + "/_matrix/client/v3"
    owner = cluster.main.register()
    rooms = [
        (await _call(session, "POST", f"{front}/createRoom", owner.access_token,
                     {"preset": "public_chat", "name": f"bench {n}"}))["room_id"]
        for n in range(ROOMS)
    ]  # fmt: skip
    senders = []
    for n in range(SENDERS):
        user = cluster.main.register()
        room_id = rooms[n % ROOMS]
        await _call(session, "POST", f"{front}/join/{room_id}", user.access_token, {})
        senders.append((user, room_id))
    return senders


async def round_of(session: aiohttp.ClientSession, setup: Setup, messages: int) -> None:
    """Every sender sends `messages` messages, one after the other, all
    senders at once; records msg/s and each send's latency."""
    url = (
        setup.cluster.front.base_url
        + "/_matrix/client/v3/rooms/{}/send/m.room.message/{}"
    )
    latencies: list[float] = []

    async def sender(user: User, room_id: str) -> None:
        for i in range(messages):
            started = time.perf_counter()
            await _call(
                session,
                "PUT",
                url.format(room_id, uuid.uuid4().hex),
                user.access_token,
                {"msgtype": "m.text", "body": f"bench {i}: " + "你好 hello " * 8},
            )
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(sender(u, r) for u, r in setup.senders))
    setup.rates.append(SENDERS * messages / (time.perf_counter() - started))
    setup.latencies += latencies


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()},"
        f" Synapse {metadata.version('matrix-synapse')}, PostgreSQL + Redis on"
        " loopback, nginx in front"
    )


async def main_async(args: argparse.Namespace) -> None:
    setups: list[Setup] = []
    try:
        async with aiohttp.ClientSession() as session:
            for name, config in (
                ("without module", None),
                ("generic profile", {"profile": "generic"}),
            ):
                print(f"starting the cluster {name} ...", file=sys.stderr, flush=True)
                cluster = Cluster(config).start()
                setups.append(Setup(name, cluster, []))
                setups[-1].senders = await prepare(session, cluster)
                await round_of(session, setups[-1], 3)  # warm-up
                setups[-1].rates.clear()
                setups[-1].latencies.clear()
            for n in range(args.rounds):
                for setup in setups:
                    await round_of(session, setup, args.messages)
                    print(
                        f"round {n + 1} {setup.name}: {setup.rates[-1]:.1f} msg/s",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        for setup in setups:
            setup.cluster.destroy()

    base = statistics.median(setups[0].rates)
    header = ["variant", "msg/s (median round)", "ratio", "send p50 ms", "send p95 ms"]
    rows = [header]
    for setup in setups:
        rate = statistics.median(setup.rates)
        ordered = sorted(setup.latencies)
        rows.append(
            [
                setup.name,
                f"{rate:.1f}",
                f"{rate / base:.2f}",
                f"{1000 * ordered[len(ordered) // 2]:.0f}",
                f"{1000 * ordered[int(len(ordered) * 0.95)]:.0f}",
            ]
        )
    print(f"machine: {machine()}")
    print(
        f"{SENDERS} senders in {ROOMS} rooms, {args.messages} messages each per"
        f" round, {args.rounds} rounds alternating"
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in [rows[0], ["-" * w for w in widths], *rows[1:]]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=25, help="per sender and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    why = skip_reason("postgres")
    if why is not None:
        sys.exit(f"cannot run: {why}")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()

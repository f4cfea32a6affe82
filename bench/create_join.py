"""What the module adds to createRoom and to a join: latency over Synapse
alone, and the database transactions behind it, in one run.

Two homeservers side by side (SQLite, or PostgreSQL with --postgres): one
without the module, one with it (`generic` profile). In alternating rounds
each creates `--rooms` rooms one after another (Element's body: a private
chat with a name) and makes a fresh user join each public room once. The
script prints p50 and p90 latency per request and the difference to
Synapse alone, and reads Synapse's own transaction metrics
(`synapse_storage_transaction_time_count{desc}` on a metrics listener) to
count the transactions each request caused: all of them, and the module's
own (`groupreg_*`), per createRoom and per join, once the caches are
warm. Timings are printed, never asserted.

    .venv/bin/python bench/create_join.py [--rooms 60] [--rounds 3] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.homeserver import Homeserver, User, free_port


def start(module: dict[str, Any] | None, backend: str) -> tuple[Homeserver, int]:
    port = free_port()
    hs = Homeserver(module, backend, {"enable_metrics": True}, name="createjoin")
    hs.extra_listeners.append(
        {"port": port, "bind_addresses": ["127.0.0.1"], "type": "metrics"}
    )
    hs.write_config()
    return hs.start(), port


def transactions(port: int) -> tuple[float, float]:
    """(all transactions, the module's) Synapse has run so far."""
    url = f"http://127.0.0.1:{port}/_synapse/metrics"
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    total = ours = 0.0
    for line in text.splitlines():
        if not line.startswith("synapse_storage_transaction_time_count{"):
            continue
        desc = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])).get("desc", "")
        value = float(line.rsplit(" ", 1)[1])
        total += value
        if desc.startswith("groupreg_"):
            ours += value
    return total, ours


async def timed(
    session: aiohttp.ClientSession, hs: Homeserver, user: User, path: str, body: Any
) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    async with session.post(
        hs.base_url + path,
        json=body,
        headers={"Authorization": f"Bearer {user.access_token}"},
    ) as r:
        answer: dict[str, Any] = await r.json()
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {answer}")
    return (time.perf_counter() - started) * 1000, answer


async def round_of(
    session: aiohttp.ClientSession, hs: Homeserver, port: int, rooms: int
) -> dict[str, list[float]]:
    owner, joiner = hs.register(), hs.register()
    out: dict[str, list[float]] = {"create": [], "join": [], "txn": [], "ours": []}
    room_ids = []
    for i in range(rooms):
        before = transactions(port)
        ms, answer = await timed(
            session,
            hs,
            owner,
            "/_matrix/client/v3/createRoom",
            {"preset": "public_chat", "name": f"room {i}"},
        )
        after = transactions(port)
        out["create"].append(ms)
        out["txn"].append(after[0] - before[0])
        out["ours"].append(after[1] - before[1])
        room_ids.append(answer["room_id"])
    for room_id in room_ids:
        ms, _ = await timed(
            session, hs, joiner, f"/_matrix/client/v3/join/{room_id}", {}
        )
        out["join"].append(ms)
    return out


async def run(args: argparse.Namespace) -> None:
    backend = "postgres" if args.postgres else "sqlite"
    servers = {
        "without": start(None, backend),
        "with": start(
            {"profile": "generic", "rooms": {"created_per_user": 10_000}}, backend
        ),
    }
    samples: dict[str, dict[str, list[float]]] = {
        n: {"create": [], "join": [], "txn": [], "ours": []} for n in servers
    }
    try:
        async with aiohttp.ClientSession() as session:
            for hs, port in servers.values():
                await round_of(session, hs, port, 5)  # warm up
            for _ in range(args.rounds):
                for name, (hs, port) in servers.items():
                    got = await round_of(session, hs, port, args.rooms)
                    for key, values in got.items():
                        samples[name][key] += values
    finally:
        for hs, _ in servers.values():
            hs.destroy()

    print(f"{backend}, {args.rounds} rounds x {args.rooms} rooms, sequential")
    print(
        f"{'request':>10} {'p50 without':>12} {'p50 with':>9} {'+ms':>6}"
        f" {'p90 without':>12} {'p90 with':>9}"
    )
    for kind in ("create", "join"):
        w, m = samples["without"][kind], samples["with"][kind]
        p50w, p50m = statistics.median(w), statistics.median(m)
        p90w = statistics.quantiles(w, n=10)[8]
        p90m = statistics.quantiles(m, n=10)[8]
        print(
            f"{kind:>10} {p50w:>10.1f}ms {p50m:>7.1f}ms {p50m - p50w:>6.1f}"
            f" {p90w:>10.1f}ms {p90m:>7.1f}ms"
        )
    for name in servers:
        txn = statistics.median(samples[name]["txn"])
        ours = statistics.median(samples[name]["ours"])
        print(
            f"transactions per createRoom {name}: {txn:.0f} in all, "
            f"{ours:.0f} the module's (groupreg_*)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

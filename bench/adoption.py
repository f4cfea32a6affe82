"""Adopting a server with many rooms (H1): how long it takes, and what the
users of the server feel meanwhile.

Starts Synapse without the module and creates `--rooms` rooms through its
client API (several creators, several requests in flight), then restarts
it with the module (`generic`, the default adoption settings: batches of 50
rooms, a second between batches). While adoption registers the rooms and
writes their `org.groupreg.room` state, a client sends messages one after
another in a room of its own and the script records each send's latency.
It prints the time adoption took and the send latency (p50, p99) in three
phases of the same run: before (the plain server, no module), during
adoption, and after it (the module loaded, nothing left to adopt).
Timings are printed, never asserted.

    .venv/bin/python bench/adoption.py [--rooms 10000] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.homeserver import Homeserver, User

ADMIN = "/_synapse/client/groupreg/admin/v1"
IN_FLIGHT = 6


async def _post(
    session: aiohttp.ClientSession, hs: Homeserver, user: User, path: str, body: Any
) -> dict[str, Any]:
    async with session.post(
        hs.base_url + path,
        json=body,
        headers={"Authorization": f"Bearer {user.access_token}"},
    ) as r:
        answer: dict[str, Any] = await r.json()
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {answer}")
        return answer


async def seed(session: aiohttp.ClientSession, hs: Homeserver, rooms: int) -> None:
    creators = [hs.register() for _ in range(20)]
    gate = asyncio.Semaphore(IN_FLIGHT)
    done = 0
    started = time.monotonic()

    async def create(n: int) -> None:
        nonlocal done
        async with gate:
            await _post(
                session,
                hs,
                creators[n % len(creators)],
                "/_matrix/client/v3/createRoom",
                {"name": f"existing {n}"},
            )
        done += 1
        if done % 1000 == 0:
            print(f"  {done} rooms in {time.monotonic() - started:.0f} s", flush=True)

    await asyncio.gather(*(create(n) for n in range(rooms)))


async def sending(
    session: aiohttp.ClientSession,
    hs: Homeserver,
    user: User,
    room_id: str,
    stop: asyncio.Event,
    into: list[float],
) -> None:
    headers = {"Authorization": f"Bearer {user.access_token}"}
    while not stop.is_set():
        started = time.perf_counter()
        async with session.put(
            f"{hs.base_url}/_matrix/client/v3/rooms/{room_id}/send/m.room.message/"
            f"{uuid.uuid4().hex}",
            json={"msgtype": "m.text", "body": "while adopting"},
            headers=headers,
        ) as r:
            await r.read()
        into.append((time.perf_counter() - started) * 1000)


def _line(phase: str, samples: list[float]) -> str:
    if len(samples) < 2:
        return f"{phase:>8} {len(samples):>6}"
    p99 = statistics.quantiles(samples, n=100)[98]
    return (
        f"{phase:>8} {len(samples):>6} {statistics.median(samples):>8.1f}ms"
        f" {p99:>8.1f}ms"
    )


async def run(args: argparse.Namespace) -> None:
    backend = "postgres" if args.postgres else "sqlite"
    hs = Homeserver(None, backend, name="adoption-bench")
    hs.start()
    try:
        async with aiohttp.ClientSession() as session:
            print(f"creating {args.rooms} rooms without the module ...", flush=True)
            began = time.monotonic()
            await seed(session, hs, args.rooms)
            print(f"created in {time.monotonic() - began:.0f} s", flush=True)
            sender = hs.register()
            admin = hs.register(admin=True)
            room = await _post(
                session, hs, sender, "/_matrix/client/v3/createRoom", {"name": "chat"}
            )
            room_id = str(room["room_id"])
            phases: dict[str, list[float]] = {"before": [], "during": [], "after": []}
            stop = asyncio.Event()
            loop = asyncio.create_task(
                sending(session, hs, sender, room_id, stop, phases["before"])
            )
            await asyncio.sleep(20)
            stop.set()
            await loop

            hs.module_config = {"profile": "generic"}
            hs.write_config()
            hs.restart()
            began = time.monotonic()
            stop = asyncio.Event()
            loop = asyncio.create_task(
                sending(session, hs, sender, room_id, stop, phases["during"])
            )
            progress: dict[str, Any] = {}
            while True:
                async with session.get(
                    hs.base_url + ADMIN + "/adoption",
                    headers={"Authorization": f"Bearer {admin.access_token}"},
                ) as r:
                    answer = await r.json()
                progress = answer["progress"]
                if progress["pending"] == 0 and answer["last_pass"]:
                    break
                await asyncio.sleep(5)
                print(f"  adoption: {progress}", flush=True)
            took = time.monotonic() - began
            stop.set()
            await loop
            stop = asyncio.Event()
            loop = asyncio.create_task(
                sending(session, hs, sender, room_id, stop, phases["after"])
            )
            await asyncio.sleep(20)
            stop.set()
            await loop
    finally:
        hs.destroy()
    print()
    print(f"{backend}: {args.rooms} rooms adopted in {took:.0f} s ({progress})")
    print(f"{'phase':>8} {'sends':>6} {'p50':>10} {'p99':>10}")
    for phase, samples in phases.items():
        print(_line(phase, samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

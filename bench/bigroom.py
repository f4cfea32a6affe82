"""The per-message cost as rooms grow: Synapse with and without the module,
in rooms of 2, 500 and 2,000 members, in one run.

Two homeservers side by side (SQLite, or PostgreSQL with --postgres): one
without the module, one with it (`generic` profile, a class that holds
2,100 members). Each gets the same rooms, filled with the same number of
registered members who joined over the client API. Then, in alternating
rounds (so drift on the machine hits both alike), one sender posts
`--messages` messages one after another into each room, and the script
records the latency of every send and the Synapse process's own CPU time
(user + system, /proc/<pid>/stat) per message.

What it shows: once a module registers `check_event_allowed` or
`on_new_event`, Synapse loads the room's whole state around every event
(synapse/module_api/callbacks/third_party_event_rules_callbacks.py); the
module's fast paths (synapse_groupreg/hs.py) keep that off plain messages,
so the ratio should not grow with the room. `--slow` turns the fast paths
off in the module's server (the cost of the state load, for comparison).
`--limits` adds a third server, the module with every limit of B9 and D7
on (set high enough never to refuse: what a message pays for being
counted), and prints its ratio to the module without them.

Timings are printed, never asserted.

    .venv/bin/python bench/bigroom.py [--sizes 2,500,2000] [--messages 200]
                                      [--rounds 3] [--postgres] [--slow]
                                      [--limits]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.homeserver import Homeserver, User

_TICK = os.sysconf("SC_CLK_TCK")
CLASS = {
    "member_cap": 2100,
    "create": {"identity": "none", "min_credit": None, "approval": False},
    "categories": ["work"],
}
MODULE: dict[str, Any] = {
    "profile": "generic",
    "rooms": {
        "default_class": "huge",
        "classes": {"huge": CLASS},
        "joined_per_user": 10,
    },
}

#: Every limit on, none ever reached: the class's flood, mention and join
#: limits (B9) and a band's message rate (D7) for every score.
LIMITS_MODULE = {
    **MODULE,
    "rooms": {
        **MODULE["rooms"],
        "classes": {
            "huge": {
                **CLASS,
                "limits": {
                    "messages_per_minute": 1_000_000,
                    "mentions_per_message": 1_000,
                    "joins_per_minute": 1_000_000,
                },
            }
        },
    },
    "credit": {
        "bands": {"all": {"from": 0, "rate_limits": {"messages_per_minute": 10**6}}}
    },
}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


async def _post(
    session: aiohttp.ClientSession, hs: Homeserver, token: str, path: str, body: Any
) -> dict[str, Any]:
    async with session.post(
        hs.base_url + path, json=body, headers={"Authorization": f"Bearer {token}"}
    ) as r:
        answer: dict[str, Any] = await r.json()
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {answer}")
        return answer


async def fill(
    session: aiohttp.ClientSession, hs: Homeserver, owner: User, members: list[User]
) -> str:
    """A public room with a name and a category, joined by `members`."""
    room = await _post(
        session,
        hs,
        owner.access_token,
        "/_matrix/client/v3/createRoom",
        {
            "preset": "public_chat",
            "name": f"bench {len(members) + 1}",
            "org.groupreg.category": "work",
        },
    )
    room_id = str(room["room_id"])
    gate = asyncio.Semaphore(4)

    async def join(user: User) -> None:
        async with gate:
            await _post(
                session,
                hs,
                user.access_token,
                f"/_matrix/client/v3/join/{room_id}",
                {},
            )

    await asyncio.gather(*(join(u) for u in members))
    return room_id


async def send(
    session: aiohttp.ClientSession, hs: Homeserver, user: User, room_id: str, n: int
) -> tuple[list[float], float]:
    """`n` sequential messages: their latencies (ms) and Synapse's CPU per
    message (ms)."""
    assert hs.process is not None
    headers = {"Authorization": f"Bearer {user.access_token}"}
    latencies: list[float] = []
    before = cpu_seconds(hs.process.pid)
    for i in range(n):
        txn = uuid.uuid4().hex
        started = time.perf_counter()
        async with session.put(
            f"{hs.base_url}/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{txn}",
            json={"msgtype": "m.text", "body": f"message {i} of the benchmark"},
            headers=headers,
        ) as r:
            await r.read()
            if r.status != 200:
                raise RuntimeError(f"send: {r.status}")
        latencies.append((time.perf_counter() - started) * 1000)
    spent = cpu_seconds(hs.process.pid) - before
    return latencies, spent / n * 1000


def start(module: dict[str, Any] | None, backend: str, slow: bool) -> Homeserver:
    hs = Homeserver(module, backend, name="bigroom")
    if slow:
        os.environ["GROUPREG_NO_FAST_PATHS"] = "1"
    try:
        return hs.start()
    finally:
        os.environ.pop("GROUPREG_NO_FAST_PATHS", None)


async def run(args: argparse.Namespace) -> None:
    backend = "postgres" if args.postgres else "sqlite"
    sizes = [int(s) for s in args.sizes.split(",")]
    servers = {
        "without": start(None, backend, False),
        "with": start(MODULE, backend, args.slow),
    }
    if args.limits:
        servers["limits"] = start(LIMITS_MODULE, backend, args.slow)
    rooms: dict[tuple[str, int], str] = {}
    senders: dict[str, User] = {}
    try:
        async with aiohttp.ClientSession() as session:
            for name, hs in servers.items():
                began = time.monotonic()
                owner = hs.register()
                senders[name] = owner
                people = [hs.register() for _ in range(max(sizes) - 1)]
                for size in sizes:
                    rooms[(name, size)] = await fill(
                        session, hs, owner, people[: size - 1]
                    )
                    await send(session, hs, owner, rooms[(name, size)], 20)  # warm
                print(
                    f"{name}: rooms of {sizes} members ready in "
                    f"{time.monotonic() - began:.0f} s",
                    flush=True,
                )
            lat: dict[tuple[str, int], list[float]] = {k: [] for k in rooms}
            cpu: dict[tuple[str, int], list[float]] = {k: [] for k in rooms}
            for _ in range(args.rounds):
                for size in sizes:
                    for name, hs in servers.items():
                        key = (name, size)
                        samples, per_message = await send(
                            session, hs, senders[name], rooms[key], args.messages
                        )
                        lat[key] += samples
                        cpu[key].append(per_message)
    finally:
        for hs in servers.values():
            hs.destroy()

    print()
    print(
        f"{backend}, {args.rounds} rounds x {args.messages} sequential messages"
        f"{' (fast paths off)' if args.slow else ''}"
    )
    print(
        f"{'members':>8} {'p50 without':>12} {'p50 with':>9} {'ratio':>6}"
        f" {'cpu/msg without':>16} {'cpu/msg with':>13} {'ratio':>6}"
    )
    for size in sizes:
        p50 = {n: statistics.median(lat[(n, size)]) for n in servers}
        c = {n: statistics.median(cpu[(n, size)]) for n in servers}
        print(
            f"{size:>8} {p50['without']:>10.1f}ms {p50['with']:>7.1f}ms"
            f" {p50['with'] / p50['without']:>6.2f}"
            f" {c['without']:>14.2f}ms {c['with']:>11.2f}ms"
            f" {c['with'] / c['without']:>6.2f}"
        )
    if "limits" in servers:
        print()
        print("every limit on (B9, D7) against the module without limits")
        print(
            f"{'members':>8} {'p50 module':>11} {'p50 limits':>11} {'ratio':>6}"
            f" {'cpu/msg module':>15} {'cpu/msg limits':>15} {'ratio':>6}"
        )
        for size in sizes:
            p50 = {n: statistics.median(lat[(n, size)]) for n in servers}
            c = {n: statistics.median(cpu[(n, size)]) for n in servers}
            print(
                f"{size:>8} {p50['with']:>9.2f}ms {p50['limits']:>9.2f}ms"
                f" {p50['limits'] / p50['with']:>6.3f}"
                f" {c['with']:>13.3f}ms {c['limits']:>13.3f}ms"
                f" {c['limits'] / c['with']:>6.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2,500,2000")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--slow", action="store_true")
    parser.add_argument("--limits", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

"""Messages per second through Synapse, without the module and with it.

Starts real homeservers side by side in one run (SQLite, and PostgreSQL when
reachable), each with a fresh database, and sends `m.room.message` events
over HTTP the way a client does:

- sequential: one request at a time (latency-bound, what one user feels);
- saturated: `--concurrency` requests in flight (CPU-bound, what the server
  can take).

Variants (each its own homeserver): Synapse without the module; the module
in the `generic` profile; the same with the content filter off (a noise
calibration: no filter callback runs); `generic` with 10,000 keywords; the
shipped `cn` profile (real-name gates, covenant, classes, sanctions, filter;
the sender verified and the covenant accepted); `cn` with 10,000 keywords.

Variants are measured in alternating rounds so drift on the machine hits
them alike; the table shows the median round and the ratio to "without".
Timings are printed, never asserted.

    .venv/bin/python bench/send.py [--messages 400] [--rounds 3] [--quick]
                                   [--only "cn profile,cn + 10k keywords"]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness import databases, identity
from tests.harness.homeserver import Homeserver, User


@attrs.frozen
class Variant:
    """One homeserver set-up to measure: what the module is configured with
    (a function of the server's folder, for key files), whether Synapse's
    consent pages are on, and how the sender is prepared."""

    name: str
    module_config: Callable[[Path], dict[str, Any]] | None
    consent: bool = False
    prepare: Callable[[Homeserver, User], Awaitable[None]] | None = None

    def start(self, backend: str, name: str = "bench") -> Homeserver:
        hs = Homeserver(None, backend, name=name)
        if self.module_config is not None:
            hs.module_config = self.module_config(hs.dir)
        if self.consent:
            hs.extra_config.update(identity.consent_config(hs))
        hs.write_config()
        return hs.start()

    async def ready_sender(self, hs: Homeserver) -> User:
        user = hs.register()
        if self.prepare is not None:
            await self.prepare(hs, user)
        return user


def _generic(folder: Path) -> dict[str, Any]:
    return {"profile": "generic"}


def _cn(folder: Path) -> dict[str, Any]:
    """The shipped config/cn.yaml, with a key file of its own."""
    example = Path(__file__).resolve().parents[1] / "config" / "cn.yaml"
    block: dict[str, Any] = yaml.safe_load(example.read_text())["modules"][0]["config"]
    block["identity"]["key_file"] = identity.key_file(folder)
    return block


async def _verified(hs: Homeserver, user: User) -> None:
    """cn: the sender accepted the covenant and has a verified identity."""
    await identity.accept_covenant(hs, user)
    status, body = await identity.verify(
        hs, hs.register(admin=True), user, identity.resident_id(77)
    )
    if status != 200:
        raise RuntimeError(f"verification failed: {status} {body}")


async def _with_10k_keywords(hs: Homeserver, user: User) -> None:
    """C1-C3: 10k keywords (bench/filter.py's generator) through the admin API."""
    from bench.content_cost import load_keywords

    await asyncio.to_thread(load_keywords, hs, 10_000)


async def _cn_with_10k_keywords(hs: Homeserver, user: User) -> None:
    await _verified(hs, user)
    await _with_10k_keywords(hs, user)


VARIANTS: list[Variant] = [
    Variant("without module", None),
    Variant("generic profile", _generic),
    # The module loaded with the filter off: a calibration of the noise.
    Variant(
        "generic, content off",
        lambda folder: {"profile": "generic", "content": {"enabled": False}},
    ),
    Variant("generic + 10k keywords", _generic, prepare=_with_10k_keywords),
    Variant("cn profile", _cn, consent=True, prepare=_verified),
    Variant("cn + 10k keywords", _cn, consent=True, prepare=_cn_with_10k_keywords),
]


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
            for variant in VARIANTS:
                name = variant.name
                hs = variant.start(backend)
                user = await variant.ready_sender(hs)
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

    base_seq = statistics.median(results[VARIANTS[0].name]["seq"])
    base_sat = statistics.median(results[VARIANTS[0].name]["sat"])
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
    parser.add_argument(
        "--only", help="comma-separated variant names to run (the baseline always runs)"
    )
    args = parser.parse_args()
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        VARIANTS[1:] = [v for v in VARIANTS[1:] if v.name in wanted]
    if args.quick:
        args.messages, args.rounds, args.warmup = 100, 1, 20
    rows: list[list[str]] = []
    for backend in databases.backends():
        rows.extend(asyncio.run(measure(backend, args)))
    print_table(rows, args.concurrency)


if __name__ == "__main__":
    main()

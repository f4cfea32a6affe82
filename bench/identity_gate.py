"""What the real-name and covenant gates cost per message (A1, A9).

Part 1, in process: the identity gate's `decide` for a verified user with
a warm cache (Synapse's own `@cached` behind `IdentityStore.standing`),
against a stub database that counts queries, so the table shows both the
time and that a warm read touches no database.

Part 2, end to end: sequential message sends by one user to a real
Synapse, without the module, with the module in `generic` (no identity),
and with `cn` real-name on (verified user, covenant off).

    .venv/bin/python bench/identity_gate.py [--messages 300]

Prints tables; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.config import parse_config
from synapse_groupreg.identity.service import IdentityService
from synapse_groupreg.identity.vault import generate_key_file, load_vault
from synapse_groupreg.store.database import CacheSupport
from synapse_groupreg.store.identity import IdentityStore
from synapse_groupreg.store.verification import VerificationStore


class CountingDatabase:
    """Answers the standing query as a verified user; counts calls."""

    engine = "sqlite"

    def __init__(self) -> None:
        self.queries = 0
        self.caches: CacheSupport | None = None

    async def run(self, desc: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1

        class Txn:
            def __init__(self) -> None:
                self.rows: list[tuple[Any, ...]] = []

            def execute(self, sql: str, params: Any = ()) -> None:
                self.rows = [("verified",)] if "groupreg_identities" in sql else []

            def fetchone(self) -> tuple[Any, ...] | None:
                return self.rows[0] if self.rows else None

            def fetchall(self) -> list[tuple[Any, ...]]:
                return self.rows

        return func(Txn(), *args, **kwargs)


async def _invalidate(func: Any, keys: tuple[Any, ...]) -> None:
    func.invalidate(keys)


def in_process(iterations: int) -> tuple[float, float, int, int]:
    """(cold µs, warm µs per call, queries cold, queries during warm loop)."""
    from synapse.util.clock import Clock

    folder = Path(tempfile.mkdtemp())
    generate_key_file(folder / "k")
    config = parse_config(
        {"profile": "cn", "identity": {"key_file": str(folder / "k")}}
    )
    db = CountingDatabase()
    db.caches = CacheSupport(
        "bench", Clock(reactor, "bench"), lambda func: None, _invalidate
    )
    store = IdentityStore(db)  # type: ignore[arg-type]

    async def nothing(user_id: str) -> None:
        return None

    async def exists(user_id: str) -> bool:
        return True

    service = IdentityService(
        config.identity,
        load_vault(folder / "k"),
        store,
        VerificationStore(db),  # type: ignore[arg-type]
        AuditLog(None, lambda: 0),  # type: ignore[arg-type]
        lambda: 0,
        date.today,
        nothing,
        exists,
    )

    def run(coro: Any) -> Any:
        d = defer.ensureDeferred(coro)
        assert d.called, "a warm read must complete without waiting"
        return d.result

    start = time.perf_counter()
    assert run(service.passes_gate("@u:bench")) is True
    cold = (time.perf_counter() - start) * 1e6
    queries_cold = db.queries
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(iterations):
            run(service.passes_gate("@u:bench"))
        samples.append((time.perf_counter() - start) / iterations * 1e6)
    return cold, statistics.median(samples), queries_cold, db.queries - queries_cold


async def end_to_end(messages: int) -> list[tuple[str, float, float]]:
    from tests.harness.client import clients
    from tests.harness.homeserver import Homeserver
    from tests.harness.identity import cn_config, resident_id, verify

    rows = []
    for label in ("no module", "generic", "cn real-name"):
        hs = Homeserver(None)
        if label == "generic":
            hs.module_config = {"profile": "generic"}
        elif label == "cn real-name":
            hs.module_config = cn_config(hs.dir)
        hs.write_config()
        hs.start()
        try:
            admin, user = hs.register(admin=True), hs.register()
            if label == "cn real-name":
                await verify(hs, admin, user, resident_id(900))
            async with clients(hs, user) as (client,):
                room = await client.room_create()
                room_id = room.room_id
                content = {"msgtype": "m.text", "body": "bench"}
                for _ in range(20):  # warm up caches on both sides
                    await client.room_send(room_id, "m.room.message", content)
                start = time.perf_counter()
                for _ in range(messages):
                    await client.room_send(room_id, "m.room.message", content)
                elapsed = time.perf_counter() - start
            rows.append((label, elapsed / messages * 1000, messages / elapsed))
        finally:
            hs.destroy()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--skip-e2e", action="store_true")
    args = parser.parse_args()
    cold, warm, q_cold, q_warm = in_process(args.iterations)
    print("identity gate, in process (IdentityService.passes_gate)")
    print(f"{'':<28}{'µs/call':>10}{'DB queries':>12}")
    print(f"{'cold (first read)':<28}{cold:>10.1f}{q_cold:>12}")
    print(f"{'warm (median of 5 runs)':<28}{warm:>10.2f}{q_warm:>12}")
    if args.skip_e2e:
        return
    print()
    print(f"sequential sends, one user, {args.messages} messages, SQLite")
    print(f"{'server':<16}{'ms/message':>12}{'messages/s':>12}")
    for label, ms, rate in asyncio.run(end_to_end(args.messages)):
        print(f"{label:<16}{ms:>12.2f}{rate:>12.1f}")


if __name__ == "__main__":
    main()

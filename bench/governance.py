"""What governance costs (G7, F1): the role check on an admin request, a
checkpoint written, and /audit/verify over chains of 10k and 100k entries,
chain only against chain plus checkpoints (one every 1,000 entries, in the
database and in the file). In process, on the real stores over an
in-memory SQLite and the real signing; timings printed, never asserted.

    .venv/bin/python bench/governance.py [--entries 10000,100000]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from signedjson.key import generate_signing_key, get_verify_key

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.config import Language, parse_config
from synapse_groupreg.config.governance import CheckpointConfig
from synapse_groupreg.governance.anchoring import AuditCheckpoints
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.access import Authoriser
from synapse_groupreg.store.checkpoints import CheckpointStore
from tests.support.memory import memory_store, resolve

SERVER = "bench.example"


def time_us(run: object, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def role_check() -> None:
    policy = parse_config(
        {
            "profile": "generic",
            "roles": {
                "owner": ["@boss:hs"],
                "moderator": [f"@mod{i}:hs" for i in range(200)],
            },
        }
    ).roles
    authoriser = Authoriser(policy, Language.EN)
    held = authoriser.roles_of("@mod150:hs", False)

    def check() -> None:
        for _ in range(1000):
            coroutine = authoriser.require(
                "@mod150:hs", held, Role.MODERATOR, "GET", "/x"
            )
            with contextlib.suppress(StopIteration):
                coroutine.send(None)

    per_call = time_us(check, 20) / 1000
    lookup = (
        time_us(
            lambda: [authoriser.roles_of("@mod150:hs", False) for _ in range(1000)], 20
        )
        / 1000
    )
    print(
        f"role check (allowed, 200 holders): roles_of {lookup:.2f} µs"
        f" + require {per_call:.2f} µs per request"
    )


def chain_bench(entries: int, folder: Path) -> None:
    store, _, _ = memory_store()
    clock = iter(range(10**12))
    audit = AuditLog(store.audit, lambda: next(clock))
    key = generate_signing_key("a_bench")
    path = folder / f"checkpoints-{entries}.jsonl"
    service = AuditCheckpoints(
        CheckpointConfig(
            interval_ms=3_600_000, key="homeserver", file=str(path), room=None
        ),
        CheckpointStore(store.db),
        store.audit,
        SERVER,
        key,
        {"ed25519:a_bench": get_verify_key(key)},
        lambda: next(clock),
    )
    writes: list[float] = []
    for seq in range(1, entries + 1):
        resolve(
            audit.record("@mod:hs", "sanction.warn", f"!room{seq}", {"reason": "spam"})
        )
        if seq % 1000 == 0:
            started = time.perf_counter()
            resolve(service.write())
            writes.append((time.perf_counter() - started) * 1e3)

    def chain_only() -> None:
        assert resolve(audit.verify()).ok

    def full() -> None:
        assert resolve(service.verify()).ok

    plain = time_us(chain_only, 3) / 1e3
    anchored = time_us(full, 3) / 1e3
    print(
        f"{entries:>7} entries, {entries // 1000:>3} checkpoints | verify chain only"
        f" {plain:8.1f} ms | chain + checkpoints (db + file) {anchored:8.1f} ms"
        f" | ratio {anchored / plain:4.2f} | checkpoint write median"
        f" {statistics.median(writes):.2f} ms (sign, insert, append, fsync)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", default="10000,100000")
    args = parser.parse_args()
    role_check()
    with tempfile.TemporaryDirectory() as folder:
        for count in (int(n) for n in args.entries.split(",")):
            chain_bench(count, Path(folder))


if __name__ == "__main__":
    main()

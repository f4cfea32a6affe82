"""Synapse's own CPU time per message sent, for bench/send.py's variants.

Messages per second on a machine shared with other work swing by tens of
percent from one minute to the next (other processes take the cores), and
the medians of bench/send.py then compare noise. The CPU time the Synapse
process itself spends per message is far steadier, and when the server is
CPU-bound (saturated) throughput is its inverse. So this script starts the
same variants as bench/send.py (same setups, same messages, alternating
rounds), reads the process's user + system time from /proc/<pid>/stat
around each batch, and prints CPU ms per message and, per round, the ratio
to the variant without the module (median and range of those paired
ratios). On PostgreSQL the database server's own CPU is not counted.
Linux only. Timings are printed, never asserted.

    .venv/bin/python bench/send_cpu.py [--messages 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.send import VARIANTS, _create_room, _send_many
from tests.harness import databases
from tests.harness.homeserver import Homeserver, User

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) / _TICK


async def measure(backend: str, args: argparse.Namespace) -> list[list[str]]:
    servers: list[tuple[str, Homeserver, User, str]] = []
    samples: dict[str, dict[str, list[float]]] = {}
    try:
        async with aiohttp.ClientSession() as session:
            for variant in VARIANTS:
                name = variant.name
                hs = variant.start(backend, name="bench-cpu")
                user = await variant.ready_sender(hs)
                room_id = await _create_room(session, hs, user)
                await _send_many(session, hs, user, room_id, args.warmup, 1)
                servers.append((name, hs, user, room_id))
                samples[name] = {"seq": [], "sat": []}
            for _ in range(args.rounds):
                for name, hs, user, room_id in servers:
                    assert hs.process is not None
                    for mode, concurrency in (("seq", 1), ("sat", args.concurrency)):
                        before = cpu_seconds(hs.process.pid)
                        await _send_many(
                            session, hs, user, room_id, args.messages, concurrency
                        )
                        spent = cpu_seconds(hs.process.pid) - before
                        samples[name][mode].append(spent / args.messages * 1000)
    finally:
        for _, hs, _, _ in servers:
            hs.destroy()

    base = samples[VARIANTS[0].name]
    rows = []
    for name, by_mode in samples.items():
        row = [backend, name]
        for mode in ("seq", "sat"):
            values = by_mode[mode]
            ratios = [v / b for v, b in zip(values, base[mode], strict=True)]
            row += [
                f"{statistics.median(values):.2f}",
                f"{min(values):.2f}-{max(values):.2f}",
                f"{statistics.median(ratios):.3f}",
                f"{min(ratios):.3f}-{max(ratios):.3f}",
            ]
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300, help="per round and mode")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    rows: list[list[str]] = []
    for backend in databases.backends():
        rows.extend(asyncio.run(measure(backend, args)))
    header = [
        "database", "variant",
        "seq CPU ms/msg", "range", "ratio", "ratio range",
        f"sat({args.concurrency}) CPU ms/msg", "range", "ratio", "ratio range",
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"Synapse process CPU per message, {args.rounds} rounds x {args.messages}")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()

"""What the groups concern adds to the per-message path.

A plain message reaches the rooms concern at the event stage
(`check_event_for_spam`). This measures the real dispatcher with the real
`RoomChecks` rules, the real registry store and Synapse's own `@cached`
(backed by an in-memory SQLite holding the module's tables,
tests/support/memory.py), on:

- an ordinary `m.room.message` (the rule returns before any lookup),
- an `m.room.encrypted` event in a room whose class allows encryption
  (one cached registry lookup, warm),

and, for scale, the member stage (`check_event_allowed`) on an
`m.room.member` profile change (no seat needed, decided from the state
Synapse passes in). It checks that the warm calls touch the database zero
times, and prints median and p99 in µs.

    .venv/bin/python bench/rooms_check.py [iterations]

(It puts this checkout first on the path, so it measures this checkout even
where another copy of the module is installed.)

Synapse's own cost around the callbacks is not included: bench/bigroom.py
measures that through real homeservers.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from synapse.api.room_versions import RoomVersions
from synapse.events import make_event_from_dict
from twisted.internet import defer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.checks import ORDER
from synapse_groupreg.checks.membership import Membership
from synapse_groupreg.checks.rooms import RoomChecks
from synapse_groupreg.composition import FactSources
from synapse_groupreg.config import parse_config
from synapse_groupreg.dispatch import Dispatcher, Guard, Reactions, RuleBook
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.rooms.accountability import Accountability
from synapse_groupreg.rooms.caps import Caps
from synapse_groupreg.rooms.registry import RoomRegistry
from synapse_groupreg.standing import RealNameOff
from tests.support.memory import SERVER, MemoryDatabase, memory_store

ROOM = f"!room:{SERVER}"
ALICE = f"@alice:{SERVER}"


class BenchApi:
    """The few ModuleApi calls the checks make on these paths."""

    def __init__(self, clock: Any) -> None:
        self._clock = clock

        class _Hs:
            def get_clock(_self) -> Any:
                return clock

        self._hs = _Hs()
        self.server_name = SERVER

    def is_mine(self, user_id: str) -> bool:
        return user_id.endswith(":" + SERVER)

    def get_qualified_user_id(self, localpart: str) -> str:
        return f"@{localpart}:{SERVER}"

    def get_current_time_msec(self) -> int:
        return int(time.time() * 1000)


def event(
    event_type: str, content: dict[str, Any], state_key: str | None = None
) -> Any:
    fields: dict[str, Any] = {
        "type": event_type,
        "room_id": ROOM,
        "sender": ALICE,
        "content": content,
        "origin_server_ts": 0,
        "hashes": {"sha256": "unchecked"},
        "signatures": {},
        "depth": 10,
        "prev_events": [],
        "auth_events": [],
    }
    if state_key is not None:
        fields["state_key"] = state_key
    return make_event_from_dict(fields, RoomVersions.V11)


def build() -> tuple[Dispatcher, MemoryDatabase]:
    store, counting, clock = memory_store()
    api: Any = BenchApi(clock)
    config = parse_config({"profile": "generic"})
    now = api.get_current_time_msec
    audit = AuditLog(store.audit, now)
    registry = RoomRegistry(
        config.rooms,
        store.db,
        store.rooms,
        store.seats,
        store.roles,
        audit,
        now,
        RealNameOff(),
        None,
        "bench",
    )
    caps = Caps(config.rooms, store.seats, now)
    roles = Accountability(store.roles, audit, config.rooms.admin_power_level)
    bot = f"@groupreg:{SERVER}"
    matrix = MatrixRooms(api, config.rooms.admin_power_level, bot)
    membership = Membership(api, config.rooms, registry, caps, RealNameOff(), "bot")
    checks = RoomChecks(
        api, config.rooms, registry, caps, roles, matrix, membership, api.is_mine
    )
    dispatcher = Dispatcher(
        api,
        RuleBook.build(ORDER, {"rooms": checks.rules()}),
        Reactions(),
        Guard(config.fail, SERVER),
        config.enforcement,
        config.language,
        lambda user_id: user_id == bot,
        audit,
        FactSources(registry, matrix),
        matrix.remove,
    )
    counting.conn.execute(
        "INSERT INTO groupreg_rooms VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (ROOM, "G000000011", "medium", None, ALICE, 0, "active", 0),
    )
    return dispatcher, counting


def _decide(dispatcher: Dispatcher, ev: Any, state: Any) -> Any:
    if ev.type == "m.room.member":
        return dispatcher.check_event_allowed(ev, state)
    return dispatcher.check_event_for_spam(ev)


def measure(dispatcher: Dispatcher, ev: Any, state: Any, n: int) -> list[float]:
    samples: list[float] = []
    for _ in range(n):
        start = time.perf_counter_ns()
        d = defer.ensureDeferred(_decide(dispatcher, ev, state))
        elapsed = time.perf_counter_ns() - start
        assert d.called, "the callback waited on something"
        samples.append(elapsed / 1000)
    return samples


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    dispatcher, counting = build()
    member = event("m.room.member", {"membership": "join", "displayname": "A"}, ALICE)
    state = {("m.room.member", ALICE): member}
    cases = [
        (
            "m.room.message",
            event("m.room.message", {"msgtype": "m.text", "body": "hi"}),
        ),
        ("m.room.encrypted", event("m.room.encrypted", {"algorithm": "x"})),
        ("m.room.member (profile change)", member),
    ]
    print(f"groupreg rooms rules through the dispatcher, {n} calls each (µs)")
    print(f"{'event':34} {'median':>8} {'p99':>8} {'db txns when warm':>18}")
    for label, ev in cases:
        measure(dispatcher, ev, state, 50)  # warm the cache
        before = counting.transactions
        samples = measure(dispatcher, ev, state, n)
        txns = counting.transactions - before
        p99 = statistics.quantiles(samples, n=100)[98]
        print(f"{label:34} {statistics.median(samples):8.2f} {p99:8.2f} {txns:18d}")


if __name__ == "__main__":
    main()

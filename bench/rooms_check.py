"""What the groups concern adds to the per-message path.

Synapse calls the module's `check_event_allowed` for every event a local
user sends, messages included. This measures that callback, the real
`RoomChecks` with the real registry store and Synapse's own `@cached`
(backed by an in-memory SQLite holding the module's tables,
tests/support/memory.py), on:

- an ordinary `m.room.message` (returns before any lookup),
- an `m.room.encrypted` event in a room whose class allows encryption
  (one cached registry lookup, warm),

and, for scale, the same call on an `m.room.member` profile change (no seat
needed, decided from the state Synapse passes in). It checks that the warm
calls touch the database zero times, and prints median and p99 in µs.

    .venv/bin/python bench/rooms_check.py [iterations]

(It puts this checkout first on the path, so it measures this checkout even
where another copy of the module is installed.)

Synapse's own cost around the callback (fetching the room state for
`check_event_allowed`) is not included: it is paid once for all modules.
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
from synapse_groupreg.checks import Guard
from synapse_groupreg.checks.rooms import RoomChecks
from synapse_groupreg.config import parse_config
from synapse_groupreg.notices import Notices
from synapse_groupreg.room_state import RoomState
from synapse_groupreg.rooms.accountability import Accountability
from synapse_groupreg.rooms.caps import Caps
from synapse_groupreg.rooms.moves import ClassMoves
from synapse_groupreg.rooms.registry import RoomRegistry
from synapse_groupreg.services import Services
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


_unused: Any = None


def build() -> tuple[RoomChecks, MemoryDatabase]:
    store, counting, clock = memory_store()
    api: Any = BenchApi(clock)
    config = parse_config({"profile": "generic"})
    audit = AuditLog(store.audit, api.get_current_time_msec)
    rooms = RoomRegistry(
        config.rooms,
        store.rooms,
        store.seats,
        audit,
        api.get_current_time_msec,
        RealNameOff(),
        None,
    )
    services = Services(
        api=api,
        config=config,
        store=store,
        audit=audit,
        notices=Notices(api, store.notices, config.notices),
        guard=Guard(config.fail, SERVER),
        identity_levels=RealNameOff(),
        credit=None,
        netlog=None,
        exports={},
        rooms=rooms,
        caps=Caps(config.rooms, store.seats, api.get_current_time_msec),
        roles=Accountability(store.roles, audit, config.rooms.admin_power_level),
        room_state=RoomState(api),
        moves=ClassMoves(
            config.rooms,
            rooms,
            store.rooms,
            store.class_requests,
            audit,
            api.get_current_time_msec,
        ),
        # The room checks use none of credit, sanctions or the blacklist.
        governance=_unused,
        credit_ledger=_unused,
        sanctions=_unused,
        blacklist=_unused,
        violations=_unused,
        emergency=_unused,
    )
    counting.conn.execute(
        "INSERT INTO groupreg_rooms VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (ROOM, "G000000011", "medium", None, ALICE, 0, "active", 0),
    )
    return RoomChecks(api, services), counting


def measure(checks: RoomChecks, ev: Any, state: Any, n: int) -> list[float]:
    samples: list[float] = []
    for _ in range(n):
        start = time.perf_counter_ns()
        d = defer.ensureDeferred(checks.check_event_allowed(ev, state))
        elapsed = time.perf_counter_ns() - start
        assert d.called, "the callback waited on something"
        samples.append(elapsed / 1000)
    return samples


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    checks, counting = build()
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
    print(f"groupreg rooms check_event_allowed, {n} calls each (µs per call)")
    print(f"{'event':34} {'median':>8} {'p99':>8} {'db txns when warm':>18}")
    for label, ev in cases:
        measure(checks, ev, state, 50)  # warm the cache
        before = counting.transactions
        samples = measure(checks, ev, state, n)
        txns = counting.transactions - before
        p99 = statistics.quantiles(samples, n=100)[98]
        print(f"{label:34} {statistics.median(samples):8.2f} {p99:8.2f} {txns:18d}")


if __name__ == "__main__":
    main()

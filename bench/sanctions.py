"""The per-event cost of the sanction and blacklist checks (D1-D4), warm.

Runs the real check callbacks (`checks/sanctions.py`, `checks/blacklist.py`)
in-process on Synapse's real `@cached` machinery, over a SQLite database
filled with many sanctions in force, a large blacklist with globs, and a
credit ledger, and times `check_event_allowed` per event once the caches
are warm (the state every event but the first after a change sees). The
database is never touched in the timed loop: the script counts queries and
prints them. Timings are printed, never asserted.

    .venv/bin/python bench/sanctions.py [--events 20000]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synapse.util.clock import Clock

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.blacklist.service import Blacklist
from synapse_groupreg.checks import Guard
from synapse_groupreg.checks.blacklist import BlacklistChecks
from synapse_groupreg.checks.sanctions import SanctionChecks
from synapse_groupreg.config import parse_config
from synapse_groupreg.credit import CreditLedger
from synapse_groupreg.sanctions.service import SanctionService
from synapse_groupreg.sanctions.statements import Statements
from synapse_groupreg.store import MIGRATIONS
from synapse_groupreg.store.audit import AuditStore
from synapse_groupreg.store.blacklist import BlacklistStore, NewEntry
from synapse_groupreg.store.credit import CreditStore
from synapse_groupreg.store.credit import NewEntry as NewCredit
from synapse_groupreg.store.database import Database, apply_migrations
from synapse_groupreg.store.sanctions import NewSanction, SanctionStore

SERVER = "bench.example"
NOW = int(time.time() * 1000)


class Counted:
    """A database of one SQLite connection that counts its transactions."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.queries = 0
        apply_migrations(self.conn, "sqlite", MIGRATIONS)

    async def run_interaction(
        self, desc: str, func: Callable[..., Any], *args: Any
    ) -> Any:
        self.queries += 1
        result = func(self.conn.cursor(), *args)
        self.conn.commit()
        return result


class Event:
    """What the checks read of a Synapse event."""

    def __init__(
        self,
        event_type: str,
        sender: str,
        room_id: str,
        content: dict[str, Any],
        state_key: str | None = None,
    ) -> None:
        self.type = event_type
        self.sender = sender
        self.room_id = room_id
        self.content = content
        self._state_key = state_key
        self.redacts = None
        self.origin_server_ts = NOW

    def get_state_key(self) -> str | None:
        return self._state_key


class Bot:
    bot_user_id = f"@groupreg:{SERVER}"

    def is_bot(self, user_id: str) -> bool:
        return user_id == self.bot_user_id


class Api:
    def is_mine(self, user_id: str) -> bool:
        return user_id.endswith(":" + SERVER)

    def should_run_background_tasks(self) -> bool:
        return True


async def _no_invalidate(func: Any, keys: tuple[Any, ...]) -> None:
    func.invalidate(keys)


def build(rooms: int, blacklisted: int, globs: int) -> tuple[Any, Counted]:
    config = parse_config({"profile": "cn"})
    db = Counted()
    database = Database("sqlite", db.run_interaction)
    clock = Clock(reactor, SERVER)
    now = lambda: NOW  # noqa: E731
    sanction_store = SanctionStore(database, SERVER, clock, _no_invalidate, now)
    blacklist_store = BlacklistStore(database, SERVER, clock, _no_invalidate, now)
    credit_store = CreditStore(database, SERVER, clock, _no_invalidate)

    async def fill() -> None:
        for n in range(rooms):
            await sanction_store.insert(
                NewSanction(
                    "room",
                    f"!suspended{n}",
                    "suspend_posting",
                    "r",
                    "rule",
                    False,
                    "@admin:x",
                    NOW,
                    NOW + 3_600_000,
                    None,
                    None,
                    {},
                )
            )
            await sanction_store.insert(
                NewSanction(
                    "user",
                    f"@admin{n}:{SERVER}",
                    "suspend_admin",
                    "r",
                    "rule",
                    False,
                    "@admin:x",
                    NOW,
                    NOW + 3_600_000,
                    None,
                    None,
                    {},
                )
            )
        for n in range(blacklisted):
            await blacklist_store.add(
                NewEntry(
                    "user",
                    f"@spammer{n}:elsewhere.example",
                    "r",
                    "@a:x",
                    "admin",
                    NOW,
                    NOW + 10**9,
                )
            )
        for n in range(globs):
            await blacklist_store.add(
                NewEntry(
                    "server",
                    f"*.spam{n}.example",
                    "r",
                    "@a:x",
                    "admin",
                    NOW,
                    NOW + 10**9,
                )
            )
        await credit_store.append(
            f"@talker:{SERVER}",
            NOW,
            lambda head, history: NewCredit("penalty", -10, 90, "r", "x", {}, 1),
        )

    _run(fill())
    credit = CreditLedger(config.credit, credit_store, now)
    statements = Statements(config.sanctions, config.language)
    # The per-event path uses none of the notice bot, the room actions or
    # the audit log; the unused collaborators are left out.
    unused: Any = None
    sanctions = SanctionService(
        config.sanctions,
        sanction_store,
        credit,
        unused,
        unused,
        unused,
        unused,
        statements,
        now,
        unused,
    )
    blacklist = Blacklist(
        config.blacklist,
        config.language,
        blacklist_store,
        AuditLog(AuditStore(database), now),
        unused,
        statements,
        unused,
        now,
        Api().is_mine,
    )

    class Services:
        pass

    services: Any = Services()
    services.sanctions = sanctions
    services.credit_ledger = credit
    services.blacklist = blacklist
    services.notices = Bot()
    services.guard = Guard(config.fail, SERVER)
    services.config = config
    services.api = Api()
    checks = (
        BlacklistChecks(services),
        SanctionChecks(Api(), services),  # type: ignore[arg-type]
    )
    return checks, db


def _run(coroutine: Any) -> Any:
    """Run a coroutine that completes without waiting (all warm)."""
    result: list[Any] = []
    deferred = defer.ensureDeferred(coroutine)
    deferred.addBoth(result.append)
    assert result, "the coroutine waited on something"
    if isinstance(result[0], BaseException):
        raise result[0]
    if hasattr(result[0], "raiseException"):
        return result[0]
    return result[0]


class NoCheck:
    """The harness alone: a callback that allows without looking."""

    async def check_event_allowed(
        self, event: Any, state: Any
    ) -> tuple[bool, dict[str, Any] | None]:
        return True, None


def time_event(checks: Any, event: Event, count: int) -> tuple[float, str]:
    state: dict[Any, Any] = {}
    outcome = "allowed"
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(count // 5):
            for check in checks:
                result: list[Any] = []
                d = defer.ensureDeferred(check.check_event_allowed(event, state))
                d.addBoth(result.append)
                if not isinstance(result[0], tuple):
                    outcome = f"refused ({type(result[0].value).__name__})"
                    break
        samples.append((time.perf_counter() - started) / (count // 5))
    return statistics.median(samples) * 1e6, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--blacklisted", type=int, default=10_000)
    parser.add_argument("--globs", type=int, default=100)
    args = parser.parse_args()
    checks, db = build(args.rooms, args.blacklisted, args.globs)
    cases = [
        (
            "message, nobody sanctioned",
            Event("m.room.message", f"@talker:{SERVER}", "!open", {"body": "hi"}),
        ),
        (
            "message, room suspended",
            Event("m.room.message", f"@talker:{SERVER}", "!suspended7", {"body": "hi"}),
        ),
        (
            "room name, admin suspended",
            Event("m.room.name", f"@admin7:{SERVER}", "!open", {"name": "x"}, ""),
        ),
        (
            "message, admin suspended",
            Event("m.room.message", f"@admin7:{SERVER}", "!open", {"body": "hi"}),
        ),
        (
            "join, remote user of a globbed server",
            Event(
                "m.room.member",
                "@u:a.spam42.example",
                "!open",
                {"membership": "join"},
                "@u:a.spam42.example",
            ),
        ),
    ]
    # Warm the caches (the first event after a change loads the sets).
    for _, event in cases:
        for check in checks:
            defer.ensureDeferred(check.check_event_allowed(event, {})).addErrback(
                lambda f: None
            )
    warm = db.queries
    print(
        f"in force: {args.rooms} suspended rooms, {args.rooms} suspended admins; "
        f"blacklist: {args.blacklisted} users + {args.globs} server globs"
    )
    print(f"{'event':42} {'µs/event':>9}  outcome")
    harness, _ = time_event((NoCheck(), NoCheck()), cases[0][1], args.events)
    print(f"{'(harness: two callbacks that do nothing)':42} {harness:9.2f}")
    for name, event in cases:
        micros, outcome = time_event(checks, event, args.events)
        print(f"{name:42} {micros:9.2f}  {outcome}")
    print(f"database queries in the timed loops: {db.queries - warm}")


if __name__ == "__main__":
    main()

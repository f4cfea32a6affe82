"""The per-event cost of the sanction, blacklist and mute checks (D1-D4,
B8), warm.

Runs the real rules (`checks/sanctions.py`, `checks/blacklist.py`) through
the real dispatcher in-process, on Synapse's real `@cached` machinery, over
a SQLite database filled with many sanctions in force, a large blacklist
with globs, many mutes in force, and a credit ledger, and times the event stage
(`check_event_for_spam`; the member stage, `check_event_allowed`, for
membership events) per event once the caches are warm (the state every
event but the first after a change sees). The database is never touched in
the timed loop: the script counts queries and prints them. Timings are
printed, never asserted.

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
from typing import Any, cast

from twisted.internet import defer, reactor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synapse.util.clock import Clock

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.blacklist.service import Blacklist, NoPersons
from synapse_groupreg.checks import ORDER
from synapse_groupreg.checks.blacklist import BlacklistChecks
from synapse_groupreg.checks.mutes import MuteChecks
from synapse_groupreg.checks.sanctions import SanctionChecks
from synapse_groupreg.config import parse_config
from synapse_groupreg.credit import CreditLedger
from synapse_groupreg.dispatch import Dispatcher, Guard, Reactions, RuleBook
from synapse_groupreg.mutes.service import Mutes
from synapse_groupreg.sanctions.service import SanctionService
from synapse_groupreg.sanctions.statements import Statements
from synapse_groupreg.store import MIGRATIONS
from synapse_groupreg.store.audit import AuditStore
from synapse_groupreg.store.blacklist import BlacklistStore, NewEntry
from synapse_groupreg.store.credit import CreditStore
from synapse_groupreg.store.credit import NewEntry as NewCredit
from synapse_groupreg.store.database import CacheSupport, Database, apply_migrations
from synapse_groupreg.store.mutes import MuteStore, NewMute
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
    """What the rules read of a Synapse event."""

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
        self.event_id = "$bench"

    def get_state_key(self) -> str | None:
        return self._state_key

    def is_state(self) -> bool:
        return self._state_key is not None


class Bot:
    bot_user_id = f"@groupreg:{SERVER}"

    def is_bot(self, user_id: str) -> bool:
        return user_id == self.bot_user_id


class Api:
    def is_mine(self, user_id: str) -> bool:
        return user_id.endswith(":" + SERVER)

    def should_run_background_tasks(self) -> bool:
        return True


class Sources:
    """The facts' lazy reads: an empty room (nobody in the benched rooms is
    restricted enough to need its state)."""

    async def room(self, room_id: str) -> None:
        return None

    async def state(self, room_id: str) -> dict[Any, Any]:
        return {}

    async def event(self, event_id: str) -> None:
        return None


async def _no_invalidate(func: Any, keys: tuple[Any, ...]) -> None:
    func.invalidate(keys)


def build(
    rooms: int, blacklisted: int, globs: int, with_mutes: bool = True
) -> tuple[Dispatcher, Counted]:
    config = parse_config({"profile": "cn"})
    db = Counted()
    clock = Clock(reactor, SERVER)
    caches = CacheSupport(SERVER, clock, lambda func: None, _no_invalidate)
    database = Database("sqlite", db.run_interaction, caches)
    now = lambda: NOW  # noqa: E731
    sanction_store = SanctionStore(database, now)
    blacklist_store = BlacklistStore(database, now)
    credit_store = CreditStore(database)
    mute_store = MuteStore(database, now)

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
        for n in range(rooms):
            await mute_store.replace(
                NewMute(
                    f"!muted{n}",
                    f"@muted{n}:{SERVER}",
                    False,
                    "@admin:x",
                    "r",
                    (),
                    NOW,
                    NOW + 3_600_000,
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
        NoPersons(),
    )
    mutes = Mutes(
        mute_store,
        unused,
        unused,
        sanctions,
        unused,
        unused,
        statements,
        config.rooms.admin_power_level,
        now,
    )
    bot = Bot()
    contributions = {
        "blacklist": BlacklistChecks(blacklist, bot.is_bot).rules(),
        "sanctions": SanctionChecks(sanctions, credit).rules(),
    }
    if with_mutes:
        contributions["mutes"] = MuteChecks(mutes).rules()
    book = RuleBook.build(ORDER, contributions)
    dispatcher = Dispatcher(
        cast(Any, Api()),
        book,
        Reactions(),
        Guard(config.fail, SERVER),
        config.enforcement,
        config.language,
        bot.is_bot,
        unused,
        Sources(),
        unused,
    )
    return dispatcher, db


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


class NoRules:
    """The harness alone: a stage with no rules."""

    async def check_event_for_spam(self, event: Any) -> str:
        return "NOT_SPAM"


def _decide(dispatcher: Any, event: Event) -> Any:
    if event.type == "m.room.member":
        return dispatcher.check_event_allowed(event, {})
    return dispatcher.check_event_for_spam(event)


def time_event(dispatcher: Any, event: Event, count: int) -> tuple[float, str]:
    outcome = "allowed"
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(count // 5):
            result: list[Any] = []
            d = defer.ensureDeferred(_decide(dispatcher, event))
            d.addBoth(result.append)
            answer = result[0]
            if hasattr(answer, "value"):
                outcome = f"refused ({type(answer.value).__name__})"
            elif isinstance(answer, tuple) and len(answer) == 2 and answer[1]:
                outcome = f"refused ({answer[1].get('org.groupreg.reason')})"
        samples.append((time.perf_counter() - started) / (count // 5))
    return statistics.median(samples) * 1e6, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--blacklisted", type=int, default=10_000)
    parser.add_argument("--globs", type=int, default=100)
    args = parser.parse_args()
    dispatcher, db = build(args.rooms, args.blacklisted, args.globs)
    without_mutes, _ = build(args.rooms, args.blacklisted, args.globs, False)
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
            "message, in a room with a muted member",
            Event("m.room.message", f"@talker:{SERVER}", "!muted7", {"body": "hi"}),
        ),
        (
            "message, muted member",
            Event("m.room.message", f"@muted7:{SERVER}", "!muted7", {"body": "hi"}),
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
        defer.ensureDeferred(_decide(dispatcher, event)).addErrback(lambda f: None)
    warm = db.queries
    print(
        f"in force: {args.rooms} suspended rooms, {args.rooms} suspended admins; "
        f"blacklist: {args.blacklisted} users + {args.globs} server globs; "
        f"{args.rooms} muted members"
    )
    print(f"{'event':42} {'µs/event':>9}  outcome")
    harness, _ = time_event(NoRules(), cases[0][1], args.events)
    print(f"{'(harness: a callback that does nothing)':42} {harness:9.2f}")
    for name, event in cases:
        micros, outcome = time_event(dispatcher, event, args.events)
        print(f"{name:42} {micros:9.2f}  {outcome}")
    print(f"database queries in the timed loops: {db.queries - warm}")
    # The mutes rule's share: the same plain message with and without it.
    plain = cases[0][1]
    defer.ensureDeferred(_decide(without_mutes, plain)).addErrback(lambda f: None)
    pairs = [
        (
            time_event(without_mutes, plain, args.events)[0],
            time_event(dispatcher, plain, args.events)[0],
        )
        for _ in range(3)
    ]
    off = statistics.median(p[0] for p in pairs)
    on = statistics.median(p[1] for p in pairs)
    print(
        f"plain message without / with the mutes rule: {off:.2f} / {on:.2f} µs"
        f" ({on / off:.3f}x; {on - off:+.2f} µs)"
    )


if __name__ == "__main__":
    main()

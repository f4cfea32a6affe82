"""The module's stores over an in-memory SQLite, without a Synapse process:
for unit tests of store logic and for benchmarks of the callbacks.

Transactions run synchronously on one connection (and are counted); the
registry's reads go through Synapse's real `@cached` with a real clock, so
caching and invalidation behave as in Synapse. Drive the async store
methods with `resolve`, which needs no reactor because nothing waits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from synapse.util.clock import Clock
from twisted.internet import defer, reactor

from synapse_groupreg.store import MIGRATIONS, Store
from synapse_groupreg.store.database import CacheSupport, Database, apply_migrations

T = TypeVar("T")
SERVER = "memory.example"


class MemoryDatabase:
    def __init__(self, migrate: bool = True) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.migrations = MIGRATIONS
        if migrate:
            apply_migrations(self.conn, "sqlite", MIGRATIONS)
        #: Store transactions run so far.
        self.transactions = 0

    @classmethod
    def empty(cls) -> MemoryDatabase:
        """A database with no schema yet (for migration tests)."""
        return cls(migrate=False)

    async def run_interaction(
        self, desc: str, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        self.transactions += 1
        cur = self.conn.cursor()
        try:
            result = func(cur, *args, **kwargs)
            self.conn.commit()
            return result
        except Exception:
            self.conn.rollback()
            raise
        finally:
            cur.close()


def memory_store(
    memory: MemoryDatabase | None = None,
) -> tuple[Store, MemoryDatabase, Clock]:
    memory = memory or MemoryDatabase()
    clock = Clock(reactor, server_name=SERVER)

    async def invalidate(func: Any, keys: tuple[Any, ...]) -> None:
        func.invalidate(keys)

    caches = CacheSupport(SERVER, clock, lambda func: None, invalidate)
    database = Database("sqlite", memory.run_interaction, caches)
    return Store(database, lambda: int(clock.time_msec())), memory, clock


def resolve(coro: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never waits (all I/O here is
    synchronous)."""
    d = defer.ensureDeferred(coro)
    assert d.called, "the coroutine waited on something"
    results: list[Any] = []
    d.addBoth(results.append)
    outcome = results[0]
    if hasattr(outcome, "raiseException"):
        outcome.raiseException()
    return outcome  # type: ignore[no-any-return]

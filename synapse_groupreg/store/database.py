"""The database the module shares with Synapse, and its schema migrations.

The module keeps its tables in Synapse's own database (SQLite or PostgreSQL)
so that every Synapse process sees the same state (G5). Each aggregate store
declares its migrations as numbered steps of one *component*; the versions
applied are kept per component in `groupreg_schema`, so features can add
tables without renumbering each other's steps.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Concatenate, Literal, ParamSpec, Protocol, TypeVar

import attrs

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

Engine = Literal["sqlite", "postgres"]


class Cursor(Protocol):
    """What the stores use of Synapse's LoggingTransaction (a DB-API cursor
    whose `?` placeholders Synapse converts for PostgreSQL)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ...) -> None: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...

    @property
    def rowcount(self) -> int: ...


class Connection(Protocol):
    def cursor(self) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


#: How DDL differs between the engines; migrations write `{id}` and `{bytes}`,
#: and `{resync_blocks}` after giving `groupreg_code_blocks` an explicit id
#: (SQLite's AUTOINCREMENT follows explicit ids by itself, a PostgreSQL
#: sequence must be told).
_DIALECT: dict[Engine, dict[str, str]] = {
    "sqlite": {
        "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "bytes": "BLOB",
        "resync_blocks": "SELECT 1",
    },
    "postgres": {
        "id": "BIGSERIAL PRIMARY KEY",
        "bytes": "BYTEA",
        "resync_blocks": (
            "SELECT setval(pg_get_serial_sequence('groupreg_code_blocks', 'block'),"
            " COALESCE((SELECT MAX(block) FROM groupreg_code_blocks), 1),"
            " (SELECT COUNT(*) > 0 FROM groupreg_code_blocks))"
        ),
    },
}

# Any 64-bit number will do, as long as it is ours alone: it serialises
# migrations when several Synapse processes start on one PostgreSQL database.
_MIGRATION_LOCK_KEY = 0x67725F736368656D  # "gr_schem"


@attrs.frozen(slots=True)
class Migration:
    """One schema step of a component, applied once, in version order."""

    component: str
    version: int
    statements: tuple[str, ...]


@attrs.frozen(slots=True)
class CacheSupport:
    """What a store needs for Synapse's `@cached` reads that every worker
    invalidates together: `server_name` and `clock` (the decorator reads them
    from the object it caches on), and the module API's `register_cached_function`
    and `invalidate_cache`."""

    server_name: str
    clock: Any
    register: Callable[[Any], None]
    invalidate: Callable[[Any, tuple[Any, ...]], Awaitable[None]]


_MISSING = object()


class CachedStore:
    """A store whose reads are Synapse `@cached` methods shared by every
    worker: the one way such a store is built. It takes `server_name` and
    `clock` (which `@cached` reads from the object it caches on) from the
    database's caches and registers the methods named in `CACHED` with
    Synapse, so that `_invalidate` reaches every worker."""

    CACHED: tuple[str, ...] = ()

    def __init__(self, db: Database) -> None:
        if db.caches is None:
            raise ValueError(f"{type(self).__name__} needs Synapse's caches")
        self._db = db
        self._caches = db.caches
        self.server_name = db.caches.server_name
        self.clock = db.caches.clock
        for name in self.CACHED:
            db.caches.register(getattr(self, name))

    async def _invalidate(self, cached_method: Any, keys: tuple[Any, ...]) -> None:
        """Drop `keys` of `cached_method` here and in every other worker."""
        await self._caches.invalidate(cached_method, keys)


async def warm_read(cached_method: Any, *args: Any) -> Any:
    """What a `@cached` method answers for `args`, straight from its cache
    when warm: without the Deferred and logcontext round trip a call costs
    (Synapse's own hot paths read `cache.get_immediate` the same way). The
    cache's key is the one argument itself, or the tuple of several (`()`
    for none); a cached None is a hit."""
    key = args[0] if len(args) == 1 else args
    hit = cached_method.cache.get_immediate(key, _MISSING)
    if hit is _MISSING:
        return await cached_method(*args)
    return hit


class Database:
    """Runs the stores' transactions on Synapse's connection pool.

    Args:
        engine: which SQL dialect is underneath.
        run_interaction: `ModuleApi.run_db_interaction`.
        caches: for stores that keep `@cached` reads (None where nothing
            is cached, e.g. in tools that run without Synapse).
    """

    def __init__(
        self,
        engine: Engine,
        run_interaction: Callable[..., Awaitable[Any]],
        caches: CacheSupport | None = None,
        prepare: Callable[[Cursor], object] | None = None,
    ) -> None:
        """`prepare`: schema work to do in the first transaction, for a
        database that exists only on Synapse's own connection (in-memory
        SQLite, where every new connection is a new, empty database)."""
        self.engine = engine
        self._run_interaction = run_interaction
        self.caches = caches
        self._prepare = prepare
        self._prepare_lock = threading.Lock()

    async def run(
        self,
        desc: str,
        func: Callable[Concatenate[Cursor, P], R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run `func(txn, ...)` in one transaction; retried by Synapse on
        serialisation failures, so `func` must not have side effects outside
        the database."""
        if self._prepare is not None:
            result: R = await self._run_interaction(
                f"groupreg_{desc}", self._prepared, func, *args, **kwargs
            )
            return result
        result = await self._run_interaction(f"groupreg_{desc}", func, *args, **kwargs)
        return result

    def _prepared(
        self, txn: Cursor, func: Callable[..., R], *args: Any, **kwargs: Any
    ) -> R:
        # Synapse's SQLite pool has one connection, so transactions run one
        # at a time; the lock only makes that explicit. The work is done
        # again until a transaction that did it commits, so it must be
        # idempotent (migrations and seeds are).
        with self._prepare_lock:
            if self._prepare is not None:
                self._prepare(txn)
                # Synapse's LoggingTransaction runs this once it commits.
                after: Any = txn
                after.call_after(self._prepare_committed)
        return func(txn, *args, **kwargs)

    def _prepare_committed(self) -> None:
        self._prepare = None

    def lock_table(self, txn: Cursor, table: str) -> None:
        """Serialise writers of `table` until the transaction ends.

        On PostgreSQL this must be the transaction's first statement: under
        Synapse's REPEATABLE READ the snapshot is taken by the first query,
        and LOCK TABLE does not take one. SQLite has one writer anyway.
        """
        if self.engine == "postgres":
            txn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")


def render_ddl(engine: Engine, statement: str) -> str:
    return statement.format(**_DIALECT[engine])


def apply_migrations(
    conn: Connection, engine: Engine, migrations: Iterable[Migration]
) -> list[Migration]:
    """Bring the module's schema up to date; returns the steps applied.

    Safe when several processes start at once: on PostgreSQL a session
    advisory lock admits one process at a time and each re-reads the
    versions after taking it; on SQLite `BEGIN IMMEDIATE` does the same.
    A failed step rolls back the whole run, so a process never starts on a
    half-migrated schema.
    """
    cur = conn.cursor()
    if engine == "postgres":
        cur.execute("SELECT pg_advisory_lock(?)", (_MIGRATION_LOCK_KEY,))
        conn.commit()
    else:
        cur.execute("BEGIN IMMEDIATE")
    try:
        applied = migrate_txn(cur, engine, migrations)
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    finally:
        if engine == "postgres":
            cur.execute("SELECT pg_advisory_unlock(?)", (_MIGRATION_LOCK_KEY,))
            conn.commit()
    for step in applied:
        logger.info("groupreg schema: applied %s step %d", step.component, step.version)
    return applied


def migrate_txn(
    cur: Cursor, engine: Engine, migrations: Iterable[Migration]
) -> list[Migration]:
    """Apply the steps not applied yet, inside a transaction that admits one
    migrating process at a time; returns the steps applied."""
    pending_by_component: dict[str, list[Migration]] = {}
    for m in migrations:
        pending_by_component.setdefault(m.component, []).append(m)
    applied: list[Migration] = []
    cur.execute(
        "CREATE TABLE IF NOT EXISTS groupreg_schema ("
        " component TEXT PRIMARY KEY,"  # a store's name, e.g. 'audit'
        " version INTEGER NOT NULL"  # the last step applied
        ")"
    )
    cur.execute("SELECT component, version FROM groupreg_schema")
    current = {row[0]: int(row[1]) for row in cur.fetchall()}
    for component, steps in sorted(pending_by_component.items()):
        have = current.get(component, 0)
        for step in sorted(steps, key=lambda m: m.version):
            if step.version <= have:
                continue
            for statement in step.statements:
                cur.execute(render_ddl(engine, statement))
            applied.append(step)
            have = step.version
        if have != current.get(component, 0):
            if component in current:
                cur.execute(
                    "UPDATE groupreg_schema SET version = ? WHERE component = ?",
                    (have, component),
                )
            else:
                cur.execute(
                    "INSERT INTO groupreg_schema (component, version) VALUES (?, ?)",
                    (component, have),
                )
    return applied


def blob(value: bytes | None) -> bytearray | None:
    """Bytes as a query parameter. Synapse makes psycopg2 refuse `bytes`
    ("Passing bytes to DB is disabled", synapse/storage/engines/postgres.py)
    and asks for `bytearray`; SQLite takes either."""
    return None if value is None else bytearray(value)

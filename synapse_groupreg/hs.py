"""The one place that reaches behind Synapse's ModuleApi.

The module API has no call for a few things the module must do: open a
database connection synchronously at start-up (so the schema exists before
the first callback runs), or hand Synapse's clock to a web resource. Those
reach `api._hs`; keeping them here means an upgrade of Synapse that moves
them breaks one small file, which the integration tests exercise against the
pinned Synapse range (1.163).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synapse.storage.database import make_conn
from synapse.storage.engines import PostgresEngine
from synapse.util.async_helpers import Linearizer

from synapse_groupreg.store.database import Connection, Engine

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi
    from synapse.server import HomeServer
    from synapse.util.clock import Clock


def homeserver(api: ModuleApi) -> HomeServer:
    return api._hs


def database_engine(api: ModuleApi) -> Engine:
    pool = homeserver(api).get_datastores().main.db_pool
    return "postgres" if isinstance(pool.engine, PostgresEngine) else "sqlite"


def startup_connection(api: ModuleApi) -> Connection:
    """A fresh connection to Synapse's main database, used before the
    reactor serves requests (schema migrations); close it when done."""
    hs = homeserver(api)
    pool = hs.get_datastores().main.db_pool
    conn: Any = make_conn(
        db_config=pool._database_config,
        engine=pool.engine,
        default_txn_name="groupreg_startup",
        server_name=hs.hostname,
    )
    return conn  # type: ignore[no-any-return]


def clock(api: ModuleApi) -> Clock:
    return homeserver(api).get_clock()


def linearizer(api: ModuleApi, name: str) -> Linearizer:
    """A per-key queue that follows Synapse's logcontext rules."""
    return Linearizer(name=name, clock=clock(api))


async def event_sender(api: ModuleApi, event_id: str) -> str | None:
    """The sender of an event this server has, from Synapse's event cache
    (the module API has no event lookup); None if unknown."""
    store = homeserver(api).get_datastores().main
    event = await store.get_event(event_id, allow_none=True)
    return str(event.sender) if event is not None else None


async def remove_local_members(
    api: ModuleApi, room_id: str, requester: str
) -> tuple[list[str], list[str]]:
    """Make every local member leave `room_id` and forget it, keeping its
    history: Synapse's room shutdown handler (`RoomShutdownHandler.
    shutdown_room` in synapse/handlers/room.py, what the admin API's
    DELETE /_synapse/admin/v2/rooms runs) with no replacement room, no
    purge and no block. Not blocking keeps our own refusals in charge, so
    a join is refused with ROOM_CLOSED rather than Synapse's wordless
    "room has been blocked". Returns (removed, failed) user ids."""
    handler = homeserver(api).get_room_shutdown_handler()
    result = await handler.shutdown_room(
        room_id,
        {
            "requester_user_id": requester,
            "new_room_user_id": None,
            "new_room_name": None,
            "message": None,
            "block": False,
            "purge": False,
            "force_purge": False,
        },
    )
    if result is None:
        return [], []
    return list(result["kicked_users"]), list(result["failed_to_kick_users"])


def signing_key(api: ModuleApi) -> Any:
    """The homeserver's ed25519 signing key (signs exports, F3)."""
    return homeserver(api).signing_key

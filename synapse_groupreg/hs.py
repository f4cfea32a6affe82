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


def signing_key(api: ModuleApi) -> Any:
    """The homeserver's ed25519 signing key (signs exports, F3)."""
    return homeserver(api).signing_key


async def can_see_event(
    api: ModuleApi, user_id: str, room_id: str, event_id: str
) -> bool:
    """Whether a local user may see an event: the check Synapse's own report
    endpoint makes before it accepts a report (rest/client/reporting.py,
    ReportEventRestServlet, through EventHandler.get_event)."""
    from synapse.api.errors import AuthError
    from synapse.types import UserID

    handler = homeserver(api).get_event_handler()
    try:
        event = await handler.get_event(
            UserID.from_string(user_id), room_id, event_id, show_redacted=False
        )
    except AuthError:
        return False
    return event is not None

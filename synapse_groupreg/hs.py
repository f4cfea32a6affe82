"""The one place that reaches behind Synapse's ModuleApi.

The module API has no call for a few things the module must do: open a
database connection synchronously at start-up (so the schema exists before
the first callback runs), or hand Synapse's clock to a web resource. Those
reach `api._hs`; keeping them here means an upgrade of Synapse that moves
them breaks one small file, which the integration tests exercise against the
pinned Synapse range (1.163).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from synapse.api.errors import AuthError
from synapse.event_auth import check_state_dependent_auth_rules
from synapse.logging.context import current_context
from synapse.storage.database import make_conn
from synapse.storage.engines import PostgresEngine
from synapse.util.async_helpers import Linearizer

from synapse_groupreg.store.database import Connection, Engine

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.module_api import ModuleApi
    from synapse.server import HomeServer
    from synapse.util.clock import Clock


def homeserver(api: ModuleApi) -> HomeServer:
    return api._hs


def database_engine(api: ModuleApi) -> Engine:
    pool = homeserver(api).get_datastores().main.db_pool
    return "postgres" if isinstance(pool.engine, PostgresEngine) else "sqlite"


def in_memory_database(api: ModuleApi) -> bool:
    """Whether Synapse's database is an in-memory SQLite (`:memory:`, the
    default of Synapse's own unit-test harness): there every new connection
    is a new, empty database (synapse/storage/engines/sqlite.py prepares
    each one), so schema work must go through Synapse's own pool."""
    pool = homeserver(api).get_datastores().main.db_pool
    args = pool._database_config.config.get("args", {})
    return not isinstance(pool.engine, PostgresEngine) and args.get("database") in (
        None,
        ":memory:",
    )


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


async def event(api: ModuleApi, event_id: str) -> EventBase | None:
    """An event this server has, from Synapse's event cache (the module API
    has no event lookup); None if unknown."""
    store = homeserver(api).get_datastores().main
    found: EventBase | None = await store.get_event(event_id, allow_none=True)
    return found


def install_fast_paths(
    api: ModuleApi,
    allowed_types: frozenset[str],
    check_event_allowed: Callable[..., Awaitable[Any]] | None,
    on_new_event: Callable[..., Awaitable[Any]] | None,
    event_persisted: Callable[[Callable[[], Awaitable[EventBase]]], None],
) -> list[str]:
    """Keep Synapse from loading a room's whole state for callbacks of ours
    that do not need it. Returns which fast paths were installed.

    Once any module registers `check_event_allowed`, Synapse loads the
    room's whole current state (`get_prev_state_ids`, then `get_events`
    over every state event, members included) before every event it
    creates, messages included; and once any module registers
    `on_new_event`, it loads the whole current state after every event it
    stores, in every process that registered it
    (synapse/module_api/callbacks/third_party_event_rules_callbacks.py,
    `check_event_allowed` and `on_new_event`). The module's
    `check_event_allowed` decides only about `allowed_types`, and its
    `on_new_event` reads state only for the few events that need it, so
    the per-message cost would grow with the room for nothing.

    Both are wrapped on Synapse's callback holder for this homeserver (an
    instance attribute, so nothing else changes): while the registered
    callbacks of the kind are exactly ours, an event of another type is
    allowed without the state load, and a stored event reaches
    `event_persisted` without it. When another module registers the same
    kind of callback, Synapse's own path runs unchanged, for everyone, and
    only the cost grows. If a Synapse upgrade renames what is wrapped,
    nothing is installed and a warning says so: the rules still hold.
    """
    installed: list[str] = []
    if os.environ.get("GROUPREG_NO_FAST_PATHS"):
        # A diagnostic switch, for measuring what the fast paths save
        # (bench/bigroom.py --slow).
        logger.warning("groupreg: fast paths off (GROUPREG_NO_FAST_PATHS)")
        return installed
    rules: Any = homeserver(api).get_module_api_callbacks().third_party_event_rules
    try:
        allowed_list: list[Any] = rules._check_event_allowed_callbacks
        new_event_list: list[Any] = rules._on_new_event_callbacks
        store = rules.store
        synapse_allowed = rules.check_event_allowed
        synapse_new_event = rules.on_new_event
    except AttributeError as e:
        logger.warning(
            "groupreg: Synapse's callback holder has changed (%s); the module's "
            "callbacks will work, but every event will load its room's state",
            e,
        )
        return installed

    if check_event_allowed is not None:

        async def fast_check_event_allowed(
            event: EventBase, context: Any
        ) -> tuple[bool, dict[str, Any] | None]:
            if event.type not in allowed_types and allowed_list == [
                check_event_allowed
            ]:
                return True, None
            result: tuple[bool, dict[str, Any] | None] = await synapse_allowed(
                event, context
            )
            return result

        rules.check_event_allowed = fast_check_event_allowed
        installed.append("check_event_allowed")

    if on_new_event is not None:

        async def fast_on_new_event(event_id: str) -> None:
            if new_event_list != [on_new_event]:
                await synapse_new_event(event_id)
                return
            # Queued, read and reacted to in the module's own background
            # process (Dispatcher._enqueue says why).
            event_persisted(lambda: store.get_event(event_id))

        rules.on_new_event = fast_on_new_event
        installed.append("on_new_event")
    return installed


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


async def user_deactivated(api: ModuleApi, user_id: str) -> bool:
    """Whether a local account exists and is deactivated."""
    store: Any = homeserver(api).get_datastores().main
    user = await store.get_user_by_id(user_id)
    return user is not None and bool(user.is_deactivated)


async def reactivate(api: ModuleApi, user_id: str) -> None:
    """Bring a deactivated account back (the module API has no call for it):
    Synapse's own `DeactivateAccountHandler.activate_account`, what the
    admin API's `PUT /_synapse/admin/v2/users` with `deactivated: false`
    runs (synapse/handlers/deactivate_account.py)."""
    await homeserver(api).get_deactivate_account_handler().activate_account(user_id)


def signing_key(api: ModuleApi) -> Any:
    """The homeserver's ed25519 signing key (signs exports, F3)."""
    return homeserver(api).signing_key


async def post_with_timeout(
    api: ModuleApi,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_ms: int,
) -> tuple[int, bytes]:
    """POST `body` with the module API's HTTP client; the whole exchange,
    body included, must finish within `timeout_ms`.

    `api.http_client` is Synapse's plain SimpleHttpClient: it has no IP
    blocklist (`hs.get_simple_http_client()` in synapse/server.py passes
    none), so an operator-configured provider on a private address is
    reachable without touching `ip_range_blacklist`. Its own timeout is a
    fixed 60 s to the headers with none on the body (synapse/http/client.py,
    `SimpleHttpClient.request`), hence our own deadline around both. We call
    `request` rather than `post_json_get_json`, whose DEBUG line logs the
    JSON body, which here is identity plaintext (A5).

    Raises:
        twisted.internet.defer.TimeoutError: past the deadline.
        Exception: whatever the transport raises.
    """
    from synapse.logging.context import make_deferred_yieldable, run_in_background
    from synapse.util.async_helpers import timeout_deferred
    from twisted.internet import defer
    from twisted.web.client import readBody
    from twisted.web.http_headers import Headers

    async def exchange() -> tuple[int, bytes]:
        response = await api.http_client.request(
            "POST",
            url,
            data=body,
            headers=Headers({k: [v] for k, v in headers.items()}),
        )
        content: bytes = await make_deferred_yieldable(readBody(response))
        return int(response.code), content

    started = clock(api).time_msec()
    deferred = timeout_deferred(
        deferred=run_in_background(exchange),
        timeout=timeout_ms / 1000,
        clock=clock(api),
    )
    try:
        result: tuple[int, bytes] = await make_deferred_yieldable(deferred)
    except Exception:
        # The cancellation at the deadline does not always surface as
        # TimeoutError: SimpleHttpClient.request's error logging reads
        # `e.args[0]` of the CancelledError, which has no args, and raises
        # IndexError instead (synapse/http/client.py, `request`).
        if clock(api).time_msec() - started >= timeout_ms:
            raise defer.TimeoutError(f"no answer within {timeout_ms} ms") from None
        raise
    return result


def consent_version(api: ModuleApi) -> str | None:
    """The current version of Synapse's `user_consent` documents, or None
    when homeserver.yaml has no `user_consent` section."""
    version: str | None = homeserver(api).config.consent.user_consent_version
    return version


async def user_consent_version(api: ModuleApi, user_id: str) -> str | None:
    """The version the user accepted, from Synapse's `users` table through
    its own `get_user_by_id` cache (synapse/storage/databases/main/
    registration.py: `@cached`, invalidated by `user_set_consent_version`),
    so a warm read costs no query and acceptance is seen at once."""
    store: Any = homeserver(api).get_datastores().main  # @cached: see get_standing
    user = await store.get_user_by_id(user_id)
    return user.consent_version if user is not None else None


def consent_uri(api: ModuleApi, user_id: str) -> str:
    """The user's own link to Synapse's consent page (`/_matrix/consent`,
    HMAC-signed with `form_secret`), where accepting records the version."""
    from synapse.api.urls import ConsentURIBuilder

    return ConsentURIBuilder(homeserver(api).config).build_user_consent_uri(user_id)


def passes_auth_rules(event: EventBase, state: Iterable[EventBase]) -> bool:
    """Whether Synapse's own state-dependent auth rules (membership changes,
    power levels, m.federate) will accept `event` against the room `state`.
    Synapse applies them after the third-party rules, so a check that wants
    to know whether an event will really happen asks here first."""
    try:
        check_state_dependent_auth_rules(event, state)
    except AuthError:
        return False
    return True


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


def verify_keys(api: ModuleApi) -> dict[str, Any]:
    """The homeserver's public keys by key id, its old ones too (as listed
    under `old_signing_keys` in homeserver.yaml), for checking what its
    signing key signed (F1 checkpoints)."""
    from signedjson.key import get_verify_key

    config = homeserver(api).config.key
    keys: dict[str, Any] = dict(config.old_signing_keys)
    for key in config.signing_key:
        keys[f"{key.alg}:{key.version}"] = get_verify_key(key)
    return keys


def listeners_without_client(api: ModuleApi) -> frozenset[str]:
    """The site tags of this process's HTTP listeners that do not serve the
    `client` resource (a federation-only port, for one).

    Synapse mounts a module's web resources on every HTTP listener
    (synapse/app/homeserver.py, `_listener_http`: `resources.update(
    self._module_web_resources)`), but each request knows its site, whose
    `site_tag` is the listener's `tag`, or its port
    (synapse/http/site.py `SynapseSite`, synapse/config/server.py
    `get_site_tag`). A tag shared with a client listener is not listed.
    """
    config = homeserver(api).config
    listeners = [*config.server.listeners, *config.worker.worker_listeners]
    with_client: set[str] = set()
    without: set[str] = set()
    for listener in listeners:
        options = listener.http_options
        if listener.type != "http" or options is None:
            continue
        names = {name for res in options.resources for name in res.names}
        (with_client if "client" in names else without).add(listener.get_site_tag())
    return frozenset(without - with_client)


def current_requester() -> str | None:
    """The user whose request is being served, from Synapse's logging
    context: `SynapseRequest.requester`'s setter copies it to the context's
    `ContextRequest.requester` once the request is authenticated
    (http/site.py, logging/context.py). `check_media_file_for_spam` is
    given no user, and runs in the uploader's request."""
    request = getattr(current_context(), "request", None)
    requester = getattr(request, "requester", None)
    return requester if isinstance(requester, str) else None


async def quarantine_room_media(api: ModuleApi, room_id: str, by: str) -> int:
    """Quarantine every file the room's events refer to, local and remote,
    as `POST /_synapse/admin/v1/room/{room_id}/media/quarantine` does
    (rest/admin/media.py, `QuarantineMediaInRoom`: the same store call).
    Returns how many files."""
    store = homeserver(api).get_datastores().main
    return int(await store.quarantine_media_ids_in_room(room_id, by))


async def quarantine_user_media(api: ModuleApi, user_id: str, by: str) -> int:
    """Quarantine every file a local user uploaded, as `POST
    /_synapse/admin/v1/user/{user_id}/media/quarantine` does
    (`QuarantineMediaByUser`). Returns how many files."""
    store = homeserver(api).get_datastores().main
    return int(await store.quarantine_media_ids_by_user(user_id, by))

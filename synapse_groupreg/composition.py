"""The composition root: every service of the module, built once, in
dependency order, each given what it needs at construction.

`compose` is called from `GroupRegModule.__init__`. It brings the schema up
to date before anything else (so no callback ever runs on an old schema),
builds the stores, the services of each concern, the rules and reactions
the concerns contribute, the dispatcher over them, and the list of
background jobs. Nothing is set on a service after it is built.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
from synapse.config._base import ConfigError

from synapse_groupreg import __version__, hs
from synapse_groupreg.adoption import (
    Adoption,
    AdoptionReport,
    AdoptionServices,
    ObservationLog,
)
from synapse_groupreg.adoption.observations import (
    FLUSH_INTERVAL_MS as _OBSERVED_FLUSH_MS,
)
from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.blacklist.service import Blacklist, NoPersons, PersonEntries
from synapse_groupreg.checks import ORDER
from synapse_groupreg.checks.blacklist import BlacklistChecks
from synapse_groupreg.checks.complaints import complaint_jobs
from synapse_groupreg.checks.content import ContentChecks
from synapse_groupreg.checks.covenant import covenant_rules
from synapse_groupreg.checks.federation import FederationChecks
from synapse_groupreg.checks.identity import IdentityChecks
from synapse_groupreg.checks.limits import LimitChecks
from synapse_groupreg.checks.links import LinkChecks
from synapse_groupreg.checks.media import MediaChecks
from synapse_groupreg.checks.membership import Membership
from synapse_groupreg.checks.mutes import MuteChecks
from synapse_groupreg.checks.netlog import NetlogFeed
from synapse_groupreg.checks.rooms import RoomChecks
from synapse_groupreg.checks.sanctions import SanctionChecks
from synapse_groupreg.complaints.discipline import DisciplineGateway
from synapse_groupreg.complaints.service import ComplaintService
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.content import (
    SeedState,
    content_jobs,
    load_content,
    seed_lists,
)
from synapse_groupreg.content.catalogue import Catalogue
from synapse_groupreg.credit import CreditLedger
from synapse_groupreg.dispatch import Dispatcher, Guard, Hooks, Reactions, RuleBook
from synapse_groupreg.dispatch.facts import StateMap
from synapse_groupreg.export import SectionSource
from synapse_groupreg.governance.roles import Role, covers
from synapse_groupreg.governance.wiring import Governance, build_governance
from synapse_groupreg.identity.selfservice import SelfService
from synapse_groupreg.identity.service import IdentityService
from synapse_groupreg.identity.transport import provider_client
from synapse_groupreg.identity.vault import KeyFileError, load_vault
from synapse_groupreg.jobs import Job
from synapse_groupreg.limits.bands import BandHooks, bands_limit
from synapse_groupreg.limits.waves import JoinWaves
from synapse_groupreg.links.check import LinkFilter
from synapse_groupreg.links.lists import LinkSnapshot, link_family
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.media.check import MediaFilter
from synapse_groupreg.media.lists import MediaSnapshot, media_family
from synapse_groupreg.media.quarantine import MediaQuarantine
from synapse_groupreg.metrics import AdoptionGauges
from synapse_groupreg.mutes.commands import MuteCommands
from synapse_groupreg.mutes.service import Mutes
from synapse_groupreg.netlog import NetworkLog
from synapse_groupreg.notices import Notices
from synapse_groupreg.rooms.accountability import Accountability
from synapse_groupreg.rooms.caps import Caps
from synapse_groupreg.rooms.moves import ClassMoves
from synapse_groupreg.rooms.registry import RoomRegistry
from synapse_groupreg.sanctions.automatic import FilterViolations, Violations
from synapse_groupreg.sanctions.emergency import Emergency
from synapse_groupreg.sanctions.registry import RegistryDirectory
from synapse_groupreg.sanctions.service import SanctionService
from synapse_groupreg.sanctions.statements import Statements
from synapse_groupreg.services import Services
from synapse_groupreg.standing import IdentityLevels, RealNameOff
from synapse_groupreg.store import MIGRATIONS, Store
from synapse_groupreg.store.database import (
    CacheSupport,
    Cursor,
    Database,
    apply_migrations,
    migrate_txn,
)
from synapse_groupreg.store.keywords import (
    CategoryLists,
    load_at_start,
    plant_seeds,
    plant_seeds_txn,
)
from synapse_groupreg.store.lists import LINKS, MEDIA, CategoryEntries
from synapse_groupreg.store.lists import load_at_start as load_lists_at_start
from synapse_groupreg.store.rooms import RoomRow

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.module_api import ModuleApi

#: Each family's (version, lists) as start-up loaded them (C7, C8).
ListsAtStart = dict[str, tuple[int, list[CategoryEntries]]]
#: How often expired seat reservations are purged.
_SEAT_PURGE_MS = 60_000
#: How often the network log writes its buffer (every process).
_NETLOG_FLUSH_MS = 1000


@attrs.frozen(slots=True)
class Composition:
    services: Services
    dispatcher: Dispatcher
    jobs: tuple[Job, ...]


class FactSources:
    """Where the dispatcher's facts come from on demand."""

    def __init__(self, registry: RoomRegistry, matrix: MatrixRooms) -> None:
        self._registry = registry
        self._matrix = matrix

    async def room(self, room_id: str) -> RoomRow | None:
        return await self._registry.room(room_id)

    async def state(self, room_id: str) -> StateMap:
        return await self._matrix.state(room_id)

    async def event(self, event_id: str) -> EventBase | None:
        return await self._matrix.event(event_id)


def compose(api: ModuleApi, config: GroupRegConfig) -> Composition:
    """Build everything; raises ConfigError for what the config lacks."""
    now_ms = api.get_current_time_msec
    engine = hs.database_engine(api)
    seeds = seed_lists(config, now_ms())
    prepare, start, lists_start = _schema(api, engine, seeds, now_ms())
    caches = CacheSupport(
        api.server_name,
        hs.clock(api),
        api.register_cached_function,
        api.invalidate_cache,
    )
    db = Database(engine, api.run_db_interaction, caches, prepare)
    store = Store(db, now_ms)
    language = config.language

    audit = AuditLog(store.audit, now_ms)
    netlog = (
        NetworkLog(store.netlog, now_ms, config.logs.retention_ms)
        if config.logs.network
        else None
    )
    notices = Notices(api, store.notices, config.notices)
    matrix = MatrixRooms(api, config.rooms.admin_power_level, notices.bot_user_id)
    credit = CreditLedger(config.credit, store.credit, now_ms)

    person_entries = PersonEntries(store.blacklist, language, now_ms)
    identity, selfservice = _identity(
        api, config, store, audit, notices, person_entries
    )
    identity_levels: IdentityLevels = (
        identity if identity is not None else RealNameOff()
    )

    rooms_config = config.rooms
    registry = RoomRegistry(
        rooms_config,
        db,
        store.rooms,
        store.seats,
        store.roles,
        audit,
        now_ms,
        identity_levels,
        credit,
        api.worker_name or "main",
    )
    roles = Accountability(store.roles, audit, rooms_config.admin_power_level)
    caps = Caps(rooms_config, store.seats, now_ms)
    moves = ClassMoves(
        rooms_config,
        registry,
        store.rooms,
        store.class_requests,
        audit,
        now_ms,
        matrix.publish,
    )

    statements = Statements(config.sanctions, language)
    local_user_exists = _local_user_exists(api)
    quarantine = (
        MediaQuarantine(
            partial(hs.quarantine_room_media, api),
            partial(hs.quarantine_user_media, api),
        )
        if config.content.media.quarantine
        else None
    )
    sanctions = SanctionService(
        config.sanctions,
        store.sanctions,
        credit,
        audit,
        notices,
        matrix,
        RegistryDirectory(registry),
        statements,
        now_ms,
        local_user_exists,
        quarantine,
    )
    mutes = Mutes(
        store.mutes,
        matrix,
        registry,
        sanctions,
        audit,
        notices,
        statements,
        rooms_config.admin_power_level,
        now_ms,
    )
    blacklist = Blacklist(
        config.blacklist,
        language,
        store.blacklist,
        audit,
        notices,
        statements,
        matrix,
        now_ms,
        api.is_mine,
        persons=identity if identity is not None else NoPersons(),
        on_person_released=(identity.release_person_hash,) if identity else (),
        quarantine=quarantine,
    )
    violations = Violations(
        config.credit, config.sanctions.automatic, store.violations, sanctions, now_ms
    )
    content = load_content(
        config,
        store,
        audit,
        start,
        api.defer_to_thread,
        now_ms,
        api.is_mine,
        FilterViolations(violations),
    )
    media_lists, link_lists, list_jobs = _category_lists(
        api, config, store, audit, lists_start
    )
    emergency = Emergency(
        sanctions,
        store.room_texts,
        audit,
        api.defer_to_thread,
        content.category_words if config.content.enabled else None,
    )
    complaints = (
        ComplaintService(
            config.complaints,
            store.complaints,
            store.complaint_intake,
            store.complaint_notices,
            audit,
            notices,
            language,
            now_ms,
            DisciplineGateway(sanctions, violations, config.sanctions.appeal_window_ms),
        )
        if config.complaints.enabled
        else None
    )

    adoption = AdoptionServices(
        job=Adoption(
            api,
            config,
            store.adoption,
            registry,
            matrix,
            sanctions,
            audit,
            now_ms,
            AdoptionGauges(api.server_name),
        ),
        report=AdoptionReport(
            config,
            store.adoption,
            api.server_name,
            notices.bot_user_id,
            hs.consent_version(api),
        ),
        observations=ObservationLog(store.adoption, now_ms),
    )

    governance, governance_jobs = build_governance(
        api, config, store, audit, notices, identity
    )

    exports: dict[str, SectionSource] = {"audit": audit.records}
    if netlog is not None:
        exports["network"] = netlog.records
    exports["sanctions"] = sanctions.records
    exports["blacklist"] = blacklist.records
    if complaints is not None:
        exports["complaints"] = complaints.records
    exports["checkpoints"] = governance.checkpoints.records

    services = Services(
        api=api,
        config=config,
        store=store,
        audit=audit,
        notices=notices,
        identity_levels=identity_levels,
        credit=credit,
        netlog=netlog,
        exports=exports,
        sanctions=sanctions,
        blacklist=blacklist,
        violations=violations,
        emergency=emergency,
        rooms=registry,
        caps=caps,
        roles=roles,
        matrix=matrix,
        moves=moves,
        mutes=mutes,
        content=content,
        media_lists=media_lists,
        link_lists=link_lists,
        adoption=adoption,
        governance=governance,
        identity=identity,
        selfservice=selfservice,
        complaints=complaints,
    )

    # -- the rules, the reactions, the dispatcher --------------------------------
    is_bot = notices.is_bot
    bot_name = config.notices.display_name
    membership = Membership(
        api, rooms_config, registry, caps, identity_levels, bot_name
    )
    room_checks = RoomChecks(
        api, rooms_config, registry, caps, roles, matrix, membership, api.is_mine
    )
    contributions: dict[str, Any] = {
        "covenant": covenant_rules(api, config.covenant, is_bot),
        "blacklist": BlacklistChecks(blacklist, is_bot).rules(),
        "sanctions": SanctionChecks(sanctions, credit).rules(),
        "mutes": MuteChecks(mutes).rules(),
        "rooms": room_checks.rules(),
        "federation": FederationChecks(
            api, rooms_config, registry, caps, bot_name
        ).rules(),
    }
    reactions = [
        room_checks.reactions(),
        MuteCommands(
            mutes, notices, matrix, language, _is_platform(api, governance)
        ).reactions(),
    ]
    if identity is not None and selfservice is not None:
        identity_checks = IdentityChecks(
            api, identity, selfservice, notices, audit, bot_name
        )
        contributions["identity"] = identity_checks.rules()
        reactions.append(identity_checks.reactions())
    if config.content.enabled:
        content_checks = ContentChecks(content.filter, api.is_mine, is_bot)
        contributions["content"] = content_checks.rules()
        reactions.append(content_checks.reactions())
    if media_lists is not None:
        media = MediaFilter(
            media_lists, content.hits, api.defer_to_thread, now_ms, api.server_name
        )
        contributions["media"] = MediaChecks(media).rules()
    if link_lists is not None:
        links = LinkFilter(link_lists, content.hits, config.content.links.allow, now_ms)
        contributions["links"] = LinkChecks(links).rules()
    if netlog is not None:
        reactions.append(NetlogFeed(netlog).reactions())
    bands_rate, bands_invites, bands_media = bands_limit(config.credit)
    limit_checks = LimitChecks(
        rooms_config,
        credit,
        JoinWaves(
            rooms_config, store.join_waves, matrix, notices, audit, language, now_ms
        ),
        matrix,
        is_bot,
        now_ms,
        bands_rate,
    )
    contributions["limits"] = limit_checks.rules()
    reactions.append(limit_checks.reactions())
    band_limits = BandHooks(credit, is_bot)
    dispatcher = Dispatcher(
        api,
        RuleBook.build(ORDER, contributions),
        Reactions.merge(*reactions),
        Guard(config.fail, api.server_name),
        config.enforcement,
        language,
        is_bot,
        audit,
        FactSources(registry, matrix),
        matrix.remove,
        adoption.observations,
        Hooks(
            ratelimit_override=(
                band_limits.ratelimit_override if bands_invites else None
            ),
            upload_size_allowed=(
                band_limits.upload_size_allowed if bands_media else None
            ),
            upload_limits=band_limits.upload_limits if bands_media else None,
        ),
    )

    # -- background jobs ---------------------------------------------------------
    jobs: list[Job] = [
        Job("groupreg_notice_bot", notices.ensure_bot, None),
        Job("groupreg_start", _record_start(api, config, audit), None, everywhere=True),
        Job("groupreg_seat_purge", room_checks.purge_expired_seats, _SEAT_PURGE_MS),
        Job(
            "groupreg_sanction_expiries",
            sanctions.announce_expiries,
            config.sanctions.expiry_sweep_ms,
        ),
    ]
    if identity is not None:
        # Re-encryption after a key rotation, minors coming of age.
        jobs += [
            Job("groupreg_identity_maintenance", identity.maintenance.run, None),
            Job(
                "groupreg_identity_maintenance",
                identity.maintenance.run,
                config.identity.reencrypt_interval_ms,
            ),
        ]
    if netlog is not None:
        jobs += [
            Job(
                "groupreg_netlog_flush", netlog.flush, _NETLOG_FLUSH_MS, everywhere=True
            ),
            Job("groupreg_netlog_purge", netlog.purge, config.logs.purge_interval_ms),
        ]
    jobs += limit_checks.jobs()
    jobs += content_jobs(config, content, audit, start, now_ms)
    jobs += list_jobs
    jobs += governance_jobs
    jobs.append(
        Job(
            "groupreg_observed_flush",
            adoption.observations.flush,
            _OBSERVED_FLUSH_MS,
            everywhere=True,
        )
    )
    if config.adoption.enabled:
        jobs += [
            Job("groupreg_adoption", adoption.job.run, None),
            Job("groupreg_adoption", adoption.job.run, config.adoption.interval_ms),
        ]
    if complaints is not None:
        jobs += complaint_jobs(complaints, api.server_name)
    return Composition(services, dispatcher, tuple(jobs))


def _schema(
    api: ModuleApi, engine: Any, seeds: list[CategoryLists], now: int
) -> tuple[Callable[[Cursor], object] | None, SeedState, ListsAtStart]:
    """Bring the schema up to date and plant the seed categories, before
    any callback can run, and load the media and link lists. On in-memory
    SQLite that must happen on Synapse's own connection: it is then the
    first transaction's work, and the lists start as the seeds (which is
    all such a fresh database holds)."""
    if hs.in_memory_database(api):

        def prepare(txn: Cursor) -> None:
            migrate_txn(txn, engine, MIGRATIONS)
            plant_seeds_txn(txn, seeds, now)

        names = [s.row.name for s in seeds]
        empty: ListsAtStart = {family: (0, []) for family in (MEDIA, LINKS)}
        return prepare, SeedState(0, seeds, names, ()), empty
    conn = hs.startup_connection(api)
    try:
        apply_migrations(conn, engine, MIGRATIONS)
        planted, existing = plant_seeds(conn, engine, seeds, now)
        version, categories = load_at_start(conn)
        lists = load_lists_at_start(conn, (MEDIA, LINKS))
    finally:
        conn.close()
    return None, SeedState(version, categories, planted, existing), lists


def _category_lists(
    api: ModuleApi,
    config: GroupRegConfig,
    store: Store,
    audit: AuditLog,
    start: ListsAtStart,
) -> tuple[Catalogue[MediaSnapshot] | None, Catalogue[LinkSnapshot] | None, list[Job]]:
    """The media lists (C7) and link lists (C8), each built from what
    start-up loaded (before any callback runs, as the keyword lists), and
    the jobs that keep them current in every process."""
    content = config.content
    now_ms = api.get_current_time_msec
    media = links = None
    jobs: list[Job] = []
    if content.enabled and content.media.enabled:
        family = media_family(content.media.max_distance)
        media = Catalogue(
            family,
            store.lists,
            audit,
            api.defer_to_thread,
            now_ms,
            family.build(*start[MEDIA]),
        )
        jobs.append(
            Job(
                "groupreg_media_lists_poll",
                media.poll,
                content.reload_interval_ms,
                everywhere=True,
            )
        )
    if content.enabled and content.links.enabled:
        link_fam = link_family()
        links = Catalogue(
            link_fam,
            store.lists,
            audit,
            api.defer_to_thread,
            now_ms,
            link_fam.build(*start[LINKS]),
        )
        jobs.append(
            Job(
                "groupreg_link_lists_poll",
                links.poll,
                content.reload_interval_ms,
                everywhere=True,
            )
        )
    return media, links, jobs


def _is_platform(
    api: ModuleApi, governance: Governance
) -> Callable[[str], Awaitable[bool]]:
    """Whether a user holds the module role `moderator` (G7): they mute as
    the platform."""

    async def is_platform(user_id: str) -> bool:
        held = governance.authoriser.roles_of(user_id, await api.is_user_admin(user_id))
        return covers(held, Role.MODERATOR)

    return is_platform


def _local_user_exists(api: ModuleApi) -> Callable[[str], Awaitable[bool]]:
    async def local_user_exists(user_id: str) -> bool:
        try:
            local = api.is_mine(user_id)
        except Exception:  # not a user id at all
            return False
        return local and await api.check_user_exists(user_id) is not None

    return local_user_exists


def _identity(
    api: ModuleApi,
    config: GroupRegConfig,
    store: Store,
    audit: AuditLog,
    notices: Notices,
    persons: PersonEntries,
) -> tuple[IdentityService | None, SelfService | None]:
    """The identity service and the self-service flow, or (None, None) when
    real-name is off.

    Raises:
        ConfigError: naming `identity.key_file` when it is missing or its
            file does not load; the server does not start without it (A6).
    """
    section = config.identity
    if not section.enabled:
        return None, None
    if section.key_file is None:
        raise ConfigError(
            "identity.key_file is required when real-name identity is on (profile"
            " cn): name a key file, created with `python -m"
            " synapse_groupreg.identity.keytool generate PATH`",
            ("identity", "key_file"),
        )
    try:
        vault = load_vault(section.key_file)
    except KeyFileError as e:
        raise ConfigError(f"identity.key_file: {e}", ("identity", "key_file")) from None

    def today() -> date:
        # The server's local calendar day: birth dates and ages (A4, A7).
        return date(*time.localtime(api.get_current_time_msec() / 1000)[:3])

    identity = IdentityService(
        section,
        vault,
        store.identity,
        store.verification,
        audit,
        api.get_current_time_msec,
        today,
        store.identity.invalidate_standing,
        _local_user_exists(api),
        vetoes=(persons.verification_veto,),
        holds=(persons.holds_person,),
    )
    selfservice = SelfService(
        section.self_service,
        identity,
        store.verification,
        audit,
        config.language,
        api.public_baseurl,
        api.get_current_time_msec,
        notices.send_dm,
        provider_client(api, section.self_service.provider),
    )
    return identity, selfservice


def _record_start(
    api: ModuleApi, config: GroupRegConfig, audit: AuditLog
) -> Callable[[], Awaitable[object]]:
    async def record() -> None:
        """One audit entry per process start: which rules were in force."""
        await audit.record(
            SYSTEM,
            "module.start",
            api.worker_name or "main",
            {
                "version": __version__,
                "profile": config.profile.value,
                "config_digest": config.digest,
                "enforcement": {
                    check: mode.value
                    for check, mode in config.enforcement.per_check.items()
                },
            },
        )

    return record

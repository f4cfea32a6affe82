"""GroupRegModule: what homeserver.yaml loads. Wiring only, no rules.

It reads the configuration, brings the schema up to date, builds the
services, and registers the callbacks, web resources and background jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from synapse.module_api import ModuleApi

from synapse_groupreg import __version__, hs
from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.checks import Guard
from synapse_groupreg.checks import blacklist as checks_blacklist
from synapse_groupreg.checks import complaints as checks_complaints
from synapse_groupreg.checks import content as content_checks
from synapse_groupreg.checks import covenant as covenant_checks
from synapse_groupreg.checks import federation as federation_checks
from synapse_groupreg.checks import identity as identity_checks
from synapse_groupreg.checks import netlog as checks_netlog
from synapse_groupreg.checks import rooms as room_checks
from synapse_groupreg.checks import sanctions as checks_sanctions
from synapse_groupreg.config import GroupRegConfig, parse_config
from synapse_groupreg.content import build_content
from synapse_groupreg.export import SectionSource
from synapse_groupreg.governance.wiring import build_governance
from synapse_groupreg.http import all_routes
from synapse_groupreg.http.base import PREFIX, Router
from synapse_groupreg.netlog import NetworkLog
from synapse_groupreg.notices import Notices
from synapse_groupreg.room_state import RoomState
from synapse_groupreg.rooms.accountability import Accountability
from synapse_groupreg.rooms.caps import Caps
from synapse_groupreg.rooms.moves import ClassMoves
from synapse_groupreg.rooms.registry import RoomRegistry
from synapse_groupreg.sanctions.wiring import (
    build_discipline,
    connect_content,
    connect_identity,
    connect_registry,
    filter_penalties,
)
from synapse_groupreg.services import Services
from synapse_groupreg.standing import IdentityLevels, RealNameOff
from synapse_groupreg.store import MIGRATIONS, Store
from synapse_groupreg.store.database import CacheSupport, Database, apply_migrations
from synapse_groupreg.wiring import build_complaints, build_identity

logger = logging.getLogger(__name__)

#: The concerns whose callbacks are registered, in this order (Synapse runs
#: callbacks of one kind in registration order; the first refusal wins).
#: Each is a module of `synapse_groupreg.checks` with `register(api, services)`.
CHECKS: tuple[Callable[[ModuleApi, Services], None], ...] = (checks_netlog.register,)
CHECKS += (identity_checks.register, covenant_checks.register)
CHECKS += (room_checks.register, federation_checks.register)
# Sanctions and the blacklist before the content filter: they cost a lookup,
# and a message refused anyway must not count as a content violation.
CHECKS += (checks_blacklist.register, checks_sanctions.register)
CHECKS += (content_checks.register,)
CHECKS += (checks_complaints.register,)


class GroupRegModule:
    """The Synapse module. Configure it in homeserver.yaml:

    modules:
      - module: synapse_groupreg.GroupRegModule
        config: {profile: cn, ...}
    """

    @staticmethod
    def parse_config(config: Mapping[str, Any]) -> GroupRegConfig:
        return parse_config(config)

    def __init__(self, config: GroupRegConfig, api: ModuleApi) -> None:
        self._api = api
        engine = hs.database_engine(api)
        # Synchronously, before any callback can run: every process starts
        # on the complete schema or not at all.
        conn = hs.startup_connection(api)
        try:
            apply_migrations(conn, engine, MIGRATIONS)
        finally:
            conn.close()

        caches = CacheSupport(
            api.server_name,
            hs.clock(api),
            api.register_cached_function,
            api.invalidate_cache,
        )
        store = Store(Database(engine, api.run_db_interaction, caches))
        audit = AuditLog(store.audit, api.get_current_time_msec)
        netlog = (
            NetworkLog(
                store.netlog, api.get_current_time_msec, config.logs.retention_ms
            )
            if config.logs.network
            else None
        )
        exports: dict[str, SectionSource] = {"audit": audit.records}
        if netlog is not None:
            exports["network"] = netlog.records
        notices = Notices(api, store.notices, config.notices)
        discipline = build_discipline(api, config, store, audit, notices)
        exports["sanctions"] = discipline.sanctions.records
        exports["blacklist"] = discipline.blacklist.records
        identity, selfservice = build_identity(api, config, store, audit, notices)
        if identity is not None:
            connect_identity(discipline, identity)
        identity_levels: IdentityLevels = (
            identity if identity is not None else RealNameOff()
        )
        credit = discipline.credit
        rooms = config.rooms
        registry = RoomRegistry(
            rooms,
            store.rooms,
            store.seats,
            audit,
            api.get_current_time_msec,
            identity_levels,
            credit,
        )
        connect_registry(discipline, registry)
        content = build_content(
            api, config, store, audit, penalties=filter_penalties(discipline)
        )
        connect_content(discipline, content)
        complaints = build_complaints(api, config, store, audit, notices, discipline)
        if complaints is not None:
            exports["complaints"] = complaints.records
        governance = build_governance(api, config, store, audit, notices, identity)
        exports["checkpoints"] = governance.checkpoints.records
        self.services = services = Services(
            api=api,
            config=config,
            store=store,
            audit=audit,
            notices=notices,
            guard=Guard(config.fail, api.server_name),
            identity_levels=identity_levels,
            credit=credit,
            netlog=netlog,
            exports=exports,
            rooms=registry,
            caps=Caps(rooms, store.seats, api.get_current_time_msec),
            roles=Accountability(store.roles, audit, rooms.admin_power_level),
            room_state=RoomState(api),
            moves=ClassMoves(
                rooms,
                registry,
                store.rooms,
                store.class_requests,
                audit,
                api.get_current_time_msec,
            ),
            identity=identity,
            selfservice=selfservice,
            credit_ledger=discipline.credit,
            sanctions=discipline.sanctions,
            blacklist=discipline.blacklist,
            violations=discipline.violations,
            emergency=discipline.emergency,
            content=content,
            complaints=complaints,
            governance=governance,
        )

        for register in CHECKS:
            register(api, services)
        self.router = Router(
            api, hs.clock(api), all_routes(services), governance.authoriser
        )
        api.register_web_resource(PREFIX, self.router)

        if api.should_run_background_tasks():
            api.delayed_background_call(0, services.notices.ensure_bot)
            if identity is not None:
                # Re-encryption after a key rotation, minors coming of age.
                api.delayed_background_call(0, identity.maintenance.run)
                api.looping_background_call(
                    identity.maintenance.run, config.identity.reencrypt_interval_ms
                )
        api.delayed_background_call(0, self._record_start)
        logger.info(
            "synapse-groupreg loaded: profile %s, %s database",
            config.profile.value,
            engine,
        )

    async def _record_start(self) -> None:
        """One audit entry per process start: which rules were in force."""
        config = self.services.config
        await self.services.audit.record(
            SYSTEM,
            "module.start",
            self._api.worker_name or "main",
            {
                "version": __version__,
                "profile": config.profile.value,
                "config_digest": config.digest,
            },
        )

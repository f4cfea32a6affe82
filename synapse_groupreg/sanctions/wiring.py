"""Building credit, sanctions and the blacklist from the configuration
(wiring only, apart from `module.py` so each concern adds its own builder)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from synapse_groupreg import hs
from synapse_groupreg.audit import AuditLog
from synapse_groupreg.blacklist.service import Blacklist
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.credit import CreditLedger
from synapse_groupreg.notices import Notices
from synapse_groupreg.sanctions.automatic import FilterViolations, Violations
from synapse_groupreg.sanctions.emergency import Emergency
from synapse_groupreg.sanctions.matrix import RoomActions
from synapse_groupreg.sanctions.registry import (
    NoRegistry,
    RegistryDirectory,
    RoomDirectory,
)
from synapse_groupreg.sanctions.service import SanctionService
from synapse_groupreg.sanctions.statements import Statements
from synapse_groupreg.store import Store
from synapse_groupreg.store.blacklist import BlacklistStore
from synapse_groupreg.store.credit import CreditStore
from synapse_groupreg.store.room_texts import RoomTextStore
from synapse_groupreg.store.sanctions import SanctionStore
from synapse_groupreg.store.violations import ViolationStore

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

    from synapse_groupreg.content import ContentServices
    from synapse_groupreg.identity.service import IdentityService
    from synapse_groupreg.rooms.registry import RoomRegistry


@attrs.frozen(slots=True)
class Discipline:
    """The services of requirements D1-D6, built together."""

    credit: CreditLedger
    sanctions: SanctionService
    blacklist: Blacklist
    violations: Violations
    emergency: Emergency


def build_discipline(
    api: ModuleApi,
    config: GroupRegConfig,
    store: Store,
    audit: AuditLog,
    notices: Notices,
    registry: RoomDirectory | None = None,
) -> Discipline:
    clock = hs.clock(api)
    now_ms = api.get_current_time_msec
    credit_store = CreditStore(store.db, api.server_name, clock, api.invalidate_cache)
    sanction_store = SanctionStore(
        store.db, api.server_name, clock, api.invalidate_cache, now_ms
    )
    blacklist_store = BlacklistStore(
        store.db, api.server_name, clock, api.invalidate_cache, now_ms
    )
    api.register_cached_function(credit_store.credit_head)
    api.register_cached_function(sanction_store.sanctions_in_force)
    api.register_cached_function(blacklist_store.blacklist_in_force)
    credit = CreditLedger(config.credit, credit_store, now_ms)

    async def local_user_exists(user_id: str) -> bool:
        try:
            local = api.is_mine(user_id)
        except Exception:  # not a user id at all
            return False
        return local and await api.check_user_exists(user_id) is not None

    rooms = RoomActions(api, notices.bot_user_id)
    statements = Statements(config.sanctions, config.language)
    sanctions = SanctionService(
        config.sanctions,
        sanction_store,
        credit,
        audit,
        notices,
        rooms,
        registry if registry is not None else NoRegistry(),
        statements,
        now_ms,
        local_user_exists,
    )
    blacklist = Blacklist(
        config.blacklist,
        config.language,
        blacklist_store,
        audit,
        notices,
        statements,
        rooms,
        now_ms,
        api.is_mine,
    )
    violations = Violations(
        config.credit,
        config.sanctions.automatic,
        ViolationStore(store.db),
        sanctions,
        now_ms,
    )
    emergency = Emergency(
        sanctions, RoomTextStore(store.db), audit, api.defer_to_thread
    )
    return Discipline(
        credit=credit,
        sanctions=sanctions,
        blacklist=blacklist,
        violations=violations,
        emergency=emergency,
    )


def connect_identity(discipline: Discipline, identity: IdentityService) -> None:
    """Persons on the blacklist (D4, A6, A8): a listed person cannot verify
    any account (veto), erasure keeps the hash while an entry needs it
    (hold), entries name persons through the identity service, and the
    hash may be forgotten when its last entry goes."""
    blacklist = discipline.blacklist
    identity.add_verification_veto(blacklist.verification_veto)
    identity.add_hash_hold(blacklist.holds_person)
    blacklist.persons = identity
    blacklist.on_person_released.append(identity.release_person_hash)


def connect_registry(discipline: Discipline, registry: RoomRegistry) -> None:
    """Closing a room retires its registration code and lists it closed in
    the registry (D2); statements name the code; emergencies select by
    class and category (D6)."""
    discipline.sanctions.registry = RegistryDirectory(registry)


def filter_penalties(discipline: Discipline) -> FilterViolations:
    """The content filter's credit hook (C2, D1): each refused publication
    is a violation, with its category's penalty, counted by the thresholds."""
    return FilterViolations(discipline.violations)


def connect_content(discipline: Discipline, content: ContentServices) -> None:
    """Emergencies may select rooms by a content-filter category's words
    (D6), read from the filter's lists."""
    lists = content.lists

    async def category_words(name: str) -> tuple[list[str], list[str]] | None:
        _, found = await lists.get(name)
        if found is None:
            return None
        return list(found.words), list(found.exceptions)

    discipline.emergency.category_words = category_words

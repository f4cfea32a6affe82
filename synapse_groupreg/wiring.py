"""Building the services of the concerns from the configuration (wiring only).

Apart from `module.py` so the concerns can each add their own builder
without all editing one function.
"""

from __future__ import annotations

import time
from datetime import date
from typing import TYPE_CHECKING

from synapse.config._base import ConfigError

from synapse_groupreg import hs
from synapse_groupreg.audit import AuditLog
from synapse_groupreg.complaints.discipline import DisciplineGateway
from synapse_groupreg.complaints.service import ComplaintService
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.identity.selfservice import SelfService
from synapse_groupreg.identity.service import IdentityService
from synapse_groupreg.identity.transport import provider_client
from synapse_groupreg.identity.vault import KeyFileError, load_vault
from synapse_groupreg.notices import Notices
from synapse_groupreg.sanctions.wiring import Discipline
from synapse_groupreg.store import Store
from synapse_groupreg.store.identity import IdentityStore

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi


def build_identity(
    api: ModuleApi,
    config: GroupRegConfig,
    store: Store,
    audit: AuditLog,
    notices: Notices,
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

    identity_store = IdentityStore(store.db, api.server_name, hs.clock(api))
    api.register_cached_function(identity_store.standing)

    async def invalidate(user_id: str) -> None:
        await api.invalidate_cache(identity_store.standing, (user_id,))

    async def local_user_exists(user_id: str) -> bool:
        try:
            local = api.is_mine(user_id)
        except Exception:  # not a user id at all
            return False
        return local and await api.check_user_exists(user_id) is not None

    def today() -> date:
        # The server's local calendar day: birth dates and ages (A4, A7).
        return date(*time.localtime(api.get_current_time_msec() / 1000)[:3])

    identity = IdentityService(
        section,
        vault,
        identity_store,
        store.verification,
        audit,
        api.get_current_time_msec,
        today,
        invalidate,
        local_user_exists,
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


def build_complaints(
    api: ModuleApi,
    config: GroupRegConfig,
    store: Store,
    audit: AuditLog,
    notices: Notices,
    discipline: Discipline,
) -> ComplaintService | None:
    """The complaint channel (E1-E4), or None when `complaints.enabled` is
    off; decisions and appeals act through the sanctions concern."""
    if not config.complaints.enabled:
        return None
    return ComplaintService(
        config.complaints,
        store.complaints,
        store.complaint_intake,
        store.complaint_notices,
        audit,
        notices,
        config.language,
        api.get_current_time_msec,
        DisciplineGateway(
            discipline.sanctions,
            discipline.violations,
            config.sanctions.appeal_window_ms,
        ),
    )

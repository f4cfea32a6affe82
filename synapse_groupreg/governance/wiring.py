"""Building the governance services from the configuration: roles and
their audit, the four-eyes reveal, the audit checkpoints, and their
background jobs. The composition root (composition.py) calls
`build_governance` once."""

from __future__ import annotations

import json
import logging
import os
import time
from typing import TYPE_CHECKING

import attrs
from synapse.config._base import ConfigError

from synapse_groupreg import hs
from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.config.governance import HOMESERVER_KEY
from synapse_groupreg.events import MEMBER
from synapse_groupreg.governance.anchoring import AuditCheckpoints
from synapse_groupreg.governance.checkpoints import Checkpoint
from synapse_groupreg.governance.reveals import RevealService
from synapse_groupreg.governance.roles import Role, RolePolicy, role_changes
from synapse_groupreg.identity.service import IdentityService
from synapse_groupreg.jobs import Job
from synapse_groupreg.notices import Notices
from synapse_groupreg.store import Store
from synapse_groupreg.store.role_grants import RoleGrantStore

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

    # http/ imports the services, which import this file.
    from synapse_groupreg.http.access import Authoriser

logger = logging.getLogger(__name__)

#: How often lapsed reveal requests are swept (they also lapse when read).
_REVEAL_SWEEP_MS = 60_000


@attrs.frozen(slots=True)
class Governance:
    #: Who holds which role; the check every admin route passes (G7).
    authoriser: Authoriser
    #: Signed checkpoints of the audit chain and its verification (F1).
    checkpoints: AuditCheckpoints
    #: Four-eyes reveal (A6), None when real-name is off.
    reveals: RevealService | None
    grants: RoleGrantStore

    @property
    def roles(self) -> RolePolicy:
        return self.authoriser.policy


def _check_local(api: ModuleApi, policy: RolePolicy) -> None:
    for user_id, role in sorted(policy.pairs()):
        if not api.is_mine(user_id):
            raise ConfigError(
                f"{user_id} is not a user of this server ({api.server_name});"
                " roles go to local users, who sign in here",
                ("roles", role),
            )


def _signing_key(api: ModuleApi, key: str) -> tuple[object, dict[str, object]]:
    """(signing key, verify keys by id) for `audit.checkpoints.key`."""
    if key == HOMESERVER_KEY:
        return hs.signing_key(api), hs.verify_keys(api)
    from signedjson.key import get_verify_key, read_signing_keys

    try:
        with open(key, encoding="utf-8") as f:
            keys = read_signing_keys(f)
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"cannot read the key file {key!r}: {e}; create one with"
            " `generate_signing_key -o PATH` (it comes with Synapse), or write"
            " 'homeserver' to use the homeserver's signing key",
            ("audit", "checkpoints", "key"),
        ) from None
    if not keys:
        raise ConfigError(
            f"the key file {key!r} holds no key", ("audit", "checkpoints", "key")
        )
    verify = {f"{k.alg}:{k.version}": get_verify_key(k) for k in keys}
    return keys[0], dict(verify)


def _check_file(path: str | None) -> None:
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(
            f"the folder of {path!r} does not exist; the checkpoint file is"
            " created there on the first checkpoint",
            ("audit", "checkpoints", "file"),
        )


def _local_time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ms / 1000))


def build_governance(
    api: ModuleApi,
    config: GroupRegConfig,
    store: Store,
    audit: AuditLog,
    notices: Notices,
    identity: IdentityService | None,
) -> tuple[Governance, list[Job]]:
    """The services, and their background jobs.

    Raises:
    ConfigError: a role held by a user of another server, an unreadable
        checkpoint key, a checkpoint file in a folder that does not exist.
    """
    from synapse_groupreg.http.access import Authoriser

    policy = config.roles
    _check_local(api, policy)

    async def audit_overstep(user_id: str, role: Role, method: str, path: str) -> None:
        await audit.record(
            user_id, "role.refused", path, {"role": role.value, "method": method}
        )

    authoriser = Authoriser(policy, config.language, audit_overstep)

    section = config.audit.checkpoints
    signing_key, verify_keys = _signing_key(api, section.key)
    _check_file(section.file)

    async def post(room_id: str, checkpoint: Checkpoint) -> None:
        membership = await api.get_room_state(room_id, [(MEMBER, notices.bot_user_id)])
        member = membership.get((MEMBER, notices.bot_user_id))
        if member is None or member.membership != "join":
            await api.update_room_membership(
                notices.bot_user_id, notices.bot_user_id, room_id, "join"
            )
        text = (
            f"Audit checkpoint {checkpoint.n}: entry {checkpoint.seq},"
            f" hash {checkpoint.hash}"
        )
        await notices.send_to_room(
            room_id,
            text,
            extra={"org.groupreg.audit_checkpoint": json.loads(checkpoint.body)},
        )

    checkpoints = AuditCheckpoints(
        section,
        store.checkpoints,
        store.audit,
        api.server_name,
        signing_key,
        verify_keys,
        api.get_current_time_msec,
        post,
    )
    reveals = (
        RevealService(
            config.identity.reveal,
            store.reveals,
            identity,
            audit,
            config.language,
            api.get_current_time_msec,
            notices.send_dm,
            _local_time,
        )
        if identity is not None
        else None
    )
    governance = Governance(authoriser, checkpoints, reveals, store.role_grants)

    async def role_changes_now() -> None:
        await record_role_changes(governance, audit, api)

    jobs = [
        Job("groupreg_role_changes", role_changes_now, None),
        Job("groupreg_audit_checkpoints", checkpoints.run, section.interval_ms),
    ]
    if reveals is not None:
        jobs.append(Job("groupreg_reveal_sweep", reveals.run, _REVEAL_SWEEP_MS))
    return governance, jobs


async def record_role_changes(
    governance: Governance, audit: AuditLog, api: ModuleApi
) -> None:
    """Audit what changed in `roles:` since the last start (G7): each grant,
    each revocation, and a switch between configured roles and server
    admins holding all. Audited before it is recorded, so a crash in between
    repeats an entry rather than losing one."""
    policy = governance.roles
    recorded, mode = await governance.grants.recorded()
    changes = role_changes(recorded, mode, policy)
    if changes.empty:
        return
    source = {"source": "homeserver.yaml"}
    for user_id, role in changes.granted:
        await audit.record(SYSTEM, "role.grant", user_id, {"role": role, **source})
    for user_id, role in changes.revoked:
        await audit.record(SYSTEM, "role.revoke", user_id, {"role": role, **source})
    if changes.mode is not None:
        await audit.record(SYSTEM, "role.mode", "", {"mode": changes.mode, **source})
    new_mode = "configured" if policy.configured else "server_admins"
    await governance.grants.record(
        policy.pairs(), new_mode, api.get_current_time_msec()
    )

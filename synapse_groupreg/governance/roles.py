"""The module's own roles (G7): who may use which part of the admin API.

Each admin route names one role (`http/`); a caller holds roles through
`roles:` in homeserver.yaml, or, while that section is absent, every role
as a Synapse server admin (the behaviour before roles existed). `owner`
covers every role. Pure rules: nothing here speaks Synapse.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import attrs


class Role(str, enum.Enum):
    #: Everything, and who holds which role.
    OWNER = "owner"
    #: Identity review, imports, masked identities, reveal requests and
    #: their approval (A3, A6).
    IDENTITY_OFFICER = "identity_officer"
    #: The audit log, its checkpoints and verification, the network log and
    #: exports, read only (F1-F3).
    AUDITOR = "auditor"
    #: Complaints, sanctions, credit, the blacklist, keyword, media and link
    #: lists, the room registry, notices and emergency measures (B-E).
    MODERATOR = "moderator"

    @property
    def wording(self) -> tuple[str, str]:
        """(zh-Hans, en) names for messages and the console."""
        return _WORDING[self]


_WORDING = {
    Role.OWNER: ("所有者", "owner"),
    Role.IDENTITY_OFFICER: ("身份专员", "identity officer"),
    Role.AUDITOR: ("审计员", "auditor"),
    Role.MODERATOR: ("内容管理员", "moderator"),
}
ROLE_NAMES = tuple(r.value for r in Role)
ALL_ROLES = frozenset(Role)


def covers(held: Iterable[Role], needed: Role) -> bool:
    """Whether roles `held` allow a route that names `needed`."""
    held = frozenset(held)
    return needed in held or Role.OWNER in held


@attrs.frozen(slots=True)
class RolePolicy:
    """Who holds which role.

    Args:
        grants: user ids by role, from `roles:`; None when the section is
            absent, and then server admins hold every role.
    """

    grants: Mapping[Role, frozenset[str]] | None

    @property
    def configured(self) -> bool:
        return self.grants is not None

    def roles_of(self, user_id: str, is_server_admin: bool) -> frozenset[Role]:
        if self.grants is None:
            return ALL_ROLES if is_server_admin else frozenset()
        return frozenset(
            role for role, users in self.grants.items() if user_id in users
        )

    def holders(self) -> dict[str, list[str]]:
        """Role name -> sorted user ids (empty while roles are not configured)."""
        if self.grants is None:
            return {}
        return {role.value: sorted(self.grants.get(role, ())) for role in Role}

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every (user id, role name) granted."""
        if self.grants is None:
            return frozenset()
        return frozenset(
            (user, role.value) for role, users in self.grants.items() for user in users
        )


@attrs.frozen(slots=True)
class RoleChanges:
    """What differs between the grants last recorded and the configuration."""

    granted: tuple[tuple[str, str], ...]
    revoked: tuple[tuple[str, str], ...]
    #: The new mode, when it changed: "configured" or "server_admins".
    mode: str | None

    @property
    def empty(self) -> bool:
        return not self.granted and not self.revoked and self.mode is None


def role_changes(
    recorded: frozenset[tuple[str, str]],
    recorded_mode: str | None,
    policy: RolePolicy,
) -> RoleChanges:
    """Grants and revocations since the last recorded configuration; the
    first start with roles counts every grant as new."""
    mode = "configured" if policy.configured else "server_admins"
    current = policy.pairs()
    return RoleChanges(
        granted=tuple(sorted(current - recorded)),
        revoked=tuple(sorted(recorded - current)),
        mode=mode if mode != recorded_mode else None,
    )

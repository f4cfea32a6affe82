"""Who may call an admin route (G7): the one place the role check lives.

Every admin route names one module role where it is declared (`Route(...,
Role.AUDITOR, ...)`); the router asks `Authoriser.require` after Synapse
has authenticated the caller. A refusal is 403 `M_FORBIDDEN` with
`org.groupreg.reason: ROLE_REQUIRED` and `role` naming the role. A caller
who holds some role and oversteps it leaves an audit entry (staff reaching
beyond their remit is what an auditor looks for); a caller with no role at
all is only logged, so anyone with an account cannot fill the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from synapse_groupreg.config import Language
from synapse_groupreg.governance.roles import Role, RolePolicy, covers
from synapse_groupreg.reasons import Reason, Refusal, to_synapse_error

logger = logging.getLogger(__name__)

#: Records an overstep: (user id, role needed, method, path).
OnRefused = Callable[[str, Role, str, str], Awaitable[None]]

_HINT_UNCONFIGURED = (
    "未配置角色（roles）时，服务器管理员持有全部角色，而您不是服务器管理员。",
    "While no roles are configured, server admins hold every role, and you are"
    " not a server admin.",
)
_HINT_CONFIGURED = (
    "角色由 homeserver.yaml 的 roles 配置授予，请联系所有者（owner）。",
    "Roles are granted under 'roles' in homeserver.yaml: ask an owner.",
)


class Authoriser:
    """Args:
    policy: who holds which role.
    language: of the refusal's message.
    on_refused: audits a role holder's overstep.
    """

    def __init__(
        self,
        policy: RolePolicy,
        language: Language,
        on_refused: OnRefused | None = None,
    ) -> None:
        self.policy = policy
        self._language = language
        self._on_refused = on_refused

    def roles_of(self, user_id: str, is_server_admin: bool) -> frozenset[Role]:
        return self.policy.roles_of(user_id, is_server_admin)

    async def require(
        self, user_id: str, held: frozenset[Role], role: Role, method: str, path: str
    ) -> None:
        """Raises:
        SynapseError: 403 ROLE_REQUIRED naming `role`, unless `held` covers it.
        """
        if covers(held, role):
            return
        logger.info(
            "%s %s refused to %s: needs role %s", method, path, user_id, role.value
        )
        if held and self._on_refused is not None:
            await self._on_refused(user_id, role, method, path)
        hint = _HINT_CONFIGURED if self.policy.configured else _HINT_UNCONFIGURED
        raise to_synapse_error(
            Refusal(
                Reason.ROLE_REQUIRED,
                {"role": role.wording, "role_id": role.value, "hint": hint},
            ),
            self._language,
            {"role": role.value},
        )

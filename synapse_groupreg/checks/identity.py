"""The real-name gate (A1) and the events that change a user's level
(A2 phone binding, A8 deactivation). The gate's stages and exemptions are
in `gates.py`.

An enforced refusal also makes the notice bot offer a verification link
(once per link lifetime), in the background so the refused request is not
held up by a room creation.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.checks.gates import ActionGate
from synapse_groupreg.config.identity import Action
from synapse_groupreg.dispatch import Contribution, Reactions
from synapse_groupreg.identity.selfservice import SelfService
from synapse_groupreg.identity.service import IdentityService
from synapse_groupreg.notices import Notices
from synapse_groupreg.reasons import Reason, Refusal

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)


class IdentityChecks:
    def __init__(
        self,
        api: ModuleApi,
        identity: IdentityService,
        selfservice: SelfService,
        notices: Notices,
        audit: AuditLog,
        bot_name: str,
    ) -> None:
        self._api = api
        self._identity = identity
        self._selfservice = selfservice
        self._audit = audit
        self._bot = f"{bot_name} ({notices.bot_user_id})"
        self._gate = ActionGate(
            api,
            "identity",
            identity.config.gates,
            identity.passes_gate,
            self._refusal,
            notices.is_bot,
        )
        # Users whose link is being offered right now in this process: a
        # burst of refused requests sends one DM, not one each.
        self._offering: set[str] = set()

    def rules(self) -> Contribution:
        return self._gate.rules()

    def reactions(self) -> Reactions:
        return Reactions(
            threepid_change=(self.on_threepid_change,),
            deactivation=(self.on_deactivation,),
        )

    def _refusal(self, user_id: str, action: Action) -> Refusal:
        async def offer() -> None:
            self._offer_link(user_id)

        return Refusal(
            Reason.IDENTITY_REQUIRED,
            {"action": action.wording, "bot": self._bot},
            then=offer,
        )

    def _offer_link(self, user_id: str) -> None:
        if user_id in self._offering:
            return
        self._offering.add(user_id)
        selfservice = self._selfservice

        async def offer() -> None:
            try:
                await selfservice.offer_link(user_id)
            except Exception:
                logger.exception("could not send a verification link to %s", user_id)
            finally:
                self._offering.discard(user_id)

        self._api.run_as_background_process(
            "groupreg_offer_verification_link", offer, bg_start_span=False
        )

    async def on_threepid_change(self, user_id: str, medium: str, address: str) -> None:
        """A2: a phone number was bound or unbound; the level may change."""
        if medium != "msisdn":
            return
        await self._identity.invalidate(user_id)
        level = await self._identity.level_of(user_id)
        await self._audit.record(
            user_id, "identity.phone_changed", user_id, {"level": level.value}
        )

    async def on_deactivation(
        self, user_id: str, deactivated: bool, by_admin: bool
    ) -> None:
        """A8: a deactivated account's identity plaintext is erased."""
        if deactivated:
            await self._identity.erase(user_id, SYSTEM)

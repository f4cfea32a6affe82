"""The real-name gate (A1) and the events that change a user's level
(A2 phone binding, A8 deactivation). The gate's stages and exemptions are
in `gates.py`. Until `identity.grace_until` (H4) a user below the gate
passes and the notice bot reminds them, at most every
`identity.grace_reminder_interval`.

An enforced refusal also makes the notice bot offer a verification link
(once per link lifetime), in the background so the refused request is not
held up by a room creation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
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
            self._passes,
            self._refusal,
            notices.is_bot,
        )
        # Users whose link is being offered right now in this process: a
        # burst of refused requests sends one DM, not one each.
        self._offering: set[str] = set()
        # H4: when each user in the grace period may next be reminded, as
        # far as this process knows (the database has the last say).
        self._next_reminder: dict[str, int] = {}

    def rules(self) -> Contribution:
        return self._gate.rules()

    def reactions(self) -> Reactions:
        return Reactions(
            threepid_change=(self.on_threepid_change,),
            deactivation=(self.on_deactivation,),
        )

    async def _passes(self, user_id: str) -> bool:
        """A1, and H4's grace period: until `identity.grace_until` a user
        below the gate passes, and is reminded to verify."""
        if await self._identity.passes_gate(user_id):
            return True
        config = self._identity.config
        if not config.in_grace(self._identity.today()):
            return False
        self._remind(user_id, config.grace_reminder_interval_ms)
        return True

    def _remind(self, user_id: str, interval_ms: int) -> None:
        now = self._api.get_current_time_msec()
        if self._next_reminder.get(user_id, 0) > now or user_id in self._offering:
            return
        if len(self._next_reminder) > 100_000:
            self._next_reminder.clear()  # a bound, not a cache policy
        self._next_reminder[user_id] = now + min(interval_ms, 3_600_000)
        grace_until = self._identity.config.grace_until
        assert grace_until is not None
        self._in_background(
            user_id,
            lambda: self._selfservice.remind(user_id, grace_until, interval_ms),
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
        self._in_background(user_id, lambda: self._selfservice.offer_link(user_id))

    def _in_background(self, user_id: str, send: Callable[[], Awaitable[bool]]) -> None:
        """Send the user a link in the background, once at a time per user."""
        if user_id in self._offering:
            return
        self._offering.add(user_id)

        async def offer() -> None:
            try:
                await send()
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

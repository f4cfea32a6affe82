"""The real-name gate (A1) and the events that change a user's level
(A2 phone binding, A8 deactivation). The gate's callbacks and exemptions
are in `gates.py`.

A refusal also makes the notice bot offer a verification link (once per
link lifetime), in the background so the refused request is not held up
by a room creation.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from synapse_groupreg.audit import SYSTEM
from synapse_groupreg.checks.gates import ActionGate
from synapse_groupreg.config.identity import Action
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.services import Services

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)


class IdentityEvents:
    def __init__(self, api: ModuleApi, services: Services) -> None:
        assert services.identity is not None
        self._api = api
        self._s = services
        self._identity = services.identity
        notices = services.config.notices
        self._bot = f"{notices.display_name} ({services.notices.bot_user_id})"
        # Users whose link is being offered right now in this process: a
        # burst of refused requests sends one DM, not one each.
        self._offering: set[str] = set()

    def refusal(self, user_id: str, action: Action) -> Refusal:
        self._offer_link(user_id)
        return Refusal(
            Reason.IDENTITY_REQUIRED, {"action": action.wording, "bot": self._bot}
        )

    def _offer_link(self, user_id: str) -> None:
        selfservice = self._s.selfservice
        if selfservice is None or user_id in self._offering:
            return
        self._offering.add(user_id)

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
        await self._s.audit.record(
            user_id, "identity.phone_changed", user_id, {"level": level.value}
        )

    async def on_user_deactivation_status_changed(
        self, user_id: str, deactivated: bool, by_admin: bool
    ) -> None:
        """A8: a deactivated account's identity plaintext is erased."""
        if deactivated:
            await self._identity.erase(user_id, SYSTEM)


def register(api: ModuleApi, services: Services) -> None:
    identity = services.identity
    if identity is None:
        return
    events = IdentityEvents(api, services)
    ActionGate(
        api,
        services,
        "identity",
        services.config.identity.gates,
        identity.passes_gate,
        events.refusal,
    ).register()
    api.register_third_party_rules_callbacks(
        on_add_user_third_party_identifier=events.on_threepid_change,
        on_remove_user_third_party_identifier=events.on_threepid_change,
        on_user_deactivation_status_changed=events.on_user_deactivation_status_changed,
    )

"""The covenant gate (A9): the current version of the server's management
rules and platform covenant must be accepted before posting.

Synapse's own `user_consent` publishes the text (`/_matrix/consent`, one
template per version, public without parameters), keeps the version each
user accepted (`users.consent_version`) and serves the page where they
accept it. Its own blocking (`block_events_error`) is left unset: it
refuses with M_CONSENT_NOT_GIVEN and no `org.groupreg.reason`, covers
every event but joins to the server-notices room (so a user could not
read the notice bot's verification link), and cannot be limited to some
actions (synapse/handlers/message.py, `assert_accepted_privacy_policy`).
This gate reads the accepted version through Synapse's cached
`get_user_by_id` and refuses with COVENANT_REQUIRED and the user's own
link to the consent page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from synapse.config._base import ConfigError

from synapse_groupreg import hs
from synapse_groupreg.checks.gates import ActionGate
from synapse_groupreg.config.identity import Action, CovenantConfig
from synapse_groupreg.dispatch import Contribution
from synapse_groupreg.reasons import Reason, Refusal

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi


def covenant_rules(
    api: ModuleApi, config: CovenantConfig, is_bot: Callable[[str], bool]
) -> Contribution:
    """The gate's rules, or none when `covenant.required` is off.

    Raises:
        ConfigError: the covenant is required but Synapse publishes none.
    """
    if not config.required:
        return {}
    version = hs.consent_version(api)
    if version is None:
        raise ConfigError(
            "covenant.required is true, but homeserver.yaml has no user_consent"
            " section: configure Synapse's user_consent (version, template_dir)"
            " to publish the rules and covenant and record acceptance, add the"
            " 'consent' resource to a listener and set form_secret; or set"
            " covenant.required: false",
            ("covenant", "required"),
        )

    async def accepted(user_id: str) -> bool:
        return await hs.user_consent_version(api, user_id) == version

    def refusal(user_id: str, action: Action) -> Refusal:
        return Refusal(
            Reason.COVENANT_REQUIRED,
            {"version": version, "url": hs.consent_uri(api, user_id)},
        )

    return ActionGate(
        api, "covenant", config.actions, accepted, refusal, is_bot
    ).rules()

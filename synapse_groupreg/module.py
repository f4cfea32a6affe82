"""GroupRegModule: what homeserver.yaml loads. Wiring only, no rules.

It reads the configuration and hands it to the composition root, which
brings the schema up to date and builds the services, the rules and the
dispatcher; then it registers the dispatcher's callbacks, the web resource
and the background jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from synapse.module_api import ModuleApi

from synapse_groupreg import hs
from synapse_groupreg.composition import compose
from synapse_groupreg.config import GroupRegConfig, parse_config
from synapse_groupreg.events import MEMBER, ROOM_STATE
from synapse_groupreg.http import all_routes
from synapse_groupreg.http.base import PREFIX, Router
from synapse_groupreg.jobs import schedule

logger = logging.getLogger(__name__)


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
        composition = compose(api, config)
        self.services = composition.services
        self.dispatcher = dispatcher = composition.dispatcher
        dispatcher.register()
        fast = hs.install_fast_paths(
            api,
            frozenset({MEMBER, ROOM_STATE}),
            dispatcher.check_event_allowed_callback
            if dispatcher.decides_events
            else None,
            dispatcher.on_new_event_callback if dispatcher.reacts_to_events else None,
            dispatcher.event_persisted_fast,
        )
        self.router = Router(
            api,
            hs.clock(api),
            all_routes(self.services),
            self.services.governance.authoriser,
            hs.listeners_without_client(api),
        )
        api.register_web_resource(PREFIX, self.router)
        schedule(api, composition.jobs)
        logger.info(
            "synapse-groupreg loaded: profile %s, %s database, enforcement %s,"
            " fast paths %s",
            config.profile.value,
            hs.database_engine(api),
            "observe: " + ", ".join(config.enforcement.observing)
            if config.enforcement.observing
            else "enforce",
            ", ".join(fast) or "none",
        )

"""The provider's transport: the one identity file that speaks to Synapse
(through `hs.post_with_timeout`), kept apart from the protocol rules in
`provider.py` so those stay testable without a homeserver."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from twisted.internet import defer

from synapse_groupreg import hs
from synapse_groupreg.config.identity import ProviderConfig
from synapse_groupreg.identity.provider import (
    ProviderRequest,
    ProviderUnavailable,
    Verdict,
    parse_answer,
)
from synapse_groupreg.identity.selfservice import AskProvider

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)


def provider_client(api: ModuleApi, config: ProviderConfig | None) -> AskProvider:
    async def ask(request: ProviderRequest) -> Verdict:
        if config is None:
            raise ProviderUnavailable("no provider is configured")
        try:
            status, body = await hs.post_with_timeout(
                api, config.url, request.body, request.headers, config.timeout_ms
            )
        except defer.TimeoutError:
            raise ProviderUnavailable(
                f"the provider did not answer within {config.timeout_ms} ms"
            ) from None
        except Exception as e:
            # Transport errors name the cause, never the body.
            logger.debug("identity provider transport error", exc_info=True)
            raise ProviderUnavailable(
                f"the provider could not be reached ({type(e).__name__})"
            ) from None
        return parse_answer(request, status, body)

    return ask

"""What credit bands limit through Synapse's own limiters (D7).

Synapse 1.163 asks modules for a user's rate through
`get_ratelimit_override_for_user(user_id, limiter_name)` only in the
limiters built with the module's ratelimit callbacks
(synapse/api/ratelimiting.py, `Ratelimiter.can_do_action`, which uses the
override's `per_second` and `burst_count` in place of the configured
ones): the three invite limiters of synapse/handlers/room_member.py
(`rc_invites.per_room`, `.per_user`, `.per_issuer`). The message limiter
(`rc_message`, `RequestRatelimiter` in synapse/api/ratelimiting.py, built
by `HomeServer.get_request_ratelimiter`) is not one of them, so a band's
message rate is applied by the module at the event stage
(CREDIT_RATE_LIMIT, limits/decide.py). Of the invite limiters the band
overrides `rc_invites.per_issuer`, the one keyed by the inviter across
all rooms; its refusal is Synapse's own 429 `M_LIMIT_EXCEEDED`.

Uploads (synapse/module_api/callbacks/media_repository_callbacks.py):
- `is_user_allowed_to_upload_media_of_size(user_id, size)` is asked by
  the upload servlet with the request's Content-Length, after Synapse's
  own `max_upload_size`; False answers 413 `M_TOO_LARGE` "Upload request
  body is too large" (synapse/rest/media/upload_resource.py,
  `_get_file_metadata`): no reason field of ours can ride on it.
- `get_media_upload_limits_for_user(user_id)` returns the limits in force
  instead of `media_upload_limits`; None keeps the configured ones, and
  Synapse sums the user's uploads over each `time_period_ms` before
  keeping a new file (synapse/media/media_repository.py,
  `create_or_update_content`): 403 `M_USER_LIMIT_EXCEEDED` beyond it.

All are read from the credit head, one cached entry per user.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from synapse.module_api import MediaUploadLimit, RatelimitOverride

from synapse_groupreg.config.credit import CreditConfig
from synapse_groupreg.credit import CreditLedger

logger = logging.getLogger(__name__)

#: The limiter the band's invite rate replaces (synapse/config/ratelimiting.py).
INVITES_LIMITER = "rc_invites.per_issuer"
_DAY_MS = 86_400_000


def bands_limit(config: CreditConfig) -> tuple[bool, bool, bool]:
    """Whether any band sets (messages, invites, uploads)."""
    limits = [b.limits for b in config.bands]
    return (
        any(x.messages_per_minute is not None for x in limits),
        any(x.invites_per_minute is not None for x in limits),
        any(
            x.max_upload_size is not None or x.upload_bytes_per_day is not None
            for x in limits
        ),
    )


class BandHooks:
    """Synapse's questions about a user's limits, answered by their band.
    The notice bot has none."""

    def __init__(self, credit: CreditLedger, is_bot: Callable[[str], bool]) -> None:
        self._credit = credit
        self._is_bot = is_bot

    async def ratelimit_override(
        self, user_id: str, limiter_name: str
    ) -> RatelimitOverride | None:
        if limiter_name != INVITES_LIMITER or self._is_bot(user_id):
            return None
        _, band = await self._credit.band_of(user_id)
        per_minute = band.limits.invites_per_minute
        if per_minute is None:
            return None
        return RatelimitOverride(per_second=per_minute / 60, burst_count=per_minute)

    async def upload_size_allowed(self, user_id: str, size: int) -> bool:
        if self._is_bot(user_id):
            return True
        _, band = await self._credit.band_of(user_id)
        limit = band.limits.max_upload_size
        return limit is None or size <= limit

    async def upload_limits(self, user_id: str) -> list[MediaUploadLimit] | None:
        if self._is_bot(user_id):
            return None
        _, band = await self._credit.band_of(user_id)
        per_day = band.limits.upload_bytes_per_day
        if per_day is None:
            return None
        return [MediaUploadLimit(max_bytes=per_day, time_period_ms=_DAY_MS)]

"""The event stage's limits, pure (B9, D7): flood, mentions, credit rate.

`Limiter` holds the windows of one process and decides about one message
given the room's class limits and the sender's credit band limits; the
rule (checks/limits.py) reads those and asks whether the sender is a group
admin only when a class limit would refuse. A message is counted only
when it is allowed, so a refused burst does not lengthen the wait.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from synapse_groupreg.config.credit import CreditBand
from synapse_groupreg.config.rooms import ClassLimits
from synapse_groupreg.limits.counting import Window
from synapse_groupreg.limits.mentions import mention_count
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.sanctions.statements import display_duration


def wait_seconds(retry_at: int, now: int) -> int:
    return max(1, math.ceil((retry_at - now) / 1000))


class Limiter:
    """Counts messages per (room, member) and per member, over one window."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self.per_room = Window(window_ms)
        self.per_user = Window(window_ms)

    async def decide(
        self,
        room_id: str,
        sender: str,
        content: object,
        limits: ClassLimits | None,
        score_band: tuple[int, CreditBand] | None,
        is_admin: Callable[[], Awaitable[bool]],
        now: int,
    ) -> Refusal | None:
        """MENTION_LIMIT, FLOOD_LIMIT (not for group admins) or
        CREDIT_RATE_LIMIT; None, counting the message, when it may go."""
        admin: bool | None = None
        if limits is not None and limits.mentions_per_message is not None:
            count = mention_count(content)
            if count > limits.mentions_per_message:
                admin = await is_admin()
                if not admin:
                    return Refusal(
                        Reason.MENTION_LIMIT,
                        {"limit": limits.mentions_per_message, "count": count},
                    )
        room_limit = limits.messages_per_minute if limits is not None else None
        if room_limit is not None:
            retry = self.per_room.retry_at((room_id, sender), room_limit, now)
            if retry is not None:
                if admin is None:
                    admin = await is_admin()
                if admin:
                    room_limit = None
                else:
                    return Refusal(
                        Reason.FLOOD_LIMIT,
                        {
                            "limit": room_limit,
                            "window": display_duration(self.window_ms),
                            "seconds": wait_seconds(retry, now),
                        },
                    )
        band_limit = None
        if score_band is not None:
            score, band = score_band
            band_limit = band.limits.messages_per_minute
            if band_limit is not None:
                retry = self.per_user.retry_at(sender, band_limit, now)
                if retry is not None:
                    return Refusal(
                        Reason.CREDIT_RATE_LIMIT,
                        {
                            "score": score,
                            "band": band.name,
                            "limit": band_limit,
                            "window": display_duration(self.window_ms),
                            "seconds": wait_seconds(retry, now),
                        },
                    )
        if room_limit is not None:
            self.per_room.add((room_id, sender), room_limit, now)
        if band_limit is not None:
            self.per_user.add(sender, band_limit, now)
        return None

    def prune(self, now: int) -> None:
        self.per_room.prune(now)
        self.per_user.prune(now)

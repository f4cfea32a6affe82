"""A user's standing as the other concerns read it: identity level and credit.

Room classes gate creation on both (B1), sanctions and complaints read them.
The identity concern (A) and the credit concern (D1) provide the real
implementations; these protocols are what everyone else depends on, so the
concerns can be built and tested apart.
"""

from __future__ import annotations

from typing import Protocol

from synapse_groupreg.identity.levels import IdentityLevel


class IdentityLevels(Protocol):
    async def level_of(self, user_id: str) -> IdentityLevel:
        """The user's verified identity level; cached, cheap when warm."""
        ...


class CreditScores(Protocol):
    async def score_of(self, user_id: str) -> int:
        """The user's current credit score (0-120); cached, cheap when warm."""
        ...


class RealNameOff:
    """The answer when real-name identity is off (profile `generic` without
    an identity section): nobody has a verified level, and no rule asks."""

    async def level_of(self, user_id: str) -> IdentityLevel:
        return IdentityLevel.NONE

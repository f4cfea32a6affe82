"""Identity levels (A2): what the platform knows of who a user really is."""

from __future__ import annotations

import enum


class IdentityLevel(str, enum.Enum):
    """`none` < `phone` < `id`; compare with `rank`."""

    NONE = "none"
    #: A mainland mobile number bound through Synapse's msisdn 3PID.
    PHONE = "phone"
    #: An identity document verified by one of the verifiers.
    ID = "id"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: IdentityLevel) -> bool:
        return self.rank >= other.rank


_RANK = {IdentityLevel.NONE: 0, IdentityLevel.PHONE: 1, IdentityLevel.ID: 2}

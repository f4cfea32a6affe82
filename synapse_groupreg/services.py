"""The module's services, built once in `GroupRegModule.__init__` and handed
to the callbacks and HTTP handlers that need them."""

from __future__ import annotations

import attrs

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.checks import Guard
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.content import ContentServices
from synapse_groupreg.notices import Notices
from synapse_groupreg.standing import CreditScores, IdentityLevels
from synapse_groupreg.store import Store


@attrs.frozen(slots=True)
class Services:
    config: GroupRegConfig
    store: Store
    audit: AuditLog
    notices: Notices
    guard: Guard
    #: Identity levels: the identity service, or `RealNameOff`.
    identity_levels: IdentityLevels
    #: Credit scores, None until the credit system is configured.
    credit: CreditScores | None
    #: The prohibited-content filter (C1-C4, C6): lists, decision, hits.
    content: ContentServices | None = None

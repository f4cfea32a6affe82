"""The module's services, built once in `GroupRegModule.__init__` and handed
to the callbacks and HTTP handlers that need them."""

from __future__ import annotations

import attrs

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.checks import Guard
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.notices import Notices
from synapse_groupreg.room_state import RoomState
from synapse_groupreg.rooms.accountability import Accountability
from synapse_groupreg.rooms.caps import Caps
from synapse_groupreg.rooms.moves import ClassMoves
from synapse_groupreg.rooms.registry import RoomRegistry
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
    #: The room registry: classes, codes, status (B1, B2, B4, B6).
    rooms: RoomRegistry
    #: Member, creation and join caps (B3).
    caps: Caps
    #: Creators and admins over time (B5).
    roles: Accountability
    #: The rooms' Matrix state as the registry's routes need it.
    room_state: RoomState
    #: Moving rooms between classes, declaring categories (B2, B6).
    moves: ClassMoves

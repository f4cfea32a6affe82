"""The module's services, built once by the composition root
(composition.py) and handed to the HTTP handlers that need them. One name
per service; a field is optional only where its concern can be off."""

from __future__ import annotations

import attrs
from synapse.module_api import ModuleApi

from synapse_groupreg.adoption import AdoptionServices
from synapse_groupreg.audit import AuditLog
from synapse_groupreg.blacklist.service import Blacklist
from synapse_groupreg.complaints.service import ComplaintService
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.content import ContentServices
from synapse_groupreg.content.catalogue import Catalogue
from synapse_groupreg.credit import CreditLedger
from synapse_groupreg.export import SectionSource
from synapse_groupreg.governance.wiring import Governance
from synapse_groupreg.identity.selfservice import SelfService
from synapse_groupreg.identity.service import IdentityService
from synapse_groupreg.links.lists import LinkSnapshot
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.media.lists import MediaSnapshot
from synapse_groupreg.mutes.service import Mutes
from synapse_groupreg.netlog import NetworkLog
from synapse_groupreg.notices import Notices
from synapse_groupreg.rooms.accountability import Accountability
from synapse_groupreg.rooms.caps import Caps
from synapse_groupreg.rooms.moves import ClassMoves
from synapse_groupreg.rooms.registry import RoomRegistry
from synapse_groupreg.sanctions.automatic import Violations
from synapse_groupreg.sanctions.emergency import Emergency
from synapse_groupreg.sanctions.service import SanctionService
from synapse_groupreg.standing import IdentityLevels
from synapse_groupreg.store import Store


@attrs.frozen(slots=True)
class Services:
    #: Synapse's module API, for the HTTP handlers that speak Synapse.
    api: ModuleApi
    config: GroupRegConfig
    store: Store
    audit: AuditLog
    notices: Notices
    #: Identity levels: the identity service, or `RealNameOff`.
    identity_levels: IdentityLevels
    #: The credit ledger (D1).
    credit: CreditLedger
    #: The network log (F2), None when `logs.network` is off.
    netlog: NetworkLog | None
    #: Sections of the signed export (F3) by name; each concern adds its own.
    exports: dict[str, SectionSource]
    #: Sanctions on rooms and users (D2, D3, D5).
    sanctions: SanctionService
    #: The blacklist (D4).
    blacklist: Blacklist
    #: Violations and the automatic consequences they lead to; the content
    #: filter and complaints call `record_violation`.
    violations: Violations
    #: Emergency measures over many groups (D6).
    emergency: Emergency
    #: The room registry: classes, codes, status (B1, B2, B4, B6).
    rooms: RoomRegistry
    #: Member, creation and join caps (B3).
    caps: Caps
    #: Creators and admins over time (B5).
    roles: Accountability
    #: The rooms' Matrix state: who answers for a room, publishing the
    #: registration state, removing members.
    matrix: MatrixRooms
    #: Moving rooms between classes, declaring categories (B2, B6).
    moves: ClassMoves
    #: Timed mutes by group admins and platform moderators (B8).
    mutes: Mutes
    #: The prohibited-content filter (C1-C4, C6): lists, decision, hits.
    content: ContentServices
    #: The media lists (C7), None when `content.media` is off.
    media_lists: Catalogue[MediaSnapshot] | None
    #: The link lists (C8), None when `content.links` is off.
    link_lists: Catalogue[LinkSnapshot] | None
    #: Adopting an existing server: the job, its report, observe mode (H1-H5).
    adoption: AdoptionServices
    #: Module roles, four-eyes reveal, audit checkpoints (G7, A6, F1).
    governance: Governance
    #: Real-name identity (A1-A8), None when real-name is off. Also
    #: `identity_levels` then; `person_hash_of` is the blacklist's handle.
    identity: IdentityService | None = None
    #: The verification page's flow (A3 b), None when real-name is off.
    selfservice: SelfService | None = None
    #: The complaint channel (E1-E4), None when `complaints.enabled` is off.
    complaints: ComplaintService | None = None

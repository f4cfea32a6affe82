"""All SQL of the module, one store class per aggregate.

`MIGRATIONS` lists every schema step; the module applies them at start-up.
"""

from __future__ import annotations

from collections.abc import Callable

from synapse_groupreg.store import (
    adoption,
    audit,
    checkpoints,
    complaint_intake,
    complaint_notices,
    complaints,
    content_hits,
    keywords,
    lists,
    mutes,
    netlog,
    notices,
    reveals,
    role_grants,
    room_texts,
    synapse_reports,
    verification,
)
from synapse_groupreg.store import blacklist as blacklist_store
from synapse_groupreg.store import class_requests as class_requests_store
from synapse_groupreg.store import credit as credit_store
from synapse_groupreg.store import identity as identity_store
from synapse_groupreg.store import join_waves as join_waves_store
from synapse_groupreg.store import roles as roles_store
from synapse_groupreg.store import rooms as rooms_store
from synapse_groupreg.store import sanctions as sanction_store
from synapse_groupreg.store import seats as seats_store
from synapse_groupreg.store import violations as violation_store
from synapse_groupreg.store.database import Database, Migration

MIGRATIONS: tuple[Migration, ...] = (
    *audit.MIGRATIONS,
    *notices.MIGRATIONS,
    *netlog.MIGRATIONS,
)
MIGRATIONS += (*identity_store.MIGRATIONS, *verification.MIGRATIONS)
MIGRATIONS += (
    *rooms_store.MIGRATIONS,
    *seats_store.MIGRATIONS,
    *roles_store.MIGRATIONS,
    *class_requests_store.MIGRATIONS,
)
MIGRATIONS += (*keywords.MIGRATIONS, *content_hits.MIGRATIONS)
# Media and link lists (C7, C8).
MIGRATIONS += lists.MIGRATIONS
MIGRATIONS += (
    *credit_store.MIGRATIONS,
    *sanction_store.MIGRATIONS,
    *blacklist_store.MIGRATIONS,
    *violation_store.MIGRATIONS,
)
MIGRATIONS += complaints.MIGRATIONS
# Timed mutes by group admins and platform moderators (B8).
MIGRATIONS += mutes.MIGRATIONS
MIGRATIONS += adoption.MIGRATIONS
# Roles, reveal requests and audit checkpoints (G7, A6, F1).
MIGRATIONS += (
    *role_grants.MIGRATIONS,
    *reveals.MIGRATIONS,
    *checkpoints.MIGRATIONS,
)
# Join waves (B9).
MIGRATIONS += join_waves_store.MIGRATIONS


class Store:
    """Every store of the module, sharing one database (those with cached
    reads need its Synapse caches: see `CachedStore`)."""

    def __init__(self, db: Database, now_ms: Callable[[], int]) -> None:
        self.db = db
        self.audit = audit.AuditStore(db)
        self.notices = notices.NoticeStore(db)
        self.netlog = netlog.NetworkLogStore(db)
        self.identity = identity_store.IdentityStore(db)
        self.verification = verification.VerificationStore(db)
        self.rooms = rooms_store.RoomStore(db)
        self.seats = seats_store.SeatStore(db)
        self.roles = roles_store.RoleStore(db)
        self.class_requests = class_requests_store.ClassRequestStore(db)
        self.keywords = keywords.KeywordStore(db)
        self.lists = lists.ListStore(db)
        self.content_hits = content_hits.ContentHitStore(db)
        self.credit = credit_store.CreditStore(db)
        self.sanctions = sanction_store.SanctionStore(db, now_ms)
        self.blacklist = blacklist_store.BlacklistStore(db, now_ms)
        self.violations = violation_store.ViolationStore(db)
        self.mutes = mutes.MuteStore(db, now_ms)
        self.room_texts = room_texts.RoomTextStore(db)
        self.complaints = complaints.ComplaintStore(db)
        self.complaint_intake = complaint_intake.IntakeStore(db)
        self.complaint_notices = complaint_notices.OutcomeNoticeStore(db)
        self.synapse_facts = synapse_reports.SynapseFactsStore(db)
        self.adoption = adoption.AdoptionStore(db)
        self.role_grants = role_grants.RoleGrantStore(db)
        self.reveals = reveals.RevealStore(db)
        self.checkpoints = checkpoints.CheckpointStore(db)
        self.join_waves = join_waves_store.JoinWaveStore(db)

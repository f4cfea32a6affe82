"""All SQL of the module, one store class per aggregate.

`MIGRATIONS` lists every schema step; the module applies them at start-up.
"""

from __future__ import annotations

from synapse_groupreg.store import (
    audit,
    complaint_intake,
    complaint_notices,
    complaints,
    netlog,
    notices,
    synapse_reports,
    verification,
)
from synapse_groupreg.store import identity as identity_store
from synapse_groupreg.store.database import Database, Migration

MIGRATIONS: tuple[Migration, ...] = (
    *audit.MIGRATIONS,
    *notices.MIGRATIONS,
    *netlog.MIGRATIONS,
)
MIGRATIONS += (*identity_store.MIGRATIONS, *verification.MIGRATIONS)
MIGRATIONS += complaints.MIGRATIONS


class Store:
    """The stores, sharing one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.audit = audit.AuditStore(db)
        self.notices = notices.NoticeStore(db)
        self.netlog = netlog.NetworkLogStore(db)
        self.verification = verification.VerificationStore(db)
        self.complaints = complaints.ComplaintStore(db)
        self.complaint_intake = complaint_intake.IntakeStore(db)
        self.complaint_notices = complaint_notices.OutcomeNoticeStore(db)
        self.synapse_facts = synapse_reports.SynapseFactsStore(db)

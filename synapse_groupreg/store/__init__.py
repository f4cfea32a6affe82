"""All SQL of the module, one store class per aggregate.

`MIGRATIONS` lists every schema step; the module applies them at start-up.
"""

from __future__ import annotations

from synapse_groupreg.store import audit, netlog, notices, verification
from synapse_groupreg.store import blacklist as blacklist_store
from synapse_groupreg.store import credit as credit_store
from synapse_groupreg.store import identity as identity_store
from synapse_groupreg.store import sanctions as sanction_store
from synapse_groupreg.store import violations as violation_store
from synapse_groupreg.store.database import Database, Migration

MIGRATIONS: tuple[Migration, ...] = (
    *audit.MIGRATIONS,
    *notices.MIGRATIONS,
    *netlog.MIGRATIONS,
)
MIGRATIONS += (*identity_store.MIGRATIONS, *verification.MIGRATIONS)
# Credit, sanctions and the blacklist build their stores in
# sanctions/wiring.py (they need Synapse's cache machinery); only their
# schema is listed here.
MIGRATIONS += (
    *credit_store.MIGRATIONS,
    *sanction_store.MIGRATIONS,
    *blacklist_store.MIGRATIONS,
    *violation_store.MIGRATIONS,
)


class Store:
    """The stores, sharing one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.audit = audit.AuditStore(db)
        self.notices = notices.NoticeStore(db)
        self.netlog = netlog.NetworkLogStore(db)
        self.verification = verification.VerificationStore(db)

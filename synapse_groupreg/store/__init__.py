"""All SQL of the module, one store class per aggregate.

`MIGRATIONS` lists every schema step; the module applies them at start-up.
"""

from __future__ import annotations

from synapse_groupreg.store import audit, content_hits, keywords, notices
from synapse_groupreg.store.database import Database, Migration

MIGRATIONS: tuple[Migration, ...] = (*audit.MIGRATIONS, *notices.MIGRATIONS)
MIGRATIONS += (*keywords.MIGRATIONS, *content_hits.MIGRATIONS)


class Store:
    """The stores, sharing one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.audit = audit.AuditStore(db)
        self.notices = notices.NoticeStore(db)
        self.keywords = keywords.KeywordStore(db)
        self.content_hits = content_hits.ContentHitStore(db)

"""SQL reading the content filter's review records as reports (C2, E1).

A category with the action `review` lets a message through and records a
hit with `action = 'review'` in `groupreg_content_hits` (see
store/content_hits.py); each such record becomes a case, reported by
`system`, in the category of the keyword list. The table also holds the
filter's refusals: the collector's mark moves over them, but they are no
report (a refusal has no message left to judge).
"""

from __future__ import annotations

from synapse_groupreg.store.complaint_intake import NewReport, ReportSource, SourceRow
from synapse_groupreg.store.database import Cursor
from synapse_groupreg.store.synapse_reports import event_facts

#: The reporter of the filter's records (complaints.model.SYSTEM_REPORTER).
_SYSTEM = "system"


def _fetch_review_hits(
    txn: Cursor, after_id: int, limit: int, category: str
) -> list[SourceRow]:
    # `category` (the report category of Synapse's reports) does not apply:
    # a review record carries the category of the list that matched.
    txn.execute(
        "SELECT h.id, h.ts, h.user_id, h.room_id, h.event_id, h.event_type,"
        " h.field, h.subject, h.category, h.action, h.credit_penalty, h.keyword,"
        " h.list_version,"
        " e.sender, e.type, j.json FROM groupreg_content_hits AS h"
        " LEFT JOIN events AS e ON e.event_id = h.event_id"
        " LEFT JOIN event_json AS j ON j.event_id = h.event_id"
        " WHERE h.id > ? ORDER BY h.id LIMIT ?",
        (after_id, limit),
    )
    rows = []
    for row in txn.fetchall():
        (hit_id, ts, user_id, room_id, event_id, event_type, field, subject) = row[:8]
        (hit_category, action, penalty, keyword, list_version) = row[8:13]
        (sender, etype, raw) = row[13:]
        if action != "review":
            rows.append(SourceRow(int(hit_id), int(ts), None))
            continue
        hit = {
            "field": field,
            "category": hit_category,
            "credit_penalty": penalty,
            "keyword": keyword,
            "list_version": list_version,
            "event_type": event_type,
            "subject": subject,
        }
        evidence: dict[str, object] = {"content_hit": hit}
        if event_id is not None:
            target_type, target = "event", str(event_id)
            facts = event_facts((event_id, sender, etype, raw))
            if facts:
                evidence["event"] = facts
        elif room_id is not None:
            target_type, target = "room", str(room_id)
        else:
            target_type, target = "user", str(user_id)
        report = NewReport(
            kind="complaint",
            source="content",
            target_type=target_type,
            target=target,
            category=str(hit_category),
            reporter=_SYSTEM,
            ts=int(ts),
            reason=f"content filter: {hit_category} in {field}",
            room_id=room_id,
            subject=str(user_id),
            evidence=evidence,
            details={"hit_id": int(hit_id)},
            source_id=int(hit_id),
            rated=False,
        )
        rows.append(SourceRow(int(hit_id), int(ts), report))
    return rows


#: The content filter's records, read after Synapse's report tables.
CONTENT_SOURCE = ReportSource(
    "content_hits", "groupreg_content_hits", _fetch_review_hits
)

"""The blacklist in the Matrix policy-list vocabulary (D4), pure.

A policy list is a room whose state holds rules: `m.policy.rule.user`,
`m.policy.rule.room` and `m.policy.rule.server` events whose content is
`{entity, recommendation, reason}`, the entity possibly a glob (Matrix spec,
"Moderation policy lists"). Draupnir and Mjolnir read and write these, and
older lists use `m.room.rule.*` or `org.matrix.mjolnir.rule.*` types and the
`org.matrix.mjolnir.ban` recommendation. Only bans mean "blacklist"; a rule
whose content is empty was removed from its list.

Persons are never exported: their hash is keyed with this server's secret,
means nothing elsewhere, and is personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from synapse_groupreg.blacklist.model import (
    ROOM,
    SERVER,
    USER,
    InvalidEntry,
    check_target,
    format_id,
)
from synapse_groupreg.store.blacklist import BlacklistRow

BAN = "m.ban"
_BAN_ALIASES = (BAN, "org.matrix.mjolnir.ban")

#: Rule event types by kind, the stable spelling first.
RULE_TYPES: Mapping[str, tuple[str, ...]] = {
    USER: ("m.policy.rule.user", "m.room.rule.user", "org.matrix.mjolnir.rule.user"),
    ROOM: ("m.policy.rule.room", "m.room.rule.room", "org.matrix.mjolnir.rule.room"),
    SERVER: (
        "m.policy.rule.server",
        "m.room.rule.server",
        "org.matrix.mjolnir.rule.server",
    ),
}
_KIND_OF_TYPE = {t: kind for kind, types in RULE_TYPES.items() for t in types}


@attrs.frozen(slots=True)
class PolicyRule:
    """A ban rule read from a policy list, ready to become an entry."""

    index: int
    kind: str
    target: str
    reason: str


@attrs.frozen(slots=True)
class Skipped:
    """A rule of the list that is not imported, and why."""

    index: int
    event_type: str
    entity: str | None
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "type": self.event_type,
            "entity": self.entity,
            "outcome": "skipped",
            "why": self.why,
        }


def read_rules(events: Sequence[Any]) -> tuple[list[PolicyRule], list[Skipped]]:
    """Ban rules from policy-list state events (as `GET /rooms/{id}/state`
    answers, or as `export` writes them); everything else is skipped with
    the reason."""
    rules: list[PolicyRule] = []
    skipped: list[Skipped] = []
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            skipped.append(Skipped(index, "", None, "not a JSON object"))
            continue
        event_type = str(event.get("type", ""))
        content = event.get("content")
        kind = _KIND_OF_TYPE.get(event_type)
        if kind is None:
            skipped.append(Skipped(index, event_type, None, "not a policy rule"))
            continue
        if not isinstance(content, Mapping) or not content:
            skipped.append(Skipped(index, event_type, None, "rule removed (empty)"))
            continue
        entity = content.get("entity")
        if not isinstance(entity, str) or not entity:
            skipped.append(Skipped(index, event_type, None, "no 'entity'"))
            continue
        recommendation = content.get("recommendation")
        if recommendation not in _BAN_ALIASES:
            skipped.append(
                Skipped(
                    index,
                    event_type,
                    entity,
                    f"recommendation {recommendation!r} is not a ban",
                )
            )
            continue
        try:
            target = check_target(kind, entity)
        except InvalidEntry as e:
            skipped.append(Skipped(index, event_type, entity, e.message))
            continue
        reason = content.get("reason")
        rules.append(
            PolicyRule(
                index,
                kind,
                target,
                reason if isinstance(reason, str) and reason else "policy list",
            )
        )
    return rules, skipped


def rule_event(row: BlacklistRow) -> dict[str, Any]:
    """An entry as a policy rule state event (stable types, `m.ban`)."""
    return {
        "type": RULE_TYPES[row.kind][0],
        "state_key": f"rule:{row.target}",
        "content": {
            "entity": row.target,
            "recommendation": BAN,
            "reason": row.reason,
            # Our own fields, namespaced so other tools ignore them.
            "org.groupreg.entry_id": format_id(row.id),
            "org.groupreg.expires_ts": row.expires_ts,
        },
    }


def export_rules(rows: Iterable[BlacklistRow]) -> tuple[list[dict[str, Any]], int]:
    """Rule events for the exportable entries, and how many persons were
    left out."""
    events = []
    persons = 0
    for row in rows:
        if row.kind in RULE_TYPES:
            events.append(rule_event(row))
        else:
            persons += 1
    return events, persons

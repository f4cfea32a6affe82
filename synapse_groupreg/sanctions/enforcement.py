"""The per-event rules of the sanctions in force (D2, D3), pure.

The checks build `EventFacts` from what Synapse hands them and ask these
functions; an index of the sanctions in force, built once per change of
the cached set, answers in a few dictionary lookups. Expiry is decided
here, against the clock, so a suspension lifts itself on time whether or
not anything else runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from synapse_groupreg.config.credit import CreditBand, CreditConfig
from synapse_groupreg.events import MEMBER, REDACTION, ROOM_STATE
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.sanctions import SanctionRow

#: How a credit gate names what the user tried, in both languages.
GATE_ACTIONS: Mapping[str, tuple[str, str]] = {
    "posting": ("发言", "post"),
    "admin": ("行使群管理权限", "use group admin rights"),
    "create_groups": ("创建群组", "create groups"),
}


@attrs.frozen(slots=True)
class Restriction:
    """One sanction in force: from `start` until `until` (None: no end)."""

    sanction_id: int
    start: int
    until: int | None

    def active(self, now_ms: int) -> bool:
        return self.until is None or now_ms < self.until


def _longest(items: Iterable[Restriction], now_ms: int) -> Restriction | None:
    best: Restriction | None = None
    for r in items:
        if not r.active(now_ms):
            continue
        if best is None or (
            best.until is not None and (r.until is None or r.until > best.until)
        ):
            best = r
    return best


class SanctionsInForce:
    """Sanctions in force indexed by room and by user."""

    def __init__(self, rows: Iterable[SanctionRow]) -> None:
        self.closed: dict[str, int] = {}
        self.suspended: dict[str, list[Restriction]] = {}
        self.admin_suspended: dict[str, list[Restriction]] = {}
        self.creation_revoked: dict[str, list[Restriction]] = {}
        by_action = {
            "suspend_posting": self.suspended,
            "suspend_admin": self.admin_suspended,
            "revoke_creation": self.creation_revoked,
        }
        for row in rows:
            if row.action == "close":
                self.closed[row.target] = row.id
                continue
            table = by_action.get(row.action)
            if table is not None:
                table.setdefault(row.target, []).append(
                    Restriction(row.id, row.created_ts, row.expires_ts)
                )

    def room_closed(self, room_id: str) -> bool:
        return room_id in self.closed

    def room_suspension(self, room_id: str, now_ms: int) -> Restriction | None:
        found = self.suspended.get(room_id)
        return _longest(found, now_ms) if found else None

    def admin_suspension(self, user_id: str, now_ms: int) -> Restriction | None:
        found = self.admin_suspended.get(user_id)
        return _longest(found, now_ms) if found else None

    def creation_revocation(self, user_id: str, now_ms: int) -> Restriction | None:
        found = self.creation_revoked.get(user_id)
        return _longest(found, now_ms) if found else None

    def restricts_creation(self, user_id: str) -> bool:
        """Whether any creation-limiting sanction exists for the user at all
        (cheap pre-check before looking at the room's state)."""
        return user_id in self.admin_suspended or user_id in self.creation_revoked


@attrs.frozen(slots=True)
class EventFacts:
    """What the rules need of an event and the room state before it."""

    event_type: str
    sender: str
    room_id: str
    state_key: str | None
    membership: str | None
    #: For redactions, the sender of the redacted event (None: unknown or
    #: not a redaction).
    redacted_sender: str | None = None
    #: The room's creator and creation time (from m.room.create, or the
    #: event itself when it is the create event).
    creator: str | None = None
    created_ts: int | None = None
    #: Members joined or invited before this event.
    members: int = 0

    @property
    def is_self_leave(self) -> bool:
        return (
            self.event_type == MEMBER
            and self.membership == "leave"
            and self.state_key == self.sender
        )

    @property
    def is_state(self) -> bool:
        return self.state_key is not None

    @property
    def is_membership(self) -> bool:
        return self.event_type == MEMBER


def is_admin_action(facts: EventFacts) -> bool:
    """Power-level changes, kicks, bans, redactions of others' events and
    other state events (D3: what a suspended admin may not do).

    `org.groupreg.room` is not one: the registration rule (B4) lets it
    through only with exactly the registry's facts, so it is the module
    publishing a change the registry already made (whose own admin acts
    are refused before the registry changes), not the sender's act."""
    if facts.event_type == ROOM_STATE:
        return False
    if facts.event_type == MEMBER:
        # Acting on someone else: kick (leave), ban, unban. Invites are
        # what any member may do and are not an admin right.
        return facts.state_key != facts.sender and facts.membership in ("leave", "ban")
    if facts.event_type == REDACTION:
        return (
            facts.redacted_sender is not None and facts.redacted_sender != facts.sender
        )
    return facts.is_state


def _opened_under(restriction: Restriction, facts: EventFacts) -> bool:
    """A direct chat the user opened while restricted: they keep the
    creator's rights there while it stays a two-person chat."""
    return (
        facts.creator == facts.sender
        and facts.created_ts is not None
        and facts.created_ts >= restriction.start
        and facts.members <= 2
    )


#: `format_time(ms)`: how a time reads in a message.
FormatTime = Callable[[int], Any]


def room_refusal(
    index: SanctionsInForce, facts: EventFacts, now_ms: int, format_time: FormatTime
) -> Refusal | None:
    """D2: a closed room refuses everything, a suspended one everything but
    leaving; the platform's own events (the notice bot's, checked by the
    caller) pass."""
    if facts.is_self_leave:
        return None
    if index.room_closed(facts.room_id):
        return Refusal(Reason.ROOM_CLOSED)
    suspension = index.room_suspension(facts.room_id, now_ms)
    if suspension is not None and suspension.until is not None:
        return Refusal(Reason.ROOM_SUSPENDED, {"until": format_time(suspension.until)})
    return None


def suspended_admin(
    index: SanctionsInForce, user_id: str, now_ms: int, format_time: FormatTime
) -> Refusal | None:
    """D3: `ADMIN_SUSPENDED` for an admin act outside Matrix events (the
    client API's class moves and category changes), None if not suspended."""
    restriction = index.admin_suspension(user_id, now_ms)
    if restriction is None:
        return None
    return Refusal(
        Reason.ADMIN_SUSPENDED,
        {"until": format_time(restriction.until) if restriction.until else "-"},
    )


def admin_refusal(
    index: SanctionsInForce, facts: EventFacts, now_ms: int, format_time: FormatTime
) -> Refusal | None:
    """D3: a suspended admin's admin actions are refused in every room,
    also where they are a room v12 creator (whose power no event can
    lower); a direct chat they open meanwhile stays a direct chat."""
    restriction = index.admin_suspension(facts.sender, now_ms)
    if restriction is None:
        return None
    refusal = Refusal(
        Reason.ADMIN_SUSPENDED,
        {"until": format_time(restriction.until) if restriction.until else "-"},
    )
    if _grows_direct_chat(restriction, facts):
        return refusal
    if is_admin_action(facts) and not _opened_under(restriction, facts):
        return refusal
    return None


def _grows_direct_chat(restriction: Restriction, facts: EventFacts) -> bool:
    """An invite that would make a chat opened under a restriction a group."""
    return (
        facts.event_type == MEMBER
        and facts.membership == "invite"
        and facts.creator == facts.sender
        and facts.created_ts is not None
        and facts.created_ts >= restriction.start
        and facts.members >= 2
    )


def creation_refusal(
    index: SanctionsInForce,
    user_id: str,
    is_direct: bool,
    now_ms: int,
    format_time: FormatTime,
) -> Refusal | None:
    """D3: no new groups under revoke_creation or suspend_admin; direct
    chats are still allowed."""
    if is_direct:
        return None
    if index.creation_revocation(user_id, now_ms) is not None:
        return Refusal(Reason.CREATION_REVOKED)
    restriction = index.admin_suspension(user_id, now_ms)
    if restriction is not None:
        return Refusal(
            Reason.ADMIN_SUSPENDED,
            {"until": format_time(restriction.until) if restriction.until else "-"},
        )
    return None


def revoked_chat_growth(
    index: SanctionsInForce, facts: EventFacts, now_ms: int
) -> Refusal | None:
    """D3: a direct chat opened under revoke_creation cannot be grown into
    a group by its opener."""
    restriction = index.creation_revocation(facts.sender, now_ms)
    if restriction is not None and _grows_direct_chat(restriction, facts):
        return Refusal(Reason.CREATION_REVOKED)
    return None


def is_direct_request(room_config: Mapping[str, Any]) -> bool:
    """A createRoom body for a direct chat: `is_direct` and one invitee at
    most (B1: direct chats are two people, not groups)."""
    invites = room_config.get("invite") or []
    third_party = room_config.get("invite_3pid") or []
    return (
        room_config.get("is_direct") is True
        and isinstance(invites, list)
        and len(invites) + len(third_party) <= 1
    )


def credit_refusal(
    config: CreditConfig, score: int, band: CreditBand, gate: str
) -> Refusal | None:
    """D1: the user's band denies `gate`."""
    if band.allows(gate):
        return None
    return Refusal(
        Reason.CREDIT_TOO_LOW,
        {
            "score": score,
            "minimum": config.floor_allowing(gate) or config.maximum,
            "action": GATE_ACTIONS[gate],
        },
    )


def credit_gate_of(facts: EventFacts) -> str | None:
    """Which credit gate an event passes: admin actions need `admin` (but
    not in a direct chat the user opened), anything else but membership
    and redactions needs `posting`."""
    if is_admin_action(facts):
        if facts.creator == facts.sender and facts.members <= 2:
            return None
        return "admin"
    if facts.is_membership or facts.event_type == REDACTION:
        return None
    return "posting"

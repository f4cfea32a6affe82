"""D2/D3/D5: the per-event rules of sanctions in force, and statements of
reasons, without Synapse."""

from __future__ import annotations

from typing import Any

import pytest

from synapse_groupreg.config import Language, parse_config
from synapse_groupreg.reasons import Reason
from synapse_groupreg.sanctions.enforcement import (
    EventFacts,
    SanctionsInForce,
    admin_refusal,
    creation_refusal,
    credit_gate_of,
    is_admin_action,
    is_direct_request,
    revoked_chat_growth,
    room_refusal,
)
from synapse_groupreg.sanctions.statements import (
    Effects,
    Scope,
    Statements,
    display_duration,
    display_time,
)
from synapse_groupreg.store.sanctions import SanctionRow

NOW = 10_000_000


def row(
    n: int,
    action: str,
    target: str,
    expires: int | None = None,
    created: int = 0,
    **kw: Any,
) -> SanctionRow:
    values: dict[str, Any] = {
        "id": n,
        "scope": "user"
        if action in ("suspend_admin", "revoke_creation", "lower_credit")
        else "room",
        "target": target,
        "action": action,
        "reason": "刷屏",
        "rule": "Art. 11",
        "automated": False,
        "actor": "@admin:hs",
        "created_ts": created,
        "expires_ts": expires,
        "deadline_ts": None,
        "amount": None,
        "evidence": {},
        "details": {},
        "lifted_ts": None,
        "lifted_by": None,
        "lift_reason": None,
        "reversed": False,
        "expiry_noticed_ts": None,
    }
    values.update(kw)
    return SanctionRow(**values)


def facts(event_type: str, sender: str = "@a:hs", **kw: Any) -> EventFacts:
    kw.setdefault("state_key", None)
    kw.setdefault("membership", None)
    return EventFacts(event_type=event_type, sender=sender, room_id="!r", **kw)


def fmt(ms: int) -> str:
    return f"t{ms}"


MESSAGE = facts("m.room.message", state_key=None, membership=None)


def test_suspension_refuses_all_but_leaving_and_ends_on_time() -> None:
    """D2 suspend_posting: events refused until the expiry, computed at
    check time; leaving is always allowed."""
    index = SanctionsInForce([row(1, "suspend_posting", "!r", expires=NOW + 5)])
    refusal = room_refusal(index, MESSAGE, NOW, fmt)
    assert refusal is not None and refusal.reason is Reason.ROOM_SUSPENDED
    assert refusal.params["until"] == f"t{NOW + 5}"
    leave = facts("m.room.member", state_key="@a:hs", membership="leave")
    assert room_refusal(index, leave, NOW, fmt) is None
    assert room_refusal(index, MESSAGE, NOW + 5, fmt) is None


def test_the_longest_suspension_wins() -> None:
    index = SanctionsInForce(
        [
            row(1, "suspend_posting", "!r", expires=NOW + 5),
            row(2, "suspend_posting", "!r", expires=NOW + 50),
        ]
    )
    refusal = room_refusal(index, MESSAGE, NOW + 10, fmt)
    assert refusal is not None and refusal.params["until"] == f"t{NOW + 50}"


def test_a_closed_room_refuses_joins_and_events() -> None:
    """D2 close."""
    index = SanctionsInForce([row(1, "close", "!r")])
    join = facts("m.room.member", state_key="@a:hs", membership="join")
    for event in (MESSAGE, join):
        refusal = room_refusal(index, event, NOW, fmt)
        assert refusal is not None and refusal.reason is Reason.ROOM_CLOSED


@pytest.mark.parametrize(
    ("event", "admin"),
    [
        (facts("m.room.power_levels", state_key=""), True),
        (facts("m.room.name", state_key=""), True),
        (facts("m.room.member", state_key="@b:hs", membership="leave"), True),
        (facts("m.room.member", state_key="@b:hs", membership="ban"), True),
        (facts("m.room.member", state_key="@b:hs", membership="invite"), False),
        (facts("m.room.member", state_key="@a:hs", membership="join"), False),
        (facts("m.room.redaction", redacted_sender="@b:hs"), True),
        (facts("m.room.redaction", redacted_sender="@a:hs"), False),
        (facts("m.room.message"), False),
    ],
)
def test_admin_actions(event: EventFacts, admin: bool) -> None:
    """D3: power levels, kicks, bans, redacting others, other state."""
    assert is_admin_action(event) is admin


def test_suspended_admin_keeps_a_direct_chat_opened_meanwhile() -> None:
    """D3: admin actions refused everywhere, but a two-person chat the user
    opened during the suspension works, and cannot grow into a group."""
    index = SanctionsInForce(
        [row(1, "suspend_admin", "@a:hs", expires=NOW + 100, created=NOW)]
    )
    name = facts(
        "m.room.name", state_key="", creator="@a:hs", created_ts=NOW - 1, members=5
    )
    refusal = admin_refusal(index, name, NOW + 1, fmt)
    assert refusal is not None and refusal.reason is Reason.ADMIN_SUSPENDED
    own_dm = facts(
        "m.room.name", state_key="", creator="@a:hs", created_ts=NOW + 1, members=2
    )
    assert admin_refusal(index, own_dm, NOW + 1, fmt) is None
    third = facts(
        "m.room.member",
        state_key="@c:hs",
        membership="invite",
        creator="@a:hs",
        created_ts=NOW + 1,
        members=2,
    )
    assert admin_refusal(index, third, NOW + 1, fmt) is not None
    assert admin_refusal(index, name, NOW + 100, fmt) is None


def test_creation_refusals_spare_direct_chats() -> None:
    """D3 revoke_creation / suspend_admin: no new groups, direct chats ok."""
    index = SanctionsInForce([row(1, "revoke_creation", "@a:hs")])
    refusal = creation_refusal(index, "@a:hs", False, NOW, fmt)
    assert refusal is not None and refusal.reason is Reason.CREATION_REVOKED
    assert creation_refusal(index, "@a:hs", True, NOW, fmt) is None
    grow = facts(
        "m.room.member",
        state_key="@c:hs",
        membership="invite",
        creator="@a:hs",
        created_ts=NOW,
        members=2,
    )
    assert revoked_chat_growth(index, grow, NOW) is not None


def test_direct_requests() -> None:
    assert is_direct_request({"is_direct": True, "invite": ["@b:hs"]})
    assert not is_direct_request({"is_direct": True, "invite": ["@b:hs", "@c:hs"]})
    assert not is_direct_request({"invite": ["@b:hs"]})


def test_credit_gates() -> None:
    """D1: messages need `posting`, admin actions `admin`, except in the
    user's own two-person chat."""
    assert credit_gate_of(MESSAGE) == "posting"
    assert credit_gate_of(facts("m.room.name", state_key="")) == "admin"
    own = facts("m.room.name", state_key="", creator="@a:hs", members=2)
    assert credit_gate_of(own) is None
    join = facts("m.room.member", state_key="@a:hs", membership="join")
    assert credit_gate_of(join) is None


def test_times_and_durations_read_well() -> None:
    assert display_time(0, 480) == "1970-01-01 08:00:00 UTC+08:00"
    assert display_duration(3000) == ("3 秒", "3 seconds")
    assert display_duration(7 * 86_400_000) == ("7 天", "7 days")
    assert display_duration(3_600_000) == ("1 小时", "1 hour")


@pytest.mark.parametrize("language", list(Language))
def test_statement_states_everything_d5_asks(language: Language) -> None:
    """D5: action, scope, duration, facts, rule, automated or not, appeal,
    in the configured language(s)."""
    config = parse_config({"profile": "cn", "language": language.value}).sanctions
    statements = Statements(config, language)
    sanction = row(17, "suspend_admin", "@a:hs", expires=86_400_000, created=0)
    text = statements.statement(sanction, Scope.user("@a:hs"), Effects())
    zh = ("S17", "暂停管理权限", "@a:hs", "1 天", "刷屏", "Art. 11", "人工", "申诉")
    en = (
        "S17",
        "suspension of group admin rights",
        "@a:hs",
        "1 day",
        "刷屏",
        "Art. 11",
        "administrator",
        "Appeal",
    )
    for expected in zh if language is not Language.EN else en:
        assert expected in text, (expected, text)
    if language is Language.BILINGUAL:
        for expected in en:
            assert expected in text
    automated = row(
        18,
        "lower_credit",
        "@a:hs",
        automated=True,
        amount=5,
        evidence={"automatic_rule": "three_blocks"},
    )
    effects = Effects(100, 55, "poor", ("admin", "create_groups"))
    text = statements.statement(automated, Scope.user("@a:hs"), effects)
    assert "three_blocks" in text
    assert "100" in text and "55" in text and "poor" in text
    assert ("create groups" if language is Language.EN else "创建群组") in text

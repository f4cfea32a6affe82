"""The dispatcher's duties (G4, G6, H4), over fake rules and a fake API: it
runs a stage's rules in order, lets the notice bot through, answers a fault
by the check's fail mode, never lets a broken audit or consequence turn a
refusal into a 500, applies observe mode, and registers each Synapse
callback once. Synapse itself is not at stake here; the integration tests
drive the same dispatcher through real homeservers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from synapse.api.errors import SynapseError
from synapse.api.room_versions import RoomVersions
from synapse.events import EventBase, make_event_from_dict
from synapse.module_api import NOT_SPAM
from synapse.types import create_requester

from synapse_groupreg.config import parse_config
from synapse_groupreg.dispatch import (
    BadRequest,
    CreationFacts,
    Dispatcher,
    EventFacts,
    Guard,
    Reactions,
    Rule,
    RuleBook,
    Stage,
)
from synapse_groupreg.metrics import WOULD_REFUSE
from synapse_groupreg.reasons import Reason, Refusal

BOT = "@groupreg:hs"


class _Api:
    def __init__(self) -> None:
        self.spam: dict[str, Any] = {}
        self.rules: dict[str, Any] = {}
        self.calls = 0

    def is_mine(self, user_id: str) -> bool:
        return str(user_id).endswith(":hs")

    def should_run_background_tasks(self) -> bool:
        return True

    def register_spam_checker_callbacks(self, **callbacks: Any) -> None:
        self.calls += 1
        self.spam.update({k: v for k, v in callbacks.items() if v is not None})

    def register_third_party_rules_callbacks(self, **callbacks: Any) -> None:
        self.calls += 1
        self.rules.update({k: v for k, v in callbacks.items() if v is not None})

    def register_account_validity_callbacks(self, **callbacks: Any) -> None:
        self.calls += 1


class _Audit:
    def __init__(self, broken: bool = False) -> None:
        self.entries: list[tuple[str, str, str, dict[str, Any]]] = []
        self.broken = broken

    async def record(
        self, actor: str, action: str, target: str, details: dict[str, Any]
    ) -> None:
        if self.broken:
            raise RuntimeError("audit table is gone")
        self.entries.append((actor, action, target, details))


class _Sources:
    async def room(self, room_id: str) -> None:
        return None

    async def state(self, room_id: str) -> dict[Any, Any]:
        return {}

    async def event(self, event_id: str) -> None:
        return None


def _event(sender: str = "@a:hs", event_type: str = "m.room.message") -> EventBase:
    return make_event_from_dict(
        {
            "type": event_type,
            "room_id": "!r:hs",
            "sender": sender,
            "content": {"body": "x"},
            "auth_events": [],
            "prev_events": [],
            "depth": 1,
            "origin_server_ts": 1,
            "hashes": {"sha256": "x"},
            "signatures": {},
        },
        RoomVersions.V10,
    )


def _dispatcher(
    rules: dict[Stage, list[Rule[Any]]],
    config: dict[str, Any] | None = None,
    audit: _Audit | None = None,
) -> tuple[Dispatcher, _Api, _Audit]:
    parsed = parse_config({"profile": "generic", **(config or {})})
    api, audit = _Api(), audit or _Audit()
    order = {stage: ("test",) for stage in Stage}
    dispatcher = Dispatcher(
        cast(Any, api),
        RuleBook.build(order, {"test": rules}),
        Reactions(),
        Guard(parsed.fail, "hs"),
        parsed.enforcement,
        parsed.language,
        lambda user_id: user_id == BOT,
        cast(Any, audit),
        _Sources(),
        _no_removal,
    )
    return dispatcher, api, audit


async def _no_removal(room_id: str, user_id: str, reason: str) -> bool:
    raise AssertionError("nobody is removed here")


def _refusing(reason: Reason = Reason.ROOM_FULL) -> Callable[[Any], Any]:
    async def decide(facts: Any) -> Refusal:
        return Refusal(reason, {"limit": 3})

    return decide


async def _broken(facts: Any) -> Refusal | None:
    raise RuntimeError("table is gone")


async def _allow(facts: Any) -> None:
    return None


async def test_first_refusal_wins_and_the_rest_do_not_run() -> None:
    ran: list[str] = []

    def rule(name: str, refuse: bool) -> Rule[Any]:
        async def decide(facts: Any) -> Refusal | None:
            ran.append(name)
            return Refusal(Reason.ROOM_FULL, {"limit": 1}) if refuse else None

        return Rule(name, "caps", decide)

    dispatcher, _, _ = _dispatcher(
        {Stage.EVENT: [rule("a", False), rule("b", True), rule("c", True)]}
    )
    answer: Any = await dispatcher.check_event_for_spam(_event())
    assert answer != NOT_SPAM and answer[1]["org.groupreg.reason"] == "ROOM_FULL"
    assert ran == ["a", "b"]


async def test_fail_closed_refuses_with_module_unavailable_and_open_allows() -> None:
    """G6: a rule that raises answers by its check's fail mode."""
    for mode, expected in (("closed", "MODULE_UNAVAILABLE"), ("open", None)):
        dispatcher, _, _ = _dispatcher(
            {Stage.EVENT: [Rule("broken", "content", _broken)]},
            {"fail": {"content": mode}},
        )
        answer: Any = await dispatcher.check_event_for_spam(_event())
        if expected is None:
            assert answer is NOT_SPAM
        else:
            assert answer[1]["org.groupreg.reason"] == expected


async def test_a_broken_audit_or_consequence_never_becomes_a_500() -> None:
    """G6: recording a refusal runs inside the guard: the refusal stands."""

    async def decide(facts: Any) -> Refusal:
        async def then() -> None:
            raise RuntimeError("hit buffer is gone")

        return Refusal(Reason.ROOM_FULL, {"limit": 3}, then=then)

    dispatcher, _, _ = _dispatcher(
        {Stage.MEMBER: [Rule("caps", "caps", decide, audit="room.refused")]},
        audit=_Audit(broken=True),
    )
    event = _event(event_type="m.room.member")
    with pytest.raises(SynapseError) as refused:
        await dispatcher.check_event_allowed(event, {})
    assert refused.value.code == 403
    assert refused.value.error_dict(None)["org.groupreg.reason"] == "ROOM_FULL"


async def test_an_enforced_refusal_is_audited_and_its_consequence_runs() -> None:
    done: list[str] = []

    async def decide(facts: Any) -> Refusal:
        async def then() -> None:
            done.append("recorded")

        return Refusal(Reason.ROOM_FULL, {"limit": 3}, then=then)

    dispatcher, _, audit = _dispatcher(
        {Stage.EVENT: [Rule("caps", "caps", decide, audit="room.refused")]}
    )
    await dispatcher.check_event_for_spam(_event())
    assert done == ["recorded"]
    assert audit.entries == [
        ("@a:hs", "room.refused", "!r:hs", {"reason": "ROOM_FULL", "limit": 3})
    ]


async def test_observe_mode_lets_it_through_counts_and_records_nothing() -> None:
    """H4: a check in observe mode decides, counts what it would refuse,
    and the action goes through with no consequence and no audit entry."""
    done: list[str] = []

    async def decide(facts: Any) -> Refusal:
        async def then() -> None:
            done.append("recorded")

        return Refusal(Reason.ROOM_FULL, {"limit": 3}, then=then)

    dispatcher, _, audit = _dispatcher(
        {Stage.EVENT: [Rule("caps", "caps", decide, audit="room.refused")]},
        {"enforcement": {"default": "enforce", "caps": "observe"}},
    )
    counter = WOULD_REFUSE.labels("caps", "ROOM_FULL", "hs")
    before = counter._value.get()
    assert await dispatcher.check_event_for_spam(_event()) is NOT_SPAM
    assert counter._value.get() == before + 1
    assert done == [] and audit.entries == []


async def test_observe_mode_goes_on_to_rules_that_enforce() -> None:
    dispatcher, _, _ = _dispatcher(
        {
            Stage.EVENT: [
                Rule("observed", "caps", _refusing(Reason.ROOM_FULL)),
                Rule("enforced", "sanctions", _refusing(Reason.ROOM_CLOSED)),
            ]
        },
        {"enforcement": {"default": "enforce", "caps": "observe"}},
    )
    answer: Any = await dispatcher.check_event_for_spam(_event())
    assert answer[1]["org.groupreg.reason"] == "ROOM_CLOSED"


async def test_the_notice_bot_passes_unless_a_rule_asks_for_it() -> None:
    dispatcher, _, _ = _dispatcher(
        {Stage.EVENT: [Rule("everyone", "caps", _refusing())]}
    )
    assert await dispatcher.check_event_for_spam(_event(BOT)) is NOT_SPAM
    dispatcher, _, _ = _dispatcher(
        {Stage.EVENT: [Rule("bot too", "caps", _refusing(), bot=True)]}
    )
    assert await dispatcher.check_event_for_spam(_event(BOT)) != NOT_SPAM


async def test_remote_senders_meet_only_rules_that_judge_them() -> None:
    dispatcher, _, _ = _dispatcher({Stage.EVENT: [Rule("local", "caps", _refusing())]})
    assert await dispatcher.check_event_for_spam(_event("@x:other")) is NOT_SPAM
    dispatcher, _, _ = _dispatcher(
        {Stage.EVENT: [Rule("remote", "caps", _refusing(), remote=True)]}
    )
    assert await dispatcher.check_event_for_spam(_event("@x:other")) != NOT_SPAM


async def test_a_bad_request_passes_through_unchanged() -> None:
    """A 400 naming a field is the rule's answer, not a fault."""

    async def bad(facts: CreationFacts) -> None:
        raise BadRequest(SynapseError(400, "'org.groupreg.class' must be a string"))

    dispatcher, _, _ = _dispatcher(
        {Stage.CREATE_REQUEST: [Rule("placement", "rooms", bad)]}
    )
    with pytest.raises(SynapseError) as refused:
        await dispatcher.on_create_room(create_requester("@a:hs"), {}, False)
    assert refused.value.code == 400


async def test_each_callback_is_registered_once_and_only_where_rules_exist() -> None:
    dispatcher, api, _ = _dispatcher(
        {
            Stage.EVENT: [Rule("a", "caps", _allow), Rule("b", "content", _allow)],
            Stage.MEMBER: [Rule("c", "caps", _allow)],
        }
    )
    dispatcher.register()
    assert set(api.spam) == {"check_event_for_spam"}
    assert set(api.rules) == {"check_event_allowed", "on_new_event"}
    assert api.calls == 2  # one call per kind of callback


async def test_other_event_types_do_not_reach_the_member_rules() -> None:
    """Only membership and registration events are decided in
    check_event_allowed; everything else belongs to the event stage."""
    ran: list[str] = []

    async def decide(facts: EventFacts) -> None:
        ran.append(facts.type)

    dispatcher, _, _ = _dispatcher({Stage.MEMBER: [Rule("m", "caps", decide)]})
    assert await dispatcher.check_event_allowed(_event(), {}) == (True, None)
    assert ran == []

"""E3, E4: decisions apply sanctions through the sanctions code; the
reporter and the sanctioned user each hear from the notice bot; an appeal
decided by a human reverses the sanction, restores the credit it took, and
is recorded in the audit log."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import nio
import pytest

from tests.harness.client import REASON_FIELD, Http, clients, reason_of
from tests.harness.complaints import (
    ADMIN,
    CLIENT,
    case_of,
    report_event,
    report_user,
    room_with_message,
    wait_for_cases,
)
from tests.harness.dm import bot_notices
from tests.harness.homeserver import Homeserver, User
from tests.integration.conftest import HomeserverFactory

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "complaints": {"poll_interval": "200ms"},
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(CONFIG)


async def _score(hs: Homeserver, user: User) -> int:
    status, body = await Http(hs, user.access_token).get(f"{CLIENT}/credit")
    assert status == 200, body
    return int(body["score"])


async def _decide(
    hs: Homeserver, admin: User, case_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    status, answer = await Http(hs, admin.access_token).post(
        f"{ADMIN}/complaints/{case_id}/decision", body
    )
    assert status == 200, answer
    return dict(answer)


async def test_report_decide_notify_appeal_reverse(hs: Homeserver) -> None:
    """E1-E4 end to end: a message reported with Synapse's own endpoint
    becomes a case; the admin decides with a sanction on its sender; the
    reporter reads the outcome and the sender the statement of reasons in
    the notice bot's direct chats (nio sync); the sender appeals; the admin
    reverses it, which lifts the sanction and gives the credit back; the
    appellant reads the outcome; each step is in the audit log."""
    reporter, poster = hs.register(), hs.register()
    admin = hs.register(admin=True)
    room_id, event_id = await room_with_message(
        hs, reporter, poster, text="加微信领取内部消息"
    )
    await report_event(hs, reporter, room_id, event_id, "诈骗 scam")
    http = Http(hs, admin.access_token)
    case = await case_of(http, event_id)
    assert (case["subject"], case["status"]) == (poster.user_id, "received")
    before = await _score(hs, poster)

    decided = await _decide(
        hs,
        admin,
        case["case_id"],
        {
            "outcome": "violation",
            "note": "Fraudulent recruitment message.",
            "sanctions": [{"action": "lower_credit", "amount": 20}],
            "record_violation": False,
        },
    )
    [applied] = decided["case"]["sanctions"]
    sanction_id = applied["sanction_id"]
    assert (applied["action"], applied["target"]) == ("lower_credit", poster.user_id)
    assert decided["notified"] == [reporter.user_id]
    assert await _score(hs, poster) == before - 20

    async with clients(hs, reporter, poster) as (reporter_client, poster_client):
        outcome = await bot_notices(hs, reporter_client, case["case_id"])
        assert any("Fraudulent recruitment" in n for n in outcome)
        statement = await bot_notices(hs, poster_client, sanction_id)
        assert any("appeal" in n.lower() for n in statement)

        # The sanctioned user appeals (E4); the appeal is a case of its own.
        status, appeal = await Http(hs, poster.access_token).post(
            f"{CLIENT}/appeals",
            {"sanction_id": sanction_id, "text": "It was a joke between friends."},
        )
        assert status == 200, appeal
        assert appeal["folded"] is False
        [appeal_case] = await wait_for_cases(
            http, "kind=appeal&status=received", lambda cases: bool(cases)
        )
        assert appeal_case["case_id"] == appeal["case_id"]
        assert (appeal_case["target_type"], appeal_case["target"]) == (
            "sanction",
            sanction_id,
        )
        status, refused = await Http(hs, reporter.access_token).post(
            f"{CLIENT}/appeals", {"sanction_id": sanction_id, "text": "me too"}
        )
        assert (status, refused[REASON_FIELD]) == (403, "APPEAL_NOT_AFFECTED")

        reversed_ = await _decide(
            hs,
            admin,
            appeal["case_id"],
            {"outcome": "reversed", "note": "Context shows it was not fraud."},
        )
        assert reversed_["case"]["sanctions"][0]["reversed"] is True
        assert reversed_["notified"] == [poster.user_id]
        assert await _score(hs, poster) == before
        status, sanction = await http.get(f"{ADMIN}/sanctions/{sanction_id}")
        assert (sanction["status"], sanction["reversed"]) == ("lifted", True)
        told = await bot_notices(hs, poster_client, appeal["case_id"])
        assert any("reversed" in n for n in told)

    status, page = await http.get(f"{ADMIN}/audit?action=sanction.reverse")
    assert any(e["details"]["sanction_id"] == sanction_id for e in page["entries"]), (
        page
    )
    status, page = await http.get(f"{ADMIN}/audit?target={appeal['case_id']}")
    assert [e["action"] for e in page["entries"]] == ["appeal.open", "appeal.decide"]
    status, again = await Http(hs, poster.access_token).post(
        f"{CLIENT}/appeals", {"sanction_id": sanction_id, "text": "once more"}
    )
    assert (status, again[REASON_FIELD]) == (403, "APPEAL_ALREADY_DECIDED")
    assert appeal["case_id"] in again["error"]


async def test_room_sanction_defaults_to_the_reported_room(hs: Homeserver) -> None:
    """E3: a group sanction without a target hits the room of the reported
    message: posting there is suspended (ROOM_SUSPENDED)."""
    reporter, poster, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, event_id = await room_with_message(hs, reporter, poster)
    await report_event(hs, reporter, room_id, event_id, "gambling")
    case = await case_of(Http(hs, admin.access_token), event_id)
    decided = await _decide(
        hs,
        admin,
        case["case_id"],
        {
            "outcome": "violation",
            "note": "Betting pool run in the group.",
            "sanctions": [{"action": "suspend_posting", "duration": "1h"}],
            "record_violation": False,
        },
    )
    [applied] = decided["case"]["sanctions"]
    assert (applied["action"], applied["target"]) == ("suspend_posting", room_id)
    async with clients(hs, poster) as (client,):
        refused = await client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": "still here?"}
        )
        assert await reason_of(refused) == "ROOM_SUSPENDED"


async def test_an_upheld_complaint_is_a_violation_of_its_subject(
    hs: Homeserver,
) -> None:
    """E3, D1: upholding a complaint about a user records a `complaint_upheld`
    violation of that user, whose penalty (10 points by default) comes as an
    automated lower_credit sanction with its own statement."""
    reporter, target, admin = hs.register(), hs.register(), hs.register(admin=True)
    await report_user(hs, reporter, target.user_id, "sends threats")
    case = await case_of(Http(hs, admin.access_token), target.user_id)
    before = await _score(hs, target)
    decided = await _decide(
        hs, admin, case["case_id"], {"outcome": "violation", "note": "Threats."}
    )
    [penalty] = decided["case"]["sanctions"]
    assert penalty["action"] == "lower_credit"
    assert (penalty["automatic"], penalty["violation"]) == (True, "complaint_upheld")
    assert await _score(hs, target) == before - 10
    async with clients(hs, target) as (client,):
        await bot_notices(hs, client, penalty["sanction_id"])


async def test_a_refused_first_sanction_applies_nothing(hs: Homeserver) -> None:
    """E3: when the sanctions code refuses the first sanction, the answer is
    a 400 naming it and the case stays open; a later refusal leaves the
    decision standing with what was applied."""
    reporter, poster, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, event_id = await room_with_message(hs, reporter, poster)
    await report_event(hs, reporter, room_id, event_id, "spam")
    http = Http(hs, admin.access_token)
    case = await case_of(http, event_id)
    ghost = f"@nobody_here:{hs.server_name}"
    status, body = await http.post(
        f"{ADMIN}/complaints/{case['case_id']}/decision",
        {
            "outcome": "violation",
            "note": "spam",
            "sanctions": [{"action": "revoke_creation", "target": ghost}],
        },
    )
    assert (status, body["field"]) == (400, "sanctions[0].target"), body
    status, still = await http.get(f"{ADMIN}/complaints/{case['case_id']}")
    assert (still["status"], still["sanctions"]) == ("received", [])
    decided = await _decide(
        hs,
        admin,
        case["case_id"],
        {
            "outcome": "violation",
            "note": "spam",
            "record_violation": False,
            "sanctions": [
                {"action": "warn", "deadline": "3d"},
                {"action": "revoke_creation", "target": ghost},
            ],
        },
    )
    assert [s["action"] for s in decided["case"]["sanctions"]] == ["warn"]
    [error] = decided["sanction_errors"]
    assert error["field"] == "sanctions[1].target"


async def test_appeals_close_after_their_window(
    homeservers: HomeserverFactory,
) -> None:
    """E4: an appeal comes within `sanctions.appeal.window` of the sanction
    (180 days by default; 1 s here), else APPEAL_WINDOW_CLOSED."""
    hs = homeservers({**CONFIG, "sanctions": {"appeal": {"window": "1s"}}})
    admin, user = hs.register(admin=True), hs.register()
    status, sanction = await Http(hs, admin.access_token).post(
        f"{ADMIN}/users/{user.user_id}/sanctions",
        {"action": "revoke_creation", "reason": "spam groups"},
    )
    assert status == 200, sanction
    http = Http(hs, user.access_token)
    deadline = time.monotonic() + 30
    while True:
        status, body = await http.post(
            f"{CLIENT}/appeals",
            {"sanction_id": sanction["sanction_id"], "text": "too late?"},
        )
        if status == 403 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert (status, body[REASON_FIELD]) == (403, "APPEAL_WINDOW_CLOSED")
    assert sanction["sanction_id"] in body["error"]


async def test_a_review_hit_upheld_costs_its_category_penalty(
    homeservers: HomeserverFactory,
) -> None:
    """E3, C2, D1: a content-filter review case decided as a violation
    charges the keyword category's own credit penalty, as the filter does
    for refusals."""
    samples = Path(__file__).resolve().parents[2] / "config" / "keywords"
    hs = homeservers(
        {
            **CONFIG,
            "content": {
                "categories": {
                    "rumour_fraud": {
                        "action": "review",
                        "credit_penalty": 7,
                        "words_file": str(samples / "rumour_fraud.txt"),
                    }
                }
            },
        }
    )
    poster, admin = hs.register(), hs.register(admin=True)
    async with clients(hs, poster) as (client,):
        created = await client.room_create(name="group")
        assert isinstance(created, nio.RoomCreateResponse), created
        sent = await client.room_send(
            created.room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": "刷单返利，日赚千元"},
        )
        assert isinstance(sent, nio.RoomSendResponse), sent
    case = await case_of(Http(hs, admin.access_token), sent.event_id)
    before = await _score(hs, poster)
    decided = await _decide(
        hs, admin, case["case_id"], {"outcome": "violation", "note": "Click farming."}
    )
    [penalty] = decided["case"]["sanctions"]
    assert penalty["violation"] == "prohibited_content:rumour_fraud"
    assert await _score(hs, poster) == before - 7
    assert decided["notified"] == []  # the filter is nobody to tell

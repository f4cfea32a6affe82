"""E1: every report becomes a case: Synapse's own report endpoints (what
Element's Report button calls), the module's complaint endpoint with a
category; the same target reported twice is one case with two reporters;
reporters cannot flood; reports are taken in exactly once, across restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nio
import pytest

from tests.harness.client import REASON_FIELD, Http, clients
from tests.harness.complaints import (
    ADMIN,
    CLIENT,
    case_of,
    quote,
    report_event,
    report_room,
    report_user,
    room_with_message,
    wait_for_cases,
)
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "keywords"

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "complaints": {"poll_interval": "200ms", "rate": {"reports": 3, "per": "1h"}},
    "content": {
        "categories": {
            "gambling": {
                "action": "block",
                "credit_penalty": 15,
                "words_file": str(SAMPLES / "gambling.txt"),
            },
            "rumour_fraud": {
                "action": "review",
                "credit_penalty": 10,
                "words_file": str(SAMPLES / "rumour_fraud.txt"),
            },
        }
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(CONFIG)


async def test_event_report_becomes_a_case(hs: Homeserver) -> None:
    """E1: a message reported through Synapse's own endpoint becomes a case
    in the admin queue, with the sender and the message kept as evidence."""
    owner, poster, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, event_id = await room_with_message(hs, owner, poster, text="buy now!!")
    await report_event(hs, owner, room_id, event_id, "spam")
    http = Http(hs, admin.access_token)
    case = await case_of(http, event_id)
    assert case["source"] == "event_report"
    assert (case["target_type"], case["room_id"]) == ("event", room_id)
    assert case["subject"] == poster.user_id
    assert (case["category"], case["status"]) == ("other", "received")
    assert (case["reports"], case["reporters"]) == (1, 1)
    assert case["acknowledge_by"] - case["created_ts"] == 24 * 3_600_000
    assert case["decide_by"] - case["created_ts"] == 7 * 24 * 3_600_000
    assert case["overdue"] == []
    status, detail = await http.get(f"{ADMIN}/complaints/{case['case_id']}")
    assert status == 200, detail
    assert detail["evidence"]["event"]["content"]["body"] == "buy now!!"
    assert detail["evidence"]["event"]["sender"] == poster.user_id
    [report] = detail["report_list"]
    assert (report["reporter"], report["reason"]) == (owner.user_id, "spam")
    assert report["details"] == {"score": -100}
    assert [h["action"] for h in detail["history"]] == ["complaint.open"]
    # The group's registration (B4, B5) is beside it, for whoever decides.
    assert detail["group"]["code"].startswith("G")
    assert detail["group"]["creator"] == owner.user_id


async def test_room_and_user_reports_become_cases(hs: Homeserver) -> None:
    """E1: Element's room and user reports become cases too."""
    owner, reporter, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, _ = await room_with_message(hs, owner, reporter)
    await report_room(hs, reporter, room_id, "a gambling group")
    await report_user(hs, reporter, owner.user_id, "sends threats")
    http = Http(hs, admin.access_token)
    room_case = await case_of(http, room_id)
    assert (room_case["source"], room_case["target_type"]) == ("room_report", "room")
    assert room_case["subject"] == owner.user_id  # the room's creator
    user_case = await case_of(http, owner.user_id)
    assert (user_case["source"], user_case["target_type"]) == ("user_report", "user")
    assert user_case["subject"] == owner.user_id


async def test_the_same_target_twice_is_one_case(hs: Homeserver) -> None:
    """E1 (folding): two people reporting one message, one through Element
    and one through the module's endpoint, make one case, two reporters."""
    owner, second, poster = hs.register(), hs.register(), hs.register()
    admin = hs.register(admin=True)
    room_id, event_id = await room_with_message(hs, owner, second, poster)
    await report_event(hs, owner, room_id, event_id, "spam")
    http = Http(hs, admin.access_token)
    first = await case_of(http, event_id)
    status, body = await Http(hs, second.access_token).post(
        f"{CLIENT}/complaints",
        {
            "target_type": "event",
            "target": event_id,
            "category": "rumour_fraud",
            "description": "a fake lottery",
        },
    )
    assert status == 200, body
    assert body == {"case_id": first["case_id"], "folded": True}
    case = await case_of(http, event_id)
    assert (case["reports"], case["reporters"]) == (2, 2)
    status, detail = await http.get(f"{ADMIN}/complaints/{case['case_id']}")
    sources = [(r["reporter"], r["source"]) for r in detail["report_list"]]
    assert sources == [(owner.user_id, "event_report"), (second.user_id, "api")]


async def test_content_filter_review_hits_become_cases(hs: Homeserver) -> None:
    """E1, C2: a message the content filter lets through for review becomes
    a case reported by `system`, in the keyword list's category; a refusal
    (nothing left to judge) does not, and the collector passes over it."""
    poster, admin = hs.register(), hs.register(admin=True)
    async with clients(hs, poster) as (client,):
        created = await client.room_create(name="reading club")
        assert isinstance(created, nio.RoomCreateResponse), created
        refused = await client.room_send(
            created.room_id, "m.room.message", {"msgtype": "m.text", "body": "开奖"}
        )
        assert isinstance(refused, nio.RoomSendError), refused
        sent = await client.room_send(
            created.room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": "刷单返利，日赚千元"},
        )
        assert isinstance(sent, nio.RoomSendResponse), sent
    http = Http(hs, admin.access_token)
    case = await case_of(http, sent.event_id)
    assert (case["source"], case["category"]) == ("content", "rumour_fraud")
    assert (case["subject"], case["room_id"]) == (poster.user_id, created.room_id)
    status, detail = await http.get(f"{ADMIN}/complaints/{case['case_id']}")
    assert status == 200, detail
    assert detail["evidence"]["content_hit"]["category"] == "rumour_fraud"
    assert detail["evidence"]["event"]["content"]["body"] == "刷单返利，日赚千元"
    reporters = {r["reporter"] for r in detail["report_list"]}
    assert reporters == {"system"}
    assert [h["actor"] for h in detail["history"]] == ["system"]
    status, page = await http.get(f"{ADMIN}/complaints?target={quote(created.room_id)}")
    assert page["cases"] == []  # the refusal opened nothing


async def test_complaint_with_a_category_and_own_list(hs: Homeserver) -> None:
    """E1: the module's endpoint files a complaint with a category; the
    reporter lists their own complaints."""
    owner, poster = hs.register(), hs.register()
    room_id, _ = await room_with_message(hs, owner, poster)
    http = Http(hs, owner.access_token)
    status, body = await http.post(
        f"{CLIENT}/complaints",
        {
            "target_type": "room",
            "target": room_id,
            "category": "gambling",
            "description": "runs a betting pool",
        },
    )
    assert status == 200, body
    assert body["folded"] is False
    status, own = await http.get(f"{CLIENT}/complaints")
    assert status == 200, own
    [mine] = own["complaints"]
    assert mine["case_id"] == body["case_id"]
    assert (mine["target"], mine["category"]) == (room_id, "gambling")
    assert (mine["status"], mine["outcome"]) == ("received", None)
    assert mine["description"] == "runs a betting pool"
    assert "reporters" not in mine and "assignee" not in mine
    # Someone else's complaints are not in the list.
    status, theirs = await Http(hs, poster.access_token).get(f"{CLIENT}/complaints")
    assert theirs["complaints"] == []


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"target": "!r:x", "category": "other"}, "target_type", "is required"),
        (
            {"target_type": "post", "target": "!r:x", "category": "other"},
            "target_type",
            "must be one of: event, room, user",
        ),
        (
            {"target_type": "room", "target": "!r:x", "category": "spam"},
            "category",
            "must be one of: pornography, violence_terror",
        ),
        (
            {"target_type": "room", "target": "@u:x", "category": "other"},
            "target",
            "must be a room id starting with '!'",
        ),
        (
            {"target_type": "room", "target": "!nowhere:x", "category": "other"},
            "target",
            "this server knows no room",
        ),
        (
            {"target_type": "event", "target": "$nothing", "category": "other"},
            "target",
            "no such event, or you cannot see it",
        ),
        (
            {"target_type": "user", "target": "@ghost:{server}", "category": "other"},
            "target",
            "there is no user",
        ),
        (
            {
                "target_type": "user",
                "target": "@x:y",
                "category": "other",
                "description": 5,
            },
            "description",
            "must be a string",
        ),
    ],
)
async def test_bad_complaints_name_the_field(
    hs: Homeserver, body: dict[str, Any], field: str, says: str
) -> None:
    """E1: each bad input is a 400 naming the field and what is allowed."""
    user = hs.register()
    if isinstance(body.get("target"), str):
        body = {**body, "target": body["target"].replace("{server}", hs.server_name)}
    status, answer = await Http(hs, user.access_token).post(
        f"{CLIENT}/complaints", body
    )
    assert status == 400, answer
    assert answer["field"] == field
    assert says in answer["error"]


async def test_an_event_the_reporter_cannot_see_is_refused(hs: Homeserver) -> None:
    """E1: as Synapse's own endpoint does, a complaint about a message the
    reporter cannot see is refused without saying whether it exists."""
    owner, poster, outsider = hs.register(), hs.register(), hs.register()
    _, event_id = await room_with_message(hs, owner, poster)
    status, answer = await Http(hs, outsider.access_token).post(
        f"{CLIENT}/complaints",
        {"target_type": "event", "target": event_id, "category": "other"},
    )
    assert (status, answer["field"]) == (400, "target")


async def test_reporters_cannot_flood(hs: Homeserver) -> None:
    """E1 (flood): over the rate (3 an hour here) the module's endpoint
    refuses with COMPLAINT_LIMIT; a report Synapse already accepted is kept,
    its case held without deadlines until someone within their rate
    reports the same target."""
    flooder, other, admin = hs.register(), hs.register(), hs.register(admin=True)
    http = Http(hs, flooder.access_token)
    rooms = []
    for _ in range(5):
        room_id, _ = await room_with_message(hs, other)
        rooms.append(room_id)
    for room_id in rooms[:3]:
        status, body = await http.post(
            f"{CLIENT}/complaints",
            {"target_type": "room", "target": room_id, "category": "other"},
        )
        assert status == 200, body
    status, body = await http.post(
        f"{CLIENT}/complaints",
        {"target_type": "room", "target": rooms[3], "category": "other"},
    )
    assert status == 403, body
    assert body[REASON_FIELD] == "COMPLAINT_LIMIT"
    assert "at most 3 per 1h" in body["error"]

    await report_room(hs, flooder, rooms[4], "yet another")
    admin_http = Http(hs, admin.access_token)
    held = await case_of(admin_http, rooms[4])
    assert held["held"] is True
    assert (held["acknowledge_by"], held["decide_by"]) == (None, None)
    held_list = await wait_for_cases(admin_http, "held=true", lambda cases: bool(cases))
    assert held["case_id"] in [c["case_id"] for c in held_list]

    await report_room(hs, other, rooms[4], "really is bad")
    released = await wait_for_cases(
        admin_http,
        f"target={quote(rooms[4])}",
        lambda cases: bool(cases) and cases[0]["held"] is False,
    )
    assert released[0]["decide_by"] is not None
    assert released[0]["reporters"] == 2


async def test_reports_survive_a_restart_without_duplicates(
    homeservers: HomeserverFactory,
) -> None:
    """E1 (exactly once): reports taken in before a restart are not taken
    again after it; reports made after it are taken in once."""
    hs = homeservers(CONFIG)
    owner, poster, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, event_id = await room_with_message(hs, owner, poster)
    reporters = [hs.register() for _ in range(2)]
    await report_event(hs, owner, room_id, event_id, "first")
    await report_user(hs, reporters[0], poster.user_id, "before restart")
    http = Http(hs, admin.access_token)
    await wait_for_cases(http, "", lambda cases: len(cases) == 2)

    hs.restart()
    http = Http(hs, admin.access_token)
    await report_room(hs, reporters[1], room_id, "after restart")
    await report_user(hs, reporters[1], poster.user_id, "after restart too")
    cases = await wait_for_cases(http, "", lambda cases: len(cases) == 3)
    # Give the collector a few more runs to prove nothing comes twice.
    await asyncio.sleep(1)
    cases = await wait_for_cases(http, "", lambda cases: len(cases) == 3)
    by_target = {c["target"]: c for c in cases}
    assert by_target[event_id]["reports"] == 1
    assert by_target[room_id]["reports"] == 1
    assert by_target[poster.user_id]["reports"] == 2
    rows = hs.sql(
        "SELECT source, source_id, COUNT(*) FROM groupreg_complaint_reports"
        " GROUP BY source, source_id"
    )
    assert sorted((r[0], r[2]) for r in rows) == [
        ("event_report", 1),
        ("room_report", 1),
        ("user_report", 1),
        ("user_report", 1),
    ]
    # Each mark stands at the newest row of its table.
    marks = dict(hs.sql("SELECT source, last_id FROM groupreg_complaint_marks"))
    for table in ("event_reports", "room_reports", "user_reports"):
        [(newest,)] = hs.sql(f"SELECT MAX(id) FROM {table}")
        assert marks[table] == newest, table

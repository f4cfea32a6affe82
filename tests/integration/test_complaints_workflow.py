"""E2, E3: the admins' workflow: received → triaged → decided → closed,
assignment, deadlines per category, overdue cases in the API and in
Prometheus, decisions that reach the reporter through the notice bot, the
CLI over it all, and the cases in the signed export."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.harness.client import Http, clients, run_cli
from tests.harness.complaints import (
    ADMIN,
    CLIENT,
    case_of,
    room_with_message,
    wait_for_cases,
)
from tests.harness.dm import bot_notices
from tests.harness.homeserver import Homeserver, User, free_port
from tests.integration.conftest import HomeserverFactory

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "complaints": {
        "poll_interval": "200ms",
        "categories": {
            "violence_terror": {"acknowledge": "1s", "decide": "2s"},
            "gambling": {},
            "other": {},
        },
    },
}

#: Each homeserver's Prometheus endpoint, by server name.
METRICS: dict[str, str] = {}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    """A homeserver with Synapse's metrics listener as well."""
    server = homeservers(CONFIG, start=False)
    metrics_port = free_port()
    server.extra_config["enable_metrics"] = True
    server.extra_config["listeners"] = [
        *server.synapse_config()["listeners"],
        {"type": "metrics", "port": metrics_port, "bind_addresses": ["127.0.0.1"]},
    ]
    METRICS[server.server_name] = f"http://127.0.0.1:{metrics_port}/_synapse/metrics"
    server.write_config()
    return server.start()


async def _complain(
    hs: Homeserver, user: User, target: str, category: str = "gambling"
) -> str:
    status, body = await Http(hs, user.access_token).post(
        f"{CLIENT}/complaints",
        {"target_type": "room", "target": target, "category": category},
    )
    assert status == 200, body
    return str(body["case_id"])


def _gauge(hs: Homeserver, name: str, kind: str) -> float:
    with urllib.request.urlopen(METRICS[hs.server_name], timeout=10) as r:
        text = r.read().decode()
    wanted = f'{name}{{kind="{kind}",server_name="{hs.server_name}"}}'
    for line in text.splitlines():
        if line.startswith(wanted):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{wanted} not exported")


async def test_assign_decide_notify_close(hs: Homeserver) -> None:
    """E2, E3: an admin takes a case (acknowledging it), decides it, the
    reporter reads the outcome in the notice bot's direct chat and in their
    own list, and the case is closed; each step is in the audit log."""
    reporter, owner = hs.register(), hs.register()
    admin, other_admin = hs.register(admin=True), hs.register(admin=True)
    room_id, _ = await room_with_message(hs, owner)
    case_id = await _complain(hs, reporter, room_id)
    http = Http(hs, admin.access_token)

    status, body = await http.post(
        f"{ADMIN}/complaints/{case_id}/assign", {"assignee": reporter.user_id}
    )
    assert (status, body["field"]) == (400, "assignee")
    assert "not a server admin" in body["error"]
    status, case = await http.post(
        f"{ADMIN}/complaints/{case_id}/assign", {"assignee": other_admin.user_id}
    )
    assert status == 200, case
    assert (case["status"], case["assignee"]) == ("triaged", other_admin.user_id)
    assert case["acknowledged_ts"] is not None
    status, mine = await http.get(
        f"{ADMIN}/complaints?assignee={other_admin.user_id}&status=triaged"
    )
    assert [c["case_id"] for c in mine["cases"]] == [case_id]

    status, decided = await Http(hs, other_admin.access_token).post(
        f"{ADMIN}/complaints/{case_id}/decision",
        {"outcome": "no_violation", "note": "The pool is a charity raffle."},
    )
    assert status == 200, decided
    assert decided["case"]["status"] == "decided"
    assert decided["case"]["outcome"] == "no_violation"
    assert decided["case"]["decided_by"] == other_admin.user_id
    assert decided["notified"] == [reporter.user_id]

    async with clients(hs, reporter) as (client,):
        notices = await bot_notices(hs, client, case_id)
    [notice] = [n for n in notices if case_id in n]
    assert "no violation was found" in notice
    assert "charity raffle" in notice
    status, own = await Http(hs, reporter.access_token).get(f"{CLIENT}/complaints")
    [mine_view] = [c for c in own["complaints"] if c["case_id"] == case_id]
    assert (mine_view["status"], mine_view["outcome"]) == ("decided", "no_violation")
    assert mine_view["note"] == "The pool is a charity raffle."

    status, again = await http.post(
        f"{ADMIN}/complaints/{case_id}/decision",
        {"outcome": "violation", "note": "changed my mind"},
    )
    assert (status, again["errcode"]) == (409, "M_BAD_STATE")
    assert f"{case_id} is decided" in again["error"]
    status, closed = await http.post(f"{ADMIN}/complaints/{case_id}/close", {})
    assert (status, closed["status"], closed["closed_by"]) == (
        200,
        "closed",
        admin.user_id,
    )
    status, again = await http.post(f"{ADMIN}/complaints/{case_id}/close", {})
    assert status == 409 and "only a decided case can be closed" in again["error"]

    status, detail = await http.get(f"{ADMIN}/complaints/{case_id}")
    assert [h["action"] for h in detail["history"]] == [
        "complaint.open",
        "complaint.assign",
        "complaint.decide",
        "complaint.close",
    ]
    assert detail["notices"][0]["user_id"] == reporter.user_id
    assert detail["notices"][0]["sent_ts"] is not None


async def test_a_received_case_cannot_be_closed(hs: Homeserver) -> None:
    """E2: closing comes after a decision."""
    reporter, owner, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, _ = await room_with_message(hs, owner)
    case_id = await _complain(hs, reporter, room_id)
    status, body = await Http(hs, admin.access_token).post(
        f"{ADMIN}/complaints/{case_id}/close", {}
    )
    assert (status, body["errcode"]) == (409, "M_BAD_STATE")
    assert "decide it first" in body["error"]


@pytest.mark.parametrize(
    ("decision", "field", "says"),
    [
        ({"note": "x"}, "outcome", "is required"),
        ({"outcome": "reversed", "note": "x"}, "outcome", "must be one of: violation"),
        ({"outcome": "violation"}, "note", "is required"),
        ({"outcome": "violation", "note": "  "}, "note", "must not be empty"),
        (
            {"outcome": "no_violation", "note": "x", "sanctions": [{"action": "warn"}]},
            "sanctions",
            "sanctions go with the outcome 'violation'",
        ),
        (
            {"outcome": "violation", "note": "x", "sanctions": [{"action": "ban"}]},
            "sanctions[0].action",
            "must be one of: warn, suspend_posting, close",
        ),
        (
            {"outcome": "violation", "note": "x", "sanctions": [{"reason": "x"}]},
            "sanctions[0].action",
            "is required",
        ),
        (
            {
                "outcome": "violation",
                "note": "x",
                "sanctions": [{"action": "suspend_posting", "duration": "soon"}],
            },
            "sanctions[0].duration",
            "is not a duration",
        ),
        (
            {
                "outcome": "violation",
                "note": "x",
                "sanctions": [{"action": "suspend_posting"}],
            },
            "sanctions[0].duration",
            "needs a 'duration'",
        ),
        (
            {
                "outcome": "violation",
                "note": "x",
                "sanctions": [{"action": "lower_credit"}],
            },
            "sanctions[0].target",
            "this case is about a room; name the user to sanction",
        ),
        (
            {
                "outcome": "violation",
                "note": "x",
                "sanctions": [{"action": "warn", "colour": "red"}],
            },
            "sanctions[0].colour",
            "unknown field",
        ),
    ],
)
async def test_bad_decisions_name_the_field(
    hs: Homeserver, decision: dict[str, Any], field: str, says: str
) -> None:
    """E3: each bad decision is a 400 naming the field; the case stays open."""
    reporter, owner, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, _ = await room_with_message(hs, owner)
    case_id = await _complain(hs, reporter, room_id)
    http = Http(hs, admin.access_token)
    status, body = await http.post(f"{ADMIN}/complaints/{case_id}/decision", decision)
    assert status == 400, body
    assert body["field"] == field
    assert says in body["error"]
    status, case = await http.get(f"{ADMIN}/complaints/{case_id}")
    assert case["status"] == "received"


async def test_overdue_cases_are_listed_and_counted(hs: Homeserver) -> None:
    """E2, G4: a case past its category's deadline (here 1 s to acknowledge
    and 2 s to decide) is flagged in the queue and counted in the overdue
    gauge; deciding it takes it off both."""
    reporter, owner, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, _ = await room_with_message(hs, owner)
    case_id = await _complain(hs, reporter, room_id, category="violence_terror")
    on_time = await _complain(hs, reporter, (await room_with_message(hs, owner))[0])
    http = Http(hs, admin.access_token)
    overdue = await wait_for_cases(
        http,
        "overdue=true",
        lambda cases: any(
            c["case_id"] == case_id and c["overdue"] == ["acknowledge", "decide"]
            for c in cases
        ),
    )
    assert on_time not in [c["case_id"] for c in overdue]
    status, page = await http.get(f"{ADMIN}/complaints?overdue=false")
    assert on_time in [c["case_id"] for c in page["cases"]]
    assert case_id not in [c["case_id"] for c in page["cases"]]

    def gauge_counts_it() -> bool:
        return _gauge(hs, "groupreg_complaints_overdue", "complaint") >= 1

    await _eventually(gauge_counts_it)
    assert _gauge(hs, "groupreg_complaints_open", "complaint") >= 2

    status, _ = await http.post(
        f"{ADMIN}/complaints/{case_id}/decision",
        {"outcome": "invalid", "note": "not enough to act on"},
    )
    assert status == 200
    status, page = await http.get(f"{ADMIN}/complaints?overdue=true")
    assert case_id not in [c["case_id"] for c in page["cases"]]


async def _eventually(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never became true"
        await asyncio.sleep(0.2)


async def test_queue_pages_and_filters(hs: Homeserver) -> None:
    """E2: the queue pages with from/limit/next_token and refuses bad filters."""
    reporter, owner, admin = hs.register(), hs.register(), hs.register(admin=True)
    for _ in range(3):
        await _complain(hs, reporter, (await room_with_message(hs, owner))[0])
    http = Http(hs, admin.access_token)
    seen: list[str] = []
    query = "limit=2"
    while True:
        status, page = await http.get(f"{ADMIN}/complaints?{query}")
        assert status == 200, page
        assert len(page["cases"]) <= 2
        seen.extend(c["case_id"] for c in page["cases"])
        if "next_token" not in page:
            break
        query = f"limit=2&from={page['next_token']}"
    assert len(seen) == len(set(seen)) >= 3
    for query, field in (
        ("status=open", "status"),
        ("overdue=maybe", "overdue"),
        ("kind=petition", "kind"),
        ("limit=0", "limit"),
    ):
        status, body = await http.get(f"{ADMIN}/complaints?{query}")
        assert (status, body["field"]) == (400, field), query


async def test_access_and_unknown_cases(hs: Homeserver) -> None:
    """G2: the queue is for server admins; unknown cases are 404."""
    user, admin = hs.register(), hs.register(admin=True)
    status, _ = await Http(hs, user.access_token).get(f"{ADMIN}/complaints")
    assert status == 403
    status, _ = await Http(hs).get(f"{ADMIN}/complaints")
    assert status == 401
    status, _ = await Http(hs).post(f"{CLIENT}/complaints", {})
    assert status == 401
    for path in ("C999999", "nonsense"):
        status, body = await Http(hs, admin.access_token).get(
            f"{ADMIN}/complaints/{path}"
        )
        assert (status, body["errcode"]) == (404, "M_NOT_FOUND"), path


async def test_appeals_need_a_known_sanction(hs: Homeserver) -> None:
    """E4: an appeal names a sanction that exists; bad input names the field."""
    user = hs.register()
    http = Http(hs, user.access_token)
    status, body = await http.post(f"{CLIENT}/appeals", {"sanction_id": "S999999"})
    assert (status, body["field"]) == (400, "text")
    status, body = await http.post(
        f"{CLIENT}/appeals", {"sanction_id": "S999999", "text": "not me"}
    )
    assert (status, body["field"]) == (400, "sanction_id")
    assert "there is no sanction 'S999999'" in body["error"]


def _cli(hs: Homeserver, token: str, *args: str) -> Any:
    done = run_cli(hs, token, "complaints", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_cli_lists_shows_assigns_decides_and_closes(hs: Homeserver) -> None:
    """G2: `groupreg complaints` list, show, assign, decide and close."""
    reporter, owner, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, _ = await room_with_message(hs, owner)
    case_id = await _complain(hs, reporter, room_id)
    token = admin.access_token
    listed = _cli(hs, token, "list", "--status", "received", "--all")
    assert case_id in [c["case_id"] for c in listed]
    shown = _cli(hs, token, "show", case_id)
    assert shown["target"] == room_id
    assigned = _cli(hs, token, "assign", case_id)
    assert (assigned["status"], assigned["assignee"]) == ("triaged", admin.user_id)
    decided = _cli(
        hs, token, "decide", case_id, "--outcome", "invalid", "--note", "duplicate"
    )
    assert decided["case"]["outcome"] == "invalid"
    closed = _cli(hs, token, "close", case_id, "--note", "done")
    assert closed["status"] == "closed"


async def test_cases_are_in_the_signed_export(hs: Homeserver) -> None:
    """F3: the export has a `complaints` section with each case and its reports."""
    reporter, owner, admin = hs.register(), hs.register(), hs.register(admin=True)
    room_id, _ = await room_with_message(hs, owner)
    case_id = await _complain(hs, reporter, room_id)
    status, text = await Http(hs, admin.access_token).get(
        f"{ADMIN}/export?sections=complaints"
    )
    assert status == 200
    lines = [json.loads(line) for line in text.splitlines()]
    [case] = [x for x in lines if x.get("case_id") == case_id]
    assert case["type"] == "complaints"
    assert case["report_list"][0]["reporter"] == reporter.user_id
    await case_of(Http(hs, admin.access_token), room_id)

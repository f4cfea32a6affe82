"""A6, G7: four-eyes identity reveal through a real homeserver.

An identity officer asks, with a reason (202 and a request id); they may
not approve it themselves, nor may a moderator; another identity officer
approves; the requester reads the plaintext once; an approval nobody reads
in time lapses; a refusal ends a request. Every step is in the audit log;
the person is told when their identity was read (statements on here); an
officer's requests are rate-limited. The CLI drives the same steps."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness.client import REASON_FIELD, Http, clients, run_cli
from tests.harness.homeserver import Homeserver, User
from tests.harness.identity import ADMIN, bot_messages, cn_config, resident_id, verify
from tests.integration.conftest import HomeserverFactory

NAME = "欧阳明月"
NUMBER = resident_id(811, born="19791112")
OFFICERS = ("officer1", "officer2")


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Iterator[Homeserver]:
    server = homeservers(None, start=False)
    name = server.server_name
    server.module_config = cn_config(
        server.dir,
        identity={
            "reveal": {
                "approvals": 1,
                "read_within": "3s",
                "notify_subject": True,
                "rate_limit": {"count": 6, "per": "1h"},
            }
        },
        roles={
            "owner": [f"@boss:{name}"],
            "identity_officer": [f"@{o}:{name}" for o in OFFICERS],
            "moderator": [f"@mod:{name}"],
        },
    )
    server.write_config()
    yield server.start()


@pytest.fixture(scope="module")
def people(hs: Homeserver) -> dict[str, User]:
    return {name: hs.register(name) for name in ("boss", *OFFICERS, "mod", "subject")}


@pytest.fixture(scope="module")
async def subject(hs: Homeserver, people: dict[str, User]) -> User:
    status, body = await verify(
        hs, people["officer1"], people["subject"], NUMBER, name=NAME
    )
    assert status == 200, body
    return people["subject"]


def reveals(request_id: int, step: str = "") -> str:
    return f"{ADMIN}/identities/reveals/{request_id}{step}"


async def ask(hs: Homeserver, officer: User, subject: User, reason: str) -> int:
    status, body = await Http(hs, officer.access_token).post(
        f"{ADMIN}/identities/{urllib.parse.quote(subject.user_id)}/reveal",
        {"reason": reason},
    )
    assert status == 202, body
    assert (body["status"], body["approvals_needed"]) == ("pending", 1)
    assert "identity" not in body and NUMBER not in json.dumps(body)
    return int(body["request_id"])


async def audit(hs: Homeserver, owner: User, prefix: str) -> list[dict[str, Any]]:
    status, body = await Http(hs, owner.access_token).get(
        f"{ADMIN}/audit?action={prefix}&limit=1000"
    )
    assert status == 200, body
    return list(body["entries"])


async def test_request_approval_one_read(
    hs: Homeserver, people: dict[str, User], subject: User
) -> None:
    """A6, G7: request (202), self-approval refused (SECOND_OFFICER_REQUIRED),
    a moderator refused (ROLE_REQUIRED), approval by the second officer,
    then the requester reads the plaintext once; the approver never sees
    it; each step audited, the read with its approver."""
    first, second = people["officer1"], people["officer2"]
    request_id = await ask(hs, first, subject, "公安机关协查函 2026-17")
    one, two = Http(hs, first.access_token), Http(hs, second.access_token)

    status, body = await one.post(reveals(request_id, "/approve"))
    assert (status, body[REASON_FIELD]) == (403, "SECOND_OFFICER_REQUIRED"), body
    assert str(request_id) in body["error"]
    status, body = await Http(hs, people["mod"].access_token).post(
        reveals(request_id, "/approve")
    )
    assert (status, body[REASON_FIELD], body["role"]) == (
        403,
        "ROLE_REQUIRED",
        "identity_officer",
    )
    status, body = await one.get(reveals(request_id))
    assert (status, body["status"]) == (200, "pending") and "identity" not in body

    status, body = await two.post(reveals(request_id, "/approve"))
    assert status == 200 and body["status"] == "approved", body
    assert body["approvers"] == [second.user_id]
    status, body = await two.post(reveals(request_id, "/approve"))
    assert (status, body["status"]) == (409, "approved")
    status, body = await two.get(reveals(request_id))
    assert body["status"] == "approved" and "identity" not in body

    status, body = await one.get(reveals(request_id))
    assert status == 200 and body["status"] == "read", body
    assert body["identity"] == {
        "name": NAME,
        "document_type": "resident_id",
        "document_number": NUMBER,
    }
    status, again = await one.get(reveals(request_id))
    assert again["status"] == "read" and "identity" not in again

    owner = people["boss"]
    steps = {
        e["action"]: e
        for e in await audit(hs, owner, "identity.")
        if e["details"].get("request_id") == request_id
    }
    assert steps["identity.reveal.request"]["actor"] == first.user_id
    assert steps["identity.reveal.request"]["details"]["reason"] == (
        "公安机关协查函 2026-17"
    )
    assert steps["identity.reveal.approve"]["actor"] == second.user_id
    read = steps["identity.reveal"]
    assert read["actor"] == first.user_id
    assert read["details"]["approved_by"] == [second.user_id]
    assert "identity.reveal.statement" in steps
    for entry in steps.values():
        assert NUMBER not in json.dumps(entry) and NAME not in json.dumps(entry)


async def test_the_person_is_told(
    hs: Homeserver, people: dict[str, User], subject: User
) -> None:
    """A6: with `notify_subject` on, the notice bot tells the person their
    identity was read, and why."""
    async with clients(hs, subject) as (client,):
        _, notices = await bot_messages(client, f"@groupreg:{hs.server_name}")
    told = [n for n in notices if "公安机关协查函 2026-17" in n]
    assert told and "查阅" in told[0]
    assert NUMBER not in told[0]


async def test_an_unread_approval_lapses(
    hs: Homeserver, people: dict[str, User], subject: User
) -> None:
    """A6: the requester has `read_within` (3s here) after the approval;
    later the request has expired, shows no plaintext, and the lapse is
    audited."""
    first, second = people["officer1"], people["officer2"]
    request_id = await ask(hs, first, subject, "复核")
    status, _ = await Http(hs, second.access_token).post(
        reveals(request_id, "/approve")
    )
    assert status == 200
    await asyncio.sleep(3.5)
    status, body = await Http(hs, first.access_token).get(reveals(request_id))
    assert status == 200 and body["status"] == "expired", body
    assert "identity" not in body
    lapsed = [
        e
        for e in await audit(hs, people["boss"], "identity.reveal.expire")
        if e["details"]["request_id"] == request_id
    ]
    assert len(lapsed) == 1 and lapsed[0]["details"]["was"] == "approved"


async def test_a_refusal_ends_the_request(
    hs: Homeserver, people: dict[str, User], subject: User
) -> None:
    """A6: another officer refuses with a reason (400 without one); the
    request can no longer be approved (409) and is never readable."""
    first, second = people["officer1"], people["officer2"]
    request_id = await ask(hs, first, subject, "内部核查")
    two = Http(hs, second.access_token)
    status, body = await two.post(reveals(request_id, "/refuse"), {})
    assert (status, body["field"]) == (400, "reason")
    status, body = await two.post(
        reveals(request_id, "/refuse"), {"reason": "依据不足"}
    )
    assert (status, body["status"], body["refusal"]) == (200, "refused", "依据不足")
    status, body = await two.post(reveals(request_id, "/approve"))
    assert (status, body["status"]) == (409, "refused")
    status, body = await Http(hs, first.access_token).get(reveals(request_id))
    assert body["status"] == "refused" and "identity" not in body
    refused = [
        e
        for e in await audit(hs, people["boss"], "identity.reveal.refuse")
        if e["details"]["request_id"] == request_id
    ]
    assert refused[0]["actor"] == second.user_id


async def test_listing_and_cli(
    hs: Homeserver, people: dict[str, User], subject: User
) -> None:
    """G7: officers see the requests waiting for them; the CLI asks,
    approves and reads the same way."""
    first, second = people["officer1"], people["officer2"]
    asked = run_cli(
        hs, first.access_token, "identities", "reveal", subject.user_id,
        "--reason", "CLI check",
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    request_id = json.loads(asked.stdout)["request_id"]
    status, listing = await Http(hs, second.access_token).get(
        f"{ADMIN}/identities/reveals?status=pending"
    )
    assert status == 200
    assert [r["request_id"] for r in listing["requests"]] == [request_id]
    status, body = await Http(hs, second.access_token).get(
        f"{ADMIN}/identities/reveals?status=bogus"
    )
    assert (status, body["field"]) == (400, "status")
    approved = run_cli(
        hs, second.access_token, "identities", "reveal-approve", str(request_id)
    )
    assert approved.returncode == 0, approved.stderr
    read = run_cli(hs, first.access_token, "identities", "reveal-read", str(request_id))
    assert read.returncode == 0 and NUMBER in read.stdout


async def test_an_officers_requests_are_limited(
    hs: Homeserver, people: dict[str, User], subject: User
) -> None:
    """A6: at most `rate_limit.count` requests per officer and window; the
    next is 403 REVEAL_LIMIT saying when to retry. Another officer is not
    affected."""
    first = people["officer1"]
    status, listing = await Http(hs, first.access_token).get(
        f"{ADMIN}/identities/reveals?mine=true&limit=1000"
    )
    made = len(listing["requests"])
    for n in range(6 - made):
        await ask(hs, first, subject, f"limit {n}")
    status, body = await Http(hs, first.access_token).post(
        f"{ADMIN}/identities/{urllib.parse.quote(subject.user_id)}/reveal",
        {"reason": "one too many"},
    )
    assert (status, body[REASON_FIELD]) == (403, "REVEAL_LIMIT"), body
    assert 0 < body["retry_after_ms"] <= 3_600_000
    await ask(hs, people["officer2"], subject, "another officer")


async def test_no_identity_no_request(hs: Homeserver, people: dict[str, User]) -> None:
    """A6: there is nothing to ask for without an identity (404)."""
    unverified = hs.register()
    status, _ = await Http(hs, people["officer2"].access_token).post(
        f"{ADMIN}/identities/{urllib.parse.quote(unverified.user_id)}/reveal",
        {"reason": "x"},
    )
    assert status == 404

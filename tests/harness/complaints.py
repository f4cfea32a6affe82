"""Making reports the way Element does and finding the cases they became."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import nio

from tests.harness.client import Http, clients
from tests.harness.homeserver import Endpoint, User

CLIENT = "/_synapse/client/groupreg/v1"
ADMIN = "/_synapse/client/groupreg/admin/v1"
MATRIX = "/_matrix/client/v3"


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


async def report_event(
    hs: Endpoint, user: User, room_id: str, event_id: str, reason: str
) -> None:
    """Synapse's own event report endpoint, as Element's Report button uses."""
    status, body = await Http(hs, user.access_token).post(
        f"{MATRIX}/rooms/{quote(room_id)}/report/{quote(event_id)}",
        {"reason": reason, "score": -100},
    )
    assert status == 200, body


async def report_room(hs: Endpoint, user: User, room_id: str, reason: str) -> None:
    status, body = await Http(hs, user.access_token).post(
        f"{MATRIX}/rooms/{quote(room_id)}/report", {"reason": reason}
    )
    assert status == 200, body


async def report_user(hs: Endpoint, user: User, target: str, reason: str) -> None:
    status, body = await Http(hs, user.access_token).post(
        f"{MATRIX}/users/{quote(target)}/report", {"reason": reason}
    )
    assert status == 200, body


async def room_with_message(
    hs: Endpoint, owner: User, *members: User, text: str = "offending words"
) -> tuple[str, str]:
    """A room `owner` created, `members` joined, and the last of them (or
    the owner) posted `text` in; answers (room id, event id)."""
    async with clients(hs, owner, *members) as made:
        created = await made[0].room_create(name="reported room")
        assert isinstance(created, nio.RoomCreateResponse), created
        for member, client in zip(members, made[1:], strict=True):
            invited = await made[0].room_invite(created.room_id, member.user_id)
            assert isinstance(invited, nio.RoomInviteResponse), invited
            joined = await client.join(created.room_id)
            assert isinstance(joined, nio.JoinResponse), joined
        sent = await made[-1].room_send(
            created.room_id, "m.room.message", {"msgtype": "m.text", "body": text}
        )
        assert isinstance(sent, nio.RoomSendResponse), sent
        return created.room_id, sent.event_id


async def wait_for_cases(
    http: Http,
    query: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 30,
) -> list[dict[str, Any]]:
    """The admin queue filtered by `query`, polled until `until` holds
    (reports reach the queue on the background job's next run)."""
    deadline = time.monotonic() + timeout
    cases: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        status, body = await http.get(f"{ADMIN}/complaints?{query}&limit=1000")
        assert status == 200, body
        cases = body["cases"]
        if until(cases):
            return cases
        await asyncio.sleep(0.2)
    raise AssertionError(f"the queue never satisfied the wait ({query}): {cases}")


async def case_of(http: Http, target: str, timeout: float = 30) -> dict[str, Any]:
    """The one case about `target`, once it exists."""
    cases = await wait_for_cases(
        http, f"target={quote(target)}", lambda found: bool(found), timeout
    )
    assert len(cases) == 1, cases
    return cases[0]

"""Helpers shared by the groups tests (B1-B7): create rooms with the module's
own createRoom fields (which matrix-nio cannot send), join, read state."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import nio

from tests.harness.client import REASON_FIELD, Http, error_body, nio_client
from tests.harness.homeserver import Endpoint, User

CLIENT = "/_synapse/client/groupreg/v1"
ADMIN = "/_synapse/client/groupreg/admin/v1"
MATRIX = "/_matrix/client/v3"
ROOM_STATE = "org.groupreg.room"


async def create_room(
    hs: Endpoint, user: User, **body: Any
) -> tuple[int, dict[str, Any]]:
    """POST /createRoom as `user`; the body may hold `org_groupreg_class`
    and `org_groupreg_category`, sent as `org.groupreg.class` / `.category`."""
    for short in ("class", "category"):
        if f"org_groupreg_{short}" in body:
            body[f"org.groupreg.{short}"] = body.pop(f"org_groupreg_{short}")
    status, answer = await Http(hs, user.access_token).post(
        f"{MATRIX}/createRoom", body
    )
    return status, answer if isinstance(answer, dict) else {"raw": answer}


async def new_room(hs: Endpoint, user: User, **body: Any) -> str:
    status, answer = await create_room(hs, user, **body)
    assert status == 200, answer
    return str(answer["room_id"])


async def join(hs: Endpoint, user: User, room_id: str) -> tuple[int, dict[str, Any]]:
    status, answer = await Http(hs, user.access_token).post(
        f"{MATRIX}/join/{quote(room_id)}", {}
    )
    return status, answer


async def invite(
    hs: Endpoint, user: User, room_id: str, invitee: str
) -> tuple[int, dict[str, Any]]:
    return await Http(hs, user.access_token).post(
        f"{MATRIX}/rooms/{quote(room_id)}/invite", {"user_id": invitee}
    )


async def state(
    hs: Endpoint, user: User, room_id: str, event_type: str, state_key: str = ""
) -> tuple[int, Any]:
    return await Http(hs, user.access_token).get(
        f"{MATRIX}/rooms/{quote(room_id)}/state/{event_type}/{state_key}"
    )


async def put_state(
    hs: Endpoint,
    user: User,
    room_id: str,
    event_type: str,
    content: dict[str, Any],
    state_key: str = "",
) -> tuple[int, Any]:
    return await Http(hs, user.access_token).put(
        f"{MATRIX}/rooms/{quote(room_id)}/state/{event_type}/{state_key}", content
    )


async def send_text(
    hs: Endpoint, user: User, room_id: str, body: str
) -> tuple[int, Any]:
    """PUT one m.text message with a fresh transaction id."""
    return await Http(hs, user.access_token).put(
        f"{MATRIX}/rooms/{quote(room_id)}/send/m.room.message/{uuid.uuid4().hex}",
        {"msgtype": "m.text", "body": body},
    )


def reason(answer: Any) -> str | None:
    return answer.get(REASON_FIELD) if isinstance(answer, dict) else None


def room_path(room_id: str) -> str:
    return quote(room_id, safe="")


async def concurrent_joins(
    joiners: Sequence[tuple[Endpoint, User]], room_id: str
) -> Counter[str]:
    """Join with every (process, user) at once, each through its own
    matrix-nio client on that process; count the outcomes by HTTP status and
    reason: "200", "403 ROOM_FULL", ..."""
    made = [nio_client(hs, user) for hs, user in joiners]
    try:
        answers = await asyncio.gather(*(c.join(room_id) for c in made))
    finally:
        for client in made:
            await client.close()
    outcomes: Counter[str] = Counter()
    for answer in answers:
        if isinstance(answer, nio.JoinResponse):
            outcomes["200"] += 1
            continue
        body = await error_body(answer)
        transport = getattr(answer, "transport_response", None)
        status = transport.status if transport is not None else 0
        outcomes[f"{status} {body.get(REASON_FIELD)}"] += 1
    return outcomes

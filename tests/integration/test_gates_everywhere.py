"""Every way in meets the gates (A1, D2, D4, B3) and every published text
the filter (C1): knocks are judged like joins, membership reasons and
reaction keys are scanned; the blacklist refusal reads without a gap."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.harness.client import Http
from tests.harness.homeserver import Homeserver, User
from tests.harness.identity import cn_config, resident_id, start, verify
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import ADMIN, MATRIX, new_room, reason

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "keywords"
WORD = "开奖"  # in config/keywords/gambling.txt


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    content = {
        "categories": {
            "gambling": {
                "action": "block",
                "credit_penalty": 1,
                "words_file": str(SAMPLES / "gambling.txt"),
            }
        }
    }
    return start(
        homeservers,
        lambda d: cn_config(
            d,
            content=content,
            rooms={
                "default_class": "standard",
                "classes": {"standard": {"member_cap": 3}},
            },
        ),
    )


_serial = iter(range(700, 800))


async def _verified(hs: Homeserver, admin: User) -> User:
    user = hs.register()
    status, body = await verify(hs, admin, user, resident_id(next(_serial)))
    assert status == 200, body
    return user


async def _knock(hs: Homeserver, user: User, room_id: str, why: str = "") -> Any:
    body = {"reason": why} if why else {}
    return await Http(hs, user.access_token).post(
        f"{MATRIX}/knock/{quote(room_id)}", body
    )


async def _knock_room(hs: Homeserver, owner: User) -> str:
    return await new_room(
        hs,
        owner,
        name="敲门群",
        initial_state=[
            {"type": "m.room.join_rules", "content": {"join_rule": "knock"}}
        ],
    )


async def test_knocks_are_gated_like_joins(hs: Homeserver) -> None:
    """A1, D4, D2, B3: an unverified user cannot knock; a blacklisted one
    cannot; nobody can knock on a suspended group or one that is full; a
    knock's reason is scanned; a verified user knocks."""
    admin = hs.register(admin=True)
    owner = await _verified(hs, admin)
    room_id = await _knock_room(hs, owner)

    status, body = await _knock(hs, hs.register(), room_id, "let me in")
    assert (status, reason(body)) == (403, "IDENTITY_REQUIRED"), body

    knocker = await _verified(hs, admin)
    status, body = await _knock(hs, knocker, room_id, f"来看{WORD}")
    assert (status, reason(body)) == (403, "PROHIBITED_CONTENT"), body
    status, body = await _knock(hs, knocker, room_id, "你好")
    assert status == 200, body

    listed = await _verified(hs, admin)
    status, entry = await Http(hs, admin.access_token).post(
        f"{ADMIN}/blacklist", {"kind": "user", "target": listed.user_id, "reason": "x"}
    )
    assert status == 200, entry
    status, body = await _knock(hs, listed, room_id)
    assert (status, reason(body)) == (403, "BLACKLISTED"), body
    # The refusal reads without a gap where a name would be.
    assert " 已被" not in body["error"] and "已被列入黑名单" in body["error"], body

    # Full (cap 3: the owner and two invited): a knock asks for a seat
    # there is not.
    for _ in range(2):
        invitee = await _verified(hs, admin)
        status, body = await Http(hs, owner.access_token).post(
            f"{MATRIX}/rooms/{quote(room_id)}/invite", {"user_id": invitee.user_id}
        )
        assert status == 200, body
    status, body = await _knock(hs, await _verified(hs, admin), room_id)
    assert (status, reason(body)) == (403, "ROOM_FULL"), body

    other_room = await _knock_room(hs, owner)
    status, body = await Http(hs, admin.access_token).post(
        f"{ADMIN}/rooms/{quote(other_room)}/sanctions",
        {"action": "suspend_posting", "duration": "1h", "reason": "test"},
    )
    assert status == 200, body
    status, body = await _knock(hs, await _verified(hs, admin), other_room)
    assert (status, reason(body)) == (403, "ROOM_SUSPENDED"), body


async def test_membership_reasons_and_reaction_keys_are_scanned(
    hs: Homeserver,
) -> None:
    """C1: the reason of a join, leave, invite, kick and ban, and the key
    of a reaction, are published text the filter scans."""
    admin = hs.register(admin=True)
    owner, member, guest = [await _verified(hs, admin) for _ in range(3)]
    room_id = await new_room(hs, owner, name="理由群", preset="public_chat")
    room = quote(room_id)
    bad = {"reason": f"看{WORD}"}

    as_member, as_owner = Http(hs, member.access_token), Http(hs, owner.access_token)
    status, body = await as_member.post(f"{MATRIX}/rooms/{room}/join", bad)
    assert (status, reason(body)) == (403, "PROHIBITED_CONTENT"), body
    assert "理由" in body["error"] or "reason" in body["error"], body
    status, body = await as_member.post(f"{MATRIX}/rooms/{room}/join", {})
    assert status == 200, body
    for path, payload in (
        ("leave", bad),
        ("invite", {"user_id": guest.user_id, **bad}),
    ):
        http = as_member if path == "leave" else as_owner
        status, body = await http.post(f"{MATRIX}/rooms/{room}/{path}", payload)
        assert (status, reason(body)) == (403, "PROHIBITED_CONTENT"), (path, body)
    for path in ("kick", "ban"):
        status, body = await as_owner.post(
            f"{MATRIX}/rooms/{room}/{path}", {"user_id": member.user_id, **bad}
        )
        assert (status, reason(body)) == (403, "PROHIBITED_CONTENT"), (path, body)

    status, sent = await as_member.put(
        f"{MATRIX}/rooms/{room}/send/m.room.message/{uuid.uuid4().hex}",
        {"msgtype": "m.text", "body": "hello"},
    )
    assert status == 200, sent
    status, body = await as_owner.put(
        f"{MATRIX}/rooms/{room}/send/m.reaction/{uuid.uuid4().hex}",
        {
            "m.relates_to": {
                "rel_type": "m.annotation",
                "event_id": sent["event_id"],
                "key": WORD,
            }
        },
    )
    assert (status, reason(body)) == (403, "PROHIBITED_CONTENT"), body
    status, body = await as_owner.put(
        f"{MATRIX}/rooms/{room}/send/m.reaction/{uuid.uuid4().hex}",
        {
            "m.relates_to": {
                "rel_type": "m.annotation",
                "event_id": sent["event_id"],
                "key": "👍",
            }
        },
    )
    assert status == 200, body
    # A clean reason still passes.
    status, body = await as_owner.post(
        f"{MATRIX}/rooms/{room}/kick", {"user_id": member.user_id, "reason": "bye"}
    )
    assert status == 200, body


async def test_no_log_context_warnings_from_the_module(hs: Homeserver) -> None:
    """G6: after requests that create rooms, refuse content (a recorded
    hit, flushed in the background) and offer a verification link (a
    background DM), the log holds no "Re-starting finished log context" or
    "without recording a start rusage" warnings: the module's reactions
    run in their own background process (Dispatcher._enqueue)."""
    admin = hs.register(admin=True)
    owner = await _verified(hs, admin)
    room_id = await new_room(hs, owner, name="日志群", preset="public_chat")
    status, body = await Http(hs, owner.access_token).put(
        f"{MATRIX}/rooms/{quote(room_id)}/send/m.room.message/{uuid.uuid4().hex}",
        {"msgtype": "m.text", "body": f"今晚{WORD}"},
    )
    assert (status, reason(body)) == (403, "PROHIBITED_CONTENT"), body
    status, body = await _knock(hs, hs.register(), room_id)
    assert (status, reason(body)) == (403, "IDENTITY_REQUIRED"), body
    # A timeline event of the registration type: a clear refusal (G6).
    status, body = await Http(hs, owner.access_token).put(
        f"{MATRIX}/rooms/{quote(room_id)}/send/org.groupreg.room/{uuid.uuid4().hex}",
        {"class": "standard"},
    )
    assert (status, reason(body)) == (403, "REGISTRATION_CODE_PROTECTED"), body
    await asyncio.sleep(2)  # the hit flush and the link's DM, in the background
    warnings = [
        line
        for line in hs.log_text().splitlines()
        if "Re-starting finished log context" in line
        or "without recording a start rusage" in line
    ]
    assert warnings == [], warnings[:5]
    assert "AttributeError" not in hs.log_text()

"""Flood and join-wave limits (B9) and credit-driven limits (D7) through a
real homeserver: a member's burst refused with FLOOD_LIMIT and let through
once the window has passed, group admins exempt; MENTION_LIMIT counting
intentional mentions, @room and matrix.to pills; a join wave turning the
group to knocking, the admins told, and the rule restored after the
cool-down (or left alone when an admin changed it meanwhile); a low-credit
user's lower message rate (CREDIT_RATE_LIMIT) and invite rate (Synapse's
own limiter, through `get_ratelimit_override_for_user`); upload size and
daily volume per band (Synapse's media upload-limit callbacks). The server
is bilingual, so each refusal shows its zh-Hans and en wording; with a
worker, the worker counts the messages it takes and the main process the
joins it persists."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.harness.client import REASON_FIELD, Http
from tests.harness.homeserver import Endpoint, Homeserver, User
from tests.harness.notices import bot_of
from tests.harness.workers import Worker, main_with_workers, skip_reason
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import ADMIN, MATRIX, join, new_room, put_state, state

WINDOW_S = 3
LIMITS = {
    "messages_per_minute": 3,
    "mentions_per_message": 2,
    "joins_per_minute": 3,
    "join_cooldown": "3s",
}
MODULE: dict[str, Any] = {
    "profile": "generic",
    "language": "bilingual",
    "rooms": {
        "default_class": "medium",
        "limits_window": f"{WINDOW_S}s",
        "classes": {
            "medium": {"member_cap": 200, "limits": LIMITS},
            "open": {"member_cap": 200},
        },
    },
    "credit": {
        "bands": {
            "normal": {"from": 50},
            "low": {
                "from": 0,
                "rate_limits": {"messages_per_minute": 2, "invites_per_minute": 2},
                "media": {"max_upload_size": "1K", "upload_bytes_per_day": 1500},
            },
        }
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(MODULE)


@pytest.fixture(scope="module")
def admin(hs: Homeserver) -> User:
    return hs.register(admin=True)


async def _say(
    hs: Endpoint, user: User, room_id: str, content: dict[str, Any] | None = None
) -> tuple[int, Any]:
    body = content or {"msgtype": "m.text", "body": f"hello {uuid.uuid4().hex[:6]}"}
    return await Http(hs, user.access_token).put(
        f"{MATRIX}/rooms/{quote(room_id)}/send/m.room.message/{uuid.uuid4().hex}",
        body,
    )


def _both(answer: dict[str, Any], zh: str, en: str) -> None:
    """The refusal's message in both languages (G3)."""
    assert zh in answer["error"] and en in answer["error"], answer["error"]


async def _public_group(hs: Endpoint, owner: User, *members: User) -> str:
    room_id = await new_room(
        hs,
        owner,
        preset="public_chat",
        name="限流群",
        power_level_content_override={"invite": 0},
    )
    for member in members:
        status, answer = await join(hs, member, room_id)
        assert status == 200, answer
    return room_id


async def _wait_for(what: str, check: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"waited {timeout} s for {what}")


def _audit(hs: Homeserver, action: str, room_id: str) -> list[dict[str, Any]]:
    rows = hs.sql(
        "SELECT details FROM groupreg_audit_log WHERE action = ? AND target = ?"
        " ORDER BY seq",
        (action, room_id),
    )
    return [json.loads(r[0]) for r in rows]


async def _lower_credit(hs: Homeserver, admin: User, user: User, amount: int) -> None:
    status, answer = await Http(hs, admin.access_token).post(
        f"{ADMIN}/users/{user.user_id}/sanctions",
        {"action": "lower_credit", "amount": amount, "reason": "刷屏"},
    )
    assert status == 200, answer


async def test_flood_refused_then_allowed_after_the_window(hs: Homeserver) -> None:
    """B9 messages_per_minute: a member's fourth message within the window
    is refused with FLOOD_LIMIT, naming the limit and when to try again, in
    both languages; the group's creator is not limited; another member is
    counted apart; after the wait the message says, the member may send
    again."""
    owner, member, other = hs.register(), hs.register(), hs.register()
    room_id = await _public_group(hs, owner, member, other)
    for _ in range(3):
        status, answer = await _say(hs, member, room_id)
        assert status == 200, answer
    status, refused = await _say(hs, member, room_id)
    assert (status, refused[REASON_FIELD]) == (403, "FLOOD_LIMIT"), refused
    _both(refused, "最多发送 3 条消息", "at most 3 messages per")
    assert "秒后再试" in refused["error"] and "try again in" in refused["error"]
    wait = int(refused["error"].split("try again in ")[1].split(" ")[0])
    assert 1 <= wait <= WINDOW_S

    status, answer = await _say(hs, other, room_id)
    assert status == 200, answer
    for _ in range(5):
        status, answer = await _say(hs, owner, room_id)
        assert status == 200, ("the creator is an admin", answer)

    await asyncio.sleep(wait)
    status, answer = await _say(hs, member, room_id)
    assert status == 200, answer


async def test_a_class_without_limits_is_not_limited(hs: Homeserver) -> None:
    """B9: limits are per class; a group of a class without them (and
    every direct chat) is not counted."""
    owner, member = hs.register(), hs.register()
    room_id = await new_room(hs, owner, preset="public_chat", org_groupreg_class="open")
    assert (await join(hs, member, room_id))[0] == 200
    for _ in range(6):
        status, answer = await _say(hs, member, room_id)
        assert status == 200, answer


async def test_mention_limit(hs: Homeserver) -> None:
    """B9 mentions_per_message: m.mentions.user_ids, @room and matrix.to
    pills each count (a user once); three mentions are refused with
    MENTION_LIMIT, two pass; the creator may mention more."""
    owner, member = hs.register(), hs.register()
    room_id = await _public_group(hs, owner, member)
    a, b, c = (f"@u{i}{uuid.uuid4().hex[:4]}:{hs.server_name}" for i in range(3))

    two = {"msgtype": "m.text", "body": f"{a} {b}", "m.mentions": {"user_ids": [a, b]}}
    status, answer = await _say(hs, member, room_id, two)
    assert status == 200, answer

    three = {"msgtype": "m.text", "body": "hi", "m.mentions": {"user_ids": [a, b, c]}}
    pills = {
        "msgtype": "m.text",
        "body": "a b c",
        "format": "org.matrix.custom.html",
        "formatted_body": "".join(
            f'<a href="https://matrix.to/#/{quote(u)}">x</a>' for u in (a, b, c)
        ),
    }
    room = {"msgtype": "m.text", "body": f"@room {a} {b}"}
    tries: dict[str, dict[str, Any]] = {"ids": three, "pills": pills, "@room": room}
    for what, content in tries.items():
        status, refused = await _say(hs, member, room_id, content)
        assert (status, refused.get(REASON_FIELD)) == (403, "MENTION_LIMIT"), what
        _both(refused, "最多提及 2 人（这条提及了 3 人）", "at most 2 people (this one")

    status, answer = await _say(hs, owner, room_id, three)
    assert status == 200, answer


async def _join_rule(hs: Endpoint, user: User, room_id: str) -> str:
    status, content = await state(hs, user, room_id, "m.room.join_rules")
    assert status == 200, content
    return str(content["join_rule"])


async def _wave(hs: Endpoint, owner: User) -> tuple[str, list[User]]:
    """A public group and four joins within the window (with the
    creator's, five): above `joins_per_minute` (3)."""
    assert isinstance(hs, Homeserver)
    room_id = await _public_group(hs, owner)
    joiners = [hs.register() for _ in range(4)]
    for joiner in joiners:
        status, answer = await join(hs, joiner, room_id)
        assert status == 200, answer

    async def knocking() -> bool:
        return await _join_rule(hs, owner, room_id) == "knock"

    await _wait_for("the join rule to become knock", knocking)
    return room_id, joiners


async def test_join_wave_turns_the_group_to_knock_and_back(hs: Homeserver) -> None:
    """B9 joins_per_minute: a join wave sets the group's join rule to
    knock; the next user cannot join but may knock; the notice bot tells
    the room, in both languages, with the facts beside the text; the wave
    is recorded and audited; after the cool-down the rule is public again,
    its end audited, and the user can join."""
    owner = hs.register()
    room_id, _ = await _wave(hs, owner)
    late = hs.register()
    status, answer = await join(hs, late, room_id)
    assert status == 403, answer

    started = _audit(hs, "room.join_wave", room_id)
    assert len(started) == 1, started
    assert started[0]["previous_rule"] == "public"
    assert started[0]["join_rule"] == "knock"
    assert started[0]["joins"] > started[0]["limit"] == 3
    rows = hs.sql(
        "SELECT applied_rule, ended_ts FROM groupreg_join_waves WHERE room_id = ?",
        (room_id,),
    )
    assert len(rows) == 1 and rows[0][0] == "knock"

    async def notice() -> Any:
        status, messages = await Http(hs, owner.access_token).get(
            f"{MATRIX}/rooms/{quote(room_id)}/messages?dir=b&limit=50"
        )
        assert status == 200, messages
        return [
            e
            for e in messages["chunk"]
            if e["sender"] == bot_of(hs)
            and "org.groupreg.join_wave" in e.get("content", {})
        ]

    notices = await _wait_for("the admins' notice", notice)
    text = notices[-1]["content"]["body"]
    assert "申请加入" in text and "knock" in text and "Admins" in text, text
    assert notices[-1]["content"]["org.groupreg.join_wave"]["join_rule"] == "knock"

    async def ended() -> list[dict[str, Any]]:
        return _audit(hs, "room.join_wave_ended", room_id)

    entries = await _wait_for("the wave's end", ended)
    assert [e["outcome"] for e in entries] == ["restored"], entries
    assert await _join_rule(hs, owner, room_id) == "public"
    status, answer = await join(hs, late, room_id)
    assert status == 200, answer


async def test_a_rule_changed_during_the_wave_is_kept(hs: Homeserver) -> None:
    """B9: the cool-down restores the join rule only if nobody changed it
    meanwhile: an admin who set `invite` keeps it, and the end is audited
    as `changed`."""
    owner = hs.register()
    room_id, _ = await _wave(hs, owner)
    status, answer = await put_state(
        hs, owner, room_id, "m.room.join_rules", {"join_rule": "invite"}
    )
    assert status == 200, answer

    async def ended() -> list[dict[str, Any]]:
        return _audit(hs, "room.join_wave_ended", room_id)

    entries = await _wait_for("the wave's end", ended)
    assert [e["outcome"] for e in entries] == ["changed"]
    assert await _join_rule(hs, owner, room_id) == "invite"


async def test_low_credit_user_has_a_lower_rate(hs: Homeserver, admin: User) -> None:
    """D7: a user in the `low` band may send two messages per window
    (CREDIT_RATE_LIMIT, naming the score and the band, in both languages)
    while a member in good standing sends three in the same group; the
    band's invite rate is Synapse's own limiter (429) after two invites."""
    owner, low, normal = hs.register(), hs.register(), hs.register()
    room_id = await _public_group(hs, owner, low, normal)
    await _lower_credit(hs, admin, low, 60)
    for _ in range(3):
        status, answer = await _say(hs, normal, room_id)
        assert status == 200, answer
    for _ in range(2):
        status, answer = await _say(hs, low, room_id)
        assert status == 200, answer
    status, refused = await _say(hs, low, room_id)
    assert (status, refused[REASON_FIELD]) == (403, "CREDIT_RATE_LIMIT"), refused
    _both(refused, "您的信用分为 40（“low”档）", "Your credit score is 40 (band 'low')")
    _both(refused, "最多发送 2 条消息", "at most 2 messages per")

    http = Http(hs, low.access_token)
    answers = []
    for _ in range(3):
        invitee = hs.register()
        answers.append(
            await http.post(
                f"{MATRIX}/rooms/{quote(room_id)}/invite", {"user_id": invitee.user_id}
            )
        )
    assert [s for s, _ in answers[:2]] == [200, 200], answers
    status, answer = answers[2]
    assert (status, answer["errcode"]) == (429, "M_LIMIT_EXCEEDED"), answer
    owner_invite = await Http(hs, normal.access_token).post(
        f"{MATRIX}/rooms/{quote(room_id)}/invite", {"user_id": hs.register().user_id}
    )
    assert owner_invite[0] == 200, owner_invite


async def _upload(hs: Homeserver, user: User, size: int) -> tuple[int, Any]:
    return await Http(hs, user.access_token).request(
        "POST",
        "/_matrix/media/v3/upload?filename=f.bin",
        data=uuid.uuid4().bytes * (size // 16),
        headers={"Content-Type": "application/octet-stream"},
    )


async def test_upload_limits_per_band(hs: Homeserver, admin: User) -> None:
    """D7: the `low` band's files are at most 1 KiB (413 M_TOO_LARGE from
    Synapse's upload servlet) and 1500 bytes a day (403
    M_USER_LIMIT_EXCEEDED); a user in good standing uploads larger files."""
    low, normal = hs.register(), hs.register()
    await _lower_credit(hs, admin, low, 60)
    status, answer = await _upload(hs, normal, 4096)
    assert status == 200, answer
    status, answer = await _upload(hs, low, 2048)
    assert (status, answer.get("errcode")) == (413, "M_TOO_LARGE"), answer
    status, answer = await _upload(hs, low, 800)
    assert status == 200, answer
    status, answer = await _upload(hs, low, 800)
    assert (status, answer.get("errcode")) == (403, "M_USER_LIMIT_EXCEEDED"), answer


# -- with a worker -----------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(backend: str) -> Iterator[tuple[Homeserver, Worker]]:
    why = skip_reason(backend)
    if why is not None:
        pytest.skip(why)
    main, workers = main_with_workers(MODULE, workers=1)
    try:
        yield main, workers[0]
    finally:
        for worker in workers:
            worker.destroy()
        main.destroy()


async def test_limits_with_a_worker(cluster: tuple[Homeserver, Worker]) -> None:
    """B9 with a worker: messages sent through the worker are counted there
    (the fourth refused with FLOOD_LIMIT); joins through the worker are
    counted by the main process, which runs background tasks, and the
    wave turns the group to knock."""
    main, worker = cluster
    owner, member = main.register(), main.register()
    room_id = await _public_group(worker, owner, member)
    for _ in range(3):
        status, answer = await _say(worker, member, room_id)
        assert status == 200, answer
    status, refused = await _say(worker, member, room_id)
    assert (status, refused.get(REASON_FIELD)) == (403, "FLOOD_LIMIT"), refused

    wave_room = await _public_group(worker, owner)
    for joiner in [main.register() for _ in range(4)]:
        status, answer = await join(worker, joiner, wave_room)
        assert status == 200, answer

    async def knocking() -> bool:
        return await _join_rule(worker, owner, wave_room) == "knock"

    await _wait_for("the join rule to become knock", knocking)
    assert len(_audit(main, "room.join_wave", wave_room)) == 1

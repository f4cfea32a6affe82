"""B8 through a real homeserver: a group's admins mute a member through the
client API and by typing a command in the room; the member's sends are
refused (MEMBER_MUTED) with a message that says until when and whose
decision, never which admin; the mute survives leaving and rejoining,
ends by itself, and can be lifted; a mute of the whole group lets its
admins and exempt speakers through (ROOM_MUTED for the rest); the
hierarchy holds (members cannot mute, admins cannot mute their peers or a
creator, nor change the platform's mute; a suspended admin cannot mute);
every mute and lift is audited; bad input is a 400 naming the field."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import nio
import pytest

from tests.harness.client import REASON_FIELD, Http, clients
from tests.harness.homeserver import Homeserver, User
from tests.harness.notices import bot_of, dm_notices, notices_in
from tests.integration.groups import (
    ADMIN,
    CLIENT,
    MATRIX,
    join,
    new_room,
    reason,
    room_path,
    send_text,
)

MODULE = {"profile": "generic", "language": "bilingual"}


@pytest.fixture(scope="module")
def hs(backend: str) -> Iterator[Homeserver]:
    server = Homeserver(MODULE, backend)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def moderator(hs: Homeserver) -> User:
    """A server admin: holds every module role while none are configured."""
    return hs.register(admin=True)


async def _group(
    hs: Homeserver, *members: User, admins: tuple[User, ...] = ()
) -> tuple[User, str]:
    """A public group created by a fresh owner (a room version 12 creator,
    above every power level), `admins` at power 50, everyone in `members`
    and `admins` joined."""
    owner = hs.register()
    room_id = await new_room(
        hs,
        owner,
        preset="public_chat",
        power_level_content_override={"users": {a.user_id: 50 for a in admins}},
    )
    for user in (*admins, *members):
        status, body = await join(hs, user, room_id)
        assert status == 200, body
    return owner, room_id


def _mutes(room_id: str) -> str:
    return f"{CLIENT}/rooms/{room_path(room_id)}/mutes"


async def _mute(
    hs: Homeserver, actor: User, room_id: str, **body: Any
) -> tuple[int, Any]:
    return await Http(hs, actor.access_token).post(_mutes(room_id), body)


async def _lift(
    hs: Homeserver, actor: User, room_id: str, target: str
) -> tuple[int, Any]:
    return await Http(hs, actor.access_token).delete(
        f"{_mutes(room_id)}/{quote(target, safe='')}"
    )


async def _refused(
    hs: Homeserver, user: User, room_id: str, why: str
) -> dict[str, Any]:
    status, body = await send_text(hs, user, room_id, f"hello {uuid.uuid4().hex}")
    assert (status, reason(body)) == (403, why), body
    return dict(body)


async def _speaks(hs: Homeserver, user: User, room_id: str) -> None:
    status, body = await send_text(hs, user, room_id, f"hello {uuid.uuid4().hex}")
    assert status == 200, body


async def _say(
    hs: Homeserver, user: User, room_id: str, text: str, **extra: Any
) -> None:
    status, body = await Http(hs, user.access_token).put(
        f"{MATRIX}/rooms/{quote(room_id)}/send/m.room.message/{uuid.uuid4().hex}",
        {"msgtype": "m.text", "body": text, **extra},
    )
    assert status == 200, body


async def _bot_says(
    client: nio.AsyncClient,
    hs: Homeserver,
    room_id: str,
    expect: str,
    timeout: float = 30,
) -> str:
    """The notice bot's notice in the room containing `expect`."""
    deadline = time.monotonic() + timeout
    bodies: list[str] = []
    while time.monotonic() < deadline:
        bodies = await notices_in(client, room_id, bot_of(hs))
        for body in bodies:
            if expect in body:
                return body
        await asyncio.sleep(0.3)
    raise AssertionError(f"the bot never said {expect!r} in {room_id}: {bodies}")


async def test_an_admin_mutes_a_member_through_the_api(hs: Homeserver) -> None:
    """B8: the mute refuses the member's messages and reactions but not
    their redactions; the refusal says until when and that the group's
    admins decided, in both languages, and never names the admin; the
    member is told in a direct message; leaving and rejoining does not end
    it; lifting it does; both acts are audited."""
    member, admin_user = hs.register(), hs.register()
    owner, room_id = await _group(hs, member, admins=(admin_user,))
    status, before = await send_text(hs, member, room_id, "before the mute")
    assert status == 200, before

    status, body = await _mute(
        hs,
        admin_user,
        room_id,
        user_id=member.user_id,
        duration="1h",
        reason="刷屏 flooding",
    )
    assert status == 200, body
    mute = body["mute"]
    assert mute["user_id"] == member.user_id and mute["by"] == "group_admins"
    assert "actor" not in mute  # members never learn which admin muted

    answer = await _refused(hs, member, room_id, "MEMBER_MUTED")
    assert "群管理员" in answer["error"] and "the group's admins" in answer["error"]
    assert mute["until"] in answer["error"]
    assert admin_user.user_id not in answer["error"]
    http = Http(hs, member.access_token)
    status, body = await http.put(
        f"{MATRIX}/rooms/{quote(room_id)}/send/m.reaction/{uuid.uuid4().hex}",
        {
            "m.relates_to": {
                "rel_type": "m.annotation",
                "event_id": before["event_id"],
                "key": "👍",
            }
        },
    )
    assert (status, reason(body)) == (403, "MEMBER_MUTED"), body
    status, body = await http.put(
        f"{MATRIX}/rooms/{quote(room_id)}/redact/{quote(before['event_id'])}/{uuid.uuid4().hex}",
        {"reason": "taking it back"},
    )
    assert status == 200, body  # taking back what one said is never refused

    async with clients(hs, member) as (client,):
        statement = (await dm_notices(hs, client, "刷屏 flooding"))[0]
    assert "1 小时" in statement and "1 hour" in statement
    assert admin_user.user_id not in statement

    # Leaving and joining again does not end the mute.
    status, body = await http.post(f"{MATRIX}/rooms/{quote(room_id)}/leave", {})
    assert status == 200, body
    assert (await join(hs, member, room_id))[0] == 200
    await _refused(hs, member, room_id, "MEMBER_MUTED")

    status, listed = await Http(hs, owner.access_token).get(_mutes(room_id))
    assert status == 200 and [m["user_id"] for m in listed["mutes"]] == [member.user_id]

    status, body = await _lift(hs, admin_user, room_id, member.user_id)
    assert status == 200, body
    await _speaks(hs, member, room_id)
    status, body = await _lift(hs, admin_user, room_id, member.user_id)
    assert status == 404, body

    moderator = hs.register(admin=True)
    status, page = await Http(hs, moderator.access_token).get(
        f"{ADMIN}/audit?action=mute.&target={quote(room_id)}"
    )
    assert status == 200, page
    actions = [(e["action"], e["actor"]) for e in page["entries"]]
    assert ("mute.add", admin_user.user_id) in actions
    assert ("mute.lift", admin_user.user_id) in actions
    status, history = await Http(hs, moderator.access_token).get(
        f"{ADMIN}/rooms/{room_path(room_id)}/mutes"
    )
    assert status == 200 and history["mutes"][0]["actor"] == admin_user.user_id
    assert history["mutes"][0]["lifted_by"] == admin_user.user_id


async def test_a_mute_ends_by_itself(hs: Homeserver) -> None:
    """B8: a two-second mute refuses sends, then lets them through with
    nobody lifting it."""
    member = hs.register()
    owner, room_id = await _group(hs, member)
    status, body = await _mute(hs, owner, room_id, user_id=member.user_id, duration=2)
    assert status == 200, body
    await _refused(hs, member, room_id, "MEMBER_MUTED")
    await asyncio.sleep(max(0.0, body["mute"]["until_ts"] / 1000 - time.time()) + 0.5)
    await _speaks(hs, member, room_id)
    status, listed = await Http(hs, owner.access_token).get(_mutes(room_id))
    assert listed["mutes"] == []


async def test_an_admin_mutes_by_typing_a_command_in_the_room(hs: Homeserver) -> None:
    """B8 from Element: `!mute @user 1h reason` and `!unmute`, and the
    same with a pill (the display name in the body, the id in m.mentions);
    the notice bot answers in the room; a bad command gets the usage."""
    member = hs.register()
    owner, room_id = await _group(hs, member)
    async with clients(hs, owner) as (client,):
        await _say(hs, owner, room_id, f"!mute {member.user_id} 1h 广告 spam")
        await _bot_says(client, hs, room_id, f"{member.user_id} is muted until")
        answer = await _refused(hs, member, room_id, "MEMBER_MUTED")
        assert "the group's admins" in answer["error"]

        await _say(hs, owner, room_id, f"!unmute {member.user_id}")
        await _bot_says(client, hs, room_id, f"{member.user_id} is no longer muted")
        await _speaks(hs, member, room_id)

        await _say(
            hs,
            owner,
            room_id,
            "!禁言 Mary 30分钟 刷屏",
            **{"m.mentions": {"user_ids": [member.user_id]}},
        )
        await _bot_says(client, hs, room_id, f"已禁言 {member.user_id}")
        await _refused(hs, member, room_id, "MEMBER_MUTED")

        await _say(hs, owner, room_id, "!mute somebody")
        await _bot_says(client, hs, room_id, "Usage: !mute @user duration")

        # A member's command is refused by the same rules.
        other = hs.register()
        assert (await join(hs, other, room_id))[0] == 200
        await _say(hs, other, room_id, f"!unmute {member.user_id}")
        await _bot_says(client, hs, room_id, "Only the group's creators")
    await _refused(hs, member, room_id, "MEMBER_MUTED")


async def test_muting_the_whole_group_lets_admins_and_exempt_speakers_through(
    hs: Homeserver,
) -> None:
    """B8: `!muteall` with an exempt speaker: members are refused with
    ROOM_MUTED, the exempt speaker, the admins and the owner speak; the
    room is told; `!unmuteall` ends it."""
    member, speaker, admin_user = hs.register(), hs.register(), hs.register()
    owner, room_id = await _group(hs, member, speaker, admins=(admin_user,))
    async with clients(hs, owner) as (client,):
        await _say(hs, owner, room_id, f"!muteall 30m {speaker.user_id} 讲座 lecture")
        notice = await _bot_says(client, hs, room_id, "Everyone in this group is muted")
        assert "讲座 lecture" in notice and "本群已开启全员禁言" in notice
        answer = await _refused(hs, member, room_id, "ROOM_MUTED")
        assert (
            "全员禁言" in answer["error"]
            and "Everyone in this group" in answer["error"]
        )
        for user in (speaker, admin_user, owner):
            await _speaks(hs, user, room_id)

        status, listed = await Http(hs, member.access_token).get(_mutes(room_id))
        assert status == 200 and listed["mutes"][0]["all"] is True
        assert listed["mutes"][0]["exempt"] == [speaker.user_id]

        await _say(hs, owner, room_id, "!unmuteall")
        await _bot_says(
            client, hs, room_id, "The mute of everyone in this group is lifted"
        )
    await _speaks(hs, member, room_id)


async def test_who_may_mute_whom(hs: Homeserver, moderator: User) -> None:
    """B8 hierarchy: a member may not mute (MUTE_NOT_ALLOWED); an admin may
    not mute a peer or the owner (MUTE_PROTECTED); a platform moderator
    mutes anyone, in a room they are not in, and the admins can neither
    lift nor change that mute (MUTE_BY_PLATFORM), whose refusal says the
    platform decided; a suspended admin cannot mute (ADMIN_SUSPENDED)."""
    member, peer, admin_user = hs.register(), hs.register(), hs.register()
    owner, room_id = await _group(hs, member, admins=(admin_user, peer))

    status, body = await _mute(hs, member, room_id, user_id=peer.user_id, duration="1h")
    assert (status, reason(body)) == (403, "MUTE_NOT_ALLOWED"), body
    assert "power level 50" in body["error"]
    for target in (peer, owner):
        status, body = await _mute(
            hs, admin_user, room_id, user_id=target.user_id, duration="1h"
        )
        assert (status, reason(body)) == (403, "MUTE_PROTECTED"), body
    # The owner may mute an admin below them.
    status, body = await _mute(hs, owner, room_id, user_id=peer.user_id, duration="1h")
    assert status == 200, body
    await _refused(hs, peer, room_id, "MEMBER_MUTED")

    status, body = await _mute(
        hs,
        moderator,
        room_id,
        user_id=member.user_id,
        duration="1d",
        reason="违规 rules",
    )
    assert status == 200 and body["mute"]["by"] == "platform", body
    answer = await _refused(hs, member, room_id, "MEMBER_MUTED")
    assert "平台" in answer["error"] and "the platform" in answer["error"]
    status, body = await _lift(hs, admin_user, room_id, member.user_id)
    assert (status, reason(body)) == (403, "MUTE_BY_PLATFORM"), body
    status, body = await _mute(
        hs, owner, room_id, user_id=member.user_id, duration="1m"
    )
    assert (status, reason(body)) == (403, "MUTE_BY_PLATFORM"), body
    await _refused(hs, member, room_id, "MEMBER_MUTED")
    status, body = await _lift(hs, moderator, room_id, member.user_id)
    assert status == 200, body

    status, body = await Http(hs, moderator.access_token).post(
        f"{ADMIN}/users/{admin_user.user_id}/sanctions",
        {"action": "suspend_admin", "duration": "1h", "reason": "test"},
    )
    assert status == 200, body
    status, body = await _mute(
        hs, admin_user, room_id, user_id=member.user_id, duration="1h"
    )
    assert (status, reason(body)) == (403, "ADMIN_SUSPENDED"), body

    # Outsiders learn nothing about the room.
    outsider = hs.register()
    status, body = await Http(hs, outsider.access_token).get(_mutes(room_id))
    assert status == 403, body
    status, body = await _mute(
        hs, outsider, room_id, user_id=member.user_id, duration="1h"
    )
    assert status == 403 and REASON_FIELD not in body, body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"duration": "1h"}, "user_id"),
        ({"user_id": "@x:y", "all": True, "duration": "1h"}, "user_id"),
        ({"user_id": "PERSON", "duration": "1h"}, "user_id"),
        ({"user_id": "@never:here", "duration": "1h"}, "user_id"),
        ({"all": True}, "duration"),
        ({"all": True, "duration": "31d"}, "duration"),
        ({"all": True, "duration": "soon"}, "duration"),
        ({"all": True, "duration": 1.5}, "duration"),
        ({"all": True, "duration": "1h", "exempt": ["nobody"]}, "exempt"),
        ({"user_id": "@x:y", "duration": "1h", "exempt": ["@a:b"]}, "exempt"),
        ({"all": True, "duration": "1h", "reason": "x" * 501}, "reason"),
        ({"all": True, "duration": "1h", "reason": 5}, "reason"),
        ({"all": "yes", "duration": "1h"}, "all"),
    ],
)
async def test_bad_mutes_name_the_field(
    hs: Homeserver, body: dict[str, Any], field: str
) -> None:
    """Every bad field is a 400 naming it, and nothing is muted."""
    owner, room_id = await _group(hs)
    status, answer = await _mute(hs, owner, room_id, **body)
    assert status == 400 and answer.get("field") == field, answer
    status, listed = await Http(hs, owner.access_token).get(_mutes(room_id))
    assert status == 200 and listed["mutes"] == []

"""The prohibited-content filter in a real Synapse, driven as Element would
(matrix-nio): every scanned field (C1), block and review (C2), evasions
(C3), exceptions (C6). The lists are seeded from the shipped sample files."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients, error_body, reason_of
from tests.harness.homeserver import Homeserver, User
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"
SAMPLES = Path(__file__).resolve().parents[2] / "config" / "keywords"
PROHIBITED = "PROHIBITED_CONTENT"

CONFIG = {
    "profile": "generic",
    "content": {
        "categories": {
            "gambling": {
                "action": "block",
                "credit_penalty": 15,
                "words_file": str(SAMPLES / "gambling.txt"),
                "exceptions_file": str(SAMPLES / "gambling.exceptions.txt"),
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


@pytest.fixture(scope="module")
def admin(hs: Homeserver) -> User:
    return hs.register(admin=True)


@pytest.fixture
async def member(hs: Homeserver) -> AsyncIterator[tuple[nio.AsyncClient, str]]:
    """A fresh user in a fresh room of their own."""
    user = hs.register()
    async with clients(hs, user) as (client,):
        created = await client.room_create(name="周末读书会")
        assert isinstance(created, nio.RoomCreateResponse), created
        yield client, created.room_id


async def _message(
    client: nio.AsyncClient, room_id: str, content: dict[str, Any]
) -> Any:
    return await client.room_send(
        room_id, "m.room.message", content, tx_id=uuid.uuid4().hex
    )


async def _refused_with(response: Any, label: str) -> None:
    assert await reason_of(response) == PROHIBITED, response
    body = await error_body(response)
    assert body["errcode"] == "M_FORBIDDEN"
    # The user reads the category and where, never the listed word.
    assert label in body["error"], body["error"]
    assert "开奖" not in body["error"] and "casino" not in body["error"]


MESSAGES = [
    pytest.param({"msgtype": "m.text", "body": "今晚开奖，快来"}, id="body"),
    pytest.param(
        {
            "msgtype": "m.text",
            "body": "see link",
            "format": "org.matrix.custom.html",
            "formatted_body": "<p>去<b>网上</b><i>赌场</i></p>",
        },
        id="formatted_body",
    ),
    pytest.param(
        {"msgtype": "m.image", "body": "六合彩.png", "url": "mxc://x/y"},
        id="image-caption",
    ),
    pytest.param(
        {
            "msgtype": "m.file",
            "body": "本周报表",
            "filename": "百家乐攻略.pdf",
            "url": "mxc://x/y",
        },
        id="file-name",
    ),
    pytest.param(
        {"msgtype": "m.video", "body": "online casino tour.mp4", "url": "mxc://x/y"},
        id="video-caption",
    ),
    pytest.param(
        {
            "msgtype": "m.audio",
            "body": "a.ogg",
            "filename": "开奖录音.ogg",
            "url": "mxc://x/y",
        },
        id="audio-file-name",
    ),
]


@pytest.mark.parametrize("content", MESSAGES)
async def test_blocked_word_in_a_message_is_refused(
    member: tuple[nio.AsyncClient, str], content: dict[str, Any]
) -> None:
    """C1, C2: text, HTML, captions and file names of media, edits."""
    client, room_id = member
    await _refused_with(await _message(client, room_id, content), "gambling")


async def test_an_edit_is_scanned(member: tuple[nio.AsyncClient, str]) -> None:
    """C1: an edit's m.new_content is what clients show; a clean fallback
    body does not hide it."""
    client, room_id = member
    original = await _message(client, room_id, {"msgtype": "m.text", "body": "晚上见"})
    assert isinstance(original, nio.RoomSendResponse), original
    edit = {
        "msgtype": "m.text",
        "body": "* 晚上见",
        "m.new_content": {"msgtype": "m.text", "body": "晚上见，网上赌场"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original.event_id},
    }
    await _refused_with(await _message(client, room_id, edit), "gambling")


async def test_room_name_and_topic_are_refused(
    member: tuple[nio.AsyncClient, str],
) -> None:
    """C1: m.room.name and m.room.topic, naming where the word was."""
    client, room_id = member
    response = await client.room_put_state(room_id, "m.room.name", {"name": "开奖群"})
    await _refused_with(response, "in the group name")
    response = await client.room_put_state(
        room_id, "m.room.topic", {"topic": "每晚 online casino"}
    )
    await _refused_with(response, "in the group topic")
    fine = await client.room_put_state(room_id, "m.room.topic", {"topic": "读书"})
    assert isinstance(fine, nio.RoomPutStateResponse), fine


async def test_create_room_name_topic_and_alias_are_refused(hs: Homeserver) -> None:
    """C1: createRoom's name, topic and alias, before the room exists."""
    user = hs.register()
    async with clients(hs, user) as (client,):
        for kwargs, where in (
            ({"name": "六合彩交流"}, "group name"),
            ({"topic": "百家乐"}, "group topic"),
            ({"alias": "kaijiang开奖"}, "group address"),
            (
                {
                    "initial_state": [
                        {"type": "m.room.name", "content": {"name": "开奖"}}
                    ]
                },
                "group name",
            ),
        ):
            response = await client.room_create(**kwargs)
            await _refused_with(response, where)
        joined = await client.joined_rooms()
        assert isinstance(joined, nio.JoinedRoomsResponse)
        assert joined.rooms == []  # nothing half-made


async def test_server_admin_creating_a_room_is_scanned_too(hs: Homeserver) -> None:
    """C1: server admins publish too; their createRoom is refused before
    anything is written (on_create_room runs for admins, unlike the spam
    checker's user_may_create_room)."""
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    status, body = await http.post("/_matrix/client/v3/createRoom", {"name": "开奖群"})
    assert (status, body.get("org.groupreg.reason")) == (403, PROHIBITED), body
    status, joined = await http.get("/_matrix/client/v3/joined_rooms")
    assert (status, joined["joined_rooms"]) == (200, [])


async def test_aliases_are_refused(
    hs: Homeserver, member: tuple[nio.AsyncClient, str]
) -> None:
    """C1: a new alias, and m.room.canonical_alias alias / alt_aliases."""
    client, room_id = member
    http = Http(hs, client.access_token)
    alias = urllib.parse.quote(f"#网上赌场:{hs.server_name}")
    status, body = await http.put(
        f"/_matrix/client/v3/directory/room/{alias}", {"room_id": room_id}
    )
    assert (status, body.get("org.groupreg.reason")) == (403, PROHIBITED), body
    assert "group address" in body["error"]
    for content in (
        {"alias": f"#开奖:{hs.server_name}"},
        {"alt_aliases": [f"#onlinecasino:{hs.server_name}"]},
    ):
        response = await client.room_put_state(
            room_id, "m.room.canonical_alias", content
        )
        await _refused_with(response, "group address")
    fine = urllib.parse.quote(f"#reading-{uuid.uuid4().hex[:6]}:{hs.server_name}")
    status, body = await http.put(
        f"/_matrix/client/v3/directory/room/{fine}", {"room_id": room_id}
    )
    assert status == 200, body


async def test_display_name_in_member_events_is_refused(hs: Homeserver) -> None:
    """C1: a member event carrying a prohibited display name is refused;
    the global profile cannot be refused (Synapse offers no callback), so
    the name never reaches a room and the user is hidden from search."""
    owner, user = hs.register(), hs.register()
    async with clients(hs, owner, user) as (owner_client, client):
        created = await owner_client.room_create(
            name="公开群", preset=nio.RoomPreset.public_chat
        )
        assert isinstance(created, nio.RoomCreateResponse)
        room_id = created.room_id
        assert isinstance(await client.join(room_id), nio.JoinResponse)

        own = await client.room_put_state(
            room_id,
            "m.room.member",
            {"membership": "join", "displayname": "開獎小助手"},
            state_key=user.user_id,
        )
        await _refused_with(own, "in the display name")

        assert isinstance(
            await client.set_displayname("百家乐之王"),
            nio.ProfileSetDisplayNameResponse,
        )
        other = await owner_client.room_create(
            name="另一群", preset=nio.RoomPreset.public_chat
        )
        assert isinstance(other, nio.RoomCreateResponse)
        await _refused_with(await client.join(other.room_id), "in the display name")

        # The first room never shows the new name.
        state = await owner_client.room_get_state_event(
            room_id, "m.room.member", user.user_id
        )
        assert isinstance(state, nio.RoomGetStateEventResponse)
        assert state.content.get("displayname") != "百家乐之王"

        status, found = await Http(hs, owner.access_token).post(
            "/_matrix/client/v3/user_directory/search", {"search_term": "百家乐之王"}
        )
        assert status == 200 and found["results"] == []


EVASIONS = [
    pytest.param("開獎時間", id="traditional"),
    pytest.param("ｏｎｌｉｎｅ　ｃａｓｉｎｏ", id="full-width"),
    pytest.param("ONLINE Casino", id="case"),
    pytest.param("开 奖", id="spaced"),
    pytest.param("开.奖", id="punctuation"),
    pytest.param("开\u200b奖", id="zero-width-space"),
    pytest.param("网\u200d上\u2060赌\ufeff场", id="zero-width-joiners"),
    pytest.param("百-家-乐", id="hyphens"),
    pytest.param("六🎲合🎲彩", id="emoji-separators"),
]


@pytest.mark.parametrize("text", EVASIONS)
async def test_evasions_are_refused(
    member: tuple[nio.AsyncClient, str], text: str
) -> None:
    """C3: Traditional, full-width, case, spaced-out and zero-width variants."""
    client, room_id = member
    response = await _message(client, room_id, {"msgtype": "m.text", "body": text})
    await _refused_with(response, "gambling")


async def test_exception_phrase_passes(member: tuple[nio.AsyncClient, str]) -> None:
    """C6: 公开奖励 holds 开奖 but is an exception; the word alone still blocks."""
    client, room_id = member
    fine = await _message(
        client, room_id, {"msgtype": "m.text", "body": "公开奖励名单已发布"}
    )
    assert isinstance(fine, nio.RoomSendResponse), fine
    bad = await _message(
        client, room_id, {"msgtype": "m.text", "body": "公开奖励，今晚开奖"}
    )
    await _refused_with(bad, "gambling")


async def _hits(hs: Homeserver, admin: User, **query: str) -> list[dict[str, Any]]:
    """The hits API, waiting up to 10 s for a matching record: records are
    written from a buffer once a second."""
    path = f"{ADMIN}/content/hits?" + urllib.parse.urlencode(query)
    deadline = time.monotonic() + 10
    while True:
        status, body = await Http(hs, admin.access_token).get(path)
        assert status == 200, body
        if body["hits"] or time.monotonic() > deadline:
            return list(body["hits"])
        await asyncio.sleep(0.3)


async def test_review_word_passes_and_leaves_a_review_record(
    hs: Homeserver, admin: User, member: tuple[nio.AsyncClient, str]
) -> None:
    """C2: a `review` category lets the message through and records it for
    the complaint queue: event, room, sender, category, time."""
    client, room_id = member
    sent = await _message(
        client, room_id, {"msgtype": "m.text", "body": "刷单返利，日赚千元"}
    )
    assert isinstance(sent, nio.RoomSendResponse), sent
    (record,) = await _hits(hs, admin, user_id=client.user_id, action="review")
    assert record["event_id"] == sent.event_id
    assert record["room_id"] == room_id
    assert record["category"] == "rumour_fraud"
    assert record["credit_penalty"] == 10
    assert record["ts"] > 0


async def test_refusals_are_recorded_for_sanctions(
    hs: Homeserver, admin: User, member: tuple[nio.AsyncClient, str]
) -> None:
    """C2, D1: each refusal is a record (no event: it was never created)
    with the category's penalty, for credit and sanction thresholds."""
    client, room_id = member
    for body in ("开奖", "网上赌场"):
        await _refused_with(
            await _message(client, room_id, {"msgtype": "m.text", "body": body}),
            "gambling",
        )
    deadline = time.monotonic() + 10
    while True:
        records = await _hits(hs, admin, user_id=client.user_id, action="block")
        if len(records) == 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    assert [r["keyword"] for r in records] == ["开奖", "网上赌场"]
    assert all(r["event_id"] is None and r["credit_penalty"] == 15 for r in records)
    assert {r["room_id"] for r in records} == {room_id}


async def test_clean_messages_pass(member: tuple[nio.AsyncClient, str]) -> None:
    """Ordinary chat, including words near listed ones, is untouched."""
    client, room_id = member
    for body in ("明天开会讨论奖金方案", "Online meeting at 3pm", "召开奖励大会"):
        sent = await _message(client, room_id, {"msgtype": "m.text", "body": body})
        assert isinstance(sent, nio.RoomSendResponse), (body, sent)


async def test_notice_bot_is_exempt(hs: Homeserver, admin: User) -> None:
    """The platform's own notices may quote what they are about."""
    user = hs.register()
    status, body = await Http(hs, admin.access_token).post(
        f"{ADMIN}/notices",
        {"user_id": user.user_id, "body": "您发布的“开奖”信息已被拦截。"},
    )
    assert status == 200, body
